//! Token usage and finish reasons: Bedrock's `TokenUsage` and `StopReason` in OpenAI's terms.
//!
//! Bedrock's `inputTokens` leaves out prompt-cache reads and writes while its `totalTokens`
//! counts them; OpenAI's `prompt_tokens` includes cached tokens, so that prompt + completion
//! = total holds for a client that checks it.

use crate::error::{ApiError, ErrorKind};
use aws_sdk_bedrockruntime::types::{StopReason, TokenUsage};

use crate::openai::chat::{PromptTokensDetails, Usage};

/// Bedrock usage -> OpenAI usage.
pub fn usage_from_bedrock(usage: &TokenUsage) -> Usage {
    let count = |n: i32| u64::try_from(n).unwrap_or(0);
    let cache_read = count(usage.cache_read_input_tokens.unwrap_or(0));
    let cache_write = count(usage.cache_write_input_tokens.unwrap_or(0));
    let prompt_tokens = count(usage.input_tokens) + cache_read + cache_write;
    let completion_tokens = count(usage.output_tokens);
    let uses_cache =
        usage.cache_read_input_tokens.is_some() || usage.cache_write_input_tokens.is_some();
    Usage {
        prompt_tokens,
        completion_tokens,
        total_tokens: prompt_tokens + completion_tokens,
        prompt_tokens_details: uses_cache.then_some(PromptTokensDetails {
            cached_tokens: cache_read,
            cache_write_tokens: cache_write,
        }),
    }
}

/// Bedrock `stopReason` -> OpenAI `finish_reason`. `model_context_window_exceeded` is
/// `length`, as OpenAI reports a reply cut by the context window. The `malformed_*` reasons are
/// answered as errors ([`stop_error`]) and never reach this mapping in a reply; a reason newer
/// than this code reads as `stop`.
pub fn finish_reason(stop: &StopReason) -> &'static str {
    match stop {
        StopReason::EndTurn | StopReason::StopSequence => "stop",
        StopReason::MaxTokens | StopReason::ModelContextWindowExceeded => "length",
        StopReason::ToolUse => "tool_calls",
        StopReason::GuardrailIntervened | StopReason::ContentFiltered => "content_filter",
        _ => "stop",
    }
}

/// The `finish_reason` a client sees, stream or not: `tool_calls` only when the reply holds
/// tool calls for the client; a reply that called only the gateway's own tools (the hidden
/// placeholder, the structured-output tool) finished with `stop`.
pub fn reply_finish_reason(stop: &StopReason, has_client_tool_calls: bool) -> &'static str {
    match finish_reason(stop) {
        "tool_calls" if !has_client_tool_calls => "stop",
        reason => reason,
    }
}

/// The error for a reply Bedrock ended as unusable: `malformed_model_output` (the model's
/// output could not be parsed) and `malformed_tool_use` (a tool call that does not parse).
/// OpenAI has no finish reason for either, and a client given `stop` or `tool_calls` would act
/// on a broken answer, so the client gets a 502 it can retry (an error event in a stream).
pub fn stop_error(stop: &StopReason) -> Option<ApiError> {
    let (code, what) = match stop {
        StopReason::MalformedModelOutput => {
            ("malformed_model_output", "output that could not be parsed")
        }
        StopReason::MalformedToolUse => {
            ("malformed_tool_use", "a tool call that could not be parsed")
        }
        _ => return None,
    };
    Some(
        ApiError::new(
            axum::http::StatusCode::BAD_GATEWAY,
            ErrorKind::ApiError,
            format!("The model produced {what} (Bedrock stopReason `{code}`). Retry the request."),
        )
        .with_code(code),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: i32, output: i32, read: Option<i32>, write: Option<i32>) -> TokenUsage {
        TokenUsage::builder()
            .input_tokens(input)
            .output_tokens(output)
            .total_tokens(input + output + read.unwrap_or(0) + write.unwrap_or(0))
            .set_cache_read_input_tokens(read)
            .set_cache_write_input_tokens(write)
            .build()
            .unwrap()
    }

    #[test]
    fn cached_tokens_count_as_prompt_tokens() {
        let u = usage_from_bedrock(&usage(10, 5, Some(100), Some(20)));
        assert_eq!(u.prompt_tokens, 130);
        assert_eq!(u.total_tokens, 135);
        let details = u.prompt_tokens_details.unwrap();
        assert_eq!(details.cached_tokens, 100);
        assert_eq!(details.cache_write_tokens, 20);
        let plain = usage_from_bedrock(&usage(3, 4, None, None));
        assert_eq!((plain.prompt_tokens, plain.total_tokens), (3, 7));
        assert!(plain.prompt_tokens_details.is_none());
    }

    #[test]
    fn tool_use_without_client_tool_calls_is_stop() {
        assert_eq!(
            reply_finish_reason(&StopReason::ToolUse, true),
            "tool_calls"
        );
        assert_eq!(reply_finish_reason(&StopReason::ToolUse, false), "stop");
        assert_eq!(reply_finish_reason(&StopReason::MaxTokens, false), "length");
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(finish_reason(&StopReason::EndTurn), "stop");
        assert_eq!(finish_reason(&StopReason::StopSequence), "stop");
        assert_eq!(finish_reason(&StopReason::MaxTokens), "length");
        assert_eq!(finish_reason(&StopReason::ToolUse), "tool_calls");
        assert_eq!(
            finish_reason(&StopReason::GuardrailIntervened),
            "content_filter"
        );
        assert_eq!(
            finish_reason(&StopReason::ContentFiltered),
            "content_filter"
        );
    }
}
