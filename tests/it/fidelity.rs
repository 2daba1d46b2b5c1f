//! Bedrock request fields whose meaning depends on the model: service tiers, the one-hour
//! prompt cache and per-model minimum cacheable lengths, checked over HTTP against what
//! reached the emulator.

use crate::support::{TestGateway, last_converse_call, user};
use serde_json::{Value, json};

const GPT_OSS: &str = "openai.gpt-oss-20b-1:0";
const CLAUDE_45: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

async fn converse_calls(gw: &TestGateway) -> usize {
    crate::support::emulator_calls(&gw.emulator, "converse").await["calls"]
        .as_array()
        .map_or(0, Vec::len)
}

// ----- service_tier ---------------------------------------------------------

#[tokio::test]
async fn service_tier_reaches_bedrock_as_service_tier_type() {
    let gw = crate::support::start().await;
    for (tier, sent_as) in [
        ("priority", "priority"),
        ("flex", "flex"),
        ("default", "default"),
    ] {
        let body = with(user(GPT_OSS, "hi"), "service_tier", json!(tier));
        let (status, reply) = gw.chat(body.clone()).await;
        assert_eq!(status, 200, "{tier}: {reply}");
        let sent = last_converse_call(&gw.emulator).await;
        assert_eq!(
            sent["body"]["serviceTier"],
            json!({"type": sent_as}),
            "{sent}"
        );
        let (status, events) = gw.chat_stream(with(body, "stream", json!(true))).await;
        assert_eq!(status, 200, "{tier}: {events:?}");
        let sent = last_converse_call(&gw.emulator).await;
        assert_eq!(sent["operation"], "ConverseStream");
        assert_eq!(
            sent["body"]["serviceTier"],
            json!({"type": sent_as}),
            "{sent}"
        );
    }
    let (status, _) = gw
        .chat(with(user(GPT_OSS, "hi"), "service_tier", json!("auto")))
        .await;
    assert_eq!(status, 200);
    let sent = last_converse_call(&gw.emulator).await;
    assert!(
        sent["body"].get("serviceTier").is_none(),
        "auto sends nothing: {sent}"
    );
}

#[tokio::test]
async fn responses_api_forwards_service_tier() {
    let gw = crate::support::start().await;
    let response = gw
        .post(
            "/responses",
            &json!({"model": GPT_OSS, "input": "hi", "service_tier": "flex"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let reply: Value = response.json().await.unwrap();
    assert_eq!(reply["service_tier"], "flex", "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        sent["body"]["serviceTier"],
        json!({"type": "flex"}),
        "{sent}"
    );
}

#[tokio::test]
async fn a_tier_the_model_does_not_serve_is_a_clear_400() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(with(
            user(CLAUDE_45, "hi"),
            "service_tier",
            json!("priority"),
        ))
        .await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["error"]["type"], "invalid_request_error");
    assert_eq!(
        reply["error"]["message"],
        "The provided service tier is not supported for this model."
    );
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        sent["body"]["serviceTier"],
        json!({"type": "priority"}),
        "{sent}"
    );
}

#[tokio::test]
async fn scale_and_unknown_tiers_are_refused_before_bedrock() {
    let gw = crate::support::start().await;
    for tier in ["scale", "turbo"] {
        let before = converse_calls(&gw).await;
        let (status, reply) = gw
            .chat(with(user(GPT_OSS, "hi"), "service_tier", json!(tier)))
            .await;
        assert_eq!(status, 400, "{reply}");
        assert_eq!(reply["error"]["param"], "service_tier");
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap()
                .contains("auto, default, flex or priority"),
            "{reply}"
        );
        assert_eq!(converse_calls(&gw).await, before, "nothing reached Bedrock");
    }
}
