//! The access log: one line per request with method, path, status, the time to the first
//! byte of the response body and the total time. Never bodies, headers or keys.
//!
//! The line is written when the response body ends, so a stream is timed to its last event,
//! not to its headers. A body dropped before its end (the client went away, or the local
//! server ended the stream at shutdown) is logged with `complete=false`.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::time::Instant;

/// The middleware: times the request and hands the line to the response body.
pub async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let line = AccessLine {
        method,
        path,
        status: response.status().as_u16(),
        started,
        first_byte: None,
    };
    response.map(|body| {
        Body::new(LoggedBody {
            inner: body,
            line: Some(line),
        })
    })
}

/// What the line says about one request, kept until its body ends.
struct AccessLine {
    method: Method,
    path: String,
    status: u16,
    started: Instant,
    first_byte: Option<Instant>,
}

impl AccessLine {
    fn write(self, complete: bool) {
        let now = Instant::now();
        let first_byte = self.first_byte.unwrap_or(now);
        tracing::info!(
            method = %self.method,
            path = self.path,
            status = self.status,
            first_byte_micros = first_byte.duration_since(self.started).as_micros() as u64,
            micros = now.duration_since(self.started).as_micros() as u64,
            complete,
            "request"
        );
    }
}

/// A response body that writes the access line when it ends; it looks at no byte of it.
struct LoggedBody {
    inner: Body,
    line: Option<AccessLine>,
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
                if let Some(line) = self.line.as_mut() {
                    line.first_byte.get_or_insert_with(Instant::now);
                }
            }
            Some(Err(_)) => {
                if let Some(line) = self.line.take() {
                    line.write(false);
                }
            }
            None => {
                if let Some(line) = self.line.take() {
                    line.write(true);
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
        if let Some(line) = self.line.take() {
            // hyper never polls a body it knows is empty (a 204, a HEAD request's): complete.
            // Any other body dropped before its end was cut: the client left, or the server
            // ended the stream at shutdown.
            let complete = self.inner.is_end_stream();
            line.write(complete);
        }
    }
}
