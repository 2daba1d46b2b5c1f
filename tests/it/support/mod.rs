//! Test support: the Bedrock emulator and the gateway, both real servers on loopback ports,
//! with the real AWS SDK clients in between. Tests drive the gateway over HTTP.
#![allow(dead_code)]

pub mod gateway_process;
pub mod moto;
pub mod raw_http;
pub mod responses_table;

use std::collections::HashMap;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use bedrock_emulator::{EmulatorConfig, RunningEmulator};
use bedrock_gateway::{app, config::Config, state::AppState};
use serde_json::{Value, json};

pub const KEY: &str = "test-key";
pub const MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

/// A gateway in front of its own emulator.
pub struct TestGateway {
    pub url: String,
    pub emulator: RunningEmulator,
    pub http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// SDK configuration with static credentials, pointed at `endpoint` for every service.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "static"),
            ),
        )
        .endpoint_url(endpoint)
        .build()
}

/// An HTTP client for the tests. The gateway's reqwest build brings no TLS crypto provider of
/// its own (it shares the AWS SDK's aws-lc-rs), so the process default is installed first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::new()
}

pub async fn start() -> TestGateway {
    start_with(&[], EmulatorConfig::default()).await
}

/// A gateway configured by `env` (on top of `API_KEY=test-key`) in front of a new emulator.
pub async fn start_with(env: &[(&str, &str)], emulator_config: EmulatorConfig) -> TestGateway {
    let emulator = bedrock_emulator::spawn(emulator_config)
        .await
        .expect("emulator starts");
    let mut vars: HashMap<String, String> =
        HashMap::from([("API_KEY".to_string(), KEY.to_string())]);
    for (k, v) in env {
        vars.insert(k.to_string(), v.to_string());
    }
    if vars.contains_key("API_KEY_PARAM_NAME") || vars.contains_key("API_KEY_SECRET_ARN") {
        vars.remove("API_KEY");
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("valid test config");
    let state = AppState::with_sdk_config(config, &sdk_config(&emulator.url()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = bedrock_gateway::server::serve(listener, app::router(state)).await;
    });
    TestGateway {
        url: format!("http://{addr}"),
        emulator,
        http: http_client(),
        task,
    }
}

impl TestGateway {
    /// POST `body` to `/api/v1{path}` with the test key.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1{path}", self.url))
            .bearer_auth(KEY)
            .json(body)
            .send()
            .await
            .expect("gateway answers")
    }

    /// POST a chat request and return (status, JSON body).
    pub async fn chat(&self, body: Value) -> (u16, Value) {
        let response = self.post("/chat/completions", &body).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POST a streaming chat request and return the parsed `data:` events (`[DONE]` as a string).
    pub async fn chat_stream(&self, body: Value) -> (u16, Vec<Value>) {
        let response = self.post("/chat/completions", &body).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, parse_sse(&text))
    }
}

/// The emulator's record of the calls it received for `kind` (`converse`, `invoke` or
/// `listing`), from its `GET /_emulator/calls/{kind}` control route.
pub async fn emulator_calls(emulator: &RunningEmulator, kind: &str) -> Value {
    http_client()
        .get(format!("{}/_emulator/calls/{kind}", emulator.url()))
        .send()
        .await
        .expect("the emulator answers")
        .json()
        .await
        .expect("the call log is JSON")
}

/// The last Converse or ConverseStream call the emulator received: `operation`, `modelId` and
/// the request `body` as Bedrock got it.
pub async fn last_converse_call(emulator: &RunningEmulator) -> Value {
    let log = emulator_calls(emulator, "converse").await;
    log["calls"]
        .as_array()
        .and_then(|calls| calls.last())
        .cloned()
        .expect("the emulator received a Converse call")
}

/// The `data:` payloads of an SSE body, in order.
pub fn parse_sse(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.to_string())))
        .collect()
}

/// A one-user-message chat request.
pub fn user(model: &str, text: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": text}]})
}

/// The concatenated `delta.content` of stream chunks.
pub fn streamed_text(events: &[Value]) -> String {
    events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect()
}
