//! The streamed answer of a Function URL (RESPONSE_STREAM mode) or an API Gateway REST API
//! integration in STREAM mode: a status-and-headers prelude, eight NUL bytes, then the body
//! chunks as the router produces them, ended in time before Lambda's deadline.
//!
//! Both callers read the same prelude (`statusCode`, `headers`, `cookies`; see the API Gateway
//! guide's "Lambda proxy integration format for response streaming"). A header repeated in the
//! response is sent once, its values joined with ", ": `lambda_runtime` would write a JSON
//! array for it, where both callers document a string.

use std::pin::Pin;

use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use lambda_runtime::{MetadataPrelude, StreamResponse};

use super::out_of_time;

/// The body of a streamed answer, as `lambda_runtime` sends it.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, lambda_http::Error>> + Send>>;

/// The response as a Function URL stream.
pub(super) fn streamed(
    response: Response,
    deadline: tokio::time::Instant,
) -> StreamResponse<BodyStream> {
    let (parts, body) = response.into_parts();
    let mut headers = parts.headers;
    let cookies = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    headers.remove(SET_COOKIE);
    let headers = joined(headers);
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

/// One value per header name, repeated values joined in order.
fn joined(headers: HeaderMap) -> HeaderMap {
    let mut single = HeaderMap::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if let Ok(value) = HeaderValue::from_str(&values.join(", ")) {
            single.insert(name.clone(), value);
        }
    }
    single
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cookies_go_to_the_prelude_and_a_late_sse_stream_ends_with_an_error_event() {
        let chunks =
            futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("data: 1\n\n"))])
                .chain(futures_util::stream::pending());
        let mut response = Response::new(axum::body::Body::from_stream(chunks));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(SET_COOKIE, HeaderValue::from_static("a=1"));
        headers.append("vary", HeaderValue::from_static("a"));
        headers.append("vary", HeaderValue::from_static("b"));
        // Already due: a chunk that is ready still goes out (the timeout polls it first), and
        // the wait for the next one ends at once, with no real sleep.
        let deadline = tokio::time::Instant::now();
        let answer = streamed(response, deadline);
        assert_eq!(answer.metadata_prelude.cookies, vec!["a=1".to_string()]);
        assert!(!answer.metadata_prelude.headers.contains_key(SET_COOKIE));
        let prelude = serde_json::to_value(&answer.metadata_prelude).unwrap();
        assert_eq!(prelude["headers"]["vary"], "a, b");
        let chunks: Vec<Bytes> = answer.stream.map(Result::unwrap).collect().await;
        assert_eq!(chunks[0], "data: 1\n\n");
        let last = String::from_utf8(chunks[1].to_vec()).unwrap();
        assert!(last.contains("lambda_timeout"), "{last}");
        assert_eq!(chunks.len(), 2);
    }
}
