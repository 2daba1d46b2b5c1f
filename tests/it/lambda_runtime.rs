//! The real `bedrock-gateway` binary under a fake Lambda Runtime API.
//!
//! The test plays the part of the Lambda service: it serves the Runtime API on a loopback port
//! (`/next` hands out queued events, `/response` and `/error` record what the function posts,
//! chunk by chunk with arrival times), starts the Bedrock emulator in-process, and runs the
//! compiled binary as a child process pointed at both. Every file in `events/` is fed to it and
//! the response document is checked the way its trigger would read it: an ALB needs a buffered
//! `statusCode`/`headers`/`body` document, a Function URL in RESPONSE_STREAM mode reads a
//! JSON prelude, eight NUL bytes, then the body as it is produced; an API Gateway REST API
//! reads the same stream when its stage streams (`rest-*.json` with the `responseTransferMode`
//! stage variable), else a buffered payload 1.0 document (`rest-*-buffered.json`).
//!
//! `BEDROCK_GATEWAY_BOOTSTRAP=path` runs these tests against another build of the binary, such
//! as the `bootstrap` of a release zip (`make test-release` does).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bedrock_emulator::{EmulatorConfig, RunningEmulator};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;
use tokio::sync::{Mutex, mpsc, oneshot};

const KEY: &str = "test-key";
/// Claude 3.5 Haiku is profile-only: listed (and retrieved) by its `us.` profile.
const CHAT_MODEL: &str = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
/// Long enough for a debug build on a loaded machine; a hang still fails instead of blocking.
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(60);
/// Separates a streamed response's JSON prelude from its body.
const PRELUDE_END: &[u8] = &[0; 8];

// ---------------------------------------------------------------------------------------------
// The fake Runtime API
// ---------------------------------------------------------------------------------------------

/// What the function posted for one invocation.
#[derive(Debug)]
struct Outcome {
    /// `/response` (true) or `/error` (false).
    ok: bool,
    headers: HeaderMap,
    /// When the POST's headers arrived.
    started: Instant,
    /// The body as it arrived, frame by frame.
    chunks: Vec<(Instant, Bytes)>,
}

impl Outcome {
    fn body(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|(_, c)| c.to_vec()).collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn streaming(&self) -> bool {
        self.header("lambda-runtime-function-response-mode") == Some("streaming")
    }
}

struct RuntimeState {
    /// Queued invocations: request id, event, and the time the invocation gets (ms).
    events: Mutex<mpsc::UnboundedReceiver<(String, String, u64)>>,
    waiting: StdMutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_errors: StdMutex<Vec<String>>,
}

/// A Runtime API server on a loopback port.
struct FakeRuntime {
    addr: SocketAddr,
    state: Arc<RuntimeState>,
    queue: mpsc::UnboundedSender<(String, String, u64)>,
    next_id: StdMutex<u64>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeRuntime {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeRuntime {
    async fn start() -> FakeRuntime {
        let (queue, events) = mpsc::unbounded_channel();
        let state = Arc::new(RuntimeState {
            events: Mutex::new(events),
            waiting: StdMutex::new(HashMap::new()),
            init_errors: StdMutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(invocation_response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(invocation_error),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeRuntime {
            addr,
            state,
            queue,
            next_id: StdMutex::new(0),
            server,
        }
    }

    /// Queues `event` with `budget_ms` before its deadline and waits for what the function
    /// posts back.
    async fn invoke(&self, event: &str, budget_ms: u64) -> Outcome {
        let id = {
            let mut n = self.next_id.lock().unwrap();
            *n += 1;
            format!("8476a536-e9f4-11e8-9739-{:012x}", *n)
        };
        let (tx, rx) = oneshot::channel();
        self.state.waiting.lock().unwrap().insert(id.clone(), tx);
        self.queue
            .send((id.clone(), event.to_string(), budget_ms))
            .unwrap();
        match tokio::time::timeout(INVOCATION_TIMEOUT, rx).await {
            Ok(Ok(outcome)) => outcome,
            _ => panic!(
                "invocation {id} got no response within {INVOCATION_TIMEOUT:?}; init errors: {:?}",
                self.state.init_errors.lock().unwrap()
            ),
        }
    }
}

async fn next_invocation(State(state): State<Arc<RuntimeState>>) -> Response {
    let Some((id, event, budget_ms)) = state.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + u128::from(budget_ms);
    Response::builder()
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &id)
        .header("lambda-runtime-deadline-ms", deadline.to_string())
        .header(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:bedrock-gateway",
        )
        .header(
            "lambda-runtime-trace-id",
            "Root=1-67891234-0123456789abcdef01234567;Parent=1234567890abcdef;Sampled=0",
        )
        .body(Body::from(event))
        .unwrap()
}

async fn record(state: &RuntimeState, id: &str, ok: bool, headers: HeaderMap, body: Body) {
    let started = Instant::now();
    let mut chunks = Vec::new();
    let mut frames = body.into_data_stream();
    while let Some(Ok(chunk)) = frames.next().await {
        chunks.push((Instant::now(), chunk));
    }
    if let Some(waiter) = state.waiting.lock().unwrap().remove(id) {
        let _ = waiter.send(Outcome {
            ok,
            headers,
            started,
            chunks,
        });
    }
}

async fn invocation_response(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> impl IntoResponse {
    record(&state, &id, true, headers, body).await;
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn invocation_error(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> impl IntoResponse {
    record(&state, &id, false, headers, body).await;
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn init_error(State(state): State<Arc<RuntimeState>>, body: String) -> impl IntoResponse {
    state.init_errors.lock().unwrap().push(body);
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

// ---------------------------------------------------------------------------------------------
// The function: the real binary, as Lambda would start it
// ---------------------------------------------------------------------------------------------

struct Function {
    runtime: FakeRuntime,
    _emulator: RunningEmulator,
    child: tokio::process::Child,
    log: Arc<StdMutex<Vec<String>>>,
}

impl Function {
    async fn start() -> Function {
        let emulator = bedrock_emulator::spawn(EmulatorConfig::default())
            .await
            .expect("emulator starts");
        let runtime = FakeRuntime::start().await;
        let binary = std::env::var("BEDROCK_GATEWAY_BOOTSTRAP")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_bedrock-gateway").to_string());
        let mut child = tokio::process::Command::new(binary)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "bedrock-gateway")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bedrock-gateway")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/24/[$LATEST]0123456789abcdef",
            )
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url())
            .env("AWS_ENDPOINT_URL_BEDROCK", emulator.url())
            .env("API_KEY", KEY)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the bedrock-gateway binary starts");
        let log = Arc::new(StdMutex::new(Vec::new()));
        for output in [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child
                .stderr
                .take()
                .map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(output).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(line);
                }
            });
        }
        Function {
            runtime,
            _emulator: emulator,
            child,
            log,
        }
    }

    async fn invoke(&mut self, event: &Value) -> Outcome {
        self.invoke_within(event, 900_000).await
    }

    /// Invokes with a Lambda deadline `budget_ms` away.
    async fn invoke_within(&mut self, event: &Value, budget_ms: u64) -> Outcome {
        let outcome = self.runtime.invoke(&event.to_string(), budget_ms).await;
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "the function exited ({status}) while handling {event}; its log:\n{}",
                self.log.lock().unwrap().join("\n")
            );
        }
        outcome
    }

    /// The function is still running and never reported an init error.
    fn assert_healthy(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the function exited; its log:\n{}",
            self.log.lock().unwrap().join("\n")
        );
        assert!(self.runtime.state.init_errors.lock().unwrap().is_empty());
        let log = self.log.lock().unwrap();
        assert!(
            !log.iter().any(|l| l.contains("panicked")),
            "the function panicked:\n{}",
            log.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Reading events and responses
// ---------------------------------------------------------------------------------------------

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

fn sample(name: &str) -> Value {
    let path = events_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn is_alb(event: &Value) -> bool {
    event["requestContext"].get("elb").is_some()
}

/// An API Gateway REST API (payload 1.0) event.
fn is_rest(event: &Value) -> bool {
    !is_alb(event) && event.get("httpMethod").is_some()
}

/// A REST API event from a stage whose integration streams.
fn is_streamed_rest(event: &Value) -> bool {
    is_rest(event) && event["stageVariables"]["responseTransferMode"] == "STREAM"
}

/// The HTTP request an event describes: (method, path, decoded body).
fn request_of(event: &Value) -> (String, String, Vec<u8>) {
    let (method, path) = if is_alb(event) || is_rest(event) {
        (&event["httpMethod"], &event["path"])
    } else {
        (
            &event["requestContext"]["http"]["method"],
            &event["rawPath"],
        )
    };
    let body = event["body"].as_str().unwrap_or("");
    let body = if event["isBase64Encoded"] == true {
        BASE64.decode(body).expect("valid base64 in the event")
    } else {
        body.as_bytes().to_vec()
    };
    (
        method.as_str().unwrap().to_string(),
        path.as_str().unwrap().to_string(),
        body,
    )
}

/// Replaces the JSON body of an event (re-encoding it if the event is base64).
fn with_body(mut event: Value, body: &Value) -> Value {
    let text = body.to_string();
    event["body"] = if event["isBase64Encoded"] == true {
        Value::String(BASE64.encode(&text))
    } else {
        Value::String(text)
    };
    for headers in ["headers", "multiValueHeaders"] {
        if let Some(map) = event.get_mut(headers).and_then(Value::as_object_mut) {
            map.remove("content-length");
        }
    }
    event
}

/// Sets a request header in whichever header style the event uses (both, for a REST API
/// event, which carries both).
fn with_header(mut event: Value, name: &str, value: &str) -> Value {
    if let Some(map) = event
        .get_mut("multiValueHeaders")
        .and_then(Value::as_object_mut)
    {
        map.insert(name.into(), json!([value]));
    }
    if event.get("multiValueHeaders").is_none() || is_rest(&event) {
        event["headers"][name] = json!(value);
    }
    event
}

/// The HTTP response a client of the trigger would see.
#[derive(Debug)]
struct HttpReply {
    status: u16,
    headers: BTreeMap<String, Vec<String>>,
    body: Vec<u8>,
}

impl HttpReply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
}

/// Checks the outcome is a well-formed ALB document in the event's header style and returns
/// what the ALB would send its client.
fn alb_reply(event: &Value, outcome: &Outcome) -> HttpReply {
    assert!(outcome.ok, "the function reported an error: {outcome:?}");
    assert!(
        !outcome.streaming(),
        "an ALB invocation must be answered buffered, not streamed"
    );
    let doc: Value = serde_json::from_slice(&outcome.body()).expect("ALB document is JSON");
    let status = doc["statusCode"].as_u64().expect("statusCode") as u16;
    let reason = StatusCode::from_u16(status)
        .unwrap()
        .canonical_reason()
        .unwrap();
    assert_eq!(doc["statusDescription"], format!("{status} {reason}"));
    let multi_value = event.get("multiValueHeaders").is_some();
    let headers: BTreeMap<String, Vec<String>> = if multi_value {
        assert!(
            doc.get("headers").is_none(),
            "multi-value event answered with single-value headers: {doc}"
        );
        serde_json::from_value(doc["multiValueHeaders"].clone()).expect("multiValueHeaders")
    } else {
        assert!(
            doc.get("multiValueHeaders").is_none(),
            "single-value event answered with multiValueHeaders: {doc}"
        );
        let single: BTreeMap<String, String> =
            serde_json::from_value(doc["headers"].clone()).expect("headers");
        single.into_iter().map(|(k, v)| (k, vec![v])).collect()
    };
    assert!(
        !headers.contains_key("content-length"),
        "the ALB sets content-length itself"
    );
    let text = doc["body"].as_str().expect("body is a string");
    let body = if doc["isBase64Encoded"] == true {
        BASE64.decode(text).expect("base64 body")
    } else {
        assert_eq!(doc["isBase64Encoded"], false);
        text.as_bytes().to_vec()
    };
    HttpReply {
        status,
        headers,
        body,
    }
}

/// Checks the outcome is a Function URL stream (prelude, eight NULs, body) and returns what
/// the Function URL would send its client.
fn url_reply(outcome: &Outcome) -> HttpReply {
    assert!(outcome.ok, "the function reported an error: {outcome:?}");
    assert!(
        outcome.streaming(),
        "a Function URL invocation must be streamed; headers: {:?}",
        outcome.headers
    );
    assert_eq!(
        outcome.header("content-type"),
        Some("application/vnd.awslambda.http-integration-response")
    );
    let all = outcome.body();
    let split = all
        .windows(PRELUDE_END.len())
        .position(|w| w == PRELUDE_END)
        .expect("a JSON prelude followed by 8 NUL bytes");
    let prelude: Value = serde_json::from_slice(&all[..split]).expect("prelude is JSON");
    let body = all[split + PRELUDE_END.len()..].to_vec();
    assert!(
        !String::from_utf8_lossy(&body).contains("Lambda-Runtime-Function-Error"),
        "the body stream failed: {}",
        String::from_utf8_lossy(&body)
    );
    let headers = prelude["headers"]
        .as_object()
        .expect("prelude headers")
        .iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                vec![v.as_str().unwrap().to_string()],
            )
        })
        .collect();
    HttpReply {
        status: prelude["statusCode"].as_u64().expect("statusCode") as u16,
        headers,
        body,
    }
}

/// Checks the outcome is a buffered API Gateway payload 1.0 document (every header in
/// `multiValueHeaders`) and returns what API Gateway would send its client.
fn rest_reply(outcome: &Outcome) -> HttpReply {
    assert!(outcome.ok, "the function reported an error: {outcome:?}");
    assert!(
        !outcome.streaming(),
        "a buffered REST integration cannot read a stream"
    );
    let doc: Value = serde_json::from_slice(&outcome.body()).expect("1.0 document is JSON");
    assert_eq!(doc["headers"], json!({}), "{doc}");
    assert!(
        doc.get("cookies").is_none(),
        "payload 1.0 has no cookies: {doc}"
    );
    let headers: BTreeMap<String, Vec<String>> =
        serde_json::from_value(doc["multiValueHeaders"].clone()).expect("multiValueHeaders");
    let text = doc["body"].as_str().expect("body is a string");
    let body = if doc["isBase64Encoded"] == true {
        BASE64.decode(text).expect("base64 body")
    } else {
        text.as_bytes().to_vec()
    };
    HttpReply {
        status: doc["statusCode"].as_u64().expect("statusCode") as u16,
        headers,
        body,
    }
}

fn reply(event: &Value, outcome: &Outcome) -> HttpReply {
    if is_alb(event) {
        alb_reply(event, outcome)
    } else if is_rest(event) && !is_streamed_rest(event) {
        rest_reply(outcome)
    } else {
        url_reply(outcome)
    }
}

/// The `data:` payloads of an SSE body (`[DONE]` as a string).
fn sse_events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.into())))
        .collect()
}

/// What the emulator answers to a chat: the last user text, whitespace collapsed.
fn echoed(chat_request: &Value) -> String {
    let messages = chat_request["messages"].as_array().unwrap();
    let text = messages.last().unwrap()["content"].as_str().unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_openai_error(reply: &HttpReply, status: u16, message_part: &str) {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let error = &reply.json()["error"];
    for field in ["message", "type", "param", "code"] {
        assert!(
            error.get(field).is_some(),
            "error without `{field}`: {error}"
        );
    }
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(message_part),
        "`{message}` does not mention `{message_part}`"
    );
}

/// Checks a successful reply for the route the event called.
fn assert_route_answered(name: &str, event: &Value, reply: &HttpReply) {
    let (method, path, body) = request_of(event);
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert_eq!(
        reply.status,
        200,
        "{name}: {method} {path} -> {}",
        String::from_utf8_lossy(&reply.body)
    );
    let content_type = reply.header("content-type").unwrap_or("");
    let api_path = path
        .strip_prefix("/api/v1")
        .unwrap_or_else(|| panic!("{name}: no expectation for {path}"));
    match (method.as_str(), api_path) {
        _ if path == "/health" => unreachable!(),
        ("POST", "/chat/completions") if request["stream"] == true => {
            assert_eq!(content_type, "text/event-stream", "{name}");
            let events = sse_events(&reply.text());
            assert_eq!(events.last(), Some(&json!("[DONE]")), "{name}: {events:?}");
            let text: String = events
                .iter()
                .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
                .collect();
            assert_eq!(text, echoed(&request), "{name}");
            assert!(
                events.iter().all(|e| e.get("error").is_none()),
                "{name}: {events:?}"
            );
        }
        ("POST", "/chat/completions") => {
            assert!(content_type.starts_with("application/json"), "{name}");
            let completion = reply.json();
            assert_eq!(completion["object"], "chat.completion", "{name}");
            assert_eq!(
                completion["choices"][0]["message"]["content"],
                echoed(&request),
                "{name}"
            );
            assert_eq!(completion["choices"][0]["finish_reason"], "stop", "{name}");
        }
        ("GET", "/models") => {
            let list = reply.json();
            assert_eq!(list["object"], "list", "{name}: {list}");
            let data = list["data"].as_array().expect("data");
            assert!(
                data.iter().any(|m| m["id"] == CHAT_MODEL),
                "{name}: {CHAT_MODEL} not listed"
            );
            assert!(data.iter().all(|m| m["object"] == "model"), "{name}");
        }
        ("GET", id_path) if id_path.starts_with("/models/") => {
            let model = reply.json();
            assert_eq!(model["object"], "model", "{name}: {model}");
            assert_eq!(model["id"], &id_path["/models/".len()..], "{name}");
            assert!(model["owned_by"].is_string(), "{name}");
        }
        ("POST", "/embeddings") => {
            let list = reply.json();
            assert_eq!(list["object"], "list", "{name}: {list}");
            let inputs = match &request["input"] {
                Value::Array(items) => items.len(),
                _ => 1,
            };
            let data = list["data"].as_array().expect("data");
            assert_eq!(data.len(), inputs, "{name}");
            for (i, item) in data.iter().enumerate() {
                assert_eq!(item["object"], "embedding", "{name}");
                assert_eq!(item["index"], i, "{name}");
                let vector = item["embedding"].as_array().expect("embedding");
                assert!(
                    !vector.is_empty() && vector.iter().all(Value::is_f64),
                    "{name}"
                );
            }
            assert!(list["usage"]["prompt_tokens"].is_u64(), "{name}");
        }
        _ => panic!("{name}: no expectation for {method} {path}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_event_gets_the_response_its_trigger_expects() {
    let mut function = Function::start().await;
    let mut names: Vec<String> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 12, "events/ is missing samples: {names:?}");
    let (mut alb, mut url, mut rest, mut rest_streamed) = (0, 0, 0, 0);
    for name in &names {
        let event = sample(name);
        let outcome = function.invoke(&event).await;
        let reply = reply(&event, &outcome);
        if is_alb(&event) {
            alb += 1;
        } else if is_streamed_rest(&event) {
            rest_streamed += 1;
        } else if is_rest(&event) {
            rest += 1;
        } else {
            url += 1;
        }
        let (_, path, _) = request_of(&event);
        if path == "/health" {
            assert_eq!(reply.status, 200, "{name}");
            assert_eq!(reply.json()["status"], "ok", "{name}");
        } else {
            assert_route_answered(name, &event, &reply);
        }
        println!("{name}: {} ok", reply.status);
    }
    assert!(
        alb > 0 && url > 0 && rest > 0 && rest_streamed > 0,
        "events/ needs ALB, Function URL and REST API (buffered and streamed) samples"
    );
    function.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_url_streams_chunks_as_the_model_produces_them() {
    assert_streams_chunks_as_the_model_produces_them("url-chat-stream.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_gateway_rest_streams_chunks_as_the_model_produces_them() {
    assert_streams_chunks_as_the_model_produces_them("rest-chat-stream.json").await;
}

/// The same REST event from a stage that does not stream gets the whole answer as one
/// payload 1.0 document, SSE body included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_gateway_rest_without_the_stream_stage_variable_gets_a_buffered_document() {
    let mut function = Function::start().await;
    let mut event = sample("rest-chat-stream.json");
    event["stageVariables"] = Value::Null;
    let outcome = function.invoke(&event).await;
    let reply = rest_reply(&outcome);
    assert_route_answered("rest-chat-stream.json (buffered)", &event, &reply);
    // A wrong key: the gateway's own 401, in the same document.
    let event = with_header(
        sample("rest-models-buffered.json"),
        "authorization",
        "Bearer nope",
    );
    let reply = rest_reply(&function.invoke(&event).await);
    assert_openai_error(&reply, 401, "");
    function.assert_healthy();
}

async fn assert_streams_chunks_as_the_model_produces_them(sample_name: &str) {
    let mut function = Function::start().await;
    let mut event = sample(sample_name);
    let (_, _, body) = request_of(&event);
    let mut request: Value = serde_json::from_slice(&body).unwrap();
    request["messages"][0]["content"] =
        json!("one two three four five six seven eight [[slowstream:100]]");
    event = with_body(event, &request);
    let outcome = function.invoke(&event).await;
    let reply = url_reply(&outcome);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let events = sse_events(&reply.text());
    let text: String = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "one two three four five six seven eight");

    // The body arrived as several chunks spread over the time the model took, not at once.
    let data_chunks: Vec<Instant> = outcome
        .chunks
        .iter()
        .filter(|(_, c)| c.windows(6).any(|w| w == b"data: "))
        .map(|(at, _)| *at)
        .collect();
    assert!(
        data_chunks.len() >= 4,
        "expected the SSE events in separate chunks, got {} chunks",
        data_chunks.len()
    );
    let first = data_chunks[0];
    let last = *data_chunks.last().unwrap();
    println!(
        "streamed {} SSE chunks over {:?}",
        data_chunks.len(),
        last - first
    );
    assert!(
        last - first >= Duration::from_millis(400),
        "chunks arrived within {:?} of each other: buffered, not streamed",
        last - first
    );
    assert!(first >= outcome.started);
    function.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_gets_a_401_document_on_both_triggers() {
    let mut function = Function::start().await;
    for name in ["alb-chat.json", "alb-chat-stream.json", "url-chat.json"] {
        let event = with_header(sample(name), "authorization", "Bearer not-the-key");
        let reply = reply(&event, &function.invoke(&event).await);
        assert_openai_error(&reply, 401, "Incorrect API key");
        assert_eq!(reply.json()["error"]["type"], "authentication_error");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{name}");
    }
    let mut missing = sample("alb-models.json");
    missing["multiValueHeaders"]
        .as_object_mut()
        .unwrap()
        .remove("authorization");
    let reply = reply(&missing, &function.invoke(&missing).await);
    assert_openai_error(&reply, 401, "Missing API key");
    function.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bedrock_failure_mid_stream_ends_with_an_sse_error_event() {
    let mut function = Function::start().await;
    for name in ["url-chat-stream.json", "alb-chat-stream.json"] {
        let mut event = sample(name);
        let (_, _, body) = request_of(&event);
        let mut request: Value = serde_json::from_slice(&body).unwrap();
        request["messages"][0]["content"] =
            json!("this answer breaks off half way [[fault:midstream]]");
        event = with_body(event, &request);
        let started = Instant::now();
        let reply = reply(&event, &function.invoke(&event).await);
        assert!(started.elapsed() < Duration::from_secs(30), "{name} hung");
        // The stream had started, so the status is 200 and the failure is an SSE event.
        assert_eq!(reply.status, 200, "{name}");
        assert_eq!(reply.header("content-type"), Some("text/event-stream"));
        let events = sse_events(&reply.text());
        let error = events
            .iter()
            .find_map(|e| e.get("error"))
            .unwrap_or_else(|| panic!("{name}: no error event in {events:?}"));
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(error.get("type").is_some());
        assert!(
            !events.iter().any(|e| e == "[DONE]"),
            "{name}: a failed stream must not claim success with [DONE]"
        );
    }
    function.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alb_responses_over_1_mb_become_a_413_the_client_can_act_on() {
    let mut function = Function::start().await;
    let base = sample("alb-chat.json");
    let (_, _, body) = request_of(&base);
    let mut request: Value = serde_json::from_slice(&body).unwrap();
    request.as_object_mut().unwrap().remove("max_tokens");

    // Quotes are escaped twice on the way out (in the completion JSON, then in the ALB
    // document's body string): 200k of them fit in 1 MB, 300k do not, though the request
    // (escaped once) stays under the ALB's 1 MB request limit either way.
    request["messages"][0]["content"] = json!("\"".repeat(200_000));
    let event = with_body(base.clone(), &request);
    let outcome = function.invoke(&event).await;
    assert!(outcome.body().len() <= 1_000_000);
    let reply = alb_reply(&event, &outcome);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .len(),
        200_000
    );

    request["messages"][0]["content"] = json!("\"".repeat(300_000));
    let event = with_body(base.clone(), &request);
    assert!(request_of(&event).2.len() < 1024 * 1024);
    let outcome = function.invoke(&event).await;
    assert!(outcome.body().len() < 10_000, "the 413 replaces the body");
    let reply = alb_reply(&event, &outcome);
    assert_openai_error(&reply, 413, "1 MB");
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("Function URL") && message.contains("encoding_format"));
    assert_eq!(reply.json()["error"]["code"], "response_too_large");

    // The same request through the Function URL streams the whole answer.
    let url_event = with_body(sample("url-chat.json"), &request);
    let reply = url_reply(&function.invoke(&url_event).await);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .len(),
        300_000
    );
    function.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alb_requests_over_1_mb_get_a_413_like_the_alb_itself_gives() {
    let mut function = Function::start().await;
    let big = json!({
        "model": CHAT_MODEL,
        "messages": [{"role": "user", "content": "x".repeat(1024 * 1024)}],
    });
    for name in [
        "alb-chat.json",
        "alb-chat-base64.json",
        "alb-chat-stream.json",
    ] {
        let event = with_body(sample(name), &big);
        let reply = alb_reply(&event, &function.invoke(&event).await);
        assert_openai_error(&reply, 413, "1 MB");
        assert_eq!(reply.json()["error"]["code"], "request_too_large", "{name}");
    }
    // A Function URL takes up to 6 MB, so the same request goes through there.
    let event = with_body(sample("url-chat.json"), &big);
    let reply = url_reply(&function.invoke(&event).await);
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    function.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_events_get_errors_without_killing_the_function() {
    let mut function = Function::start().await;

    // Invalid base64 would make lambda_http panic (and abort, in release builds).
    let mut event = sample("alb-chat-base64.json");
    event["body"] = json!("%%% not base64 %%%");
    let reply = alb_reply(&event, &function.invoke(&event).await);
    assert_openai_error(&reply, 400, "base64");

    // So would a Host header the url crate cannot parse; the router does not need it.
    let event = with_header(sample("alb-health.json"), "host", "example.com:99999");
    let reply = alb_reply(&event, &function.invoke(&event).await);
    assert_eq!(reply.status, 200);

    // Not an HTTP event at all: the runtime's error endpoint gets a description.
    let outcome = function
        .invoke(&json!({"detail-type": "Scheduled Event"}))
        .await;
    assert!(
        !outcome.ok,
        "a non-HTTP event must be reported as an invocation error"
    );
    assert!(!outcome.body().is_empty());

    // An unknown route is an OpenAI 404, not an empty body.
    let mut event = sample("url-health.json");
    event["rawPath"] = json!("/nope");
    event["requestContext"]["http"]["path"] = json!("/nope");
    let reply = url_reply(&function.invoke(&event).await);
    assert_openai_error(&reply, 404, "/nope");

    // Still serving after all that.
    let event = sample("alb-health.json");
    let reply = alb_reply(&event, &function.invoke(&event).await);
    assert_eq!(reply.status, 200);
    function.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_that_would_outlive_the_lambda_deadline_end_in_time_with_an_error() {
    let mut function = Function::start().await;
    // Buffered (ALB): a 504 document before Lambda would kill the invocation.
    let event = sample("alb-chat.json");
    let (_, _, body) = request_of(&event);
    let mut request: Value = serde_json::from_slice(&body).unwrap();
    request["messages"][0]["content"] = json!("slow [[delay:8000]]");
    let event = with_body(event, &request);
    let started = Instant::now();
    let buffered = reply(&event, &function.invoke_within(&event, 3000).await);
    assert!(
        started.elapsed() < Duration::from_millis(2800),
        "answered before the deadline"
    );
    assert_openai_error(&buffered, 504, "Lambda timeout");
    // Streamed (Function URL): the stream ends with an SSE error event instead of being cut.
    let event = sample("url-chat-stream.json");
    let (_, _, body) = request_of(&event);
    let mut request: Value = serde_json::from_slice(&body).unwrap();
    request["messages"][0]["content"] =
        json!("one two three four five six seven [[slowstream:600]]");
    let event = with_body(event, &request);
    let started = Instant::now();
    let streamed = reply(&event, &function.invoke_within(&event, 3000).await);
    assert!(started.elapsed() < Duration::from_millis(2800));
    assert_eq!(streamed.status, 200);
    let events = sse_events(&streamed.text());
    let last = events.last().unwrap();
    assert_eq!(last["error"]["code"], "lambda_timeout", "{events:?}");
    assert!(!events.iter().any(|e| e == "[DONE]"));
    function.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_gateway_http_api_events_get_a_buffered_document() {
    let mut function = Function::start().await;
    for name in ["url-health.json", "url-chat-stream.json"] {
        let mut event = sample(name);
        event["requestContext"]["domainName"] = json!("abc123.execute-api.us-east-1.amazonaws.com");
        event["headers"]["host"] = json!("abc123.execute-api.us-east-1.amazonaws.com");
        let outcome = function.invoke(&event).await;
        assert!(outcome.ok, "{outcome:?}");
        assert!(
            !outcome.streaming(),
            "{name}: API Gateway cannot take a stream"
        );
        let document: Value = serde_json::from_slice(&outcome.body()).expect("a JSON document");
        assert_eq!(document["statusCode"], 200, "{name}: {document}");
        assert!(document["cookies"].is_array());
        let body = document["body"].as_str().unwrap();
        if name.contains("stream") {
            assert_eq!(document["headers"]["content-type"], "text/event-stream");
            assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
        } else {
            assert!(body.contains("\"status\":\"ok\""), "{body}");
        }
    }
    function.assert_healthy();
}

/// Host headers that a naive host check lets through but that `lambda_http` 1.3.2 cannot build
/// a URI from; before the sanitiser (src/lambda/sanitize.rs) each one panicked the conversion,
/// which in the release build aborts the process.
const UNPARSABLE_HOSTS: &[&str] = &[
    "1.2.3.999",
    "256.0.0.1",
    "99999999999",
    "1.2.3.4.5",
    "0x100000000",
    "xn--zz",
    "example.xn--a",
    "example.com:99999",
    "a{b",
];

/// The document an API Gateway HTTP API gets: (status, body).
fn http_api_reply(outcome: &Outcome) -> (u64, Value) {
    assert!(outcome.ok, "the function reported an error: {outcome:?}");
    assert!(!outcome.streaming(), "API Gateway cannot take a stream");
    let document: Value = serde_json::from_slice(&outcome.body()).expect("a JSON document");
    let body = serde_json::from_str(document["body"].as_str().unwrap()).unwrap_or(Value::Null);
    (document["statusCode"].as_u64().unwrap(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparsable_hosts_and_empty_query_lists_are_answered_and_the_function_lives_on() {
    let mut function = Function::start().await;
    let healthy = |reply: &HttpReply, what: &str| {
        assert_eq!(reply.status, 200, "{what}: {}", reply.text());
        assert_eq!(reply.json()["status"], "ok", "{what}");
    };
    for host in UNPARSABLE_HOSTS {
        // ALB, single-value headers (the style lambda_http builds the URI from).
        let event = with_header(sample("alb-health.json"), "host", host);
        healthy(&alb_reply(&event, &function.invoke(&event).await), host);
        // An authenticated route behind the same Host still reaches Bedrock.
        let event = with_header(sample("alb-model.json"), "host", host);
        let reply = alb_reply(&event, &function.invoke(&event).await);
        assert_route_answered("alb-model.json", &event, &reply);
        // Function URL.
        let mut event = sample("url-health.json");
        event["headers"]["host"] = json!(host);
        healthy(&url_reply(&function.invoke(&event).await), host);
        // API Gateway HTTP API, with the Host header and as its domain name.
        let mut event = sample("url-health.json");
        event["requestContext"]["domainName"] = json!("abc.execute-api.us-east-1.amazonaws.com");
        event["headers"]["host"] = json!(host);
        let (status, body) = http_api_reply(&function.invoke(&event).await);
        assert_eq!((status, &body["status"]), (200, &json!("ok")), "{host}");
    }

    // ALB query parameters with an empty value list, in both styles.
    let mut event = sample("alb-models.json");
    event["multiValueQueryStringParameters"] = json!({"a": [], "b": ["1", "2"]});
    let reply = alb_reply(&event, &function.invoke(&event).await);
    assert_route_answered("alb-models.json", &event, &reply);
    let mut event = sample("alb-health.json");
    event["queryStringParameters"] = json!({"a": []});
    healthy(
        &alb_reply(&event, &function.invoke(&event).await),
        "{a: []}",
    );

    // A URI longer than an http::Uri can hold: an OpenAI 414, not a crash.
    let mut event = sample("url-health.json");
    event["rawQueryString"] = json!(format!("q={}", "a".repeat(70_000)));
    let reply = url_reply(&function.invoke(&event).await);
    assert_openai_error(&reply, 414, "65534");

    // And the next, ordinary invocation is answered by the same process.
    let event = sample("alb-health.json");
    healthy(&alb_reply(&event, &function.invoke(&event).await), "after");
    function.assert_healthy();
}

/// The chat sample events re-aimed at `/api/v1/responses` with a Responses body.
fn responses_event(name: &str, body: &Value) -> Value {
    let mut event = with_body(sample(name), body);
    if is_alb(&event) {
        event["path"] = json!("/api/v1/responses");
    } else {
        event["rawPath"] = json!("/api/v1/responses");
        event["requestContext"]["http"]["path"] = json!("/api/v1/responses");
    }
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responses_request_is_buffered_for_alb_and_streamed_for_a_function_url() {
    let mut function = Function::start().await;
    let (_, _, chat) = request_of(&sample("alb-chat.json"));
    let model = serde_json::from_slice::<Value>(&chat).unwrap()["model"].clone();

    let event = responses_event(
        "alb-chat.json",
        &json!({"model": model, "input": "hello from the load balancer"}),
    );
    let reply = reply(&event, &function.invoke(&event).await);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let response = reply.json();
    assert_eq!(response["object"], "response");
    assert_eq!(
        response["output"][0]["content"][0]["text"],
        "hello from the load balancer"
    );

    let event = responses_event(
        "url-chat-stream.json",
        &json!({"model": model, "stream": true,
                "input": "one two three four five six [[slowstream:100]]"}),
    );
    let outcome = function.invoke(&event).await;
    let reply = url_reply(&outcome);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let text = reply.text();
    let events: Vec<Value> = text
        .split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let streamed: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .filter_map(|e| e["delta"].as_str())
        .collect();
    assert_eq!(streamed, "one two three four five six");
    assert_eq!(events.last().unwrap()["type"], "response.completed");
    // Streamed: the deltas arrived in separate chunks spread over the model's time.
    let delta_chunks: Vec<Instant> = outcome
        .chunks
        .iter()
        .filter(|(_, c)| c.windows(17).any(|w| w == b"output_text.delta"))
        .map(|(at, _)| *at)
        .collect();
    assert!(delta_chunks.len() >= 4, "{} chunks", delta_chunks.len());
    assert!(*delta_chunks.last().unwrap() - delta_chunks[0] >= Duration::from_millis(300));
    function.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_lambda_the_request_line_is_json_with_the_invocation_and_trace_ids() {
    // LOG_FORMAT is not set: JSON is the default on Lambda. (docs/operations.md)
    let mut function = Function::start().await;
    let event = sample("alb-chat.json");
    let reply = reply(&event, &function.invoke(&event).await);
    assert_eq!(reply.status, 200);
    let mut line = None;
    for _ in 0..500 {
        line = function
            .log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["message"] == "request");
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let line = line.unwrap_or_else(|| {
        panic!(
            "no JSON request line:\n{}",
            function.log.lock().unwrap().join("\n")
        )
    });
    let request_id = line["request_id"].as_str().expect("Lambda's request id");
    assert!(request_id.starts_with("8476a536-e9f4-11e8-9739-"), "{line}");
    assert_eq!(line["trace_id"], "Root=1-67891234-0123456789abcdef01234567");
    assert_eq!(line["route"], "/chat/completions");
    assert_eq!(line["status"], 200);
    assert!(line["_aws"]["CloudWatchMetrics"].is_array(), "{line}");
    function.assert_healthy();
}
