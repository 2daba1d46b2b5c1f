//! `POST /chat/completions`: parse, resolve the model, translate, call Converse or
//! ConverseStream, answer as JSON or as server-sent events.
//!
//! For chat UIs: tools offered to a model without tool use are dropped (`translate::tool_less`,
//! named in `x-gateway-dropped-tools`), reasoning goes where `REASONING_OUTPUT` or the request's
//! `reasoning_output` says, and a stream that fails part way also ends with a chunk whose
//! content names the error (`STREAM_ERROR_AS_CONTENT`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use futures_util::stream;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::openai::chat::ChatRequest;
use crate::routes::event_source::EventSource;
use crate::routes::responses::DROPPED_TOOLS_HEADER;
use crate::routes::{chat_model, parse_body, sse};
use crate::state::AppState;
use crate::telemetry::Recorder;
use crate::translate::images::FetchedImages;
use crate::translate::reasoning::{ReasoningOutput, place_reasoning, strip_think_tags};
use crate::translate::stream::{ChunkStream, error_note};
use crate::translate::tool_less::{drop_unusable_tools, dropped_tools_header};
use crate::translate::tool_names::ToolNames;
use crate::translate::usage::stop_error;
use crate::translate::{ResponseContext, Target, chat_completion, converse_input};

pub async fn chat_completions(
    State(state): State<AppState>,
    caller: Caller,
    record: Recorder,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut req: ChatRequest = parse_body(body, "Send smaller images or documents.")?;
    record.requested(&req.model, req.is_stream());
    let (model_id, caps) = chat_model(&state, &caller, &req.model, "chat completions").await?;
    record.model_used(&model_id);
    caller.cap_request(&mut req);
    let reasoning_output = ReasoningOutput::for_request(
        req.reasoning_output.as_deref(),
        state.config.chat_ui.reasoning_output,
    )?;
    strip_think_tags(&mut req.messages);
    let dropped_tools = drop_unusable_tools(&mut req, &caps);
    if !dropped_tools.is_empty() {
        // Counts and the model only: tool names and descriptions are the client's text.
        tracing::info!(
            model = %model_id,
            dropped_tools = dropped_tools.len(),
            "tools dropped: the model cannot use tools on Bedrock and none was forced"
        );
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

    let mut response = if !req.is_stream() {
        let output = state.bedrock.converse(input).await?;
        record.observe_reply(&output);
        if let Some(err) = stop_error(&output.stop_reason) {
            return Err(err);
        }
        let mut completion = chat_completion(&output, &ctx);
        for choice in &mut completion.choices {
            place_reasoning(&mut choice.message, reasoning_output);
        }
        Json(completion).into_response()
    } else {
        let machine =
            ChunkStream::new(ctx, req.include_usage()).with_reasoning_output(reasoning_output);
        let source = EventSource::open(
            &state.bedrock,
            input,
            caps,
            state.config.stream_idle_timeout,
        )
        .await?;
        let idle = state.config.stream_idle_timeout;
        let error_as_content = state.config.chat_ui.stream_error_as_content;
        sse::response(chunk_stream(
            source,
            machine,
            record,
            idle,
            error_as_content,
        ))
    };
    if !dropped_tools.is_empty()
        && let Ok(value) = HeaderValue::from_str(&dropped_tools_header(&dropped_tools))
    {
        response.headers_mut().insert(DROPPED_TOOLS_HEADER, value);
    }
    Ok(response)
}

/// Drives the state machine over the event source, one SSE piece per Bedrock event. A Bedrock
/// error mid-stream becomes an error event that ends the stream; the body itself never fails
/// (a failing body would panic Lambda's buffered adapter and garble its streaming one). A stream
/// that goes quiet for `idle` is ended the same way, with a 504 error event. With
/// `error_as_content`, a last chunk naming the error comes before the error event, for chat UIs
/// that skip events without `choices`.
fn chunk_stream(
    source: EventSource,
    machine: ChunkStream,
    record: Recorder,
    idle: Duration,
    error_as_content: bool,
) -> impl futures_util::Stream<Item = Bytes> + Send {
    stream::unfold(Some((source, machine, record)), move |state| async move {
        let (mut source, mut machine, record) = state?;
        let mut buf = BytesMut::new();
        let next = source.next_within(idle).await;
        record.observe(&next);
        match next {
            Ok(Some(ConverseStreamOutput::MessageStop(stop)))
                if let Some(err) = stop_error(&stop.stop_reason) =>
            {
                Some((failed(&mut machine, &err, error_as_content), None))
            }
            Ok(Some(event)) => {
                for chunk in machine.on_event(&event) {
                    sse::push_event(&mut buf, &chunk);
                }
                Some((buf.freeze(), Some((source, machine, record))))
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
                Some((failed(&mut machine, &err, error_as_content), None))
            }
        }
    })
}

/// The end of a failed stream: the note chunk (if `as_content`), then the error event.
fn failed(machine: &mut ChunkStream, err: &ApiError, as_content: bool) -> Bytes {
    let mut buf = BytesMut::new();
    if as_content {
        for chunk in machine.fail(error_note(&err.message)) {
            sse::push_event(&mut buf, &chunk);
        }
    }
    buf.extend_from_slice(&sse::error_event(err));
    buf.freeze()
}
