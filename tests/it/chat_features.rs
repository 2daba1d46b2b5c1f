//! The rest of chat completions end to end: tools, images, documents, reasoning, prompt caching,
//! model identifiers, structured output and Bedrock pass-through fields, streaming and not,
//! against the strict emulator.

use crate::support::{MODEL, TestGateway, last_converse_call, streamed_text, user};
use serde_json::{Value, json};

const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const CLAUDE_37: &str = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
const CLAUDE_45: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const LLAMA: &str = "meta.llama3-3-70b-instruct-v1:0";

fn weather_tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
    ])
}

fn content(reply: &Value) -> &str {
    reply["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
}

/// Asserts that the assistant turn (the second message) of the last Converse call reached
/// Bedrock without reasoning blocks.
async fn assert_history_holds_no_reasoning(gw: &TestGateway) {
    let sent = last_converse_call(&gw.emulator).await;
    let assistant = &sent["body"]["messages"][1];
    assert_eq!(assistant["role"], "assistant", "{sent}");
    assert!(
        assistant["content"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b.get("reasoningContent").is_none()),
        "the reasoning stays out of the history: {sent}"
    );
}

/// The tool calls of a stream, reassembled the way OpenAI clients do it (by `index`).
fn streamed_tool_calls(events: &[Value]) -> Vec<(String, String, String)> {
    let mut calls: Vec<(String, String, String)> = Vec::new();
    for delta in events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["tool_calls"].as_array())
    {
        for call in delta {
            let index = call["index"].as_u64().unwrap() as usize;
            if index == calls.len() {
                assert_eq!(
                    call["type"], "function",
                    "the first delta of a call names its type"
                );
                assert_eq!(
                    call["function"]["arguments"], "",
                    "the first delta has empty arguments"
                );
                calls.push((
                    call["id"].as_str().unwrap().to_string(),
                    call["function"]["name"].as_str().unwrap().to_string(),
                    String::new(),
                ));
            } else {
                calls[index]
                    .2
                    .push_str(call["function"]["arguments"].as_str().unwrap());
            }
        }
    }
    calls
}

fn stream(mut body: Value) -> Value {
    body["stream"] = json!(true);
    body
}

#[tokio::test]
async fn required_tool_choice_returns_a_tool_call() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(
            json!({"model": MODEL, "messages": [{"role": "user", "content": "weather in Paris?"}],
                     "tools": weather_tools(), "tool_choice": "required"}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let choice = &reply["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert!(choice["message"]["content"].is_null());
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert!(
        args["city"].is_string(),
        "arguments follow the schema: {args}"
    );
    assert!(!call["id"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn named_tool_choice_and_parallel_calls() {
    let gw = crate::support::start().await;
    let (_, reply) = gw
        .chat(json!({"model": MODEL, "messages": [{"role": "user", "content": "time?"}], "tools": weather_tools(),
                     "tool_choice": {"type": "function", "function": {"name": "get_time"}}}))
        .await;
    assert_eq!(
        reply["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "get_time"
    );
    assert_eq!(
        reply["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
        "{}"
    );

    let (_, reply) = gw
        .chat(
            json!({"model": MODEL, "tools": weather_tools(), "messages": [{"role": "user",
            "content": "both [[call:get_weather {\"city\":\"Oslo\"}]] [[call:get_time]]"}]}),
        )
        .await;
    let calls = reply["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap();
    assert_eq!(calls.len(), 2, "{reply}");
    assert_eq!(calls[0]["function"]["arguments"], r#"{"city":"Oslo"}"#);
    assert_eq!(calls[1]["function"]["name"], "get_time");
    assert_ne!(calls[0]["id"], calls[1]["id"]);
}

#[tokio::test]
async fn tool_results_go_back_to_the_model() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": MODEL, "tools": weather_tools(), "messages": [
            {"role": "user", "content": "weather in Oslo and the time?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}},
                {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": ""}}]},
            {"role": "tool", "tool_call_id": "call_a", "content": "{\"temp\": 3}"},
            {"role": "tool", "tool_call_id": "call_b", "content": "noon"}
        ]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let text = content(&reply);
    assert!(text.contains("[toolResult call_a: {\"temp\":3}]"), "{text}");
    assert!(text.contains("[toolResult call_b: noon]"), "{text}");
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn streamed_tool_calls_are_indexed_from_zero_after_a_text_block() {
    let gw = crate::support::start().await;
    let (status, events) = gw
        .chat_stream(stream(
            json!({"model": MODEL, "tools": weather_tools(), "messages": [{"role": "user",
            "content": "go [[call:get_weather {\"city\":\"Lima\"}]] [[call:get_time]]"}]}),
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        streamed_text(&events).starts_with("Calling"),
        "auto mode leads with text"
    );
    let calls = streamed_tool_calls(&events);
    assert_eq!(calls.len(), 2, "{events:?}");
    assert_eq!(
        (calls[0].1.as_str(), calls[0].2.as_str()),
        ("get_weather", r#"{"city":"Lima"}"#)
    );
    assert_eq!(
        (calls[1].1.as_str(), calls[1].2.as_str()),
        ("get_time", "{}")
    );
    let finish = events
        .iter()
        .find_map(|e| e["choices"][0]["finish_reason"].as_str());
    assert_eq!(finish, Some("tool_calls"));
}

#[tokio::test]
async fn models_that_cannot_stream_tools_still_stream_to_the_client() {
    let gw = crate::support::start().await;
    let (status, events) = gw
        .chat_stream(stream(json!({"model": LLAMA, "tools": weather_tools(),
            "messages": [{"role": "user", "content": "weather? [[call:get_weather {\"city\":\"Rome\"}]]"}]})))
        .await;
    assert_eq!(status, 200, "{events:?}");
    assert_eq!(events[0]["choices"][0]["delta"]["role"], "assistant");
    let calls = streamed_tool_calls(&events);
    assert_eq!(calls.len(), 1, "{events:?}");
    assert_eq!(
        (calls[0].1.as_str(), calls[0].2.as_str()),
        ("get_weather", r#"{"city":"Rome"}"#)
    );
    let finish = events
        .iter()
        .find_map(|e| e["choices"][0]["finish_reason"].as_str());
    assert_eq!(finish, Some("tool_calls"));
    assert_eq!(events.last().unwrap(), &json!("[DONE]"));
}

#[tokio::test]
async fn required_tool_choice_on_models_that_only_take_auto_becomes_an_instruction() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": LLAMA, "tools": weather_tools(), "tool_choice": {"type": "function", "function": {"name": "get_time"}},
            "messages": [{"role": "user", "content": "[[echo:request]]"}]}))
        .await;
    assert_eq!(
        status, 200,
        "Bedrock refuses toolChoice any/tool for Llama: {reply}"
    );
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert_eq!(sent["toolConfig"]["toolChoice"], json!({"auto": {}}));
    assert!(
        sent["system"][0]["text"]
            .as_str()
            .unwrap()
            .contains("`get_time`"),
        "{sent}"
    );
}

#[tokio::test]
async fn tool_choice_none_after_tool_turns_offers_no_tool() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": MODEL, "tools": weather_tools(), "tool_choice": "none", "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "rain"},
            {"role": "user", "content": "summarise without tools"}
        ]}))
        .await;
    assert_eq!(
        status, 200,
        "the strict emulator needs a toolConfig here: {reply}"
    );
    assert!(reply["choices"][0]["message"]["tool_calls"].is_null());
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn legacy_functions_work() {
    let gw = crate::support::start().await;
    let functions = json!([{"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}]);
    let (status, reply) = gw
        .chat(
            json!({"model": MODEL, "functions": functions, "function_call": {"name": "lookup"},
            "messages": [{"role": "user", "content": "find it"}]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "lookup"
    );
    let (status, reply) = gw
        .chat(json!({"model": MODEL, "functions": functions, "messages": [
            {"role": "user", "content": "find it"},
            {"role": "assistant", "content": null, "function_call": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}},
            {"role": "function", "name": "lookup", "content": "found"}
        ]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(content(&reply).contains("found"), "{reply}");
}

/// Unforced tools on such a model are dropped instead (tests/it/chat_ui.rs).
#[tokio::test]
async fn a_forced_tool_call_on_a_model_without_tool_use_is_a_clear_400() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(
            json!({"model": "mistral.mistral-7b-instruct-v0:2", "tools": weather_tools(),
            "tool_choice": "required", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mistral.mistral-7b-instruct-v0:2")
    );
}

#[tokio::test]
async fn image_data_urls_reach_bedrock_as_image_blocks() {
    let gw = crate::support::start().await;
    let body = |model: &str, url: String| {
        json!({"model": model, "messages": [{"role": "user", "content": [
            {"type": "text", "text": "describe"}, {"type": "image_url", "image_url": {"url": url}}]}]})
    };
    // Labelled JPEG, really a PNG: the format comes from the bytes.
    let (status, reply) = gw
        .chat(body(MODEL, format!("data:image/jpeg;base64,{PNG_1X1}")))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(
        content(&reply).starts_with("describe [image png"),
        "{reply}"
    );

    let (status, reply) = gw
        .chat(body(
            "amazon.nova-micro-v1:0",
            format!("data:image/png;base64,{PNG_1X1}"),
        ))
        .await;
    assert_eq!(status, 400);
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("amazon.nova-micro-v1:0")
    );
    assert_eq!(reply["error"]["param"], "messages[0].content[1]");

    let (status, reply) = gw
        .chat(body(MODEL, "data:image/png;base64,%%%".into()))
        .await;
    assert_eq!(status, 400);
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("base64")
    );
    let svg = base64_of(b"<svg xmlns='http://www.w3.org/2000/svg'/>");
    let (status, reply) = gw
        .chat(body(MODEL, format!("data:image/svg+xml;base64,{svg}")))
        .await;
    assert_eq!(status, 400);
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PNG, JPEG, GIF or WebP")
    );
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn file_parts_become_documents_with_sanitized_names() {
    let gw = crate::support::start().await;
    let pdf = base64_of(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF");
    let (status, reply) = gw
        .chat(json!({"model": "amazon.nova-lite-v1:0", "messages": [{"role": "user", "content": [
            {"type": "file", "file": {"filename": "Q3 report_final!.pdf", "file_data": format!("data:application/pdf;base64,{pdf}")}},
            {"type": "text", "text": "summarise"}]}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(
        content(&reply).contains("[document Q3 report final pdf"),
        "{reply}"
    );
}

#[tokio::test]
async fn reasoning_effort_returns_signed_reasoning_that_round_trips_with_tools() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": CLAUDE_37, "reasoning_effort": "low", "max_tokens": 2000, "temperature": 0.5,
            "tools": weather_tools(), "tool_choice": "auto",
            "messages": [{"role": "user", "content": "think, then [[call:get_time]]"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let message = &reply["choices"][0]["message"];
    assert!(
        message["reasoning_content"]
            .as_str()
            .unwrap()
            .starts_with("Thinking about"),
        "{reply}"
    );
    let thinking = message["thinking_blocks"].clone();
    assert!(thinking[0]["signature"].is_string(), "{reply}");
    let call = message["tool_calls"][0].clone();

    // Second turn: the assistant turn goes back with its signed thinking and its tool call.
    let (status, reply) = gw
        .chat(json!({"model": CLAUDE_37, "reasoning_effort": "low", "max_tokens": 2000, "tools": weather_tools(),
            "messages": [
                {"role": "user", "content": "think, then [[call:get_time]]"},
                {"role": "assistant", "content": message["content"], "tool_calls": [call.clone()], "thinking_blocks": thinking},
                {"role": "tool", "tool_call_id": call["id"], "content": "12:00"}
            ]}))
        .await;
    assert_eq!(status, 200, "the emulator checks the signature: {reply}");
    assert!(content(&reply).contains("12:00"));

    // A tampered signature is refused by Bedrock's rules.
    let mut forged = message["thinking_blocks"].clone();
    forged[0]["signature"] = json!("forged");
    let (status, _) = gw
        .chat(json!({"model": CLAUDE_37, "reasoning_effort": "low", "tools": weather_tools(), "messages": [
            {"role": "user", "content": "x"},
            {"role": "assistant", "tool_calls": [call.clone()], "thinking_blocks": forged},
            {"role": "tool", "tool_call_id": call["id"], "content": "12:00"}]}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn reasoning_streams_as_reasoning_content() {
    let gw = crate::support::start().await;
    let (status, events) = gw
        .chat_stream(stream(
            json!({"model": CLAUDE_37, "reasoning_effort": "medium",
            "messages": [{"role": "user", "content": "why is the sky blue"}]}),
        ))
        .await;
    assert_eq!(status, 200, "{events:?}");
    let reasoning: String = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert!(reasoning.starts_with("Thinking about"), "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| e["choices"][0]["delta"]["thinking_blocks"][0]["signature"].is_string())
    );
    assert_eq!(streamed_text(&events), "why is the sky blue");
}

#[tokio::test]
async fn models_that_always_reason_return_it() {
    let gw = crate::support::start().await;
    let (status, reply) = gw.chat(user("us.deepseek.r1-v1:0", "ponder")).await;
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply["choices"][0]["message"]["reasoning_content"]
            .as_str()
            .unwrap()
            .contains("ponder")
    );
    assert_eq!(content(&reply), "ponder");

    // Turn 2 with the reasoning sent back as the gateway returned it: Bedrock refuses reasoning
    // in DeepSeek R1's history, so the gateway leaves it out.
    let thinking_blocks = reply["choices"][0]["message"]["thinking_blocks"].clone();
    assert!(thinking_blocks.is_array(), "{reply}");
    let (status, reply) = gw
        .chat(json!({"model": "us.deepseek.r1-v1:0", "messages": [
            {"role": "user", "content": "ponder"},
            {"role": "assistant", "content": "ponder", "thinking_blocks": thinking_blocks},
            {"role": "user", "content": "again"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_history_holds_no_reasoning(&gw).await;
}

async fn cached_tokens(gw: &TestGateway, body: Value) -> (Value, u64, u64) {
    let (status, reply) = gw.chat(body).await;
    assert_eq!(status, 200, "{reply}");
    let details = &reply["usage"]["prompt_tokens_details"];
    (
        reply.clone(),
        details["cached_tokens"].as_u64().unwrap_or(0),
        details["cache_write_tokens"].as_u64().unwrap_or(0),
    )
}

#[tokio::test]
async fn cache_control_markers_become_cache_points_and_report_cached_tokens() {
    let gw = crate::support::start().await;
    // Five words (emulator tokens) a repeat: 4,500, past Claude Haiku 4.5's 4,096-token minimum.
    let long_system = "You are a meticulous assistant. ".repeat(900);
    let body = json!({"model": MODEL, "messages": [
        {"role": "system", "content": [{"type": "text", "text": long_system, "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": "question one"}]});
    let (_, read, write) = cached_tokens(&gw, body.clone()).await;
    assert_eq!(read, 0);
    assert!(write > 0, "first call writes the cache");
    let (reply, read, _) = cached_tokens(&gw, body).await;
    assert!(read > 0, "second call reads it: {reply}");
    let usage = &reply["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    assert!(usage["prompt_tokens"].as_u64().unwrap() >= read);

    // A model without caching never receives cache points (the strict emulator would refuse).
    let (status, reply) = gw
        .chat(json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "messages": [
            {"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}]}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
}

#[tokio::test]
async fn enable_prompt_caching_adds_points_after_system_and_tools() {
    let gw =
        crate::support::start_with(&[("ENABLE_PROMPT_CACHING", "true")], Default::default()).await;
    let (status, reply) = gw
        .chat(json!({"model": MODEL, "tools": weather_tools(), "messages": [
            {"role": "system", "content": "rules"}, {"role": "user", "content": "[[echo:request]]"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert_eq!(
        sent["system"].as_array().unwrap().last().unwrap(),
        &json!({"cachePoint": {"type": "default"}})
    );
    let tools = sent["toolConfig"]["tools"].as_array().unwrap();
    assert_eq!(
        tools.last().unwrap(),
        &json!({"cachePoint": {"type": "default"}})
    );
}

#[tokio::test]
async fn inference_profiles_and_arns_are_model_ids() {
    let gw = crate::support::start().await;
    for model in [
        "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "eu.anthropic.claude-3-5-haiku-20241022-v1:0",
        "apac.amazon.nova-lite-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/emu-app-profile",
    ] {
        let (status, reply) = gw.chat(user(model, "hi")).await;
        assert_eq!(status, 200, "{model}: {reply}");
        assert_eq!(reply["model"], model);
    }
}

#[tokio::test]
async fn prompt_routers_report_the_model_that_answered() {
    let gw = crate::support::start().await;
    let router = "arn:aws:bedrock:us-east-1:111122223333:default-prompt-router/anthropic.claude:1";
    // The emulator's router names an inference-profile ARN (audit item 17); `model` is the id
    // inside it, a model id the client can call.
    let invoked = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
    let (status, reply) = gw.chat(user(router, "route me")).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["model"], invoked);
    let (_, events) = gw.chat_stream(stream(user(router, "route me"))).await;
    assert_eq!(events[0]["model"], router);
    let finish = events
        .iter()
        .find(|e| e["choices"][0]["finish_reason"].is_string())
        .unwrap();
    assert_eq!(finish["model"], invoked);
}

#[tokio::test]
async fn json_schema_output_natively_or_through_a_forced_tool() {
    let gw = crate::support::start().await;
    let format = json!({"type": "json_schema", "json_schema": {"name": "city", "schema": {
        "type": "object", "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["name", "population"]}}});
    for model in [
        CLAUDE_45,
        "amazon.nova-lite-v1:0",
        "mistral.mistral-large-2407-v1:0",
    ] {
        let (status, reply) = gw
            .chat(json!({"model": model, "response_format": format, "messages": [{"role": "user", "content": "a city"}]}))
            .await;
        assert_eq!(status, 200, "{model}: {reply}");
        let value: Value = serde_json::from_str(content(&reply))
            .unwrap_or_else(|e| panic!("{model}: {e}: {reply}"));
        assert!(
            value["name"].is_string() && value["population"].is_i64(),
            "{model}: {value}"
        );
        assert!(reply["choices"][0]["message"]["tool_calls"].is_null());
        assert_eq!(reply["choices"][0]["finish_reason"], "stop");

        let (_, events) = gw
            .chat_stream(stream(json!({"model": model, "response_format": format, "messages": [{"role": "user", "content": "a city"}]})))
            .await;
        let streamed: Value = serde_json::from_str(&streamed_text(&events))
            .unwrap_or_else(|e| panic!("{model}: {e}: {events:?}"));
        assert!(streamed["name"].is_string(), "{model}");
    }
    let (status, reply) = gw
        .chat(
            json!({"model": "amazon.nova-lite-v1:0", "response_format": {"type": "json_object"},
            "messages": [{"role": "user", "content": "anything"}]}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        serde_json::from_str::<Value>(content(&reply))
            .unwrap()
            .is_object()
    );
}

#[tokio::test]
async fn bedrock_fields_pass_through_from_extra_body() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": MODEL, "messages": [{"role": "user", "content": "[[echo:request]]"}],
            "additionalModelRequestFields": {"top_k": 5},
            "guardrailConfig": {"guardrailIdentifier": "abc123", "guardrailVersion": "1", "trace": "enabled"},
            "performanceConfig": {"latency": "optimized"},
            "requestMetadata": {"team": "search"},
            "some_future_openai_field": {"ignored": true}}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert_eq!(sent["additionalModelRequestFields"], json!({"top_k": 5}));
    assert_eq!(sent["guardrailConfig"]["guardrailIdentifier"], "abc123");
    assert_eq!(sent["performanceConfig"], json!({"latency": "optimized"}));
    assert_eq!(sent["requestMetadata"], json!({"team": "search"}));

    let (status, reply) = gw
        .chat(
            json!({"model": MODEL, "messages": [{"role": "user", "content": "bad [[guardrail]]"}],
            "guardrailConfig": {"guardrailIdentifier": "abc123", "guardrailVersion": "1"}}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["choices"][0]["finish_reason"], "content_filter");
}

#[tokio::test]
async fn temperature_and_top_p_are_not_both_sent_to_models_that_refuse_it() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": "us.anthropic.claude-haiku-4-5-20251001-v1:0", "temperature": 0.2, "top_p": 0.8,
            "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    let config = &sent["body"]["inferenceConfig"];
    let temperature = config["temperature"].as_f64().unwrap();
    assert!((temperature - 0.2).abs() < 1e-6, "{sent}");
    assert!(config.get("topP").is_none(), "top_p left out: {sent}");
}

#[tokio::test]
async fn model_aliases_from_the_environment() {
    let gw = crate::support::start_with(
        &[("MODEL_ALIASES", r#"{"fast":"amazon.nova-micro-v1:0"}"#)],
        Default::default(),
    )
    .await;
    let (status, reply) = gw.chat(user("fast", "hi")).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["model"], "amazon.nova-micro-v1:0");
}

#[tokio::test]
async fn thinking_requests_stay_within_bedrocks_rules() {
    let gw = crate::support::start().await;
    // A forced tool choice is refused while thinking: it becomes auto plus an instruction.
    let (status, reply) = gw
        .chat(json!({"model": CLAUDE_37, "reasoning_effort": "low", "tools": weather_tools(), "tool_choice": "required",
            "messages": [{"role": "user", "content": "[[echo:request]]"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert_eq!(sent["toolConfig"]["toolChoice"], json!({"auto": {}}));

    // The client dropped `thinking_blocks` from its tool-calling turn: answer without thinking.
    let (status, reply) = gw
        .chat(json!({"model": CLAUDE_37, "reasoning_effort": "high", "tools": weather_tools(), "messages": [
            {"role": "user", "content": "time?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c9", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c9", "content": "noon"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(content(&reply).contains("noon"));
    let sent = last_converse_call(&gw.emulator).await;
    assert!(
        sent["body"]["additionalModelRequestFields"]
            .get("thinking")
            .is_none(),
        "answered without thinking: {sent}"
    );

    // Signed reasoning from a Claude turn, sent on to a model that does not reason: dropped.
    let (status, reply) = gw
        .chat(json!({"model": "amazon.nova-lite-v1:0", "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello", "thinking_blocks": [{"type": "thinking", "thinking": "hm", "signature": "s"}]},
            {"role": "user", "content": "again"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_history_holds_no_reasoning(&gw).await;
}

#[tokio::test]
async fn an_assistant_prefill_may_end_in_whitespace() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": MODEL, "messages": [
            {"role": "user", "content": "list three fruits"},
            {"role": "assistant", "content": "Sure, here they are: "}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    let prefill = &sent["body"]["messages"][1];
    assert_eq!(prefill["role"], "assistant", "{sent}");
    assert_eq!(
        prefill["content"],
        json!([{"text": "Sure, here they are:"}]),
        "trailing whitespace trimmed: {sent}"
    );
}

#[tokio::test]
async fn streamed_reasoning_round_trips_with_tools() {
    let gw = crate::support::start().await;
    let body = json!({"model": CLAUDE_37, "reasoning_effort": "low", "max_tokens": 2000, "tools": weather_tools(),
        "messages": [{"role": "user", "content": "think, then [[call:get_time]]"}]});
    let (status, events) = gw.chat_stream(stream(body)).await;
    assert_eq!(status, 200);
    // Rebuild the assistant turn the way a streaming client does.
    let reasoning: String = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    let thinking: Vec<Value> = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["thinking_blocks"].as_array())
        .flatten()
        .cloned()
        .collect();
    assert_eq!(thinking.len(), 1, "{events:?}");
    assert_eq!(
        thinking[0]["thinking"],
        reasoning.as_str(),
        "the signed block carries its text"
    );
    let calls = streamed_tool_calls(&events);
    let assistant = json!({"role": "assistant", "content": streamed_text(&events), "reasoning_content": reasoning,
        "thinking_blocks": thinking,
        "tool_calls": [{"id": calls[0].0, "type": "function", "function": {"name": calls[0].1, "arguments": calls[0].2}}]});
    let (status, reply) = gw
        .chat(json!({"model": CLAUDE_37, "reasoning_effort": "low", "max_tokens": 2000, "tools": weather_tools(), "messages": [
            {"role": "user", "content": "think, then [[call:get_time]]"}, assistant,
            {"role": "tool", "tool_call_id": calls[0].0, "content": "13:00"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(content(&reply).contains("13:00"));
}

#[tokio::test]
async fn redacted_thinking_round_trips() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(
            json!({"model": CLAUDE_37, "reasoning_effort": "low", "tools": weather_tools(),
            "messages": [{"role": "user", "content": "secret [[redacted]] [[call:get_time]]"}]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let message = &reply["choices"][0]["message"];
    let blocks = message["thinking_blocks"].as_array().unwrap();
    assert!(
        blocks.iter().any(|b| b["type"] == "redacted_thinking"),
        "{reply}"
    );
    let call = message["tool_calls"][0].clone();
    let (status, reply) = gw
        .chat(json!({"model": CLAUDE_37, "reasoning_effort": "low", "tools": weather_tools(), "messages": [
            {"role": "user", "content": "secret [[redacted]] [[call:get_time]]"},
            {"role": "assistant", "content": message["content"], "thinking_blocks": blocks, "tool_calls": [call.clone()]},
            {"role": "tool", "tool_call_id": call["id"], "content": "later"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    let turn = sent["body"]["messages"][1]["content"].as_array().unwrap();
    assert!(
        turn.iter()
            .any(|b| b["reasoningContent"]["redactedContent"].is_string()),
        "the redacted block went back to Bedrock: {sent}"
    );
}

#[tokio::test]
async fn tool_call_ids_from_other_providers_are_accepted() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": MODEL, "tools": weather_tools(), "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "tool_calls": [
                {"id": "functions.get_weather:0", "type": "function", "function": {"name": "get_weather", "arguments": null}},
                {"id": "x".repeat(100), "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "functions.get_weather:0", "content": "sunny"},
            {"role": "tool", "tool_call_id": "x".repeat(100), "content": "noon"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(
        content(&reply).contains("sunny") && content(&reply).contains("noon"),
        "{reply}"
    );
}

#[tokio::test]
async fn each_mid_stream_exception_maps_to_its_status() {
    let gw = crate::support::start().await;
    for (marker, kind, code) in [
        (
            "midstream-throttling",
            "rate_limit_error",
            "ThrottlingException",
        ),
        (
            "midstream-validation",
            "invalid_request_error",
            "ValidationException",
        ),
        (
            "midstream-unavailable",
            "api_error",
            "ServiceUnavailableException",
        ),
        ("midstream-internal", "api_error", "InternalServerException"),
        ("midstream", "api_error", "ModelStreamErrorException"),
    ] {
        let (status, events) = gw
            .chat_stream(stream(user(
                MODEL,
                &format!("one two three [[fault:{marker}]]"),
            )))
            .await;
        assert_eq!(status, 200);
        let last = events.last().unwrap();
        assert_eq!(last["error"]["type"], kind, "{marker}: {last}");
        assert_eq!(last["error"]["code"], code, "{marker}");
    }
}

#[tokio::test]
async fn a_stream_that_goes_quiet_before_its_first_delta_is_a_504() {
    // The gateway waits for the first event past messageStart before committing to a 200, so a
    // stream that stays quiet that long is a plain HTTP 504, not a 200 with an error event.
    let gw =
        crate::support::start_with(&[("STREAM_IDLE_TIMEOUT_SECONDS", "1")], Default::default())
            .await;
    let started = tokio::time::Instant::now();
    let (status, reply) = gw
        .chat(stream(user(MODEL, "slow words here [[slowstream:2500]]")))
        .await;
    assert_eq!(status, 504, "{reply}");
    assert!(
        started.elapsed().as_secs_f64() < 5.0,
        "ended early: {:?}",
        started.elapsed()
    );
    assert_eq!(reply["error"]["code"], "stream_idle_timeout", "{reply}");
}

#[tokio::test]
async fn stop_sequences_are_checked() {
    let gw = crate::support::start().await;
    let mut body = user(MODEL, "a b\nc");
    body["stop"] = json!(["\n", "END"]);
    let (status, reply) = gw.chat(body).await;
    assert_eq!(
        status, 200,
        "Claude refuses whitespace-only stop sequences: {reply}"
    );
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        sent["body"]["inferenceConfig"]["stopSequences"],
        json!(["END"]),
        "{sent}"
    );
    let mut body = user(MODEL, "a");
    body["stop"] = json!(["1", "2", "3", "4", "5"]);
    let (status, reply) = gw.chat(body).await;
    assert_eq!(status, 400);
    assert_eq!(reply["error"]["param"], "stop");
}

#[tokio::test]
async fn documents_get_unique_names_and_text() {
    let gw = crate::support::start().await;
    let pdf = |name: &str| json!({"type": "file", "file": {"filename": name, "file_data": format!("data:application/pdf;base64,{}", base64_of(b"%PDF-1.4\n%%EOF"))}});
    let (status, reply) = gw
        .chat(json!({"model": "amazon.nova-pro-v1:0", "messages": [
            {"role": "user", "content": [pdf("r.pdf")]},
            {"role": "assistant", "content": "got it"},
            {"role": "user", "content": [pdf("r.pdf"), {"type": "text", "text": "compare"}]}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(content(&reply).contains("[document r (2) pdf"), "{reply}");
}

#[tokio::test]
async fn nova_tool_lists_get_no_cache_points() {
    let gw =
        crate::support::start_with(&[("ENABLE_PROMPT_CACHING", "true")], Default::default()).await;
    let mut tools = weather_tools();
    tools[0]["cache_control"] = json!({"type": "ephemeral"});
    let (status, reply) = gw
        .chat(json!({"model": "amazon.nova-lite-v1:0", "tools": tools, "messages": [
            {"role": "system", "content": "rules"}, {"role": "user", "content": "[[echo:request]]"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert!(
        !sent["toolConfig"].to_string().contains("cachePoint"),
        "{sent}"
    );
    assert!(
        sent["system"].to_string().contains("cachePoint"),
        "the system prompt is still cached"
    );
}

#[tokio::test]
async fn tool_results_come_first_even_after_a_user_note() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": MODEL, "tools": weather_tools(), "messages": [
            {"role": "user", "content": "both?"},
            {"role": "assistant", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "a"},
            {"role": "user", "content": "note"},
            {"role": "tool", "tool_call_id": "c2", "content": "b"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    let turn = sent["body"]["messages"][2]["content"].as_array().unwrap();
    let kinds: Vec<&str> = turn
        .iter()
        .map(|b| b.as_object().unwrap().keys().next().unwrap().as_str())
        .collect();
    assert_eq!(kinds, ["toolResult", "toolResult", "text"], "{sent}");
    assert_eq!(turn[0]["toolResult"]["toolUseId"], "c1");
    assert_eq!(turn[1]["toolResult"]["toolUseId"], "c2");
}

#[tokio::test]
async fn at_most_four_cache_points_are_sent() {
    let gw = crate::support::start().await;
    let part = |t: &str| json!({"type": "text", "text": t, "cache_control": {"type": "ephemeral"}});
    let (status, reply) = gw
        .chat(json!({"model": MODEL, "messages": [
            {"role": "system", "content": [part("s1"), part("s2")]},
            {"role": "user", "content": [part("u1"), part("u2"), part("u3"), {"type": "text", "text": "[[echo:request]]"}]}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(content(&reply).matches("cachePoint").count(), 4);
}

#[tokio::test]
async fn the_hidden_placeholder_tool_never_reaches_the_client() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": MODEL, "tool_choice": "none", "tools": weather_tools(), "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "r"},
            {"role": "user", "content": "misbehave [[call:no_tool_available]]"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply["choices"][0]["message"]["tool_calls"].is_null(),
        "{reply}"
    );
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn content_filtered_streams_finish_with_content_filter() {
    let gw = crate::support::start().await;
    let (_, events) = gw
        .chat_stream(stream(user(MODEL, "x [[content_filtered]]")))
        .await;
    let finish = events
        .iter()
        .find_map(|e| e["choices"][0]["finish_reason"].as_str());
    assert_eq!(finish, Some("content_filter"));
}

#[tokio::test]
async fn unsupported_parts_are_named_400s() {
    let gw = crate::support::start().await;
    for (part, needle) in [
        (
            json!({"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}}),
            "audio",
        ),
        (
            json!({"type": "file", "file": {"file_id": "file-abc"}}),
            "Files API",
        ),
    ] {
        let (status, reply) = gw
            .chat(json!({"model": "amazon.nova-lite-v1:0", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}, part]}]}))
            .await;
        assert_eq!(status, 400);
        assert_eq!(reply["error"]["param"], "messages[0].content[1]");
        assert!(
            reply["error"]["message"].as_str().unwrap().contains(needle),
            "{reply}"
        );
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_in_openai_shape() {
    let gw = crate::support::start_with(&[("MAX_REQUEST_BYTES", "1000")], Default::default()).await;
    let (status, reply) = gw.chat(user(MODEL, &"x".repeat(5000))).await;
    assert_eq!(status, 413);
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{reply}"
    );
}

#[tokio::test]
async fn streams_carry_images_documents_and_cached_token_usage() {
    let gw = crate::support::start().await;
    // 1,250 tokens, past Nova's 1,024-token cache minimum.
    let long_system = "Stay precise and cite sources. ".repeat(250);
    let body = json!({"model": "amazon.nova-lite-v1:0", "stream": true, "stream_options": {"include_usage": true},
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": long_system, "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG_1X1}")}},
                {"type": "file", "file": {"filename": "notes.txt", "file_data": format!("data:text/plain;base64,{}", base64_of(b"hello"))}}]}]});
    let (status, first) = gw.chat_stream(body.clone()).await;
    assert_eq!(status, 200, "{first:?}");
    let text = streamed_text(&first);
    assert!(
        text.contains("[image png") && text.contains("[document notes txt"),
        "{text}"
    );
    let (_, second) = gw.chat_stream(body).await;
    let usage = &second[second.len() - 2]["usage"];
    assert!(
        usage["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap()
            > 0,
        "{usage}"
    );
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn bedrock_fields_pass_through_on_streams_too() {
    let gw = crate::support::start().await;
    let (status, events) = gw
        .chat_stream(stream(json!({"model": MODEL, "messages": [{"role": "user", "content": "bad [[guardrail]]"}],
            "guardrailConfig": {"guardrailIdentifier": "abc123", "guardrailVersion": "1", "trace": "enabled"},
            "performanceConfig": {"latency": "optimized"}, "requestMetadata": {"team": "search"}})))
        .await;
    assert_eq!(status, 200, "{events:?}");
    let finish = events
        .iter()
        .find_map(|e| e["choices"][0]["finish_reason"].as_str());
    assert_eq!(finish, Some("content_filter"));
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(sent["operation"], "ConverseStream");
    assert_eq!(
        sent["body"]["guardrailConfig"]["guardrailIdentifier"],
        "abc123"
    );
    assert_eq!(
        sent["body"]["performanceConfig"],
        json!({"latency": "optimized"})
    );
    assert_eq!(sent["body"]["requestMetadata"], json!({"team": "search"}));
    let (status, events) = gw
        .chat_stream(stream(
            json!({"model": MODEL, "messages": [{"role": "user", "content": "x"}],
            "guardrailConfig": {"guardrailIdentifier": "Not_Valid", "guardrailVersion": "1"}}),
        ))
        .await;
    assert_eq!(
        status, 400,
        "Bedrock's guardrail id rules apply to streams: {events:?}"
    );
}

#[tokio::test]
async fn allowed_tools_narrow_the_offer_and_set_the_mode() {
    let gw = crate::support::start().await;
    let choice = json!({"type": "allowed_tools", "allowed_tools": {"mode": "required",
        "tools": [{"type": "function", "function": {"name": "get_time"}}]}});
    let (status, reply) = gw
        .chat(
            json!({"model": MODEL, "tools": weather_tools(), "tool_choice": choice,
            "messages": [{"role": "user", "content": "anything"}]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let calls = reply["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0]["function"]["name"], "get_time",
        "only the allowed tool is offered"
    );
    let auto = json!({"type": "allowed_tools", "allowed_tools": {"mode": "auto",
        "tools": [{"type": "function", "function": {"name": "get_time"}}]}});
    let (_, reply) = gw
        .chat(
            json!({"model": MODEL, "tools": weather_tools(), "tool_choice": auto,
            "messages": [{"role": "user", "content": "[[echo:request]]"}]}),
        )
        .await;
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    let tools = sent["toolConfig"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1, "{sent}");
    assert_eq!(tools[0]["toolSpec"]["name"], "get_time");
    assert_eq!(sent["toolConfig"]["toolChoice"], json!({"auto": {}}));
}

/// Claude Opus 4.7 accepts only adaptive thinking (a budget is a 400 on Bedrock): every
/// `reasoning_effort` OpenAI's SDK sends maps to `thinking: adaptive` plus `output_config.effort`.
#[tokio::test]
async fn adaptive_thinking_models_get_adaptive_thinking_with_an_effort() {
    let gw = crate::support::start().await;
    let opus_4_7 = "us.anthropic.claude-opus-4-7";
    for (effort, sent_effort) in [
        ("minimal", "low"),
        ("high", "high"),
        ("xhigh", "xhigh"),
        ("max", "max"),
    ] {
        let (status, reply) = gw
            .chat(json!({"model": opus_4_7, "reasoning_effort": effort,
                "messages": [{"role": "user", "content": "[[echo:request]]"}]}))
            .await;
        assert_eq!(status, 200, "{effort}: {reply}");
        let sent: Value = serde_json::from_str(content(&reply)).unwrap();
        assert_eq!(
            sent["additionalModelRequestFields"],
            json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": sent_effort}}),
            "{effort}"
        );
        assert!(
            reply["choices"][0]["message"]["reasoning_content"].is_string(),
            "{reply}"
        );
    }
    // `none` thinks not at all (Opus 4.7 refuses `disabled`, so nothing is sent).
    let (status, reply) = gw
        .chat(json!({"model": opus_4_7, "reasoning_effort": "none",
            "messages": [{"role": "user", "content": "[[echo:request]]"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert!(sent.get("additionalModelRequestFields").is_none(), "{sent}");
    // Opus 4.6 has no `xhigh`: the nearest lower level goes instead.
    let (status, reply) = gw
        .chat(
            json!({"model": "us.anthropic.claude-opus-4-6-v1", "reasoning_effort": "xhigh",
            "messages": [{"role": "user", "content": "[[echo:request]]"}]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert_eq!(
        sent["additionalModelRequestFields"]["output_config"]["effort"],
        "high"
    );
    // A budget model keeps its budget for the new levels.
    let (status, reply) = gw
        .chat(
            json!({"model": CLAUDE_45, "reasoning_effort": "max", "max_tokens": 10000,
            "messages": [{"role": "user", "content": "[[echo:request]]"}]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert_eq!(
        sent["additionalModelRequestFields"]["thinking"],
        json!({"type": "enabled", "budget_tokens": 9500})
    );
}

/// Anthropic refuses `top_k` while the model thinks: a client's `top_k` is left out then.
#[tokio::test]
async fn top_k_is_dropped_while_thinking() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": CLAUDE_37, "reasoning_effort": "low",
            "additional_model_request_fields": {"top_k": 40},
            "messages": [{"role": "user", "content": "[[echo:request]]"}]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert!(
        sent["additionalModelRequestFields"]["thinking"].is_object(),
        "{sent}"
    );
    assert!(
        sent["additionalModelRequestFields"].get("top_k").is_none(),
        "{sent}"
    );
    // Without thinking it goes through.
    let (status, reply) = gw
        .chat(
            json!({"model": CLAUDE_37, "additional_model_request_fields": {"top_k": 40},
            "messages": [{"role": "user", "content": "[[echo:request]]"}]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert_eq!(sent["additionalModelRequestFields"]["top_k"], 40);
}

/// Claude 3.5 Haiku takes no images on Bedrock: the gateway says so itself, before calling
/// Bedrock. The default model for `gpt-*` names (Claude Haiku 4.5, through the profile of the
/// gateway's region) takes them.
#[tokio::test]
async fn claude_3_5_haiku_takes_no_images_and_the_default_model_does() {
    let gw = crate::support::start().await;
    let body = |model: &str| {
        json!({"model": model, "messages": [{"role": "user", "content": [
            {"type": "text", "text": "describe"},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG_1X1}")}}]}]})
    };
    let haiku_3_5 = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
    let (status, reply) = gw.chat(body(haiku_3_5)).await;
    assert_eq!(status, 400, "{reply}");
    assert_ne!(
        reply["error"]["code"], "ValidationException",
        "refused by the gateway: {reply}"
    );
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains(haiku_3_5),
        "{reply}"
    );
    let (status, reply) = gw.chat(body("gpt-4o-mini")).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["model"],
        "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    );
    assert!(
        content(&reply).starts_with("describe [image png"),
        "{reply}"
    );
}

/// Bedrock takes `toolChoice.tool` only from Claude 3+ and Nova: a named `tool_choice` becomes
/// `any` plus an instruction naming the tool for models that take `any` only (Mistral Large);
/// the request shape is unit-tested in `translate::tools`.
#[tokio::test]
async fn a_named_tool_choice_is_any_plus_an_instruction_where_tool_is_refused() {
    let gw = crate::support::start().await;
    for model in ["mistral.mistral-large-2407-v1:0", "amazon.nova-lite-v1:0"] {
        let (status, reply) = gw
            .chat(json!({"model": model, "tools": weather_tools(),
                "tool_choice": {"type": "function", "function": {"name": "get_time"}},
                "messages": [{"role": "user", "content": "what time is it?"}]}))
            .await;
        assert_eq!(status, 200, "{model}: {reply}");
        assert_eq!(
            reply["choices"][0]["finish_reason"], "tool_calls",
            "{model}: {reply}"
        );
    }
}

/// Nova refuses a cache point right after a tool result: a `cache_control` on a tool message
/// is left out for Nova, and kept for Claude.
#[tokio::test]
async fn no_cache_point_after_a_tool_result_on_nova() {
    let gw = crate::support::start().await;
    let body = |model: &str| {
        json!({"model": model, "tools": weather_tools(), "messages": [
            {"role": "system", "content": "You answer questions about the weather."},
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny", "cache_control": {"type": "ephemeral"}},
            {"role": "user", "content": "[[echo:request]]"}]})
    };
    let (status, reply) = gw.chat(body("amazon.nova-pro-v1:0")).await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert!(
        !sent["messages"].to_string().contains("cachePoint"),
        "{sent}"
    );
    let (status, reply) = gw.chat(body(CLAUDE_45)).await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value = serde_json::from_str(content(&reply)).unwrap();
    assert!(
        sent["messages"].to_string().contains("cachePoint"),
        "{sent}"
    );
}

/// Bedrock's tool names are `[a-zA-Z0-9_-]{1,64}`: other names (dots, long MCP names) go to
/// Bedrock rewritten, in the tool list and the history alike, and come back under the client's
/// name, streamed or not.
#[tokio::test]
async fn tool_names_bedrock_refuses_are_mapped_both_ways() {
    let gw = crate::support::start().await;
    let name = "github.create_issue";
    let tools = json!([{"type": "function", "function": {"name": name,
        "parameters": {"type": "object", "properties": {"title": {"type": "string"}}}}}]);
    let body = json!({"model": "amazon.nova-lite-v1:0", "tools": tools, "tool_choice": "required",
        "messages": [{"role": "user", "content": "file it"}]});
    let (status, reply) = gw.chat(body.clone()).await;
    assert_eq!(status, 200, "{reply}");
    let call = &reply["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], name, "{reply}");
    let (status, events) = gw.chat_stream(stream(body)).await;
    assert_eq!(status, 200);
    let streamed = streamed_tool_calls(&events);
    assert_eq!(streamed[0].1, name, "{events:?}");

    // The call and its result in the history.
    let (status, reply) = gw
        .chat(
            json!({"model": "amazon.nova-lite-v1:0", "tools": tools, "messages": [
            {"role": "user", "content": "file it"},
            {"role": "assistant", "content": null, "tool_calls": [call.clone()]},
            {"role": "tool", "tool_call_id": call["id"], "content": "filed"}]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(content(&reply).contains("filed"), "{reply}");
}

/// Bedrock refuses images over 8000 px wide or high; the gateway says so itself, from the header.
#[tokio::test]
async fn images_over_8000_pixels_get_the_gateways_own_400() {
    use base64::Engine;
    let gw = crate::support::start().await;
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend(9000u32.to_be_bytes());
    png.extend(20u32.to_be_bytes());
    png.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    let url = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    let (status, reply) = gw
        .chat(json!({"model": "amazon.nova-lite-v1:0", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "describe"}, {"type": "image_url", "image_url": {"url": url}}]}]}))
        .await;
    assert_eq!(status, 400, "{reply}");
    assert_ne!(reply["error"]["code"], "ValidationException", "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("9000x20"),
        "{reply}"
    );
}
