//! Bedrock's error responses: the exception names, their HTTP statuses and the
//! restJson1 wire shape the AWS SDK decodes them from.
//!
//! Bedrock names the exception in the `x-amzn-errortype` header (with a Coral
//! namespace suffix the SDK strips) and puts `{"message": ...}` in the body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Suffix Bedrock appends to the exception name in `x-amzn-errortype`.
const CORAL_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazon.bedrock/";

/// Every exception Bedrock Runtime's Converse operations can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Validation,
    AccessDenied,
    ResourceNotFound,
    Throttling,
    ServiceQuotaExceeded,
    ModelTimeout,
    InternalServer,
    ServiceUnavailable,
    ModelNotReady,
    ModelError,
    /// Not a Bedrock Runtime operation at all (unknown path or method).
    UnknownOperation,
}

impl ErrorKind {
    /// The exception's shape name, as sent in `x-amzn-errortype`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Validation => "ValidationException",
            ErrorKind::AccessDenied => "AccessDeniedException",
            ErrorKind::ResourceNotFound => "ResourceNotFoundException",
            ErrorKind::Throttling => "ThrottlingException",
            ErrorKind::ServiceQuotaExceeded => "ServiceQuotaExceededException",
            ErrorKind::ModelTimeout => "ModelTimeoutException",
            ErrorKind::InternalServer => "InternalServerException",
            ErrorKind::ServiceUnavailable => "ServiceUnavailableException",
            ErrorKind::ModelNotReady => "ModelNotReadyException",
            ErrorKind::ModelError => "ModelErrorException",
            ErrorKind::UnknownOperation => "UnknownOperationException",
        }
    }

    /// The HTTP status Bedrock pairs with the exception.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::Validation | ErrorKind::ServiceQuotaExceeded => StatusCode::BAD_REQUEST,
            ErrorKind::AccessDenied => StatusCode::FORBIDDEN,
            ErrorKind::ResourceNotFound | ErrorKind::UnknownOperation => StatusCode::NOT_FOUND,
            ErrorKind::Throttling | ErrorKind::ModelNotReady => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::ModelTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::InternalServer => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::ModelError => StatusCode::FAILED_DEPENDENCY,
        }
    }
}

/// A Bedrock exception about to be sent as an HTTP error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    /// Raised by the model provider (Anthropic's validator, for example) rather than by
    /// Bedrock's own checks. ConverseStream relays these inside the event stream, after HTTP
    /// 200; Converse answers them as a plain HTTP error like any other.
    pub relayed_from_model: bool,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            relayed_from_model: false,
        }
    }

    /// The most common case: a request Bedrock refuses to run.
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::Validation, message)
    }

    /// A request that is not well-formed JSON of the operation's shape. `path`
    /// is a dotted path (`messages.0.content`); Bedrock reports these as JSON
    /// pointers.
    pub fn malformed(path: &str, detail: impl std::fmt::Display) -> Self {
        let pointer = if path.is_empty() {
            "#".to_string()
        } else {
            format!("#/{}", path.replace('.', "/"))
        };
        ApiError::validation(format!(
            "Malformed input request: {pointer}: {detail}, please reformat your input and try again."
        ))
    }

    /// An error Bedrock relays from the model provider (Anthropic's validator,
    /// for example), which it prefixes with a fixed sentence.
    ///
    /// Evidence for the wire form: a ConverseStream that answered HTTP 200 and then failed
    /// with `(validationException) when calling the ConverseStream operation: The model
    /// returned the following errors: A maximum of 4 blocks with cache_control...`
    /// (aws-samples/demo_mcp_on_amazon_bedrock#91; the lowercase name is the event-stream
    /// exception, botocore `ConverseStreamOutput.validationException`); nulib/dc-api-v2#296.
    pub fn from_model(detail: impl std::fmt::Display) -> Self {
        ApiError {
            relayed_from_model: true,
            ..ApiError::validation(format!("The model returned the following errors: {detail}"))
        }
    }

    /// A Smithy constraint violation, worded the way Coral words them.
    pub fn constraint(value: impl std::fmt::Display, path: &str, rule: &str) -> Self {
        ApiError::validation(format!(
            "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: Member must {rule}"
        ))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message }).to_string();
        let mut response = (self.kind.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let error_type = format!("{}:{}", self.kind.name(), CORAL_NAMESPACE);
        if let Ok(value) = HeaderValue::from_str(&error_type) {
            headers.insert("x-amzn-errortype", value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_paths_become_json_pointers() {
        let error =
            ApiError::malformed("messages.0.content", "extraneous key [x] is not permitted");
        assert_eq!(
            error.message,
            "Malformed input request: #/messages/0/content: extraneous key [x] is not permitted, please reformat your input and try again."
        );
        assert!(ApiError::malformed("", "x").message.contains(" #: x"));
    }

    #[test]
    fn response_carries_type_header_and_status() {
        let response = ApiError::new(ErrorKind::ModelError, "boom").into_response();
        assert_eq!(response.status(), StatusCode::FAILED_DEPENDENCY);
        assert_eq!(
            response.headers()["x-amzn-errortype"],
            "ModelErrorException:http://internal.amazon.com/coral/com.amazon.bedrock/"
        );
    }
}
