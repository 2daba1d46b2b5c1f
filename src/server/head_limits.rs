//! Limits on a request's head, answered in OpenAI's error shape.
//!
//! hyper answers a head it cannot take with a bare status and an empty body, which OpenAI
//! clients report as an unexplained error. So hyper's own limits are set above the documented
//! ones (see `HYPER_MAX_HEAD_BYTES` and `HYPER_MAX_HEADERS` in the parent module) and the
//! documented ones are checked here, with a message saying what to send less of:
//!
//! - target (path and query) longer than [`MAX_TARGET_BYTES`]: 414, code `uri_too_long`;
//! - more than [`MAX_HEADERS`] headers, or header names and values together over
//!   [`MAX_HEADER_BYTES`]: 431, code `headers_too_large`.
//!
//! What hyper still answers itself, with an empty body, then closing the connection: a head
//! over 64 KiB or with over 200 headers (431), a target over 65,534 bytes (414), and a request
//! line or header hyper cannot parse at all (400), as these never reach any code of ours.

use axum::http::StatusCode;

use crate::error::{ApiError, ErrorKind};

/// The longest request target (path and query) accepted.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;
/// The most request headers accepted.
pub const MAX_HEADERS: usize = 100;
/// The most bytes of header names and values accepted, all headers together.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The error for a head over the limits, if it is.
pub fn check<B>(request: &axum::http::Request<B>) -> Option<ApiError> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > MAX_TARGET_BYTES {
        return Some(
            ApiError::new(
                StatusCode::URI_TOO_LONG,
                ErrorKind::InvalidRequestError,
                format!(
                    "The request URL is {target} bytes long; this gateway accepts at most {MAX_TARGET_BYTES}. Send parameters in the JSON body."
                ),
            )
            .with_code("uri_too_long"),
        );
    }
    let headers = request.headers();
    let count = headers.len();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if count > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Some(
            ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                ErrorKind::InvalidRequestError,
                format!(
                    "The request has {count} headers of {bytes} bytes; this gateway accepts at most {MAX_HEADERS} headers of {MAX_HEADER_BYTES} bytes together. Send fewer or smaller headers."
                ),
            )
            .with_code("headers_too_large"),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, headers: &[(String, String)]) -> axum::http::Request<()> {
        let mut builder = axum::http::Request::builder().uri(target);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn limits_are_inclusive() {
        let at_limit = format!("/health?{}", "a".repeat(MAX_TARGET_BYTES - 8));
        assert!(check(&request(&at_limit, &[])).is_none());
        let over = format!("{at_limit}a");
        assert_eq!(
            check(&request(&over, &[])).unwrap().status,
            StatusCode::URI_TOO_LONG
        );
        let headers: Vec<_> = (0..MAX_HEADERS)
            .map(|i| (format!("x-{i}"), "v".into()))
            .collect();
        assert!(check(&request("/", &headers)).is_none());
        let mut more = headers.clone();
        more.push(("x-last".into(), "v".into()));
        let err = check(&request("/", &more)).unwrap();
        assert_eq!(err.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        assert_eq!(err.code.as_deref(), Some("headers_too_large"));
        let big = [("x-big".to_string(), "v".repeat(MAX_HEADER_BYTES - 5))];
        assert!(check(&request("/", &big)).is_none());
        let bigger = [("x-big".to_string(), "v".repeat(MAX_HEADER_BYTES - 4))];
        assert!(check(&request("/", &bigger)).is_some());
    }
}
