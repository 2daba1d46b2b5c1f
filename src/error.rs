//! The one error type every handler returns, rendered in OpenAI's error shape.
//!
//! OpenAI clients (openai-python, openai-node, LangChain...) pick their exception class from the
//! HTTP status and read `error.message`, so every failure, ours or Bedrock's, ends up here as
//! `{"error":{"message","type","param","code"}}` with the status a client expects.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// OpenAI's error `type`, serialised as the string OpenAI clients read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The client must change the request (400, 404 and the like).
    InvalidRequestError,
    /// A missing or wrong API key (401).
    AuthenticationError,
    /// Bedrock refused access (403).
    PermissionError,
    /// Bedrock does not know the resource (404).
    NotFoundError,
    /// Throttled or out of quota (429).
    RateLimitError,
    /// The model or the request timed out.
    TimeoutError,
    /// Bedrock or the model failed; the client may retry.
    ApiError,
    /// The gateway itself is overloaded or failed.
    ServerError,
}

impl ErrorKind {
    /// The wire string, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequestError => "invalid_request_error",
            ErrorKind::AuthenticationError => "authentication_error",
            ErrorKind::PermissionError => "permission_error",
            ErrorKind::NotFoundError => "not_found_error",
            ErrorKind::RateLimitError => "rate_limit_error",
            ErrorKind::TimeoutError => "timeout_error",
            ErrorKind::ApiError => "api_error",
            ErrorKind::ServerError => "server_error",
        }
    }
}

/// An error on its way to an OpenAI client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} {message}", status.as_u16())]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// OpenAI's `type`.
    pub kind: ErrorKind,
    pub param: Option<String>,
    pub code: Option<String>,
}

/// The JSON body: `{"error": {...}}`.
#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
}

#[derive(Serialize)]
pub struct ErrorDetail<'a> {
    pub message: &'a str,
    #[serde(rename = "type")]
    pub kind: ErrorKind,
    pub param: Option<&'a str>,
    pub code: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
        }
    }

    /// 400 for a request the client must change.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorKind::InvalidRequestError,
            message,
        )
    }

    /// 400 naming the offending request field.
    pub fn invalid_param(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid_request(message).with_param(param)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorKind::AuthenticationError,
            message,
        )
        .with_code("invalid_api_key")
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorKind::InvalidRequestError,
            message,
        )
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            error: ErrorDetail {
                message: &self.message,
                kind: self.kind,
                param: self.param.as_deref(),
                code: self.code.as_deref(),
            },
        }
    }

    /// The error as a JSON string, also used for the SSE error event of a failed stream.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.body()).unwrap_or_else(|_| {
            r#"{"error":{"message":"error","type":"api_error","param":null,"code":null}}"#.into()
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.to_json(),
        )
            .into_response();
        // What the access log and the metrics say about the error (never the message).
        response
            .extensions_mut()
            .insert(crate::telemetry::ErrorOutcome::of(&self));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_openai_error_shape() {
        let err = ApiError::invalid_param("messages", "messages must not be empty");
        let json: serde_json::Value = serde_json::from_str(&err.to_json()).unwrap();
        assert_eq!(json["error"]["message"], "messages must not be empty");
        assert_eq!(json["error"]["type"], "invalid_request_error");
        assert_eq!(json["error"]["param"], "messages");
        assert!(json["error"]["code"].is_null());
    }

    #[test]
    fn every_kind_serialises_to_its_openai_type() {
        for kind in [
            ErrorKind::InvalidRequestError,
            ErrorKind::AuthenticationError,
            ErrorKind::PermissionError,
            ErrorKind::NotFoundError,
            ErrorKind::RateLimitError,
            ErrorKind::TimeoutError,
            ErrorKind::ApiError,
            ErrorKind::ServerError,
        ] {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
        let err = ApiError::unauthorized("no key");
        assert_eq!(
            err.to_json(),
            r#"{"error":{"message":"no key","type":"authentication_error","param":null,"code":"invalid_api_key"}}"#
        );
        assert_eq!(err.to_string(), "401 no key");
    }
}
