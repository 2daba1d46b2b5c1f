//! The Lambda adapter: the same router, answering each invocation the way its trigger needs.
//!
//! An Application Load Balancer cannot take a streamed response, so ALB events get a buffered
//! response document (an SSE body returned whole). A Function URL in RESPONSE_STREAM mode gets a
//! true stream. An API Gateway HTTP API (same event format as a Function URL, but it cannot
//! take a stream) gets a buffered payload 2.0 document. The choice is made per invocation from
//! the event itself, so one deployed function serves them all (`lambda_http::run_with_streaming_response` would stream ALB events
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
use std::time::{Duration, SystemTime};

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
) -> Result<FunctionResponse<BufferedDocument, BodyStream>, lambda_http::Error> {
    let LambdaEvent {
        payload: mut request,
        context,
    } = event;
    sanitize(&mut request);
    let trigger = Trigger::of(&request);
    let deadline = answer_deadline(context.deadline());
    let refused = refuse_before_routing(&request, matches!(trigger, Trigger::Alb { .. }));
    let respond = async move {
        match refused {
            Some(err) => Ok(err.into_response()),
            None => {
                let request: lambda_http::Request = request.into();
                router.oneshot(request.with_lambda_context(context)).await
            }
        }
    };
    match trigger {
        Trigger::FunctionUrl => {
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

/// Who invoked the function, which decides the shape of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// An ALB target group: a buffered document, headers in the style the event used.
    Alb { multi_value: bool },
    /// A Function URL (RESPONSE_STREAM): a true stream.
    FunctionUrl,
    /// An API Gateway HTTP API (payload 2.0, like a Function URL but not streamable): a
    /// buffered 2.0 document.
    HttpApi,
}

impl Trigger {
    fn of(request: &LambdaRequest) -> Trigger {
        match request {
            LambdaRequest::Alb(alb) => Trigger::Alb {
                multi_value: !alb.multi_value_headers.is_empty(),
            },
            LambdaRequest::ApiGatewayV2(v2) => match v2.request_context.domain_name.as_deref() {
                Some(domain) if !domain.contains(".lambda-url.") => Trigger::HttpApi,
                _ => Trigger::FunctionUrl,
            },
            _ => Trigger::FunctionUrl,
        }
    }
}

/// A buffered answer: an ALB document or an API Gateway payload 2.0 document.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum BufferedDocument {
    Alb(AlbResponse),
    HttpApi(HttpApiResponse),
}

/// The payload 2.0 response document of an API Gateway HTTP API.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpApiResponse {
    pub status_code: u16,
    pub headers: BTreeMap<String, String>,
    pub cookies: Vec<String>,
    pub body: String,
    pub is_base64_encoded: bool,
}

/// Lambda's limit on a buffered (non-streamed) response.
const BUFFERED_MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

async fn buffered_response(response: Response, trigger: Trigger) -> BufferedDocument {
    match trigger {
        Trigger::Alb { multi_value } => {
            BufferedDocument::Alb(alb_response(response, multi_value).await)
        }
        _ => BufferedDocument::HttpApi(http_api_response(response).await),
    }
}

async fn http_api_response(response: Response) -> HttpApiResponse {
    let (parts, body) = response.into_parts();
    let (status, headers, bytes) = match axum::body::to_bytes(body, BUFFERED_MAX_RESPONSE_BYTES)
        .await
    {
        Ok(bytes) => (parts.status, parts.headers, bytes),
        Err(_) => response_too_large(
            "The response is larger than the 6 MB Lambda returns without streaming. Ask for less, or call the streaming Function URL.",
        ),
    };
    let cookies = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let document = alb_document(status, &headers, &bytes, false);
    let mut headers = document.headers.unwrap_or_default();
    headers.remove(SET_COOKIE.as_str());
    HttpApiResponse {
        status_code: document.status_code,
        headers,
        cookies,
        body: document.body,
        is_base64_encoded: document.is_base64_encoded,
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
        "timeout_error",
        "The answer took longer than the gateway's Lambda timeout allows. Ask for less (max_tokens), or raise the function's Timeout.",
    )
    .with_code("lambda_timeout")
}

/// Rewrites the parts of an event that `lambda_http` would turn into a panic while building
/// the request URI (with `panic = "abort"`, a panic kills the execution environment): a Host
/// or domain it cannot parse, an `X-Forwarded-Proto` that is not a scheme, a path without its
/// leading `/`, and query-string characters a URI may not hold. None of them matters to the
/// router.
fn sanitize(request: &mut LambdaRequest) {
    match request {
        LambdaRequest::Alb(alb) => {
            sanitize_headers(&mut alb.headers);
            sanitize_headers(&mut alb.multi_value_headers);
            if let Some(path) = &mut alb.path {
                sanitize_path(path);
            }
        }
        LambdaRequest::ApiGatewayV2(v2) => {
            sanitize_headers(&mut v2.headers);
            let context = &mut v2.request_context;
            if context
                .domain_name
                .as_deref()
                .is_some_and(|d| !plausible_host(d))
            {
                context.domain_name = None;
            }
            if let Some(path) = &mut v2.raw_path {
                sanitize_path(path);
            }
            if let Some(query) = &mut v2.raw_query_string {
                *query = encode_query(query);
            }
        }
        _ => {}
    }
}

fn sanitize_headers(headers: &mut HeaderMap) {
    drop_unparseable_host(headers);
    let proto_ok = headers
        .get_all("x-forwarded-proto")
        .iter()
        .all(|v| matches!(v.to_str(), Ok("http" | "https")));
    if !proto_ok {
        headers.remove("x-forwarded-proto");
    }
}

fn sanitize_path(path: &mut String) {
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
}

/// Percent-encodes what RFC 3986 does not allow in a query, leaving valid escapes alone.
fn encode_query(query: &str) -> String {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b);
    if query.bytes().all(allowed) {
        return query.to_string();
    }
    let mut encoded = String::with_capacity(query.len() + 8);
    for b in query.bytes() {
        if allowed(b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    encoded
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
    let bad = headers
        .get_all(HOST)
        .iter()
        .any(|v| v.to_str().map_or(true, |h| !plausible_host(h)));
    if bad {
        headers.remove(HOST);
    }
}

/// A host name (with an optional port) `lambda_http` can build a URL from.
fn plausible_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        && port.is_none_or(|p| p.parse::<u16>().is_ok())
}

/// The response as a Function URL stream: a status-and-headers prelude, then the body chunks
/// as the router produces them.
fn streamed(response: Response, deadline: tokio::time::Instant) -> StreamResponse<BodyStream> {
    let (parts, body) = response.into_parts();
    let mut headers = parts.headers;
    let cookies = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    headers.remove(SET_COOKIE);
    let sse = headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    // A stream cut by Lambda's timeout would end with no sign of failure: end it in time, with
    // an SSE error event the client's SDK raises.
    let body = body.into_data_stream();
    let stream: BodyStream = Box::pin(futures_util::stream::unfold(
        Some(body),
        move |body| async move {
            let mut body = body?;
            match tokio::time::timeout_at(deadline, body.next()).await {
                Ok(Some(chunk)) => Some((chunk.map_err(lambda_http::Error::from), Some(body))),
                Ok(None) => None,
                Err(_) => sse.then(|| (Ok(crate::routes::sse::error_event(&out_of_time())), None)),
            }
        },
    ));
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
    let (status, headers, body) = response_too_large(
        "The response is larger than the 1 MB an Application Load Balancer accepts from Lambda. Stream it through the gateway's Function URL (StreamingUrl), ask for less (max_tokens, fewer inputs), or use `encoding_format: \"base64\"` for embeddings.",
    );
    alb_document(status, &headers, &body, multi_value)
}

/// The 413 that replaces a response too large for the caller: status, headers and body.
fn response_too_large(message: &str) -> (StatusCode, HeaderMap, Bytes) {
    let err = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request_error",
        message,
    )
    .with_code("response_too_large");
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    (err.status, headers, Bytes::from(err.to_json()))
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

    /// Events crafted to make `lambda_http` panic while building the URI; `sanitize` must make
    /// every one convertible (a panic fails this test; in release it would abort the process).
    #[test]
    fn crafted_events_convert_without_panicking() {
        let url_event = |query: &str, host: &str, proto: &str| {
            serde_json::json!({
                "version": "2.0", "routeKey": "$default", "rawPath": "/api/v1/models", "rawQueryString": query,
                "headers": {"host": host, "x-forwarded-proto": proto},
                "requestContext": {"accountId": "anonymous", "apiId": "x", "domainName": host, "domainPrefix": "x",
                    "http": {"method": "GET", "path": "/api/v1/models", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4", "userAgent": "t"},
                    "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "24/Nov/2026:00:00:00 +0000", "timeEpoch": 0},
                "isBase64Encoded": false
            })
        };
        let alb_event = |path: &str, proto: &str| {
            serde_json::json!({
                "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/y"}},
                "httpMethod": "GET", "path": path, "queryStringParameters": {},
                "multiValueHeaders": {"host": ["gw.example.com"], "x-forwarded-proto": [proto]},
                "isBase64Encoded": false, "body": ""
            })
        };
        let events = [
            url_event("a=\"d\"&b=<x>", "x.lambda-url.us-east-1.on.aws", "https"),
            url_event("q=1", "x.on.aws:99999", "https"),
            url_event("q=1", "x.lambda-url.us-east-1.on.aws", "a b"),
            alb_event(":99999", "https"),
            alb_event("/api/v1/models", "a b"),
        ];
        for event in events {
            let mut request: LambdaRequest = serde_json::from_value(event.clone()).unwrap();
            sanitize(&mut request);
            let request: lambda_http::Request = request.into();
            assert!(request.uri().path().starts_with('/'), "{event}");
        }
        assert_eq!(encode_query("a=\"d\"&b=%20"), "a=%22d%22&b=%20");
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
