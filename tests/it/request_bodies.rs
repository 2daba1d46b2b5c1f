//! What a request body may be, over HTTP: the cost limits (each refused with a 400 naming the
//! limit's field, before Bedrock is called), text after the JSON object, two `Authorization`
//! headers, and `param` naming every missing or mistyped field.

use crate::support::{KEY, MODEL, TestGateway, emulator_calls};
use bedrock_gateway::openai::limits;
use serde_json::{Value, json};

/// POSTs raw bytes to `/api/v1{path}`: (status, JSON body).
async fn post_raw(gateway: &TestGateway, path: &str, body: Vec<u8>) -> (u16, Value) {
    let response = gateway
        .http
        .post(format!("{}/api/v1{path}", gateway.url))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Asserts an OpenAI-shaped 400 naming `param`, and returns its message.
fn assert_400(status: u16, body: &Value, param: &str) -> String {
    assert_eq!(status, 400, "{body}");
    let error = &body["error"];
    assert_eq!(error["type"], "invalid_request_error", "{body}");
    assert_eq!(error["param"], param, "{body}");
    error["message"].as_str().expect("a message").to_string()
}

/// Calls that reached the emulator: the model-catalogue listing every chat or embeddings request
/// triggers once it is parsed (on a fresh gateway), and InvokeModel calls.
async fn bedrock_calls(gateway: &TestGateway) -> u64 {
    let listings = emulator_calls(&gateway.emulator, "listing").await["listFoundationModels"]
        .as_u64()
        .unwrap();
    let invokes = emulator_calls(&gateway.emulator, "invoke")
        .await
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    listings + invokes as u64
}

fn message(i: usize) -> Value {
    let role = if i.is_multiple_of(2) {
        "user"
    } else {
        "assistant"
    };
    json!({"role": role, "content": format!("m{i}")})
}

fn messages(n: usize) -> Vec<Value> {
    (0..n).map(message).collect()
}

#[tokio::test]
async fn message_count_is_bounded() {
    let gateway = crate::support::start().await;
    let (status, body) = gateway
        .chat(json!({"model": MODEL, "messages": messages(limits::MAX_MESSAGES + 1)}))
        .await;
    let message = assert_400(status, &body, "messages");
    assert!(message.contains("10000"), "{message}");
    assert_eq!(body["error"]["code"], "request_too_complex");
    assert_eq!(bedrock_calls(&gateway).await, 0, "nothing reached Bedrock");
    // At the limit the request goes through (odd count: the last message is the user's).
    let (status, body) = gateway
        .chat(json!({"model": MODEL, "messages": messages(limits::MAX_MESSAGES - 1)}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(bedrock_calls(&gateway).await > 0);
}

#[tokio::test]
async fn content_parts_are_bounded_over_all_messages() {
    let gateway = crate::support::start().await;
    let parts: Vec<Value> = (0..limits::MAX_CONTENT_PARTS / 2 + 1)
        .map(|i| json!({"type": "text", "text": format!("p{i}")}))
        .collect();
    let body = json!({"model": MODEL, "messages": [
        {"role": "user", "content": parts},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": parts},
    ]});
    let (status, body) = gateway.chat(body).await;
    let message = assert_400(status, &body, "messages[2].content");
    assert!(message.contains("20000"), "{message}");
    assert_eq!(bedrock_calls(&gateway).await, 0);
}

#[tokio::test]
async fn tools_and_functions_are_bounded() {
    let gateway = crate::support::start().await;
    let tool = |i: usize| json!({"type": "function", "function": {"name": format!("t{i}"), "parameters": {"type": "object"}}});
    let many: Vec<Value> = (0..=limits::MAX_TOOLS).map(tool).collect();
    let (status, body) = gateway
        .chat(json!({"model": MODEL, "messages": messages(1), "tools": many}))
        .await;
    assert_400(status, &body, "tools");
    let functions: Vec<Value> = (0..=limits::MAX_TOOLS)
        .map(|i| json!({"name": format!("f{i}")}))
        .collect();
    let (status, body) = gateway
        .chat(json!({"model": MODEL, "messages": messages(1), "functions": functions}))
        .await;
    assert_400(status, &body, "functions");
    assert_eq!(bedrock_calls(&gateway).await, 0);
}

fn nested(depth: usize) -> Value {
    let mut value = json!("leaf");
    for _ in 0..depth {
        value = json!({"x": value});
    }
    value
}

#[tokio::test]
async fn nesting_is_bounded_on_both_routes() {
    let gateway = crate::support::start().await;
    let body = json!({"model": MODEL, "messages": messages(1), "tools": [
        {"type": "function", "function": {"name": "deep", "parameters": nested(80)}}
    ]});
    let (status, body) = gateway.chat(body).await;
    assert_eq!(status, 400, "{body}");
    let param = body["error"]["param"].as_str().unwrap();
    assert!(
        param.starts_with("tools[0].function.parameters.x.x."),
        "{param}"
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains("64"),
        "{body}"
    );
    let (status, body) = post_raw(
        &gateway,
        "/embeddings",
        serde_json::to_vec(
            &json!({"model": "amazon.titan-embed-text-v2:0", "input": "a", "extra": nested(100)}),
        )
        .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["param"]
            .as_str()
            .unwrap()
            .starts_with("extra.x.x"),
        "{body}"
    );
    assert_eq!(bedrock_calls(&gateway).await, 0);
}

#[tokio::test]
async fn message_text_is_bounded() {
    let gateway = crate::support::start().await;
    let half = "w".repeat(limits::MAX_TEXT_BYTES / 2 + 1);
    let body = json!({"model": MODEL, "messages": [
        {"role": "user", "content": half},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": half}]},
    ]});
    let (status, body) = gateway.chat(body).await;
    let message = assert_400(status, &body, "messages");
    assert!(message.contains("bytes of text"), "{message}");
    assert_eq!(bedrock_calls(&gateway).await, 0);
}

#[tokio::test]
async fn json_values_are_bounded() {
    let gateway = crate::support::start().await;
    let numbers = vec!["0"; limits::MAX_JSON_VALUES].join(",");
    let body = format!(
        r#"{{"model":"{MODEL}","messages":[{{"role":"user","content":"hi"}}],"additionalModelRequestFields":{{"k":[{numbers}]}}}}"#
    );
    let (status, body) = post_raw(&gateway, "/chat/completions", body.into_bytes()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["param"]
            .as_str()
            .unwrap()
            .starts_with("additionalModelRequestFields.k["),
        "{body}"
    );
    assert_eq!(bedrock_calls(&gateway).await, 0);
}

#[tokio::test]
async fn text_after_the_json_object_is_refused() {
    let gateway = crate::support::start().await;
    let good = serde_json::to_string(&crate::support::user(MODEL, "hi")).unwrap();
    for trailer in [" xyz", "{}", "\n]", " 1"] {
        let (status, body) = post_raw(
            &gateway,
            "/chat/completions",
            format!("{good}{trailer}").into(),
        )
        .await;
        assert_eq!(status, 400, "{trailer:?}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("text after its JSON object"),
            "{body}"
        );
    }
    let embeddings = r#"{"model":"amazon.titan-embed-text-v2:0","input":"a"} x"#;
    let (status, _) = post_raw(&gateway, "/embeddings", embeddings.into()).await;
    assert_eq!(status, 400);
    assert_eq!(bedrock_calls(&gateway).await, 0);
    // Whitespace after the object is fine.
    let (status, body) = post_raw(
        &gateway,
        "/chat/completions",
        format!("{good} \r\n\t\n").into(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let gateway = crate::support::start().await;
    let send = |values: &[&str]| {
        let mut request = gateway
            .http
            .post(format!("{}/api/v1/chat/completions", gateway.url))
            .json(&crate::support::user(MODEL, "hi"));
        for value in values {
            request = request.header("authorization", *value);
        }
        request.send()
    };
    let good = format!("Bearer {KEY}");
    for pair in [
        [good.as_str(), "Bearer other"],
        ["Bearer other", good.as_str()],
        [good.as_str(), good.as_str()],
    ] {
        let response = send(&pair).await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        let message = assert_400(status, &body, "Authorization");
        assert!(message.contains("more than one"), "{message}");
    }
    assert_eq!(bedrock_calls(&gateway).await, 0);
    let response = send(&[good.as_str()]).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn param_names_every_missing_or_mistyped_field() {
    let gateway = crate::support::start().await;
    let user = json!({"role": "user", "content": "hi"});
    let cases = [
        (json!({"messages": [user]}), "model"),
        (json!({"model": MODEL}), "messages"),
        (json!({"model": 7, "messages": [user]}), "model"),
        (
            json!({"model": MODEL, "messages": {"role": "user"}}),
            "messages",
        ),
        (
            json!({"model": MODEL, "messages": [user, {"content": "no role"}]}),
            "messages[1].role",
        ),
        (
            json!({"model": MODEL, "messages": [user, {"role": "assistant", "content": "a"}, {"role": "user", "content": 42}]}),
            "messages[2].content",
        ),
        (
            json!({"model": MODEL, "messages": [{"role": "user", "content": [{"text": "no type"}]}]}),
            "messages[0].content[0].type",
        ),
        (
            json!({"model": MODEL, "messages": [{"role": "user", "content": [{"type": "text"}]}]}),
            "messages[0].content[0].text",
        ),
        (
            json!({"model": MODEL, "messages": [user], "tools": [{"type": "function", "function": {"description": "no name"}}]}),
            "tools[0].function.name",
        ),
        (
            json!({"model": MODEL, "messages": [user, {"role": "assistant", "tool_calls": [{"id": "c1", "function": {"arguments": "{}"}}]}]}),
            "messages[1].tool_calls[0].function.name",
        ),
        (
            json!({"model": MODEL, "messages": [user], "temperature": "hot"}),
            "temperature",
        ),
        (
            json!({"model": MODEL, "messages": [user], "stream": "yes"}),
            "stream",
        ),
    ];
    for (body, param) in cases {
        let (status, answer) = gateway.chat(body.clone()).await;
        let message = assert_400(status, &answer, param);
        assert!(message.contains(param), "{body}: {message}");
    }
    let (status, answer) = post_raw(
        &gateway,
        "/embeddings",
        br#"{"model":"amazon.titan-embed-text-v2:0"}"#.to_vec(),
    )
    .await;
    assert_400(status, &answer, "input");
    let (status, answer) = post_raw(&gateway, "/embeddings", br#"{"input":"a"}"#.to_vec()).await;
    assert_400(status, &answer, "model");
    assert_eq!(bedrock_calls(&gateway).await, 0);
}

#[tokio::test]
async fn a_long_agent_session_is_within_the_limits() {
    // The shape of a long coding-agent session: 40 tools with nested schemas, 400 tool calls
    // with their results of about a kilobyte each, then the next user turn.
    let gateway = crate::support::start().await;
    let schema = json!({"type": "object", "properties": {
        "path": {"type": "string"},
        "edits": {"type": "array", "items": {"type": "object", "properties": {
            "range": {"type": "object", "properties": {
                "start": {"type": "object", "properties": {"line": {"type": "integer"}}},
                "end": {"type": "object", "properties": {"line": {"type": "integer"}}}}},
            "text": {"type": "string"}}}}},
        "required": ["path"]});
    let tools: Vec<Value> = (0..40)
        .map(|i| {
            json!({"type": "function", "function": {"name": format!("tool_{i}"),
            "description": "does one thing", "parameters": schema}})
        })
        .collect();
    let mut history = vec![
        json!({"role": "system", "content": "You are a coding agent."}),
        json!({"role": "user", "content": "fix the build"}),
    ];
    for i in 0..400 {
        history.push(json!({"role": "assistant", "content": null, "tool_calls": [{"id": format!("call_{i}"),
            "type": "function", "function": {"name": format!("tool_{}", i % 40), "arguments": "{\"path\":\"src/main.rs\"}"}}]}));
        history.push(json!({"role": "tool", "tool_call_id": format!("call_{i}"), "content": "x".repeat(1000)}));
    }
    history.push(json!({"role": "user", "content": "and now the tests"}));
    let (status, body) = gateway
        .chat(json!({"model": MODEL, "messages": history, "tools": tools}))
        .await;
    assert_eq!(status, 200, "{body}");
}
