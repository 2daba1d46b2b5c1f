//! Where a streamed answer's Bedrock events come from, shared by chat completions and the
//! Responses API: Bedrock's live ConverseStream, read up to its first content event before the
//! client is answered, or a Converse answer replayed as stream events for models that cannot
//! stream at all (`responseStreamingSupported: false` in Bedrock's listing) or cannot stream
//! tool use.

use std::time::Duration;

use aws_sdk_bedrockruntime::types::ConverseStreamOutput;

use crate::bedrock::{Bedrock, ConverseEvents};
use crate::capabilities::Capabilities;
use crate::error::{ApiError, ErrorKind};
use crate::translate::ConverseInput;
use crate::translate::converse_replay::replay_as_events;

/// `messageStart` events held at most before the first content event, whatever Bedrock sends.
const MAX_HELD_EVENTS: usize = 4;

/// A stream's events, one at a time.
pub enum EventSource {
    /// Bedrock's stream; `held` are the events already read before the response was committed.
    Live {
        held: std::vec::IntoIter<ConverseStreamOutput>,
        events: Box<ConverseEvents>,
    },
    /// A Converse answer as stream events.
    Replay(std::vec::IntoIter<ConverseStreamOutput>),
}

impl EventSource {
    /// Opens the source for `input`: a replayed Converse call for a model that cannot stream
    /// (Bedrock refuses ConverseStream for it with "The model is unsupported for streaming"), or
    /// when tools are offered to a model that cannot stream tool use (`caps`); else the live
    /// stream, read up to its first event.
    pub async fn open(
        bedrock: &Bedrock,
        input: ConverseInput,
        caps: Capabilities,
        idle: Duration,
    ) -> Result<EventSource, ApiError> {
        if !caps.streaming || (input.tool_config.is_some() && !caps.tool_streaming) {
            let output = bedrock.converse(input).await?;
            return Ok(EventSource::Replay(replay_as_events(&output).into_iter()));
        }
        open_live(bedrock.converse_stream(input).await?, idle).await
    }

    /// The next event, `None` at the end of the stream.
    pub async fn next(&mut self) -> Result<Option<ConverseStreamOutput>, ApiError> {
        match self {
            EventSource::Live { held, events } => match held.next() {
                Some(event) => Ok(Some(event)),
                None => events.next().await,
            },
            EventSource::Replay(events) => Ok(events.next()),
        }
    }

    /// The next event within `idle`, or the 504 [`stream_stalled`] error.
    pub async fn next_within(
        &mut self,
        idle: Duration,
    ) -> Result<Option<ConverseStreamOutput>, ApiError> {
        tokio::time::timeout(idle, self.next())
            .await
            .unwrap_or_else(|_| Err(stream_stalled(idle)))
    }
}

/// Reads a live stream up to its first event past `messageStart` before anything is sent to the
/// client. Bedrock relays errors the model raises ("The model returned the following errors:
/// ...") inside a stream it has already answered with HTTP 200; waiting for the first event lets
/// such an immediate failure become a proper HTTP error (400, 429, ...) instead of a 200 followed
/// by an error event. Each wait is bounded by `STREAM_IDLE_TIMEOUT_SECONDS`.
async fn open_live(mut events: ConverseEvents, idle: Duration) -> Result<EventSource, ApiError> {
    let mut held = Vec::new();
    while held.len() < MAX_HELD_EVENTS {
        let next = tokio::time::timeout(idle, events.next())
            .await
            .unwrap_or_else(|_| Err(stream_stalled(idle)))?;
        match next {
            Some(event @ ConverseStreamOutput::MessageStart(_)) => held.push(event),
            Some(event) => {
                held.push(event);
                break;
            }
            None => break,
        }
    }
    Ok(EventSource::Live {
        held: held.into_iter(),
        events: Box::new(events),
    })
}

/// The error that ends a stream Bedrock has gone quiet on.
pub fn stream_stalled(idle: Duration) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::GATEWAY_TIMEOUT,
        ErrorKind::TimeoutError,
        format!(
            "Bedrock sent nothing for {} s, so the stream was ended (STREAM_IDLE_TIMEOUT_SECONDS).",
            idle.as_secs()
        ),
    )
    .with_code("stream_idle_timeout")
}
