//! The Lambda adapter: the same router, answering each invocation the way its trigger needs.
//!
//! An Application Load Balancer cannot take a streamed response, so ALB events get a buffered
//! response document (an SSE body returned whole). A Function URL in RESPONSE_STREAM mode gets a
//! true stream. The choice is made per invocation from the event itself, so one deployed
//! function serves both (`lambda_http::run_with_streaming_response` would stream ALB events
//! too, which the ALB cannot parse).
//!
//! ALB limits, enforced here so clients get an OpenAI error instead of a bare 502:
//! - the response document is at most 1 MB; a larger one becomes a 413 telling the client to
//!   stream through the Function URL, ask for less, or use `encoding_format: "base64"`;
//! - the request body is at most 1 MB. The ALB itself answers a larger request with its own
//!   413 page and never invokes the function; an ALB-shaped event over the limit (from
//!   `cargo lambda invoke`, the console or a test) gets the same status, as an OpenAI error.
//!
//! `lambda_http` panics on a few malformed events (an invalid base64 body, a Host with an
//! impossible port); with `panic = "abort"` that would kill the execution environment, so such
//! events are answered with a 400 or sanitised before conversion.

use std::collections::BTreeMap;
use std::pin::Pin;

use axum::Router;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use lambda_http::RequestExt;
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_runtime::{FunctionResponse, LambdaEvent, MetadataPrelude, StreamResponse};
use serde::Serialize;

use crate::error::ApiError;

/// ALB's limit on the response document a Lambda target returns ("1 MB"). Measured on the
/// serialised JSON document, headers and escaping included, and taken as 10^6 bytes: a
/// needless 413 just under 1 MiB is better than a bare 502 just over 10^6.
pub const ALB_MAX_RESPONSE_BYTES: usize = 1_000_000;

/// ALB's limit on a request body forwarded to a Lambda target ("1 MB"). Taken as 1 MiB so
/// that nothing the ALB would pass is refused here.
pub const ALB_MAX_REQUEST_BYTES: usize = 1024 * 1024;

type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, lambda_http::Error>> + Send>>;

/// The document an ALB expects back from a Lambda target. Exactly one of `headers` and
/// `multiValueHeaders` is present: the one matching how the target group sent the event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlbResponse {
    pub status_code: u16,
    pub status_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_value_headers: Option<BTreeMap<String, Vec<String>>>,
    pub body: String,
    pub is_base64_encoded: bool,
}

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

/// One invocation: a buffered ALB document, or a streamed Function URL response.
pub async fn invoke(
    router: Router,
    event: LambdaEvent<LambdaRequest>,
) -> Result<FunctionResponse<AlbResponse, BodyStream>, lambda_http::Error> {
    let LambdaEvent {
        payload: mut request,
        context,
    } = event;
    let alb_multi_value = match &mut request {
        LambdaRequest::Alb(alb) => {
            drop_unparseable_host(&mut alb.headers);
            Some(!alb.multi_value_headers.is_empty())
        }
        _ => None,
    };
    let response = match refuse_before_routing(&request, alb_multi_value.is_some()) {
        Some(err) => err.into_response(),
        None => {
            let request: lambda_http::Request = request.into();
            router.oneshot(request.with_lambda_context(context)).await?
        }
    };
    match alb_multi_value {
        Some(multi_value) => Ok(FunctionResponse::BufferedResponse(
            alb_response(response, multi_value).await,
        )),
        None => Ok(FunctionResponse::StreamingResponse(streamed(response))),
    }
}

/// An error for events the router must not see: bodies over the ALB limit, and bodies whose
/// base64 would make `lambda_http` panic.
fn refuse_before_routing(request: &LambdaRequest, from_alb: bool) -> Option<ApiError> {
    let (body, base64) = match request {
        LambdaRequest::Alb(alb) => (alb.body.as_deref(), alb.is_base64_encoded),
        LambdaRequest::ApiGatewayV2(v2) => (v2.body.as_deref(), v2.is_base64_encoded),
        _ => (None, false),
    };
    let body = body?;
    let size = if base64 {
        match BASE64.decode(body) {
            Ok(bytes) => bytes.len(),
            Err(_) => {
                return Some(ApiError::invalid_request(
                    "The event says the body is base64-encoded (`isBase64Encoded: true`), but it is not valid base64.",
                ));
            }
        }
    } else {
        body.len()
    };
    (from_alb && size > ALB_MAX_REQUEST_BYTES).then(|| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            format!(
                "The request body is {size} bytes; an Application Load Balancer forwards at most 1 MB to Lambda. Send large requests (big images or documents) to the streaming Function URL, or make them smaller."
            ),
        )
        .with_code("request_too_large")
    })
}

/// `lambda_http` unwraps a URL built from the Host header, so a Host it cannot parse (an
/// impossible port, odd characters) would panic. The router does not need the Host, so such a
/// header is simply removed.
fn drop_unparseable_host(headers: &mut HeaderMap) {
    let plausible = |host: &str| {
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        };
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            && port.is_none_or(|p| p.parse::<u16>().is_ok())
    };
    let bad = headers
        .get_all(HOST)
        .iter()
        .any(|v| v.to_str().map_or(true, |h| !plausible(h)));
    if bad {
        headers.remove(HOST);
    }
}

/// The response as a Function URL stream: a status-and-headers prelude, then the body chunks
/// as the router produces them.
fn streamed(response: Response) -> StreamResponse<BodyStream> {
    let (parts, body) = response.into_parts();
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
    StreamResponse {
        metadata_prelude: MetadataPrelude {
            status_code: parts.status,
            headers,
            cookies,
        },
        stream,
    }
}

/// Collects a response into ALB's document, replacing one ALB would refuse (and turn into a
/// bare 502) with a 413 the client can act on.
async fn alb_response(response: Response, multi_value: bool) -> AlbResponse {
    let (parts, body) = response.into_parts();
    // A body over the limit cannot fit in the document; stop reading (and cancel the upstream
    // Bedrock call) as soon as it is known to be too big.
    if let Ok(bytes) = axum::body::to_bytes(body, ALB_MAX_RESPONSE_BYTES).await {
        let document = alb_document(parts.status, &parts.headers, &bytes, multi_value);
        if serialized_len(&document) <= ALB_MAX_RESPONSE_BYTES {
            return document;
        }
    }
    let err = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request_error",
        "The response is larger than the 1 MB an Application Load Balancer accepts from Lambda. Stream it through the gateway's Function URL (StreamingUrl), ask for less (max_tokens, fewer inputs), or use `encoding_format: \"base64\"` for embeddings.",
    )
    .with_code("response_too_large");
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    alb_document(err.status, &headers, err.to_json().as_bytes(), multi_value)
}

fn alb_document(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    multi_value: bool,
) -> AlbResponse {
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        // ALB computes the length of what it sends itself.
        if name == CONTENT_LENGTH {
            continue;
        }
        if let Ok(value) = value.to_str() {
            grouped
                .entry(name.as_str().to_string())
                .or_default()
                .push(value.to_string());
        }
    }
    let (headers, multi_value_headers) = if multi_value {
        (None, Some(grouped))
    } else {
        let single = grouped
            .into_iter()
            .map(|(name, values)| (name, values.join(", ")))
            .collect();
        (Some(single), None)
    };
    let (body, is_base64_encoded) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (BASE64.encode(body), true),
    };
    AlbResponse {
        status_code: status.as_u16(),
        status_description: format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .trim_end()
        .to_string(),
        headers,
        multi_value_headers,
        body,
        is_base64_encoded,
    }
}

fn serialized_len(document: &AlbResponse) -> usize {
    serde_json::to_vec(document).map_or(usize::MAX, |json| json.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_use_the_header_style_of_the_event() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("2"));
        headers.append("vary", HeaderValue::from_static("a"));
        headers.append("vary", HeaderValue::from_static("b"));
        let single =
            serde_json::to_value(alb_document(StatusCode::OK, &headers, b"ok", false)).unwrap();
        assert_eq!(single["statusDescription"], "200 OK");
        assert_eq!(single["headers"]["vary"], "a, b");
        assert!(single.get("multiValueHeaders").is_none());
        assert!(single["headers"].get("content-length").is_none());
        let multi =
            serde_json::to_value(alb_document(StatusCode::OK, &headers, b"ok", true)).unwrap();
        assert_eq!(
            multi["multiValueHeaders"]["vary"],
            serde_json::json!(["a", "b"])
        );
        assert!(multi.get("headers").is_none());
        let binary = alb_document(StatusCode::OK, &headers, &[0xff, 0x00], false);
        assert!(binary.is_base64_encoded);
        assert_eq!(binary.body, "/wA=");
    }

    #[test]
    fn hosts_that_would_panic_lambda_http_are_dropped() {
        for (host, kept) in [
            ("gw-123.us-east-1.elb.amazonaws.com", true),
            ("localhost:8080", true),
            ("example.com:99999", false),
            ("a b", false),
            ("", false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(HOST, HeaderValue::from_str(host).unwrap());
            drop_unparseable_host(&mut headers);
            assert_eq!(headers.contains_key(HOST), kept, "{host}");
        }
    }
}
