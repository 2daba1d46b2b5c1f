//! Responses API request types (`POST /responses`), as in OpenAI's published schema.
//!
//! Strict where chat is lenient: a field this gateway does not know is a 400 naming it (the
//! Responses API is what agents speak, and a silently dropped setting changes their answers).
//! Fields with no Bedrock meaning that clients send on every request (`client_metadata`,
//! `prompt_cache_key`, `user`, `safety_identifier`, `metadata`, `truncation`, `stream_options`,
//! `text.verbosity`) are accepted; `metadata` is echoed back. `service_tier` goes to Bedrock as
//! chat's does. Input items stay
//! JSON values here: `responses::input` reads them with errors that name `input[i]`.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// `POST /responses` body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResponsesRequest {
    pub model: String,
    /// A string or a list of items.
    pub input: Option<Value>,
    pub instructions: Option<String>,
    pub stream: Option<bool>,
    pub store: Option<bool>,
    pub previous_response_id: Option<String>,
    pub include: Option<Vec<String>>,
    pub tools: Option<Vec<Value>>,
    pub tool_choice: Option<Value>,
    pub parallel_tool_calls: Option<bool>,
    pub max_output_tokens: Option<i64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub reasoning: Option<ReasoningParam>,
    pub text: Option<TextParam>,
    pub metadata: Option<Map<String, Value>>,
    // Accepted and ignored: no Bedrock meaning.
    pub user: Option<String>,
    pub safety_identifier: Option<String>,
    pub prompt_cache_key: Option<String>,
    pub client_metadata: Option<Value>,
    pub service_tier: Option<String>,
    pub truncation: Option<String>,
    pub stream_options: Option<Value>,
    pub top_logprobs: Option<i64>,
    pub max_tool_calls: Option<i64>,
    pub background: Option<bool>,
    /// Everything else: refused by [`ResponsesRequest::check_fields`].
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasoningParam {
    pub effort: Option<String>,
    pub summary: Option<String>,
    /// Older name of `summary`.
    pub generate_summary: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextParam {
    pub format: Option<Value>,
    /// `low`/`medium`/`high`: accepted; Bedrock has no such setting, so it changes nothing.
    pub verbosity: Option<String>,
}

/// Fields OpenAI defines that this gateway cannot honour, with what to do instead.
const REFUSED: &[(&str, &str)] = &[
    (
        "background",
        "Background responses are not supported; send the request and wait, or stream it.",
    ),
    (
        "conversation",
        "Conversations are not supported; use `previous_response_id` to continue a stored response.",
    ),
    (
        "prompt",
        "Stored prompt templates are not supported; send `instructions` and `input`.",
    ),
    (
        "top_logprobs",
        "Bedrock does not return log probabilities; remove `top_logprobs`.",
    ),
    (
        "max_tool_calls",
        "Bedrock cannot cap the number of tool calls; remove `max_tool_calls`.",
    ),
];

impl ResponsesRequest {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// `store` defaults to true, as in OpenAI's API.
    pub fn is_stored(&self) -> bool {
        self.store.unwrap_or(true)
    }

    pub fn includes(&self, what: &str) -> bool {
        self.include.iter().flatten().any(|i| i == what)
    }

    /// 400 for fields this gateway does not know or cannot honour, naming them.
    pub fn check_fields(&self) -> Result<(), ApiError> {
        let mut unknown: Vec<&str> = self
            .unknown
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k.as_str())
            .collect();
        if let Some(first) = unknown.first().copied() {
            let known = REFUSED.iter().find(|(name, _)| *name == first);
            if unknown.len() == 1
                && let Some((name, hint)) = known
            {
                return Err(ApiError::invalid_param(*name, format!("`{name}`: {hint}")));
            }
            unknown.sort_unstable();
            let names = unknown
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ApiError::invalid_param(
                first,
                format!("Unknown or unsupported field(s) for /responses: {names}. Remove them."),
            ));
        }
        if self.background == Some(true) {
            return self.refuse("background");
        }
        if self.top_logprobs.is_some_and(|n| n > 0) {
            return self.refuse("top_logprobs");
        }
        if self.max_tool_calls.is_some() {
            return self.refuse("max_tool_calls");
        }
        if self.max_output_tokens.is_some_and(|n| n < 1) {
            return Err(ApiError::invalid_param(
                "max_output_tokens",
                "`max_output_tokens` must be at least 1.",
            ));
        }
        for what in self.include.iter().flatten() {
            if !INCLUDABLE.contains(&what.as_str()) {
                return Err(ApiError::invalid_param(
                    "include",
                    format!(
                        "`include` value `{what}` is not supported; supported: {}.",
                        INCLUDABLE.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn refuse(&self, name: &str) -> Result<(), ApiError> {
        let hint = REFUSED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, h)| *h)
            .unwrap_or("not supported");
        Err(ApiError::invalid_param(name, format!("`{name}`: {hint}")))
    }
}

/// `include` values accepted. Only `reasoning.encrypted_content` changes the answer; the
/// others name outputs of built-in tools this gateway never runs, so there is nothing to add.
pub const INCLUDABLE: &[&str] = &[
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
    "message.input_image.image_url",
    "web_search_call.action.sources",
    "web_search_call.results",
    "file_search_call.results",
    "code_interpreter_call.outputs",
    "computer_call_output.output.image_url",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::request::parse_json;

    #[test]
    fn unknown_fields_are_named() {
        let req: ResponsesRequest =
            parse_json(br#"{"model":"m","input":"hi","frobnicate":1,"zeta":2}"#).unwrap();
        let err = req.check_fields().unwrap_err();
        assert_eq!(err.param.as_deref(), Some("frobnicate"));
        assert!(
            err.message.contains("`frobnicate`, `zeta`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn ignored_fields_are_accepted() {
        let req: ResponsesRequest = parse_json(
            br#"{"model":"m","input":"hi","user":"u","safety_identifier":"s","prompt_cache_key":"k",
                 "client_metadata":{"a":1},"metadata":{"x":"y"},"service_tier":"auto","truncation":"disabled",
                 "include":["reasoning.encrypted_content"],"text":{"verbosity":"low"}}"#,
        )
        .unwrap();
        req.check_fields().unwrap();
        assert!(req.is_stored());
        assert!(req.includes("reasoning.encrypted_content"));
    }

    #[test]
    fn refused_fields_say_why() {
        let req: ResponsesRequest =
            parse_json(br#"{"model":"m","input":"hi","conversation":"c"}"#).unwrap();
        let err = req.check_fields().unwrap_err();
        assert_eq!(err.param.as_deref(), Some("conversation"));
        assert!(err.message.contains("previous_response_id"));
        let err = parse_json::<ResponsesRequest>(
            br#"{"model":"m","input":"hi","reasoning":{"effort":"low","x":1}}"#,
        )
        .unwrap_err();
        assert!(
            err.param.as_deref().unwrap_or("").starts_with("reasoning"),
            "{err:?}"
        );
    }
}
