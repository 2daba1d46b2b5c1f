//! The request body read timeout (`HTTP_BODY_READ_TIMEOUT_SECONDS`): a whole body must arrive
//! within the limit, counted from the end of its headers, or the request is answered with an
//! OpenAI-shaped 408 and the connection closed.
//!
//! A total deadline rather than a gap between reads: a client dripping one byte a second
//! would pass any gap limit forever. The body is wrapped, not read ahead here, so that a
//! request without a valid key is still refused before any of its body is read or buffered.

use std::error::Error;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use crate::error::{ApiError, ErrorKind};

/// Set once the deadline passed while the body was still being read.
#[derive(Clone, Default)]
pub struct TimedOut(Arc<AtomicBool>);

impl TimedOut {
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// `request` with its body bounded by `limit` from now, and the flag that says it ran out.
pub fn with_deadline(
    request: hyper::Request<Incoming>,
    limit: Duration,
) -> (hyper::Request<DeadlineBody>, TimedOut) {
    let timed_out = TimedOut::default();
    let request = request.map(|inner| DeadlineBody {
        inner,
        deadline: Instant::now() + limit,
        sleep: None,
        limit,
        timed_out: timed_out.clone(),
    });
    (request, timed_out)
}

/// The 408 a client gets when its body did not arrive in time. `Connection: close`, as the
/// rest of the body may still be on its way.
pub fn timeout_response(limit: Duration) -> Response {
    let mut response = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        ErrorKind::InvalidRequestError,
        format!(
            "The request body did not arrive within {} s (HTTP_BODY_READ_TIMEOUT_SECONDS). Send the whole body at once, or raise the limit.",
            limit.as_secs_f64()
        ),
    )
    .with_code("request_timeout")
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once its deadline passes.
pub struct DeadlineBody {
    inner: Incoming,
    deadline: Instant,
    /// Created on the first wait, so bodies read at once (or never) cost no timer.
    sleep: Option<Pin<Box<Sleep>>>,
    limit: Duration,
    timed_out: TimedOut,
}

/// The error the router sees in place of the rest of the body.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} s", .0.as_secs_f64())]
struct BodyReadTimeout(Duration);

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.timed_out.0.store(true, Ordering::Release);
                Poll::Ready(Some(Err(Box::new(BodyReadTimeout(this.limit)))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
