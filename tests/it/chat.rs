//! Chat completions end to end: the gateway on loopback in front of the strict Bedrock emulator,
//! driven over HTTP the way an OpenAI client drives it.

use crate::support::{KEY, MODEL, parse_sse, streamed_text, user};
use serde_json::{Value, json};

#[tokio::test]
async fn health_needs_no_key() {
    let gw = crate::support::start().await;
    let response = gw
        .http
        .get(format!("{}/health", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn missing_or_wrong_key_is_401_in_openai_shape() {
    let gw = crate::support::start().await;
    let url = format!("{}/api/v1/chat/completions", gw.url);
    let response = gw
        .http
        .post(&url)
        .json(&user(MODEL, "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Bearer")
    );
    let response = gw
        .http
        .post(&url)
        .bearer_auth("wrong")
        .json(&user(MODEL, "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_api_key"
    );
}

#[tokio::test]
async fn non_streaming_chat_echoes_with_openai_fields() {
    let gw = crate::support::start().await;
    let (status, body) = gw.chat(user(MODEL, "Hello there, Bedrock")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["object"], "chat.completion");
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(body["model"], MODEL);
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], "Hello there, Bedrock");
    assert_eq!(choice["finish_reason"], "stop");
    let usage = &body["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(usage["completion_tokens"], 3);
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn the_v1_prefix_without_api_works_too() {
    let gw = crate::support::start().await;
    let response = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(KEY)
        .json(&user(MODEL, "short path"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reply: Value = response.json().await.unwrap();
    assert!(
        reply["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("short path"),
        "{reply}"
    );
}

/// The Converse request the emulator received, via its `[[echo:request]]` marker.
async fn converse_request_for(gw: &crate::support::TestGateway, mut body: Value) -> Value {
    let messages = body["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "user", "content": "[[echo:request]]"}));
    let (status, reply) = gw.chat(body).await;
    assert_eq!(status, 200, "{reply}");
    serde_json::from_str(reply["choices"][0]["message"]["content"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn system_developer_and_same_role_turns_reach_bedrock_merged() {
    let gw = crate::support::start().await;
    let sent = converse_request_for(
        &gw,
        json!({"model": MODEL, "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Be kind."}]},
            {"role": "user", "content": "first"},
            {"role": "user", "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "   "}]},
            {"role": "assistant", "content": "ok"},
            {"role": "assistant", "content": ""}
        ],
        "max_tokens": 300, "temperature": 0.4, "top_p": 0.9, "stop": "END"}),
    )
    .await;
    assert_eq!(
        sent["system"],
        json!([{"text": "Be brief."}, {"text": "Be kind."}])
    );
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{sent}");
    assert_eq!(
        messages[0]["content"],
        json!([{"text": "first"}, {"text": "second"}])
    );
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(sent["inferenceConfig"]["maxTokens"], 300);
    assert_eq!(sent["inferenceConfig"]["stopSequences"], json!(["END"]));
    assert!((sent["inferenceConfig"]["temperature"].as_f64().unwrap() - 0.4).abs() < 1e-6);
}

/// A system message after the first user turn (NextChat's memory summary request) stays at its
/// place as user text, so the conversation ends with the user: Claude Sonnet 4.6 and later refuse
/// a conversation that ends with an assistant turn (a prefill).
#[tokio::test]
async fn a_late_system_message_becomes_user_text_at_its_place() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(
            json!({"model": "us.anthropic.claude-sonnet-4-6", "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "hello"},
                {"role": "assistant", "content": "hi there"},
                {"role": "system", "content": "Summarize the chat [[echo:request]]"}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent: Value =
        serde_json::from_str(reply["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(sent["system"], json!([{"text": "Be brief."}]));
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{sent}");
    assert_eq!(messages[2]["role"], "user");
    assert_eq!(
        messages[2]["content"],
        json!([{"text": "Summarize the chat [[echo:request]]"}])
    );
}

#[tokio::test]
async fn max_tokens_and_stop_sequences_set_finish_reason() {
    let gw = crate::support::start().await;
    let mut body = user(MODEL, "one two three four five six");
    body["max_completion_tokens"] = json!(2);
    let (status, reply) = gw.chat(body).await;
    assert_eq!(status, 200);
    assert_eq!(reply["choices"][0]["finish_reason"], "length");
    assert_eq!(reply["choices"][0]["message"]["content"], "one two");

    let mut body = user(MODEL, "alpha beta STOP gamma");
    body["stop"] = json!(["STOP"]);
    let (_, reply) = gw.chat(body).await;
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        reply["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .trim(),
        "alpha beta"
    );
}

#[tokio::test]
async fn gpt_names_map_to_the_default_model() {
    let gw = crate::support::start_with(
        &[("DEFAULT_MODEL", "amazon.nova-lite-v1:0")],
        Default::default(),
    )
    .await;
    let (status, reply) = gw.chat(user("gpt-4o-mini", "hi")).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["model"], "amazon.nova-lite-v1:0");
}

#[tokio::test]
async fn streaming_chat_sends_role_first_text_finish_and_done() {
    let gw = crate::support::start().await;
    let mut body = user(MODEL, "stream these five words");
    body["stream"] = json!(true);
    let response = gw.post("/chat/completions", &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = parse_sse(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap(), &json!("[DONE]"));
    let chunks = &events[..events.len() - 1];
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk" && c["id"] == chunks[0]["id"])
    );
    assert_eq!(streamed_text(chunks), "stream these five words");
    assert!(
        chunks.len() >= 5,
        "one chunk per word, {} chunks",
        chunks.len()
    );
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
    assert!(
        chunks.iter().all(|c| c.get("usage").is_none()),
        "no usage unless asked"
    );
}

#[tokio::test]
async fn include_usage_adds_a_final_usage_chunk_with_no_choices() {
    let gw = crate::support::start().await;
    let mut body = user(MODEL, "count my tokens");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let (status, events) = gw.chat_stream(body).await;
    assert_eq!(status, 200);
    let usage_chunk = &events[events.len() - 2];
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["completion_tokens"], 3);
    assert!(usage_chunk["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        events[events.len() - 3]["choices"][0]["finish_reason"],
        "stop"
    );
}

#[tokio::test]
async fn bad_input_gets_400_naming_the_field() {
    let gw = crate::support::start().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"messages": [{"role": "user", "content": "x"}]}),
            "missing field `model`",
        ),
        (
            json!({"model": MODEL, "messages": [{"role": "user", "content": 5}]}),
            "messages[0].content",
        ),
        (
            json!({"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]}),
            "messages[0].role",
        ),
        (json!({"model": MODEL, "messages": "hi"}), "messages"),
        (json!({"model": MODEL, "messages": []}), "messages"),
        (
            json!({"model": MODEL, "messages": [{"role": "user", "content": "x"}], "n": 3}),
            "`n`",
        ),
        (
            json!({"model": MODEL, "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}),
            "temperature",
        ),
        (
            json!({"model": MODEL, "messages": [{"role": "tool", "content": "x"}]}),
            "tool_call_id",
        ),
    ];
    for (body, expected) in cases {
        let (status, reply) = gw.chat(body.clone()).await;
        assert_eq!(status, 400, "{body} -> {reply}");
        let message = reply["error"]["message"].as_str().unwrap();
        let param = reply["error"]["param"].as_str().unwrap_or("");
        assert!(
            message.contains(expected) || param.contains(expected),
            "{body} -> {reply}"
        );
        assert_eq!(reply["error"]["type"], "invalid_request_error");
    }
    let response = gw
        .http
        .post(format!("{}/api/v1/chat/completions", gw.url))
        .bearer_auth(KEY)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("not valid JSON"));
}

#[tokio::test]
async fn bedrock_errors_map_to_the_status_clients_expect() {
    let gw = crate::support::start_with(&[], Default::default()).await;
    let cases = [
        ("[[fault:access]]", 403, "permission_error"),
        ("[[fault:notfound]]", 404, "not_found_error"),
        ("[[fault:quota]]", 429, "rate_limit_error"),
        ("[[fault:timeout]]", 504, "timeout_error"),
        ("[[fault:unavailable]]", 503, "api_error"),
        ("[[fault:internal]]", 502, "api_error"),
    ];
    for (marker, status, kind) in cases {
        let (got, reply) = gw.chat(user(MODEL, marker)).await;
        assert_eq!(got, status, "{marker}: {reply}");
        assert_eq!(reply["error"]["type"], kind, "{marker}");
        assert!(!reply["error"]["message"].as_str().unwrap().is_empty());
    }
    let (status, reply) = gw
        .chat(user("anthropic.claude-nonexistent-v9:0", "hi"))
        .await;
    assert_eq!(status, 404, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("anthropic.claude-nonexistent-v9:0") && message.contains("/api/v1/models"),
        "{reply}"
    );
}

#[tokio::test]
async fn throttling_is_429_even_after_the_sdk_retries() {
    let gw = crate::support::start().await;
    let (status, reply) = gw.chat(user(MODEL, "[[fault:throttling]]")).await;
    assert_eq!(status, 429, "{reply}");
    assert_eq!(reply["error"]["code"], "ThrottlingException");
}

#[tokio::test]
async fn errors_before_a_stream_starts_are_plain_http_errors() {
    let gw = crate::support::start().await;
    let mut body = user(MODEL, "[[fault:access]]");
    body["stream"] = json!(true);
    let response = gw.post("/chat/completions", &body).await;
    assert_eq!(response.status(), 403);
    assert_eq!(response.headers()["content-type"], "application/json");
}

/// Bedrock relays an error the model raises inside a stream it already answered with 200; the
/// gateway waits for the first event, so the client still gets a plain HTTP 400.
#[tokio::test]
async fn provider_errors_relayed_in_the_stream_are_plain_http_errors() {
    let gw = crate::support::start().await;
    let mut body = user(MODEL, "[[fault:model-validation]]");
    body["stream"] = json!(true);
    let response = gw.post("/chat/completions", &body).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/json");
    let reply: Value = response.json().await.unwrap();
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("The model returned the following errors"),
        "{reply}"
    );
}

#[tokio::test]
async fn a_mid_stream_bedrock_error_ends_the_stream_with_an_error_event() {
    let gw = crate::support::start().await;
    let mut body = user(MODEL, "some words before [[fault:midstream]] the failure");
    body["stream"] = json!(true);
    let started = tokio::time::Instant::now();
    let (status, events) = gw.chat_stream(body).await;
    assert_eq!(status, 200);
    assert!(started.elapsed().as_secs() < 10, "no hang");
    let last = events.last().unwrap();
    assert!(last["error"]["message"].is_string(), "{events:?}");
    assert_eq!(last["error"]["type"], "api_error");
    assert!(
        !events.contains(&json!("[DONE]")),
        "a failed stream does not claim completion"
    );
    assert!(
        !streamed_text(&events).is_empty(),
        "deltas before the failure arrived"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_openai_shape() {
    let gw = crate::support::start().await;
    let response = gw
        .http
        .get(format!("{}/api/v1/nope", gw.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.json::<Value>().await.unwrap()["error"]["message"].is_string());
    let response = gw
        .http
        .get(format!("{}/api/v1/chat/completions", gw.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert!(response.json::<Value>().await.unwrap()["error"]["message"].is_string());
}

#[tokio::test]
async fn conversations_that_start_with_the_assistant_are_accepted() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(json!({"model": MODEL, "messages": [
            {"role": "system", "content": "greet"},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "tell me"}
        ]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["choices"][0]["message"]["content"], "tell me");
}

#[tokio::test]
async fn models_without_system_prompts_get_it_folded_into_the_first_turn() {
    let gw = crate::support::start().await;
    let sent = converse_request_for(
        &gw,
        json!({"model": "mistral.mistral-7b-instruct-v0:2", "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "hello"}
        ]}),
    )
    .await;
    assert!(sent.get("system").is_none(), "{sent}");
    assert_eq!(sent["messages"][0]["content"][0]["text"], "You are terse.");
}

#[tokio::test]
async fn browsers_get_cors_headers_and_preflights_need_no_key() {
    let gw = crate::support::start().await;
    let url = format!("{}/api/v1/chat/completions", gw.url);
    let preflight = gw
        .http
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "https://chat.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type, x-stainless-os",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let response = gw
        .http
        .post(&url)
        .header("Origin", "https://chat.example.com")
        .bearer_auth(KEY)
        .json(&user(MODEL, "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");

    let gw = crate::support::start_with(
        &[("CORS_ALLOWED_ORIGINS", "https://chat.example.com")],
        Default::default(),
    )
    .await;
    let url = format!("{}/api/v1/chat/completions", gw.url);
    let allowed = gw
        .http
        .post(&url)
        .header("Origin", "https://chat.example.com")
        .bearer_auth(KEY)
        .json(&user(MODEL, "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://chat.example.com"
    );
    let other = gw
        .http
        .post(&url)
        .header("Origin", "https://evil.example")
        .bearer_auth(KEY)
        .json(&user(MODEL, "hi"))
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

/// The stop reasons OpenAI has no name for are mapped on purpose: a context window exceeded is
/// `length`; a malformed output or tool call is a 502 the client can retry (an error event in a
/// stream), never a `stop` that hides the broken answer.
#[tokio::test]
async fn unusual_stop_reasons_are_mapped_deliberately() {
    let gw = crate::support::start().await;
    let (status, reply) = gw
        .chat(user(MODEL, "long [[stop:model_context_window_exceeded]]"))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["choices"][0]["finish_reason"], "length");
    for reason in ["malformed_model_output", "malformed_tool_use"] {
        let (status, reply) = gw.chat(user(MODEL, &format!("x [[stop:{reason}]]"))).await;
        assert_eq!(status, 502, "{reply}");
        assert_eq!(reply["error"]["code"], reason, "{reply}");
        let mut body = user(MODEL, &format!("x [[stop:{reason}]]"));
        body["stream"] = json!(true);
        let (status, events) = gw.chat_stream(body).await;
        assert_eq!(status, 200);
        assert_eq!(
            events.last().unwrap()["error"]["code"],
            reason,
            "{events:?}"
        );
        assert!(!events.contains(&json!("[DONE]")));
    }
}
