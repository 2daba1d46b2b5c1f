//! A strict local emulator of Amazon Bedrock Runtime's Converse and
//! ConverseStream operations.
//!
//! It speaks Bedrock's real wire protocol (restJson1 and the AWS event
//! stream), so the real AWS SDK can be pointed at it, and it refuses what
//! Bedrock refuses, so translation bugs in a client surface in tests. Its
//! answers are deterministic and steerable with `[[...]]` markers in the
//! last user turn (see [`markers`]).
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! let emulator = bedrock_emulator::spawn(Default::default()).await?;
//! // point AWS_ENDPOINT_URL_BEDROCK_RUNTIME (or endpoint_url) at emulator.url()
//! # Ok(()) }
//! ```

pub mod catalog;
mod control;
mod converse;
mod converse_stream;
pub mod embeddings;
mod engine;
pub mod error;
mod event_stream;
pub mod images;
mod json_reader;
pub mod listing;
pub mod markers;
mod prompt_cache;
mod reply;
mod request;
mod schema_fill;
mod signing;
mod tokens;
mod usage;
mod validate;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::task::JoinHandle;

use crate::error::{ApiError, ErrorKind};
use crate::prompt_cache::PromptCache;

/// Bedrock accepts request bodies well beyond axum's 2 MB default (images
/// alone may be 3.75 MB before base64).
const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;

/// How the emulator behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// Pause between streamed deltas.
    pub token_delay: Duration,
    /// Write each event-stream frame in pieces of at most 37 bytes, so that
    /// clients must reassemble partial frames.
    pub fragment_frames: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            token_delay: Duration::ZERO,
            fragment_frames: true,
        }
    }
}

/// State shared by all requests to one emulator.
struct Shared {
    config: EmulatorConfig,
    cache: PromptCache,
    next_request: AtomicU64,
}

type AppState = Arc<Shared>;

/// The emulator's HTTP routes.
pub fn router(config: EmulatorConfig) -> Router {
    let state: AppState = Arc::new(Shared {
        config,
        cache: PromptCache::default(),
        next_request: AtomicU64::new(1),
    });
    let router = Router::new()
        .route("/model/{model_id}/converse", post(converse::handle))
        .route(
            "/model/{model_id}/converse-stream",
            post(converse_stream::handle),
        )
        .merge(images::routes())
        .merge(listing::routes())
        .merge(control::routes());
    control::with_state(router)
        .fallback(unknown_operation)
        .method_not_allowed_fallback(unknown_operation)
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            add_request_id,
        ))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(state)
}

async fn unknown_operation() -> Response {
    ApiError::new(
        ErrorKind::UnknownOperation,
        "The requested operation is not supported by the Bedrock emulator.",
    )
    .into_response()
}

/// Every Bedrock response carries a request id the SDK reports.
async fn add_request_id(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut response: Response,
) -> Response {
    let number = state.next_request.fetch_add(1, Ordering::Relaxed);
    let id = signing::digest_hex(&[b"request-id", &number.to_le_bytes()]);
    let id = format!(
        "{}-{}-{}-{}-{}",
        &id[0..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..32]
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// An emulator serving on a loopback port. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningEmulator {
    pub addr: SocketAddr,
    server: JoinHandle<()>,
}

impl RunningEmulator {
    /// The base URL to use as the SDK's endpoint, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The server [`serve`] returns (await it, or add a graceful shutdown).
pub type Server = axum::serve::Serve<NoDelayListener, Router, Router>;
type NoDelayListener = axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)>;

/// Serves `app` on `listener` with Nagle's algorithm off: event-stream frames are small writes,
/// and without `TCP_NODELAY` the second one waits for the client's delayed ACK (40 ms).
pub fn serve(listener: tokio::net::TcpListener, app: Router) -> Server {
    use axum::serve::ListenerExt;
    let no_delay: fn(&mut tokio::net::TcpStream) = |tcp| {
        let _ = tcp.set_nodelay(true);
    };
    axum::serve(listener.tap_io(no_delay), app)
}

/// Starts an emulator on `127.0.0.1` with an ephemeral port.
pub async fn spawn(config: EmulatorConfig) -> std::io::Result<RunningEmulator> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let app = router(config);
    let server = tokio::spawn(async move {
        if let Err(error) = serve(listener, app).await {
            tracing::error!(%error, "bedrock emulator stopped");
        }
    });
    Ok(RunningEmulator { addr, server })
}
