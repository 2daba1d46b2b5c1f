//! Who invoked the function, read from each event itself, and what that caller limits.
//!
//! One deployed function serves an Application Load Balancer (buffered documents), a Function
//! URL in RESPONSE_STREAM mode (a true stream), an API Gateway HTTP API (payload 2.0, like a
//! Function URL but buffered) and an API Gateway REST API (payload 1.0, buffered or streamed),
//! so the answer's shape is chosen per invocation.
//!
//! A REST API event looks the same whether its integration buffers or streams
//! (`ResponseTransferMode`), and nothing else Lambda hands the function tells the two apart. The
//! stack's REST API says so itself: its stage sets the stage variable
//! [`STREAM_STAGE_VARIABLE`] to `STREAM`, which API Gateway copies into every event
//! (`stageVariables`); clients cannot set it. Any other REST API gets buffered documents, the
//! answer every REST integration can read.

use lambda_http::request::LambdaRequest;

use crate::limits::ResponseLimit;

/// ALB's limit on the response document a Lambda target returns ("1 MB"). Measured on the
/// serialised JSON document, headers and escaping included, and taken as 10^6 bytes: a
/// needless 413 just under 1 MiB is better than a bare 502 just over 10^6.
pub const ALB_MAX_RESPONSE_BYTES: usize = 1_000_000;

/// ALB's limit on a request body forwarded to a Lambda target ("1 MB"). Taken as 1 MiB so
/// that nothing the ALB would pass is refused here.
pub const ALB_MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// Lambda's limit on a buffered (non-streamed) response.
pub const BUFFERED_MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// The stage variable that marks a REST API stage whose integration streams (value `STREAM`,
/// as in the integration's `ResponseTransferMode`). template.yaml sets it on the stack's stage.
pub const STREAM_STAGE_VARIABLE: &str = "responseTransferMode";

/// Who invoked the function, which decides the shape of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    /// An ALB target group: a buffered document, headers in the style the event used.
    Alb { multi_value: bool },
    /// A Function URL (RESPONSE_STREAM): a true stream.
    FunctionUrl,
    /// An API Gateway HTTP API (payload 2.0, like a Function URL but not streamable): a
    /// buffered 2.0 document.
    HttpApi,
    /// An API Gateway REST API (payload 1.0): streamed when its stage says the integration
    /// streams, else a buffered 1.0 document.
    RestApi { streamed: bool },
}

impl Trigger {
    /// Read before the event is sanitised: the answer's shape follows the event as delivered.
    pub(super) fn of(request: &LambdaRequest) -> Trigger {
        match request {
            LambdaRequest::Alb(alb) => Trigger::Alb {
                multi_value: !alb.multi_value_headers.is_empty(),
            },
            LambdaRequest::ApiGatewayV2(v2) => match v2.request_context.domain_name.as_deref() {
                Some(domain) if !domain.contains(".lambda-url.") => Trigger::HttpApi,
                _ => Trigger::FunctionUrl,
            },
            LambdaRequest::ApiGatewayV1(rest) => Trigger::RestApi {
                streamed: rest
                    .stage_variables
                    .get(STREAM_STAGE_VARIABLE)
                    .is_some_and(|mode| mode.eq_ignore_ascii_case("STREAM")),
            },
            _ => Trigger::FunctionUrl,
        }
    }

    /// Whether the caller reads a stream (a prelude, then the body as it is produced).
    pub(super) fn streams(self) -> bool {
        matches!(
            self,
            Trigger::FunctionUrl | Trigger::RestApi { streamed: true }
        )
    }

    /// What the handlers are told about the size of the answer this caller takes.
    pub(super) fn response_limit(self) -> Option<ResponseLimit> {
        const AVOIDED_BY: &str = "use the gateway's streaming front door (the stack's API Gateway URL, or its Function URL StreamingUrl), which has no such limit";
        match self {
            Trigger::Alb { .. } => Some(ResponseLimit {
                bytes: ALB_MAX_RESPONSE_BYTES,
                described: "the 1 MB an Application Load Balancer accepts from Lambda",
                avoided_by: AVOIDED_BY,
            }),
            Trigger::HttpApi | Trigger::RestApi { streamed: false } => Some(ResponseLimit {
                bytes: BUFFERED_MAX_RESPONSE_BYTES,
                described: "the 6 MB Lambda returns without streaming",
                avoided_by: AVOIDED_BY,
            }),
            Trigger::FunctionUrl | Trigger::RestApi { streamed: true } => None,
        }
    }

    /// The largest request body this caller forwards, where the function must enforce it.
    pub(super) fn max_request_bytes(self) -> Option<usize> {
        matches!(self, Trigger::Alb { .. }).then_some(ALB_MAX_REQUEST_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v2_event(domain: &str) -> LambdaRequest {
        serde_json::from_value(json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/health", "rawQueryString": "",
            "headers": {"host": domain},
            "requestContext": {"accountId": "anonymous", "apiId": "x", "domainName": domain,
                "domainPrefix": "x", "http": {"method": "GET", "path": "/health", "protocol": "HTTP/1.1",
                "sourceIp": "1.2.3.4", "userAgent": "t"}, "requestId": "r", "routeKey": "$default",
                "stage": "$default", "time": "24/Nov/2026:00:00:00 +0000", "timeEpoch": 0},
            "isBase64Encoded": false
        }))
        .unwrap()
    }

    #[test]
    fn the_trigger_is_read_from_the_event() {
        let url = v2_event("abc.lambda-url.us-east-1.on.aws");
        assert_eq!(Trigger::of(&url), Trigger::FunctionUrl);
        let api = v2_event("abc.execute-api.us-east-1.amazonaws.com");
        assert_eq!(Trigger::of(&api), Trigger::HttpApi);
        for (style, multi_value) in [("headers", false), ("multiValueHeaders", true)] {
            let headers = if multi_value {
                json!({"host": ["h"]})
            } else {
                json!({"host": "h"})
            };
            let alb: LambdaRequest = serde_json::from_value(json!({
                "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/y"}},
                "httpMethod": "GET", "path": "/health", style: headers, "isBase64Encoded": false
            }))
            .unwrap();
            assert_eq!(Trigger::of(&alb), Trigger::Alb { multi_value });
        }
    }

    fn rest_event(stage_variables: serde_json::Value) -> LambdaRequest {
        serde_json::from_value(json!({
            "resource": "/{proxy+}", "path": "/health", "httpMethod": "GET",
            "headers": {"host": "abc.execute-api.us-east-1.amazonaws.com"},
            "stageVariables": stage_variables,
            "requestContext": {"accountId": "1", "apiId": "abc", "stage": "v1", "httpMethod": "GET",
                "requestId": "r", "resourcePath": "/{proxy+}", "path": "/v1/health"},
            "isBase64Encoded": false
        }))
        .unwrap()
    }

    #[test]
    fn a_rest_api_streams_only_when_its_stage_says_so() {
        let streamed = rest_event(json!({"responseTransferMode": "STREAM"}));
        assert_eq!(Trigger::of(&streamed), Trigger::RestApi { streamed: true });
        assert!(Trigger::of(&streamed).streams());
        for variables in [
            json!(null),
            json!({}),
            json!({"responseTransferMode": "BUFFERED"}),
        ] {
            let buffered = rest_event(variables.clone());
            assert_eq!(
                Trigger::of(&buffered),
                Trigger::RestApi { streamed: false },
                "{variables}"
            );
            assert!(!Trigger::of(&buffered).streams());
        }
    }

    #[test]
    fn only_buffered_triggers_limit_the_response() {
        let alb = Trigger::Alb { multi_value: false };
        assert_eq!(alb.response_limit().unwrap().bytes, ALB_MAX_RESPONSE_BYTES);
        assert_eq!(
            Trigger::HttpApi.response_limit().unwrap().bytes,
            BUFFERED_MAX_RESPONSE_BYTES
        );
        assert_eq!(Trigger::FunctionUrl.response_limit(), None);
        let rest = |streamed| Trigger::RestApi { streamed }.response_limit();
        assert_eq!(rest(false).unwrap().bytes, BUFFERED_MAX_RESPONSE_BYTES);
        assert_eq!(rest(true), None);
        assert_eq!(alb.max_request_bytes(), Some(ALB_MAX_REQUEST_BYTES));
        assert_eq!(Trigger::HttpApi.max_request_bytes(), None);
    }
}
