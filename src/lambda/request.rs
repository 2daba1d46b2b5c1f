//! An event made into the request the router answers: sanitised, refused when it must not
//! reach the router, converted by `lambda_http`, and told the response limit of its caller.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use lambda_http::request::LambdaRequest;

use super::sanitize::sanitize;
use super::trigger::Trigger;
use crate::error::{ApiError, ErrorKind};

/// The request the router gets for `event`, or the error to answer instead. This is the whole
/// conversion the Lambda adapter does before routing; public so that tests can route an event
/// exactly as the function does.
pub fn router_request(event: LambdaRequest) -> Result<lambda_http::Request, ApiError> {
    let trigger = Trigger::of(&event);
    prepare(event, trigger)
}

/// [`router_request`] for an event whose trigger is already known.
pub(super) fn prepare(
    mut event: LambdaRequest,
    trigger: Trigger,
) -> Result<lambda_http::Request, ApiError> {
    sanitize(&mut event)?;
    if let Some(err) = refuse_body(&event, trigger.max_request_bytes()) {
        return Err(err);
    }
    let mut request: lambda_http::Request = event.into();
    if let Some(limit) = trigger.response_limit() {
        request.extensions_mut().insert(limit);
    }
    Ok(request)
}

/// An error for bodies the router must not see: over the caller's limit, or declared base64
/// but not base64 (which `lambda_http` would turn into a panic, see `sanitize.rs`).
fn refuse_body(request: &LambdaRequest, max_bytes: Option<usize>) -> Option<ApiError> {
    let (body, base64) = match request {
        LambdaRequest::Alb(alb) => (alb.body.as_deref(), alb.is_base64_encoded),
        LambdaRequest::ApiGatewayV2(v2) => (v2.body.as_deref(), v2.is_base64_encoded),
        LambdaRequest::ApiGatewayV1(rest) => (rest.body.as_deref(), rest.is_base64_encoded),
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
    let max_bytes = max_bytes?;
    (size > max_bytes).then(|| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::InvalidRequestError,
            format!(
                "The request body is {size} bytes; an Application Load Balancer forwards at most 1 MB to Lambda. Send large requests (big images or documents) to the streaming Function URL, or make them smaller."
            ),
        )
        .with_code("request_too_large")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::ResponseLimit;
    use serde_json::json;

    fn alb_event(body: &str, base64: bool) -> LambdaRequest {
        serde_json::from_value(json!({
            "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/y"}},
            "httpMethod": "POST", "path": "/api/v1/embeddings",
            "headers": {"host": "1.2.3.999"}, "isBase64Encoded": base64, "body": body
        }))
        .unwrap()
    }

    fn v2_event(domain: &str) -> LambdaRequest {
        serde_json::from_value(json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/api/v1/embeddings",
            "rawQueryString": "", "headers": {"host": domain},
            "requestContext": {"accountId": "anonymous", "apiId": "x", "domainName": domain,
                "domainPrefix": "x", "http": {"method": "POST", "path": "/api/v1/embeddings",
                "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4", "userAgent": "t"}, "requestId": "r",
                "routeKey": "$default", "stage": "$default", "time": "24/Nov/2026:00:00:00 +0000",
                "timeEpoch": 0},
            "body": "{}", "isBase64Encoded": false
        }))
        .unwrap()
    }

    #[test]
    fn buffered_callers_tell_the_handler_their_response_limit() {
        let limit =
            |request: lambda_http::Request| request.extensions().get::<ResponseLimit>().copied();
        let alb = limit(router_request(alb_event("{}", false)).unwrap()).unwrap();
        assert_eq!(alb.bytes, super::super::ALB_MAX_RESPONSE_BYTES);
        assert!(alb.described.contains("Application Load Balancer"));
        let api = v2_event("abc.execute-api.us-east-1.amazonaws.com");
        let api = limit(router_request(api).unwrap()).unwrap();
        assert_eq!(api.bytes, super::super::BUFFERED_MAX_RESPONSE_BYTES);
        let url = v2_event("abc.lambda-url.us-east-1.on.aws");
        assert_eq!(limit(router_request(url).unwrap()), None);
    }

    #[test]
    fn bodies_the_router_must_not_see_are_refused() {
        let err = router_request(alb_event("%%%", true)).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        let big = "x".repeat(super::super::ALB_MAX_REQUEST_BYTES + 1);
        let err = router_request(alb_event(&big, false)).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
