//! Legacy text completions end to end: `POST /api/v1/completions` over HTTP, through the
//! shared chat translation to the strict emulator's Converse and ConverseStream, checking what
//! reached Bedrock (`last_converse_call`) as well as the `text_completion` answers.

use crate::support::{self, MODEL, TestGateway, last_converse_call, parse_sse};
use bedrock_emulator::EmulatorConfig;
use serde_json::{Value, json};

async fn complete(gw: &TestGateway, body: Value) -> (u16, Value) {
    let response = gw.post("/completions", &body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn converse_calls(gw: &TestGateway) -> Vec<Value> {
    support::emulator_calls(&gw.emulator, "converse").await["calls"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_prompt_becomes_one_user_turn_with_the_sampling_settings() {
    let gw = support::start().await;
    let (status, body) = complete(
        &gw,
        json!({"model": MODEL, "prompt": "Say hello", "max_tokens": 50, "temperature": 0.5,
               "top_p": 0.9, "stop": ["END"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "text_completion");
    assert!(body["id"].as_str().unwrap().starts_with("cmpl-"));
    assert_eq!(body["model"], MODEL);
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert!(choice["logprobs"].is_null());
    assert!(!choice["text"].as_str().unwrap().is_empty());
    assert!(body["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        body["usage"]["total_tokens"].as_u64().unwrap(),
        body["usage"]["prompt_tokens"].as_u64().unwrap()
            + body["usage"]["completion_tokens"].as_u64().unwrap()
    );

    let call = last_converse_call(&gw.emulator).await;
    assert_eq!(call["operation"], "Converse");
    assert_eq!(call["modelId"], MODEL);
    assert_eq!(
        call["body"]["messages"],
        json!([{"role": "user", "content": [{"text": "Say hello"}]}])
    );
    let config = &call["body"]["inferenceConfig"];
    assert_eq!(config["maxTokens"], 50);
    assert_eq!(config["temperature"], 0.5);
    assert_eq!(config["stopSequences"], json!(["END"]));
    assert!(call["body"].get("system").is_none());
}

#[tokio::test]
async fn max_tokens_defaults_to_16_and_gpt_instruct_maps_to_the_default_model() {
    let gw = support::start_with(
        &[("DEFAULT_MODEL", "us.amazon.nova-lite-v1:0")],
        EmulatorConfig::default(),
    )
    .await;
    let (status, body) = complete(
        &gw,
        json!({"model": "gpt-3.5-turbo-instruct", "prompt": "Once upon a time"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], "us.amazon.nova-lite-v1:0");
    let call = last_converse_call(&gw.emulator).await;
    assert_eq!(call["modelId"], "us.amazon.nova-lite-v1:0");
    assert_eq!(call["body"]["inferenceConfig"]["maxTokens"], 16);
}

#[tokio::test]
async fn a_short_max_tokens_finishes_with_length() {
    let gw = support::start().await;
    let (status, body) = complete(
        &gw,
        json!({"model": MODEL, "prompt": "one two three four five six seven eight nine ten", "max_tokens": 2}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["finish_reason"], "length");
}

#[tokio::test]
async fn prompt_lists_and_n_give_one_choice_each_in_openai_order() {
    let gw = support::start().await;
    let (status, body) = complete(
        &gw,
        json!({"model": MODEL, "prompt": ["alpha words", "beta words"], "n": 2, "echo": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let choices = body["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 4);
    for (i, choice) in choices.iter().enumerate() {
        assert_eq!(choice["index"], i);
        let prompt = if i < 2 { "alpha words" } else { "beta words" };
        // `echo` puts the prompt first; the emulator's reply then echoes the user turn.
        let text = choice["text"].as_str().unwrap();
        assert!(text.starts_with(prompt), "{text}");
        assert!(text.len() > prompt.len(), "{text}");
    }
    let calls = converse_calls(&gw).await;
    assert_eq!(calls.len(), 4);
    let texts: Vec<&str> = calls
        .iter()
        .map(|c| {
            c["body"]["messages"][0]["content"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        texts.iter().filter(|t| **t == "alpha words").count(),
        2,
        "{texts:?}"
    );
    let one = body["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(one >= 4 * 2, "usage is summed over the four calls: {one}");
}

#[tokio::test]
async fn streaming_sends_text_completion_chunks_usage_and_done() {
    let gw = support::start().await;
    let response = gw
        .post(
            "/completions",
            &json!({"model": MODEL, "prompt": ["first prompt", "second prompt"], "stream": true,
                    "stream_options": {"include_usage": true}, "echo": true}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = parse_sse(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap(), "[DONE]");
    let chunks = &events[..events.len() - 1];
    let mut texts = [String::new(), String::new()];
    let mut finished = [false, false];
    for chunk in &chunks[..chunks.len() - 1] {
        assert_eq!(chunk["object"], "text_completion", "{chunk}");
        assert!(chunk.get("usage").is_none());
        let choice = &chunk["choices"][0];
        let index = choice["index"].as_u64().unwrap() as usize;
        assert!(!finished[index], "text after the finish chunk: {chunk}");
        texts[index].push_str(choice["text"].as_str().unwrap());
        if !choice["finish_reason"].is_null() {
            assert_eq!(choice["finish_reason"], "stop");
            finished[index] = true;
        }
    }
    assert_eq!(finished, [true, true]);
    assert!(texts[0].starts_with("first prompt") && texts[0].len() > "first prompt".len());
    assert!(texts[1].starts_with("second prompt"));
    let usage_chunk = chunks.last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert!(usage_chunk["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    let calls = converse_calls(&gw).await;
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c["operation"] == "ConverseStream"));
}

#[tokio::test]
async fn a_failure_before_the_stream_is_an_http_error_and_later_an_error_event() {
    let gw = support::start().await;
    let (status, body) = complete(
        &gw,
        json!({"model": MODEL, "prompt": "hi [[fault:throttling]]", "stream": true}),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    // The second prompt fails after the first one has streamed: an error event, no [DONE].
    let response = gw
        .post(
            "/completions",
            &json!({"model": MODEL, "prompt": ["fine", "hi [[fault:throttling]]"], "stream": true}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let events = parse_sse(&response.text().await.unwrap());
    assert!(events.iter().any(|e| e["choices"][0]["index"] == 0));
    let last = events.last().unwrap();
    assert_eq!(last["error"]["type"], "rate_limit_error", "{last}");
}

#[tokio::test]
async fn unsupported_options_are_400_naming_the_field_before_bedrock() {
    let gw = support::start().await;
    for (extra, param) in [
        (json!({"suffix": "and then"}), "suffix"),
        (json!({"logprobs": 1}), "logprobs"),
        (json!({"best_of": 3}), "best_of"),
        (json!({"prompt": [1, 2, 3]}), "prompt"),
        (json!({"prompt": ""}), "prompt"),
        (json!({"n": 40}), "n"),
        (json!({"temperature": 3}), "temperature"),
        (json!({"max_tokens": 0}), "max_tokens"),
    ] {
        let mut body = json!({"model": MODEL, "prompt": "hi"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = complete(&gw, body).await;
        assert_eq!(status, 400, "{extra}: {answer}");
        assert_eq!(answer["error"]["param"], param, "{extra}: {answer}");
        assert_eq!(answer["error"]["type"], "invalid_request_error");
    }
    assert!(converse_calls(&gw).await.is_empty());
}

#[tokio::test]
async fn image_and_embedding_models_are_refused_for_completions() {
    let gw = support::start().await;
    for model in ["amazon.nova-canvas-v1:0", "amazon.titan-embed-text-v2:0"] {
        let (status, body) = complete(&gw, json!({"model": model, "prompt": "hi"})).await;
        assert_eq!(status, 400, "{model}: {body}");
        assert_eq!(body["error"]["param"], "model");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not completions"),
            "{body}"
        );
    }
    assert!(converse_calls(&gw).await.is_empty());
}
