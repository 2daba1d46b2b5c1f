//! The access log: creates each request's [`RequestRecord`] (shared with the auth middleware
//! and the handlers through a [`Recorder`] in the request's extensions), and hands it to
//! [`Telemetry::finish`] when the response body ends: one log line per request (with its
//! metrics in JSON mode), then the observers. Never bodies, headers or keys.
//!
//! The record is finished when the response body ends, so a stream is timed to its last
//! event, not to its headers. A body dropped before its end (the client went away, or the local
//! server ended the stream at shutdown) is recorded with `complete: false`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::time::Instant;

use crate::telemetry::record::client_text;
use crate::telemetry::{ErrorOutcome, LambdaRequestId, Recorder, RequestRecord, Telemetry};

/// The header an ALB (or API Gateway) adds with the request's X-Ray trace id.
const TRACE_HEADER: &str = "x-amzn-trace-id";

/// The middleware: starts the record, runs the request, and hands the record to the body.
pub async fn access_log(
    State(telemetry): State<Arc<Telemetry>>,
    mut request: Request,
    next: Next,
) -> Response {
    let mut record = RequestRecord::new(
        Instant::now(),
        request.method().as_str(),
        request.uri().path(),
    );
    record.request_id = request
        .extensions()
        .get::<LambdaRequestId>()
        .map(|id| id.0.clone());
    record.trace_id = request
        .headers()
        .get(TRACE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(client_text);
    let recorder = Recorder::new(record);
    request.extensions_mut().insert(recorder.clone());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let error = response.extensions().get::<ErrorOutcome>().cloned();
    recorder.update(|r| {
        r.status = status;
        // An error event that already ended a stream is kept; an HTTP error replaces nothing.
        if r.error.is_none() {
            r.error = error;
        }
    });
    response.map(|body| {
        Body::new(LoggedBody {
            inner: body,
            finish: Some(Finish {
                recorder,
                telemetry,
                first_byte: None,
            }),
        })
    })
}

/// What is needed to finish the record once the body ends.
struct Finish {
    recorder: Recorder,
    telemetry: Arc<Telemetry>,
    first_byte: Option<Instant>,
}

impl Finish {
    fn run(self, complete: bool) {
        let now = Instant::now();
        let first_byte = self.first_byte;
        self.recorder.update(|r| {
            r.first_byte = first_byte.map(|t| t.duration_since(r.started));
            r.latency = now.duration_since(r.started);
            r.complete = complete;
        });
        self.telemetry.finish(&self.recorder.snapshot());
    }
}

/// A response body that finishes the record when it ends; it looks at no byte of it.
struct LoggedBody {
    inner: Body,
    finish: Option<Finish>,
}

impl HttpBody for LoggedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let frame = std::task::ready!(Pin::new(&mut self.inner).poll_frame(cx));
        match &frame {
            Some(Ok(_)) => {
                if let Some(finish) = self.finish.as_mut() {
                    finish.first_byte.get_or_insert_with(Instant::now);
                }
            }
            Some(Err(_)) => {
                if let Some(finish) = self.finish.take() {
                    finish.run(false);
                }
            }
            None => {
                if let Some(finish) = self.finish.take() {
                    finish.run(true);
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        if let Some(finish) = self.finish.take() {
            // hyper never polls a body it knows is empty (a 204, a HEAD request's): complete.
            // Any other body dropped before its end was cut: the client left, or the server
            // ended the stream at shutdown.
            let complete = self.inner.is_end_stream();
            finish.run(complete);
        }
    }
}
