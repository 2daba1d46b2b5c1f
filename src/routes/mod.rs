//! Request handlers, one file per route family. Each is thin: parse, call the translation core
//! and the Bedrock seam, write the response.

pub mod chat;
pub mod completions;
pub mod embeddings;
pub mod event_source;
pub mod health;
pub mod images;
pub mod models;
pub mod responses;
pub mod sse;
pub mod usage;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use serde::de::DeserializeOwned;

use crate::auth::Caller;
use crate::auth::model_access::{ModelKind, resolve_published};
use crate::capabilities::{Capabilities, capabilities};
use crate::error::{ApiError, ErrorKind};
use crate::openai::request::parse_json;
use crate::state::AppState;

/// A request body parsed as `T`, or the OpenAI-style error for it: 413 past
/// `MAX_REQUEST_BYTES` (with `too_large_hint` saying what to send less of), 400 otherwise.
pub fn parse_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    too_large_hint: &str,
) -> Result<T, ApiError> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let message = if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            format!("The request body is too large for this gateway (MAX_REQUEST_BYTES). {too_large_hint}")
        } else {
            format!("The request body could not be read: {rejection}")
        };
        ApiError::new(status, ErrorKind::InvalidRequestError, message)
    })?;
    parse_json(&body)
}

/// The Bedrock model a chat-style request (chat completions, Responses) asked for, and what it
/// can do: resolved under the caller's key by [`resolve_model`] (the key's aliases and default,
/// then `MODEL_ALIASES` and OpenAI's model names (`OPENAI_MODEL_PREFIXES`); 403 outside the key's models; 404 if Bedrock does not know
/// it; the bare id of a profile-only model routed to its profile; the cached listing read once);
/// its capabilities from the hand table,
/// corrected by what Bedrock's listing publishes, then by `MODEL_CAPABILITIES`. An empty name or
/// an embedding model is a 400; `api` names the route in that message.
pub async fn chat_model(
    state: &AppState,
    caller: &Caller,
    requested: &str,
    api: &str,
) -> Result<(String, Capabilities), ApiError> {
    if requested.trim().is_empty() {
        return Err(ApiError::invalid_param(
            "model",
            "`model` must name a Bedrock model id; see GET /api/v1/models.",
        ));
    }
    let (model_id, published) =
        resolve_published(state, caller, requested, ModelKind::Chat).await?;
    let caps = capabilities(&model_id);
    let caps = published.map_or(caps, |p| p.apply(caps));
    let caps = state.config.model_capabilities.apply(&model_id, caps);
    if let Some(family) = crate::translate::image_generation::ImageFamily::of(&model_id) {
        return Err(ApiError::invalid_param(
            "model",
            format!(
                "`{model_id}` is an image model ({}); use it with /api/v1/images/generations, not {api}.",
                family.name()
            ),
        )
        .with_code("model_not_supported"));
    }
    if caps.embedding {
        return Err(ApiError::invalid_param(
            "model",
            format!(
                "`{model_id}` is an embedding model; use it with /api/v1/embeddings, not {api}."
            ),
        ));
    }
    Ok((model_id, caps))
}
