//! The Function URL answer (RESPONSE_STREAM mode): a status-and-headers prelude, then the body
//! chunks as the router produces them, ended in time before Lambda's deadline.

use std::pin::Pin;

use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[tokio::test]
    async fn cookies_go_to_the_prelude_and_a_late_sse_stream_ends_with_an_error_event() {
        let chunks =
            futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("data: 1\n\n"))])
                .chain(futures_util::stream::pending());
        let mut response = Response::new(axum::body::Body::from_stream(chunks));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(SET_COOKIE, HeaderValue::from_static("a=1"));
        // Already due: a chunk that is ready still goes out (the timeout polls it first), and
        // the wait for the next one ends at once, with no real sleep.
        let deadline = tokio::time::Instant::now();
        let answer = streamed(response, deadline);
        assert_eq!(answer.metadata_prelude.cookies, vec!["a=1".to_string()]);
        assert!(!answer.metadata_prelude.headers.contains_key(SET_COOKIE));
        let chunks: Vec<Bytes> = answer.stream.map(Result::unwrap).collect().await;
        assert_eq!(chunks[0], "data: 1\n\n");
        let last = String::from_utf8(chunks[1].to_vec()).unwrap();
        assert!(last.contains("lambda_timeout"), "{last}");
        assert_eq!(chunks.len(), 2);
    }
}
