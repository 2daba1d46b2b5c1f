//! A Responses request -> the chat request the shared core translates, and the Response
//! object's shell: the settings OpenAI echoes back in every Response.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::openai::chat::{ChatMessage, ChatRequest, JsonSchemaFormat, ResponseFormat, Role};
use crate::openai::responses::ResponsesRequest;
use crate::responses::input::chat_messages;
use crate::responses::tools::Tools;

/// `text.format` -> chat's `response_format` (then the same native/tool/instruction strategy).
fn response_format(format: &Value) -> Result<Option<ResponseFormat>, ApiError> {
    let kind = format.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" => Ok(None),
        "json_object" => Ok(Some(ResponseFormat::JsonObject)),
        "json_schema" => {
            let name = format.get("name").and_then(Value::as_str).ok_or_else(|| {
                ApiError::invalid_param("text.format.name", "`text.format.name` must be a string.")
            })?;
            Ok(Some(ResponseFormat::JsonSchema {
                json_schema: JsonSchemaFormat {
                    name: name.to_string(),
                    description: format
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    schema: format.get("schema").cloned(),
                    strict: format.get("strict").and_then(Value::as_bool),
                },
            }))
        }
        other => Err(ApiError::invalid_param(
            "text.format.type",
            format!(
                "`text.format.type` `{other}` is not supported: use text, json_object or json_schema."
            ),
        )),
    }
}

/// The chat request for `req`, over `items` (the whole conversation, references resolved).
pub fn chat_request(
    req: &ResponsesRequest,
    model_id: &str,
    items: &[Value],
    tools: &Tools,
) -> Result<ChatRequest, ApiError> {
    let mut messages = Vec::new();
    if let Some(instructions) = req.instructions.as_deref().filter(|i| !i.is_empty()) {
        messages.push(ChatMessage::new(Role::System, instructions));
    }
    messages.extend(chat_messages(items)?);
    if messages
        .iter()
        .all(|m| m.role == Role::System || m.role == Role::Developer)
    {
        return Err(ApiError::invalid_param(
            "input",
            "`input` must hold at least one user message (or continue a conversation with `previous_response_id`).",
        ));
    }
    // The same values and meaning as chat's `reasoning_effort` (`none` included).
    let effort = req.reasoning.as_ref().and_then(|r| r.effort.clone());
    let format = req.text.as_ref().and_then(|t| t.format.as_ref());
    Ok(ChatRequest {
        model: model_id.to_string(),
        messages,
        max_completion_tokens: req.max_output_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        tools: (!tools.definitions.is_empty()).then(|| tools.definitions.clone()),
        tool_choice: match &req.tool_choice {
            Some(choice) if !tools.definitions.is_empty() || choice.is_object() => {
                Some(tools.tool_choice(choice)?)
            }
            _ => None,
        },
        parallel_tool_calls: req.parallel_tool_calls,
        response_format: match format {
            Some(f) => response_format(f)?,
            None => None,
        },
        reasoning_effort: effort,
        service_tier: req.service_tier.clone(),
        ..ChatRequest::default()
    })
}

/// The Response object before any output: id, time, model and the echoed settings.
pub fn shell(req: &ResponsesRequest, id: &str, created_at: i64, model_id: &str) -> Value {
    let reasoning = req.reasoning.as_ref();
    let text = req.text.as_ref();
    json!({
        "id": id,
        "object": "response",
        "created_at": created_at,
        "status": "in_progress",
        "background": false,
        "error": null,
        "incomplete_details": null,
        "instructions": req.instructions,
        "max_output_tokens": req.max_output_tokens,
        "max_tool_calls": null,
        "model": model_id,
        "output": [],
        "parallel_tool_calls": req.parallel_tool_calls.unwrap_or(true),
        "previous_response_id": req.previous_response_id,
        "prompt_cache_key": req.prompt_cache_key,
        "reasoning": {
            "effort": reasoning.and_then(|r| r.effort.clone()),
            "summary": reasoning.and_then(|r| r.summary.clone().or(r.generate_summary.clone())),
        },
        "safety_identifier": req.safety_identifier,
        "service_tier": req.service_tier.clone().unwrap_or_else(|| "default".into()),
        "store": req.is_stored(),
        "temperature": req.temperature.unwrap_or(1.0),
        "text": {
            "format": text.and_then(|t| t.format.clone()).unwrap_or_else(|| json!({"type": "text"})),
            "verbosity": text.and_then(|t| t.verbosity.clone()).unwrap_or_else(|| "medium".into()),
        },
        "tool_choice": req.tool_choice.clone().unwrap_or_else(|| json!("auto")),
        "tools": req.tools.clone().unwrap_or_default(),
        "top_logprobs": 0,
        "top_p": req.top_p.unwrap_or(1.0),
        "truncation": req.truncation.clone().unwrap_or_else(|| "disabled".into()),
        "usage": null,
        "user": req.user,
        "metadata": req.metadata.clone().unwrap_or_default(),
    })
}
