//! `POST /chat/completions`: parse, resolve the model, translate, call Converse or
//! ConverseStream, answer as JSON or as server-sent events.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use futures_util::stream;

use crate::bedrock::ConverseEvents;
use crate::capabilities::capabilities;
use crate::error::{ApiError, ErrorKind};
use crate::openai::chat::ChatRequest;
use crate::routes::{parse_body, sse};
use crate::state::AppState;
use crate::translate::converse_replay::replay_as_events;
use crate::translate::images::FetchedImages;
use crate::translate::stream::ChunkStream;
use crate::translate::tool_names::ToolNames;
use crate::translate::usage::stop_error;
use crate::translate::{ResponseContext, Target, chat_completion, converse_input};

pub async fn chat_completions(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: ChatRequest = parse_body(body, "Send smaller images or documents.")?;
    if req.model.trim().is_empty() {
        return Err(ApiError::invalid_param(
            "model",
            "`model` must name a Bedrock model id; see GET /api/v1/models.",
        ));
    }
    let model_id = state.config.chat_model_id(&req.model);
    state.catalog.check(&model_id).await?;
    let model_id = state
        .catalog
        .route(&model_id, &state.profile_routing())
        .await?;
    let caps = capabilities(&model_id);
    if caps.embedding {
        return Err(ApiError::invalid_param(
            "model",
            format!(
                "`{model_id}` is an embedding model; use it with /api/v1/embeddings, not chat completions."
            ),
        ));
    }
    let target = Target {
        model_id: &model_id,
        caps,
        prompt_caching: state.config.prompt_caching,
    };
    // A model without image input gets its 400 from the translation, with nothing downloaded.
    let images = if caps.images {
        state.image_fetcher.fetch_images(&req.messages).await?
    } else {
        FetchedImages::new()
    };
    let input = converse_input(&req, &target, &images)?;
    let ctx = ResponseContext {
        id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        model: model_id.clone(),
        tool_names: ToolNames::from_request(&req),
    };

    if !req.is_stream() {
        let output = state.bedrock.converse(input).await?;
        if let Some(err) = stop_error(&output.stop_reason) {
            return Err(err);
        }
        return Ok(Json(chat_completion(&output, &ctx)).into_response());
    }
    let machine = ChunkStream::new(ctx, req.include_usage());
    let source = if input.tool_config.is_some() && !caps.tool_streaming {
        // Bedrock cannot stream tool use for this model: ask once, replay the answer as a stream.
        let output = state.bedrock.converse(input).await?;
        EventSource::Replay(replay_as_events(&output).into_iter())
    } else {
        let events = state.bedrock.converse_stream(input).await?;
        open_live(events, state.config.stream_idle_timeout).await?
    };
    let idle = state.config.stream_idle_timeout;
    Ok(sse::response(chunk_stream(source, machine, idle)))
}

/// `messageStart` events held at most before the first content event, whatever Bedrock sends.
const MAX_HELD_EVENTS: usize = 4;

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

/// Where stream events come from: Bedrock's live stream, or a replayed Converse answer.
enum EventSource {
    /// Bedrock's stream; `held` are the events already read before the response was committed.
    Live {
        held: std::vec::IntoIter<ConverseStreamOutput>,
        events: Box<ConverseEvents>,
    },
    Replay(std::vec::IntoIter<ConverseStreamOutput>),
}

impl EventSource {
    async fn next(&mut self) -> Result<Option<ConverseStreamOutput>, ApiError> {
        match self {
            EventSource::Live { held, events } => match held.next() {
                Some(event) => Ok(Some(event)),
                None => events.next().await,
            },
            EventSource::Replay(events) => Ok(events.next()),
        }
    }
}

fn stream_stalled(idle: Duration) -> ApiError {
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

/// Drives the state machine over the event source, one SSE piece per Bedrock event. A Bedrock
/// error mid-stream becomes an error event that ends the stream; the body itself never fails
/// (a failing body would panic Lambda's buffered adapter and garble its streaming one). A stream
/// that goes quiet for `idle` is ended the same way, with a 504 error event.
fn chunk_stream(
    source: EventSource,
    machine: ChunkStream,
    idle: Duration,
) -> impl futures_util::Stream<Item = Bytes> + Send {
    stream::unfold(Some((source, machine)), move |state| async move {
        let (mut source, mut machine) = state?;
        let mut buf = BytesMut::new();
        let next = tokio::time::timeout(idle, source.next())
            .await
            .unwrap_or_else(|_| Err(stream_stalled(idle)));
        match next {
            Ok(Some(ConverseStreamOutput::MessageStop(stop)))
                if let Some(err) = stop_error(&stop.stop_reason) =>
            {
                Some((sse::error_event(&err), None))
            }
            Ok(Some(event)) => {
                for chunk in machine.on_event(&event) {
                    sse::push_event(&mut buf, &chunk);
                }
                Some((buf.freeze(), Some((source, machine))))
            }
            Ok(None) => {
                for chunk in machine.finish() {
                    sse::push_event(&mut buf, &chunk);
                }
                buf.extend_from_slice(sse::DONE);
                Some((buf.freeze(), None))
            }
            Err(err) => {
                tracing::warn!(
                    status = err.status.as_u16(),
                    code = err.code.as_deref().unwrap_or(""),
                    "stream ended by a Bedrock error"
                );
                Some((sse::error_event(&err), None))
            }
        }
    })
}
