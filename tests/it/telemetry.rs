//! The per-request JSON log line and its CloudWatch Embedded Metric Format (EMF) metrics: the
//! real binary with `LOG_FORMAT=json` in front of the emulator, real requests over HTTP, the
//! line read back from the process's output and checked field by field against what the client
//! got.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::gateway_process::GatewayProcess;
use crate::support::{KEY, MODEL, parse_sse};

const NAMESPACE: &str = "GatewayTest/Telemetry";
const EMBEDDING_MODEL: &str = "amazon.titan-embed-text-v2:0";

async fn gateway() -> GatewayProcess {
    GatewayProcess::start(&[
        ("API_KEY", KEY),
        ("LOG_FORMAT", "json"),
        ("METRICS_NAMESPACE", NAMESPACE),
    ])
    .await
}

/// The per-request lines written so far.
fn request_lines(gw: &GatewayProcess) -> Vec<Value> {
    gw.log_text()
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"))
        })
        .filter(|line| line["message"] == "request")
        .collect()
}

/// Waits for the per-request line number `index` (from 0). The line is written when the body
/// ends, which may be just after the client has read it.
async fn line_number(gw: &GatewayProcess, index: usize) -> Value {
    for _ in 0..500 {
        if let Some(line) = request_lines(gw).get(index) {
            return line.clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no request line #{index}; log:\n{}", gw.log_text())
}

async fn post(gw: &GatewayProcess, path: &str, body: &Value) -> reqwest::Response {
    gw.http
        .post(format!("{}/api/v1{path}", gw.url))
        .bearer_auth(KEY)
        .header(
            "X-Amzn-Trace-Id",
            "Root=1-67891233-abcdef012345678912345678",
        )
        .json(body)
        .send()
        .await
        .expect("the gateway answers")
}

/// Checks `line` as an EMF document, as CloudWatch Logs reads it: `_aws.Timestamp` a number
/// near now, every directive in our namespace, every dimension key a non-blank ASCII string
/// member of the root, every metric name a number member of the root with a known unit.
/// Returns each directive's metric names and dimension sets.
fn emf(line: &Value) -> Vec<(Vec<String>, Vec<Vec<String>>)> {
    let aws = line["_aws"].as_object().expect("an `_aws` member");
    let timestamp = aws["Timestamp"].as_u64().expect("Timestamp in ms");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        now.abs_diff(timestamp) < 60_000,
        "Timestamp {timestamp} vs {now}"
    );
    aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics is an array")
        .iter()
        .map(|directive| {
            assert_eq!(directive["Namespace"], NAMESPACE);
            let sets: Vec<Vec<String>> = serde_json::from_value(directive["Dimensions"].clone())
                .expect("Dimensions is an array of arrays of strings");
            for key in sets.iter().flatten() {
                let value = line[key]
                    .as_str()
                    .unwrap_or_else(|| panic!("{key} in {line}"));
                assert!(
                    value.is_ascii() && !value.trim().is_empty(),
                    "{key}={value}"
                );
            }
            let names = directive["Metrics"]
                .as_array()
                .expect("Metrics")
                .iter()
                .map(|metric| {
                    let name = metric["Name"].as_str().expect("Name").to_string();
                    let unit = metric["Unit"].as_str().expect("Unit");
                    let expected = if name == "Latency" || name == "TimeToFirstToken" {
                        "Milliseconds"
                    } else {
                        "Count"
                    };
                    assert_eq!(unit, expected, "{name}");
                    assert!(line[&name].is_number(), "{name} in {line}");
                    name
                })
                .collect();
            (names, sets)
        })
        .collect()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn by_model_key_and_rollup() -> Vec<Vec<String>> {
    vec![names(&["Model"]), names(&["KeyName"]), vec![]]
}

const TOKEN_METRICS: [&str; 4] = [
    "InputTokens",
    "OutputTokens",
    "CacheReadTokens",
    "CacheWriteTokens",
];

#[tokio::test]
async fn chat_lines_name_the_models_and_count_tokens_with_the_cache() {
    let gw = gateway().await;
    // Long enough to be cached by Claude Haiku 4.5 (see chat_features), asked twice: the
    // second request reads what the first wrote.
    let system = "You are a meticulous assistant. ".repeat(900);
    let body = json!({"model": MODEL, "messages": [
        {"role": "system", "content": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": "question one"}]});
    for index in 0..2 {
        let response = post(&gw, "/chat/completions", &body).await;
        assert_eq!(response.status(), 200);
        let reply: Value = response.json().await.unwrap();
        let usage = &reply["usage"];
        let line = line_number(&gw, index).await;

        assert_eq!(line["level"], "INFO");
        assert_eq!(line["method"], "POST");
        assert_eq!(line["path"], "/api/v1/chat/completions");
        assert_eq!(line["route"], "/chat/completions");
        assert_eq!(line["status"], 200);
        assert_eq!(line["trace_id"], "Root=1-67891233-abcdef012345678912345678");
        assert!(
            line.get("request_id").is_none(),
            "no Lambda request id locally"
        );
        // A key from a plain list is named by the start of its SHA-256, never by the key.
        let key_name = line["key_name"].as_str().expect("a key name");
        assert!(
            key_name.starts_with("key-") && key_name.len() == 12,
            "{key_name}"
        );
        assert_eq!(line["stream"], false);
        assert_eq!(line["complete"], true);
        assert!(line.get("error_code").is_none());
        assert!(line.get("time_to_first_token_ms").is_none());
        let latency = line["latency_ms"].as_f64().unwrap();
        assert!(latency > 0.0 && latency < 30_000.0, "{latency}");
        assert_eq!(line["gen_ai.operation.name"], "chat");
        assert_eq!(line["gen_ai.provider.name"], "aws.bedrock");
        assert_eq!(line["gen_ai.request.model"], MODEL);
        assert_eq!(line["gen_ai.response.model"], MODEL);
        assert_eq!(line["gen_ai.response.finish_reasons"], json!(["end_turn"]));
        // OpenAI's prompt_tokens and OpenTelemetry's input tokens both include the cache.
        assert_eq!(line["gen_ai.usage.input_tokens"], usage["prompt_tokens"]);
        assert_eq!(
            line["gen_ai.usage.output_tokens"],
            usage["completion_tokens"]
        );
        let details = &usage["prompt_tokens_details"];
        assert_eq!(
            line["gen_ai.usage.cache_read.input_tokens"],
            details["cached_tokens"]
        );
        assert_eq!(
            line["gen_ai.usage.cache_creation.input_tokens"],
            details["cache_write_tokens"]
        );

        // The metrics: Bedrock's own counts (input without the cache).
        assert_eq!(line["Model"], MODEL);
        assert_eq!(line["KeyName"], key_name);
        assert_eq!(line["Requests"], 1);
        assert_eq!(line["Latency"], line["latency_ms"]);
        let read = details["cached_tokens"].as_u64().unwrap();
        let write = details["cache_write_tokens"].as_u64().unwrap();
        assert_eq!(line["CacheReadTokens"], read);
        assert_eq!(line["CacheWriteTokens"], write);
        assert_eq!(
            line["InputTokens"].as_u64().unwrap() + read + write,
            usage["prompt_tokens"].as_u64().unwrap()
        );
        assert_eq!(line["OutputTokens"], usage["completion_tokens"]);
        if index == 0 {
            assert!(write > 0 && read == 0, "the first call writes the cache");
        } else {
            assert!(read > 0, "the second call reads it");
        }
        let mut metrics = names(&["Requests", "Latency"]);
        metrics.extend(names(&TOKEN_METRICS));
        assert_eq!(emf(&line), vec![(metrics, by_model_key_and_rollup())]);
    }
}

#[tokio::test]
async fn a_stream_line_has_the_time_to_first_token_and_the_routed_model() {
    let gw = gateway().await;
    let router = "arn:aws:bedrock:us-east-1:111122223333:default-prompt-router/anthropic.claude:1";
    // The id inside the router's invokedModelId (an inference-profile ARN), as the client sees it.
    let invoked = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
    let body = json!({"model": router, "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "route me [[slowstream:30]]"}]});
    let response = post(&gw, "/chat/completions", &body).await;
    assert_eq!(response.status(), 200);
    let events = parse_sse(&response.text().await.unwrap());
    let usage = events
        .iter()
        .find(|e| e["usage"].is_object())
        .map(|e| e["usage"].clone())
        .expect("a usage chunk");
    let line = line_number(&gw, 0).await;

    assert_eq!(line["stream"], true);
    assert_eq!(line["complete"], true);
    assert_eq!(line["gen_ai.request.model"], router);
    assert_eq!(line["gen_ai.response.model"], invoked);
    assert_eq!(line["Model"], invoked);
    assert_eq!(line["gen_ai.usage.input_tokens"], usage["prompt_tokens"]);
    assert_eq!(
        line["gen_ai.usage.output_tokens"],
        usage["completion_tokens"]
    );
    assert_eq!(line["gen_ai.response.finish_reasons"], json!(["end_turn"]));
    let first_token = line["time_to_first_token_ms"].as_f64().expect("TTFT");
    let latency = line["latency_ms"].as_f64().unwrap();
    // The emulator waits 30 ms between events, so the last comes well after the first.
    assert!(first_token > 0.0 && first_token + 25.0 < latency, "{line}");
    assert_eq!(line["TimeToFirstToken"], line["time_to_first_token_ms"]);
    let mut metrics = names(&["Requests", "Latency", "TimeToFirstToken"]);
    metrics.extend(names(&TOKEN_METRICS));
    assert_eq!(emf(&line), vec![(metrics, by_model_key_and_rollup())]);
}

#[tokio::test]
async fn embeddings_and_responses_lines() {
    let gw = gateway().await;
    let response = post(
        &gw,
        "/embeddings",
        &json!({"model": EMBEDDING_MODEL, "input": ["one two", "three"]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let reply: Value = response.json().await.unwrap();
    let line = line_number(&gw, 0).await;
    assert_eq!(line["route"], "/embeddings");
    assert_eq!(line["gen_ai.operation.name"], "embeddings");
    assert_eq!(line["gen_ai.request.model"], EMBEDDING_MODEL);
    assert_eq!(line["gen_ai.response.model"], EMBEDDING_MODEL);
    assert_eq!(
        line["gen_ai.usage.input_tokens"],
        reply["usage"]["prompt_tokens"]
    );
    assert!(line["gen_ai.usage.input_tokens"].as_u64().unwrap() > 0);
    assert_eq!(line["gen_ai.usage.output_tokens"], 0);
    assert_eq!(line["InputTokens"], reply["usage"]["prompt_tokens"]);
    assert!(line.get("gen_ai.response.finish_reasons").is_none());
    let mut metrics = names(&["Requests", "Latency"]);
    metrics.extend(names(&TOKEN_METRICS));
    assert_eq!(emf(&line), vec![(metrics, by_model_key_and_rollup())]);

    // Responses, answered whole, then streamed.
    let response = post(
        &gw,
        "/responses",
        &json!({"model": MODEL, "input": "say hello"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let reply: Value = response.json().await.unwrap();
    let line = line_number(&gw, 1).await;
    assert_eq!(line["route"], "/responses");
    assert_eq!(line["gen_ai.operation.name"], "chat");
    assert_eq!(line["stream"], false);
    assert_eq!(line["gen_ai.response.model"], MODEL);
    assert_eq!(
        line["gen_ai.usage.input_tokens"],
        reply["usage"]["input_tokens"]
    );
    assert_eq!(
        line["gen_ai.usage.output_tokens"],
        reply["usage"]["output_tokens"]
    );
    assert_eq!(line["gen_ai.response.finish_reasons"], json!(["end_turn"]));

    let response = post(
        &gw,
        "/responses",
        &json!({"model": MODEL, "input": "say hello", "stream": true}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let completed: Value = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str::<Value>(data).unwrap())
        .find(|e| e["type"] == "response.completed")
        .expect("response.completed");
    let line = line_number(&gw, 2).await;
    assert_eq!(line["stream"], true);
    assert!(line["time_to_first_token_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(
        line["gen_ai.usage.input_tokens"],
        completed["response"]["usage"]["input_tokens"]
    );
    assert_eq!(
        line["gen_ai.usage.output_tokens"],
        completed["response"]["usage"]["output_tokens"]
    );
    let mut metrics = names(&["Requests", "Latency", "TimeToFirstToken"]);
    metrics.extend(names(&TOKEN_METRICS));
    assert_eq!(emf(&line), vec![(metrics, by_model_key_and_rollup())]);
}

#[tokio::test]
async fn error_lines_count_errors_by_status_class_and_bedrock_throttling() {
    let gw = gateway().await;
    let errors_directive = |line: &Value| {
        let directives = emf(line);
        assert_eq!(directives[0].0, names(&["Requests", "Latency"]));
        assert_eq!(
            directives[1],
            (
                names(&["Errors"]),
                vec![
                    names(&["StatusClass"]),
                    names(&["Model", "StatusClass"]),
                    names(&["KeyName", "StatusClass"])
                ]
            )
        );
        directives
    };

    // An unknown model: a 404 before any Bedrock call; the asked-for model is logged, the
    // metric dimension is not (it is the client's text).
    let response = post(
        &gw,
        "/chat/completions",
        &json!({"model": "no-such-model", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(response.status(), 404);
    let line = line_number(&gw, 0).await;
    assert_eq!(line["status"], 404);
    assert_eq!(line["error_type"], "invalid_request_error");
    assert_eq!(line["error_code"], "model_not_found");
    assert_eq!(line["gen_ai.request.model"], "no-such-model");
    assert!(line.get("gen_ai.response.model").is_none());
    assert_eq!(line["Model"], "-");
    assert_eq!(line["StatusClass"], "4xx");
    assert_eq!(line["Errors"], 1);
    assert_eq!(errors_directive(&line).len(), 2);

    // Bedrock throttles: a 429 counted as an error and as Bedrock throttling.
    let response = post(
        &gw,
        "/chat/completions",
        &json!({"model": MODEL, "messages": [{"role": "user", "content": "[[fault:throttling]]"}]}),
    )
    .await;
    assert_eq!(response.status(), 429);
    let line = line_number(&gw, 1).await;
    assert_eq!(line["error_code"], "ThrottlingException");
    assert_eq!(line["Model"], MODEL);
    assert_eq!(line["BedrockThrottles"], 1);
    let directives = errors_directive(&line);
    assert_eq!(
        directives[2],
        (
            names(&["BedrockThrottles"]),
            vec![names(&["Model"]), vec![]]
        )
    );

    // A stream Bedrock breaks off after its 200: the error event's status class is counted.
    let response = post(
        &gw,
        "/chat/completions",
        &json!({"model": MODEL, "stream": true,
            "messages": [{"role": "user", "content": "some words [[fault:midstream]]"}]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let _ = response.text().await.unwrap();
    let line = line_number(&gw, 2).await;
    assert_eq!(line["status"], 200);
    assert_eq!(line["error_code"], "ModelStreamErrorException");
    assert_eq!(line["StatusClass"], "5xx");
    assert_eq!(line["complete"], true);

    // No key: a 401, nothing about the key in the line.
    let response = gw
        .http
        .get(format!("{}/api/v1/models", gw.url))
        .bearer_auth("sk-not-the-key")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let line = line_number(&gw, 3).await;
    assert_eq!(line["route"], "/models");
    assert_eq!(line["error_code"], "invalid_api_key");
    assert_eq!(line["error_type"], "authentication_error");
    assert!(line["key_name"].is_null());
    assert!(!line.to_string().contains("sk-not-the-key"));
    errors_directive(&line);

    // Health checks are logged without metrics.
    let health = gw.http.get(format!("{}/health", gw.url)).send().await;
    assert_eq!(health.unwrap().status(), 200);
    let line = line_number(&gw, 4).await;
    assert_eq!(line["route"], "/health");
    assert!(line.get("_aws").is_none());
}

#[tokio::test]
async fn text_is_the_default_outside_lambda() {
    let gw = GatewayProcess::start(&[("API_KEY", KEY)]).await;
    let health = gw.http.get(format!("{}/health", gw.url)).send().await;
    assert_eq!(health.unwrap().status(), 200);
    for _ in 0..500 {
        if gw.log_text().contains("path=\"/health\"") || gw.log_text().contains("path=/health") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let log = gw.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("/health"))
        .unwrap_or_else(|| panic!("a request line: {log}"));
    assert!(serde_json::from_str::<Value>(line).is_err(), "{line}");
    assert!(
        line.contains("status=200") && line.contains("request"),
        "{line}"
    );
}
