//! Server-sent events as OpenAI streams them: `data: <json>\n\n` per chunk, `data: [DONE]\n\n`
//! at the end, and `data: {"error":...}\n\n` when a stream fails after it started (then the
//! stream ends, without `[DONE]`, so clients raise the error instead of taking a cut reply as
//! whole). The local server ends streams the same way when it shuts down
//! ([`shutdown_event`]).

use std::convert::Infallible;

use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use crate::error::{ApiError, ErrorKind};

/// The end-of-stream marker OpenAI clients wait for.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// Appends one `data:` event holding `value` as JSON.
pub fn push_event<T: Serialize>(buf: &mut BytesMut, value: &T) {
    buf.put_slice(b"data: ");
    // Our chunk types always serialize; a failure would be a bug, not input.
    let _ = serde_json::to_writer((&mut *buf).writer(), value);
    buf.put_slice(b"\n\n");
}

/// The event that ends a failed stream.
pub fn error_event(err: &ApiError) -> Bytes {
    let mut buf = BytesMut::new();
    push_event(&mut buf, &err.body());
    buf.freeze()
}

/// The event that ends a stream still open when the local server's shutdown grace period is
/// over (`SHUTDOWN_GRACE_SECONDS`).
pub fn shutdown_event() -> Bytes {
    error_event(
        &ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::ServerError,
            "The gateway is shutting down, so this stream was ended before the model finished. Send the request again.",
        )
        .with_code("server_shutting_down"),
    )
}

/// A streaming `text/event-stream` response over `events` (empty pieces are skipped).
pub fn response(events: impl Stream<Item = Bytes> + Send + 'static) -> Response {
    let body = events
        .filter(|bytes| std::future::ready(!bytes.is_empty()))
        .map(Ok::<_, Infallible>);
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .header("x-accel-buffering", "no")
        .body(Body::from_stream(body))
        .expect("static headers are valid")
}
