//! Buffered answers: the document an ALB target returns, the payload 2.0 document of an API
//! Gateway HTTP API, and the payload 1.0 document of an API Gateway REST API whose integration
//! buffers. The whole body is collected first; one too large for the caller is
//! replaced with a 413 the client can act on instead of the bare 502 the caller would send.

use std::collections::BTreeMap;

use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use lambda_http::Body;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use serde::Serialize;

use super::trigger::{ALB_MAX_RESPONSE_BYTES, BUFFERED_MAX_RESPONSE_BYTES, Trigger};
use crate::error::{ApiError, ErrorKind};

/// A buffered answer: an ALB document, or an API Gateway payload 2.0 or 1.0 document.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum BufferedDocument {
    Alb(AlbResponse),
    HttpApi(ApiGatewayV2httpResponse),
    RestApi(ApiGatewayProxyResponse),
}

/// The document an ALB expects back from a Lambda target. Exactly one of `headers` and
/// `multiValueHeaders` is present: the one matching how the target group sent the event.
///
/// Hand-built rather than `aws_lambda_events::alb::AlbTargetGroupResponse`, which always
/// serialises both `headers` and `multiValueHeaders` (an empty map for the unused one) and
/// keeps only the first value of a repeated header in `headers`. The ALB documentation asks
/// for the style that matches the target group's setting, and the first-value-only rule would
/// silently drop headers such as a second `vary`.
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

/// The buffered document `trigger` expects for `response`.
pub(super) async fn buffered_response(response: Response, trigger: Trigger) -> BufferedDocument {
    match trigger {
        Trigger::Alb { multi_value } => {
            BufferedDocument::Alb(alb_response(response, multi_value).await)
        }
        Trigger::RestApi { .. } => BufferedDocument::RestApi(rest_api_response(response).await),
        _ => BufferedDocument::HttpApi(http_api_response(response).await),
    }
}

/// Collects a response into API Gateway's payload 1.0 document (REST API, buffered
/// integration). Every header goes into `multiValueHeaders`, repeated ones (`set-cookie`
/// included: 1.0 has no `cookies`) as several values; `headers` stays empty, since API Gateway
/// merges the two and would otherwise see a value twice.
async fn rest_api_response(response: Response) -> ApiGatewayProxyResponse {
    let (parts, body) = response.into_parts();
    let (status, headers, bytes) = match axum::body::to_bytes(body, BUFFERED_MAX_RESPONSE_BYTES)
        .await
    {
        Ok(bytes) => (parts.status, parts.headers, bytes),
        Err(_) => response_too_large(
            "The response is larger than the 6 MB Lambda returns without streaming. Ask for less, or call the gateway through a streaming integration (the stack's API Gateway stage streams).",
        ),
    };
    let mut multi_value = HeaderMap::new();
    for (name, values) in grouped_headers(&headers) {
        let Ok(name) = name.parse::<axum::http::HeaderName>() else {
            continue;
        };
        for value in values {
            if let Ok(value) = HeaderValue::from_str(&value) {
                multi_value.append(name.clone(), value);
            }
        }
    }
    let (body, is_base64_encoded) = text_or_base64(&bytes);
    let mut document = ApiGatewayProxyResponse::default();
    document.status_code = i64::from(status.as_u16());
    document.multi_value_headers = multi_value;
    document.body = Some(if is_base64_encoded {
        Body::Binary(bytes.to_vec())
    } else {
        Body::Text(body)
    });
    document.is_base64_encoded = is_base64_encoded;
    document
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

/// Collects a response into API Gateway's payload 2.0 document. `lambda_http` answers HTTP API
/// events with the same type, so API Gateway takes its extra empty `multiValueHeaders`.
async fn http_api_response(response: Response) -> ApiGatewayV2httpResponse {
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
    // One value per name, repeated values joined: the type's serialiser writes only the first.
    let mut single = HeaderMap::new();
    for (name, values) in grouped_headers(&headers) {
        if name == SET_COOKIE.as_str() {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            name.parse::<axum::http::HeaderName>(),
            HeaderValue::from_str(&values.join(", ")),
        ) {
            single.insert(name, value);
        }
    }
    let (body, is_base64_encoded) = text_or_base64(&bytes);
    let mut document = ApiGatewayV2httpResponse::default();
    document.status_code = i64::from(status.as_u16());
    document.headers = single;
    document.cookies = cookies;
    document.body = Some(if is_base64_encoded {
        Body::Binary(bytes.to_vec())
    } else {
        Body::Text(body)
    });
    document.is_base64_encoded = is_base64_encoded;
    document
}

/// The 413 that replaces a response too large for the caller: status, headers and body.
fn response_too_large(message: &str) -> (StatusCode, HeaderMap, Bytes) {
    let err = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::InvalidRequestError,
        message,
    )
    .with_code("response_too_large");
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    (err.status, headers, Bytes::from(err.to_json()))
}

/// Text headers by name, in order, without `content-length` (the caller computes the length
/// of what it sends itself).
fn grouped_headers(headers: &HeaderMap) -> BTreeMap<String, Vec<String>> {
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
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
    grouped
}

/// A UTF-8 body as text, anything else as base64 (and the flag saying so).
fn text_or_base64(body: &[u8]) -> (String, bool) {
    match std::str::from_utf8(body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (BASE64.encode(body), true),
    }
}

fn alb_document(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    multi_value: bool,
) -> AlbResponse {
    let grouped = grouped_headers(headers);
    let (headers, multi_value_headers) = if multi_value {
        (None, Some(grouped))
    } else {
        let single = grouped
            .into_iter()
            .map(|(name, values)| (name, values.join(", ")))
            .collect();
        (Some(single), None)
    };
    let (body, is_base64_encoded) = text_or_base64(body);
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

    fn headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("2"));
        headers.append("vary", HeaderValue::from_static("a"));
        headers.append("vary", HeaderValue::from_static("b"));
        headers.append(SET_COOKIE, HeaderValue::from_static("a=1"));
        headers.append(SET_COOKIE, HeaderValue::from_static("b=2"));
        headers
    }

    #[test]
    fn documents_use_the_header_style_of_the_event() {
        let headers = headers();
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

    #[tokio::test]
    async fn http_api_documents_join_headers_and_list_cookies() {
        let mut response = Response::new(axum::body::Body::from("ok"));
        *response.headers_mut() = headers();
        let document = serde_json::to_value(http_api_response(response).await).unwrap();
        assert_eq!(document["statusCode"], 200);
        assert_eq!(document["headers"]["vary"], "a, b");
        assert!(document["headers"].get("set-cookie").is_none());
        assert!(document["headers"].get("content-length").is_none());
        assert_eq!(document["cookies"], serde_json::json!(["a=1", "b=2"]));
        assert_eq!(document["body"], "ok");
        assert_eq!(document["isBase64Encoded"], false);

        let binary = http_api_response(Response::new(axum::body::Body::from(vec![0xff, 0x00])));
        let document = serde_json::to_value(binary.await).unwrap();
        assert_eq!(document["body"], "/wA=");
        assert_eq!(document["isBase64Encoded"], true);
    }

    #[tokio::test]
    async fn rest_api_documents_keep_every_header_value_in_multi_value_headers() {
        let mut response = Response::new(axum::body::Body::from("ok"));
        *response.headers_mut() = headers();
        let document = serde_json::to_value(rest_api_response(response).await).unwrap();
        assert_eq!(document["statusCode"], 200);
        let multi = &document["multiValueHeaders"];
        assert_eq!(multi["vary"], serde_json::json!(["a", "b"]));
        assert_eq!(multi["set-cookie"], serde_json::json!(["a=1", "b=2"]));
        assert_eq!(
            multi["content-type"],
            serde_json::json!(["text/event-stream"])
        );
        assert!(multi.get("content-length").is_none());
        assert_eq!(document["headers"], serde_json::json!({}));
        assert!(document.get("cookies").is_none());
        assert_eq!(document["body"], "ok");
        assert_eq!(document["isBase64Encoded"], false);
    }
}
