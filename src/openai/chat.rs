//! Chat Completions request, response and stream-chunk types, as in OpenAI's API reference.
//!
//! Requests are parsed leniently where OpenAI is lenient (unknown fields are ignored, `null`
//! means absent) and strictly where a wrong value would change the answer. Fields that name
//! Bedrock concepts (`additionalModelRequestFields`, `guardrailConfig`...) arrive through the
//! SDKs' `extra_body` and are declared here too.
//!
//! Longer than ~450 lines only because its unit tests live beside the code.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /chat/completions` body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub stream: Option<bool>,
    pub stream_options: Option<StreamOptions>,
    pub max_tokens: Option<i64>,
    pub max_completion_tokens: Option<i64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub stop: Option<Stop>,
    pub n: Option<i64>,
    pub logprobs: Option<bool>,
    pub top_logprobs: Option<i64>,
    pub tools: Option<Vec<ToolDefinition>>,
    pub tool_choice: Option<ToolChoice>,
    /// Legacy function calling (before `tools`).
    pub functions: Option<Vec<FunctionDefinition>>,
    pub function_call: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
    pub response_format: Option<ResponseFormat>,
    pub reasoning_effort: Option<String>,
    /// Gateway extension: where reasoning goes in the reply, `reasoning_content`, `think_tags`
    /// or `both` (overrides `REASONING_OUTPUT`; see `translate::reasoning::ReasoningOutput`).
    pub reasoning_output: Option<String>,
    /// `auto`, `default`, `flex` or `priority`: Bedrock's `serviceTier` (see
    /// `translate::service_tier`).
    pub service_tier: Option<String>,
    pub user: Option<String>,
    // Bedrock pass-through fields, sent by clients through `extra_body`.
    #[serde(alias = "additional_model_request_fields")]
    #[serde(rename = "additionalModelRequestFields")]
    pub additional_model_request_fields: Option<serde_json::Map<String, Value>>,
    #[serde(rename = "guardrailConfig", alias = "guardrail_config")]
    pub guardrail_config: Option<GuardrailConfig>,
    #[serde(rename = "performanceConfig", alias = "performance_config")]
    pub performance_config: Option<PerformanceConfig>,
    #[serde(rename = "promptVariables", alias = "prompt_variables")]
    pub prompt_variables: Option<std::collections::HashMap<String, PromptVariable>>,
    #[serde(rename = "requestMetadata", alias = "request_metadata")]
    pub request_metadata: Option<std::collections::HashMap<String, String>>,
}

impl ChatRequest {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamOptions {
    pub include_usage: Option<bool>,
}

/// `stop`: one string or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, expecting = "a string or a list of strings")]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Stop {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s],
            Stop::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    Function,
}

/// One entry of `messages`. A flat struct rather than an enum per role, so that a missing or
/// misplaced field is reported by name while translating rather than as "no variant matched".
#[derive(Debug, Clone, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    #[serde(default)]
    pub content: Option<Content>,
    pub name: Option<String>,
    pub tool_calls: Option<Vec<ToolCall>>,
    pub tool_call_id: Option<String>,
    pub function_call: Option<FunctionCall>,
    /// Reasoning text of an earlier assistant turn (what we returned as `reasoning_content`).
    pub reasoning_content: Option<String>,
    /// Signed reasoning blocks of an earlier assistant turn, as we returned them.
    pub thinking_blocks: Option<Vec<ThinkingBlock>>,
    /// Prompt-caching marker on the whole message (Anthropic-style convention).
    pub cache_control: Option<Value>,
}

impl ChatMessage {
    pub fn new(role: Role, text: &str) -> Self {
        ChatMessage {
            role,
            content: Some(Content::Text(text.to_string())),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            function_call: None,
            reasoning_content: None,
            thinking_blocks: None,
            cache_control: None,
        }
    }
}

/// Message content: a plain string or a list of typed parts.
#[derive(Debug, Clone)]
pub enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;
        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = Content;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an array of content parts")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Content, E> {
                Ok(Content::Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Content, E> {
                Ok(Content::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                let mut parts = Vec::new();
                while let Some(part) = seq.next_element::<ContentPart>()? {
                    parts.push(part);
                }
                Ok(Content::Parts(parts))
            }
        }
        deserializer.deserialize_any(ContentVisitor)
    }
}

/// One typed part of a content array.
#[derive(Debug, Clone, Deserialize)]
pub struct ContentPart {
    #[serde(flatten)]
    pub kind: PartKind,
    pub cache_control: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PartKind {
    Text {
        text: String,
    },
    ImageUrl {
        image_url: ImageUrl,
    },
    File {
        file: FilePart,
    },
    InputAudio {
        input_audio: InputAudio,
    },
    /// A video (a gateway extension; OpenAI's chat API has no video part): `{"type":
    /// "video_url", "video_url": {"url": "data:video/mp4;base64,..." | "s3://bucket/key"}}`.
    VideoUrl {
        video_url: ImageUrl,
    },
    /// Refusal parts appear in assistant history sent back by some clients.
    Refusal {
        refusal: String,
    },
}

/// `image_url` accepts `{"url": ...}` and, as several clients send, a bare string.
#[derive(Debug, Clone)]
pub struct ImageUrl {
    pub url: String,
}

impl<'de> Deserialize<'de> for ImageUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "an object with a `url` string, or a URL string")]
        enum Shape {
            Bare(String),
            Object { url: String },
        }
        Ok(match Shape::deserialize(deserializer)? {
            Shape::Bare(url) | Shape::Object { url } => ImageUrl { url },
        })
    }
}

/// OpenAI's `input_audio`: base64 audio and its format (`wav`, `mp3`; Bedrock's other audio
/// formats are accepted too).
#[derive(Debug, Clone, Deserialize)]
pub struct InputAudio {
    pub data: String,
    pub format: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FilePart {
    /// A data URL (`data:application/pdf;base64,...`) or bare base64.
    pub file_data: Option<String>,
    pub filename: Option<String>,
    pub file_id: Option<String>,
    /// A gateway extension, as Anthropic spells it: `"citations": {"enabled": true}` asks the
    /// model to cite this document (Bedrock `DocumentBlock.citations`); the citations come back
    /// as the message's `annotations`.
    pub citations: Option<CitationsFlag>,
}

/// `{"enabled": true | false}`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitationsFlag {
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FunctionCall {
    pub name: String,
    /// A JSON document as a string. Clients sometimes send `""` or `null` for "no arguments".
    #[serde(default, deserialize_with = "null_as_empty")]
    pub arguments: String,
}

fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// A signed (or redacted) reasoning block, returned with a reply and sent back by the client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ThinkingBlock {
    Thinking {
        thinking: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    RedactedThinking {
        /// base64 of the opaque redacted bytes.
        data: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
pub struct ToolDefinition {
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionDefinition,
    pub cache_control: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FunctionDefinition {
    pub name: String,
    pub description: Option<String>,
    pub parameters: Option<Value>,
    pub strict: Option<bool>,
}

/// `tool_choice` (and legacy `function_call`): a mode string or a named function.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolChoice {
    None,
    Auto,
    Required,
    Function(String),
    /// `{"type":"allowed_tools","allowed_tools":{"mode","tools"}}`: only these functions are
    /// offered, and `required` forces a call to one of them.
    Allowed {
        required: bool,
        names: Vec<String>,
    },
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Named {
            name: String,
        }
        #[derive(Deserialize)]
        struct AllowedTools {
            mode: String,
            tools: Vec<AllowedTool>,
        }
        #[derive(Deserialize)]
        struct AllowedTool {
            function: Named,
        }
        #[derive(Deserialize)]
        #[serde(
            untagged,
            expecting = "\"none\", \"auto\", \"required\", {\"type\":\"function\",\"function\":{\"name\":...}} or {\"type\":\"allowed_tools\",...}"
        )]
        enum Shape {
            Mode(String),
            Allowed {
                allowed_tools: AllowedTools,
            },
            Tool {
                function: Named,
            },
            /// Legacy `function_call: {"name": ...}`.
            Legacy {
                name: String,
            },
        }
        match Shape::deserialize(deserializer)? {
            Shape::Mode(mode) => match mode.as_str() {
                "none" => Ok(ToolChoice::None),
                "auto" => Ok(ToolChoice::Auto),
                "required" | "any" => Ok(ToolChoice::Required),
                other => Err(de::Error::custom(format!(
                    "unknown tool_choice `{other}`, expected \"none\", \"auto\" or \"required\""
                ))),
            },
            Shape::Allowed { allowed_tools } => Ok(ToolChoice::Allowed {
                required: match allowed_tools.mode.as_str() {
                    "required" => true,
                    "auto" => false,
                    other => {
                        return Err(de::Error::custom(format!(
                            "unknown allowed_tools mode `{other}`, expected \"auto\" or \"required\""
                        )));
                    }
                },
                names: allowed_tools
                    .tools
                    .into_iter()
                    .map(|t| t.function.name)
                    .collect(),
            }),
            Shape::Tool { function } => Ok(ToolChoice::Function(function.name)),
            Shape::Legacy { name } => Ok(ToolChoice::Function(name)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

#[derive(Debug, Clone, Deserialize)]
pub struct JsonSchemaFormat {
    pub name: String,
    pub description: Option<String>,
    pub schema: Option<Value>,
    pub strict: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GuardrailConfig {
    #[serde(rename = "guardrailIdentifier", alias = "guardrail_identifier")]
    pub guardrail_identifier: String,
    #[serde(rename = "guardrailVersion", alias = "guardrail_version")]
    pub guardrail_version: String,
    pub trace: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PerformanceConfig {
    pub latency: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PromptVariable {
    pub text: String,
}

// ---------------------------------------------------------------------------------------------
// Responses

/// `chat.completion`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatCompletion {
    pub id: String,
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<Choice>,
    pub usage: Usage,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Choice {
    pub index: u32,
    pub message: AssistantMessage,
    pub finish_reason: Option<String>,
    pub logprobs: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AssistantMessage {
    pub role: String,
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_blocks: Option<Vec<ThinkingBlock>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// Citations of the documents sent with citations enabled (`translate/citations.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PromptTokensDetails {
    /// Tokens read from Bedrock's prompt cache.
    pub cached_tokens: u64,
    /// Tokens written to Bedrock's prompt cache (an extension; OpenAI has no such count).
    pub cache_write_tokens: u64,
}

/// `chat.completion.chunk`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatChunk {
    pub id: String,
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChunkChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChunkChoice {
    pub index: u32,
    pub delta: Delta,
    pub finish_reason: Option<String>,
    pub logprobs: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Delta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_blocks: Option<Vec<ThinkingBlock>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// Citations of the text streamed so far (`translate/citations.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ToolCallDelta {
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub function: FunctionCallDelta,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FunctionCallDelta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub arguments: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::request::parse_json;

    #[test]
    fn parses_string_and_part_content() {
        let req: ChatRequest = parse_json(
            br#"{"model":"m","messages":[
                {"role":"system","content":"be brief"},
                {"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}},
                                          {"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}}]}],
                "stop":"END","stream":null,"some_future_field":1}"#,
        )
        .unwrap();
        assert!(matches!(req.messages[0].content, Some(Content::Text(ref t)) if t == "be brief"));
        let Some(Content::Parts(parts)) = &req.messages[1].content else {
            panic!("parts expected")
        };
        assert!(matches!(parts[0].kind, PartKind::Text { ref text } if text == "hi"));
        assert!(parts[0].cache_control.is_some());
        assert!(
            matches!(parts[1].kind, PartKind::ImageUrl { ref image_url } if image_url.url.starts_with("data:"))
        );
        assert_eq!(req.stop.clone().unwrap().into_vec(), vec!["END"]);
        assert!(!req.is_stream());
    }

    #[test]
    fn bad_content_names_the_path() {
        let err = parse_json::<ChatRequest>(
            br#"{"model":"m","messages":[{"role":"user","content":42}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages[0].content"));
        assert!(
            err.message
                .contains("a string or an array of content parts"),
            "{}",
            err.message
        );
        let err = parse_json::<ChatRequest>(
            br#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages[0].role"));
    }

    #[test]
    fn tool_choice_shapes() {
        let parse = |v: &str| serde_json::from_str::<ToolChoice>(v).unwrap();
        assert_eq!(parse(r#""none""#), ToolChoice::None);
        assert_eq!(parse(r#""required""#), ToolChoice::Required);
        assert_eq!(
            parse(r#"{"type":"function","function":{"name":"f"}}"#),
            ToolChoice::Function("f".into())
        );
        assert_eq!(parse(r#"{"name":"g"}"#), ToolChoice::Function("g".into()));
        assert!(serde_json::from_str::<ToolChoice>(r#""sometimes""#).is_err());
        assert_eq!(
            parse(
                r#"{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"a"}}]}}"#
            ),
            ToolChoice::Allowed {
                required: true,
                names: vec!["a".into()]
            }
        );
    }
}
