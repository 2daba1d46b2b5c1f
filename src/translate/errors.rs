//! Bedrock errors in OpenAI's terms: each Bedrock exception becomes the status an OpenAI
//! client expects (its SDK picks the exception class from it) with Bedrock's own message.

use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use axum::http::StatusCode;

use crate::error::ApiError;

/// Maps a Bedrock error code (`ThrottlingException`...) and message to an API error.
pub fn from_bedrock_code(code: Option<&str>, message: Option<&str>) -> ApiError {
    let code_name = code.unwrap_or("UnknownError");
    let message = message
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("Bedrock returned {code_name}."));
    let (status, kind) = match code_name {
        "ValidationException" | "validationException" => {
            (StatusCode::BAD_REQUEST, "invalid_request_error")
        }
        "AccessDeniedException" | "accessDeniedException" => {
            (StatusCode::FORBIDDEN, "permission_error")
        }
        "ResourceNotFoundException" | "resourceNotFoundException" => {
            (StatusCode::NOT_FOUND, "not_found_error")
        }
        "ThrottlingException"
        | "throttlingException"
        | "ServiceQuotaExceededException"
        | "serviceQuotaExceededException"
        | "ModelNotReadyException" => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_error"),
        "ModelTimeoutException" | "modelTimeoutException" => {
            (StatusCode::GATEWAY_TIMEOUT, "timeout_error")
        }
        "ServiceUnavailableException" | "serviceUnavailableException" => {
            (StatusCode::SERVICE_UNAVAILABLE, "api_error")
        }
        _ => (StatusCode::BAD_GATEWAY, "api_error"),
    };
    ApiError::new(status, kind, message).with_code(code_name)
}

/// Maps any SDK error of a Bedrock operation, including transport failures and timeouts.
pub fn from_sdk_error<E, R>(err: &SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            from_bedrock_code(inner.code(), inner.message())
        }
        SdkError::TimeoutError(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout_error",
            "Bedrock did not answer in time. Try again, or stream the response.",
        ),
        SdkError::DispatchFailure(failure) if failure.is_timeout() || failure.is_io() => {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "api_error",
                format!(
                    "Could not reach Bedrock ({}).",
                    if failure.is_timeout() {
                        "connect timeout"
                    } else {
                        "connection failed"
                    }
                ),
            )
        }
        // Anything else at dispatch is local: most often no AWS credentials or region.
        SdkError::DispatchFailure(_) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "api_error",
            format!(
                "Could not call Bedrock: {}. Check the gateway's AWS credentials and region.",
                error_chain(err)
            ),
        ),
        other => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "api_error",
            format!(
                "Bedrock returned an unexpected response: {}",
                error_chain(other)
            ),
        ),
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_each_bedrock_exception() {
        let status = |code| from_bedrock_code(Some(code), Some("m")).status.as_u16();
        assert_eq!(status("ValidationException"), 400);
        assert_eq!(status("AccessDeniedException"), 403);
        assert_eq!(status("ResourceNotFoundException"), 404);
        assert_eq!(status("ThrottlingException"), 429);
        assert_eq!(status("ServiceQuotaExceededException"), 429);
        assert_eq!(status("throttlingException"), 429);
        assert_eq!(status("ModelTimeoutException"), 504);
        assert_eq!(status("ServiceUnavailableException"), 503);
        assert_eq!(status("InternalServerException"), 502);
        assert_eq!(status("modelStreamErrorException"), 502);
        let err = from_bedrock_code(Some("ValidationException"), Some("bad turn order"));
        assert_eq!(err.message, "bad turn order");
        assert_eq!(err.code.as_deref(), Some("ValidationException"));
    }
}
