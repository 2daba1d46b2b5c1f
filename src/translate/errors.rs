//! Bedrock errors in OpenAI's terms: each Bedrock exception becomes the status an OpenAI
//! client expects (its SDK picks the exception class from it) with Bedrock's own message.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use axum::http::StatusCode;

use crate::error::{ApiError, ErrorKind};

/// Maps a Bedrock error code (`ThrottlingException`...) and message to an API error.
pub fn from_bedrock_code(code: Option<&str>, message: Option<&str>) -> ApiError {
    let code_name = code.unwrap_or("UnknownError");
    let message = message
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("Bedrock returned {code_name}."));
    let (status, kind) = match code_name {
        "ValidationException" | "validationException" => {
            (StatusCode::BAD_REQUEST, ErrorKind::InvalidRequestError)
        }
        "AccessDeniedException" | "accessDeniedException" => {
            (StatusCode::FORBIDDEN, ErrorKind::PermissionError)
        }
        "ResourceNotFoundException" | "resourceNotFoundException" => {
            (StatusCode::NOT_FOUND, ErrorKind::NotFoundError)
        }
        "ThrottlingException"
        | "throttlingException"
        | "ServiceQuotaExceededException"
        | "serviceQuotaExceededException"
        | "ModelNotReadyException" => (StatusCode::TOO_MANY_REQUESTS, ErrorKind::RateLimitError),
        "ModelTimeoutException" | "modelTimeoutException" => {
            (StatusCode::GATEWAY_TIMEOUT, ErrorKind::TimeoutError)
        }
        "ServiceUnavailableException" | "serviceUnavailableException" => {
            (StatusCode::SERVICE_UNAVAILABLE, ErrorKind::ApiError)
        }
        _ => (StatusCode::BAD_GATEWAY, ErrorKind::ApiError),
    };
    ApiError::new(status, kind, message).with_code(code_name)
}

/// Maps any SDK error of a Bedrock operation, including transport failures and timeouts.
pub fn from_sdk_error<E, R>(err: &SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            from_bedrock_code(inner.code(), inner.message())
        }
        SdkError::TimeoutError(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::TimeoutError,
            "Bedrock did not answer in time. Try again, or stream the response.",
        ),
        SdkError::DispatchFailure(failure) if failure.is_timeout() || failure.is_io() => {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorKind::ApiError,
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
        // Anything else at dispatch is local: most often no AWS credentials.
        SdkError::DispatchFailure(_) => match credentials_error(err) {
            Some(credentials) => no_credentials(credentials),
            None => ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorKind::ApiError,
                format!(
                    "Could not call Bedrock ({}). Check the gateway's AWS credentials and region.",
                    error_chain(err)
                ),
            ),
        },
        other => ApiError::new(
            StatusCode::BAD_GATEWAY,
            ErrorKind::ApiError,
            format!(
                "Bedrock returned an unexpected response ({}).",
                error_chain(other)
            ),
        ),
    }
}

/// The credentials error behind a dispatch failure, if that is what it is.
fn credentials_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a CredentialsError> {
    let mut source = Some(err);
    while let Some(current) = source {
        if let Some(found) = current.downcast_ref::<CredentialsError>() {
            return Some(found);
        }
        source = current.source();
    }
    None
}

/// A short message for a gateway without usable AWS credentials. The SDK's own text lists every
/// provider of its chain over several lines; the operator needs to know what to set.
fn no_credentials(err: &CredentialsError) -> ApiError {
    let message = match err {
        CredentialsError::CredentialsNotLoaded(_) => {
            "The gateway has no AWS credentials, so it cannot call Bedrock. Its operator must provide them: AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an IAM role.".to_string()
        }
        other => format!(
            "The gateway could not load its AWS credentials, so it cannot call Bedrock ({}). Its operator must renew or fix them (for SSO profiles: `aws sso login`).",
            error_chain(other)
        ),
    };
    ApiError::new(StatusCode::BAD_GATEWAY, ErrorKind::ApiError, message)
        .with_code("aws_credentials_unavailable")
}

/// An error and its sources on one line, without trailing periods and cut to a readable length
/// (the SDK's errors run to hundreds of characters over several lines).
fn error_chain(err: &dyn std::error::Error) -> String {
    const MAX_CHARS: usize = 300;
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    let joined = parts
        .iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .map(|p| p.trim_end_matches('.').to_string())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    if joined.chars().count() > MAX_CHARS {
        let cut: String = joined.chars().take(MAX_CHARS).collect();
        format!("{cut}...")
    } else {
        joined
    }
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

    #[test]
    fn missing_credentials_get_one_short_line() {
        use aws_sdk_bedrockruntime::config::http::HttpResponse;
        use aws_sdk_bedrockruntime::error::ConnectorError;
        use aws_sdk_bedrockruntime::operation::converse::ConverseError;
        let chain = CredentialsError::not_loaded(
            "no credentials found in chain. Attempted:\n  Environment: not set\n  Ec2InstanceMetadata: failed to load IMDS session token.",
        );
        let err: SdkError<ConverseError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::other(Box::new(chain), None));
        let api = from_sdk_error(&err);
        assert_eq!(api.status, 502);
        assert_eq!(api.code.as_deref(), Some("aws_credentials_unavailable"));
        assert!(api.message.contains("AWS_PROFILE"), "{}", api.message);
        assert!(!api.message.contains('\n') && !api.message.contains(".."));
        assert!(api.message.len() < 250, "{}", api.message);

        let expired = CredentialsError::provider_error("the SSO token has expired.");
        let err: SdkError<ConverseError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::other(Box::new(expired), None));
        let api = from_sdk_error(&err);
        assert!(
            api.message.contains("SSO token has expired)"),
            "{}",
            api.message
        );
        assert!(!api.message.contains(".."), "{}", api.message);
    }
}
