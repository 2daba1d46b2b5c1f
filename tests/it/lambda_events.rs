//! Property test: every ALB, Function URL, API Gateway HTTP API and API Gateway REST API
//! (buffered or streamed stage) event Lambda could deliver gets a well-formed answer from the
//! Lambda adapter, and none makes it panic.
//!
//! Events are generated (hosts that are and are not valid, paths, single- and multi-value
//! queries with empty value lists, headers in both ALB styles, bodies plain and base64, valid
//! or not) and fed through `bedrock_gateway::lambda::invoke`, the function the binary runs for
//! every invocation, with the real router in front of the Bedrock emulator. A panic anywhere
//! in the conversion (in release builds, `panic = "abort"` would kill the function) fails the
//! test, and proptest shrinks the event to a minimal one.
//!
//! CI runs a short budget with a fixed seed. A longer run, with a new seed each time:
//! `PROPTEST_CASES=100000 PROPTEST_RNG_SEED=$RANDOM cargo test --release --test it lambda_events::`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bedrock_emulator::{EmulatorConfig, RunningEmulator};
use bedrock_gateway::lambda::{BufferedDocument, invoke};
use futures_util::StreamExt;
use lambda_http::request::LambdaRequest;
use lambda_runtime::{Context, FunctionResponse, LambdaEvent};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

/// Cases per CI run: a few seconds on two shared cores. `PROPTEST_CASES` overrides.
const CI_CASES: u32 = 400;
/// The CI seed. `PROPTEST_RNG_SEED` overrides.
const CI_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

const EMBEDDING_MODEL: &str = "amazon.titan-embed-text-v2:0";

// ---------------------------------------------------------------------------------------------
// What a client can put into a request
// ---------------------------------------------------------------------------------------------

/// Host header values: the ones known to break `lambda_http` 1.3.2, shapes near them, valid
/// names, and any text a header may carry.
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "1.2.3.999",
            "256.0.0.1",
            "99999999999",
            "1.2.3.4.5",
            "0x100000000",
            "xn--zz",
            "example.xn--a",
            "example.com:99999",
            "a{b",
            "[::1",
            "gw-1.us-east-1.elb.amazonaws.com",
            "abc.lambda-url.us-east-1.on.aws",
            "localhost:8080",
            "[::1]:443",
            "bücher.example",
            "",
        ])
        .prop_map(str::to_string),
        "[0-9]{1,12}(\\.[0-9]{1,12}){0,4}(:[0-9]{0,6})?",
        "0[xX][0-9a-fA-F]{1,12}(\\.[0-9]{1,3}){0,3}",
        "(xn--[a-z0-9-]{0,8}\\.){0,2}(xn--)?[a-z0-9-]{0,8}",
        "\\[[0-9a-fA-F:.]{0,20}\\]?(:[0-9]{0,6})?",
        "[ -~]{0,24}",
        "[^\\x00-\\x1f\\x7f]{0,16}",
    ]
}

/// Text a header value can hold (no control characters; Lambda delivers no others).
fn header_value() -> impl Strategy<Value = String> {
    "[^\\x00-\\x08\\x0a-\\x1f\\x7f]{0,24}"
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(vec![
            "/health",
            "/api/v1/models",
            "/api/v1/models/anthropic.claude-3-5-haiku-20241022-v1:0",
            "/api/v1/chat/completions",
            "/api/v1/embeddings",
            "/v1/models",
        ])
        .prop_map(str::to_string),
        2 => "/[^\\x00]{0,30}",
        1 => "[^/][ -~]{0,10}",
        1 => any::<String>(),
        1 => (65_500usize..65_600).prop_map(|n| format!("/{}", "a".repeat(n))),
    ]
}

fn method() -> impl Strategy<Value = String> {
    select(vec![
        "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD",
    ])
    .prop_map(str::to_string)
}

fn query_key() -> impl Strategy<Value = String> {
    "[^\\x00]{0,8}"
}

/// The body, before any base64 encoding: nothing, noise, or a request a route can answer.
fn body() -> impl Strategy<Value = Option<String>> {
    let text = "[^\\x00]{0,40}";
    prop_oneof![
        1 => Just(None),
        1 => text.prop_map(Some),
        2 => (text, any::<bool>()).prop_map(|(content, stream)| {
            Some(json!({
                "model": crate::support::MODEL,
                "messages": [{"role": "user", "content": content}],
                "stream": stream,
                "max_tokens": 16,
            }).to_string())
        }),
        1 => vec(text, 1..4).prop_map(|input| {
            Some(json!({"model": EMBEDDING_MODEL, "input": input}).to_string())
        }),
    ]
}

/// One HTTP request as a client sent it.
#[derive(Debug, Clone)]
struct ClientRequest {
    method: String,
    path: String,
    host: Option<String>,
    proto: Option<String>,
    authorization: Option<String>,
    headers: Vec<(String, String)>,
    query: Vec<(String, Vec<String>)>,
    raw_query: String,
    body: Option<String>,
    /// Whether the event carries the body as base64, and whether that base64 is broken.
    base64: bool,
    broken_base64: bool,
}

/// A random request, or (half the time) one a route answers with 200 when the Host, query and
/// encoding survive: the right method, path, body and key.
fn client_request() -> impl Strategy<Value = ClientRequest> {
    let routes = select(vec![
        ("GET", "/health", None),
        ("GET", "/api/v1/models", None),
        (
            "GET",
            "/api/v1/models/anthropic.claude-3-5-haiku-20241022-v1:0",
            None,
        ),
        ("POST", "/api/v1/chat/completions", Some("chat")),
        ("POST", "/v1/chat/completions", Some("chat")),
        ("POST", "/api/v1/embeddings", Some("embeddings")),
    ]);
    (any_client_request(), option::of(routes), body(), body()).prop_map(
        |(mut request, route, first, second)| {
            if let Some((method, path, body)) = route {
                request.method = method.to_string();
                request.path = path.to_string();
                request.authorization = Some(format!("Bearer {}", crate::support::KEY));
                request.broken_base64 = false;
                // Take whichever generated body suits the route.
                request.body = match body {
                    None => None,
                    Some(kind) => [first, second]
                        .into_iter()
                        .flatten()
                        .find(|b| b.contains(if kind == "chat" { "messages" } else { "input" }))
                        .or(request.body),
                };
            }
            request
        },
    )
}

fn any_client_request() -> impl Strategy<Value = ClientRequest> {
    let headers = (
        option::of(host()),
        option::of(prop_oneof![
            Just("https".to_string()),
            Just("http".to_string()),
            header_value()
        ]),
        option::of(prop_oneof![
            3 => Just(format!("Bearer {}", crate::support::KEY)),
            1 => header_value(),
        ]),
        btree_map("[a-z][a-z0-9-]{0,8}", header_value(), 0..3),
    );
    let query = (
        btree_map(query_key(), vec("[^\\x00]{0,8}", 0..3), 0..4),
        "[^\\x00]{0,30}",
    );
    (
        method(),
        path(),
        headers,
        query,
        body(),
        any::<bool>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(
                method,
                path,
                (host, proto, authorization, extra),
                (query, raw_query),
                body,
                base64,
                broken,
            )| {
                ClientRequest {
                    method,
                    path,
                    host,
                    proto,
                    authorization,
                    headers: extra
                        .into_iter()
                        .filter(|(name, _)| {
                            !matches!(
                                name.as_str(),
                                "host" | "authorization" | "x-forwarded-proto"
                            )
                        })
                        .collect(),
                    query: query.into_iter().collect(),
                    raw_query,
                    body,
                    base64,
                    broken_base64: base64 && broken,
                }
            },
        )
}

// ---------------------------------------------------------------------------------------------
// The events Lambda makes of them
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Alb { multi_value: bool },
    FunctionUrl,
    HttpApi,
    RestApi { streamed: bool },
}

fn caller() -> impl Strategy<Value = Caller> {
    prop_oneof![
        Just(Caller::Alb { multi_value: false }),
        Just(Caller::Alb { multi_value: true }),
        Just(Caller::FunctionUrl),
        Just(Caller::HttpApi),
        Just(Caller::RestApi { streamed: false }),
        Just(Caller::RestApi { streamed: true }),
    ]
}

impl ClientRequest {
    fn header_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = self.headers.clone();
        for (name, value) in [
            ("host", &self.host),
            ("x-forwarded-proto", &self.proto),
            ("authorization", &self.authorization),
        ] {
            if let Some(value) = value {
                pairs.push((name.to_string(), value.clone()));
            }
        }
        pairs
    }

    fn event_body(&self) -> (Value, bool) {
        match &self.body {
            None => (Value::Null, false),
            Some(_) if self.broken_base64 => (json!("%% not base64 %%"), true),
            Some(body) if self.base64 => (json!(BASE64.encode(body)), true),
            Some(body) => (json!(body), false),
        }
    }

    fn alb_event(&self, multi_value: bool) -> Value {
        let (body, base64) = self.event_body();
        let mut event = json!({
            "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gw/0123456789abcdef"}},
            "httpMethod": self.method,
            "path": self.path,
            "isBase64Encoded": base64,
            "body": body,
        });
        // The ALB adds these to every request, so a multi-value event never has an empty
        // header map (which is how the adapter tells the two styles apart).
        let mut headers = self.header_pairs();
        headers.push(("x-forwarded-for".into(), "203.0.113.7".into()));
        headers.push((
            "x-amzn-trace-id".into(),
            "Root=1-67891234-0123456789abcdef01234567".into(),
        ));
        if multi_value {
            let headers: Map<String, Value> = headers
                .into_iter()
                .map(|(name, value)| (name, json!([value])))
                .collect();
            let query: Map<String, Value> = self
                .query
                .iter()
                .map(|(key, values)| (key.clone(), json!(values)))
                .collect();
            event["multiValueHeaders"] = Value::Object(headers);
            event["multiValueQueryStringParameters"] = Value::Object(query);
        } else {
            let headers: Map<String, Value> = headers
                .into_iter()
                .map(|(name, value)| (name, json!(value)))
                .collect();
            // Single-value maps take a string, or a list (query_map accepts both), empty too.
            let query: Map<String, Value> = self
                .query
                .iter()
                .map(|(key, values)| match values.as_slice() {
                    [one] => (key.clone(), json!(one)),
                    many => (key.clone(), json!(many)),
                })
                .collect();
            event["headers"] = Value::Object(headers);
            event["queryStringParameters"] = Value::Object(query);
        }
        event
    }

    fn v2_event(&self, domain: &str) -> Value {
        let (body, base64) = self.event_body();
        let headers: Map<String, Value> = self
            .header_pairs()
            .into_iter()
            .map(|(name, value)| (name, json!(value)))
            .collect();
        let query: Map<String, Value> = self
            .query
            .iter()
            .filter_map(|(key, values)| Some((key.clone(), json!(values.first()?))))
            .collect();
        json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": self.path,
            "rawQueryString": self.raw_query,
            "headers": headers,
            "queryStringParameters": query,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abc",
                "domainName": domain,
                "domainPrefix": "abc",
                "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1",
                    "sourceIp": "203.0.113.7", "userAgent": "proptest"},
                "requestId": "r",
                "routeKey": "$default",
                "stage": "$default",
                "time": "30/Nov/2026:00:00:00 +0000",
                "timeEpoch": 0
            },
            "isBase64Encoded": base64,
            "body": body,
        })
    }

    /// A REST API (payload 1.0) event: both header styles, as API Gateway sends them, and
    /// decoded query values.
    fn rest_event(&self, streamed: bool) -> Value {
        let (body, base64) = self.event_body();
        let pairs = self.header_pairs();
        let headers: Map<String, Value> = pairs
            .iter()
            .map(|(name, value)| (name.clone(), json!(value)))
            .collect();
        let mut multi_headers = Map::new();
        for (name, value) in pairs {
            let entry = multi_headers.entry(name).or_insert_with(|| json!([]));
            entry.as_array_mut().unwrap().push(json!(value));
        }
        let query: Map<String, Value> = self
            .query
            .iter()
            .filter_map(|(key, values)| Some((key.clone(), json!(values.last()?))))
            .collect();
        let multi_query: Map<String, Value> = self
            .query
            .iter()
            .map(|(key, values)| (key.clone(), json!(values)))
            .collect();
        json!({
            "resource": "/{proxy+}",
            "path": self.path,
            "httpMethod": self.method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "stageVariables": if streamed { json!({"responseTransferMode": "STREAM"}) } else { Value::Null },
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abc",
                "domainName": "abc.execute-api.us-east-1.amazonaws.com",
                "httpMethod": self.method,
                "path": format!("/gateway{}", self.path),
                "requestId": "r",
                "resourcePath": "/{proxy+}",
                "stage": "gateway"
            },
            "isBase64Encoded": base64,
            "body": body,
        })
    }

    fn event(&self, caller: Caller) -> Value {
        match caller {
            Caller::Alb { multi_value } => self.alb_event(multi_value),
            Caller::FunctionUrl => self.v2_event("abc.lambda-url.us-east-1.on.aws"),
            Caller::HttpApi => self.v2_event("abc.execute-api.us-east-1.amazonaws.com"),
            Caller::RestApi { streamed } => self.rest_event(streamed),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What a well-formed answer is
// ---------------------------------------------------------------------------------------------

/// Status, body and (for a buffered document) its size, from whatever the adapter returned.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

fn check_answer(
    caller: Caller,
    request: &ClientRequest,
    response: FunctionResponse<BufferedDocument, bedrock_gateway::lambda::BodyStream>,
    streamed_body: Vec<u8>,
) -> Result<Answer, TestCaseError> {
    let answer = match (caller, response) {
        (Caller::Alb { multi_value }, FunctionResponse::BufferedResponse(document)) => {
            let json = serde_json::to_vec(&document).unwrap();
            prop_assert!(json.len() <= bedrock_gateway::lambda::ALB_MAX_RESPONSE_BYTES);
            let doc: Value = serde_json::from_slice(&json).unwrap();
            let status = doc["statusCode"].as_u64().unwrap() as u16;
            prop_assert!(
                doc["statusDescription"]
                    .as_str()
                    .is_some_and(|d| d.starts_with(&status.to_string()))
            );
            // Exactly one header style, the event's.
            let (used, unused) = if multi_value {
                ("multiValueHeaders", "headers")
            } else {
                ("headers", "multiValueHeaders")
            };
            prop_assert!(doc[used].is_object(), "{doc}");
            prop_assert!(doc.get(unused).is_none(), "{doc}");
            Answer {
                status,
                body: document_body(&doc)?,
            }
        }
        (Caller::HttpApi, FunctionResponse::BufferedResponse(document)) => {
            let doc = serde_json::to_value(&document).unwrap();
            prop_assert!(doc["headers"].is_object() && doc["cookies"].is_array());
            Answer {
                status: doc["statusCode"].as_u64().unwrap() as u16,
                body: document_body(&doc)?,
            }
        }
        (Caller::RestApi { streamed: false }, FunctionResponse::BufferedResponse(document)) => {
            let doc = serde_json::to_value(&document).unwrap();
            prop_assert!(doc["multiValueHeaders"].is_object(), "{doc}");
            prop_assert!(doc.get("cookies").is_none(), "{doc}");
            Answer {
                status: doc["statusCode"].as_u64().unwrap() as u16,
                body: document_body(&doc)?,
            }
        }
        (
            Caller::FunctionUrl | Caller::RestApi { streamed: true },
            FunctionResponse::StreamingResponse(stream),
        ) => Answer {
            status: stream.metadata_prelude.status_code.as_u16(),
            body: streamed_body,
        },
        (caller, _) => {
            return Err(TestCaseError::fail(format!(
                "{caller:?} got the wrong kind of answer"
            )));
        }
    };
    prop_assert!(
        (100..500).contains(&answer.status),
        "status {} for {request:?}",
        answer.status
    );
    // Every error is an OpenAI error (HEAD answers carry no body).
    if answer.status >= 400 && request.method != "HEAD" {
        let error: Value = serde_json::from_slice(&answer.body).map_err(|e| {
            TestCaseError::fail(format!(
                "{} error body is not JSON ({e}): {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ))
        })?;
        for field in ["message", "type", "param", "code"] {
            prop_assert!(error["error"].get(field).is_some(), "{error}");
        }
    }
    Ok(answer)
}

fn document_body(doc: &Value) -> Result<Vec<u8>, TestCaseError> {
    let text = doc["body"].as_str().unwrap_or("");
    if doc["isBase64Encoded"] == true {
        BASE64
            .decode(text)
            .map_err(|e| TestCaseError::fail(format!("body is not base64: {e}")))
    } else {
        prop_assert_eq!(&doc["isBase64Encoded"], false);
        Ok(text.as_bytes().to_vec())
    }
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

async fn gateway() -> (RunningEmulator, Router) {
    let emulator = bedrock_emulator::spawn(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let vars = std::collections::HashMap::from([("API_KEY", crate::support::KEY)]);
    let config =
        bedrock_gateway::config::Config::from_lookup(|k| vars.get(k).map(|v| v.to_string()))
            .unwrap();
    let state = bedrock_gateway::state::AppState::with_sdk_config(
        config,
        &crate::support::sdk_config(&emulator.url()),
    );
    (emulator, bedrock_gateway::app::router(state))
}

/// One invocation, as the runtime loop makes it, with a minute before Lambda's deadline.
async fn answer(
    router: Router,
    event: &Value,
) -> Result<
    (
        FunctionResponse<BufferedDocument, bedrock_gateway::lambda::BodyStream>,
        Vec<u8>,
    ),
    TestCaseError,
> {
    // Lambda hands the runtime the event as JSON text, deserialised the way lambda_runtime does.
    let payload: LambdaRequest = serde_json::from_str(&event.to_string())
        .map_err(|e| TestCaseError::fail(format!("not an HTTP event ({e}): {event}")))?;
    let mut context = Context::default();
    let deadline = SystemTime::now() + Duration::from_secs(60);
    context.deadline = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    let response = invoke(router, LambdaEvent::new(payload, context))
        .await
        .map_err(|e| TestCaseError::fail(format!("invocation error: {e}")))?;
    match response {
        FunctionResponse::StreamingResponse(mut stream) => {
            let mut body = Vec::new();
            while let Some(chunk) = stream.stream.next().await {
                let chunk = chunk.map_err(|e| TestCaseError::fail(format!("stream error: {e}")))?;
                body.extend_from_slice(&chunk);
            }
            Ok((FunctionResponse::StreamingResponse(stream), body))
        }
        buffered => Ok((buffered, Vec::new())),
    }
}

fn config() -> Config {
    // Config::default() reads PROPTEST_CASES and PROPTEST_RNG_SEED.
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = CI_CASES;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(CI_SEED);
    }
    config.failure_persistence = None;
    config
}

#[test]
fn every_generated_event_gets_a_well_formed_answer() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (emulator, router) = runtime.block_on(gateway());
    let started = tokio::time::Instant::now();
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, u32>::new());
    let mut runner = TestRunner::new(config());
    let result = runner.run(&(client_request(), caller()), |(request, caller)| {
        let event = request.event(caller);
        let (response, streamed) = runtime.block_on(answer(router.clone(), &event))?;
        let answer = check_answer(caller, &request, response, streamed)?;
        *statuses.lock().unwrap().entry(answer.status).or_default() += 1;
        Ok(())
    });
    let statuses = statuses.into_inner().unwrap();
    println!(
        "{} cases in {:?}; statuses: {statuses:?}",
        runner.config().cases,
        started.elapsed()
    );
    if let Err(err) = result {
        panic!("{err}");
    }
    // The generator reaches the routes, and through them Bedrock, not only the error paths.
    for status in [200, 401, 404] {
        assert!(
            statuses.contains_key(&status),
            "no {status} in {statuses:?}"
        );
    }
    let embedded = runtime.block_on(crate::support::emulator_calls(&emulator, "invoke"));
    assert!(!embedded["calls"].as_array().unwrap().is_empty());
}
