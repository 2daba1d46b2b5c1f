//! Connections beyond `MAX_CONNECTIONS`: answered, briefly, so that health checks keep
//! working when clients hold every normal connection.
//!
//! Such a connection serves one request and closes: `GET /health` goes to the router as usual,
//! anything else gets an OpenAI-shaped 503 with `Retry-After`, which OpenAI SDKs retry. Its head
//! must arrive within two seconds (or the header read timeout, if shorter). At most
//! `OVERFLOW_CONNECTIONS` of these are open at once; past that a new connection is closed
//! without an answer, so the process's file descriptors stay bounded.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tower_service::Service;

use crate::error::{ApiError, ErrorKind};

/// Seconds a client is told to wait before retrying.
const RETRY_AFTER_SECONDS: &str = "1";

pub async fn serve_connection(
    tcp: TcpStream,
    router: Router,
    header_read_timeout: Duration,
    permit: OwnedSemaphorePermit,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
        let mut router = router.clone();
        async move {
            if request.method() == Method::GET && request.uri().path() == "/health" {
                return router.call(request).await;
            }
            Ok::<_, Infallible>(busy())
        }
    });
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(false)
        .serve_connection(TokioIo::new(tcp), service)
        .await;
    drop(permit);
}

/// The 503 for any request but `/health` on an over-the-limit connection.
fn busy() -> Response {
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::ServerError,
        "The gateway is serving as many connections as it allows (MAX_CONNECTIONS). Retry in a moment.",
    )
    .with_code("server_busy")
    .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
