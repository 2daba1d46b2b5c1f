//! `/responses`: create (JSON or server-sent events), retrieve, delete and list input items.
//! Thin: the request becomes a chat request (`responses::request`), translated by the shared
//! core; the answer goes through the Responses state machine (`translate::responses_stream`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, BytesMut};
use futures_util::stream;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::openai::responses::ResponsesRequest;
use crate::responses::conversation::{not_found, prepare_input, previous};
use crate::responses::errors::in_responses_terms;
use crate::responses::input::items;
use crate::responses::request::{chat_request, shell};
use crate::responses::store::{ResponseStore, StoredResponse};
use crate::responses::tools::Tools;
use crate::routes::event_source::EventSource;
use crate::routes::{chat_model, parse_body, sse};
use crate::state::AppState;
use crate::telemetry::Recorder;
use crate::translate::converse_replay::replay_as_events;
use crate::translate::images::FetchedImages;
use crate::translate::responses_stream::ResponseStream;
use crate::translate::tool_names::ToolNames;
use crate::translate::{Target, converse_input};

/// Response header naming the built-in tools that were dropped (Bedrock cannot run them).
pub const DROPPED_TOOLS_HEADER: &str = "x-gateway-dropped-tools";

/// What is stored once the answer is complete (`store: true`).
struct ToStore {
    store: Arc<dyn ResponseStore>,
    input_items: Vec<Value>,
    conversation: Vec<Value>,
}

impl ToStore {
    async fn save(self, response: &Value) {
        let mut conversation = self.conversation;
        conversation.extend(response["output"].as_array().cloned().unwrap_or_default());
        let stored = StoredResponse {
            id: response["id"].as_str().unwrap_or_default().to_string(),
            created_at: response["created_at"].as_i64().unwrap_or(0),
            response: response.clone(),
            input_items: self.input_items,
            conversation,
        };
        if let Err(err) = self.store.put(stored).await {
            tracing::warn!(status = err.status.as_u16(), "storing a response failed");
        }
    }
}

pub async fn create_response(
    State(state): State<AppState>,
    caller: Caller,
    record: Recorder,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: ResponsesRequest = parse_body(body, "Send smaller images or files.")?;
    req.check_fields()?;
    record.requested(&req.model, req.is_stream());
    let (model_id, caps) = chat_model(&state, &caller, &req.model, "responses").await?;
    record.model_used(&model_id);
    let tools = Tools::from_request(
        req.tools.as_deref().unwrap_or_default(),
        &state.config.responses_refused_tools,
    )?;
    let earlier = match req.previous_response_id.as_deref() {
        Some(id) => previous(state.responses.as_ref(), id).await?,
        None => Vec::new(),
    };
    let uuid = uuid::Uuid::new_v4().simple().to_string();
    let id = format!("resp_{uuid}");
    let input_items = prepare_input(items(req.input.as_ref())?, &earlier, &uuid[..12])?;
    let mut conversation = earlier;
    conversation.extend(input_items.iter().cloned());
    let mut chat = chat_request(&req, &model_id, &conversation, &tools)?;
    caller.cap_request(&mut chat);

    let target = Target {
        model_id: &model_id,
        caps,
        prompt_caching: state.config.prompt_caching,
    };
    let images = if caps.images {
        state
            .image_fetcher
            .fetch_images(&chat.messages)
            .await
            .map_err(in_responses_terms)?
    } else {
        FetchedImages::new()
    };
    let input = converse_input(&chat, &target, &images).map_err(in_responses_terms)?;
    let created_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let dropped = tools.dropped.join(",");
    let machine = ResponseStream::new(
        shell(&req, &id, created_at, &model_id),
        tools,
        ToolNames::from_request(&chat),
        req.includes("reasoning.encrypted_content"),
    );
    let to_store = req.is_stored().then(|| ToStore {
        store: state.responses.clone(),
        input_items,
        conversation,
    });

    let mut response = if !req.is_stream() {
        let output = state.bedrock.converse(input).await?;
        record.observe_reply(&output);
        let mut machine = machine;
        for event in replay_as_events(&output) {
            machine.on_event(&event);
        }
        machine.finish();
        let response = machine.final_response(None);
        if let Some(to_store) = to_store {
            to_store.save(&response).await;
        }
        Json(response).into_response()
    } else {
        let source = EventSource::open(
            &state.bedrock,
            input,
            caps,
            state.config.stream_idle_timeout,
        )
        .await?;
        let idle = state.config.stream_idle_timeout;
        sse::response(event_stream(source, machine, to_store, record, idle))
    };
    if !dropped.is_empty()
        && let Ok(value) = HeaderValue::from_str(&dropped)
    {
        response.headers_mut().insert(DROPPED_TOOLS_HEADER, value);
    }
    Ok(response)
}

/// One `event: <type>` / `data: <json>` pair per Responses event.
fn push_events(buf: &mut BytesMut, events: &[Value]) {
    for event in events {
        buf.put_slice(b"event: ");
        buf.put_slice(event["type"].as_str().unwrap_or("message").as_bytes());
        buf.put_slice(b"\ndata: ");
        let _ = serde_json::to_writer((&mut *buf).writer(), event);
        buf.put_slice(b"\n\n");
    }
}

/// Drives the state machine over the source. A Bedrock error or a stall ends the stream with
/// `error` and `response.failed`; the body itself never fails.
fn event_stream(
    source: EventSource,
    machine: ResponseStream,
    to_store: Option<ToStore>,
    record: Recorder,
    idle: Duration,
) -> impl futures_util::Stream<Item = Bytes> + Send {
    let start = Some((source, machine, to_store, record));
    stream::unfold(start, move |state| async move {
        let (mut source, mut machine, to_store, record) = state?;
        let mut buf = BytesMut::new();
        let next = source.next_within(idle).await;
        record.observe(&next);
        match next {
            Ok(Some(event)) => {
                push_events(&mut buf, &machine.on_event(&event));
                Some((buf.freeze(), Some((source, machine, to_store, record))))
            }
            Ok(None) => {
                push_events(&mut buf, &machine.finish());
                if let Some(to_store) = to_store {
                    to_store.save(&machine.final_response(None)).await;
                }
                Some((buf.freeze(), None))
            }
            Err(err) => {
                tracing::warn!(
                    status = err.status.as_u16(),
                    code = err.code.as_deref().unwrap_or(""),
                    "responses stream ended by a Bedrock error"
                );
                push_events(&mut buf, &machine.fail(&err));
                Some((buf.freeze(), None))
            }
        }
    })
}

/// `GET /responses/{id}`.
pub async fn retrieve_response(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match state.responses.get(&id).await? {
        Some(stored) => Ok(Json(stored.response).into_response()),
        None => Err(not_found(&id, None)),
    }
}

/// `DELETE /responses/{id}`.
pub async fn delete_response(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if state.responses.delete(&id).await? {
        Ok(Json(json!({"id": id, "object": "response", "deleted": true})).into_response())
    } else {
        Err(not_found(&id, None))
    }
}

/// `GET /responses/{id}/input_items`: this request's input items, newest first as OpenAI's
/// default `order=desc` lists them.
pub async fn list_input_items(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Some(stored) = state.responses.get(&id).await? else {
        return Err(not_found(&id, None));
    };
    let mut data = stored.input_items;
    data.reverse();
    let first = data.first().and_then(|i| i.get("id")).cloned();
    let last = data.last().and_then(|i| i.get("id")).cloned();
    Ok(Json(json!({
        "object": "list", "data": data, "first_id": first, "last_id": last, "has_more": false
    }))
    .into_response())
}
