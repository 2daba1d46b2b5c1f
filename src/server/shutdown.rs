//! Graceful shutdown of the local server, and the signals that start it.
//!
//! On Ctrl-C or SIGTERM the server stops accepting, asks every connection to close once its
//! request in flight is answered (idle keep-alive connections close at once), and waits up to
//! `SHUTDOWN_GRACE_SECONDS`. Event streams still open then are ended between two events with
//! a `server_shutting_down` error event, the way a stream that fails mid-way ends, so clients
//! see why it stopped instead of a cut connection; they get a short moment to flush it.

use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use bytes::Bytes;
use http_body::Frame;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use crate::routes::sse;

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// The two stages of a shutdown, as seen by connections and streams.
pub struct Signals {
    /// Connections finish their request in flight, then close.
    graceful: watch::Sender<bool>,
    /// Event streams end now, with the shutdown error event.
    cut: watch::Sender<bool>,
}

impl Signals {
    pub fn new() -> Signals {
        Signals {
            graceful: watch::Sender::new(false),
            cut: watch::Sender::new(false),
        }
    }

    /// Drives `connection` to its end, asking it to close gracefully once shutdown starts.
    pub async fn run_connection<S, B>(&self, connection: http1::Connection<TokioIo<TcpStream>, S>)
    where
        S: hyper::service::HttpService<Incoming, ResBody = B>,
        S::Error: Into<Box<dyn Error + Send + Sync>>,
        B: http_body::Body + 'static,
        B::Error: Into<Box<dyn Error + Send + Sync>>,
    {
        let mut graceful = self.graceful.subscribe();
        let shutdown_started = async move {
            let _ = graceful.wait_for(|started| *started).await;
        };
        tokio::pin!(connection);
        let result = tokio::select! {
            result = connection.as_mut() => result,
            () = shutdown_started => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(err) = result {
            // Timeouts, resets and unparsable requests: the client's doing, not worth a warning.
            tracing::debug!(error = %err, "connection ended with an error");
        }
    }

    /// `response`, made to end with the shutdown error event when the grace period is over, if
    /// it is an event stream.
    pub fn cut_on_shutdown(&self, response: Response) -> Response {
        let is_event_stream = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        if !is_event_stream {
            return response;
        }
        let mut cut = self.cut.subscribe();
        response.map(|inner| {
            Body::new(CutOnShutdown {
                inner: Some(inner),
                cut: Box::pin(async move {
                    let _ = cut.wait_for(|now| *now).await;
                }),
            })
        })
    }

    /// Once the listener is closed: lets connections finish within `grace`, then ends open
    /// streams and gives them `flush` to write their last event. Connections are counted by
    /// their permits in `slots` (`max` of them) and `overflow_slots`.
    pub async fn drain(
        &self,
        slots: &Semaphore,
        max: usize,
        overflow_slots: &Semaphore,
        grace: Duration,
        flush: Duration,
    ) {
        self.graceful.send_replace(true);
        let overflow_max = super::OVERFLOW_CONNECTIONS;
        let all_closed = || async {
            let _normal = slots.acquire_many(max as u32).await;
            let _overflow = overflow_slots.acquire_many(overflow_max as u32).await;
        };
        let open = max - slots.available_permits();
        if open > 0 {
            tracing::info!(
                open,
                grace_seconds = grace.as_secs_f64(),
                "shutting down: waiting for requests in flight (SHUTDOWN_GRACE_SECONDS)"
            );
        }
        if tokio::time::timeout(grace, all_closed()).await.is_ok() {
            return;
        }
        tracing::warn!(
            open = max - slots.available_permits(),
            "shutting down: grace period over, ending open streams with server_shutting_down"
        );
        self.cut.send_replace(true);
        if tokio::time::timeout(flush, all_closed()).await.is_err() {
            tracing::warn!(
                open = max - slots.available_permits(),
                "shutting down: closing the connections still open"
            );
        }
    }
}

/// An event stream's body that ends with the shutdown error event once `cut` completes.
/// Streams are cut between two events, as each body piece is one or more whole events.
struct CutOnShutdown {
    inner: Option<Body>,
    cut: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl http_body::Body for CutOnShutdown {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        if this.cut.as_mut().poll(cx).is_ready() {
            // Dropping the source also ends the Bedrock stream behind it.
            this.inner = None;
            return Poll::Ready(Some(Ok(Frame::data(sse::shutdown_event()))));
        }
        let frame = std::task::ready!(Pin::new(inner).poll_frame(cx));
        if frame.is_none() {
            this.inner = None;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_none()
    }
}

/// A warning logged at most once per interval (a client at the connection limit would
/// otherwise fill the log).
pub struct RateLimitedWarning {
    interval: Duration,
    last: Mutex<Option<Instant>>,
}

impl RateLimitedWarning {
    pub fn new(interval: Duration) -> RateLimitedWarning {
        RateLimitedWarning {
            interval,
            last: Mutex::new(None),
        }
    }

    pub fn warn(&self, log: impl FnOnce()) {
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        let now = Instant::now();
        if last.is_none_or(|at| now.duration_since(at) >= self.interval) {
            *last = Some(now);
            log();
        }
    }
}
