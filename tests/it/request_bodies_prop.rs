//! Property test over request bodies: whatever JSON (or near-JSON) a client POSTs to
//! `/api/v1/chat/completions` or `/api/v1/embeddings`, the gateway answers below 500, and every
//! 4xx carries OpenAI's error shape. Bodies are valid-ish requests with random shapes, wrong
//! types, deep nesting, huge counts within the size limit, truncation and trailing garbage,
//! sent over HTTP to a real gateway in front of the emulator.
//!
//! The seed is fixed and the budget short for CI. A longer run:
//!     REQUEST_FUZZ_CASES=5000 REQUEST_FUZZ_SEED=7 cargo test --test it request_bodies_prop::
//! (a failure prints the shrunk body that triggered it).

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Map, Value, json};

/// Cases per run unless `REQUEST_FUZZ_CASES` says otherwise.
const DEFAULT_CASES: u32 = 160;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------------
// Strategies

fn short_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            " ",
            "hi",
            "user",
            "assistant",
            "system",
            "tool",
            "function",
            "text",
            "image_url",
            "auto",
            "none",
            "required",
            "json_object",
            "json_schema",
            "data:image/png;base64,iVBORw0KGgo=",
            "data:application/pdf;base64,JVBERi0=",
            "not a url",
            "{}",
            "{\"a\":1}",
            "\u{0}",
            "\u{1F600}",
            "\\u0000",
            "[[call:f]]",
        ])
        .prop_map(str::to_string),
        prop::collection::vec(any::<char>(), 0..10).prop_map(String::from_iter),
    ]
}

/// Any JSON value, nested up to a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        short_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((short_string(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn content_part() -> impl Strategy<Value = Value> {
    prop_oneof![
        short_string().prop_map(|t| json!({"type": "text", "text": t})),
        short_string().prop_map(|u| json!({"type": "image_url", "image_url": {"url": u}})),
        short_string().prop_map(|u| json!({"type": "image_url", "image_url": u})),
        short_string()
            .prop_map(|d| json!({"type": "file", "file": {"file_data": d, "filename": "a.pdf"}})),
        short_string().prop_map(|t| json!({"type": t})),
        any_json(),
    ]
}

fn content() -> impl Strategy<Value = Value> {
    prop_oneof![
        short_string().prop_map(Value::String),
        prop::collection::vec(content_part(), 0..4).prop_map(Value::Array),
        any_json(),
    ]
}

fn tool_call() -> impl Strategy<Value = Value> {
    (short_string(), short_string(), any_json()).prop_map(|(id, name, args)| {
        json!({"id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}})
    })
}

fn message() -> impl Strategy<Value = Value> {
    let role = prop_oneof![
        prop::sample::select(vec![
            "user",
            "assistant",
            "system",
            "developer",
            "tool",
            "function"
        ])
        .prop_map(|r| Value::String(r.to_string())),
        any_json(),
    ];
    (
        role,
        prop::option::of(content()),
        prop::option::of(prop::collection::vec(tool_call(), 0..3)),
        prop::option::of(short_string()),
        prop::option::of(any_json()),
    )
        .prop_map(|(role, content, tool_calls, tool_call_id, extra)| {
            let mut m = Map::new();
            m.insert("role".into(), role);
            if let Some(c) = content {
                m.insert("content".into(), c);
            }
            if let Some(t) = tool_calls {
                m.insert("tool_calls".into(), Value::Array(t));
            }
            if let Some(id) = tool_call_id {
                m.insert("tool_call_id".into(), Value::String(id));
            }
            if let Some(x) = extra {
                m.insert("cache_control".into(), x);
            }
            Value::Object(m)
        })
}

fn tool() -> impl Strategy<Value = Value> {
    (short_string(), any_json(), any::<bool>()).prop_map(|(name, parameters, strict)| {
        json!({"type": "function", "function": {"name": name, "parameters": parameters, "strict": strict}})
    })
}

fn model() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            crate::support::MODEL,
            "us.amazon.nova-lite-v1:0",
            "gpt-4o-mini",
            "amazon.titan-embed-text-v2:0",
            "cohere.embed-english-v3",
            "text-embedding-3-small",
            "",
        ])
        .prop_map(|m| Value::String(m.to_string())),
        any_json(),
    ]
}

/// Optional top-level fields of a chat request, each a plausible or a random value.
fn chat_extras() -> impl Strategy<Value = Vec<(String, Value)>> {
    let field = prop_oneof![
        any::<bool>().prop_map(|b| ("stream".to_string(), Value::Bool(b))),
        (0i64..5000).prop_map(|n| ("max_tokens".to_string(), json!(n))),
        any::<f64>().prop_map(|f| ("temperature".to_string(), json!(f))),
        prop::collection::vec(tool(), 0..4).prop_map(|t| ("tools".to_string(), Value::Array(t))),
        any_json().prop_map(|v| ("tool_choice".to_string(), v)),
        any_json().prop_map(|v| ("response_format".to_string(), v)),
        any_json().prop_map(|v| ("stop".to_string(), v)),
        any_json().prop_map(|v| ("stream_options".to_string(), v)),
        any_json().prop_map(|v| ("additionalModelRequestFields".to_string(), v)),
        any_json().prop_map(|v| ("reasoning_effort".to_string(), v)),
        (short_string(), any_json()),
    ];
    prop::collection::vec(field, 0..4)
}

fn chat_body() -> impl Strategy<Value = Value> {
    (
        prop::option::of(model()),
        prop::option::of(prop_oneof![
            prop::collection::vec(message(), 0..5).prop_map(Value::Array),
            any_json(),
        ]),
        chat_extras(),
    )
        .prop_map(|(model, messages, extras)| {
            let mut body = Map::new();
            if let Some(m) = model {
                body.insert("model".into(), m);
            }
            if let Some(m) = messages {
                body.insert("messages".into(), m);
            }
            for (k, v) in extras {
                body.insert(k, v);
            }
            Value::Object(body)
        })
}

fn embeddings_body() -> impl Strategy<Value = Value> {
    let input = prop_oneof![
        short_string().prop_map(Value::String),
        prop::collection::vec(short_string(), 0..5).prop_map(|v| json!(v)),
        prop::collection::vec(0i64..100_300, 0..6).prop_map(|v| json!(v)),
        prop::collection::vec(prop::collection::vec(-5i64..100_300, 0..4), 0..3)
            .prop_map(|v| json!(v)),
        any_json(),
    ];
    (
        prop::option::of(model()),
        prop::option::of(input),
        prop::option::of(any_json()),
        prop::option::of(any_json()),
    )
        .prop_map(|(model, input, format, dimensions)| {
            let mut body = Map::new();
            if let Some(m) = model {
                body.insert("model".into(), m);
            }
            if let Some(i) = input {
                body.insert("input".into(), i);
            }
            if let Some(f) = format {
                body.insert("encoding_format".into(), f);
            }
            if let Some(d) = dimensions {
                body.insert("dimensions".into(), d);
            }
            Value::Object(body)
        })
}

/// Bodies far larger in count than the generators above make, built as text.
fn huge_body() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        "messages", "parts", "tools", "values", "depth", "depth_ok", "many_fields",
    ])
    .prop_map(|kind| {
        let body = match kind {
            "messages" => format!(
                r#"{{"model":"{}","messages":[{}]}}"#,
                crate::support::MODEL,
                vec![r#"{"role":"user","content":"x"}"#; 30_000].join(",")
            ),
            "parts" => format!(
                r#"{{"model":"{}","messages":[{{"role":"user","content":[{}]}}]}}"#,
                crate::support::MODEL,
                vec![r#"{"type":"text","text":"x"}"#; 25_000].join(",")
            ),
            "tools" => format!(
                r#"{{"model":"{}","messages":[{{"role":"user","content":"x"}}],"tools":[{}]}}"#,
                crate::support::MODEL,
                vec![r#"{"type":"function","function":{"name":"f"}}"#; 5_000].join(",")
            ),
            "values" => format!(
                r#"{{"model":"{}","messages":[],"x":[{}]}}"#,
                crate::support::MODEL,
                vec!["1"; 2_000_000].join(",")
            ),
            "depth" => format!(r#"{{"model":"m","x":{}1{}}}"#, "[".repeat(5_000), "]".repeat(5_000)),
            "depth_ok" => format!(
                r#"{{"model":"{}","messages":[{{"role":"user","content":"x"}}],"tools":[{{"type":"function","function":{{"name":"f","parameters":{}{{}}{}}}}}]}}"#,
                crate::support::MODEL,
                r#"{"a":"#.repeat(55),
                "}".repeat(55)
            ),
            _ => format!(
                r#"{{"model":"{}","messages":[{{"role":"user","content":"x"}}],{}}}"#,
                crate::support::MODEL,
                (0..50_000)
                    .map(|i| format!(r#""f{i}":{i}"#))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        };
        body.into_bytes()
    })
}

/// A serialized body, possibly damaged: truncated, with text after it, or wrapped in nesting.
fn damage(body: Value) -> impl Strategy<Value = Vec<u8>> {
    let bytes = serde_json::to_vec(&body).unwrap();
    let len = bytes.len();
    prop_oneof![
        4 => Just(bytes.clone()),
        1 => (0..len.max(1)).prop_map({
            let bytes = bytes.clone();
            move |cut| bytes[..cut.min(len)].to_vec()
        }),
        1 => prop::sample::select(vec![" xyz", "}", "]", "{}", "\u{0}", " \n ", "\n1", "[]"]).prop_map({
            let bytes = bytes.clone();
            move |tail| [bytes.clone(), tail.as_bytes().to_vec()].concat()
        }),
        1 => (1usize..200).prop_map({
            let bytes = bytes.clone();
            move |depth| {
                let mut wrapped = b"{\"nest\":".to_vec();
                wrapped.extend(std::iter::repeat_n(b'[', depth));
                wrapped.extend(std::iter::repeat_n(b']', depth));
                wrapped.push(b',');
                wrapped.extend_from_slice(&bytes[1..]);
                wrapped
            }
        }),
    ]
}

#[derive(Debug, Clone)]
enum Case {
    Chat(Vec<u8>),
    Embeddings(Vec<u8>),
}

fn case() -> impl Strategy<Value = Case> {
    prop_oneof![
        6 => chat_body().prop_flat_map(damage).prop_map(Case::Chat),
        3 => embeddings_body().prop_flat_map(damage).prop_map(Case::Embeddings),
        1 => huge_body().prop_map(Case::Chat),
        1 => any_json().prop_map(|v| Case::Chat(serde_json::to_vec(&v).unwrap())),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Case::Embeddings),
    ]
}

// ---------------------------------------------------------------------------------------------
// The property

/// Checks one answer: below 500, and an OpenAI error for a 4xx.
fn check_answer(status: u16, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(status < 500, "status {status}: {text}");
    if status >= 400 {
        let body: Value = serde_json::from_str(text)
            .map_err(|e| TestCaseError::fail(format!("{status} body is not JSON ({e}): {text}")))?;
        let error = &body["error"];
        prop_assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{text}"
        );
        prop_assert!(error["type"].is_string(), "{text}");
        prop_assert!(
            error["param"].is_string() || error["param"].is_null(),
            "{text}"
        );
        prop_assert!(
            error["code"].is_string() || error["code"].is_null(),
            "{text}"
        );
    }
    Ok(())
}

#[test]
fn any_body_gets_an_answer_below_500_and_errors_in_openai_shape() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let gateway = runtime.block_on(crate::support::start());
    let cases = env_number("REQUEST_FUZZ_CASES", DEFAULT_CASES as u64) as u32;
    let seed = env_number("REQUEST_FUZZ_SEED", 20261130);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let result = runner.run(&case(), |case| {
        let (path, body) = match case {
            Case::Chat(body) => ("/chat/completions", body),
            Case::Embeddings(body) => ("/embeddings", body),
        };
        let (status, text) = runtime.block_on(async {
            let response = gateway
                .http
                .post(format!("{}/api/v1{path}", gateway.url))
                .bearer_auth(crate::support::KEY)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("the gateway answers");
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        });
        check_answer(status, &text)
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
