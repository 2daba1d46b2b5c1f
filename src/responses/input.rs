//! Responses input items -> chat messages, which the shared translation core
//! (`translate::messages`) turns into Bedrock's conversation.
//!
//! Consecutive assistant-side items (`reasoning`, assistant `message`, `function_call`,
//! `custom_tool_call`) form one assistant turn; `function_call_output` and
//! `custom_tool_call_output` become tool results answering the call with the same `call_id`
//! (the Bedrock `toolUseId`, both ways). A `reasoning` item's `encrypted_content` is what this
//! gateway returned: Bedrock's reasoning blocks with their signatures, so thinking continues
//! across turns with `store: false`.

use base64::Engine;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::openai::chat::{
    ChatMessage, Content, ContentPart, FilePart, FunctionCall, ImageUrl, InputAudio, PartKind,
    Role, ThinkingBlock, ToolCall,
};
use crate::responses::tools::Tools;

/// `input` as a list of items: a string is one user message.
pub fn items(input: Option<&Value>) -> Result<Vec<Value>, ApiError> {
    match input {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(vec![
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}),
        ]),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(_) => Err(ApiError::invalid_param(
            "input",
            "`input` must be a string or a list of input items.",
        )),
    }
}

/// Bedrock's reasoning blocks as opaque `encrypted_content` (base64 of their JSON).
pub fn encode_reasoning(blocks: &[ThinkingBlock]) -> String {
    let json = serde_json::to_vec(blocks).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(json)
}

fn decode_reasoning(content: &str, param: &str) -> Result<Vec<ThinkingBlock>, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(content)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            ApiError::invalid_param(
                format!("{param}.encrypted_content"),
                "This `encrypted_content` was not produced by this gateway; send back the reasoning items it returned, unchanged.",
            )
        })
}

fn str_field<'a>(item: &'a Value, field: &str, param: &str) -> Result<&'a str, ApiError> {
    item.get(field).and_then(Value::as_str).ok_or_else(|| {
        ApiError::invalid_param(
            format!("{param}.{field}"),
            format!("`{param}.{field}` must be a string."),
        )
    })
}

fn part(kind: PartKind) -> ContentPart {
    ContentPart {
        kind,
        cache_control: None,
    }
}

/// Content parts (`input_text`, `input_image`, `input_file`, `input_audio`, `input_video`,
/// `output_text`, `refusal`).
fn content(value: &Value, param: &str) -> Result<Content, ApiError> {
    let parts = match value {
        Value::String(text) => return Ok(Content::Text(text.clone())),
        Value::Array(parts) => parts,
        _ => {
            return Err(ApiError::invalid_param(
                param,
                format!("`{param}` must be a string or a list of content parts."),
            ));
        }
    };
    let mut out = Vec::with_capacity(parts.len());
    for (i, p) in parts.iter().enumerate() {
        let param = format!("{param}[{i}]");
        let kind = str_field(p, "type", &param)?;
        out.push(part(match kind {
            "input_text" | "output_text" | "text" => PartKind::Text {
                text: str_field(p, "text", &param)?.to_string(),
            },
            "refusal" => PartKind::Refusal {
                refusal: str_field(p, "refusal", &param)?.to_string(),
            },
            "input_image" => {
                let Some(url) = p.get("image_url").and_then(Value::as_str) else {
                    return Err(ApiError::invalid_param(
                        format!("{param}.image_url"),
                        "`input_image` needs `image_url` (a data URL or an http(s) URL); uploaded `file_id`s are not supported.",
                    ));
                };
                PartKind::ImageUrl {
                    image_url: ImageUrl { url: url.into() },
                }
            }
            "input_audio" => {
                let audio = p.get("input_audio");
                let field = |name: &str| audio.and_then(|a| a.get(name)).and_then(Value::as_str);
                let (Some(data), Some(format)) = (field("data"), field("format")) else {
                    return Err(ApiError::invalid_param(
                        format!("{param}.input_audio"),
                        "`input_audio` needs `input_audio: {\"data\": <base64>, \"format\": \"wav\" | \"mp3\"}`.",
                    ));
                };
                PartKind::InputAudio {
                    input_audio: InputAudio {
                        data: data.into(),
                        format: format.into(),
                    },
                }
            }
            // A gateway extension, as `video_url` is in chat: `{"type": "input_video",
            // "video_url": "data:video/mp4;base64,..." | "s3://bucket/key.mp4"}`.
            "input_video" => {
                let Some(url) = p.get("video_url").and_then(Value::as_str) else {
                    return Err(ApiError::invalid_param(
                        format!("{param}.video_url"),
                        "`input_video` needs `video_url` (a data:video/... URL or an s3:// URI).",
                    ));
                };
                PartKind::VideoUrl {
                    video_url: ImageUrl { url: url.into() },
                }
            }
            "input_file" => {
                let Some(data) = p.get("file_data").and_then(Value::as_str) else {
                    return Err(ApiError::invalid_param(
                        format!("{param}.file_data"),
                        "`input_file` needs `file_data` (a data URL or base64); `file_id` and `file_url` are not supported.",
                    ));
                };
                PartKind::File {
                    file: FilePart {
                        file_data: Some(data.into()),
                        filename: p.get("filename").and_then(Value::as_str).map(str::to_string),
                        file_id: None,
                        citations: None,
                    },
                }
            }
            other => {
                return Err(ApiError::invalid_param(
                    format!("{param}.type"),
                    format!("Content part type `{other}` is not supported here."),
                ));
            }
        }));
    }
    Ok(Content::Parts(out))
}

/// Tool output: a string, or a list of content parts.
fn tool_output(item: &Value, param: &str) -> Result<Content, ApiError> {
    match item.get("output") {
        Some(Value::String(text)) => Ok(Content::Text(text.clone())),
        Some(v @ Value::Array(_)) => content(v, &format!("{param}.output")),
        _ => Err(ApiError::invalid_param(
            format!("{param}.output"),
            format!("`{param}.output` must be a string or a list of content parts."),
        )),
    }
}

fn empty_assistant() -> ChatMessage {
    let mut m = ChatMessage::new(Role::Assistant, "");
    m.content = None;
    m
}

/// Input items (references already resolved) -> chat messages.
pub fn chat_messages(items: &[Value]) -> Result<Vec<ChatMessage>, ApiError> {
    let mut out: Vec<ChatMessage> = Vec::new();
    let mut turn: Option<ChatMessage> = None;
    for (i, item) in items.iter().enumerate() {
        let param = format!("input[{i}]");
        let kind =
            item.get("type")
                .and_then(Value::as_str)
                .unwrap_or(if item.get("role").is_some() {
                    "message"
                } else {
                    ""
                });
        match kind {
            "message" => {
                let role = match str_field(item, "role", &param)? {
                    "user" => Role::User,
                    "system" => Role::System,
                    "developer" => Role::Developer,
                    "assistant" => Role::Assistant,
                    other => {
                        return Err(ApiError::invalid_param(
                            format!("{param}.role"),
                            format!(
                                "Unknown role `{other}`: use user, system, developer or assistant."
                            ),
                        ));
                    }
                };
                let body = content(
                    item.get("content").unwrap_or(&Value::Null),
                    &format!("{param}.content"),
                )?;
                if role == Role::Assistant {
                    let text = match body {
                        Content::Text(t) => t,
                        Content::Parts(parts) => parts
                            .into_iter()
                            .filter_map(|p| match p.kind {
                                PartKind::Text { text } => Some(text),
                                PartKind::Refusal { refusal } => Some(refusal),
                                _ => None,
                            })
                            .collect(),
                    };
                    let t = turn.get_or_insert_with(empty_assistant);
                    match &mut t.content {
                        Some(Content::Text(existing)) => existing.push_str(&text),
                        _ => t.content = Some(Content::Text(text)),
                    }
                } else {
                    out.extend(turn.take());
                    let mut m = ChatMessage::new(role, "");
                    m.content = Some(body);
                    out.push(m);
                }
            }
            "function_call" | "custom_tool_call" => {
                let call_id = str_field(item, "call_id", &param)?.to_string();
                let name = str_field(item, "name", &param)?;
                let arguments = if kind == "custom_tool_call" {
                    json!({"input": str_field(item, "input", &param)?}).to_string()
                } else {
                    item.get("arguments")
                        .and_then(Value::as_str)
                        .unwrap_or("{}")
                        .to_string()
                };
                let namespace = item.get("namespace").and_then(Value::as_str);
                let t = turn.get_or_insert_with(empty_assistant);
                t.tool_calls.get_or_insert_with(Vec::new).push(ToolCall {
                    id: call_id,
                    kind: "function".into(),
                    function: FunctionCall {
                        name: Tools::bedrock_name(namespace, name),
                        arguments,
                    },
                });
            }
            "function_call_output" | "custom_tool_call_output" => {
                out.extend(turn.take());
                let mut m = ChatMessage::new(Role::Tool, "");
                m.tool_call_id = Some(str_field(item, "call_id", &param)?.to_string());
                m.content = Some(tool_output(item, &param)?);
                out.push(m);
            }
            "reasoning" => {
                let t = turn.get_or_insert_with(empty_assistant);
                if let Some(encrypted) = item.get("encrypted_content").and_then(Value::as_str) {
                    let blocks = decode_reasoning(encrypted, &param)?;
                    t.thinking_blocks
                        .get_or_insert_with(Vec::new)
                        .extend(blocks);
                }
            }
            "item_reference" => {
                return Err(ApiError::invalid_param(
                    format!("{param}.id"),
                    "This `item_reference` names no item of the stored conversation.",
                ));
            }
            other => {
                return Err(ApiError::invalid_param(
                    format!("{param}.type"),
                    format!(
                        "Input item type `{other}` is not supported: use message, function_call, function_call_output, custom_tool_call, custom_tool_call_output, reasoning or item_reference."
                    ),
                ));
            }
        }
    }
    out.extend(turn.take());
    // A reasoning-only assistant turn (nothing said or called) carries nothing Bedrock takes.
    out.retain(|m| m.role != Role::Assistant || m.content.is_some() || m.tool_calls.is_some());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_round_trip_becomes_one_turn_and_a_result() {
        let blocks = vec![ThinkingBlock::Thinking {
            thinking: "hmm".into(),
            signature: Some("sig".into()),
        }];
        let items = vec![
            json!({"role":"user","content":"weather?"}),
            json!({"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":encode_reasoning(&blocks)}),
            json!({"type":"function_call","call_id":"tooluse_1","name":"read","namespace":"mcp","arguments":"{}"}),
            json!({"type":"function_call_output","call_id":"tooluse_1","output":"sunny"}),
        ];
        let msgs = chat_messages(&items).unwrap();
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[1].thinking_blocks.as_ref().unwrap(), &blocks);
        let call = &msgs[1].tool_calls.as_ref().unwrap()[0];
        assert_eq!(
            (call.id.as_str(), call.function.name.as_str()),
            ("tooluse_1", "mcp__read")
        );
        assert_eq!(msgs[2].tool_call_id.as_deref(), Some("tooluse_1"));
    }

    #[test]
    fn errors_name_the_item() {
        let err =
            chat_messages(&[json!({"type":"message","role":"robot","content":"x"})]).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("input[0].role"));
        let err =
            chat_messages(&[json!({"type":"reasoning","encrypted_content":"!!"})]).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("input[0].encrypted_content"));
    }
}
