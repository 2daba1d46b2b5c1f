//! Control markers: `[[...]]` instructions that tests put in the last user
//! turn to steer the emulator (call a tool, fail, be slow, echo the request).
//!
//! Recognised markers are removed from the text the emulator echoes back;
//! anything else in double brackets is ordinary text.
//!
//! Besides markers, the user's own words can ask for a tool: "use NAME" or
//! "call NAME" (also "use the NAME tool", the name optionally in backticks)
//! in a text block of the last user turn is a request to call the offered
//! tool NAME, with input filled from its schema, exactly as `[[call:NAME]]`
//! would be. This is not a Bedrock rule but the emulator's stand-in for a
//! model that does what it is told, so that a README tools example written
//! in plain words works against `make run`. Markers win: when any
//! `[[call:...]]` marker is present, plain-word requests are ignored.

use std::time::Duration;

use serde_json::Value;

use crate::error::ErrorKind;
use crate::event_stream::StreamException;

/// What the reply text should be instead of the echoed user text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// The compact JSON of the request body as received.
    Request,
    /// The system prompt text.
    System,
}

/// A failure a marker asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP error before any output.
    Immediate(ErrorKind),
    /// A stream that starts, sends a few deltas, then raises this exception.
    MidStream(StreamException),
    /// A validation error the model provider raises (`[[fault:model-validation]]`): Converse
    /// answers it as an HTTP 400, ConverseStream as HTTP 200 and an in-stream
    /// `validationException`, as Bedrock relays provider errors.
    RelayedFromModel,
}

/// A `[[call:NAME]]` or `[[call:NAME {json}]]` marker.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub name: String,
    pub input: Option<Value>,
}

/// Every marker found in the last user turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Markers {
    pub echo: Option<Echo>,
    pub calls: Vec<ToolCall>,
    /// Tools asked for in plain words ("use NAME", "call NAME"), in order,
    /// each once. Names that are not offered are ignored by the reply.
    pub asked: Vec<String>,
    pub redacted: bool,
    pub guardrail: bool,
    pub content_filtered: bool,
    pub fault: Option<Fault>,
    pub delay: Option<Duration>,
    pub slow_stream: Option<Duration>,
    /// `[[stop:REASON]]`: the answer ends with this `stopReason` instead of its own; one of the
    /// reasons no ordinary echo produces (`malformed_model_output`, `malformed_tool_use`,
    /// `model_context_window_exceeded`, all in botocore's `StopReason` enum).
    pub stop: Option<&'static str>,
}

impl Markers {
    /// Records the markers in `text` and returns the text without them,
    /// whitespace collapsed to single spaces.
    pub fn scan(&mut self, text: &str) -> String {
        let mut kept = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find("[[") {
            kept.push_str(&rest[..open]);
            let after_open = &rest[open + 2..];
            match self.take_marker(after_open) {
                Some(consumed) => rest = &after_open[consumed..],
                None => {
                    kept.push_str("[[");
                    rest = after_open;
                }
            }
        }
        kept.push_str(rest);
        kept.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Like [`Markers::scan`], for the user's own text (not tool results):
    /// also records tools asked for in plain words.
    pub fn scan_user_text(&mut self, text: &str) -> String {
        let kept = self.scan(text);
        for name in tools_asked_for(&kept) {
            if !self.asked.contains(&name) {
                self.asked.push(name);
            }
        }
        kept
    }

    /// The tool calls requested: the `[[call:...]]` markers if there are
    /// any, else the tools asked for in plain words (input from the schema).
    pub fn tool_calls(&self) -> Vec<ToolCall> {
        if !self.calls.is_empty() {
            return self.calls.clone();
        }
        self.asked
            .iter()
            .map(|name| ToolCall {
                name: name.clone(),
                input: None,
            })
            .collect()
    }

    /// Parses one marker body starting just after `[[`. Returns how many
    /// bytes it used, closing `]]` included, or `None` if it is not a marker.
    fn take_marker(&mut self, text: &str) -> Option<usize> {
        if let Some(call) = text.strip_prefix("call:") {
            let (tool_call, used) = parse_call(call)?;
            self.calls.push(tool_call);
            return Some("call:".len() + used);
        }
        let close = text.find("]]")?;
        let body = &text[..close];
        let (name, argument) = match body.split_once(':') {
            Some((name, argument)) => (name, Some(argument)),
            None => (body, None),
        };
        match (name, argument) {
            ("echo", Some("request")) => self.echo = Some(Echo::Request),
            ("echo", Some("system")) => self.echo = Some(Echo::System),
            ("redacted", None) => self.redacted = true,
            ("guardrail", None) => self.guardrail = true,
            ("content_filtered", None) => self.content_filtered = true,
            ("fault", Some(kind)) => self.fault = Some(parse_fault(kind)?),
            ("delay", Some(ms)) => self.delay = Some(Duration::from_millis(ms.parse().ok()?)),
            ("stop", Some(reason)) => {
                self.stop = Some(match reason {
                    "malformed_model_output" => "malformed_model_output",
                    "malformed_tool_use" => "malformed_tool_use",
                    "model_context_window_exceeded" => "model_context_window_exceeded",
                    _ => return None,
                })
            }
            ("slowstream", Some(ms)) => {
                self.slow_stream = Some(Duration::from_millis(ms.parse().ok()?))
            }
            _ => return None,
        }
        Some(close + 2)
    }
}

/// `NAME]]` or `NAME {json}]]`. The JSON is parsed rather than searched for
/// `]]`, because JSON arrays can contain `]]` themselves.
fn parse_call(text: &str) -> Option<(ToolCall, usize)> {
    let name_end = text
        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '-'))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    if name.is_empty() {
        return None;
    }
    let after_name = &text[name_end..];
    if after_name.starts_with("]]") {
        return Some((
            ToolCall {
                name: name.to_string(),
                input: None,
            },
            name_end + 2,
        ));
    }
    let json_text = after_name.trim_start();
    let skipped = after_name.len() - json_text.len();
    if skipped == 0 {
        return None;
    }
    let mut values = serde_json::Deserializer::from_str(json_text).into_iter::<Value>();
    let input = values.next()?.ok()?;
    let json_len = values.byte_offset();
    let after_json = &json_text[json_len..];
    let trimmed = after_json.trim_start();
    trimmed.strip_prefix("]]")?;
    let used = name_end + skipped + json_len + (after_json.len() - trimmed.len()) + 2;
    Some((
        ToolCall {
            name: name.to_string(),
            input: Some(input),
        },
        used,
    ))
}

/// The tool names that follow "use" or "call" (any case), optionally with
/// "the" in between, in `text`. A name is what Bedrock allows in a tool name
/// (letters, digits, `_`, `-`); surrounding punctuation and backticks are
/// not part of it, so "use `get_weather`." names `get_weather`.
fn tools_asked_for(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let is_name_char = |ch: char| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-';
    let mut names = Vec::new();
    for (at, word) in words.iter().enumerate() {
        let verb = word.trim_matches(|ch: char| !ch.is_ascii_alphabetic());
        if !(verb.eq_ignore_ascii_case("use") || verb.eq_ignore_ascii_case("call")) {
            continue;
        }
        let mut next = at + 1;
        if words
            .get(next)
            .is_some_and(|w| w.eq_ignore_ascii_case("the"))
        {
            next += 1;
        }
        let Some(candidate) = words.get(next) else {
            continue;
        };
        let name = candidate.trim_matches(|ch: char| !is_name_char(ch));
        if !name.is_empty() && name.chars().all(is_name_char) {
            names.push(name.to_string());
        }
    }
    names
}

fn parse_fault(kind: &str) -> Option<Fault> {
    Some(match kind {
        "throttling" => Fault::Immediate(ErrorKind::Throttling),
        "internal" => Fault::Immediate(ErrorKind::InternalServer),
        "unavailable" => Fault::Immediate(ErrorKind::ServiceUnavailable),
        "timeout" => Fault::Immediate(ErrorKind::ModelTimeout),
        "access" => Fault::Immediate(ErrorKind::AccessDenied),
        "notfound" => Fault::Immediate(ErrorKind::ResourceNotFound),
        "quota" => Fault::Immediate(ErrorKind::ServiceQuotaExceeded),
        "notready" => Fault::Immediate(ErrorKind::ModelNotReady),
        "modelerror" => Fault::Immediate(ErrorKind::ModelError),
        "validation" => Fault::Immediate(ErrorKind::Validation),
        "midstream" => Fault::MidStream(StreamException::ModelStreamError),
        "midstream-throttling" => Fault::MidStream(StreamException::Throttling),
        "midstream-internal" => Fault::MidStream(StreamException::InternalServer),
        "midstream-unavailable" => Fault::MidStream(StreamException::ServiceUnavailable),
        "midstream-validation" => Fault::MidStream(StreamException::Validation),
        "model-validation" => Fault::RelayedFromModel,
        _ => return None,
    })
}

/// The message Bedrock sends with each exception a fault marker raises.
pub fn fault_message(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Throttling => "Too many requests, please wait before trying again.",
        ErrorKind::InternalServer => {
            "The system encountered an unexpected error during processing. Try your request again."
        }
        ErrorKind::ServiceUnavailable => "Bedrock is unable to process your request.",
        ErrorKind::ModelTimeout => {
            "Model has timed out in processing the request. Try your request again."
        }
        ErrorKind::AccessDenied => {
            "You don't have access to the model with the specified model ID."
        }
        ErrorKind::ResourceNotFound => {
            "The specified resource was not found. Check the model ID and try your request again."
        }
        ErrorKind::ServiceQuotaExceeded => {
            "Your request exceeds the service quota for your account. You can view your quotas at https://docs.aws.amazon.com/servicequotas/latest/userguide/gs-request-quota.html. You can resubmit your request later."
        }
        ErrorKind::ModelNotReady => {
            "The model is not ready to serve inference requests. Try your request again later."
        }
        ErrorKind::ModelError => "The model encountered an error while processing the request.",
        ErrorKind::Validation => "The request was refused by the emulator's validation fault.",
        ErrorKind::UnknownOperation => "Unknown operation.",
    }
}

/// What the model provider "says" for `[[fault:model-validation]]`, after Bedrock's prefix.
pub const RELAYED_FAULT_DETAIL: &str =
    "messages: the request was refused by the emulated model (fault marker model-validation)";

/// The message of a mid-stream exception frame.
pub fn stream_fault_message(exception: StreamException) -> &'static str {
    match exception {
        StreamException::ModelStreamError => {
            "The model encountered an error while streaming the response."
        }
        other => fault_message(other.as_http_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_known_markers_and_keeps_the_rest() {
        let mut markers = Markers::default();
        let text = markers.scan("Hello [[fault:throttling]] big  [[unknown]] world [[delay:25]]");
        assert_eq!(text, "Hello big [[unknown]] world");
        assert_eq!(markers.fault, Some(Fault::Immediate(ErrorKind::Throttling)));
        assert_eq!(markers.delay, Some(Duration::from_millis(25)));
    }

    #[test]
    fn parses_calls_with_json_containing_brackets() {
        let mut markers = Markers::default();
        let text = markers.scan(
            r#"go [[call:get_weather {"grid": [[1, 2]], "city": "Paris"}]] [[call:noop]] now"#,
        );
        assert_eq!(text, "go now");
        assert_eq!(
            markers.calls,
            vec![
                ToolCall {
                    name: "get_weather".into(),
                    input: Some(json!({"grid": [[1, 2]], "city": "Paris"}))
                },
                ToolCall {
                    name: "noop".into(),
                    input: None
                },
            ]
        );
    }

    #[test]
    fn malformed_markers_stay_text() {
        let mut markers = Markers::default();
        let text = markers.scan("[[call:x {bad json]] [[delay:abc]] [[fault:nope]] [[");
        assert_eq!(text, "[[call:x {bad json]] [[delay:abc]] [[fault:nope]] [[");
        assert_eq!(markers, Markers::default());
    }

    #[test]
    fn plain_words_ask_for_tools() {
        let mut markers = Markers::default();
        let text = markers.scan_user_text("Use get_weather for Paris, then call `lookup-order`.");
        assert_eq!(text, "Use get_weather for Paris, then call `lookup-order`.");
        assert_eq!(markers.asked, vec!["get_weather", "lookup-order"]);
        markers.scan_user_text("Please use the get_weather tool again");
        assert_eq!(markers.asked, vec!["get_weather", "lookup-order"]);
        assert_eq!(
            markers.tool_calls(),
            vec![
                ToolCall {
                    name: "get_weather".into(),
                    input: None
                },
                ToolCall {
                    name: "lookup-order".into(),
                    input: None
                },
            ]
        );
    }

    #[test]
    fn markers_win_over_plain_words_and_tool_results_ask_for_nothing() {
        let mut markers = Markers::default();
        markers.scan_user_text(r#"use get_weather [[call:get_time {"tz": "UTC"}]]"#);
        assert_eq!(markers.tool_calls().len(), 1);
        assert_eq!(markers.tool_calls()[0].name, "get_time");

        let mut from_result = Markers::default();
        from_result.scan("use get_weather");
        assert!(from_result.tool_calls().is_empty());
        // "use" at the end, or followed by no name, asks for nothing.
        assert!(tools_asked_for("what should I use").is_empty());
        assert!(tools_asked_for("use ... now").is_empty());
    }

    #[test]
    fn recognises_every_switch() {
        let mut markers = Markers::default();
        markers.scan("[[echo:request]][[redacted]][[guardrail]][[content_filtered]][[slowstream:5]][[fault:midstream-throttling]]");
        assert_eq!(markers.echo, Some(Echo::Request));
        assert!(markers.redacted && markers.guardrail && markers.content_filtered);
        assert_eq!(markers.slow_stream, Some(Duration::from_millis(5)));
        assert_eq!(
            markers.fault,
            Some(Fault::MidStream(StreamException::Throttling))
        );
    }
}
