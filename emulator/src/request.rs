//! The Converse / ConverseStream request, parsed strictly from JSON into
//! types. This layer checks shape only: required members, member types, enum
//! values and unknown keys. Rules that depend on the model or on several
//! members together live in `validate`.
//!
//! Longer than the usual ~450 lines because it mirrors botocore's ConverseRequest shape member
//! by member (22 types, one parser each); split by member group if it grows further.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::json_reader::{
    ObjectReader, as_array, as_blob, as_bool, as_integer, as_number, as_object, as_str, child,
    read_union,
};

/// Which operation the body was sent to; their input shapes differ slightly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Converse,
    ConverseStream,
}

#[derive(Debug, Clone, Default)]
pub struct ConverseRequest {
    pub messages: Vec<Message>,
    pub system: Vec<SystemBlock>,
    pub inference: InferenceConfig,
    pub tool_config: Option<ToolConfig>,
    pub additional_request_fields: Option<Map<String, Value>>,
    pub additional_response_field_paths: Vec<String>,
    pub guardrail: Option<GuardrailConfig>,
    pub performance_latency: Option<String>,
    pub prompt_variables: Option<BTreeMap<String, String>>,
    pub request_metadata: Option<BTreeMap<String, String>>,
    pub output_config: Option<OutputConfig>,
    pub service_tier: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Message {
    pub role: Role,
    pub content: Vec<ContentBlock>,
}

#[derive(Debug, Clone)]
pub enum ContentBlock {
    Text(String),
    Image(Image),
    Document(Document),
    ToolUse(ToolUse),
    ToolResult(ToolResult),
    GuardContent(GuardContent),
    /// A prompt-caching checkpoint (`type` and `ttl` are only checked).
    /// `one_hour`: `ttl` `1h` (botocore `CacheTTL`: `5m | 1h`; absent means 5 minutes).
    CachePoint {
        one_hour: bool,
    },
    Reasoning(Reasoning),
    /// A video (botocore `VideoBlock`): required `format` and `source`.
    Video(Media),
    /// An audio clip (botocore `AudioBlock`): required `format` and `source`.
    Audio(Media),
    /// A block kind the SDK can send but no catalogued model accepts
    /// (`citationsContent`, `searchResult`, ...). Carries the member name.
    Unsupported(&'static str),
}

/// A video or audio block: its format and where its bytes are.
#[derive(Debug, Clone)]
pub struct Media {
    pub format: String,
    pub source: MediaSource,
}

/// botocore `VideoSource` / `AudioSource`: a union of inline `bytes` and `s3Location`.
#[derive(Debug, Clone)]
pub enum MediaSource {
    Bytes(Vec<u8>),
    /// `s3Location.uri`. The emulator has no S3: the object is not read, only its URI checked.
    S3(String),
}

#[derive(Debug, Clone)]
pub struct Image {
    pub format: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub enum DocumentSource {
    Bytes(Vec<u8>),
    Text(String),
    Content(Vec<String>),
}

impl DocumentSource {
    /// Size of the document as the model would receive it.
    pub fn len(&self) -> usize {
        match self {
            DocumentSource::Bytes(bytes) => bytes.len(),
            DocumentSource::Text(text) => text.len(),
            DocumentSource::Content(parts) => parts.iter().map(String::len).sum(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Document {
    pub format: String,
    pub name: String,
    pub source: DocumentSource,
    /// `citations.enabled` (botocore `DocumentBlock.citations`, `CitationsConfig`).
    pub citations: bool,
}

#[derive(Debug, Clone)]
pub struct ToolUse {
    pub id: String,
    pub name: String,
    pub input: Value,
}

#[derive(Debug, Clone)]
pub struct ToolResult {
    pub tool_use_id: String,
    pub content: Vec<ToolResultContent>,
    pub status: Option<String>,
}

#[derive(Debug, Clone)]
pub enum ToolResultContent {
    Text(String),
    Json(Value),
    Image(Image),
    Document(Document),
    Unsupported(&'static str),
}

#[derive(Debug, Clone)]
pub enum GuardContent {
    Text(String),
    Image(Image),
}

#[derive(Debug, Clone)]
pub enum Reasoning {
    Text {
        text: String,
        signature: Option<String>,
    },
    Redacted(Vec<u8>),
}

#[derive(Debug, Clone)]
pub enum SystemBlock {
    Text(String),
    GuardContent(GuardContent),
    /// A prompt-caching checkpoint (`type` and `ttl` are only checked).
    /// `one_hour`: `ttl` `1h` (botocore `CacheTTL`: `5m | 1h`; absent means 5 minutes).
    CachePoint {
        one_hour: bool,
    },
}

#[derive(Debug, Clone, Default)]
pub struct InferenceConfig {
    pub max_tokens: Option<i64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub stop_sequences: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct ToolConfig {
    pub tools: Vec<ToolEntry>,
    pub choice: Option<ToolChoice>,
}

impl ToolConfig {
    /// The tool specifications, skipping cache points and system tools.
    pub fn specs(&self) -> impl Iterator<Item = &ToolSpec> {
        self.tools.iter().filter_map(|tool| match tool {
            ToolEntry::Spec(spec) => Some(spec),
            _ => None,
        })
    }
}

#[derive(Debug, Clone)]
pub enum ToolEntry {
    Spec(ToolSpec),
    System(String),
    /// A prompt-caching checkpoint (`type` and `ttl` are only checked).
    /// `one_hour`: `ttl` `1h` (botocore `CacheTTL`: `5m | 1h`; absent means 5 minutes).
    CachePoint {
        one_hour: bool,
    },
}

#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: String,
    pub description: Option<String>,
    pub schema: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    Auto,
    Any,
    Tool(String),
}

#[derive(Debug, Clone)]
pub struct GuardrailConfig {
    pub identifier: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OutputConfig {
    pub json_schema: Option<JsonSchemaFormat>,
    pub effort: Option<String>,
}

#[derive(Debug, Clone)]
pub struct JsonSchemaFormat {
    /// The schema exactly as sent: a string holding JSON.
    pub schema_text: String,
}

/// Refuses a string that is not one of an enum's values.
fn enum_member(value: &str, path: &str, allowed: &[&str]) -> Result<String, ApiError> {
    if allowed.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(ApiError::constraint(
            value,
            path,
            &format!("satisfy enum value set: [{}]", allowed.join(", ")),
        ))
    }
}

/// Parses a request body for `operation`.
pub fn parse(body: &Value, operation: Operation) -> Result<ConverseRequest, ApiError> {
    let mut top = ObjectReader::new(body, "")?;
    let mut request = ConverseRequest::default();

    // Prompt management resources may omit messages; everyone else is told
    // later, by validation, that a conversation needs them.
    if let Some((value, path)) = top.optional("messages") {
        request.messages = as_array(value, &path)?
            .iter()
            .enumerate()
            .map(|(i, message)| parse_message(message, &child(&path, i)))
            .collect::<Result<_, _>>()?;
    }
    if let Some((value, path)) = top.optional("system") {
        request.system = as_array(value, &path)?
            .iter()
            .enumerate()
            .map(|(i, block)| parse_system_block(block, &child(&path, i)))
            .collect::<Result<_, _>>()?;
    }
    if let Some((value, path)) = top.optional("inferenceConfig") {
        request.inference = parse_inference_config(value, &path)?;
    }
    if let Some((value, path)) = top.optional("toolConfig") {
        request.tool_config = Some(parse_tool_config(value, &path)?);
    }
    if let Some((value, path)) = top.optional("additionalModelRequestFields") {
        request.additional_request_fields = Some(as_object(value, &path)?.clone());
    }
    if let Some((value, path)) = top.optional("additionalModelResponseFieldPaths") {
        request.additional_response_field_paths = as_array(value, &path)?
            .iter()
            .enumerate()
            .map(|(i, item)| as_str(item, &child(&path, i)).map(str::to_string))
            .collect::<Result<_, _>>()?;
    }
    if let Some((value, path)) = top.optional("guardrailConfig") {
        request.guardrail = Some(parse_guardrail_config(value, &path, operation)?);
    }
    if let Some((value, path)) = top.optional("performanceConfig") {
        let mut reader = ObjectReader::new(value, &path)?;
        // `latency` is optional in botocore's `PerformanceConfiguration`.
        if let Some(latency) = reader.optional_str("latency")? {
            let latency_path = child(&path, "latency");
            request.performance_latency = Some(enum_member(
                latency,
                &latency_path,
                &["standard", "optimized"],
            )?);
        }
        reader.finish()?;
    }
    if let Some((value, path)) = top.optional("promptVariables") {
        let mut variables = BTreeMap::new();
        for (name, variable) in as_object(value, &path)? {
            let variable_path = child(&path, name);
            let (_, text, text_path) = read_union(variable, &variable_path, &["text"])?;
            variables.insert(name.clone(), as_str(text, &text_path)?.to_string());
        }
        request.prompt_variables = Some(variables);
    }
    if let Some((value, path)) = top.optional("requestMetadata") {
        let mut metadata = BTreeMap::new();
        for (key, item) in as_object(value, &path)? {
            metadata.insert(key.clone(), as_str(item, &child(&path, key))?.to_string());
        }
        request.request_metadata = Some(metadata);
    }
    if let Some((value, path)) = top.optional("outputConfig") {
        request.output_config = Some(parse_output_config(value, &path)?);
    }
    if let Some((value, path)) = top.optional("serviceTier") {
        let mut reader = ObjectReader::new(value, &path)?;
        let tier = reader.required_str("type")?;
        let tier_path = child(&path, "type");
        request.service_tier = Some(enum_member(
            tier,
            &tier_path,
            &["priority", "default", "flex", "reserved"],
        )?);
        reader.finish()?;
    }
    top.finish()?;
    Ok(request)
}

fn parse_message(value: &Value, path: &str) -> Result<Message, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    let role_text = reader.required_str("role")?;
    let role = match role_text {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => {
            return Err(ApiError::constraint(
                other,
                &child(path, "role"),
                "satisfy enum value set: [user, assistant]",
            ));
        }
    };
    let (content_value, content_path) = reader.required("content")?;
    let content = as_array(content_value, &content_path)?
        .iter()
        .enumerate()
        .map(|(i, block)| parse_content_block(block, &child(&content_path, i)))
        .collect::<Result<_, _>>()?;
    reader.finish()?;
    Ok(Message { role, content })
}

const CONTENT_MEMBERS: &[&str] = &[
    "text",
    "image",
    "document",
    "video",
    "audio",
    "toolUse",
    "toolResult",
    "guardContent",
    "cachePoint",
    "reasoningContent",
    "citationsContent",
    "searchResult",
    "toolAddition",
    "toolRemoval",
];

fn parse_content_block(value: &Value, path: &str) -> Result<ContentBlock, ApiError> {
    let (member, inner, inner_path) = read_union(value, path, CONTENT_MEMBERS)?;
    Ok(match member {
        "text" => ContentBlock::Text(as_str(inner, &inner_path)?.to_string()),
        "image" => ContentBlock::Image(parse_image(inner, &inner_path)?),
        "document" => ContentBlock::Document(parse_document(inner, &inner_path)?),
        "toolUse" => ContentBlock::ToolUse(parse_tool_use(inner, &inner_path)?),
        "toolResult" => ContentBlock::ToolResult(parse_tool_result(inner, &inner_path)?),
        "guardContent" => ContentBlock::GuardContent(parse_guard_content(inner, &inner_path)?),
        "cachePoint" => ContentBlock::CachePoint {
            one_hour: parse_cache_point(inner, &inner_path)?,
        },
        "reasoningContent" => ContentBlock::Reasoning(parse_reasoning(inner, &inner_path)?),
        "video" => ContentBlock::Video(parse_media(inner, &inner_path, VIDEO_FORMATS, false)?),
        "audio" => ContentBlock::Audio(parse_media(inner, &inner_path, AUDIO_FORMATS, true)?),
        "citationsContent" => ContentBlock::Unsupported("citationsContent"),
        "searchResult" => ContentBlock::Unsupported("searchResult"),
        "toolAddition" => ContentBlock::Unsupported("toolAddition"),
        _ => ContentBlock::Unsupported("toolRemoval"),
    })
}

fn parse_system_block(value: &Value, path: &str) -> Result<SystemBlock, ApiError> {
    let (member, inner, inner_path) =
        read_union(value, path, &["text", "guardContent", "cachePoint"])?;
    Ok(match member {
        "text" => SystemBlock::Text(as_str(inner, &inner_path)?.to_string()),
        "guardContent" => SystemBlock::GuardContent(parse_guard_content(inner, &inner_path)?),
        _ => SystemBlock::CachePoint {
            one_hour: parse_cache_point(inner, &inner_path)?,
        },
    })
}

const IMAGE_FORMATS: &[&str] = &["png", "jpeg", "gif", "webp"];
const DOCUMENT_FORMATS: &[&str] = &[
    "pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md",
];

/// botocore `VideoFormat`.
pub const VIDEO_FORMATS: &[&str] = &[
    "mkv", "mov", "mp4", "webm", "flv", "mpeg", "mpg", "wmv", "three_gp",
];
/// botocore `AudioFormat`.
pub const AUDIO_FORMATS: &[&str] = &[
    "mp3", "opus", "wav", "aac", "flac", "mp4", "ogg", "mkv", "mka", "x-aac", "m4a", "mpeg",
    "mpga", "pcm", "webm",
];

/// A `video` or `audio` block: botocore `VideoBlock`/`AudioBlock` (required `format` and
/// `source`; `AudioBlock` also has an optional `error`, an `ErrorBlock` with a `message`), the
/// source a union of `bytes` (blob, min 1) and `s3Location` (botocore `S3Location`: required
/// `uri` matching `S3Uri`, 1-1024 characters, optional 12-digit `bucketOwner`).
fn parse_media(
    value: &Value,
    path: &str,
    formats: &[&str],
    has_error_member: bool,
) -> Result<Media, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    let format = enum_member(
        reader.required_str("format")?,
        &child(path, "format"),
        formats,
    )?;
    let (source, source_path) = reader.required("source")?;
    let (member, inner, inner_path) = read_union(source, &source_path, &["bytes", "s3Location"])?;
    let source = if member == "bytes" {
        let bytes = as_blob(inner, &inner_path)?;
        if bytes.is_empty() {
            return Err(ApiError::constraint(
                "",
                &inner_path,
                "have length greater than or equal to 1",
            ));
        }
        MediaSource::Bytes(bytes)
    } else {
        MediaSource::S3(parse_s3_location(inner, &inner_path)?)
    };
    if has_error_member && let Some((error, error_path)) = reader.optional("error") {
        let mut error_reader = ObjectReader::new(error, &error_path)?;
        error_reader.optional_str("message")?;
        error_reader.finish()?;
    }
    reader.finish()?;
    Ok(Media { format, source })
}

/// botocore `S3Location`: `uri` (`S3Uri`: `s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?`, 1-1024
/// characters) and an optional `bucketOwner` (`AccountId`: 12 digits).
fn parse_s3_location(value: &Value, path: &str) -> Result<String, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    let uri = reader.required_str("uri")?.to_string();
    let uri_path = child(path, "uri");
    if !is_s3_uri(&uri) {
        return Err(ApiError::constraint(
            &uri,
            &uri_path,
            "satisfy regular expression pattern: s3://[a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9](/.*)?",
        ));
    }
    if let Some(owner) = reader.optional_str("bucketOwner")?
        && !(owner.len() == 12 && owner.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::constraint(
            owner,
            &child(path, "bucketOwner"),
            "satisfy regular expression pattern: [0-9]{12}",
        ));
    }
    reader.finish()?;
    Ok(uri)
}

/// `S3Uri`'s pattern and length, checked by hand.
pub fn is_s3_uri(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("s3://") else {
        return false;
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    uri.len() <= 1024
        && (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| edge(b) || b == b'.' || b == b'-')
        && bucket.bytes().next().is_some_and(edge)
        && bucket.bytes().last().is_some_and(edge)
}

/// Only inline bytes are emulated; an S3 source would need S3.
fn s3_unsupported(path: &str) -> ApiError {
    ApiError::validation(format!(
        "The s3Location source at {path} isn't supported by this emulator. Send the bytes inline and try again."
    ))
}

fn parse_image(value: &Value, path: &str) -> Result<Image, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    let format = enum_member(
        reader.required_str("format")?,
        &child(path, "format"),
        IMAGE_FORMATS,
    )?;
    let (source, source_path) = reader.required("source")?;
    let (member, inner, inner_path) = read_union(source, &source_path, &["bytes", "s3Location"])?;
    if member == "s3Location" {
        return Err(s3_unsupported(&inner_path));
    }
    let bytes = as_blob(inner, &inner_path)?;
    reader.finish()?;
    Ok(Image { format, bytes })
}

fn parse_document(value: &Value, path: &str) -> Result<Document, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    // `format` is optional in botocore's `DocumentBlock` (required: name, source); an absent
    // one is kept as "" and the bytes are then not checked against a format.
    let format = match reader.optional_str("format")? {
        Some(format) => enum_member(format, &child(path, "format"), DOCUMENT_FORMATS)?,
        None => String::new(),
    };
    let name = reader.required_str("name")?.to_string();
    let (source_value, source_path) = reader.required("source")?;
    let (member, inner, inner_path) = read_union(
        source_value,
        &source_path,
        &["bytes", "text", "content", "s3Location"],
    )?;
    let source = match member {
        "bytes" => DocumentSource::Bytes(as_blob(inner, &inner_path)?),
        "text" => DocumentSource::Text(as_str(inner, &inner_path)?.to_string()),
        "content" => {
            let mut parts = Vec::new();
            for (i, part) in as_array(inner, &inner_path)?.iter().enumerate() {
                let (_, text, text_path) = read_union(part, &child(&inner_path, i), &["text"])?;
                parts.push(as_str(text, &text_path)?.to_string());
            }
            DocumentSource::Content(parts)
        }
        _ => return Err(s3_unsupported(&inner_path)),
    };
    reader.optional_str("context")?;
    let mut cites = false;
    if let Some((citations, citations_path)) = reader.optional("citations") {
        let mut citations_reader = ObjectReader::new(citations, &citations_path)?;
        let (enabled, enabled_path) = citations_reader.required("enabled")?;
        cites = as_bool(enabled, &enabled_path)?;
        citations_reader.finish()?;
    }
    reader.finish()?;
    Ok(Document {
        format,
        name,
        source,
        citations: cites,
    })
}

fn parse_tool_use(value: &Value, path: &str) -> Result<ToolUse, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    let id = reader.required_str("toolUseId")?.to_string();
    let name = reader.required_str("name")?.to_string();
    let (input, _) = reader.required("input")?;
    if let Some(kind) = reader.optional_str("type")? {
        enum_member(kind, &child(path, "type"), &["server_tool_use"])?;
    }
    reader.finish()?;
    Ok(ToolUse {
        id,
        name,
        input: input.clone(),
    })
}

fn parse_tool_result(value: &Value, path: &str) -> Result<ToolResult, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    let tool_use_id = reader.required_str("toolUseId")?.to_string();
    let (content_value, content_path) = reader.required("content")?;
    let mut content = Vec::new();
    for (i, block) in as_array(content_value, &content_path)?.iter().enumerate() {
        let block_path = child(&content_path, i);
        let (member, inner, inner_path) = read_union(
            block,
            &block_path,
            &["json", "text", "image", "document", "video", "searchResult"],
        )?;
        content.push(match member {
            "json" => ToolResultContent::Json(inner.clone()),
            "text" => ToolResultContent::Text(as_str(inner, &inner_path)?.to_string()),
            "image" => ToolResultContent::Image(parse_image(inner, &inner_path)?),
            "document" => ToolResultContent::Document(parse_document(inner, &inner_path)?),
            "video" => ToolResultContent::Unsupported("video"),
            _ => ToolResultContent::Unsupported("searchResult"),
        });
    }
    let status = match reader.optional_str("status")? {
        Some(status) => Some(enum_member(
            status,
            &child(path, "status"),
            &["success", "error"],
        )?),
        None => None,
    };
    reader.optional_str("type")?;
    reader.finish()?;
    Ok(ToolResult {
        tool_use_id,
        content,
        status,
    })
}

fn parse_guard_content(value: &Value, path: &str) -> Result<GuardContent, ApiError> {
    let (member, inner, inner_path) = read_union(value, path, &["text", "image"])?;
    if member == "text" {
        let mut reader = ObjectReader::new(inner, &inner_path)?;
        let text = reader.required_str("text")?.to_string();
        if let Some((qualifiers, qualifiers_path)) = reader.optional("qualifiers") {
            for (i, qualifier) in as_array(qualifiers, &qualifiers_path)?.iter().enumerate() {
                let qualifier_path = child(&qualifiers_path, i);
                enum_member(
                    as_str(qualifier, &qualifier_path)?,
                    &qualifier_path,
                    &["grounding_source", "query", "guard_content"],
                )?;
            }
        }
        reader.finish()?;
        return Ok(GuardContent::Text(text));
    }
    let mut reader = ObjectReader::new(inner, &inner_path)?;
    let format = enum_member(
        reader.required_str("format")?,
        &child(&inner_path, "format"),
        &["png", "jpeg"],
    )?;
    let (source, source_path) = reader.required("source")?;
    let (_, bytes, bytes_path) = read_union(source, &source_path, &["bytes"])?;
    let bytes = as_blob(bytes, &bytes_path)?;
    reader.finish()?;
    Ok(GuardContent::Image(Image { format, bytes }))
}

/// Reads a `cachePoint`; true when its `ttl` is `1h`.
fn parse_cache_point(value: &Value, path: &str) -> Result<bool, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    enum_member(
        reader.required_str("type")?,
        &child(path, "type"),
        &["default"],
    )?;
    let mut one_hour = false;
    if let Some(ttl) = reader.optional_str("ttl")? {
        one_hour = enum_member(ttl, &child(path, "ttl"), &["5m", "1h"])? == "1h";
    }
    reader.finish()?;
    Ok(one_hour)
}

fn parse_reasoning(value: &Value, path: &str) -> Result<Reasoning, ApiError> {
    let (member, inner, inner_path) =
        read_union(value, path, &["reasoningText", "redactedContent"])?;
    if member == "redactedContent" {
        return Ok(Reasoning::Redacted(as_blob(inner, &inner_path)?));
    }
    let mut reader = ObjectReader::new(inner, &inner_path)?;
    let text = reader.required_str("text")?.to_string();
    let signature = reader.optional_str("signature")?.map(str::to_string);
    reader.finish()?;
    Ok(Reasoning::Text { text, signature })
}

fn parse_inference_config(value: &Value, path: &str) -> Result<InferenceConfig, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    let mut config = InferenceConfig::default();
    if let Some((value, path)) = reader.optional("maxTokens") {
        config.max_tokens = Some(as_integer(value, &path)?);
    }
    if let Some((value, path)) = reader.optional("temperature") {
        config.temperature = Some(as_number(value, &path)?);
    }
    if let Some((value, path)) = reader.optional("topP") {
        config.top_p = Some(as_number(value, &path)?);
    }
    if let Some((value, path)) = reader.optional("stopSequences") {
        config.stop_sequences = Some(
            as_array(value, &path)?
                .iter()
                .enumerate()
                .map(|(i, item)| as_str(item, &child(&path, i)).map(str::to_string))
                .collect::<Result<_, _>>()?,
        );
    }
    reader.finish()?;
    Ok(config)
}

fn parse_tool_config(value: &Value, path: &str) -> Result<ToolConfig, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    let (tools_value, tools_path) = reader.required("tools")?;
    let mut tools = Vec::new();
    for (i, tool) in as_array(tools_value, &tools_path)?.iter().enumerate() {
        let tool_path = child(&tools_path, i);
        let (member, inner, inner_path) =
            read_union(tool, &tool_path, &["toolSpec", "systemTool", "cachePoint"])?;
        tools.push(match member {
            "toolSpec" => ToolEntry::Spec(parse_tool_spec(inner, &inner_path)?),
            "systemTool" => {
                let mut system_reader = ObjectReader::new(inner, &inner_path)?;
                let name = system_reader.required_str("name")?.to_string();
                system_reader.finish()?;
                ToolEntry::System(name)
            }
            _ => ToolEntry::CachePoint {
                one_hour: parse_cache_point(inner, &inner_path)?,
            },
        });
    }
    let choice = match reader.optional("toolChoice") {
        Some((choice, choice_path)) => Some(parse_tool_choice(choice, &choice_path)?),
        None => None,
    };
    reader.finish()?;
    Ok(ToolConfig { tools, choice })
}

fn parse_tool_spec(value: &Value, path: &str) -> Result<ToolSpec, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    let name = reader.required_str("name")?.to_string();
    let description = reader.optional_str("description")?.map(str::to_string);
    let (schema_value, schema_path) = reader.required("inputSchema")?;
    let (_, schema, _) = read_union(schema_value, &schema_path, &["json"])?;
    if let Some((strict, strict_path)) = reader.optional("strict") {
        as_bool(strict, &strict_path)?;
    }
    reader.finish()?;
    Ok(ToolSpec {
        name,
        description,
        schema: schema.clone(),
    })
}

fn parse_tool_choice(value: &Value, path: &str) -> Result<ToolChoice, ApiError> {
    let (member, inner, inner_path) = read_union(value, path, &["auto", "any", "tool"])?;
    let mut reader = ObjectReader::new(inner, &inner_path)?;
    let choice = match member {
        "auto" => ToolChoice::Auto,
        "any" => ToolChoice::Any,
        _ => ToolChoice::Tool(reader.required_str("name")?.to_string()),
    };
    reader.finish()?;
    Ok(choice)
}

fn parse_guardrail_config(
    value: &Value,
    path: &str,
    operation: Operation,
) -> Result<GuardrailConfig, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    // Optional in botocore's `GuardrailConfiguration` / `GuardrailStreamConfiguration`.
    let identifier = reader
        .optional_str("guardrailIdentifier")?
        .map(str::to_string);
    let version = reader.optional_str("guardrailVersion")?.map(str::to_string);
    if let Some(trace) = reader.optional_str("trace")? {
        enum_member(
            trace,
            &child(path, "trace"),
            &["enabled", "disabled", "enabled_full"],
        )?;
    }
    // Only ConverseStream's guardrail shape has a processing mode.
    if operation == Operation::ConverseStream
        && let Some(mode) = reader.optional_str("streamProcessingMode")?
    {
        enum_member(
            mode,
            &child(path, "streamProcessingMode"),
            &["sync", "async"],
        )?;
    }
    reader.finish()?;
    Ok(GuardrailConfig {
        identifier,
        version,
    })
}

fn parse_output_config(value: &Value, path: &str) -> Result<OutputConfig, ApiError> {
    let mut reader = ObjectReader::new(value, path)?;
    let mut json_schema = None;
    if let Some((format, format_path)) = reader.optional("textFormat") {
        let mut format_reader = ObjectReader::new(format, &format_path)?;
        enum_member(
            format_reader.required_str("type")?,
            &child(&format_path, "type"),
            &["json_schema"],
        )?;
        let (structure, structure_path) = format_reader.required("structure")?;
        let (_, definition, definition_path) =
            read_union(structure, &structure_path, &["jsonSchema"])?;
        let mut definition_reader = ObjectReader::new(definition, &definition_path)?;
        let schema_text = definition_reader.required_str("schema")?.to_string();
        definition_reader.optional_str("name")?;
        definition_reader.optional_str("description")?;
        definition_reader.finish()?;
        format_reader.finish()?;
        json_schema = Some(JsonSchemaFormat { schema_text });
    }
    let effort = reader.optional_str("effort")?.map(str::to_string);
    reader.finish()?;
    Ok(OutputConfig {
        json_schema,
        effort,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_full_request() {
        let body = json!({
            "messages": [
                {"role": "user", "content": [
                    {"text": "hi"},
                    {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}},
                    {"cachePoint": {"type": "default"}}
                ]},
                {"role": "assistant", "content": [
                    {"reasoningContent": {"reasoningText": {"text": "t", "signature": "s"}}},
                    {"toolUse": {"toolUseId": "tooluse_1", "name": "f", "input": {}}}
                ]},
                {"role": "user", "content": [
                    {"toolResult": {"toolUseId": "tooluse_1", "content": [{"json": {"a": 1}}], "status": "success"}}
                ]}
            ],
            "system": [{"text": "be brief"}],
            "inferenceConfig": {"maxTokens": 10, "temperature": 0.5, "stopSequences": ["x"]},
            "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}],
                           "toolChoice": {"auto": {}}},
            "requestMetadata": {"k": "v"}
        });
        let request = parse(&body, Operation::Converse).unwrap();
        assert_eq!(request.messages.len(), 3);
        assert_eq!(request.inference.max_tokens, Some(10));
        assert_eq!(request.tool_config.unwrap().choice, Some(ToolChoice::Auto));
    }

    #[test]
    fn refuses_unknown_members_everywhere() {
        let cases = [
            json!({"messages": [], "extra": 1}),
            json!({"messages": [{"role": "user", "content": [{"text": "x"}], "name": "bob"}]}),
            json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]}),
            json!({"messages": [], "inferenceConfig": {"max_tokens": 1}}),
            json!({"messages": [], "toolConfig": {"tools": [], "toolChoice": {"any": {"x": 1}}}}),
        ];
        for body in cases {
            let error = parse(&body, Operation::Converse).unwrap_err();
            assert!(
                error.message.starts_with("Malformed input request"),
                "{body}: {error}"
            );
        }
    }

    #[test]
    fn stream_processing_mode_is_stream_only() {
        let body = json!({"messages": [], "guardrailConfig": {
            "guardrailIdentifier": "g", "guardrailVersion": "1", "streamProcessingMode": "async"}});
        assert!(parse(&body, Operation::ConverseStream).is_ok());
        assert!(parse(&body, Operation::Converse).is_err());
    }

    #[test]
    fn refuses_bad_enum_values() {
        let body = json!({"messages": [{"role": "system", "content": []}]});
        let error = parse(&body, Operation::Converse).unwrap_err();
        assert!(error.message.contains("at 'messages.0.role'"), "{error}");
    }
}
