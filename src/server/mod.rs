//! The local HTTP server: the same router as on Lambda, on `HOST:PORT`, streaming responses
//! chunk by chunk. Used for development, containers and the tests.
//!
//! It is hyper's HTTP/1.1 server driven directly (not `axum::serve`) so that slow and idle
//! clients cannot hold it: a request's head must arrive within the header read timeout (hyper
//! runs the same timer while a keep-alive connection waits for its next request, so that is the
//! idle timeout too), its body within the body read timeout ([`body_timeout`]), and at most
//! `MAX_CONNECTIONS` connections are served at once ([`overflow`] says what happens beyond).
//! Heads over the documented limits get OpenAI-shaped errors ([`head_limits`]). HTTP/2 is not
//! served: hyper is built without it, and a cleartext HTTP/2 (h2c) connection is closed.
//! Ctrl-C and SIGTERM shut down gracefully ([`shutdown`]).

mod body_timeout;
mod head_limits;
mod overflow;
mod shutdown;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_service::Service;

use crate::config::Config;

pub use shutdown::shutdown_signal;

/// Connections accepted beyond `MAX_CONNECTIONS` to answer `/health` (and a 503 for anything
/// else) before they close; past these, new connections are closed at once.
pub const OVERFLOW_CONNECTIONS: usize = 32;
/// Longest wait for the request head on an over-the-limit connection.
const OVERFLOW_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(2);
/// After the grace period has ended the open streams, how long they get to flush that last event.
const STREAM_CUT_FLUSH: Duration = Duration::from_secs(2);
/// Pause after a failed `accept` (out of file descriptors, for one), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// The largest request head hyper itself reads (start line and headers); [`head_limits`]
/// answers the documented, smaller limits in OpenAI's shape before this one is reached.
const HYPER_MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most headers hyper itself parses; see [`HYPER_MAX_HEAD_BYTES`].
const HYPER_MAX_HEADERS: usize = 200;

/// The local server's limits (the `HTTP_*`, `MAX_CONNECTIONS` and `SHUTDOWN_GRACE_SECONDS`
/// settings of [`Config`]).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

impl ServerSettings {
    pub fn from_config(config: &Config) -> ServerSettings {
        ServerSettings {
            header_read_timeout: config.http_header_read_timeout,
            body_read_timeout: config.http_body_read_timeout,
            max_connections: config.max_connections,
            shutdown_grace: config.shutdown_grace,
        }
    }
}

impl Default for ServerSettings {
    /// The same values as [`Config`]'s defaults.
    fn default() -> Self {
        ServerSettings {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(60),
            max_connections: 256,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves `router` on `listener` with default limits until Ctrl-C or SIGTERM.
pub async fn serve(listener: TcpListener, router: Router) -> std::io::Result<()> {
    serve_with(
        listener,
        router,
        ServerSettings::default(),
        shutdown_signal(),
    )
    .await
}

/// Serves `router` on `listener` until `shutdown` completes, then shuts down gracefully: no new
/// connections, requests in flight get `shutdown_grace` to finish, then open event streams end
/// with a `server_shutting_down` error event.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let max_connections = settings.max_connections.clamp(1, 1_000_000);
    let server = Arc::new(Server {
        router,
        settings,
        slots: Arc::new(Semaphore::new(max_connections)),
        overflow_slots: Arc::new(Semaphore::new(OVERFLOW_CONNECTIONS)),
        signals: shutdown::Signals::new(),
        limit_warning: shutdown::RateLimitedWarning::new(Duration::from_secs(10)),
    });
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, _peer)) => server.clone().dispatch(tcp),
            Err(err) => {
                tracing::warn!(error = %err, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
    drop(listener);
    server
        .signals
        .drain(
            &server.slots,
            max_connections,
            &server.overflow_slots,
            server.settings.shutdown_grace,
            STREAM_CUT_FLUSH,
        )
        .await;
    Ok(())
}

struct Server {
    router: Router,
    settings: ServerSettings,
    /// One permit per connection served normally.
    slots: Arc<Semaphore>,
    /// One permit per over-the-limit connection (see [`overflow`]).
    overflow_slots: Arc<Semaphore>,
    signals: shutdown::Signals,
    limit_warning: shutdown::RateLimitedWarning,
}

impl Server {
    /// Serves a new connection normally, as an over-the-limit connection, or not at all.
    fn dispatch(self: Arc<Self>, tcp: TcpStream) {
        // Nagle's algorithm is off: each SSE chunk is a small write, and with it on the second
        // one waits for the client's delayed ACK.
        let _ = tcp.set_nodelay(true);
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            tokio::spawn(self.serve_connection(tcp, permit));
            return;
        }
        self.limit_warning.warn(|| {
            tracing::warn!(
                max_connections = self.settings.max_connections,
                "connection limit reached (MAX_CONNECTIONS): new connections get /health and 503s"
            );
        });
        if let Ok(permit) = self.overflow_slots.clone().try_acquire_owned() {
            tokio::spawn(overflow::serve_connection(
                tcp,
                self.router.clone(),
                self.settings
                    .header_read_timeout
                    .min(OVERFLOW_HEADER_READ_TIMEOUT),
                permit,
            ));
        }
        // Else `tcp` is dropped here: closed without an answer.
    }

    async fn serve_connection(self: Arc<Self>, tcp: TcpStream, permit: OwnedSemaphorePermit) {
        let server = self.clone();
        let service = hyper::service::service_fn(move |request| {
            let server = server.clone();
            async move { Ok::<_, Infallible>(server.handle(request).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(self.settings.header_read_timeout)
            .max_header_size(HYPER_MAX_HEAD_BYTES)
            .max_headers(HYPER_MAX_HEADERS)
            .serve_connection(TokioIo::new(tcp), service);
        self.signals.run_connection(connection).await;
        drop(permit);
    }

    /// One request: the head limits, the body read timeout, the router, and the shutdown cut
    /// for event streams.
    async fn handle(&self, request: hyper::Request<Incoming>) -> Response {
        if let Some(err) = head_limits::check(&request) {
            tracing::info!(
                method = %request.method(),
                status = err.status.as_u16(),
                "request refused by the server's head limits"
            );
            return err.into_response();
        }
        let (request, timed_out) =
            body_timeout::with_deadline(request, self.settings.body_read_timeout);
        let (method, path) = (request.method().clone(), request.uri().path().to_string());
        let mut router = self.router.clone();
        let response = match router.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        // The router saw the body fail and answered 400 (its access line says so); the
        // client gets the 408 that says what happened.
        if timed_out.get() {
            tracing::info!(%method, path, status = 408, "request body timed out");
            return body_timeout::timeout_response(self.settings.body_read_timeout);
        }
        self.signals.cut_on_shutdown(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_configuration_defaults() {
        let config = Config::from_lookup(|k| (k == "API_KEY").then(|| "k".to_string())).unwrap();
        let from_config = ServerSettings::from_config(&config);
        let default = ServerSettings::default();
        assert_eq!(
            format!("{from_config:?}"),
            format!("{default:?}"),
            "ServerSettings::default() must follow Config's defaults"
        );
    }
}
