//! Embeddings end to end: OpenAI requests to the gateway over HTTP, InvokeModel through the
//! real AWS SDK to the strict emulator, which checks each family's native body, records what it
//! received, and answers with vectors derived from the text (`unit_vector`), so every returned
//! vector can be checked against the text it belongs to.

use crate::support::TestGateway;
use base64::Engine;
use bedrock_emulator::EmulatorConfig;
use bedrock_emulator::embeddings::EMBEDDING_PROFILE_ARN;
use serde_json::{Value, json};

const TITAN_V1: &str = "amazon.titan-embed-text-v1";
const TITAN_V2: &str = "amazon.titan-embed-text-v2:0";
const COHERE_EN: &str = "cohere.embed-english-v3";
const COHERE_ML: &str = "cohere.embed-multilingual-v3";
const COHERE_V4: &str = "us.cohere.embed-v4:0";
const NOVA: &str = "amazon.nova-2-multimodal-embeddings-v1:0";

/// Every family with the size it answers in by default.
const FAMILIES: &[(&str, usize)] = &[
    (TITAN_V1, 1536),
    (TITAN_V2, 1024),
    (COHERE_EN, 1024),
    (COHERE_ML, 1024),
    (COHERE_V4, 1536),
    (NOVA, 3072),
];

/// The emulator's vector for `text`, seeded by the foundation model behind `model` (a system
/// profile id such as `us.cohere.embed-v4:0` answers as its model).
fn unit_vector(model: &str, text: &str, dimension: usize) -> Vec<f32> {
    let base = model.strip_prefix("us.").unwrap_or(model);
    bedrock_emulator::embeddings::unit_vector(base, text, dimension)
}

async fn embed(gw: &TestGateway, body: Value) -> (u16, Value) {
    let response = gw.post("/embeddings", &body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// What the emulator's InvokeModel received: `calls` (modelId, inputs, body), `maxInFlight`.
async fn invoke_log(gw: &TestGateway) -> Value {
    crate::support::emulator_calls(&gw.emulator, "invoke").await
}

async fn received(gw: &TestGateway) -> Vec<Value> {
    invoke_log(gw).await["calls"].as_array().unwrap().clone()
}

fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a float list: {value}"))
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

/// The OpenAI SDKs' base64 decoding: little-endian float32.
fn decode_base64(value: &Value) -> Vec<f32> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.as_str().unwrap())
        .unwrap();
    assert_eq!(bytes.len() % 4, 0);
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn assert_close(actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() < 1e-6, "component {i}: {a} != {e}");
    }
}

#[tokio::test]
async fn every_family_answers_in_float_and_in_base64() {
    let gw = crate::support::start().await;
    let texts = ["alpha beta", "gamma"];
    for (model, dimension) in FAMILIES {
        let (status, body) = embed(&gw, json!({"model": model, "input": texts})).await;
        assert_eq!(status, 200, "{model}: {body}");
        assert_eq!(body["object"], "list");
        assert_eq!(body["model"], *model);
        assert_eq!(
            body["usage"],
            json!({"prompt_tokens": 3, "total_tokens": 3}),
            "{model}"
        );
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        let mut float_vectors = Vec::new();
        for (index, item) in data.iter().enumerate() {
            assert_eq!(item["object"], "embedding");
            assert_eq!(item["index"], index);
            let vector = floats(&item["embedding"]);
            assert_eq!(vector.len(), *dimension, "{model}");
            assert_close(&vector, &unit_vector(model, texts[index], *dimension));
            float_vectors.push(vector);
        }

        let (status, body) = embed(
            &gw,
            json!({"model": model, "input": texts, "encoding_format": "base64"}),
        )
        .await;
        assert_eq!(status, 200, "{model}: {body}");
        for (index, item) in body["data"].as_array().unwrap().iter().enumerate() {
            // Bit for bit the float answer: base64 is computed from the same float32 values.
            assert_eq!(
                decode_base64(&item["embedding"]),
                float_vectors[index],
                "{model}"
            );
        }
        assert_eq!(body["usage"]["prompt_tokens"], 3);
    }
}

#[tokio::test]
async fn each_family_gets_its_native_body() {
    let gw = crate::support::start().await;
    for model in [TITAN_V1, TITAN_V2, COHERE_EN, COHERE_V4, NOVA] {
        let (status, body) = embed(&gw, json!({"model": model, "input": "hello"})).await;
        assert_eq!(status, 200, "{model}: {body}");
    }
    let bodies: Vec<Value> = received(&gw)
        .await
        .iter()
        .map(|c| c["body"].clone())
        .collect();
    assert_eq!(
        bodies,
        vec![
            json!({"inputText": "hello"}),
            json!({"inputText": "hello"}),
            json!({"texts": ["hello"], "input_type": "search_document"}),
            json!({"texts": ["hello"], "input_type": "search_document", "embedding_types": ["float"]}),
            json!({
                "schemaVersion": "nova-multimodal-embed-v1",
                "taskType": "SINGLE_EMBEDDING",
                "singleEmbeddingParams": {
                    "embeddingPurpose": "GENERIC_INDEX",
                    "embeddingDimension": 3072,
                    "text": {"truncationMode": "END", "value": "hello"}
                }
            }),
        ]
    );
}

#[tokio::test]
async fn extra_body_options_reach_bedrock() {
    let gw = crate::support::start().await;
    let requests = [
        json!({"model": COHERE_ML, "input": "q", "input_type": "search_query", "truncate": "START"}),
        json!({"model": COHERE_V4, "input": "q", "input_type": "classification", "truncate": "END"}),
        json!({"model": TITAN_V2, "input": "q", "normalize": false}),
        json!({"model": NOVA, "input": "q", "input_type": "search_query", "truncate": "NONE"}),
    ];
    for request in &requests {
        let (status, body) = embed(&gw, request.clone()).await;
        assert_eq!(status, 200, "{request}: {body}");
    }
    let calls = received(&gw).await;
    assert_eq!(calls[0]["body"]["input_type"], "search_query");
    assert_eq!(calls[0]["body"]["truncate"], "START");
    assert_eq!(calls[1]["body"]["input_type"], "classification");
    assert_eq!(calls[1]["body"]["truncate"], "RIGHT");
    assert_eq!(calls[2]["body"]["normalize"], false);
    let nova = &calls[3]["body"]["singleEmbeddingParams"];
    assert_eq!(nova["embeddingPurpose"], "GENERIC_RETRIEVAL");
    assert_eq!(nova["text"]["truncationMode"], "NONE");

    let (status, body) = embed(
        &gw,
        json!({"model": COHERE_V4, "input": "q", "input_type": "rerank"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "input_type");
    let (status, body) = embed(
        &gw,
        json!({"model": COHERE_V4, "input": "q", "truncate": "MIDDLE"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "truncate");
}

#[tokio::test]
async fn dimensions_map_to_each_family_parameter() {
    let gw = crate::support::start().await;
    let cases = [
        (TITAN_V2, 256, Some(("dimensions", 256))),
        (TITAN_V2, 512, Some(("dimensions", 512))),
        (TITAN_V2, 1024, None),
        (TITAN_V1, 1536, None),
        (COHERE_EN, 1024, None),
        (COHERE_V4, 256, Some(("output_dimension", 256))),
        (COHERE_V4, 1024, Some(("output_dimension", 1024))),
        (NOVA, 384, None),
        (NOVA, 1024, None),
    ];
    for (model, dimensions, _) in cases {
        let (status, body) = embed(
            &gw,
            json!({"model": model, "input": "size me", "dimensions": dimensions}),
        )
        .await;
        assert_eq!(status, 200, "{model} {dimensions}: {body}");
        let vector = floats(&body["data"][0]["embedding"]);
        assert_close(&vector, &unit_vector(model, "size me", dimensions));
    }
    let calls = received(&gw).await;
    for ((model, dimensions, field), call) in cases.iter().zip(&calls) {
        match field {
            Some((name, value)) => assert_eq!(call["body"][name], *value, "{model}"),
            None if *model == NOVA => {
                assert_eq!(
                    call["body"]["singleEmbeddingParams"]["embeddingDimension"],
                    *dimensions
                )
            }
            // The family's default: nothing to send.
            None => {
                assert!(
                    call["body"].get("dimensions").is_none(),
                    "{model}: {}",
                    call["body"]
                );
                assert!(call["body"].get("output_dimension").is_none(), "{model}");
            }
        }
    }
}

#[tokio::test]
async fn sizes_a_family_cannot_produce_are_400_before_bedrock() {
    let gw = crate::support::start().await;
    for (model, dimensions, listed) in [
        (TITAN_V2, 300, "1024, 512, 256"),
        (TITAN_V1, 256, "1536"),
        (COHERE_EN, 512, "1024"),
        (COHERE_V4, 3072, "1536, 1024, 512, 256"),
        (NOVA, 512, "3072, 1024, 384, 256"),
    ] {
        let (status, body) = embed(
            &gw,
            json!({"model": model, "input": "x", "dimensions": dimensions}),
        )
        .await;
        assert_eq!(status, 400, "{model}: {body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["param"], "dimensions");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(listed), "{model}: {message}");
        assert!(message.contains(&dimensions.to_string()), "{message}");
    }
    let (status, body) = embed(
        &gw,
        json!({"model": TITAN_V2, "input": "x", "dimensions": 0}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = embed(
        &gw,
        json!({"model": TITAN_V2, "input": "x", "dimensions": -5}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "dimensions");
    assert!(received(&gw).await.is_empty());
}

#[tokio::test]
async fn token_ids_are_decoded_before_embedding() {
    let aliases = r#"{"gpt-4o-embedder":"amazon.titan-embed-text-v2:0"}"#;
    let gw =
        crate::support::start_with(&[("MODEL_ALIASES", aliases)], EmulatorConfig::default()).await;
    // "hello world" in cl100k_base, the tokenizer of OpenAI's embedding models.
    let (status, body) = embed(
        &gw,
        json!({"model": "text-embedding-3-small", "input": [15339, 1917]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_close(
        &floats(&body["data"][0]["embedding"]),
        &unit_vector(TITAN_V2, "hello world", 1024),
    );

    let cl100k = tiktoken_rs::cl100k_base_singleton();
    let texts = ["first text", "second, with ünïcödé", "third"];
    let lists: Vec<Vec<u32>> = texts.iter().map(|t| cl100k.encode_ordinary(t)).collect();
    let (status, body) = embed(&gw, json!({"model": COHERE_V4, "input": lists})).await;
    assert_eq!(status, 200, "{body}");
    for (index, text) in texts.iter().enumerate() {
        assert_close(
            &floats(&body["data"][index]["embedding"]),
            &unit_vector(COHERE_V4, text, 1536),
        );
    }
    let sent = received(&gw).await;
    assert_eq!(sent.last().unwrap()["body"]["texts"], json!(texts));

    // A name of the gpt-4o family means its o200k_base tokenizer.
    let o200k = tiktoken_rs::o200k_base_singleton().encode_ordinary("o200k tokens");
    assert_ne!(o200k, cl100k.encode_ordinary("o200k tokens"));
    let (status, body) = embed(&gw, json!({"model": "gpt-4o-embedder", "input": o200k})).await;
    assert_eq!(status, 200, "{body}");
    assert_close(
        &floats(&body["data"][0]["embedding"]),
        &unit_vector(TITAN_V2, "o200k tokens", 1024),
    );

    let (status, body) = embed(
        &gw,
        json!({"model": TITAN_V2, "input": [[1, 2], [3, 999999999]]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "input[1]");
}

#[tokio::test]
async fn openai_names_use_the_default_embedding_model() {
    let gw = crate::support::start().await;
    let (status, body) = embed(
        &gw,
        json!({"model": "text-embedding-3-small", "input": "x"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], TITAN_V2);

    let gw = crate::support::start_with(
        &[("DEFAULT_EMBEDDING_MODEL", COHERE_V4)],
        EmulatorConfig::default(),
    )
    .await;
    let (status, body) = embed(
        &gw,
        json!({"model": "text-embedding-ada-002", "input": "x"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], COHERE_V4);
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 1536);
}

#[tokio::test]
async fn large_batches_are_split_and_kept_in_order() {
    let gw = crate::support::start().await;
    let texts: Vec<String> = (0..200).map(|i| format!("document number {i}")).collect();
    let (status, body) = embed(&gw, json!({"model": COHERE_EN, "input": texts})).await;
    assert_eq!(status, 200);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 200);
    for (index, item) in data.iter().enumerate() {
        assert_eq!(item["index"], index);
        assert_close(
            &floats(&item["embedding"]),
            &unit_vector(COHERE_EN, &texts[index], 1024),
        );
    }
    assert_eq!(body["usage"]["prompt_tokens"], 600);
    let calls = received(&gw).await;
    let mut sizes: Vec<u64> = calls
        .iter()
        .map(|c| c["inputs"].as_u64().unwrap())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [8, 96, 96]);
    // Each call carries a contiguous slice of the input, in order.
    let mut batches: Vec<Vec<String>> = calls
        .iter()
        .map(|c| serde_json::from_value(c["body"]["texts"].clone()).unwrap())
        .collect();
    batches.sort_by_key(|batch| texts.iter().position(|t| *t == batch[0]).unwrap());
    assert_eq!(batches.concat(), texts);

    let gw = crate::support::start().await;
    let five: Vec<String> = (0..5).map(|i| format!("titan text {i}")).collect();
    let (status, body) = embed(&gw, json!({"model": TITAN_V2, "input": five})).await;
    assert_eq!(status, 200);
    for (index, item) in body["data"].as_array().unwrap().iter().enumerate() {
        assert_close(
            &floats(&item["embedding"]),
            &unit_vector(TITAN_V2, &five[index], 1024),
        );
    }
    let calls = received(&gw).await;
    assert_eq!(calls.len(), 5);
    assert!(calls.iter().all(|c| c["inputs"] == 1));
    assert_eq!(body["usage"]["total_tokens"], 15);
}

#[tokio::test]
async fn calls_run_at_most_eight_at_a_time() {
    let gw = crate::support::start().await;
    let texts: Vec<String> = (0..24).map(|i| format!("slow {i} [[delay:300]]")).collect();
    let started = tokio::time::Instant::now();
    let (status, body) = embed(&gw, json!({"model": TITAN_V2, "input": texts})).await;
    assert_eq!(status, 200, "{body}");
    let log = invoke_log(&gw).await;
    assert_eq!(log["calls"].as_array().unwrap().len(), 24);
    let max = log["maxInFlight"].as_u64().unwrap();
    assert_eq!(max, 8, "calls in flight at once");
    // 24 calls of 300 ms, 8 at a time: at least 3 rounds, far less than 24 in a row.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= std::time::Duration::from_millis(900),
        "{elapsed:?}"
    );
    assert!(
        elapsed < std::time::Duration::from_millis(7200),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn bad_input_is_400_and_never_reaches_bedrock() {
    let gw = crate::support::start().await;
    let too_many: Vec<String> = (0..2049).map(|i| i.to_string()).collect();
    let too_many_lists = vec![vec![1]; 2049];
    let too_long = vec![15339; 8193];
    let cases = [
        (json!({"model": TITAN_V2, "input": []}), "input"),
        (json!({"model": TITAN_V2, "input": [""]}), "input[0]"),
        (json!({"model": TITAN_V2, "input": ["ok", ""]}), "input[1]"),
        (json!({"model": TITAN_V2, "input": ["ok", 3]}), "input[1]"),
        (json!({"model": TITAN_V2, "input": [[1], []]}), "input[1]"),
        (
            json!({"model": TITAN_V2, "input": [[1], [2, -3]]}),
            "input[1][1]",
        ),
        (json!({"model": TITAN_V2, "input": {"text": "x"}}), "input"),
        (json!({"model": TITAN_V2}), "input"),
        (json!({"model": TITAN_V2, "input": null}), "input"),
        (json!({"model": TITAN_V2, "input": too_many}), "input"),
        (json!({"model": TITAN_V2, "input": too_many_lists}), "input"),
        // Token caps hold before anything is decoded: a bare list is one input.
        (json!({"model": TITAN_V2, "input": too_long}), "input"),
        (
            json!({"model": TITAN_V2, "input": [[1], too_long]}),
            "input[1]",
        ),
        // A list of one token list is a list: its only input is `input[0]`.
        (
            json!({"model": TITAN_V2, "input": [[1, 99_999_999]]}),
            "input[0]",
        ),
        (
            json!({"model": TITAN_V2, "input": [1, 99_999_999]}),
            "input",
        ),
        (
            json!({"model": TITAN_V2, "input": "x", "encoding_format": "hex"}),
            "encoding_format",
        ),
        (json!({"model": "", "input": "x"}), "model"),
        (json!({"input": "x"}), ""),
    ];
    for (request, param) in cases {
        let (status, body) = embed(&gw, request.clone()).await;
        assert_eq!(status, 400, "{request}: {body}");
        assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
        if !param.is_empty() {
            assert_eq!(body["error"]["param"], param, "{request}: {body}");
        }
    }
    let response = gw
        .http
        .post(format!("{}/api/v1/embeddings", gw.url))
        .bearer_auth(crate::support::KEY)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(received(&gw).await.is_empty());
}

#[tokio::test]
async fn chat_and_unknown_models_are_refused_clearly() {
    let gw = crate::support::start().await;
    let (status, body) = embed(&gw, json!({"model": crate::support::MODEL, "input": "x"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "model");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("chat model") && message.contains("/chat/completions"),
        "{message}"
    );

    let (status, body) = embed(
        &gw,
        json!({"model": "amazon.titan-embed-text-v9:0", "input": "x"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/models")
    );
    assert!(received(&gw).await.is_empty());

    // And the other way round: the chat route refuses embedding models.
    let (status, body) = gw.chat(crate::support::user(TITAN_V2, "hi")).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn bedrock_refusals_and_faults_come_back_as_openai_errors() {
    let gw = crate::support::start().await;
    // Bedrock's ValidationException is a 400 with Bedrock's code.
    let (status, body) = embed(
        &gw,
        json!({"model": COHERE_EN, "input": ["short", "refused [[fault:validation]]"]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "ValidationException");
    assert_eq!(body["error"]["type"], "invalid_request_error");

    // One throttled call among several fails the request with a 429.
    let texts: Vec<String> = (0..6)
        .map(|i| {
            if i == 4 {
                "boom [[fault:throttling]]".into()
            } else {
                format!("t{i}")
            }
        })
        .collect();
    let (status, body) = embed(&gw, json!({"model": TITAN_V2, "input": texts})).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn application_profile_arns_resolve_through_the_catalogue() {
    let gw = crate::support::start().await;
    let (status, body) = embed(
        &gw,
        json!({"model": EMBEDDING_PROFILE_ARN, "input": ["a b", "c"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], EMBEDDING_PROFILE_ARN);
    // The profile routes to Cohere Embed v4: its body, its size.
    let calls = received(&gw).await;
    assert_eq!(calls[0]["modelId"], EMBEDDING_PROFILE_ARN);
    assert_eq!(calls[0]["body"]["embedding_types"], json!(["float"]));
    assert_close(
        &floats(&body["data"][1]["embedding"]),
        &unit_vector("cohere.embed-v4:0", "c", 1536),
    );
}

#[tokio::test]
async fn a_bare_empty_string_embeds_like_openai_but_not_inside_a_list() {
    let gw = crate::support::start().await;
    for model in [TITAN_V2, COHERE_V4, NOVA] {
        let (status, body) = embed(&gw, json!({"model": model, "input": ""})).await;
        assert_eq!(status, 200, "{model}: {body}");
        assert_eq!(body["data"].as_array().unwrap().len(), 1);
        // Bedrock refuses empty texts; a blank stands in for it.
        assert_close(
            &floats(&body["data"][0]["embedding"]),
            &unit_vector(model, " ", floats(&body["data"][0]["embedding"]).len()),
        );
    }
    let calls = received(&gw).await;
    assert_eq!(calls[0]["body"]["inputText"], " ");
    assert_eq!(calls[1]["body"]["texts"], json!([" "]));

    let (status, body) = embed(&gw, json!({"model": TITAN_V2, "input": ["a", ""]})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "input[1]");
    assert_eq!(received(&gw).await.len(), 3);
}

#[tokio::test]
async fn texts_over_a_family_limit_are_refused_before_any_call() {
    let gw = crate::support::start().await;
    // The long text comes last: without the check, the calls before it would run first.
    let mut texts: Vec<String> = (0..5).map(|i| format!("short {i}")).collect();
    texts.push("x".repeat(50_001));
    let (status, body) = embed(&gw, json!({"model": TITAN_V2, "input": texts})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "input[5]");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("50001 characters") && message.contains("50000"),
        "{message}"
    );

    // Characters, not bytes: 2048 two-byte characters fit Cohere v3, 2049 do not.
    let (status, body) = embed(
        &gw,
        json!({"model": COHERE_EN, "input": ["ok", "é".repeat(2049)]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "input[1]");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Cohere Embed v3"),
        "{body}"
    );
    // A bare string is `input`.
    let (status, body) = embed(&gw, json!({"model": NOVA, "input": "y".repeat(50_001)})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "input");

    // Token ids are checked once decoded: ~500 tokens that decode to 2500 characters.
    let cl100k = tiktoken_rs::cl100k_base_singleton();
    let ids = cl100k.encode_ordinary(&"word ".repeat(500));
    let (status, body) = embed(&gw, json!({"model": COHERE_EN, "input": [ids]})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "input[0]");
    assert!(received(&gw).await.is_empty());

    // At the limit, Bedrock gets them.
    let (status, body) = embed(
        &gw,
        json!({"model": COHERE_EN, "input": ["é".repeat(2048)]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(received(&gw).await.len(), 1);
}

#[tokio::test]
async fn options_a_family_ignores_are_refused_naming_it() {
    let gw = crate::support::start().await;
    let cases = [
        (
            json!({"model": COHERE_EN, "input": "x", "normalize": true}),
            "normalize",
            "Cohere Embed v3",
        ),
        (
            json!({"model": COHERE_V4, "input": "x", "normalize": false}),
            "normalize",
            "Cohere Embed v4",
        ),
        (
            json!({"model": NOVA, "input": "x", "normalize": true}),
            "normalize",
            "Amazon Nova Multimodal Embeddings",
        ),
        (
            json!({"model": TITAN_V2, "input": "x", "truncate": "END"}),
            "truncate",
            "Amazon Titan Text Embeddings v2",
        ),
        (
            json!({"model": TITAN_V2, "input": "x", "input_type": "search_query"}),
            "input_type",
            "Amazon Titan Text Embeddings v2",
        ),
        (
            json!({"model": TITAN_V1, "input": "x", "normalize": true}),
            "normalize",
            "Amazon Titan Text Embeddings v1",
        ),
    ];
    for (request, param, family) in cases {
        let (status, body) = embed(&gw, request.clone()).await;
        assert_eq!(status, 400, "{request}: {body}");
        assert_eq!(body["error"]["param"], param, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(family) && message.contains(&format!("`{param}`")),
            "{message}"
        );
    }
    assert!(received(&gw).await.is_empty());
}

/// A request as the Lambda function gets it from an ALB (or a Function URL), with `body`.
fn lambda_request(event: &str, body: &Value) -> lambda_http::Request {
    let mut event: Value = serde_json::from_str(event).unwrap();
    let body = body.to_string();
    if let Some(length) = event.pointer_mut("/multiValueHeaders/content-length") {
        *length = json!([body.len().to_string()]);
    }
    event["body"] = json!(body);
    // Through the Lambda adapter's own conversion, which tells the handler the caller's limit.
    bedrock_gateway::lambda::router_request(serde_json::from_value(event).unwrap()).unwrap()
}

#[tokio::test]
async fn batches_too_large_for_the_alb_are_refused_before_bedrock() {
    use tower::ServiceExt;

    let emulator = bedrock_emulator::spawn(EmulatorConfig::default())
        .await
        .unwrap();
    let vars: std::collections::HashMap<String, String> =
        std::collections::HashMap::from([("API_KEY".to_string(), crate::support::KEY.to_string())]);
    let config = bedrock_gateway::config::Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let state = bedrock_gateway::state::AppState::with_sdk_config(
        config,
        &crate::support::sdk_config(&emulator.url()),
    );
    let router = bedrock_gateway::app::router(state);
    let calls = || async {
        let log = crate::support::emulator_calls(&emulator, "invoke").await;
        log["calls"].as_array().unwrap().len()
    };
    let send = |request: lambda_http::Request| {
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let alb = include_str!("../../events/alb-embeddings.json");
    let texts: Vec<String> = (0..100).map(|i| format!("chunk {i}")).collect();

    // 100 float vectors of 1024 dimensions: about 1.2 MB, over the ALB's 1 MB.
    let floats = json!({"model": TITAN_V2, "input": texts, "encoding_format": "float"});
    let (status, body) = send(lambda_request(alb, &floats)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "response_too_large");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("chunk_size=80") && message.contains("base64"),
        "{message}"
    );
    assert_eq!(calls().await, 0, "refused before any Bedrock call");

    // The same inputs as base64 (the OpenAI SDKs' default) fit: about 0.6 MB.
    let base64 = json!({"model": TITAN_V2, "input": texts, "encoding_format": "base64"});
    let (status, body) = send(lambda_request(alb, &base64)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 100);
    assert_eq!(calls().await, 100);

    // Through the Function URL there is no 1 MB limit.
    let url = include_str!("../../events/url-embeddings.json");
    let (status, body) = send(lambda_request(url, &floats)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 100);
}
