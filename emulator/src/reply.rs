//! The deterministic "model": decides what the assistant answers from the
//! request and its markers, so tests can predict every byte.
//!
//! The answer echoes the last user turn, calls tools when asked to, reasons
//! when the model reasons, and honours stop sequences and `maxTokens`.

use serde_json::{Value, json};

use crate::catalog::{ReasoningKind, ResolvedModel};
use crate::markers::{Echo, Markers};
use crate::request::{
    ContentBlock, ConverseRequest, Document, DocumentSource, GuardContent, Image, Media,
    MediaSource, Role, SystemBlock, ToolChoice, ToolResultContent,
};
use crate::schema_fill;
use crate::signing;
use crate::tokens;
use crate::validate::Facts;

/// What a guardrail answers in place of the model.
pub const GUARDRAIL_MESSAGE: &str = "Sorry, the model cannot answer this question.";
/// The reply when there is nothing to echo.
const EMPTY_REPLY: &str = "OK";

/// One content block of the assistant's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputBlock {
    Reasoning {
        text: String,
        signature: Option<String>,
    },
    RedactedReasoning(Vec<u8>),
    Text(String),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    /// Text backed by a document (botocore `CitationsContentBlock`: `content`, a list of
    /// generated text, and `citations`).
    Cited {
        text: String,
        citation: Citation,
    },
}

/// One citation (botocore `Citation`): the document's name as `title`, the quoted text, and
/// where it is (`CitationLocation`: `documentChar` for text, `documentPage` for a PDF).
#[derive(Debug, Clone, PartialEq)]
pub struct Citation {
    pub title: String,
    pub quoted: Option<String>,
    pub document_index: usize,
    pub location: CitationPlace,
}

/// The `CitationLocation` member a citation uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CitationPlace {
    /// Characters `start..end` of a text document.
    Chars { start: usize, end: usize },
    /// Pages `start..end` of a PDF.
    Pages { start: usize, end: usize },
}

impl Citation {
    /// The `Citation` (or, in a stream, `CitationsDelta`) JSON; both have the same members.
    pub fn to_json(&self) -> Value {
        let (member, start, end) = match self.location {
            CitationPlace::Chars { start, end } => ("documentChar", start, end),
            CitationPlace::Pages { start, end } => ("documentPage", start, end),
        };
        let mut citation = json!({
            "title": self.title,
            "location": {
                member: { "documentIndex": self.document_index, "start": start, "end": end }
            },
        });
        if let Some(quoted) = &self.quoted {
            citation["sourceContent"] = json!([{ "text": quoted }]);
        }
        citation
    }
}

/// Characters of a text document quoted by the emulated citation.
const QUOTED_CHARS: usize = 40;

/// The citation of the first document in the request with `citations.enabled`, for a model
/// that cites. `documentIndex` counts the request's documents in order (botocore
/// `DocumentCharLocation.documentIndex`: "The index of the document within the array of
/// documents provided in the request").
fn first_citation(request: &ConverseRequest, resolved: &ResolvedModel) -> Option<Citation> {
    if !resolved.capabilities.citations {
        return None;
    }
    let documents = request
        .messages
        .iter()
        .flat_map(|message| message.content.iter())
        .filter_map(|block| match block {
            ContentBlock::Document(document) => Some(document),
            _ => None,
        });
    let (index, document) = documents.enumerate().find(|(_, d)| d.citations)?;
    let text = match &document.source {
        DocumentSource::Text(text) => Some(text.clone()),
        DocumentSource::Content(parts) => Some(parts.join("")),
        DocumentSource::Bytes(bytes) if document.format != "pdf" => {
            std::str::from_utf8(bytes).ok().map(str::to_string)
        }
        DocumentSource::Bytes(_) => None,
    };
    let (quoted, location) = match text {
        Some(text) => {
            let quoted: String = text.chars().take(QUOTED_CHARS).collect();
            let end = quoted.chars().count();
            (Some(quoted), CitationPlace::Chars { start: 0, end })
        }
        None => (None, CitationPlace::Pages { start: 1, end: 2 }),
    };
    Some(Citation {
        title: document.name.clone(),
        quoted,
        document_index: index,
        location,
    })
}

/// Why the model stopped, as Bedrock names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    EndTurn,
    ToolUse,
    MaxTokens,
    StopSequence,
    GuardrailIntervened,
    ContentFiltered,
    /// botocore `StopReason` values the emulator produces only on request (`[[stop:...]]`).
    MalformedModelOutput,
    MalformedToolUse,
    ModelContextWindowExceeded,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::EndTurn => "end_turn",
            StopReason::ToolUse => "tool_use",
            StopReason::MaxTokens => "max_tokens",
            StopReason::StopSequence => "stop_sequence",
            StopReason::GuardrailIntervened => "guardrail_intervened",
            StopReason::ContentFiltered => "content_filtered",
            StopReason::MalformedModelOutput => "malformed_model_output",
            StopReason::MalformedToolUse => "malformed_tool_use",
            StopReason::ModelContextWindowExceeded => "model_context_window_exceeded",
        }
    }
}

/// The assistant's whole answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub blocks: Vec<OutputBlock>,
    pub stop_reason: StopReason,
    /// The stop sequence that ended the answer, if one did.
    pub stop_sequence: Option<String>,
}

/// Everything the reply depends on.
pub struct ReplyInput<'a> {
    pub request: &'a ConverseRequest,
    pub resolved: &'a ResolvedModel,
    pub facts: &'a Facts,
    pub markers: &'a Markers,
    /// The last user turn rendered as text, markers removed.
    pub echoed: &'a str,
    /// The request body exactly as received (for `[[echo:request]]`).
    pub body: &'a Value,
}

/// Renders the last user turn as the echo text, collecting its markers.
pub fn echo_last_user_turn(request: &ConverseRequest, markers: &mut Markers) -> String {
    let Some(turn) = request
        .messages
        .iter()
        .rev()
        .find(|message| message.role == Role::User)
    else {
        return String::new();
    };
    let mut parts: Vec<String> = Vec::new();
    for block in &turn.content {
        let part = match block {
            ContentBlock::Text(text) | ContentBlock::GuardContent(GuardContent::Text(text)) => {
                markers.scan_user_text(text)
            }
            ContentBlock::Image(image) | ContentBlock::GuardContent(GuardContent::Image(image)) => {
                describe_image(image)
            }
            ContentBlock::Document(document) => describe_document(document),
            ContentBlock::Video(media) => describe_media("video", media),
            ContentBlock::Audio(media) => describe_media("audio", media),
            ContentBlock::ToolResult(result) => {
                let contents: Vec<String> = result
                    .content
                    .iter()
                    .map(|content| describe_tool_result_content(content, markers))
                    .collect();
                format!(
                    "[toolResult {}: {}]",
                    result.tool_use_id,
                    contents.join(" ")
                )
            }
            _ => continue,
        };
        if !part.is_empty() {
            parts.push(part);
        }
    }
    parts.join(" ")
}

fn describe_image(image: &Image) -> String {
    format!("[image {} {} bytes]", image.format, image.bytes.len())
}

fn describe_media(kind: &str, media: &Media) -> String {
    match &media.source {
        MediaSource::Bytes(bytes) => format!("[{kind} {} {} bytes]", media.format, bytes.len()),
        MediaSource::S3(uri) => format!("[{kind} {} {uri}]", media.format),
    }
}

fn describe_document(document: &Document) -> String {
    let size = match &document.source {
        DocumentSource::Bytes(bytes) => bytes.len(),
        source => source.len(),
    };
    format!(
        "[document {} {} {} bytes]",
        document.name, document.format, size
    )
}

/// Tool results are scanned for markers too, so a test's "tool" can steer
/// the next answer.
fn describe_tool_result_content(content: &ToolResultContent, markers: &mut Markers) -> String {
    match content {
        ToolResultContent::Text(text) => markers.scan(text),
        ToolResultContent::Json(value) => value.to_string(),
        ToolResultContent::Image(image) => describe_image(image),
        ToolResultContent::Document(document) => describe_document(document),
        ToolResultContent::Unsupported(kind) => format!("[{kind}]"),
    }
}

/// Decides the answer.
pub fn compose(input: &ReplyInput) -> Reply {
    let ReplyInput {
        request,
        resolved,
        facts,
        markers,
        echoed,
        body,
    } = *input;
    if markers.guardrail && request.guardrail.is_some() {
        return Reply {
            blocks: vec![OutputBlock::Text(GUARDRAIL_MESSAGE.to_string())],
            stop_reason: StopReason::GuardrailIntervened,
            stop_sequence: None,
        };
    }

    let (text, exact) = match markers.echo {
        Some(Echo::Request) => (body.to_string(), true),
        Some(Echo::System) => (system_text(request), true),
        None => match &facts.output_schema {
            Some(schema) => (schema_fill::fill(schema).to_string(), true),
            None => (echoed.to_string(), false),
        },
    };
    let text = if text.is_empty() {
        EMPTY_REPLY.to_string()
    } else {
        text
    };

    let mut blocks = Vec::new();
    let reasons = facts.thinking || resolved.capabilities.reasoning == ReasoningKind::AlwaysReasons;
    if reasons {
        let thinking = format!("Thinking about: {text}");
        if markers.redacted && resolved.capabilities.reasoning.is_signed_thinking() {
            blocks.push(OutputBlock::RedactedReasoning(signing::redacted_reasoning(
                &thinking,
            )));
        } else {
            let signature = (resolved.capabilities.reasoning.is_signed_thinking())
                .then(|| signing::reasoning_signature(&thinking));
            blocks.push(OutputBlock::Reasoning {
                text: thinking,
                signature,
            });
        }
    }

    let (calls, forced) = planned_tool_calls(request, markers);
    if !calls.is_empty() {
        if !forced {
            let names: Vec<&str> = calls.iter().map(|(name, _)| name.as_str()).collect();
            blocks.push(OutputBlock::Text(format!("Calling {}.", names.join(", "))));
        }
        for (index, (name, input)) in calls.into_iter().enumerate() {
            let seed = format!(
                "{}|{}|{index}|{name}|{text}",
                resolved.model.id,
                request.messages.len()
            );
            blocks.push(OutputBlock::ToolUse {
                id: signing::tool_use_id(&seed),
                name,
                input,
            });
        }
        return Reply {
            blocks,
            stop_reason: StopReason::ToolUse,
            stop_sequence: None,
        };
    }

    // Echoes are exempt from cutting so tests can always parse them.
    let (text, mut stop_reason, stop_sequence) = if exact {
        (text, StopReason::EndTurn, None)
    } else {
        cut(
            &text,
            request.inference.stop_sequences.as_deref(),
            facts.max_tokens,
        )
    };
    if markers.content_filtered {
        stop_reason = StopReason::ContentFiltered;
    }
    match markers.stop {
        Some("malformed_model_output") => stop_reason = StopReason::MalformedModelOutput,
        Some("malformed_tool_use") => stop_reason = StopReason::MalformedToolUse,
        Some("model_context_window_exceeded") => {
            stop_reason = StopReason::ModelContextWindowExceeded
        }
        _ => {}
    }
    blocks.push(OutputBlock::Text(text));
    // A document sent with citations enabled: the answer ends with a sentence that cites it.
    if !exact
        && stop_reason == StopReason::EndTurn
        && let Some(citation) = first_citation(request, resolved)
    {
        let text = format!(" ({} says so.)", citation.title);
        blocks.push(OutputBlock::Cited { text, citation });
    }
    Reply {
        blocks,
        stop_reason,
        stop_sequence,
    }
}

fn system_text(request: &ConverseRequest) -> String {
    request
        .system
        .iter()
        .filter_map(|block| match block {
            SystemBlock::Text(text) => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The tool calls to make (name and input) and whether the choice forced
/// them. Calls name only tools the request offers.
fn planned_tool_calls(
    request: &ConverseRequest,
    markers: &Markers,
) -> (Vec<(String, Value)>, bool) {
    let Some(config) = &request.tool_config else {
        return (Vec::new(), false);
    };
    let schema_of = |name: &str| {
        config
            .specs()
            .find(|spec| spec.name == name)
            .map(|spec| &spec.schema)
    };
    let input_for = |name: &str, given: Option<&Value>| {
        given
            .cloned()
            .or_else(|| schema_of(name).map(schema_fill::fill))
            .unwrap_or_else(|| Value::Object(Default::default()))
    };
    let requested = markers.tool_calls();
    let marked: Vec<(String, Value)> = requested
        .iter()
        .filter(|call| schema_of(&call.name).is_some())
        .map(|call| {
            (
                call.name.clone(),
                input_for(&call.name, call.input.as_ref()),
            )
        })
        .collect();
    match &config.choice {
        Some(ToolChoice::Any) => {
            if !marked.is_empty() {
                return (marked, true);
            }
            let first = config
                .specs()
                .next()
                .map(|spec| (spec.name.clone(), input_for(&spec.name, None)));
            (first.into_iter().collect(), true)
        }
        Some(ToolChoice::Tool(name)) => {
            let given = requested
                .iter()
                .find(|call| &call.name == name)
                .and_then(|call| call.input.as_ref());
            (vec![(name.clone(), input_for(name, given))], true)
        }
        Some(ToolChoice::Auto) | None => (marked, false),
    }
}

/// Applies stop sequences, then `maxTokens`.
fn cut(
    text: &str,
    stop_sequences: Option<&[String]>,
    max_tokens: u64,
) -> (String, StopReason, Option<String>) {
    let earliest_stop = stop_sequences
        .unwrap_or_default()
        .iter()
        .filter_map(|sequence| text.find(sequence.as_str()).map(|at| (at, sequence)))
        .min_by_key(|(at, _)| *at);
    let (text, reason, sequence) = match earliest_stop {
        Some((at, sequence)) => (
            &text[..at],
            StopReason::StopSequence,
            Some(sequence.clone()),
        ),
        None => (text, StopReason::EndTurn, None),
    };
    let (text, truncated) = tokens::truncate(text, max_tokens);
    if truncated {
        return (text.to_string(), StopReason::MaxTokens, None);
    }
    (text.to_string(), reason, sequence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_sequences_cut_before_the_first_match() {
        let stops = ["END".to_string(), "big".to_string()];
        assert_eq!(
            cut("a big world END", Some(&stops), 100),
            (
                "a ".to_string(),
                StopReason::StopSequence,
                Some("big".to_string())
            )
        );
    }

    #[test]
    fn max_tokens_cuts_words() {
        assert_eq!(
            cut("one two three", None, 2),
            ("one two".to_string(), StopReason::MaxTokens, None)
        );
        assert_eq!(
            cut("one two", None, 2),
            ("one two".to_string(), StopReason::EndTurn, None)
        );
    }
}
