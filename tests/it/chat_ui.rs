//! What chat UIs (NextChat, Open WebUI) need from the gateway, over real sockets in front of the
//! emulator: a mid-stream failure visible in the content, OpenAI model families mapped to
//! `DEFAULT_MODEL`, a log line for a refused CORS preflight, reasoning in `<think>` tags, a
//! 400 of the gateway's own for embedding models, and tools dropped for tool-less models.

use bedrock_emulator::catalog::{MODELS, ModelKind};
use bedrock_emulator::embeddings::EMBEDDING_PROFILE_ARN;
use serde_json::{Value, json};

use crate::support::gateway_process::GatewayProcess;
use crate::support::{
    KEY, MODEL, emulator_calls, last_converse_call, parse_sse, streamed_text, user,
};

const NOVA: &str = "amazon.nova-lite-v1:0";
/// Reasons on every request and has no tool use on Bedrock.
const DEEPSEEK_R1: &str = "us.deepseek.r1-v1:0";

fn stream(mut body: Value) -> Value {
    body["stream"] = json!(true);
    body
}

/// What a reader that, like NextChat's, skips every event without `choices` shows.
fn text_shown_by_choices_readers(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["choices"].is_array())
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect()
}

async fn converse_calls(gw: &crate::support::TestGateway) -> usize {
    emulator_calls(&gw.emulator, "converse").await["calls"]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn a_mid_stream_failure_shows_in_the_content_before_the_error_event() {
    let gw = crate::support::start().await;
    let (status, events) = gw
        .chat_stream(stream(user(
            MODEL,
            "one two three [[fault:midstream-throttling]]",
        )))
        .await;
    assert_eq!(status, 200);
    let error = events.last().unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert_eq!(error["error"]["code"], "ThrottlingException", "{error}");
    let note = &events[events.len() - 2];
    assert_eq!(
        note["choices"][0]["delta"]["content"],
        format!("\n\n[Error: {message}]"),
        "{note}"
    );
    assert_eq!(note["choices"][0]["finish_reason"], "stop");
    let shown = text_shown_by_choices_readers(&events);
    assert!(
        shown.contains("Too many requests") && shown.starts_with("one two"),
        "{shown}"
    );
    assert!(!events.contains(&json!("[DONE]")));
}

#[tokio::test]
async fn stream_error_as_content_can_be_turned_off() {
    let gw =
        crate::support::start_with(&[("STREAM_ERROR_AS_CONTENT", "false")], Default::default())
            .await;
    let (_, events) = gw
        .chat_stream(stream(user(MODEL, "one two three [[fault:midstream]]")))
        .await;
    assert!(events.last().unwrap()["error"].is_object());
    assert!(!streamed_text(&events).contains("[Error:"), "{events:?}");
    assert!(
        events
            .iter()
            .all(|e| e["choices"][0]["finish_reason"].is_null()),
        "{events:?}"
    );
}

#[tokio::test]
async fn openai_model_families_go_to_the_default_model_and_bedrock_ids_stay() {
    let gw = crate::support::start_with(&[("DEFAULT_MODEL", NOVA)], Default::default()).await;
    for name in [
        "gpt-4o-mini",
        "o1",
        "o3-mini",
        "o4-mini",
        "chatgpt-4o-latest",
    ] {
        let (status, reply) = gw.chat(user(name, "hi")).await;
        assert_eq!(status, 200, "{name}: {reply}");
        assert_eq!(
            last_converse_call(&gw.emulator).await["modelId"],
            NOVA,
            "{name}"
        );
    }
    for bedrock_id in ["openai.gpt-oss-120b-1:0", "openai.gpt-oss-20b-1:0"] {
        let (status, reply) = gw.chat(user(bedrock_id, "hi")).await;
        assert_eq!(status, 200, "{bedrock_id}: {reply}");
        assert_eq!(
            last_converse_call(&gw.emulator).await["modelId"],
            bedrock_id
        );
    }
    let gw = crate::support::start_with(
        &[("DEFAULT_MODEL", NOVA), ("OPENAI_MODEL_PREFIXES", "gpt")],
        Default::default(),
    )
    .await;
    let (status, reply) = gw.chat(user("o3-mini", "hi")).await;
    assert_eq!(status, 404, "{reply}");
    assert_eq!(reply["error"]["code"], "model_not_found");
}

#[tokio::test]
async fn a_refused_preflight_is_logged_once_per_origin() {
    let gw = GatewayProcess::start(&[
        ("API_KEY", KEY),
        ("CORS_ALLOWED_ORIGINS", "https://chat.example.com"),
    ])
    .await;
    let preflight = |origin: &'static str| {
        gw.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/v1/chat/completions", gw.url),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
    };
    for origin in [
        "http://localhost:3000",
        "http://localhost:3000",
        "https://chat.example.com",
    ] {
        let response = preflight(origin).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    // The access log line of the last preflight is written after its warning, if any.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while gw.log_text().matches("OPTIONS").count() < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let log = gw.log_text();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("preflight refused"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(
        warnings[0].contains("http://localhost:3000")
            && warnings[0].contains("CORS_ALLOWED_ORIGINS")
            && warnings[0].contains("WARN"),
        "{}",
        warnings[0]
    );
}

#[tokio::test]
async fn reasoning_goes_to_think_tags_when_asked_streaming_and_not() {
    let gw = crate::support::start().await;
    let (status, reply) = gw.chat(user(DEEPSEEK_R1, "why is the sky blue")).await;
    assert_eq!(status, 200, "{reply}");
    let message = &reply["choices"][0]["message"];
    let reasoning = message["reasoning_content"].as_str().unwrap().to_string();
    assert!(!reasoning.is_empty());
    assert!(!message["content"].as_str().unwrap().contains("<think>"));

    let mut body = user(DEEPSEEK_R1, "why is the sky blue");
    body["reasoning_output"] = json!("think_tags");
    let (_, reply) = gw.chat(body.clone()).await;
    let message = &reply["choices"][0]["message"];
    let content = message["content"].as_str().unwrap();
    assert!(
        content.starts_with(&format!("<think>\n{reasoning}\n</think>\n\n")),
        "{content}"
    );
    assert!(content.ends_with("why is the sky blue"), "{content}");
    assert!(message.get("reasoning_content").is_none(), "{message}");

    let (_, events) = gw.chat_stream(stream(body.clone())).await;
    assert_eq!(streamed_text(&events), content, "the stream says the same");
    assert!(
        events
            .iter()
            .all(|e| e["choices"][0]["delta"]["reasoning_content"].is_null())
    );

    body["reasoning_output"] = json!("both");
    let (_, events) = gw.chat_stream(stream(body.clone())).await;
    assert_eq!(streamed_text(&events), content);
    let streamed_reasoning: String = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert_eq!(streamed_reasoning, reasoning);

    body["reasoning_output"] = json!("tags");
    let (status, reply) = gw.chat(body).await;
    assert_eq!(status, 400);
    assert_eq!(reply["error"]["param"], "reasoning_output");
}

#[tokio::test]
async fn the_setting_chooses_the_default_and_tags_sent_back_are_stripped() {
    let gw =
        crate::support::start_with(&[("REASONING_OUTPUT", "think_tags")], Default::default()).await;
    let (_, reply) = gw.chat(user(DEEPSEEK_R1, "first question")).await;
    let content = reply["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(content.starts_with("<think>\n"), "{content}");
    let mut override_body = user(DEEPSEEK_R1, "q");
    override_body["reasoning_output"] = json!("reasoning_content");
    let (_, reply) = gw.chat(override_body).await;
    assert!(reply["choices"][0]["message"]["reasoning_content"].is_string());

    let (status, reply) = gw
        .chat(json!({"model": DEEPSEEK_R1, "messages": [
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": content},
            {"role": "user", "content": "second question"},
        ]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    let history = sent["body"]["messages"].to_string();
    assert!(!history.contains("<think>"), "{history}");
    assert!(history.contains("first question"), "{history}");
    // A turn that was only reasoning (the reply cut before its answer) still makes a request.
    let (status, reply) = gw
        .chat(json!({"model": DEEPSEEK_R1, "messages": [
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "<think>\nonly reasoning\n</think>\n\n"},
            {"role": "user", "content": "second question"},
        ]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let history = last_converse_call(&gw.emulator).await["body"]["messages"].to_string();
    assert!(!history.contains("only reasoning"), "{history}");
}

#[tokio::test]
async fn every_embedding_model_gets_the_gateways_own_400_on_chat_and_responses() {
    let gw = crate::support::start().await;
    let mut ids: Vec<String> = MODELS
        .iter()
        .filter(|m| m.kind == ModelKind::Embedding)
        .map(|m| m.id.to_string())
        .collect();
    ids.push("us.cohere.embed-v4:0".into());
    ids.push(EMBEDDING_PROFILE_ARN.into());
    assert!(
        ids.iter()
            .any(|id| id == "amazon.nova-2-multimodal-embeddings-v1:0")
    );
    for id in &ids {
        let (status, reply) = gw.chat(user(id, "hello")).await;
        assert_eq!(status, 400, "{id}: {reply}");
        assert_eq!(reply["error"]["param"], "model", "{id}");
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("is an embedding model") && message.contains("/api/v1/embeddings"),
            "{id}: {message}"
        );
        let response = gw
            .post("/responses", &json!({"model": id, "input": "hello"}))
            .await;
        assert_eq!(response.status(), 400, "{id}");
        let reply: Value = response.json().await.unwrap();
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap()
                .contains("is an embedding model"),
            "{id}: {reply}"
        );
    }
    assert_eq!(converse_calls(&gw).await, 0, "nothing reached Converse");
}

#[tokio::test]
async fn the_first_listed_model_is_a_chat_model() {
    let gw = crate::support::start().await;
    let list: Value = gw
        .http
        .get(format!("{}/api/v1/models", gw.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = list["data"][0]["id"].as_str().unwrap();
    let (status, reply) = gw.chat(user(first, "hello")).await;
    assert_eq!(status, 200, "{first}: {reply}");
}

/// The tools a chat UI sends with every chat (two of Open WebUI's, by name).
fn with_ui_tools(mut body: Value, tool_choice: Option<Value>) -> Value {
    body["tools"] = json!([
        {"type": "function", "function": {"name": "get_current_timestamp", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "search_web", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}},
    ]);
    if let Some(choice) = tool_choice {
        body["tool_choice"] = choice;
    }
    body
}

#[tokio::test]
async fn tools_are_dropped_for_a_tool_less_model_unless_a_call_is_forced() {
    let gw = crate::support::start().await;
    for model in [DEEPSEEK_R1, "mistral.mistral-7b-instruct-v0:2"] {
        for choice in [None, Some(json!("auto")), Some(json!("none"))] {
            for streaming in [false, true] {
                let mut body = with_ui_tools(user(model, "hello there"), choice.clone());
                if streaming {
                    body = stream(body);
                }
                let response = gw.post("/chat/completions", &body).await;
                assert_eq!(response.status(), 200, "{model} {choice:?}");
                assert_eq!(
                    response.headers()["x-gateway-dropped-tools"],
                    "get_current_timestamp,search_web"
                );
                let text = response.text().await.unwrap();
                let answer = if streaming {
                    streamed_text(&parse_sse(&text))
                } else {
                    serde_json::from_str::<Value>(&text).unwrap()["choices"][0]["message"]
                        ["content"]
                        .as_str()
                        .unwrap()
                        .to_string()
                };
                assert!(answer.contains("hello there"), "{text}");
                let sent = last_converse_call(&gw.emulator).await;
                assert!(sent["body"].get("toolConfig").is_none(), "{sent}");
            }
        }
        for forced in [
            json!("required"),
            json!({"type": "function", "function": {"name": "search_web"}}),
        ] {
            let before = converse_calls(&gw).await;
            let (status, reply) = gw
                .chat(with_ui_tools(user(model, "hi"), Some(forced.clone())))
                .await;
            assert_eq!(status, 400, "{model} {forced}: {reply}");
            assert_eq!(reply["error"]["param"], "tools");
            assert_eq!(converse_calls(&gw).await, before);
        }
    }
    // A model with tool use keeps them, and no header is sent.
    let response = gw
        .post("/chat/completions", &with_ui_tools(user(MODEL, "hi"), None))
        .await;
    assert!(response.headers().get("x-gateway-dropped-tools").is_none());
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        sent["body"]["toolConfig"]["tools"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn dropped_tools_are_logged_by_count_without_names_or_prompt() {
    let gw = GatewayProcess::start(&[("API_KEY", KEY)]).await;
    let response = gw
        .http
        .post(format!("{}/api/v1/chat/completions", gw.url))
        .bearer_auth(KEY)
        .json(&with_ui_tools(user(DEEPSEEK_R1, "secretprompt4242"), None))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let _ = response.text().await;
    let log = gw.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("tools dropped"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        line.contains("dropped_tools=2") && line.contains("deepseek"),
        "{line}"
    );
    assert!(
        !log.contains("search_web") && !log.contains("secretprompt4242"),
        "{log}"
    );
}
