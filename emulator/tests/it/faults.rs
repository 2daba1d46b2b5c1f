//! Fault markers: each must reach the real SDK as the right error variant,
//! from Converse and from ConverseStream (before the first frame).

use crate::support::*;
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamError;
use axum::http::StatusCode;
use serde_json::json;

struct Case {
    marker: &'static str,
    status: StatusCode,
    name: &'static str,
    converse: fn(&ConverseError) -> bool,
    stream: fn(&ConverseStreamError) -> bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            marker: "throttling",
            status: StatusCode::TOO_MANY_REQUESTS,
            name: "ThrottlingException",
            converse: |e| e.is_throttling_exception(),
            stream: |e| e.is_throttling_exception(),
        },
        Case {
            marker: "internal",
            status: StatusCode::INTERNAL_SERVER_ERROR,
            name: "InternalServerException",
            converse: |e| e.is_internal_server_exception(),
            stream: |e| e.is_internal_server_exception(),
        },
        Case {
            marker: "unavailable",
            status: StatusCode::SERVICE_UNAVAILABLE,
            name: "ServiceUnavailableException",
            converse: |e| e.is_service_unavailable_exception(),
            stream: |e| e.is_service_unavailable_exception(),
        },
        Case {
            marker: "timeout",
            status: StatusCode::REQUEST_TIMEOUT,
            name: "ModelTimeoutException",
            converse: |e| e.is_model_timeout_exception(),
            stream: |e| e.is_model_timeout_exception(),
        },
        Case {
            marker: "access",
            status: StatusCode::FORBIDDEN,
            name: "AccessDeniedException",
            converse: |e| e.is_access_denied_exception(),
            stream: |e| e.is_access_denied_exception(),
        },
        Case {
            marker: "notfound",
            status: StatusCode::NOT_FOUND,
            name: "ResourceNotFoundException",
            converse: |e| e.is_resource_not_found_exception(),
            stream: |e| e.is_resource_not_found_exception(),
        },
        Case {
            marker: "notready",
            status: StatusCode::TOO_MANY_REQUESTS,
            name: "ModelNotReadyException",
            converse: |e| e.is_model_not_ready_exception(),
            stream: |e| e.is_model_not_ready_exception(),
        },
        Case {
            marker: "modelerror",
            status: StatusCode::FAILED_DEPENDENCY,
            name: "ModelErrorException",
            converse: |e| e.is_model_error_exception(),
            stream: |e| e.is_model_error_exception(),
        },
        Case {
            marker: "validation",
            status: StatusCode::BAD_REQUEST,
            name: "ValidationException",
            converse: |e| e.is_validation_exception(),
            stream: |e| e.is_validation_exception(),
        },
        // Converse does not model this exception: the SDK reports its code.
        Case {
            marker: "quota",
            status: StatusCode::BAD_REQUEST,
            name: "ServiceQuotaExceededException",
            converse: |e| e.code() == Some("ServiceQuotaExceededException"),
            stream: |e| e.code() == Some("ServiceQuotaExceededException"),
        },
    ]
}

#[tokio::test]
async fn converse_faults_map_to_sdk_errors() {
    let h = start().await;
    for case in cases() {
        let error = h
            .converse(HAIKU_3)
            .messages(user(&format!("hello [[fault:{}]]", case.marker)))
            .send()
            .await
            .expect_err(case.marker)
            .into_service_error();
        assert!((case.converse)(&error), "{}: {error:?}", case.marker);
        assert!(
            error.message().is_some_and(|m| !m.is_empty()),
            "{}",
            case.marker
        );
    }
}

#[tokio::test]
async fn stream_faults_before_the_first_frame_are_http_errors() {
    let h = start().await;
    for case in cases() {
        let error = h
            .client
            .converse_stream()
            .model_id(NOVA_MICRO)
            .messages(user(&format!("hello [[fault:{}]]", case.marker)))
            .send()
            .await
            .expect_err(case.marker)
            .into_service_error();
        assert!((case.stream)(&error), "{}: {error:?}", case.marker);
    }
}

#[tokio::test]
async fn faults_use_bedrock_statuses_and_error_type_headers() {
    for case in cases() {
        let response = raw_converse(
            HAIKU_3,
            json!({"messages": [{"role": "user", "content": [{"text": format!("[[fault:{}]]", case.marker)}]}]}),
        )
        .await;
        assert_eq!(response.status, case.status, "{}", case.marker);
        assert_eq!(
            response.error_type(),
            format!(
                "{}:http://internal.amazon.com/coral/com.amazon.bedrock/",
                case.name
            )
        );
        assert!(!response.message().is_empty());
    }
}

#[tokio::test]
async fn converse_reports_midstream_faults_as_whole_errors() {
    let h = start().await;
    let error = h
        .converse(HAIKU_3)
        .messages(user("a b c [[fault:midstream]]"))
        .send()
        .await
        .expect_err("fails")
        .into_service_error();
    assert!(error.is_model_error_exception(), "{error:?}");
    let error = h
        .converse(HAIKU_3)
        .messages(user("a b c [[fault:midstream-throttling]]"))
        .send()
        .await
        .expect_err("fails")
        .into_service_error();
    assert!(error.is_throttling_exception(), "{error:?}");
}

#[tokio::test]
async fn validation_comes_before_faults() {
    let h = start().await;
    let message = validation_error(
        h.converse(MISTRAL_7B)
            .system(aws_sdk_bedrockruntime::types::SystemContentBlock::Text(
                "sys".into(),
            ))
            .messages(user("[[fault:throttling]]")),
    )
    .await;
    assert_eq!(message, "This model doesn't support system messages.");
}

#[tokio::test]
async fn markers_in_tool_results_apply() {
    use aws_sdk_bedrockruntime::types::{
        ContentBlock, ToolResultBlock, ToolResultContentBlock, ToolUseBlock,
    };
    let h = start().await;
    let call = ToolUseBlock::builder()
        .tool_use_id("tooluse_1")
        .name("get_weather")
        .input(doc(&json!({})))
        .build()
        .unwrap();
    let result = ToolResultBlock::builder()
        .tool_use_id("tooluse_1")
        .content(ToolResultContentBlock::Text(
            "rain [[fault:unavailable]]".into(),
        ))
        .build()
        .unwrap();
    let error = h
        .converse(HAIKU_3)
        .tool_config(tools(vec![weather_tool()], None))
        .messages(user("weather"))
        .messages(assistant_blocks(vec![ContentBlock::ToolUse(call)]))
        .messages(user_blocks(vec![ContentBlock::ToolResult(result)]))
        .send()
        .await
        .expect_err("fails")
        .into_service_error();
    assert!(error.is_service_unavailable_exception(), "{error:?}");
}

/// Errors the model provider raises: Converse answers HTTP 400; ConverseStream answers HTTP 200
/// and relays them as an in-stream `validationException` (Bedrock's own checks stay HTTP 400).
#[tokio::test]
async fn provider_errors_are_relayed_inside_the_stream() {
    let h = start().await;
    let error = h
        .converse(HAIKU_3)
        .messages(user("hello [[fault:model-validation]]"))
        .send()
        .await
        .expect_err("fails")
        .into_service_error();
    assert!(error.is_validation_exception(), "{error:?}");
    assert!(
        error
            .message()
            .unwrap()
            .starts_with("The model returned the following errors: ")
    );

    let mut output = h
        .client
        .converse_stream()
        .model_id(HAIKU_3)
        .messages(user("hello [[fault:model-validation]]"))
        .send()
        .await
        .expect("the stream opens with HTTP 200");
    let error = output
        .stream
        .recv()
        .await
        .expect_err("the first event is the exception")
        .into_service_error();
    assert!(error.is_validation_exception(), "{error:?}");
    assert!(
        error
            .message()
            .unwrap()
            .starts_with("The model returned the following errors: ")
    );

    // A Bedrock-side check on the same stream is still an HTTP error.
    let error = h
        .client
        .converse_stream()
        .model_id(HAIKU_3)
        .messages(assistant_blocks(vec![text("starts with the assistant")]))
        .messages(user("[[fault:model-validation]]"))
        .messages(user("two user turns"))
        .send()
        .await
        .expect_err("refused before the stream")
        .into_service_error();
    assert!(error.is_validation_exception(), "{error:?}");
}
