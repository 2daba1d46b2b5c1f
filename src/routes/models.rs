//! `GET /models` and `GET /models/{id}`: Bedrock's models and inference profiles as OpenAI
//! model objects, from the live catalogue (`crate::catalog`), limited to what the caller's key
//! may use (its `models` patterns; every model for a key without them).
//!
//! Ids contain `:` and, for application inference profiles, `/` (they are ARNs), so the
//! retrieve route takes the rest of the path as the id.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::Caller;
use crate::auth::model_access::not_allowed;
use crate::catalog::ModelEntry;
use crate::error::ApiError;
use crate::state::AppState;

/// `{"object":"list","data":[...]}`.
#[derive(Debug, Serialize)]
pub struct ModelList<'a> {
    pub object: &'static str,
    pub data: Vec<&'a ModelEntry>,
}

pub async fn list_models(State(state): State<AppState>, caller: Caller) -> Response {
    match state.catalog.snapshot().await {
        Ok(snapshot) => Json(ModelList {
            object: "list",
            data: snapshot
                .models
                .iter()
                .filter(|m| caller.allows(&m.id))
                .collect(),
        })
        .into_response(),
        Err(err) => err.into_response(),
    }
}

pub async fn retrieve_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    // A client that percent-encodes `/` still reaches here; a leading `/` is the route's own.
    let id = id.trim_start_matches('/');
    if id.is_empty() {
        return ApiError::not_found("Name a model: GET /api/v1/models/{id}.").into_response();
    }
    if !caller.allows(id) {
        return not_allowed(&caller, id, id).into_response();
    }
    match state.catalog.find(id).await {
        Ok(entry) => Json(entry).into_response(),
        Err(err) => err.into_response(),
    }
}
