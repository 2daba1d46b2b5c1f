//! Shared test helpers: an emulator on loopback with a real Bedrock Runtime
//! client pointed at it, terse builders for SDK request types, a collector
//! for ConverseStream event streams, and raw HTTP access for requests the
//! SDK cannot even express.

#![allow(dead_code)]

use std::collections::HashMap;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::{Credentials, Region};
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::converse::builders::ConverseFluentBuilder;
use aws_sdk_bedrockruntime::operation::converse::{ConverseError, ConverseOutput};
use aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput as StreamResponse;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_sdk_bedrockruntime::types::{
    AnyToolChoice, AutoToolChoice, CachePointBlock, CachePointType, ContentBlock,
    ContentBlockDelta, ContentBlockStart, ConversationRole, ConverseOutput as ConverseMessage,
    ConverseStreamOutput, ImageBlock, ImageFormat, ImageSource, Message, ReasoningContentBlock,
    ReasoningContentBlockDelta, SpecificToolChoice, StopReason, TokenUsage, Tool, ToolChoice,
    ToolConfiguration, ToolInputSchema, ToolSpecification,
};
use aws_smithy_types::{Document, Number};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use bedrock_emulator::{EmulatorConfig, RunningEmulator};
use serde_json::Value;
use tower::ServiceExt;

pub const HAIKU_3: &str = "anthropic.claude-3-haiku-20240307-v1:0";
/// Profile-only models are called through their `us.` profile, as on Bedrock.
pub const HAIKU_3_5: &str = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
pub const SONNET_3_7: &str = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
pub const SONNET_4: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";
pub const SONNET_4_5: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
pub const NOVA_MICRO: &str = "amazon.nova-micro-v1:0";
pub const NOVA_PRO: &str = "amazon.nova-pro-v1:0";
pub const LLAMA_3_3: &str = "meta.llama3-3-70b-instruct-v1:0";
pub const MISTRAL_7B: &str = "mistral.mistral-7b-instruct-v0:2";
pub const MISTRAL_LARGE: &str = "mistral.mistral-large-2407-v1:0";
pub const DEEPSEEK_R1_PROFILE: &str = "us.deepseek.r1-v1:0";
pub const GPT_OSS: &str = "openai.gpt-oss-120b-1:0";
pub const COMMAND_R_PLUS: &str = "cohere.command-r-plus-v1:0";

/// A running emulator and a Bedrock Runtime client pointed at it.
pub struct Harness {
    pub emulator: RunningEmulator,
    pub client: Client,
}

pub async fn start() -> Harness {
    start_with(EmulatorConfig::default()).await
}

pub async fn start_with(config: EmulatorConfig) -> Harness {
    let emulator = bedrock_emulator::spawn(config)
        .await
        .expect("emulator starts");
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "static"))
        .endpoint_url(emulator.url())
        // Fault tests want to see the first error, not three retries of it.
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    let client = Client::new(&sdk_config);
    Harness { emulator, client }
}

impl Harness {
    pub fn converse(&self, model: &str) -> ConverseFluentBuilder {
        self.client.converse().model_id(model)
    }
}

// ----- request building -------------------------------------------------

pub fn text(text: &str) -> ContentBlock {
    ContentBlock::Text(text.to_string())
}

pub fn message(role: ConversationRole, blocks: Vec<ContentBlock>) -> Message {
    let mut builder = Message::builder().role(role);
    for block in blocks {
        builder = builder.content(block);
    }
    builder.build().expect("role is set")
}

pub fn user(text_value: &str) -> Message {
    message(ConversationRole::User, vec![text(text_value)])
}

pub fn user_blocks(blocks: Vec<ContentBlock>) -> Message {
    message(ConversationRole::User, blocks)
}

pub fn assistant_blocks(blocks: Vec<ContentBlock>) -> Message {
    message(ConversationRole::Assistant, blocks)
}

pub fn cache_point() -> CachePointBlock {
    CachePointBlock::builder()
        .r#type(CachePointType::Default)
        .build()
        .expect("type is set")
}

/// A PNG signature and a 1x1 IHDR header (the emulator reads the size from it), padded.
pub fn png_bytes() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend(1u32.to_be_bytes());
    bytes.extend(1u32.to_be_bytes());
    bytes.resize(68, 7);
    bytes
}

pub fn jpeg_bytes() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.resize(40, 1);
    bytes
}

pub fn image(format: ImageFormat, bytes: Vec<u8>) -> ContentBlock {
    ContentBlock::Image(
        ImageBlock::builder()
            .format(format)
            .source(ImageSource::Bytes(Blob::new(bytes)))
            .build()
            .expect("format is set"),
    )
}

/// A serde_json value as a Smithy document.
pub fn doc(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(flag) => Document::Bool(*flag),
        Value::Number(number) => {
            if let Some(unsigned) = number.as_u64() {
                Document::Number(Number::PosInt(unsigned))
            } else if let Some(signed) = number.as_i64() {
                Document::Number(Number::NegInt(signed))
            } else {
                Document::Number(Number::Float(number.as_f64().unwrap_or(0.0)))
            }
        }
        Value::String(text) => Document::String(text.clone()),
        Value::Array(items) => Document::Array(items.iter().map(doc).collect()),
        Value::Object(object) => Document::Object(
            object
                .iter()
                .map(|(key, value)| (key.clone(), doc(value)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// A Smithy document as a serde_json value.
pub fn json_of(document: &Document) -> Value {
    match document {
        Document::Null => Value::Null,
        Document::Bool(flag) => Value::Bool(*flag),
        Document::Number(Number::PosInt(n)) => Value::from(*n),
        Document::Number(Number::NegInt(n)) => Value::from(*n),
        Document::Number(Number::Float(f)) => Value::from(*f),
        Document::String(text) => Value::String(text.clone()),
        Document::Array(items) => Value::Array(items.iter().map(json_of).collect()),
        Document::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| (key.clone(), json_of(value)))
                .collect(),
        ),
    }
}

pub fn tool(name: &str, schema: Value) -> Tool {
    Tool::ToolSpec(
        ToolSpecification::builder()
            .name(name)
            .description(format!("The {name} tool"))
            .input_schema(ToolInputSchema::Json(doc(&schema)))
            .build()
            .expect("name and schema are set"),
    )
}

pub fn weather_tool() -> Tool {
    tool(
        "get_weather",
        serde_json::json!({
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city", "days"]
        }),
    )
}

pub fn tools(tools: Vec<Tool>, choice: Option<ToolChoice>) -> ToolConfiguration {
    ToolConfiguration::builder()
        .set_tools(Some(tools))
        .set_tool_choice(choice)
        .build()
        .expect("tools are set")
}

pub fn choose_any() -> ToolChoice {
    ToolChoice::Any(AnyToolChoice::builder().build())
}

pub fn choose_auto() -> ToolChoice {
    ToolChoice::Auto(AutoToolChoice::builder().build())
}

pub fn choose_tool(name: &str) -> ToolChoice {
    ToolChoice::Tool(
        SpecificToolChoice::builder()
            .name(name)
            .build()
            .expect("name is set"),
    )
}

pub fn thinking(budget: u64) -> Document {
    doc(&serde_json::json!({"thinking": {"type": "enabled", "budget_tokens": budget}}))
}

// ----- response reading -------------------------------------------------

pub fn content(output: &ConverseOutput) -> &[ContentBlock] {
    match output.output() {
        Some(ConverseMessage::Message(message)) => message.content(),
        _ => panic!("no message in {output:?}"),
    }
}

/// The text of the answer's text blocks, concatenated.
pub fn reply_text(output: &ConverseOutput) -> String {
    content(output)
        .iter()
        .filter_map(|block| block.as_text().ok().cloned())
        .collect()
}

/// The validation message of a failed Converse call, asserting the SDK
/// decoded it as a ValidationException.
pub async fn validation_error(request: ConverseFluentBuilder) -> String {
    let error = request
        .send()
        .await
        .expect_err("request should fail")
        .into_service_error();
    assert!(
        error.is_validation_exception(),
        "expected a ValidationException, got {error:?}"
    );
    error.message().unwrap_or_default().to_string()
}

pub fn service_error(error: SdkError<ConverseError>) -> ConverseError {
    error.into_service_error()
}

/// Everything a ConverseStream call produced.
#[derive(Debug, Default)]
pub struct Transcript {
    pub events: Vec<ConverseStreamOutput>,
    pub error: Option<ConverseStreamOutputError>,
}

pub async fn collect(mut response: StreamResponse) -> Transcript {
    let mut transcript = Transcript::default();
    loop {
        match response.stream.recv().await {
            Ok(Some(event)) => transcript.events.push(event),
            Ok(None) => break,
            Err(error) => {
                transcript.error = Some(error.into_service_error());
                break;
            }
        }
    }
    transcript
}

impl Transcript {
    fn deltas(&self) -> impl Iterator<Item = (i32, &ContentBlockDelta)> {
        self.events.iter().filter_map(|event| match event {
            ConverseStreamOutput::ContentBlockDelta(delta) => {
                delta.delta().map(|d| (delta.content_block_index(), d))
            }
            _ => None,
        })
    }

    /// Text deltas concatenated.
    pub fn text(&self) -> String {
        self.deltas()
            .filter_map(|(_, delta)| delta.as_text().ok().cloned())
            .collect()
    }

    pub fn text_delta_count(&self) -> usize {
        self.deltas().filter(|(_, delta)| delta.is_text()).count()
    }

    pub fn reasoning_text(&self) -> String {
        self.deltas()
            .filter_map(|(_, delta)| match delta {
                ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text(text)) => {
                    Some(text.clone())
                }
                _ => None,
            })
            .collect()
    }

    pub fn reasoning_signature(&self) -> Option<String> {
        self.deltas().find_map(|(_, delta)| match delta {
            ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Signature(sig)) => {
                Some(sig.clone())
            }
            _ => None,
        })
    }

    pub fn redacted_reasoning(&self) -> Option<Vec<u8>> {
        self.deltas().find_map(|(_, delta)| match delta {
            ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::RedactedContent(
                blob,
            )) => Some(blob.as_ref().to_vec()),
            _ => None,
        })
    }

    /// (block index, tool use id, name, reassembled input) per tool call.
    pub fn tool_calls(&self) -> Vec<(i32, String, String, String)> {
        let mut calls: Vec<(i32, String, String, String)> = self
            .events
            .iter()
            .filter_map(|event| match event {
                ConverseStreamOutput::ContentBlockStart(start) => match start.start() {
                    Some(ContentBlockStart::ToolUse(tool_use)) => Some((
                        start.content_block_index(),
                        tool_use.tool_use_id().to_string(),
                        tool_use.name().to_string(),
                        String::new(),
                    )),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        for (index, delta) in self.deltas() {
            if let ContentBlockDelta::ToolUse(tool_delta) = delta
                && let Some(call) = calls.iter_mut().find(|call| call.0 == index)
            {
                call.3.push_str(tool_delta.input());
            }
        }
        calls
    }

    pub fn stop_reason(&self) -> Option<StopReason> {
        self.events.iter().find_map(|event| match event {
            ConverseStreamOutput::MessageStop(stop) => Some(stop.stop_reason().clone()),
            _ => None,
        })
    }

    pub fn usage(&self) -> Option<TokenUsage> {
        self.events.iter().find_map(|event| match event {
            ConverseStreamOutput::Metadata(metadata) => metadata.usage().cloned(),
            _ => None,
        })
    }

    pub fn invoked_model_id(&self) -> Option<String> {
        self.events.iter().find_map(|event| match event {
            ConverseStreamOutput::Metadata(metadata) => metadata
                .trace()
                .and_then(|trace| trace.prompt_router())
                .and_then(|router| router.invoked_model_id())
                .map(str::to_string),
            _ => None,
        })
    }

    /// The kind of each event, for order assertions.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .map(|event| match event {
                ConverseStreamOutput::MessageStart(_) => "messageStart",
                ConverseStreamOutput::ContentBlockStart(_) => "contentBlockStart",
                ConverseStreamOutput::ContentBlockDelta(_) => "contentBlockDelta",
                ConverseStreamOutput::ContentBlockStop(_) => "contentBlockStop",
                ConverseStreamOutput::MessageStop(_) => "messageStop",
                ConverseStreamOutput::Metadata(_) => "metadata",
                _ => "unknown",
            })
            .collect()
    }
}

/// The reasoning block of a Converse answer: (text, signature).
pub fn reasoning_of(output: &ConverseOutput) -> Option<(String, Option<String>)> {
    content(output).iter().find_map(|block| match block {
        ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(reasoning)) => Some((
            reasoning.text().to_string(),
            reasoning.signature().map(str::to_string),
        )),
        _ => None,
    })
}

// ----- raw HTTP -----------------------------------------------------------

/// A response as the wire carries it.
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub fn error_type(&self) -> &str {
        self.headers
            .get("x-amzn-errortype")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    }

    pub fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Sends a request straight to the router, bypassing the SDK.
pub async fn raw(config: EmulatorConfig, method: &str, path: &str, body: Vec<u8>) -> RawResponse {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("valid request");
    let response = bedrock_emulator::router(config)
        .oneshot(request)
        .await
        .expect("router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body reads")
        .to_vec();
    RawResponse {
        status,
        headers,
        body,
    }
}

/// POSTs a JSON body to `/model/{model}/converse`.
pub async fn raw_converse(model: &str, body: Value) -> RawResponse {
    raw(
        EmulatorConfig::default(),
        "POST",
        &format!("/model/{model}/converse"),
        body.to_string().into_bytes(),
    )
    .await
}

/// Asserts a raw response is a ValidationException and returns its message.
pub fn raw_validation(response: &RawResponse) -> String {
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert!(
        response.error_type().starts_with("ValidationException:"),
        "{}",
        response.error_type()
    );
    response.message()
}
