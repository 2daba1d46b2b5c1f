//! Event sanitising: rewrites the parts of an ALB, HTTP API / Function URL or REST API event
//! that `lambda_http` would turn into a panic while converting it into an `http::Request`.
//!
//! It also drops a REST API event's stage from the path the router sees: `lambda_http`
//! prefixes it (`/prod/api/v1/...`), but the router answers the same paths behind every front
//! door, and a REST event's `path` is already the path within the API.
//!
//! With `panic = "abort"` (the release profile) such a panic kills the execution environment:
//! nothing is posted to the Runtime API, the caller gets a bare 502, and the next request pays
//! a cold start. The Host header is the client's own (an ALB forwards it unchanged), so without
//! this module anyone could do that at will, no key needed.
//!
//! Whether a part is safe is not guessed: it is decided by running the same parsers that
//! `lambda_http` runs (`url::Url::parse`, then `http::Uri`), on the same strings it builds
//! ([`uri_lambda_http_builds`] mirrors its `build_request_uri`). Cargo.lock holds one copy of
//! each of `url`, `http` and `query_map`, so the check and the conversion cannot disagree. The
//! property test `tests/it/lambda_events.rs` feeds generated events through the real conversion.
//!
//! # Upstream report (aws-lambda-rust-runtime)
//!
//! **lambda_http 1.3.2 panics on events with an unparsable Host, or an empty multi-value query
//! entry** (aws_lambda_events 1.2.1, query_map 0.7.0, url 2.5.8, http 1.5.0).
//!
//! Input: an ALB event (single-value headers) or an API Gateway HTTP API / Function URL event
//! whose `host` header is `1.2.3.999`, `256.0.0.1`, `99999999999`, `1.2.3.4.5`,
//! `0x100000000`, `example.com:99999`, `xn--zz`, `example.xn--a` or `a{b`; or an ALB event with
//! `"multiValueQueryStringParameters": {"a": []}` (the same with `queryStringParameters`).
//! `lambda_http::request::from_str(event)` (and so `lambda_http::run`) panics:
//!
//! - `src/request.rs:553` (`build_request_uri`): `Url::parse(&url).unwrap()` —
//!   ``called `Result::unwrap()` on an `Err` value: InvalidIpv4Address`` (also `IdnaError`,
//!   `InvalidPort`, `InvalidIpv6Address` for `[::1`). The same function unwraps
//!   `Url::parse("http://localhost{path}")` at line 544 (an ALB `path` such as `:99999`).
//! - `src/request.rs:175` / `:280` (`into_api_gateway_v2_request` / `into_alb_request`):
//!   ``failed to build request: http::Error(InvalidUri(InvalidUriChar))`` when the URL the
//!   `url` crate accepted is not an `http::Uri`: a host with `{`, `"` or `` ` ``, a raw query
//!   string with a space or `<` (HTTP API / Function URL `rawQueryString`), or a URI over
//!   65,534 bytes (`InvalidUri(TooLong)`).
//! - query_map 0.7.0 `src/lib.rs:168` (`QueryMapIter::next`, reached through
//!   `decode_query_map` → `QueryMap::to_query_string`): `values[self.next_idx]` —
//!   `index out of bounds: the len is 0 but the index is 0` for a key whose value list is empty.
//! - aws_lambda_events `encodings/http.rs:89` (`Body::from_maybe_encoded`):
//!   `expect("failed to decode aws base64 encoded body")` for `isBase64Encoded: true` with a
//!   body that is not base64 (answered with a 400 by `request.rs` here).
//!
//! Expected: a conversion that cannot build a URI should not panic. Suggested fix: make the
//! conversion fallible (`TryFrom<LambdaRequest>`, answered by `lambda_http::run` with a 400),
//! or fall back to a relative URI (path and query only, as is done today when there is no
//! Host) when `Url::parse` or `http::Uri` refuse the absolute one; skip empty value lists in
//! `QueryMapIter`; return an error from `Body::from_maybe_encoded`.

use axum::http::header::HOST;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::request::LambdaRequest;
use std::collections::HashMap;
use std::str::FromStr;

use crate::error::{ApiError, ErrorKind};

/// What replaces a Host (or HTTP API `domainName`) that `lambda_http` cannot build a URL from.
/// The router never reads the Host; `.invalid` is reserved (RFC 6761) so the name can never
/// be mistaken for a real one.
pub const PLACEHOLDER_HOST: &str = "unparsable-host.invalid";

const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Makes `request` convertible by `lambda_http` without a panic, or says why it cannot be
/// (a URI over `http`'s length limit, answered with a 414).
pub(super) fn sanitize(request: &mut LambdaRequest) -> Result<(), ApiError> {
    match request {
        LambdaRequest::Alb(alb) => {
            drop_empty_query_values(&mut alb.query_string_parameters);
            drop_empty_query_values(&mut alb.multi_value_query_string_parameters);
            sanitize_proto(&mut alb.headers);
            sanitize_proto(&mut alb.multi_value_headers);
            if let Some(path) = &mut alb.path {
                sanitize_path(path);
            }
            let path = alb.path.as_deref().unwrap_or_default();
            // lambda_http reads the Host and scheme from the single-value headers only: in
            // multi-value mode the URI is relative.
            let query = alb_query(
                &alb.multi_value_query_string_parameters,
                &alb.query_string_parameters,
            );
            let uri = |headers: &HeaderMap| {
                let host = headers.get(HOST).and_then(|h| h.to_str().ok());
                uri_lambda_http_builds(scheme(headers), host, path, &query)
            };
            if uri(&alb.headers).is_err() && alb.headers.contains_key(HOST) {
                alb.headers
                    .insert(HOST, HeaderValue::from_static(PLACEHOLDER_HOST));
            }
            uri(&alb.headers).map(drop)
        }
        LambdaRequest::ApiGatewayV2(v2) => {
            sanitize_proto(&mut v2.headers);
            drop_empty_query_values(&mut v2.query_string_parameters);
            if let Some(path) = &mut v2.raw_path {
                sanitize_path(path);
            }
            let raw_path = v2.raw_path.as_deref().unwrap_or_default();
            let query = v2.raw_query_string.as_deref().map(encode_query);
            v2.raw_query_string = query.clone();
            let path = path_with_stage(v2.request_context.stage.as_deref(), raw_path);
            let query = query.unwrap_or_default();
            let uri = |headers: &HeaderMap, domain: Option<&str>| {
                let host = headers.get(HOST).and_then(|h| h.to_str().ok()).or(domain);
                uri_lambda_http_builds(scheme(headers), host, &path, &query)
            };
            if uri(&v2.headers, v2.request_context.domain_name.as_deref()).is_err() {
                // The Host header wins when it is text; the domain name is the fallback.
                if v2.headers.get(HOST).is_some_and(|h| h.to_str().is_ok()) {
                    v2.headers
                        .insert(HOST, HeaderValue::from_static(PLACEHOLDER_HOST));
                } else if v2.request_context.domain_name.is_some() {
                    v2.request_context.domain_name = Some(PLACEHOLDER_HOST.to_string());
                }
            }
            uri(&v2.headers, v2.request_context.domain_name.as_deref()).map(drop)
        }
        LambdaRequest::ApiGatewayV1(rest) => {
            // The router's paths are the same behind every front door: route the path within
            // the API, not `/{stage}/...` (lambda_http prefixes a stage it is given).
            rest.request_context.stage = None;
            drop_empty_query_values(&mut rest.query_string_parameters);
            drop_empty_query_values(&mut rest.multi_value_query_string_parameters);
            sanitize_proto(&mut rest.headers);
            if let Some(path) = &mut rest.path {
                sanitize_path(path);
            }
            let path = rest.path.clone().unwrap_or_default();
            let query = rest_query(
                &rest.multi_value_query_string_parameters,
                &rest.query_string_parameters,
            );
            let uri = |headers: &HeaderMap, domain: Option<&str>| {
                let host = headers.get(HOST).and_then(|h| h.to_str().ok()).or(domain);
                uri_lambda_http_builds(scheme(headers), host, &path, &query)
            };
            if uri(&rest.headers, rest.request_context.domain_name.as_deref()).is_err() {
                if rest.headers.get(HOST).is_some_and(|h| h.to_str().is_ok()) {
                    rest.headers
                        .insert(HOST, HeaderValue::from_static(PLACEHOLDER_HOST));
                } else if rest.request_context.domain_name.is_some() {
                    rest.request_context.domain_name = Some(PLACEHOLDER_HOST.to_string());
                }
            }
            uri(&rest.headers, rest.request_context.domain_name.as_deref()).map(drop)
        }
        _ => Ok(()),
    }
}

/// The query `lambda_http` appends to a REST API request's URI (multi-value parameters
/// preferred, form-encoded as they are: REST events carry decoded values).
fn rest_query(multi_value: &QueryMap, single_value: &QueryMap) -> String {
    if !multi_value.is_empty() {
        multi_value.to_query_string()
    } else {
        single_value.to_query_string()
    }
}

/// The URI `lambda_http` 1.3.2 builds for an event (`build_request_uri` plus the query it
/// appends), checked by the parsers it unwraps: an error where it would panic.
fn uri_lambda_http_builds(
    scheme: &str,
    host: Option<&str>,
    path: &str,
    query: &str,
) -> Result<Uri, ApiError> {
    let mut uri = match host {
        None => {
            url::Url::parse(&format!("http://localhost{path}")).map(|url| url.path().to_string())
        }
        Some(host) => url::Url::parse(&format!("{scheme}://{host}{path}")).map(String::from),
    }
    .map_err(|_| unbuildable())?;
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(query);
    }
    let length = uri.len();
    Uri::try_from(uri).map_err(|_| {
        // Past the host and path checks above, only the length is left to refuse.
        if length > usize::from(u16::MAX - 1) {
            ApiError::new(
                StatusCode::URI_TOO_LONG,
                ErrorKind::InvalidRequestError,
                format!(
                    "The request URI is {length} bytes; the gateway takes at most 65534. Send large parameters in the JSON body instead."
                ),
            )
            .with_code("uri_too_long")
        } else {
            unbuildable()
        }
    })
}

/// Never expected once the host is replaced: the path and query are encoded by then.
fn unbuildable() -> ApiError {
    ApiError::invalid_request(
        "The request's Host, path or query cannot be made into a URI. Send a plain host name and a percent-encoded path and query.",
    )
    .with_code("invalid_uri")
}

/// The scheme `lambda_http` puts in the URI: the first `X-Forwarded-Proto`, else https.
fn scheme(headers: &HeaderMap) -> &str {
    headers
        .get(X_FORWARDED_PROTO)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("https")
}

/// Keeps `X-Forwarded-Proto` only when it names a scheme the ALB or Function URL would send.
fn sanitize_proto(headers: &mut HeaderMap) {
    let proto_ok = headers
        .get_all(X_FORWARDED_PROTO)
        .iter()
        .all(|v| matches!(v.to_str(), Ok("http" | "https")));
    if !proto_ok {
        headers.remove(X_FORWARDED_PROTO);
    }
}

/// A path without its leading `/` would be read as part of the host (`:99999` as a port).
fn sanitize_path(path: &mut String) {
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
}

/// `lambda_http`'s `apigw_path_with_stage`: the stage is prefixed unless it is `$default`,
/// already there, or `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set.
fn path_with_stage(stage: Option<&str>, path: &str) -> String {
    if std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_some() {
        return path.to_string();
    }
    match stage {
        None | Some("$default") => path.to_string(),
        Some(stage) if path.starts_with(&format!("/{stage}/")) => path.to_string(),
        Some(stage) => format!("/{stage}{path}"),
    }
}

/// The query `lambda_http` appends to an ALB request's URI (`decode_query_map`, multi-value
/// parameters preferred).
fn alb_query(multi_value: &QueryMap, single_value: &QueryMap) -> String {
    let decode = |map: &QueryMap| {
        let query = map.to_query_string();
        let decoded = percent_encoding::percent_decode(query.as_bytes()).decode_utf8_lossy();
        QueryMap::from_str(&decoded).unwrap_or_default()
    };
    let (multi_value, single_value) = (decode(multi_value), decode(single_value));
    if !multi_value.is_empty() {
        multi_value.to_query_string()
    } else {
        single_value.to_query_string()
    }
}

/// Removes keys whose value list is empty (`{"a": []}`): `QueryMap`'s iterator indexes the
/// first value of every key. The map's own iterator would panic, so it is read through serde.
fn drop_empty_query_values(map: &mut QueryMap) {
    let Ok(serde_json::Value::Object(entries)) = serde_json::to_value(&*map) else {
        return;
    };
    if !entries
        .values()
        .any(|v| v.as_array().is_some_and(Vec::is_empty))
    {
        return;
    }
    let kept: HashMap<String, Vec<String>> = entries
        .into_iter()
        .filter_map(|(key, values)| {
            let values: Vec<String> = serde_json::from_value(values).ok()?;
            (!values.is_empty()).then_some((key, values))
        })
        .collect();
    *map = QueryMap::from(kept);
}

/// Percent-encodes what `http::Uri` does not allow in a query, leaving valid escapes alone.
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url_event(host: &str, query: &str) -> serde_json::Value {
        json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/health", "rawQueryString": query,
            "headers": {"host": host, "x-forwarded-proto": "https"},
            "requestContext": {"accountId": "anonymous", "apiId": "x", "domainName": "x.lambda-url.us-east-1.on.aws",
                "domainPrefix": "x", "http": {"method": "GET", "path": "/health", "protocol": "HTTP/1.1",
                "sourceIp": "1.2.3.4", "userAgent": "t"}, "requestId": "r", "routeKey": "$default",
                "stage": "$default", "time": "24/Nov/2026:00:00:00 +0000", "timeEpoch": 0},
            "isBase64Encoded": false
        })
    }

    fn rest_event(host: &str, path: &str) -> serde_json::Value {
        json!({
            "resource": "/{proxy+}", "path": path, "httpMethod": "GET",
            "headers": {"host": host}, "multiValueHeaders": {"host": [host]},
            "queryStringParameters": null, "multiValueQueryStringParameters": null,
            "requestContext": {"accountId": "1", "apiId": "abc", "stage": "gateway",
                "domainName": "abc.execute-api.us-east-1.amazonaws.com", "httpMethod": "GET",
                "requestId": "r", "resourcePath": "/{proxy+}", "path": format!("/gateway{path}")},
            "isBase64Encoded": false
        })
    }

    fn alb_event(headers: serde_json::Value, path: &str) -> serde_json::Value {
        let mut event = json!({
            "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/y"}},
            "httpMethod": "GET", "path": path, "queryStringParameters": {},
            "isBase64Encoded": false, "body": ""
        });
        let style = if headers.as_object().unwrap().values().all(|v| v.is_array()) {
            "multiValueHeaders"
        } else {
            "headers"
        };
        event[style] = headers;
        event
    }

    /// Sanitises and converts; a panic here is the bug this module prevents.
    fn convert(event: serde_json::Value) -> lambda_http::Request {
        let mut request: LambdaRequest = serde_json::from_value(event).unwrap();
        sanitize(&mut request).unwrap();
        request.into()
    }

    const BAD_HOSTS: &[&str] = &[
        "1.2.3.999",
        "256.0.0.1",
        "99999999999",
        "1.2.3.4.5",
        "0x100000000",
        "xn--zz",
        "example.xn--a",
        "example.com:99999",
        "a{b",
        "a\"b",
        "a`b",
        "[::1",
    ];

    #[test]
    fn hosts_lambda_http_cannot_parse_become_the_placeholder() {
        for host in BAD_HOSTS {
            let request = convert(url_event(host, ""));
            assert_eq!(request.headers()[HOST], PLACEHOLDER_HOST, "{host}");
            assert_eq!(request.uri().host(), Some(PLACEHOLDER_HOST), "{host}");
            let request = convert(alb_event(json!({"host": host}), "/health"));
            assert_eq!(request.uri().host(), Some(PLACEHOLDER_HOST), "{host}");
            let request = convert(rest_event(host, "/health"));
            assert_eq!(request.uri().host(), Some(PLACEHOLDER_HOST), "{host}");
        }
    }

    #[test]
    fn rest_api_events_route_the_path_within_the_api() {
        let mut event = rest_event("abc.execute-api.us-east-1.amazonaws.com", "/api/v1/models");
        event["multiValueQueryStringParameters"] = json!({"q": ["a b", "c&d"], "e": []});
        let request = convert(event);
        assert_eq!(request.uri().path(), "/api/v1/models");
        assert_eq!(request.uri().query(), Some("q=a+b&q=c%26d"));
        let request = convert(rest_event("h", "health"));
        assert_eq!(request.uri().path(), "/health");
    }

    /// The upstream bug this module works around, still there: when this test fails,
    /// lambda_http has fixed it and the host and query rules here can go. (Panic messages in
    /// the test output are expected.)
    #[test]
    fn lambda_http_still_panics_without_the_sanitiser() {
        let mut empty_values = alb_event(json!({"host": ["h"]}), "/health");
        empty_values["multiValueQueryStringParameters"] = json!({"a": []});
        let events = BAD_HOSTS
            .iter()
            .flat_map(|host| {
                [
                    url_event(host, ""),
                    alb_event(json!({"host": host}), "/"),
                    rest_event(host, "/"),
                ]
            })
            .chain([
                empty_values,
                url_event("h", "a b"),
                url_event("h", &"a".repeat(70_000)),
            ])
            .chain([alb_event(json!({"host": ["h"]}), ":99999")]);
        for event in events {
            let request: LambdaRequest = serde_json::from_value(event.clone()).unwrap();
            let converted = std::panic::catch_unwind(|| lambda_http::Request::from(request));
            assert!(converted.is_err(), "lambda_http converted {event}");
        }
    }

    #[test]
    fn parsable_hosts_are_kept() {
        for host in [
            "gw-123.us-east-1.elb.amazonaws.com",
            "localhost:8080",
            "1.2.3.4",
            "[::1]:443",
            "xn--bcher-kva.example",
            "bücher.example",
        ] {
            let request = convert(url_event(host, ""));
            assert_eq!(request.headers()[HOST], *host, "{host}");
        }
    }

    #[test]
    fn empty_query_value_lists_are_dropped() {
        for style in ["multiValueQueryStringParameters", "queryStringParameters"] {
            let mut event = alb_event(json!({"host": ["gw.example.com"]}), "/health");
            event[style] = json!({"a": [], "b": ["1", "2"]});
            let request = convert(event);
            assert_eq!(request.uri().query(), Some("b=1&b=2"), "{style}");
        }
    }

    #[test]
    fn paths_queries_and_schemes_are_made_convertible() {
        let request = convert(url_event("x.on.aws", "a=\"d\"&b=<x> y"));
        assert_eq!(request.uri().query(), Some("a=%22d%22&b=%3Cx%3E%20y"));
        let mut event = url_event("x.on.aws", "");
        event["headers"]["x-forwarded-proto"] = json!("a b");
        assert_eq!(convert(event).uri().scheme_str(), Some("https"));
        let request = convert(alb_event(json!({"host": ["h"]}), ":99999"));
        assert_eq!(request.uri().host(), None);
        assert_eq!(request.uri().path(), "/:99999");
        assert_eq!(encode_query("a=\"d\"&b=%20"), "a=%22d%22&b=%20");
    }

    #[test]
    fn a_uri_over_http_s_limit_is_refused_with_a_414() {
        let mut request: LambdaRequest =
            serde_json::from_value(url_event("h", &"a".repeat(70_000))).unwrap();
        let err = sanitize(&mut request).unwrap_err();
        assert_eq!(err.status, StatusCode::URI_TOO_LONG);
    }
}
