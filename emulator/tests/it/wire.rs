//! Wire-level behaviour the SDK hides: strict request shapes (unknown
//! members, wrong types, bad enum values), error headers, percent-encoded
//! model ids, unknown operations, and request ids.

use crate::support::*;
use axum::http::StatusCode;
use bedrock_emulator::EmulatorConfig;
use serde_json::json;

fn hello() -> serde_json::Value {
    json!([{"role": "user", "content": [{"text": "hello"}]}])
}

#[tokio::test]
async fn unknown_members_are_refused_at_every_level() {
    let cases = [
        (
            json!({"messages": hello(), "temperature": 0.5}),
            "#: extraneous key [temperature]",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "x"}], "name": "bob"}]}),
            "#/messages/0: extraneous key [name]",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]}),
            "#/messages/0/content/0",
        ),
        (
            json!({"messages": hello(), "inferenceConfig": {"max_tokens": 10}}),
            "#/inferenceConfig: extraneous key [max_tokens]",
        ),
        (
            json!({"messages": hello(), "toolConfig": {"tools": [{"toolSpec": {"name": "f",
                "inputSchema": {"json": {"type": "object"}}, "parameters": {}}}]}}),
            "#/toolConfig/tools/0/toolSpec: extraneous key [parameters]",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"image": {"format": "png",
                "source": {"bytes": "iVBORw0KGgo=", "url": "http://x"}}}]}]}),
            "#/messages/0/content/0/image/source",
        ),
    ];
    for (body, expected) in cases {
        let message = raw_validation(&raw_converse(HAIKU_3, body.clone()).await);
        assert!(
            message.starts_with("Malformed input request: "),
            "{message}"
        );
        assert!(message.contains(expected), "{body}: {message}");
    }
}

#[tokio::test]
async fn member_types_are_checked() {
    let cases = [
        (
            json!({"messages": hello(), "inferenceConfig": {"maxTokens": "10"}}),
            "#/inferenceConfig/maxTokens: expected type: Integer, found: String",
        ),
        (
            json!({"messages": hello(), "inferenceConfig": {"maxTokens": 10.5}}),
            "#/inferenceConfig/maxTokens: expected type: Integer",
        ),
        (
            json!({"messages": hello(), "inferenceConfig": {"temperature": "hot"}}),
            "#/inferenceConfig/temperature: expected type: Number",
        ),
        (
            json!({"messages": {"role": "user"}}),
            "#/messages: expected type: JSONArray",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": 5}]}]}),
            "#/messages/0/content/0/text: expected type: String",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": "not base64!"}}}]}]}),
            "not valid base64",
        ),
        (
            json!({"messages": [{"role": "user"}]}),
            "#/messages/0: required key [content] not found",
        ),
        (
            json!({"messages": hello(), "system": [{}]}),
            "#/system/0: a union must have exactly one member set",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a", "cachePoint": {"type": "default"}}]}]}),
            "exactly one member",
        ),
        (json!([1, 2]), "#: expected type: JSONObject"),
    ];
    for (body, expected) in cases {
        let message = raw_validation(&raw_converse(HAIKU_3, body.clone()).await);
        assert!(message.contains(expected), "{body}: {message}");
    }
}

#[tokio::test]
async fn enum_values_are_checked() {
    let cases = [
        (
            json!({"messages": [{"role": "system", "content": [{"text": "x"}]}]}),
            "Value 'system' at 'messages.0.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"image": {"format": "bmp", "source": {"bytes": ""}}}]}]}),
            "at 'messages.0.content.0.image.format'",
        ),
        (
            json!({"messages": hello(), "performanceConfig": {"latency": "fast"}}),
            "Value 'fast' at 'performanceConfig.latency'",
        ),
        (
            json!({"messages": hello(), "system": [{"text": "s"}, {"cachePoint": {"type": "ephemeral"}}]}),
            "Value 'ephemeral' at 'system.1.cachePoint.type'",
        ),
        (
            json!({"messages": hello(), "guardrailConfig": {"guardrailIdentifier": "g", "guardrailVersion": "1", "trace": "on"}}),
            "Value 'on' at 'guardrailConfig.trace'",
        ),
    ];
    for (body, expected) in cases {
        let message = raw_validation(&raw_converse(HAIKU_3, body.clone()).await);
        assert!(message.contains(expected), "{body}: {message}");
    }
}

#[tokio::test]
async fn invalid_json_is_refused() {
    let response = raw(
        EmulatorConfig::default(),
        "POST",
        &format!("/model/{HAIKU_3}/converse"),
        b"{not json".to_vec(),
    )
    .await;
    assert!(raw_validation(&response).contains("not valid JSON"));
}

#[tokio::test]
async fn percent_encoded_arns_are_decoded() {
    let path = "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A111122223333%3Aapplication-inference-profile%2Femu-app-profile/converse";
    let response = raw(
        EmulatorConfig::default(),
        "POST",
        path,
        json!({"messages": hello()}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(
        response.json()["output"]["message"]["content"][0]["text"],
        "hello"
    );
}

#[tokio::test]
async fn converse_response_has_bedrock_shape() {
    let response = raw_converse(HAIKU_3, json!({"messages": hello()})).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers["content-type"], "application/json");
    assert!(response.headers.contains_key("x-amzn-requestid"));
    let body = response.json();
    assert_eq!(body["output"]["message"]["role"], "assistant");
    assert_eq!(body["stopReason"], "end_turn");
    assert_eq!(
        body["usage"],
        json!({"inputTokens": 1, "outputTokens": 1, "totalTokens": 2})
    );
    assert!(body["metrics"]["latencyMs"].is_u64());
}

#[tokio::test]
async fn unknown_operations_are_refused() {
    let response = raw(
        EmulatorConfig::default(),
        "POST",
        "/model/x/invoke-agent",
        Vec::new(),
    )
    .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(
        response
            .error_type()
            .starts_with("UnknownOperationException:")
    );
    let response = raw(
        EmulatorConfig::default(),
        "GET",
        &format!("/model/{HAIKU_3}/converse"),
        Vec::new(),
    )
    .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn large_images_fit_the_body_limit_and_are_refused_by_size() {
    use base64::Engine;
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.resize(4_000_000, 0);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let body = json!({"messages": [{"role": "user", "content": [
        {"text": "big"}, {"image": {"format": "png", "source": {"bytes": encoded}}}]}]});
    let message = raw_validation(&raw_converse(HAIKU_3, body).await);
    assert!(
        message.contains("image exceeds 5 MB maximum: 5333336 bytes > 5242880 bytes"),
        "{message}"
    );
}
