//! The emulator's own control routes, under `/_emulator/`, for tests: what the emulator received
//! and how the control plane should misbehave. Bedrock has no such routes; everything else the
//! emulator serves is Bedrock's API.
//!
//! - `GET /_emulator/calls/converse`: every Converse and ConverseStream call (operation, model
//!   id, request body as received), so a test can check what a client sent to Bedrock.
//! - `GET /_emulator/calls/invoke`: every InvokeModel (embeddings) call (model id, input count,
//!   body) and the most that were in flight at once, for tests of batching and concurrency.
//! - `GET /_emulator/calls/listing`: how many control-plane calls arrived, for caching tests.
//! - `POST /_emulator/listing` with a [`ListingBehaviour`]: the listings fail, slow down or page
//!   badly from then on.
//!
//! The logs are per emulator: [`with_state`] puts one of each into the router, where the
//! handlers that record and the routes that report both find it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::Extension;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};

use crate::listing::{ControlPlane, ListingBehaviour};

/// The control routes, to merge into the emulator's router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/_emulator/calls/converse", get(converse_calls))
        .route("/_emulator/calls/invoke", get(invoke_calls))
        .route("/_emulator/calls/listing", get(listing_calls))
        .route("/_emulator/listing", post(set_listing_behaviour))
}

/// One emulator's logs and control-plane state, as request extensions on all its routes.
pub fn with_state<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(Extension(Arc::new(ConverseLog::default())))
        .layer(Extension(Arc::new(InvokeLog::default())))
        .layer(Extension(Arc::new(ControlPlane::default())))
}

/// Records of calls, in arrival order.
#[derive(Debug)]
struct Calls<T>(Mutex<Vec<T>>);

impl<T> Default for Calls<T> {
    fn default() -> Self {
        Calls(Mutex::new(Vec::new()))
    }
}

impl<T: Clone> Calls<T> {
    fn push(&self, call: T) {
        if let Ok(mut calls) = self.0.lock() {
            calls.push(call);
        }
    }

    fn snapshot(&self) -> Vec<T> {
        self.0.lock().map(|calls| calls.clone()).unwrap_or_default()
    }
}

/// The Converse and ConverseStream calls received.
#[derive(Debug, Default)]
pub struct ConverseLog {
    calls: Calls<ConverseCall>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConverseCall {
    /// `Converse` or `ConverseStream`.
    operation: &'static str,
    model_id: String,
    /// The request body as received (`null` if it is not JSON).
    body: Value,
}

impl ConverseLog {
    pub fn record(&self, operation: &'static str, model_id: &str, body: &[u8]) {
        self.calls.push(ConverseCall {
            operation,
            model_id: model_id.to_string(),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        });
    }
}

async fn converse_calls(Extension(log): Extension<Arc<ConverseLog>>) -> Json<Value> {
    Json(json!({ "calls": log.calls.snapshot() }))
}

/// The InvokeModel calls received, and how many were in flight at once.
#[derive(Debug, Default)]
pub struct InvokeLog {
    calls: Calls<InvokeCall>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct InvokeCall {
    model_id: String,
    /// Texts in the call (0 when the body was refused).
    inputs: usize,
    /// The request body as received, so tests can check what a client sent.
    body: Value,
}

impl InvokeLog {
    /// Counts a call as in flight until the guard is dropped.
    pub fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(self)
    }

    pub fn record(&self, model_id: &str, inputs: usize, body: &[u8]) {
        self.calls.push(InvokeCall {
            model_id: model_id.to_string(),
            inputs,
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        });
    }
}

/// A call in flight; counted down when dropped.
pub struct InFlight<'a>(&'a InvokeLog);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn invoke_calls(Extension(log): Extension<Arc<InvokeLog>>) -> Json<Value> {
    Json(json!({
        "calls": log.calls.snapshot(),
        "maxInFlight": log.max_in_flight.load(Ordering::SeqCst),
    }))
}

async fn listing_calls(Extension(state): Extension<Arc<ControlPlane>>) -> Json<Value> {
    Json(state.call_counts())
}

async fn set_listing_behaviour(
    Extension(state): Extension<Arc<ControlPlane>>,
    body: Bytes,
) -> Response {
    match serde_json::from_slice::<ListingBehaviour>(&body) {
        Ok(behaviour) => {
            state.set_behaviour(behaviour);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    }
}
