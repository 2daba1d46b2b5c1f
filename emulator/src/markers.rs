//! Control markers: `[[...]]` instructions that tests put in the last user
//! turn to steer the emulator (call a tool, fail, be slow, echo the request).
//!
//! Recognised markers are removed from the text the emulator echoes back;
//! anything else in double brackets is ordinary text.

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
