//! Reasoning: `reasoning_effort` -> Bedrock thinking settings, and the model's reasoning back as
//! `reasoning_content` (plus signed `thinking_blocks`), both directions side by side.
//!
//! Chat UIs differ in where they look for reasoning: newer ones read `reasoning_content`, older
//! ones (and Open WebUI's collapsible block) `<think>...</think>` at the start of the content.
//! [`ReasoningOutput`] (`REASONING_OUTPUT`, or a request's `reasoning_output`) chooses; the
//! tags are stripped again from assistant turns a client sends back ([`strip_think_tags`]).
//!
//! Claude signs its thinking; a multi-turn conversation with thinking and tools must send the
//! signed blocks back unchanged, so replies carry them in `thinking_blocks` (the convention
//! LiteLLM-style clients use) and assistant turns sent back with them become reasoning blocks.
//!
//! Longer than ~450 lines only because its unit tests live beside the code.

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ReasoningContentBlock, ReasoningContentBlockDelta, ReasoningTextBlock,
};
use base64::Engine;
use serde_json::{Value, json};

use crate::capabilities::{Capabilities, Reasoning};
use crate::error::ApiError;
use crate::openai::chat::{
    AssistantMessage, ChatMessage, Content, Delta, PartKind, Role, ThinkingBlock,
};

/// Bedrock's smallest thinking budget.
pub const MIN_BUDGET: i64 = 1024;
/// `maxTokens` when a client asks for reasoning without a limit.
pub const DEFAULT_MAX_TOKENS_WITH_THINKING: i64 = 16_384;

/// The thinking settings of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct ReasoningPlan {
    /// The `additionalModelRequestFields` entry that sets the reasoning.
    pub field: &'static str,
    pub value: Value,
    /// A second entry some forms need: `output_config` with the effort of adaptive thinking.
    pub extra: Option<(&'static str, Value)>,
    /// `maxTokens` to send, when the reasoning changes it: thinking tokens count against it,
    /// so it must exceed the budget.
    pub max_tokens: Option<i64>,
}

/// Every `reasoning_effort` OpenAI's SDK sends, from least to most.
pub const EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh", "max"];

/// `reasoning_effort` -> the model's reasoning setting (the README's *Reasoning* table).
///
/// - Budget models (Claude 3.7 to 4.5): `none` thinks not at all; otherwise a thinking budget
///   that is a share of `max_tokens` (minimal: the 1024 floor, low 25%, medium 50%, high 80%,
///   xhigh 90%, max 95%); when that leaves no room for the answer, the client's `max_tokens` is
///   kept for the answer and the budget is added on top.
/// - Adaptive models (Claude Opus 4.6, Sonnet 4.6, Opus 4.7 and later): `none` sends no
///   thinking; otherwise `thinking: {"type": "adaptive"}` and `output_config.effort`, with
///   `minimal` read as `low` and a level the model lacks lowered to the nearest it has.
/// - Effort models (gpt-oss): `reasoning_effort` low, medium or high; `none` and `minimal`
///   become `low` (gpt-oss always reasons), `xhigh` and `max` become `high`.
pub fn reasoning_plan(
    effort: Option<&str>,
    max_tokens: Option<i64>,
    caps: &Capabilities,
) -> Result<Option<ReasoningPlan>, ApiError> {
    let Some(effort) = effort else {
        return Ok(None);
    };
    let share = match effort {
        "none" | "minimal" => 0.0,
        "low" => 0.25,
        "medium" => 0.5,
        "high" => 0.8,
        "xhigh" => 0.9,
        "max" => 0.95,
        other => {
            return Err(ApiError::invalid_param(
                "reasoning_effort",
                format!(
                    "`reasoning_effort` must be one of {}; got `{other}`.",
                    EFFORTS.join(", ")
                ),
            ));
        }
    };
    match caps.reasoning {
        Reasoning::Budget if effort != "none" => {
            let mut max = max_tokens.unwrap_or(DEFAULT_MAX_TOKENS_WITH_THINKING);
            let budget = ((max as f64 * share) as i64).max(MIN_BUDGET);
            if budget >= max {
                max += budget;
            }
            Ok(Some(ReasoningPlan {
                field: "thinking",
                value: json!({"type": "enabled", "budget_tokens": budget}),
                extra: None,
                max_tokens: Some(max),
            }))
        }
        Reasoning::Adaptive(levels) if effort != "none" => Ok(Some(ReasoningPlan {
            field: "thinking",
            value: json!({"type": "adaptive"}),
            extra: Some((
                "output_config",
                json!({"effort": nearest_level(effort, levels)}),
            )),
            max_tokens: None,
        })),
        Reasoning::Effort => Ok(Some(ReasoningPlan {
            field: "reasoning_effort",
            value: json!(nearest_level(effort, &["low", "medium", "high"])),
            extra: None,
            max_tokens: None,
        })),
        // The others always reason without a setting (DeepSeek R1) or never reason.
        _ => Ok(None),
    }
}

/// The highest of `levels` (ordered as [`EFFORTS`]) not above `effort`, or the lowest level.
fn nearest_level(effort: &str, levels: &'static [&'static str]) -> &'static str {
    let rank = |level: &str| EFFORTS.iter().position(|e| *e == level).unwrap_or(0);
    levels
        .iter()
        .rev()
        .find(|level| rank(level) <= rank(effort))
        .or(levels.first())
        .copied()
        .unwrap_or("low")
}

/// Whether the last assistant turn made tool calls but came back without its signed reasoning
/// (many clients drop fields they do not know, such as `thinking_blocks`).
pub fn pending_tool_turn_lacks_reasoning(messages: &[ChatMessage]) -> bool {
    messages
        .iter()
        .rev()
        .find(|m| m.role == Role::Assistant)
        .is_some_and(|m| {
            let calls_tools =
                m.tool_calls.as_ref().is_some_and(|c| !c.is_empty()) || m.function_call.is_some();
            calls_tools && m.thinking_blocks.as_ref().is_none_or(|b| b.is_empty())
        })
}

/// Whether `additionalModelRequestFields` (from the client or from a plan) turns thinking on.
pub fn thinking_enabled(fields: &serde_json::Map<String, Value>) -> bool {
    fields
        .get("thinking")
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t == "enabled" || t == "adaptive")
}

/// History: a thinking block sent back by the client -> a Converse reasoning block.
pub fn reasoning_block(block: &ThinkingBlock, param: &str) -> Result<ContentBlock, ApiError> {
    let content = match block {
        ThinkingBlock::Thinking {
            thinking,
            signature,
        } => ReasoningContentBlock::ReasoningText(
            ReasoningTextBlock::builder()
                .text(thinking)
                .set_signature(signature.clone())
                .build()
                .map_err(|e| ApiError::invalid_param(param, e.to_string()))?,
        ),
        ThinkingBlock::RedactedThinking { data } => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| {
                    ApiError::invalid_param(
                        param,
                        format!("`{param}.data` is not valid base64 ({e})."),
                    )
                })?;
            ReasoningContentBlock::RedactedContent(Blob::new(bytes))
        }
    };
    Ok(ContentBlock::ReasoningContent(content))
}

/// Reply: a Converse reasoning block -> its readable text and the block to hand back later.
pub fn thinking_block(block: &ReasoningContentBlock) -> Option<(Option<&str>, ThinkingBlock)> {
    match block {
        ReasoningContentBlock::ReasoningText(text) => Some((
            Some(text.text.as_str()),
            ThinkingBlock::Thinking {
                thinking: text.text.clone(),
                signature: text.signature.clone(),
            },
        )),
        ReasoningContentBlock::RedactedContent(blob) => Some((
            None,
            ThinkingBlock::RedactedThinking {
                data: base64::engine::general_purpose::STANDARD.encode(blob.as_ref()),
            },
        )),
        _ => None,
    }
}

/// Stream: a reasoning delta -> the chunk delta that carries it. `block_text` is the reasoning
/// text streamed so far in this block: the signature arrives last, and goes out as a complete
/// thinking block (text and signature) that the client can send back as it is.
pub fn reasoning_delta(delta: &ReasoningContentBlockDelta, block_text: &str) -> Option<Delta> {
    match delta {
        ReasoningContentBlockDelta::Text(text) => Some(Delta {
            reasoning_content: Some(text.clone()),
            ..Delta::default()
        }),
        ReasoningContentBlockDelta::Signature(signature) => Some(Delta {
            thinking_blocks: Some(vec![ThinkingBlock::Thinking {
                thinking: block_text.to_string(),
                signature: Some(signature.clone()),
            }]),
            ..Delta::default()
        }),
        ReasoningContentBlockDelta::RedactedContent(blob) => Some(Delta {
            thinking_blocks: Some(vec![ThinkingBlock::RedactedThinking {
                data: base64::engine::general_purpose::STANDARD.encode(blob.as_ref()),
            }]),
            ..Delta::default()
        }),
        _ => None,
    }
}

/// Where chat completions put the model's readable reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningOutput {
    /// In `reasoning_content` (and `delta.reasoning_content`), apart from the answer.
    ReasoningContent,
    /// In the content, before the answer, as `<think>\n...\n</think>\n\n`.
    ThinkTags,
    /// In both places.
    Both,
}

/// What opens reasoning in the content.
pub const THINK_OPEN: &str = "<think>\n";
/// What closes it, before the answer.
pub const THINK_CLOSE: &str = "\n</think>\n\n";

impl ReasoningOutput {
    /// `reasoning_content`, `think_tags` or `both` (any case).
    pub fn parse(value: &str) -> Option<ReasoningOutput> {
        match value.trim().to_ascii_lowercase().as_str() {
            "reasoning_content" => Some(ReasoningOutput::ReasoningContent),
            "think_tags" => Some(ReasoningOutput::ThinkTags),
            "both" => Some(ReasoningOutput::Both),
            _ => None,
        }
    }

    /// A request's `reasoning_output`, or `default` (the `REASONING_OUTPUT` setting).
    pub fn for_request(
        requested: Option<&str>,
        default: ReasoningOutput,
    ) -> Result<Self, ApiError> {
        match requested {
            None => Ok(default),
            Some(value) => ReasoningOutput::parse(value).ok_or_else(|| {
                ApiError::invalid_param(
                    "reasoning_output",
                    format!(
                        "`reasoning_output` must be reasoning_content, think_tags or both; got `{value}`."
                    ),
                )
            }),
        }
    }

    fn in_field(self) -> bool {
        self != ReasoningOutput::ThinkTags
    }

    fn in_tags(self) -> bool {
        self != ReasoningOutput::ReasoningContent
    }
}

/// Reply: puts the message's reasoning where `mode` says (the content gets it in tags, before
/// the answer).
pub fn place_reasoning(message: &mut AssistantMessage, mode: ReasoningOutput) {
    if !mode.in_tags() {
        return;
    }
    let Some(reasoning) = message.reasoning_content.take() else {
        return;
    };
    if !reasoning.is_empty() {
        let answer = message.content.take().unwrap_or_default();
        message.content = Some(format!("{THINK_OPEN}{reasoning}{THINK_CLOSE}{answer}"));
    }
    if mode.in_field() {
        message.reasoning_content = Some(reasoning);
    }
}

/// Stream: reasoning deltas as `mode` wants them, with the `<think>` tag opened before the
/// first and closed ([`ThinkTagStream::close`]) before anything else is sent.
#[derive(Debug)]
pub struct ThinkTagStream {
    mode: ReasoningOutput,
    open: bool,
}

impl ThinkTagStream {
    pub fn new(mode: ReasoningOutput) -> Self {
        ThinkTagStream { mode, open: false }
    }

    /// A delta made by [`reasoning_delta`] -> the delta to send.
    pub fn reasoning(&mut self, mut delta: Delta) -> Delta {
        if !self.mode.in_tags() {
            return delta;
        }
        if let Some(text) = delta.reasoning_content.as_deref().filter(|t| !t.is_empty()) {
            let open = if self.open { "" } else { THINK_OPEN };
            delta.content = Some(format!("{open}{text}"));
            self.open = true;
        }
        if !self.mode.in_field() {
            delta.reasoning_content = None;
        }
        delta
    }

    /// The closing tag, once, if reasoning is open in the content.
    pub fn close(&mut self) -> Option<String> {
        std::mem::take(&mut self.open).then(|| THINK_CLOSE.to_string())
    }
}

/// History: an assistant turn sent back with our `<think>` block leading its text has that
/// block removed; the model gets its reasoning back only as reasoning (`thinking_blocks`).
pub fn strip_think_tags(messages: &mut [ChatMessage]) {
    for message in messages.iter_mut().filter(|m| m.role == Role::Assistant) {
        let text = match &mut message.content {
            Some(Content::Text(text)) => text,
            Some(Content::Parts(parts)) => match parts.first_mut().map(|p| &mut p.kind) {
                Some(PartKind::Text { text }) => text,
                _ => continue,
            },
            None => continue,
        };
        let trimmed = text.trim_start();
        if let Some(inner) = trimmed.strip_prefix("<think>")
            && let Some((_, answer)) = inner.split_once("</think>")
        {
            *text = answer.trim_start().to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::capabilities;

    #[test]
    fn budget_is_a_share_of_max_tokens_with_a_floor() {
        let caps = capabilities("anthropic.claude-3-7-sonnet-20250219-v1:0");
        let plan = reasoning_plan(Some("medium"), Some(8000), &caps)
            .unwrap()
            .unwrap();
        assert_eq!(plan.value["budget_tokens"], 4000);
        assert_eq!(plan.max_tokens, Some(8000));
        let plan = reasoning_plan(Some("low"), Some(500), &caps)
            .unwrap()
            .unwrap();
        assert_eq!(plan.value["budget_tokens"], 1024);
        assert_eq!(plan.max_tokens, Some(1524));
        let plan = reasoning_plan(Some("high"), None, &caps).unwrap().unwrap();
        assert!(plan.value["budget_tokens"].as_i64() < plan.max_tokens);
        let gpt_oss = capabilities("openai.gpt-oss-120b-1:0");
        let plan = reasoning_plan(Some("minimal"), None, &gpt_oss)
            .unwrap()
            .unwrap();
        assert_eq!(
            (plan.field, plan.value.clone(), plan.max_tokens),
            ("reasoning_effort", json!("low"), None)
        );
    }

    #[test]
    fn other_models_and_bad_values() {
        let nova = capabilities("amazon.nova-lite-v1:0");
        assert_eq!(reasoning_plan(Some("high"), None, &nova).unwrap(), None);
        let err = reasoning_plan(Some("extreme"), None, &nova).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("reasoning_effort"));
        for effort in EFFORTS {
            assert!(
                reasoning_plan(Some(effort), None, &nova).is_ok(),
                "{effort}"
            );
        }
    }

    #[test]
    fn every_effort_maps_per_family() {
        let plan = |effort: &str, model: &str| {
            reasoning_plan(Some(effort), Some(10_000), &capabilities(model)).unwrap()
        };
        let opus_4_7 = "us.anthropic.claude-opus-4-7";
        let opus_4_6 = "us.anthropic.claude-opus-4-6-v1";
        let sonnet_4_5 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
        let effort_of =
            |p: Option<ReasoningPlan>| p.and_then(|p| p.extra).map(|(_, v)| v["effort"].clone());
        assert_eq!(plan("none", opus_4_7), None);
        assert_eq!(plan("none", sonnet_4_5), None);
        let adaptive = plan("high", opus_4_7).unwrap();
        assert_eq!(adaptive.value, json!({"type": "adaptive"}));
        assert_eq!(adaptive.max_tokens, None);
        assert_eq!(effort_of(plan("minimal", opus_4_7)), Some(json!("low")));
        assert_eq!(effort_of(plan("xhigh", opus_4_7)), Some(json!("xhigh")));
        assert_eq!(effort_of(plan("xhigh", opus_4_6)), Some(json!("high")));
        assert_eq!(effort_of(plan("max", opus_4_6)), Some(json!("max")));
        assert_eq!(
            effort_of(plan("max", "anthropic.claude-sonnet-4-6")),
            Some(json!("high"))
        );
        assert_eq!(
            plan("max", sonnet_4_5).unwrap().value["budget_tokens"],
            9500
        );
        assert_eq!(
            plan("xhigh", sonnet_4_5).unwrap().value["budget_tokens"],
            9000
        );
        let gpt_oss = |effort| plan(effort, "openai.gpt-oss-20b-1:0").unwrap().value;
        assert_eq!(gpt_oss("none"), json!("low"));
        assert_eq!(gpt_oss("max"), json!("high"));
        assert_eq!(plan("high", "us.deepseek.r1-v1:0"), None);
    }

    #[test]
    fn signed_blocks_round_trip() {
        let sent = ThinkingBlock::Thinking {
            thinking: "hmm".into(),
            signature: Some("sig".into()),
        };
        let ContentBlock::ReasoningContent(block) = reasoning_block(&sent, "p").unwrap() else {
            panic!()
        };
        let (text, back) = thinking_block(&block).unwrap();
        assert_eq!(text, Some("hmm"));
        assert_eq!(back, sent);
        let redacted = ThinkingBlock::RedactedThinking {
            data: "AAEC".into(),
        };
        let ContentBlock::ReasoningContent(block) = reasoning_block(&redacted, "p").unwrap() else {
            panic!()
        };
        assert_eq!(thinking_block(&block).unwrap().1, redacted);
    }

    fn reply(reasoning: Option<&str>, content: Option<&str>) -> AssistantMessage {
        AssistantMessage {
            role: "assistant".into(),
            content: content.map(str::to_string),
            reasoning_content: reasoning.map(str::to_string),
            ..AssistantMessage::default()
        }
    }

    #[test]
    fn reasoning_goes_where_the_mode_says() {
        let mut m = reply(Some("hmm"), Some("Hi"));
        place_reasoning(&mut m, ReasoningOutput::ReasoningContent);
        assert_eq!(m, reply(Some("hmm"), Some("Hi")));
        place_reasoning(&mut m, ReasoningOutput::ThinkTags);
        assert_eq!(m, reply(None, Some("<think>\nhmm\n</think>\n\nHi")));
        let mut m = reply(Some("hmm"), None);
        place_reasoning(&mut m, ReasoningOutput::Both);
        assert_eq!(m, reply(Some("hmm"), Some("<think>\nhmm\n</think>\n\n")));
        let mut m = reply(None, Some("Hi"));
        place_reasoning(&mut m, ReasoningOutput::ThinkTags);
        assert_eq!(m, reply(None, Some("Hi")), "no reasoning, no tags");
    }

    #[test]
    fn streamed_tags_open_once_and_close_once() {
        let mut tags = ThinkTagStream::new(ReasoningOutput::ThinkTags);
        let text =
            |t: &str| reasoning_delta(&ReasoningContentBlockDelta::Text(t.into()), "").unwrap();
        let first = tags.reasoning(text("a"));
        assert_eq!(
            (first.content.as_deref(), first.reasoning_content),
            (Some("<think>\na"), None)
        );
        assert_eq!(tags.reasoning(text("b")).content.as_deref(), Some("b"));
        assert_eq!(tags.close().as_deref(), Some(THINK_CLOSE));
        assert_eq!(tags.close(), None);
        let mut both = ThinkTagStream::new(ReasoningOutput::Both);
        let d = both.reasoning(text("a"));
        assert_eq!(
            (d.content.as_deref(), d.reasoning_content.as_deref()),
            (Some("<think>\na"), Some("a"))
        );
        let mut field = ThinkTagStream::new(ReasoningOutput::ReasoningContent);
        let d = field.reasoning(text("a"));
        assert_eq!(
            (d.content, d.reasoning_content.as_deref()),
            (None, Some("a"))
        );
        assert_eq!(field.close(), None);
    }

    #[test]
    fn modes_parse_and_a_bad_request_value_is_a_400() {
        assert_eq!(
            ReasoningOutput::parse("Think_Tags"),
            Some(ReasoningOutput::ThinkTags)
        );
        assert_eq!(
            ReasoningOutput::for_request(None, ReasoningOutput::Both).unwrap(),
            ReasoningOutput::Both
        );
        let err = ReasoningOutput::for_request(Some("tags"), ReasoningOutput::Both).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("reasoning_output"));
    }

    #[test]
    fn think_blocks_sent_back_are_stripped() {
        let mut messages = vec![
            ChatMessage::new(Role::User, "<think>\nkeep user text\n</think>\n\nq"),
            ChatMessage::new(
                Role::Assistant,
                "<think>\nold reasoning\n</think>\n\nThe answer",
            ),
            ChatMessage::new(Role::Assistant, "No tags <think>x</think>"),
        ];
        strip_think_tags(&mut messages);
        let text = |m: &ChatMessage| match &m.content {
            Some(Content::Text(t)) => t.clone(),
            _ => panic!(),
        };
        assert!(text(&messages[0]).starts_with("<think>"));
        assert_eq!(text(&messages[1]), "The answer");
        assert_eq!(text(&messages[2]), "No tags <think>x</think>");
    }
}
