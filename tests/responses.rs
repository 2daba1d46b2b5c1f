//! The Responses API end to end (`/api/v1/responses`), over HTTP against the strict emulator.
//! What reached Bedrock is read back with the emulator's `[[echo:request]]` marker (the reply is
//! the Converse request body it received) and `[[echo:system]]`. One file for one route family
//! (over ~450 lines: the tests share their helpers; the lead folds test files into one binary).

mod common;

use common::{KEY, MODEL, TestGateway};
use serde_json::{Value, json};

const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const CLAUDE_37: &str = "anthropic.claude-3-7-sonnet-20250219-v1:0";

async fn create(gw: &TestGateway, body: Value) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = gw.post("/responses", &body).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        headers,
    )
}

/// `(event name, data)` pairs of a Responses stream.
async fn create_stream(gw: &TestGateway, mut body: Value) -> Vec<(String, Value)> {
    body["stream"] = json!(true);
    let response = gw.post("/responses", &body).await;
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|event| {
            let mut lines = event.lines();
            let name = lines
                .next()
                .unwrap()
                .strip_prefix("event: ")
                .expect("event line");
            let data = lines
                .next()
                .unwrap()
                .strip_prefix("data: ")
                .expect("data line");
            (name.to_string(), serde_json::from_str(data).unwrap())
        })
        .collect()
}

fn output_text(response: &Value) -> String {
    response["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "message")
        .flat_map(|i| i["content"].as_array().unwrap().iter())
        .filter_map(|p| p["text"].as_str())
        .collect()
}

/// The Converse request the emulator received (the reply to `[[echo:request]]`).
fn bedrock_request(response: &Value) -> Value {
    serde_json::from_str(&output_text(response)).unwrap_or_else(|_| panic!("{response}"))
}

fn tools() -> Value {
    json!([
        {"type": "function", "name": "get_weather", "description": "Weather for a city",
         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
        {"type": "namespace", "name": "mcp", "description": "files", "tools": [
            {"type": "function", "name": "read", "parameters": {"type": "object", "properties": {}}}]},
        {"type": "custom", "name": "apply_patch", "description": "Apply a patch"},
        {"type": "web_search", "external_web_access": false}
    ])
}

#[tokio::test]
async fn a_text_reply_is_a_response_object_and_instructions_are_the_system_prompt() {
    let gw = common::start().await;
    let (status, r, _) = create(
        &gw,
        json!({"model": MODEL, "instructions": "Be brief.", "input": "[[echo:system]]",
               "metadata": {"k": "v"}, "user": "u", "prompt_cache_key": "p", "safety_identifier": "s",
               "client_metadata": {"x": 1}, "service_tier": "auto", "truncation": "disabled",
               "text": {"verbosity": "low"}}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert!(r["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["model"], MODEL);
    assert_eq!(r["metadata"], json!({"k": "v"}));
    assert!(r["error"].is_null() && r["incomplete_details"].is_null());
    let message = &r["output"][0];
    assert_eq!(message["type"], "message");
    assert_eq!(message["role"], "assistant");
    assert!(message["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(message["content"][0]["type"], "output_text");
    assert_eq!(message["content"][0]["annotations"], json!([]));
    assert_eq!(output_text(&r), "Be brief.");
    let usage = &r["usage"];
    assert_eq!(
        usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap(),
        usage["total_tokens"].as_u64().unwrap()
    );
    assert_eq!(usage["input_tokens_details"]["cached_tokens"], 0);
    assert_eq!(usage["output_tokens_details"]["reasoning_tokens"], 0);
}

#[tokio::test]
async fn unknown_fields_are_a_400_naming_them() {
    let gw = common::start().await;
    let (status, r, _) = create(
        &gw,
        json!({"model": MODEL, "input": "hi", "frobnicate": true}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(r["error"]["param"], "frobnicate");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`frobnicate`")
    );
    let (status, r, _) = create(
        &gw,
        json!({"model": MODEL, "input": [{"type": "message", "role": "robot", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(r["error"]["param"], "input[0].role");
    let (status, r, _) = create(&gw, json!({"model": MODEL, "input": "hi", "tools": tools(), "tool_choice": {"type": "web_search"}})).await;
    assert_eq!(status, 400);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("web_search"),
        "{r}"
    );
    // Without a key: 401, as on every route.
    let response = gw
        .http
        .post(format!("{}/api/v1/responses", gw.url))
        .json(&json!({"model": MODEL, "input": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn tools_reach_bedrock_flattened_and_built_ins_are_dropped_and_named() {
    let gw = common::start().await;
    let (status, r, headers) = create(
        &gw,
        json!({"model": MODEL, "input": "[[echo:request]]", "tools": tools()}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(headers["x-gateway-dropped-tools"], "web_search");
    let sent = bedrock_request(&r);
    let names: Vec<&str> = sent["toolConfig"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["toolSpec"]["name"].as_str())
        .collect();
    assert_eq!(names, ["get_weather", "mcp__read", "apply_patch"]);
    let custom = &sent["toolConfig"]["tools"][2]["toolSpec"]["inputSchema"]["json"];
    assert_eq!(custom["properties"]["input"]["type"], "string");
    // The echoed tools are the client's own.
    assert_eq!(r["tools"], tools());
}

#[tokio::test]
async fn calls_map_back_to_function_namespace_and_custom_items() {
    let gw = common::start().await;
    let (status, r, _) = create(
        &gw,
        json!({"model": MODEL, "tools": tools(),
               "input": "[[call:get_weather {\"city\":\"Paris\"}]] [[call:mcp__read]] [[call:apply_patch {\"input\":\"*** Begin Patch\"}]]"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let calls: Vec<&Value> = r["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] != "message")
        .collect();
    assert_eq!(calls.len(), 3, "{r}");
    assert_eq!(calls[0]["type"], "function_call");
    assert_eq!(calls[0]["name"], "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(calls[0]["arguments"].as_str().unwrap()).unwrap(),
        json!({"city": "Paris"})
    );
    assert!(calls[0]["id"].as_str().unwrap().starts_with("fc_"));
    assert_eq!(calls[0]["status"], "completed");
    assert_eq!(
        (calls[1]["namespace"].as_str(), calls[1]["name"].as_str()),
        (Some("mcp"), Some("read"))
    );
    assert_eq!(calls[2]["type"], "custom_tool_call");
    assert_eq!(calls[2]["name"], "apply_patch");
    assert_eq!(calls[2]["input"], "*** Begin Patch");
}

#[tokio::test]
async fn function_call_output_becomes_a_tool_result_with_the_same_id() {
    let gw = common::start().await;
    let (_, first, _) = create(
        &gw,
        json!({"model": MODEL, "tools": tools(), "input": "[[call:get_weather]]", "store": false}),
    )
    .await;
    let call = first["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap()
        .clone();
    let call_id = call["call_id"].as_str().unwrap().to_string();
    let (status, second, _) = create(
        &gw,
        json!({"model": MODEL, "tools": tools(), "input": [
            {"role": "user", "content": "[[call:get_weather]]"},
            call,
            {"type": "function_call_output", "call_id": call_id, "output": "sunny"},
            {"role": "user", "content": [{"type": "input_text", "text": "[[echo:request]]"}]}
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let sent = bedrock_request(&second);
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(
        messages[1]["content"].as_array().unwrap().last().unwrap()["toolUse"]["toolUseId"],
        call_id
    );
    let result = &messages[2]["content"][0]["toolResult"];
    assert_eq!(result["toolUseId"], call_id);
    assert_eq!(result["content"][0]["text"], "sunny");
}

#[tokio::test]
async fn reasoning_round_trips_through_encrypted_content_without_storage() {
    let gw = common::start().await;
    let body = |input: Value| {
        json!({"model": CLAUDE_37, "reasoning": {"effort": "low", "summary": "auto"}, "max_output_tokens": 2000,
               "store": false, "include": ["reasoning.encrypted_content"], "tools": tools(), "input": input})
    };
    let (status, first, _) = create(&gw, body(json!("[[call:get_weather]]"))).await;
    assert_eq!(status, 200, "{first}");
    let output = first["output"].as_array().unwrap().clone();
    let reasoning = output.iter().find(|i| i["type"] == "reasoning").unwrap();
    assert!(
        reasoning["summary"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Thinking about"),
        "{first}"
    );
    assert!(reasoning["encrypted_content"].is_string(), "{first}");
    let call = output
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap();
    let mut input = vec![json!({"role": "user", "content": "[[call:get_weather]]"})];
    input.extend(output.iter().cloned());
    input.push(
        json!({"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}),
    );
    // The emulator checks the signature: a turn without its reasoning, or with forged reasoning,
    // would be refused by Bedrock while thinking is on.
    let (status, second, _) = create(&gw, body(Value::Array(input.clone()))).await;
    assert_eq!(status, 200, "{second}");
    let mut forged = input.clone();
    for item in forged.iter_mut().filter(|i| i["type"] == "reasoning") {
        item["encrypted_content"] = json!("bm90IG91cnM=");
    }
    let (status, err, _) = create(&gw, body(Value::Array(forged))).await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["error"]["param"]
            .as_str()
            .unwrap()
            .ends_with("encrypted_content")
    );
    // Without `include`, no encrypted content is returned.
    let (_, plain, _) = create(&gw, json!({"model": CLAUDE_37, "reasoning": {"effort": "low"}, "max_output_tokens": 2000, "input": "hi"})).await;
    let reasoning = plain["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "reasoning")
        .unwrap();
    assert!(reasoning.get("encrypted_content").is_none(), "{plain}");
}

#[tokio::test]
async fn images_and_files_reach_bedrock() {
    let gw = common::start().await;
    let pdf = base64_pdf();
    let (status, r, _) = create(
        &gw,
        json!({"model": MODEL, "input": [{"role": "user", "content": [
            {"type": "input_text", "text": "what is this?"},
            {"type": "input_image", "image_url": format!("data:image/png;base64,{PNG_1X1}")},
            {"type": "input_file", "filename": "a.pdf", "file_data": format!("data:application/pdf;base64,{pdf}")}
        ]}]}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let text = output_text(&r);
    assert!(text.contains("[image png 70 bytes]"), "{text}");
    assert!(text.contains("[document a pdf 45 bytes]"), "{text}");
}

fn base64_pdf() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
}

#[tokio::test]
async fn stored_responses_continue_and_can_be_retrieved_listed_and_deleted() {
    let gw = common::start().await;
    let (status, first, _) = create(&gw, json!({"model": MODEL, "input": "my name is Ann"})).await;
    assert_eq!(status, 200);
    let id = first["id"].as_str().unwrap();
    let (status, second, _) = create(
        &gw,
        json!({"model": MODEL, "previous_response_id": id, "input": "[[echo:request]]"}),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["previous_response_id"], id);
    let sent = bedrock_request(&second);
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{sent}");
    assert_eq!(messages[0]["content"][0]["text"], "my name is Ann");
    assert_eq!(messages[1]["content"][0]["text"], output_text(&first));

    let get = |path: String| {
        let http = gw.http.clone();
        let url = format!("{}/api/v1/responses/{path}", gw.url);
        async move {
            let r = http.get(url).bearer_auth(KEY).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, retrieved) = get(id.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(retrieved, first);
    let (status, items) = get(format!("{id}/input_items")).await;
    assert_eq!(status, 200);
    assert_eq!(items["object"], "list");
    assert_eq!(items["data"][0]["content"][0]["text"], "my name is Ann");
    assert!(items["data"][0]["id"].is_string());

    let delete = gw
        .http
        .delete(format!("{}/api/v1/responses/{id}", gw.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status().as_u16(), 200);
    assert_eq!(delete.json::<Value>().await.unwrap()["deleted"], true);
    let (status, err) = get(id.to_string()).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["type"], "invalid_request_error");
    let (status, err, _) = create(
        &gw,
        json!({"model": MODEL, "previous_response_id": id, "input": "x"}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["param"], "previous_response_id");

    // `store: false` keeps nothing.
    let (_, unstored, _) = create(&gw, json!({"model": MODEL, "input": "x", "store": false})).await;
    let (status, _) = get(unstored["id"].as_str().unwrap().to_string()).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn item_references_resolve_from_the_stored_conversation() {
    let gw = common::start().await;
    let (_, first, _) = create(&gw, json!({"model": MODEL, "input": "remember this"})).await;
    let message_id = first["output"][0]["id"].as_str().unwrap();
    let (status, r, _) = create(
        &gw,
        json!({"model": MODEL, "previous_response_id": first["id"], "input": [
            {"type": "item_reference", "id": message_id},
            {"role": "user", "content": "[[echo:request]]"}]}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let sent = bedrock_request(&r);
    // user, assistant (stored), assistant (referenced) merged into one assistant turn, user.
    assert_eq!(sent["messages"].as_array().unwrap().len(), 3, "{sent}");
    let (status, err, _) = create(
        &gw,
        json!({"model": MODEL, "previous_response_id": first["id"], "input": [{"type": "item_reference", "id": "msg_nope"}]}),
    )
    .await;
    assert_eq!(status, 404, "{err}");
}

#[tokio::test]
async fn streams_carry_typed_sequenced_events_and_the_same_items_as_the_final_object() {
    let gw = common::start().await;
    let events = create_stream(&gw, json!({"model": MODEL, "input": "hello there world"})).await;
    let types: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    for (name, data) in &events {
        assert_eq!(data["type"], name.as_str());
    }
    let sequence: Vec<u64> = events
        .iter()
        .map(|(_, d)| d["sequence_number"].as_u64().unwrap())
        .collect();
    assert!(sequence.windows(2).all(|w| w[1] > w[0]), "{sequence:?}");
    assert_eq!(
        &types[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(
        &types[types.len() - 4..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let deltas: String = events
        .iter()
        .filter(|(n, _)| n == "response.output_text.delta")
        .map(|(_, d)| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "hello there world");
    let (_, done) = events.last().unwrap();
    let item_id = events[2].1["item"]["id"].as_str().unwrap();
    assert_eq!(done["response"]["output"][0]["id"], item_id);
    assert_eq!(done["response"]["status"], "completed");
    assert!(done["response"]["usage"]["total_tokens"].as_u64().unwrap() > 0);
    // The stored object is the streamed one.
    let id = done["response"]["id"].as_str().unwrap();
    let stored: Value = gw
        .http
        .get(format!("{}/api/v1/responses/{id}", gw.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored, done["response"]);
}

#[tokio::test]
async fn streamed_function_calls_and_reasoning() {
    let gw = common::start().await;
    let events = create_stream(
        &gw,
        json!({"model": CLAUDE_37, "reasoning": {"effort": "low", "summary": "auto"}, "max_output_tokens": 2000,
               "include": ["reasoning.encrypted_content"], "tools": tools(), "input": "[[call:get_weather {\"city\":\"Paris\"}]]"}),
    )
    .await;
    let of = |t: &str| {
        events
            .iter()
            .filter(|(n, _)| n == t)
            .map(|(_, d)| d.clone())
            .collect::<Vec<_>>()
    };
    let arguments: String = of("response.function_call_arguments.delta")
        .iter()
        .map(|d| d["delta"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).unwrap(),
        json!({"city": "Paris"})
    );
    assert_eq!(
        of("response.function_call_arguments.done")[0]["arguments"],
        arguments
    );
    assert!(!of("response.reasoning_summary_text.delta").is_empty());
    assert_eq!(of("response.reasoning_summary_part.added").len(), 1);
    let completed = &of("response.completed")[0]["response"];
    let kinds: Vec<&str> = completed["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"reasoning") && kinds.contains(&"function_call"),
        "{kinds:?}"
    );
    let done_ids: Vec<Value> = of("response.output_item.done")
        .iter()
        .map(|d| d["item"]["id"].clone())
        .collect();
    let final_ids: Vec<Value> = completed["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].clone())
        .collect();
    assert_eq!(done_ids, final_ids);
    assert!(
        completed["output"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["encrypted_content"].is_string())
    );
}

#[tokio::test]
async fn a_bedrock_failure_mid_stream_is_an_error_event_then_response_failed() {
    let gw = common::start().await;
    let events = create_stream(
        &gw,
        json!({"model": MODEL, "input": "one two three four [[fault:midstream]]"}),
    )
    .await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[names.len() - 2..],
        ["error", "response.failed"],
        "{names:?}"
    );
    let (_, failed) = events.last().unwrap();
    assert_eq!(failed["response"]["status"], "failed");
    assert!(failed["response"]["error"]["message"].is_string());
}

#[tokio::test]
async fn max_output_tokens_makes_an_incomplete_response() {
    let gw = common::start().await;
    let (status, r, _) = create(
        &gw,
        json!({"model": MODEL, "input": "one two three four five six", "max_output_tokens": 2}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["status"], "incomplete");
    assert_eq!(r["incomplete_details"]["reason"], "max_output_tokens");
    assert_eq!(r["max_output_tokens"], 2);
}

/// The first request Codex CLI 0.169 sends (captured by the `responses-store` helper):
/// developer messages with ids, seven function tools, a namespace tool, `web_search`,
/// `client_metadata`, `prompt_cache_key`, encrypted reasoning, `store: false`, streamed.
#[tokio::test]
async fn codex_first_request_is_accepted_and_streamed() {
    let gw = common::start().await;
    let body: Value = serde_json::from_str(include_str!("data/codex-0.169-request.json")).unwrap();
    let response = gw.post("/responses", &body).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-gateway-dropped-tools"], "web_search");
    let text = response.text().await.unwrap();
    let events: Vec<Value> = text
        .split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(events.last().unwrap()["type"], "response.completed");
    let streamed: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .filter_map(|e| e["delta"].as_str())
        .collect();
    assert!(streamed.ends_with("say hi"), "{streamed}");
}

#[tokio::test]
async fn refused_built_in_tools_are_a_400_when_configured() {
    let gw = common::start_with(
        &[("RESPONSES_REFUSED_TOOLS", "web_search")],
        bedrock_emulator::EmulatorConfig::default(),
    )
    .await;
    let (status, r, _) = create(
        &gw,
        json!({"model": MODEL, "input": "hi", "tools": tools()}),
    )
    .await;
    assert_eq!(status, 400, "{r}");
    assert_eq!(r["error"]["param"], "tools[3].type");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("web_search")
    );
}
