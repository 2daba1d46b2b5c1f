//! Prompt caching: where `cachePoint` blocks go.
//!
//! Clients mark a content part, message or tool with `cache_control` (the convention Anthropic
//! and several OpenAI-compatible clients use); `ENABLE_PROMPT_CACHING` adds points after the
//! system prompt and the tools on its own. Bedrock accepts at most four points per request and
//! none on models without caching, so every insertion asks this budget first.
//!
//! `cache_control.ttl` `"1h"` asks for Bedrock's one-hour cache. It holds for the whole request:
//! one such mark gives every cache point of the request `ttl: 1h`, because Bedrock refuses a
//! longer TTL after a shorter one along the prompt (tools, then system, then messages), and the
//! points `ENABLE_PROMPT_CACHING` adds come first. Models without the one-hour cache get the
//! default five minutes: the mark is ignored, not refused, since the cache still works.

use aws_sdk_bedrockruntime::types::{CachePointBlock, CachePointType, CacheTtl};
use serde_json::Value;

use crate::error::ApiError;
use crate::openai::chat::{ChatRequest, Content};

/// Bedrock's limit of cache points per request.
pub const MAX_CACHE_POINTS: usize = 4;

/// Hands out cache points until the model's budget is spent.
#[derive(Debug)]
pub struct CacheBudget {
    remaining: usize,
    one_hour: bool,
}

impl CacheBudget {
    /// No points at all for a model without prompt caching.
    pub fn new(model_supports_caching: bool) -> Self {
        CacheBudget {
            remaining: if model_supports_caching {
                MAX_CACHE_POINTS
            } else {
                0
            },
            one_hour: false,
        }
    }

    /// Gives every point `ttl: 1h` when `requested` and the model has the one-hour cache.
    pub fn with_one_hour(mut self, requested: bool, model_supports_one_hour: bool) -> Self {
        self.one_hour = requested && model_supports_one_hour;
        self
    }

    /// A cache point if one is still allowed.
    pub fn take(&mut self) -> Option<CachePointBlock> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        CachePointBlock::builder()
            .r#type(CachePointType::Default)
            .set_ttl(self.one_hour.then_some(CacheTtl::OneHour))
            .build()
            .ok()
    }

    /// A cache point only when `marked` (a client's `cache_control`) and one is still allowed.
    pub fn take_if(&mut self, marked: bool) -> Option<CachePointBlock> {
        if marked { self.take() } else { None }
    }
}

/// Whether a `cache_control` value asks for the one-hour cache; a `ttl` other than `5m` or
/// `1h` is a 400 naming where it was found.
pub fn asks_one_hour(cache_control: &Value, param: &str) -> Result<bool, ApiError> {
    match cache_control.get("ttl") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::String(ttl)) if ttl == "5m" => Ok(false),
        Some(Value::String(ttl)) if ttl == "1h" => Ok(true),
        Some(other) => Err(ApiError::invalid_param(
            param,
            format!("`cache_control.ttl` must be \"5m\" or \"1h\"; got {other}."),
        )),
    }
}

/// Whether any `cache_control` of the request (on a message, a content part or a tool) asks
/// for the one-hour cache.
pub fn request_asks_one_hour(req: &ChatRequest) -> Result<bool, ApiError> {
    let mut one_hour = false;
    for (m, message) in req.messages.iter().enumerate() {
        if let Some(control) = &message.cache_control {
            one_hour |= asks_one_hour(control, &format!("messages[{m}].cache_control"))?;
        }
        if let Some(Content::Parts(parts)) = &message.content {
            for (p, part) in parts.iter().enumerate() {
                if let Some(control) = &part.cache_control {
                    let param = format!("messages[{m}].content[{p}].cache_control");
                    one_hour |= asks_one_hour(control, &param)?;
                }
            }
        }
    }
    for (t, tool) in req.tools.iter().flatten().enumerate() {
        if let Some(control) = &tool.cache_control {
            one_hour |= asks_one_hour(control, &format!("tools[{t}].cache_control"))?;
        }
    }
    Ok(one_hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hour_only_when_asked_and_supported() {
        let ttl = |asked, supported| {
            CacheBudget::new(true)
                .with_one_hour(asked, supported)
                .take()
                .unwrap()
                .ttl()
                .cloned()
        };
        assert_eq!(ttl(true, true), Some(CacheTtl::OneHour));
        assert_eq!(ttl(true, false), None);
        assert_eq!(ttl(false, true), None);
    }

    #[test]
    fn ttl_values_are_checked() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert!(asks_one_hour(&v(r#"{"type":"ephemeral","ttl":"1h"}"#), "p").unwrap());
        assert!(!asks_one_hour(&v(r#"{"type":"ephemeral","ttl":"5m"}"#), "p").unwrap());
        assert!(!asks_one_hour(&v(r#"{"type":"ephemeral"}"#), "p").unwrap());
        let err =
            asks_one_hour(&v(r#"{"type":"ephemeral","ttl":"2h"}"#), "messages[0]").unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages[0]"));
    }

    #[test]
    fn at_most_four_and_none_without_support() {
        let mut budget = CacheBudget::new(true);
        assert_eq!(
            (0..6).filter_map(|_| budget.take()).count(),
            MAX_CACHE_POINTS
        );
        let mut none = CacheBudget::new(false);
        assert!(none.take().is_none());
        assert!(CacheBudget::new(true).take_if(false).is_none());
    }
}
