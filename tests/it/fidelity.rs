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

// ----- prompt caching: one-hour TTL and minimum lengths ------------------------

/// A chat body whose system prompt of `words` tokens (the emulator counts words) carries
/// `cache_control`.
fn cached_system(model: &str, words: usize, cache_control: Value) -> Value {
    json!({"model": model, "messages": [
        {"role": "system", "content": [{"type": "text", "text": vec!["word"; words].join(" "),
                                        "cache_control": cache_control}]},
        {"role": "user", "content": "question"}]})
}

fn cache_points(sent: &Value) -> Vec<Value> {
    let mut points = Vec::new();
    for block in sent["body"]["system"].as_array().into_iter().flatten() {
        points.extend(block.get("cachePoint").cloned());
    }
    for message in sent["body"]["messages"].as_array().into_iter().flatten() {
        for block in message["content"].as_array().into_iter().flatten() {
            points.extend(block.get("cachePoint").cloned());
        }
    }
    points
}

#[tokio::test]
async fn one_hour_ttl_reaches_models_that_have_it_and_is_dropped_elsewhere() {
    let gw = crate::support::start().await;
    let one_hour = json!({"type": "ephemeral", "ttl": "1h"});
    let (status, reply) = gw
        .chat(cached_system(CLAUDE_45, 10, one_hour.clone()))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        cache_points(&sent),
        vec![json!({"type": "default", "ttl": "1h"})],
        "{sent}"
    );
    // Claude 3.7 Sonnet has only the five-minute cache: the point goes without a TTL.
    let claude_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
    let (status, reply) = gw.chat(cached_system(claude_37, 10, one_hour)).await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        cache_points(&sent),
        vec![json!({"type": "default"})],
        "{sent}"
    );
}

#[tokio::test]
async fn one_hour_mark_makes_every_cache_point_one_hour() {
    // With ENABLE_PROMPT_CACHING the gateway's own points come first; Bedrock refuses a 1h point
    // after a 5m one, so all points of the request take the hour.
    let gw =
        crate::support::start_with(&[("ENABLE_PROMPT_CACHING", "true")], Default::default()).await;
    let body = json!({"model": CLAUDE_45, "messages": [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": [{"type": "text", "text": "question",
                                      "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}]});
    let (status, reply) = gw.chat(body).await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    let points = cache_points(&sent);
    assert_eq!(points.len(), 2, "{sent}");
    assert!(points.iter().all(|p| p["ttl"] == "1h"), "{sent}");
}

#[tokio::test]
async fn an_unknown_cache_ttl_is_a_400_naming_it() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(cached_system(
            CLAUDE_45,
            10,
            json!({"type": "ephemeral", "ttl": "1d"}),
        ))
        .await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(
        reply["error"]["param"],
        "messages[0].content[0].cache_control"
    );
}

#[tokio::test]
async fn usage_shows_no_cache_write_below_the_model_minimum() {
    let gw = crate::support::start().await;
    let haiku_45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
    let ephemeral = json!({"type": "ephemeral"});
    // Claude Haiku 4.5 caches from 4,096 tokens; Sonnet 4.5 from 1,024.
    for (model, words, writes) in [
        (haiku_45, 4095, 0),
        (CLAUDE_45, 4095, 4095),
        (haiku_45, 4096, 4096),
    ] {
        let (status, reply) = gw
            .chat(cached_system(model, words, ephemeral.clone()))
            .await;
        assert_eq!(status, 200, "{reply}");
        let sent = last_converse_call(&gw.emulator).await;
        assert_eq!(
            cache_points(&sent).len(),
            1,
            "the cache point was sent: {sent}"
        );
        let details = &reply["usage"]["prompt_tokens_details"];
        assert_eq!(
            details["cache_write_tokens"].as_u64().unwrap_or(0),
            writes,
            "{model} {words}: {reply}"
        );
        assert_eq!(details["cached_tokens"].as_u64().unwrap_or(0), 0, "{reply}");
        let prompt = reply["usage"]["prompt_tokens"].as_u64().unwrap();
        assert!(
            prompt > words as u64,
            "every prompt token is still counted: {reply}"
        );
    }
}

// ----- MODEL_CAPABILITIES -----------------------------------------------------------

#[tokio::test]
async fn model_capabilities_override_the_table() {
    let gw = crate::support::start_with(
        &[
            ("ENABLE_PROMPT_CACHING", "true"),
            (
                "MODEL_CAPABILITIES",
                r#"{"anthropic.claude-sonnet-4-5": {"tool_streaming": false},
                    "us.anthropic.claude-sonnet-4-5": {"prompt_caching": false}}"#,
            ),
        ],
        Default::default(),
    )
    .await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let body = json!({"model": CLAUDE_45, "stream": true, "tools": tools,
        "messages": [{"role": "system", "content": "rules"},
                     {"role": "user", "content": [{"type": "text", "text": "weather?",
                                                   "cache_control": {"type": "ephemeral"}}]}]});
    let (status, events) = gw.chat_stream(body).await;
    assert_eq!(status, 200, "{events:?}");
    let sent = last_converse_call(&gw.emulator).await;
    // tool_streaming off: a streamed request with tools goes through Converse and is replayed.
    assert_eq!(sent["operation"], "Converse", "{sent}");
    // prompt_caching off: no cache point at all, despite ENABLE_PROMPT_CACHING and the mark.
    assert!(cache_points(&sent).is_empty(), "{sent}");
    assert!(!sent["body"].to_string().contains("cachePoint"), "{sent}");
    // Another model keeps the table's answers.
    let (status, _) = gw
        .chat_stream(
            json!({"model": "us.anthropic.claude-3-7-sonnet-20250219-v1:0", "stream": true,
            "tools": tools, "messages": [{"role": "user", "content": "weather?"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(sent["operation"], "ConverseStream", "{sent}");
}

// ----- capabilities from Bedrock's listing ----------------------------------------------

#[tokio::test]
async fn image_input_follows_the_listing_where_it_has_the_model() {
    let gw = crate::support::start().await;
    // The hand table gives every `anthropic.claude` model images; the emulator's listing gives
    // Claude 2.1 TEXT only, so the gateway refuses the image before calling Bedrock.
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let image_body = |model: &str| {
        json!({"model": model, "messages": [{"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{png}")}}]}]})
    };
    let before = converse_calls(&gw).await;
    let (status, reply) = gw.chat(image_body("anthropic.claude-v2:1")).await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("image input"),
        "{reply}"
    );
    assert_eq!(reply["error"]["param"], "messages[0].content[1]", "{reply}");
    assert_eq!(converse_calls(&gw).await, before, "nothing reached Bedrock");
    // A listed model with IMAGE (through its inference profile) still gets the image.
    let (status, reply) = gw.chat(image_body(CLAUDE_45)).await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    assert!(
        sent["body"]["messages"][0]["content"][1]
            .get("image")
            .is_some(),
        "{sent}"
    );
    // MODEL_CAPABILITIES still has the last word.
    let gw = crate::support::start_with(
        &[(
            "MODEL_CAPABILITIES",
            r#"{"anthropic.claude-v2": {"images": true}}"#,
        )],
        Default::default(),
    )
    .await;
    let (status, reply) = gw.chat(image_body("anthropic.claude-v2:1")).await;
    assert!(
        !reply["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("image input"),
        "{status} {reply}"
    );
    assert_eq!(
        last_converse_call(&gw.emulator).await["modelId"],
        "anthropic.claude-v2:1"
    );
}

// ----- models Bedrock lists as not streaming ---------------------------------

/// AI21 Jurassic-2 is listed with `responseStreamingSupported: false` and Bedrock refuses
/// ConverseStream for it; a `stream: true` request is answered by Converse, replayed.
#[tokio::test]
async fn a_stream_to_a_model_that_cannot_stream_is_a_replayed_converse_call() {
    let gw = crate::support::start().await;
    let mut body = user("ai21.j2-mid-v1", "hello there");
    body["stream"] = json!(true);
    let (status, events) = gw.chat_stream(body).await;
    assert_eq!(status, 200, "{events:?}");
    assert_eq!(crate::support::streamed_text(&events), "hello there");
    assert_eq!(events.last(), Some(&json!("[DONE]")));
    let finish = events
        .iter()
        .find_map(|e| e["choices"][0]["finish_reason"].as_str())
        .expect("a finish reason");
    assert_eq!(finish, "stop");
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(sent["operation"], "Converse", "{sent}");

    // The Responses API streams through the same source.
    let response = gw
        .post(
            "/responses",
            &json!({"model": "ai21.j2-mid-v1", "input": "hi again", "stream": true}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    assert!(text.contains("response.completed"), "{text}");
    assert_eq!(
        last_converse_call(&gw.emulator).await["operation"],
        "Converse"
    );
}

// ----- image byte cap (audit item 18) ------------------------------------------

/// A PNG of `len` bytes: a 1x1 header, then padding.
fn png_of(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend(1u32.to_be_bytes());
    bytes.extend(1u32.to_be_bytes());
    bytes.resize(len, 0);
    bytes
}

/// Bedrock counts 5 MiB of base64, so 3,932,160 raw bytes (3.75 MiB) pass: the gateway lets
/// them through and Bedrock takes them; one byte more is the gateway's own 400.
#[tokio::test]
async fn images_up_to_three_point_seven_five_mib_reach_bedrock() {
    use base64::Engine;
    let gw = crate::support::start().await;
    let image = |len: usize| {
        let data = base64::engine::general_purpose::STANDARD.encode(png_of(len));
        json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "messages": [{"role": "user",
            "content": [{"type": "text", "text": "see"},
                {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{data}")}}]}]})
    };
    let (status, reply) = gw.chat(image(3_900_000)).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = gw.chat(image(3_932_160)).await;
    assert_eq!(status, 200, "{reply}");
    let calls = converse_calls(&gw).await;
    let (status, reply) = gw.chat(image(3_932_161)).await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(converse_calls(&gw).await, calls, "refused before Bedrock");
}

// ----- empty error tool results (audit item 16) --------------------------------

/// Bedrock refuses an error tool result without content; the gateway never sends `status` and
/// gives a blank tool message a placeholder text, so a blank result still reaches Bedrock.
#[tokio::test]
async fn a_blank_tool_message_reaches_bedrock_with_content() {
    let gw = crate::support::start().await;
    let body = json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": ""}
    ], "tools": [{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {}}}}]});
    let (status, reply) = gw.chat(body).await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    let result = &sent["body"]["messages"][2]["content"][0]["toolResult"];
    assert!(result.get("status").is_none(), "{result}");
    assert!(
        !result["content"].as_array().unwrap().is_empty(),
        "{result}"
    );
}

// ----- make smoke-aws ----------------------------------------------------------

/// Without credentials, `make smoke-aws` says so in one line and succeeds, touching nothing
/// (no build, no venv, no network): every credential source the script knows is cleared.
#[test]
fn smoke_aws_skips_in_one_line_without_credentials() {
    let home = std::env::temp_dir().join(format!("smoke-aws-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let output = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/smoke-aws.sh"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("smoke-aws: skipped: no AWS credentials found"),
        "{stdout}"
    );
    // With a key in the environment it would go on (to the venv and the build): not run here.
    std::fs::remove_dir_all(&home).ok();
}
