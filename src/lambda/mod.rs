//! The Lambda adapter: the same router, answering each invocation the way its trigger needs.
//!
//! An Application Load Balancer cannot take a streamed response, so ALB events get a buffered
//! response document (an SSE body returned whole). A Function URL in RESPONSE_STREAM mode gets a
//! true stream. An API Gateway HTTP API (same event format as a Function URL, but it cannot
//! take a stream) gets a buffered payload 2.0 document. An API Gateway REST API (payload 1.0)
//! gets a stream when its stage marks the integration as streaming (template.yaml's does), else
//! a buffered 1.0 document. The choice is made per invocation from
//! the event itself ([`trigger`]), so one deployed function serves them all
//! (`lambda_http::run_with_streaming_response` would stream ALB events too, which the ALB
//! cannot parse).
//!
//! The pieces, in the order an invocation meets them:
//! - `trigger`: who invoked, and the limits that caller sets;
//! - `sanitize`: rewrites what would make `lambda_http` panic (and, with `panic = "abort"`,
//!   kill the execution environment);
//! - `request`: the event made into the router's request, or an OpenAI error instead (a body
//!   over the ALB's 1 MB, invalid base64), with a [`crate::limits::ResponseLimit`] extension
//!   for the handlers of buffered triggers;
//! - `buffered` / `streamed`: the router's response as the caller's document or stream.
//!
//! ALB limits are enforced here so clients get an OpenAI error instead of a bare 502: the
//! response document is at most 1 MB (a larger one becomes a 413 telling the client to stream
//! through the Function URL, ask for less, or use `encoding_format: "base64"`); the request
//! body is at most 1 MB (the ALB itself answers a larger request with its own 413 page; an
//! ALB-shaped event over the limit from `cargo lambda invoke`, the console or a test gets the
//! same status, as an OpenAI error).

mod buffered;
mod request;
mod sanitize;
mod streamed;
mod trigger;

use std::time::{Duration, SystemTime};

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use lambda_http::RequestExt;
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_runtime::{FunctionResponse, LambdaEvent};

use crate::error::{ApiError, ErrorKind};

pub use buffered::{AlbResponse, BufferedDocument};
pub use request::router_request;
pub use sanitize::PLACEHOLDER_HOST;
pub use streamed::BodyStream;
pub use trigger::{
    ALB_MAX_REQUEST_BYTES, ALB_MAX_RESPONSE_BYTES, BUFFERED_MAX_RESPONSE_BYTES,
    STREAM_STAGE_VARIABLE,
};

use buffered::buffered_response;
use streamed::streamed;
use trigger::Trigger;

/// Whether this process runs inside Lambda.
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Runs the Lambda runtime loop with `router` answering every invocation.
pub async fn run(router: Router) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        invoke(router.clone(), event)
    }))
    .await
}

/// One invocation: a buffered ALB / HTTP API / REST API document, or a streamed Function URL /
/// REST API response.
pub async fn invoke(
    router: Router,
    event: LambdaEvent<LambdaRequest>,
) -> Result<FunctionResponse<BufferedDocument, BodyStream>, lambda_http::Error> {
    let LambdaEvent {
        payload: event,
        context,
    } = event;
    let trigger = Trigger::of(&event);
    let deadline = answer_deadline(context.deadline());
    let prepared = request::prepare(event, trigger);
    let respond = async move {
        match prepared {
            Err(err) => Ok(err.into_response()),
            Ok(mut request) => {
                let id = crate::telemetry::LambdaRequestId(context.request_id.clone());
                request.extensions_mut().insert(id);
                router.oneshot(request.with_lambda_context(context)).await
            }
        }
    };
    match trigger {
        streaming if streaming.streams() => {
            let response = match tokio::time::timeout_at(deadline, respond).await {
                Ok(response) => response?,
                Err(_) => out_of_time().into_response(),
            };
            Ok(FunctionResponse::StreamingResponse(streamed(
                response, deadline,
            )))
        }
        buffered => {
            // The whole buffered answer must be ready before Lambda's own timeout, or the
            // caller turns the killed invocation into a bare 502.
            let answer = async move {
                Ok::<_, lambda_http::Error>(buffered_response(respond.await?, buffered).await)
            };
            let document = match tokio::time::timeout_at(deadline, answer).await {
                Ok(document) => document?,
                Err(_) => buffered_response(out_of_time().into_response(), buffered).await,
            };
            Ok(FunctionResponse::BufferedResponse(document))
        }
    }
}

/// Time kept back from Lambda's deadline to send the answer (or the error) itself.
const DEADLINE_MARGIN: Duration = Duration::from_millis(1500);

/// When the answer must be complete: Lambda's deadline minus a margin, as a tokio instant.
fn answer_deadline(lambda_deadline: SystemTime) -> tokio::time::Instant {
    let remaining = lambda_deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .saturating_sub(DEADLINE_MARGIN);
    tokio::time::Instant::now() + remaining
}

fn out_of_time() -> ApiError {
    ApiError::new(
        StatusCode::GATEWAY_TIMEOUT,
        ErrorKind::TimeoutError,
        "The answer took longer than the gateway's Lambda timeout allows. Ask for less (max_tokens), or raise the function's Timeout.",
    )
    .with_code("lambda_timeout")
}
