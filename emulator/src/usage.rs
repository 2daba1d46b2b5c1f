//! Token usage of a request and its reply, with Bedrock's semantics:
//! `inputTokens` leaves out tokens read from or written to the prompt cache,
//! and `totalTokens` adds them back.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::prompt_cache::{CacheUsage, Checkpoint};
use crate::reply::OutputBlock;
use crate::request::{
    ContentBlock, ConverseRequest, DocumentSource, GuardContent, MediaSource, Reasoning,
    SystemBlock, ToolEntry, ToolResultContent,
};
use crate::tokens;

/// The prompt as the cache sees it: total tokens and where the cache
/// points fall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptProfile {
    pub tokens: u64,
    pub checkpoints: Vec<Checkpoint>,
}

/// Walks the prompt in the order the model reads it (tools, system,
/// messages), counting tokens and digesting the prefix at each cache point.
struct ProfileBuilder {
    hasher: Sha256,
    tokens: u64,
    checkpoints: Vec<Checkpoint>,
}

impl ProfileBuilder {
    fn feed(&mut self, tag: &str, parts: &[&[u8]], tokens: u64) {
        self.hasher.update(tag.as_bytes());
        for part in parts {
            // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
            self.hasher.update((part.len() as u64).to_le_bytes());
            self.hasher.update(part);
        }
        self.tokens += tokens;
    }

    fn checkpoint(&mut self) {
        let digest = self.hasher.clone().finalize();
        let key = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        self.checkpoints.push(Checkpoint {
            key,
            tokens_before: self.tokens,
        });
    }

    fn feed_block(&mut self, block: &ContentBlock) {
        match block {
            ContentBlock::Text(text) => self.feed("text", &[text.as_bytes()], tokens::count(text)),
            ContentBlock::GuardContent(GuardContent::Text(text)) => {
                self.feed("guard", &[text.as_bytes()], tokens::count(text))
            }
            ContentBlock::GuardContent(GuardContent::Image(image)) | ContentBlock::Image(image) => {
                self.feed("image", &[image.format.as_bytes(), &image.bytes], 0)
            }
            ContentBlock::Document(document) => {
                self.feed_document(&document.format, &document.name, &document.source)
            }
            ContentBlock::ToolUse(tool_use) => {
                let input = tool_use.input.to_string();
                self.feed(
                    "toolUse",
                    &[
                        tool_use.id.as_bytes(),
                        tool_use.name.as_bytes(),
                        input.as_bytes(),
                    ],
                    1 + tokens::count(&input),
                );
            }
            ContentBlock::ToolResult(result) => {
                self.feed("toolResult", &[result.tool_use_id.as_bytes()], 0);
                for content in &result.content {
                    match content {
                        ToolResultContent::Text(text) => {
                            self.feed("text", &[text.as_bytes()], tokens::count(text))
                        }
                        ToolResultContent::Json(value) => {
                            let json = value.to_string();
                            self.feed("json", &[json.as_bytes()], tokens::count(&json));
                        }
                        ToolResultContent::Image(image) => {
                            self.feed("image", &[image.format.as_bytes(), &image.bytes], 0)
                        }
                        ToolResultContent::Document(document) => {
                            self.feed_document(&document.format, &document.name, &document.source)
                        }
                        ToolResultContent::Unsupported(kind) => {
                            self.feed("unsupported", &[kind.as_bytes()], 0)
                        }
                    }
                }
            }
            ContentBlock::Reasoning(Reasoning::Text { text, .. }) => {
                self.feed("reasoning", &[text.as_bytes()], tokens::count(text))
            }
            ContentBlock::Reasoning(Reasoning::Redacted(blob)) => self.feed("redacted", &[blob], 0),
            ContentBlock::Video(media) | ContentBlock::Audio(media) => {
                let source: &[u8] = match &media.source {
                    MediaSource::Bytes(bytes) => bytes,
                    MediaSource::S3(uri) => uri.as_bytes(),
                };
                self.feed("media", &[media.format.as_bytes(), source], 0)
            }
            ContentBlock::CachePoint { .. } => self.checkpoint(),
            ContentBlock::Unsupported(kind) => self.feed("unsupported", &[kind.as_bytes()], 0),
        }
    }

    fn feed_document(&mut self, format: &str, name: &str, source: &DocumentSource) {
        match source {
            DocumentSource::Bytes(bytes) => {
                self.feed("document", &[format.as_bytes(), name.as_bytes(), bytes], 0)
            }
            DocumentSource::Text(text) => self.feed(
                "document",
                &[format.as_bytes(), name.as_bytes(), text.as_bytes()],
                tokens::count(text),
            ),
            DocumentSource::Content(parts) => {
                self.feed("document", &[format.as_bytes(), name.as_bytes()], 0);
                for part in parts {
                    self.feed("part", &[part.as_bytes()], tokens::count(part));
                }
            }
        }
    }
}

/// Counts the prompt's tokens and locates its cache points.
pub fn profile_prompt(request: &ConverseRequest, model_id: &str) -> PromptProfile {
    let mut builder = ProfileBuilder {
        hasher: Sha256::new(),
        tokens: 0,
        checkpoints: Vec::new(),
    };
    builder.feed("model", &[model_id.as_bytes()], 0);
    if let Some(config) = &request.tool_config {
        for tool in &config.tools {
            match tool {
                ToolEntry::Spec(spec) => {
                    let description = spec.description.as_deref().unwrap_or("");
                    let schema = spec.schema.to_string();
                    builder.feed(
                        "tool",
                        &[
                            spec.name.as_bytes(),
                            description.as_bytes(),
                            schema.as_bytes(),
                        ],
                        tokens::count(&spec.name) + tokens::count(description),
                    );
                }
                ToolEntry::System(name) => builder.feed("systemTool", &[name.as_bytes()], 0),
                ToolEntry::CachePoint { .. } => builder.checkpoint(),
            }
        }
    }
    for block in &request.system {
        match block {
            SystemBlock::Text(text) | SystemBlock::GuardContent(GuardContent::Text(text)) => {
                builder.feed("system", &[text.as_bytes()], tokens::count(text))
            }
            SystemBlock::GuardContent(GuardContent::Image(image)) => {
                builder.feed("image", &[image.format.as_bytes(), &image.bytes], 0)
            }
            SystemBlock::CachePoint { .. } => builder.checkpoint(),
        }
    }
    for message in &request.messages {
        builder.feed("message", &[message.role.as_str().as_bytes()], 0);
        for block in &message.content {
            builder.feed_block(block);
        }
    }
    PromptProfile {
        tokens: builder.tokens,
        checkpoints: builder.checkpoints,
    }
}

/// Tokens (words) of the reply.
pub fn output_tokens(blocks: &[OutputBlock]) -> u64 {
    blocks
        .iter()
        .map(|block| match block {
            OutputBlock::Reasoning { text, .. }
            | OutputBlock::Text(text)
            | OutputBlock::Cited { text, .. } => tokens::count(text),
            OutputBlock::RedactedReasoning(_) => 0,
            OutputBlock::ToolUse { input, .. } => 1 + tokens::count(&input.to_string()),
        })
        .sum()
}

/// The `usage` member of a Converse response or stream metadata event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    /// Present when the request had cache points.
    pub cache: Option<CacheUsage>,
}

impl Usage {
    pub fn new(profile: &PromptProfile, cache: CacheUsage, output: u64) -> Self {
        Usage {
            input: profile.tokens.saturating_sub(cache.read + cache.write),
            output,
            cache: (!profile.checkpoints.is_empty()).then_some(cache),
        }
    }

    pub fn total(self) -> u64 {
        let cached = self.cache.map_or(0, |cache| cache.read + cache.write);
        self.input + self.output + cached
    }

    pub fn to_json(self) -> Value {
        let mut usage = json!({
            "inputTokens": self.input,
            "outputTokens": self.output,
            "totalTokens": self.total(),
        });
        if let Some(cache) = self.cache {
            usage["cacheReadInputTokens"] = json!(cache.read);
            usage["cacheWriteInputTokens"] = json!(cache.write);
        }
        usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Operation, parse};

    fn profile(body: Value) -> PromptProfile {
        profile_prompt(&parse(&body, Operation::Converse).unwrap(), "m")
    }

    #[test]
    fn counts_system_messages_and_tools() {
        let profile = profile(json!({
            "system": [{"text": "be very brief"}],
            "messages": [{"role": "user", "content": [{"text": "hello there"}]}],
            "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "description": "Get the weather",
                                                    "inputSchema": {"json": {"type": "object"}}}}]}
        }));
        assert_eq!(profile.tokens, 3 + 2 + 1 + 3);
        assert!(profile.checkpoints.is_empty());
    }

    #[test]
    fn checkpoints_record_the_prefix() {
        let body = json!({
            "system": [{"text": "one two three"}, {"cachePoint": {"type": "default"}}],
            "messages": [{"role": "user", "content": [{"text": "four five"}, {"cachePoint": {"type": "default"}}, {"text": "six"}]}]
        });
        let first = profile(body.clone());
        assert_eq!(first.tokens, 6);
        let befores: Vec<u64> = first.checkpoints.iter().map(|c| c.tokens_before).collect();
        assert_eq!(befores, [3, 5]);
        assert_eq!(first, profile(body));
    }

    #[test]
    fn totals_include_cache_tokens() {
        let usage = Usage {
            input: 3,
            output: 2,
            cache: Some(CacheUsage { read: 10, write: 5 }),
        };
        assert_eq!(usage.total(), 20);
        assert_eq!(usage.to_json()["cacheReadInputTokens"], 10);
    }
}
