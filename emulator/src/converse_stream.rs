//! `POST /model/{modelId}/converse-stream`: answers with an event stream of
//! ConverseStream events, delta by delta, optionally slowed down, optionally
//! cut into small wire pieces, optionally failing part-way through.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::AppState;
use crate::control::ConverseLog;
use crate::engine::{self, Answer};
use crate::error::ApiError;
use crate::event_stream::{self, StreamException};
use crate::markers;
use crate::reply::OutputBlock;
use crate::request::Operation;

/// Tool input JSON is streamed in pieces of this many characters.
const TOOL_INPUT_PIECE_CHARS: usize = 8;
/// A failing stream sends this many deltas before its exception.
const DELTAS_BEFORE_INTERRUPTION: usize = 3;

pub async fn handle(
    State(state): State<AppState>,
    Extension(calls): Extension<Arc<ConverseLog>>,
    model_id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(model_id)) = model_id else {
        return ApiError::validation("The provided model identifier is invalid.").into_response();
    };
    calls.record("ConverseStream", &model_id, &body);
    let answer = match engine::answer(
        &model_id,
        &body,
        Operation::ConverseStream,
        state.config.token_delay,
        &state.cache,
    )
    .await
    {
        Ok(answer) => answer,
        // Errors the model provider raises come after HTTP 200, inside the stream.
        Err(error) if error.relayed_from_model => return relayed_error(&error, &state),
        // Bedrock's own checks, before the first frame, are plain HTTP errors.
        Err(error) => return error.into_response(),
    };

    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let fragment = state.config.fragment_frames;
    tokio::spawn(send_events(answer, sender, fragment));
    event_stream_response(Body::from_stream(ReceiverStream::new(receiver)))
}

/// HTTP 200 and a stream made of one `validationException` frame: how Bedrock relays an error
/// the model provider raised ("The model returned the following errors: ..."), see
/// `ApiError::from_model` for the public reports. Whether Bedrock sends `messageStart` before
/// the exception is not documented; the reports show only the exception, so none is sent.
fn relayed_error(error: &ApiError, state: &AppState) -> Response {
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let frame = event_stream::exception_frame(StreamException::Validation, &error.message);
    let fragment = state.config.fragment_frames;
    tokio::spawn(async move {
        write_frame(&sender, frame, fragment).await;
    });
    event_stream_response(Body::from_stream(ReceiverStream::new(receiver)))
}

fn event_stream_response(body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(event_stream::CONTENT_TYPE),
    );
    response
}

/// One planned frame of the stream.
#[derive(Debug, Clone, PartialEq)]
enum Planned {
    /// A frame written as is; deltas are preceded by the delta delay.
    Frame { frame: Bytes, is_delta: bool },
    /// The closing frames, built when reached so latency is measured then.
    Closing,
}

fn frame(event_type: &str, payload: Value) -> Planned {
    Planned::Frame {
        frame: event_stream::event_frame(event_type, &payload),
        is_delta: false,
    }
}

fn delta(index: usize, delta: Value) -> Planned {
    Planned::Frame {
        frame: event_stream::event_frame(
            "contentBlockDelta",
            &json!({ "contentBlockIndex": index, "delta": delta }),
        ),
        is_delta: true,
    }
}

/// Cuts `text` into pieces of at most `size` characters.
fn char_pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size)
        .map(|chunk| chunk.iter().collect())
        .collect()
}

/// The frames of a complete answer, in order.
fn plan(answer: &Answer) -> Vec<Planned> {
    let mut events = vec![frame("messageStart", json!({ "role": "assistant" }))];
    for (index, block) in answer.reply.blocks.iter().enumerate() {
        match block {
            OutputBlock::Text(text) => {
                let pieces = crate::tokens::stream_pieces(text);
                if pieces.is_empty() {
                    events.push(delta(index, json!({ "text": "" })));
                }
                for piece in pieces {
                    events.push(delta(index, json!({ "text": piece })));
                }
            }
            OutputBlock::Reasoning { text, signature } => {
                for piece in crate::tokens::stream_pieces(text) {
                    events.push(delta(
                        index,
                        json!({ "reasoningContent": { "text": piece } }),
                    ));
                }
                if let Some(signature) = signature {
                    events.push(delta(
                        index,
                        json!({ "reasoningContent": { "signature": signature } }),
                    ));
                }
            }
            // botocore `ContentBlockDelta.citation` (`CitationsDelta`): the cited text streams as
            // text deltas, then one citation delta for the block. Bedrock's order of the two is
            // unconfirmed; the gateway must accept either.
            OutputBlock::Cited { text, citation } => {
                for piece in crate::tokens::stream_pieces(text) {
                    events.push(delta(index, json!({ "text": piece })));
                }
                events.push(delta(index, json!({ "citation": citation.to_json() })));
            }
            OutputBlock::RedactedReasoning(blob) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(blob);
                events.push(delta(
                    index,
                    json!({ "reasoningContent": { "redactedContent": encoded } }),
                ));
            }
            OutputBlock::ToolUse { id, name, input } => {
                events.push(frame(
                    "contentBlockStart",
                    json!({
                        "contentBlockIndex": index,
                        "start": { "toolUse": { "toolUseId": id, "name": name } }
                    }),
                ));
                // A call without arguments streams an empty input, as the
                // model streams nothing for it; clients must still end with
                // `{}`.
                let is_empty_object = input.as_object().is_some_and(|object| object.is_empty());
                if is_empty_object {
                    events.push(delta(index, json!({ "toolUse": { "input": "" } })));
                } else {
                    for piece in char_pieces(&input.to_string(), TOOL_INPUT_PIECE_CHARS) {
                        events.push(delta(index, json!({ "toolUse": { "input": piece } })));
                    }
                }
            }
        }
        events.push(frame(
            "contentBlockStop",
            json!({ "contentBlockIndex": index }),
        ));
    }
    events.push(Planned::Closing);
    events
}

/// The first deltas of the answer (and what precedes them), for a stream
/// that fails part-way.
fn interrupted(events: Vec<Planned>) -> Vec<Planned> {
    let mut kept = Vec::new();
    let mut deltas = 0;
    for event in events {
        match &event {
            Planned::Closing => break,
            Planned::Frame { is_delta, .. } => {
                let is_delta = *is_delta;
                kept.push(event);
                if is_delta {
                    deltas += 1;
                    if deltas == DELTAS_BEFORE_INTERRUPTION {
                        break;
                    }
                }
            }
        }
    }
    kept
}

fn closing_frames(answer: &Answer) -> [Bytes; 2] {
    let mut stop = json!({ "stopReason": answer.reply.stop_reason.as_str() });
    if let Some(fields) = &answer.additional_response_fields {
        stop["additionalModelResponseFields"] = fields.clone();
    }
    let mut metadata = json!({
        "usage": answer.usage.to_json(),
        "metrics": { "latencyMs": answer.latency_ms() },
    });
    if let Some(trace) = answer.trace() {
        metadata["trace"] = trace;
    }
    [
        event_stream::event_frame("messageStop", &stop),
        event_stream::event_frame("metadata", &metadata),
    ]
}

type Sender = mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Writes one frame; `false` once the client has gone away.
async fn write_frame(sender: &Sender, frame: Bytes, fragment: bool) -> bool {
    for piece in event_stream::wire_pieces(frame, fragment) {
        if sender.send(Ok(piece)).await.is_err() {
            return false;
        }
        if fragment {
            // Give the connection a chance to flush each piece on its own,
            // so the client really sees partial frames.
            tokio::task::yield_now().await;
        }
    }
    true
}

async fn pause(delay: Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

async fn send_events(answer: Answer, sender: Sender, fragment: bool) {
    let mut events = plan(&answer);
    if answer.interruption.is_some() {
        events = interrupted(events);
    }
    for event in events {
        match event {
            Planned::Frame { frame, is_delta } => {
                if is_delta {
                    pause(answer.delta_delay).await;
                }
                if !write_frame(&sender, frame, fragment).await {
                    return;
                }
            }
            Planned::Closing => {
                for frame in closing_frames(&answer) {
                    if !write_frame(&sender, frame, fragment).await {
                        return;
                    }
                }
            }
        }
    }
    if let Some(exception) = answer.interruption {
        pause(answer.delta_delay).await;
        let frame =
            event_stream::exception_frame(exception, markers::stream_fault_message(exception));
        write_frame(&sender, frame, fragment).await;
    }
}

/// The `:event-type` of each planned frame, for unit tests.
#[cfg(test)]
fn event_types(events: &[Planned]) -> Vec<String> {
    use aws_smithy_eventstream::frame::read_message_from;
    events
        .iter()
        .map(|event| match event {
            Planned::Closing => "closing".to_string(),
            Planned::Frame { frame, .. } => {
                let message = read_message_from(&mut frame.clone()).unwrap();
                message
                    .headers()
                    .iter()
                    .find(|header| header.name().as_str() == ":event-type")
                    .map(|header| header.value().as_string().unwrap().as_str().to_string())
                    .unwrap()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{Reply, StopReason};
    use crate::usage::Usage;
    use tokio::time::Instant;

    fn answer(blocks: Vec<OutputBlock>, interruption: Option<StreamException>) -> Answer {
        Answer {
            reply: Reply {
                blocks,
                stop_reason: StopReason::EndTurn,
                stop_sequence: None,
            },
            usage: Usage {
                input: 1,
                output: 1,
                cache: None,
            },
            additional_response_fields: None,
            routed_to: None,
            interruption,
            delta_delay: Duration::ZERO,
            started: Instant::now(),
        }
    }

    #[test]
    fn tool_blocks_get_a_start_event_and_text_blocks_do_not() {
        let events = plan(&answer(
            vec![
                OutputBlock::Text("Calling f.".into()),
                OutputBlock::ToolUse {
                    id: "tooluse_1".into(),
                    name: "f".into(),
                    input: json!({"city": "Paris"}),
                },
            ],
            None,
        ));
        let types = event_types(&events);
        assert_eq!(types[0], "messageStart");
        assert_eq!(types[1..3], ["contentBlockDelta", "contentBlockDelta"]);
        assert_eq!(types[3], "contentBlockStop");
        assert_eq!(types[4], "contentBlockStart");
        assert_eq!(types.last().unwrap(), "closing");
    }

    #[test]
    fn interrupted_streams_keep_three_deltas() {
        let events = plan(&answer(
            vec![OutputBlock::Text("one two three four five".into())],
            Some(StreamException::ModelStreamError),
        ));
        let kept = interrupted(events);
        assert_eq!(
            event_types(&kept),
            [
                "messageStart",
                "contentBlockDelta",
                "contentBlockDelta",
                "contentBlockDelta"
            ]
        );
    }

    #[test]
    fn tool_input_is_cut_in_eight_character_pieces() {
        assert_eq!(
            char_pieces("{\"city\":\"Paris\"}", 8),
            ["{\"city\":", "\"Paris\"}"]
        );
    }
}
