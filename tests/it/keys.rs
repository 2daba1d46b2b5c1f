//! Named keys from a key document, over HTTP: model allow-lists on every route that names a
//! model (chat, embeddings, Responses, `/models`), per-key aliases and default model, the
//! `max_tokens` cap, hashed keys, expired keys, the admin-only usage report, and bad documents
//! (at start-up the real binary stops with one line; on a refresh the old keys stay).
//!
//! What reached Bedrock is read from the emulator's call log, so a refused request is proven
//! not to have been sent and an allowed one to have been sent with the right model.

use std::time::Duration;

use bedrock_emulator::EmulatorConfig;
use serde_json::{Value, json};
use sha2::Digest;

use crate::support::gateway_process::GatewayProcess;
use crate::support::{MODEL, TestGateway, emulator_calls, last_converse_call, start_with, user};

const NOVA: &str = "amazon.nova-micro-v1:0";
const TITAN_V2: &str = "amazon.titan-embed-text-v2:0";

fn sha256_hex(key: &str) -> String {
    sha2::Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Three keys: `claude` (Anthropic profiles and Titan embeddings, with aliases, a default
/// model and a token cap), `open` (stored as its SHA-256, any model, admin) and `old`
/// (expired).
fn document() -> Value {
    json!({"keys": [
        {"name": "team-claude", "key": "sk-claude", "models": ["us.anthropic.*", TITAN_V2],
         "aliases": {"fast": MODEL}, "default_model": MODEL, "max_tokens": 50},
        {"name": "team-open", "sha256": sha256_hex("sk-open"), "admin": true},
        {"name": "team-old", "key": "sk-old", "expires": "2020-01-01T00:00:00Z"},
    ]})
}

async fn gateway() -> TestGateway {
    start_with(
        &[("API_KEY", &document().to_string())],
        EmulatorConfig::default(),
    )
    .await
}

async fn send(gw: &TestGateway, key: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/api/v1{path}", gw.url);
    let request = match body {
        Some(body) => gw.http.post(url).json(&body),
        None => gw.http.get(url),
    };
    let response = request.bearer_auth(key).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn converse_count(gw: &TestGateway) -> usize {
    emulator_calls(&gw.emulator, "converse").await["calls"]
        .as_array()
        .map_or(0, Vec::len)
}

/// The 403 for `model` under the `team-claude` key, never showing the key.
fn assert_not_allowed(status: u16, body: &Value, model: &str) {
    assert_eq!(status, 403, "{body}");
    let error = &body["error"];
    assert_eq!(error["type"], "permission_error");
    assert_eq!(error["code"], "model_not_allowed");
    assert_eq!(error["param"], "model");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(model) && message.contains("team-claude"),
        "{message}"
    );
    assert!(!body.to_string().contains("sk-claude"), "{body}");
}

#[tokio::test]
async fn a_key_uses_only_its_models_on_every_route() {
    let gw = gateway().await;

    let (status, body) = send(
        &gw,
        "sk-claude",
        "/chat/completions",
        Some(user(NOVA, "hi")),
    )
    .await;
    assert_not_allowed(status, &body, NOVA);
    let (status, body) = send(
        &gw,
        "sk-claude",
        "/responses",
        Some(json!({"model": NOVA, "input": "hi", "store": false})),
    )
    .await;
    assert_not_allowed(status, &body, NOVA);
    // Not even a model Bedrock does not know gets past the list as a 404.
    let (status, body) = send(
        &gw,
        "sk-claude",
        "/chat/completions",
        Some(user("no.such-model", "hi")),
    )
    .await;
    assert_not_allowed(status, &body, "no.such-model");
    // Legacy completions and image generation go through the same check.
    let (status, body) = send(
        &gw,
        "sk-claude",
        "/completions",
        Some(json!({"model": NOVA, "prompt": "hi"})),
    )
    .await;
    assert_not_allowed(status, &body, NOVA);
    let (status, body) = send(
        &gw,
        "sk-claude",
        "/images/generations",
        Some(json!({"model": "amazon.nova-canvas-v1:0", "prompt": "a cat"})),
    )
    .await;
    assert_not_allowed(status, &body, "amazon.nova-canvas-v1:0");
    assert_eq!(
        converse_count(&gw).await,
        0,
        "nothing refused reached Bedrock"
    );

    let (status, body) = send(
        &gw,
        "sk-claude",
        "/embeddings",
        Some(json!({"model": "amazon.titan-embed-text-v1", "input": "x"})),
    )
    .await;
    assert_not_allowed(status, &body, "amazon.titan-embed-text-v1");
    let invokes = emulator_calls(&gw.emulator, "invoke").await;
    assert_eq!(
        invokes["calls"].as_array().map_or(0, Vec::len),
        0,
        "{invokes}"
    );
    let (status, body) = send(
        &gw,
        "sk-claude",
        "/embeddings",
        Some(json!({"model": TITAN_V2, "input": "x"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Allowed: by pattern, and through a bare id the gateway routes to a `us.` profile.
    for model in [MODEL, "anthropic.claude-3-7-sonnet-20250219-v1:0"] {
        let (status, body) = send(
            &gw,
            "sk-claude",
            "/chat/completions",
            Some(user(model, "hi")),
        )
        .await;
        assert_eq!(status, 200, "{model}: {body}");
        assert!(
            last_converse_call(&gw.emulator).await["modelId"]
                .as_str()
                .unwrap()
                .starts_with("us.anthropic."),
        );
    }
    let (status, body) = send(
        &gw,
        "sk-claude",
        "/responses",
        Some(json!({"model": MODEL, "input": "hi", "store": false})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A key without a list may use anything.
    let (status, body) = send(&gw, "sk-open", "/chat/completions", Some(user(NOVA, "hi"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(last_converse_call(&gw.emulator).await["modelId"], NOVA);
}

#[tokio::test]
async fn a_key_has_its_own_aliases_default_model_and_token_cap() {
    let gw = gateway().await;
    let body = json!({"model": "fast", "max_tokens": 500,
                      "messages": [{"role": "user", "content": "hi"}]});
    let (status, answer) = send(&gw, "sk-claude", "/chat/completions", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(sent["modelId"], MODEL, "the key's alias");
    assert_eq!(sent["body"]["inferenceConfig"]["maxTokens"], 50, "capped");

    let (status, answer) = send(
        &gw,
        "sk-claude",
        "/chat/completions",
        Some(user("gpt-4o", "hi")),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(sent["modelId"], MODEL, "the key's default model");
    assert_eq!(
        sent["body"]["inferenceConfig"]["maxTokens"], 50,
        "the cap when none is asked"
    );

    let body = json!({"model": MODEL, "input": "hi", "store": false, "max_output_tokens": 20});
    let (status, answer) = send(&gw, "sk-claude", "/responses", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        sent["body"]["inferenceConfig"]["maxTokens"], 20,
        "under the cap"
    );

    // Another key does not see the alias.
    let (status, answer) = send(
        &gw,
        "sk-open",
        "/chat/completions",
        Some(user("fast", "hi")),
    )
    .await;
    assert_eq!(status, 404, "{answer}");
}

#[tokio::test]
async fn models_lists_only_what_the_key_may_use() {
    let gw = gateway().await;
    let ids = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, all) = send(&gw, "sk-open", "/models", None).await;
    assert_eq!(status, 200);
    let all = ids(&all);
    let (status, limited) = send(&gw, "sk-claude", "/models", None).await;
    assert_eq!(status, 200);
    let limited = ids(&limited);
    let expected: Vec<String> = all
        .iter()
        .filter(|id| id.starts_with("us.anthropic.") || *id == TITAN_V2)
        .cloned()
        .collect();
    assert!(expected.len() >= 2 && expected.len() < all.len(), "{all:?}");
    assert_eq!(limited, expected);

    let (status, body) = send(&gw, "sk-claude", &format!("/models/{NOVA}"), None).await;
    assert_not_allowed(status, &body, NOVA);
    let (status, body) = send(&gw, "sk-claude", &format!("/models/{MODEL}"), None).await;
    assert_eq!((status, body["id"].as_str()), (200, Some(MODEL)));
}

#[tokio::test]
async fn hashed_keys_work_and_expired_keys_get_a_401_saying_so() {
    let gw = gateway().await;
    let (status, body) = send(&gw, "sk-open", "/chat/completions", Some(user(MODEL, "hi"))).await;
    assert_eq!(status, 200, "the key whose SHA-256 is stored: {body}");
    let (status, body) = send(
        &gw,
        &sha256_hex("sk-open"),
        "/chat/completions",
        Some(user(MODEL, "hi")),
    )
    .await;
    assert_eq!(status, 401, "the digest itself is no key: {body}");

    let (status, body) = send(&gw, "sk-old", "/chat/completions", Some(user(MODEL, "hi"))).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(body["error"]["code"], "api_key_expired");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("team-old") && message.contains("expired at 2020-01-01"),
        "{message}"
    );
    assert_eq!(converse_count(&gw).await, 1);
}

#[tokio::test]
async fn usage_is_for_admin_keys_only() {
    let gw = gateway().await;
    let (status, body) = send(
        &gw,
        "sk-claude",
        "/chat/completions",
        Some(user(MODEL, "one two")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let usage = body["usage"].clone();

    let (status, body) = send(&gw, "sk-claude", "/usage", None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "admin_key_required");

    let (status, report) = send(&gw, "sk-open", "/usage", None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["object"], "usage_report");
    let rows = report["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{report}");
    assert_eq!(rows[0]["key"], "team-claude");
    assert_eq!(rows[0]["model"], MODEL);
    assert_eq!(rows[0]["requests"], 1);
    assert_eq!(
        rows[0]["input_tokens"], usage["prompt_tokens"],
        "{report} vs {usage}"
    );
    assert_eq!(rows[0]["output_tokens"], usage["completion_tokens"]);
    assert_eq!(rows[0]["total_tokens"], usage["total_tokens"]);

    let (status, body) = send(&gw, "sk-open", "/usage?from=2026-13-01", None).await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("from"))
    );
    let (status, report) = send(&gw, "sk-open", "/usage?from=2020-01-01&to=2020-01-31", None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["data"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// Bad documents, in the real binary
// ---------------------------------------------------------------------------------------------

/// Runs the binary with `env` until it exits (it must, within 30 s): (exit code, stderr lines).
pub(crate) async fn run_to_exit(env: &[(&str, &str)]) -> (Option<i32>, Vec<String>) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_bedrock-gateway"));
    command
        .env_clear()
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9")
        .env("AWS_ENDPOINT_URL_BEDROCK", "http://127.0.0.1:9")
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("the gateway exits")
        .expect("the binary runs");
    let lines = String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_string)
        .collect();
    (output.status.code(), lines)
}

#[tokio::test]
async fn an_invalid_document_stops_the_process_with_one_line() {
    let secret_in_wrong_field = json!({"keys": [
        {"name": "ok", "key": "sk-fine"},
        {"name": "bad", "key": "sk-x", "rpm": "sk-leaked-if-echoed"},
    ]});
    let (code, lines) = run_to_exit(&[("API_KEY", &secret_in_wrong_field.to_string())]).await;
    assert_eq!(code, Some(2), "{lines:#?}");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains("keys[1] (\"bad\").rpm must be a whole number"),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains("sk-"), "{}", lines[0]);

    let dir = tempdir();
    let path = dir.join("keys.json");
    std::fs::write(
        &path,
        r#"{"keys": [{"name": "a", "key": "k", "modles": ["x"]}]}"#,
    )
    .unwrap();
    let (code, lines) = run_to_exit(&[("API_KEYS_FILE", path.to_str().unwrap())]).await;
    assert_eq!(code, Some(2), "{lines:#?}");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains("API_KEYS_FILE") && lines[0].contains("unknown field `modles`"),
        "{}",
        lines[0]
    );
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "gw-keys-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The file is read again on refresh: a valid edit rotates keys, a broken one is logged and the
/// keys loaded before stay in use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_is_reread_and_a_broken_refresh_keeps_the_old_keys() {
    let dir = tempdir();
    let path = dir.join("keys.json");
    let write = |doc: &str| std::fs::write(&path, doc).unwrap();
    write(r#"{"keys": [{"name": "first", "key": "sk-first"}]}"#);
    let gateway = GatewayProcess::start(&[
        ("API_KEYS_FILE", path.to_str().unwrap()),
        ("API_KEY_CACHE_SECONDS", "1"),
        ("API_KEY_MISS_REFRESH_SECONDS", "1"),
    ])
    .await;
    let chat = |key: &'static str| {
        let request = gateway
            .http
            .post(format!("{}/api/v1/chat/completions", gateway.url))
            .bearer_auth(key)
            .json(&user(MODEL, "ping"));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(chat("sk-first").await, 200);

    write(r#"{"keys": [{"name": "second", "key": "sk-second"}]}"#);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(chat("sk-second").await, 200, "rotated in");
    assert_eq!(chat("sk-first").await, 401, "rotated out");

    write(r#"{"keys": [{"name": "third", "key": "sk-third", "rpm": -1}]}"#);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(chat("sk-second").await, 200, "the old keys stay");
    assert_eq!(
        chat("sk-third").await,
        401,
        "nothing from the broken document"
    );
    let log = gateway.log_text();
    assert!(log.contains("the key document is invalid"), "{log}");
    assert!(log.contains("keys[0] (\"third\").rpm must be"), "{log}");
    assert!(
        !log.contains("sk-second") && !log.contains("sk-third"),
        "{log}"
    );
}
