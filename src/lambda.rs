//! The Lambda adapter: the same router, answering each invocation the way its trigger needs.
//!
//! An Application Load Balancer cannot take a streamed response, so ALB events get a buffered
//! response document (an SSE body returned whole). A Function URL in RESPONSE_STREAM mode gets a
//! true stream. The choice is made per invocation from the event itself, so one deployed
//! function serves both (`lambda_http::run_with_streaming_response` would stream ALB events
//! too, which the ALB cannot parse).

use std::pin::Pin;

use axum::Router;
use axum::http::header::SET_COOKIE;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use lambda_http::aws_lambda_events::alb::AlbTargetGroupResponse;
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Body, RequestExt};
use lambda_runtime::{FunctionResponse, LambdaEvent, MetadataPrelude, StreamResponse};

use crate::error::ApiError;

/// ALB's limit on the response document it accepts from a Lambda target.
pub const ALB_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, lambda_http::Error>> + Send>>;

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

/// One invocation: buffered ALB document, or a streamed Function URL response.
pub async fn invoke(
    router: Router,
    event: LambdaEvent<LambdaRequest>,
) -> Result<FunctionResponse<AlbTargetGroupResponse, BodyStream>, lambda_http::Error> {
    let from_alb = matches!(event.payload, LambdaRequest::Alb(_));
    let request: lambda_http::Request = event.payload.into();
    let response = router
        .oneshot(request.with_lambda_context(event.context))
        .await?;
    let (parts, body) = response.into_parts();
    if from_alb {
        return Ok(FunctionResponse::BufferedResponse(
            alb_response(parts, body).await,
        ));
    }
    let mut headers = parts.headers;
    let cookies = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    headers.remove(SET_COOKIE);
    let stream: BodyStream = Box::pin(
        body.into_data_stream()
            .map(|r| r.map_err(lambda_http::Error::from)),
    );
    Ok(FunctionResponse::StreamingResponse(StreamResponse {
        metadata_prelude: MetadataPrelude {
            status_code: parts.status,
            headers,
            cookies,
        },
        stream,
    }))
}

/// Collects a response into ALB's document, refusing bodies ALB would turn into a bare 502.
async fn alb_response(
    parts: axum::http::response::Parts,
    body: axum::body::Body,
) -> AlbTargetGroupResponse {
    let (status, mut headers, body) = match axum::body::to_bytes(body, ALB_MAX_RESPONSE_BYTES).await
    {
        Ok(bytes) => (parts.status, parts.headers, bytes),
        Err(_) => {
            let err = ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "The response is larger than the 1 MB an Application Load Balancer accepts from Lambda. Ask for less (max_tokens, fewer inputs), use `encoding_format: \"base64\"` for embeddings, or call the streaming Function URL.",
            )
            .with_code("response_too_large");
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(
                axum::http::header::CONTENT_TYPE,
                "application/json".parse().expect("static"),
            );
            (err.status, headers, Bytes::from(err.to_json()))
        }
    };
    headers.remove(axum::http::header::CONTENT_LENGTH);
    let mut response = AlbTargetGroupResponse::default();
    response.status_code = i64::from(status.as_u16());
    response.status_description = Some(format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    ));
    response.multi_value_headers = headers.clone();
    response.headers = headers;
    match String::from_utf8(body.to_vec()) {
        Ok(text) => {
            response.body = Some(Body::Text(text));
            response.is_base64_encoded = false;
        }
        Err(bytes) => {
            response.body = Some(Body::Binary(bytes.into_bytes()));
            response.is_base64_encoded = true;
        }
    }
    response
}
