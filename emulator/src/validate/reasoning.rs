//! Rules for reasoning: the provider-specific `additionalModelRequestFields`
//! (where extended thinking is switched on), the sampling limits thinking
//! imposes, and reasoning blocks sent back in the history, whose signatures
//! must be the ones the emulator issued.

use serde_json::{Map, Value};

use super::block_path;
use crate::catalog::{ChatCapabilities, ReasoningKind};
use crate::error::ApiError;
use crate::request::{ContentBlock, ConverseRequest, Reasoning, Role, ToolChoice};
use crate::signing;

const MIN_THINKING_BUDGET: i64 = 1024;
const THINKING_DOCS: &str = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking";

/// Checks reasoning rules; returns whether extended thinking is on.
pub fn check(
    request: &ConverseRequest,
    capabilities: &ChatCapabilities,
    max_tokens: u64,
) -> Result<bool, ApiError> {
    let thinking = match &request.additional_request_fields {
        Some(fields) => check_additional_fields(fields, capabilities, max_tokens)?,
        None => false,
    };
    if thinking {
        check_sampling_while_thinking(request)?;
        // Anthropic lists `top_k` as incompatible with thinking ("feature compatibility" in
        // https://docs.claude.com/en/docs/build-with-claude/extended-thinking); the wording of
        // the refusal is assumed to match the `top_p` one (unconfirmed).
        if request
            .additional_request_fields
            .as_ref()
            .is_some_and(|fields| fields.contains_key("top_k"))
        {
            return Err(ApiError::from_model(
                "top_k must be unset when thinking is enabled.",
            ));
        }
    }
    check_history(request, capabilities)?;
    if thinking {
        check_final_assistant_starts_with_reasoning(request)?;
    }
    Ok(thinking)
}

fn extraneous_key(key: &str) -> ApiError {
    ApiError::from_model(
        ApiError::malformed("", format!("extraneous key [{key}] is not permitted")).message,
    )
}

fn check_additional_fields(
    fields: &Map<String, Value>,
    capabilities: &ChatCapabilities,
    max_tokens: u64,
) -> Result<bool, ApiError> {
    if let Some(key) = fields
        .keys()
        .find(|key| !capabilities.request_field_keys.contains(&key.as_str()))
    {
        return Err(extraneous_key(key));
    }
    if let Some(output_config) = fields.get("output_config") {
        check_output_config(output_config, capabilities)?;
    }
    match fields.get("thinking") {
        Some(thinking) => check_thinking(thinking, capabilities.reasoning, max_tokens),
        None => Ok(false),
    }
}

/// `output_config: {"effort": ...}`, Anthropic's effort setting, sent through
/// `additionalModelRequestFields` (only models whose keys include it get here). The effort
/// values per model come from the catalogue; the error wording is Pydantic's style as Anthropic
/// uses it elsewhere, not a quoted Bedrock message (unconfirmed).
fn check_output_config(value: &Value, capabilities: &ChatCapabilities) -> Result<(), ApiError> {
    let Some(object) = value.as_object() else {
        return Err(ApiError::from_model(
            "output_config: Input should be a valid dictionary or object to extract fields from",
        ));
    };
    if let Some(extra) = object.keys().find(|key| key.as_str() != "effort") {
        return Err(ApiError::from_model(format!(
            "output_config.{extra}: Extra inputs are not permitted"
        )));
    }
    match object.get("effort") {
        None => Ok(()),
        Some(Value::String(effort)) if capabilities.efforts.contains(&effort.as_str()) => Ok(()),
        Some(_) => Err(ApiError::from_model(format!(
            "output_config.effort: Input should be {}",
            capabilities
                .efforts
                .iter()
                .map(|e| format!("'{e}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// `{"type": "enabled", "budget_tokens": N}`, `{"type": "disabled"}` or, on models with
/// adaptive thinking, `{"type": "adaptive"}`, judged as Anthropic's validator judges them.
fn check_thinking(
    thinking: &Value,
    form: ReasoningKind,
    max_tokens: u64,
) -> Result<bool, ApiError> {
    let Some(object) = thinking.as_object() else {
        return Err(ApiError::from_model(
            "thinking: Input should be a valid dictionary or object to extract fields from",
        ));
    };
    let kind = match object.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(_) => {
            return Err(ApiError::from_model(
                "thinking.type: Input should be a valid string",
            ));
        }
        None => {
            return Err(ApiError::from_model(
                "thinking: Unable to extract tag using discriminator 'type'",
            ));
        }
    };
    let adaptive = matches!(
        form,
        ReasoningKind::AdaptiveOrBudget | ReasoningKind::AdaptiveOnly
    );
    // Opus 4.7 refuses the budget form, and `disabled` too (AWS adaptive-thinking page). The
    // wording for `enabled` is quoted in hermes-agent#11137; for `disabled` it is assumed to
    // follow the same pattern (unconfirmed).
    if form == ReasoningKind::AdaptiveOnly && matches!(kind, "enabled" | "disabled") {
        return Err(ApiError::from_model(format!(
            "\"thinking.type.{kind}\" is not supported for this model. Use \"thinking.type.adaptive\" and \"output_config.effort\" to control thinking behavior."
        )));
    }
    let allowed: &[&str] = match kind {
        "enabled" => &["type", "budget_tokens"],
        "disabled" => &["type"],
        // `budget_tokens` is not permitted with adaptive (sherifkozman/the-llm-council v0.7.11
        // release note: a 400); Pydantic's "Extra inputs" wording is assumed.
        "adaptive" if adaptive => &["type"],
        other => {
            let expected = if adaptive {
                "'adaptive', 'disabled', 'enabled'"
            } else {
                "'disabled', 'enabled'"
            };
            return Err(ApiError::from_model(format!(
                "thinking: Input tag '{other}' found using 'type' does not match any of the expected tags: {expected}"
            )));
        }
    };
    if let Some(extra) = object.keys().find(|key| !allowed.contains(&key.as_str())) {
        return Err(ApiError::from_model(format!(
            "thinking.{kind}.{extra}: Extra inputs are not permitted"
        )));
    }
    match kind {
        "disabled" => return Ok(false),
        "adaptive" => return Ok(true),
        _ => {}
    }
    let budget = match object.get("budget_tokens") {
        None => {
            return Err(ApiError::from_model(
                "thinking.enabled.budget_tokens: Field required",
            ));
        }
        Some(value) => value.as_i64().ok_or_else(|| {
            ApiError::from_model("thinking.enabled.budget_tokens: Input should be a valid integer")
        })?,
    };
    if budget < MIN_THINKING_BUDGET {
        return Err(ApiError::from_model(format!(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to {MIN_THINKING_BUDGET}"
        )));
    }
    if budget.unsigned_abs() >= max_tokens {
        return Err(ApiError::from_model(format!(
            "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at {THINKING_DOCS}#max-tokens-and-context-window-size"
        )));
    }
    Ok(true)
}

fn check_sampling_while_thinking(request: &ConverseRequest) -> Result<(), ApiError> {
    if request.inference.temperature.is_some_and(|t| t != 1.0) {
        return Err(ApiError::from_model(format!(
            "temperature may only be set to 1 when thinking is enabled. Please consult our documentation at {THINKING_DOCS}#feature-compatibility"
        )));
    }
    if request.inference.top_p.is_some() {
        return Err(ApiError::from_model(
            "top_p must be unset when thinking is enabled.",
        ));
    }
    let forced = request
        .tool_config
        .as_ref()
        .and_then(|config| config.choice.as_ref())
        .is_some_and(|choice| matches!(choice, ToolChoice::Any | ToolChoice::Tool(_)));
    if forced {
        return Err(ApiError::from_model(
            "Thinking may not be enabled when tool_choice forces tool use.",
        ));
    }
    Ok(())
}

/// Reasoning blocks in assistant turns must be ones the model produced.
fn check_history(
    request: &ConverseRequest,
    capabilities: &ChatCapabilities,
) -> Result<(), ApiError> {
    for (message_index, message) in request.messages.iter().enumerate() {
        for (block_index, block) in message.content.iter().enumerate() {
            let ContentBlock::Reasoning(reasoning) = block else {
                continue;
            };
            let path = block_path(message_index, block_index);
            match capabilities.reasoning {
                ReasoningKind::None => {
                    return Err(ApiError::validation(format!(
                        "This model doesn't support the reasoningContent content block that you provided at {path}. Remove it and try again."
                    )));
                }
                // DeepSeek R1 on Bedrock refuses its own reasoning sent back (the message names
                // user messages although the block is in an assistant turn):
                // langchain-ai/langchain-aws#401, aws-samples/bedrock-chat#845. gpt-oss is
                // assumed to accept it (no public report either way).
                ReasoningKind::AlwaysReasons if capabilities.refuses_reasoning_history => {
                    return Err(ApiError::validation(
                        "User messages cannot contain reasoning content. Please remove the reasoning content and try again.",
                    ));
                }
                ReasoningKind::AlwaysReasons => {}
                ReasoningKind::BudgetThinking
                | ReasoningKind::AdaptiveOrBudget
                | ReasoningKind::AdaptiveOnly => check_signed(reasoning, &path)?,
            }
        }
    }
    Ok(())
}

fn check_signed(reasoning: &Reasoning, path: &str) -> Result<(), ApiError> {
    match reasoning {
        Reasoning::Text {
            signature: None, ..
        } => Err(ApiError::from_model(format!(
            "{path}.thinking.signature: Field required"
        ))),
        Reasoning::Text {
            text,
            signature: Some(signature),
        } if !signing::signature_matches(text, signature) => Err(ApiError::from_model(format!(
            "{path}: Invalid `signature` in `thinking` block"
        ))),
        Reasoning::Redacted(blob) if !signing::is_issued_redaction(blob) => {
            Err(ApiError::from_model(format!(
                "{path}: Invalid `data` in `redacted_thinking` block"
            )))
        }
        _ => Ok(()),
    }
}

/// With thinking on, the assistant turn that made the pending tool calls
/// must start with its reasoning, or Anthropic refuses the request.
fn check_final_assistant_starts_with_reasoning(request: &ConverseRequest) -> Result<(), ApiError> {
    let messages = &request.messages;
    let Some(last) = messages.last() else {
        return Ok(());
    };
    let answers_tools = last.role == Role::User
        && last
            .content
            .iter()
            .any(|block| matches!(block, ContentBlock::ToolResult(_)));
    if !answers_tools || messages.len() < 2 {
        return Ok(());
    }
    let index = messages.len() - 2;
    let found = match messages[index].content.first() {
        Some(ContentBlock::Reasoning(_)) | None => return Ok(()),
        Some(ContentBlock::ToolUse(_)) => "tool_use",
        Some(ContentBlock::Text(_)) => "text",
        Some(_) => "other",
    };
    Err(ApiError::from_model(format!(
        "messages.{index}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at {THINKING_DOCS}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thinking_budget_rules() {
        assert_eq!(
            check_thinking(
                &json!({"type": "enabled", "budget_tokens": 2048}),
                ReasoningKind::BudgetThinking,
                4096
            ),
            Ok(true)
        );
        assert_eq!(
            check_thinking(
                &json!({"type": "disabled"}),
                ReasoningKind::BudgetThinking,
                4096
            ),
            Ok(false)
        );
        let message = |value: Value| {
            check_thinking(&value, ReasoningKind::BudgetThinking, 4096)
                .unwrap_err()
                .message
        };
        assert!(
            message(json!({"type": "enabled", "budget_tokens": 1000}))
                .contains("greater than or equal to 1024")
        );
        assert!(
            message(json!({"type": "enabled", "budget_tokens": 4096}))
                .contains("`max_tokens` must be greater")
        );
        assert!(message(json!({"type": "enabled"})).contains("Field required"));
        assert!(message(json!({"type": "adaptive"})).contains("Input tag 'adaptive'"));
        assert!(
            message(json!({"type": "enabled", "budget_tokens": 2048, "x": 1}))
                .contains("Extra inputs")
        );
    }

    #[test]
    fn adaptive_thinking_per_generation() {
        let adaptive = json!({"type": "adaptive"});
        let budget = json!({"type": "enabled", "budget_tokens": 2048});
        assert_eq!(
            check_thinking(&adaptive, ReasoningKind::AdaptiveOnly, 4096),
            Ok(true)
        );
        assert_eq!(
            check_thinking(&adaptive, ReasoningKind::AdaptiveOrBudget, 4096),
            Ok(true)
        );
        assert_eq!(
            check_thinking(&budget, ReasoningKind::AdaptiveOrBudget, 4096),
            Ok(true)
        );
        let refused = check_thinking(&budget, ReasoningKind::AdaptiveOnly, 4096).unwrap_err();
        assert!(
            refused
                .message
                .contains("\"thinking.type.enabled\" is not supported for this model"),
            "{}",
            refused.message
        );
        assert!(
            check_thinking(
                &json!({"type": "disabled"}),
                ReasoningKind::AdaptiveOnly,
                4096
            )
            .is_err()
        );
        let extra = json!({"type": "adaptive", "budget_tokens": 2048});
        assert!(
            check_thinking(&extra, ReasoningKind::AdaptiveOnly, 4096)
                .unwrap_err()
                .message
                .contains("Extra inputs")
        );
        assert!(
            check_thinking(&adaptive, ReasoningKind::BudgetThinking, 4096)
                .unwrap_err()
                .message
                .contains("Input tag 'adaptive'")
        );
    }
}
