//! Prompt caching: where `cachePoint` blocks go.
//!
//! Clients mark a content part, message or tool with `cache_control` (the convention Anthropic
//! and several OpenAI-compatible clients use); `ENABLE_PROMPT_CACHING` adds points after the
//! system prompt and the tools on its own. Bedrock accepts at most four points per request and
//! none on models without caching, so every insertion asks this budget first.

use aws_sdk_bedrockruntime::types::{CachePointBlock, CachePointType};

/// Bedrock's limit of cache points per request.
pub const MAX_CACHE_POINTS: usize = 4;

/// Hands out cache points until the model's budget is spent.
#[derive(Debug)]
pub struct CacheBudget {
    remaining: usize,
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
        }
    }

    /// A cache point if one is still allowed.
    pub fn take(&mut self) -> Option<CachePointBlock> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        CachePointBlock::builder()
            .r#type(CachePointType::Default)
            .build()
            .ok()
    }

    /// A cache point only when `marked` (a client's `cache_control`) and one is still allowed.
    pub fn take_if(&mut self, marked: bool) -> Option<CachePointBlock> {
        if marked { self.take() } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
