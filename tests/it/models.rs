//! Models end to end: `GET /models` and `GET /models/{id}` listed live from the emulator's
//! ListFoundationModels and ListInferenceProfiles through the real AWS SDK, the cache in
//! front of them, and the same catalogue checking `model` on chat and embeddings requests.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::support::{KEY, MODEL, user};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use bedrock_emulator::catalog::APPLICATION_PROFILE_ARN;
use bedrock_emulator::embeddings::EMBEDDING_PROFILE_ARN;
use bedrock_emulator::embeddings::unit_vector;
use bedrock_emulator::listing::{DEFAULT_PAGE_SIZE, DENIED_KEY_PREFIX};
use bedrock_emulator::{EmulatorConfig, RunningEmulator};
use bedrock_gateway::catalog::Catalog;
use bedrock_gateway::{app, config::Config, state::AppState};
use serde_json::{Value, json};

const PROFILE: &str = "us.anthropic.claude-3-5-haiku-20241022-v1:0";

/// A catalogue's cache lifetime and miss-refresh interval, for tests that set them.
struct CatalogTimes {
    ttl: Duration,
    miss_refresh: Duration,
}

fn times(ttl: Duration, miss_refresh: Duration) -> Option<CatalogTimes> {
    Some(CatalogTimes { ttl, miss_refresh })
}

/// A gateway in front of `emulator`, signing with `access_key`, with its own catalogue.
struct Gateway {
    url: String,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start_gateway(
    emulator: &RunningEmulator,
    access_key: &str,
    env: &[(&str, &str)],
    catalog: Option<CatalogTimes>,
) -> Gateway {
    let mut vars: HashMap<String, String> = HashMap::from([("API_KEY".into(), KEY.into())]);
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        // `AWS_REGION` in `env` picks the gateway's region (the SDK reads it, not `Config`).
        .region(Region::new(
            vars.get("AWS_REGION")
                .cloned()
                .unwrap_or_else(|| "us-east-1".into()),
        ))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(access_key, "secret", None, None, "static"),
            ),
        )
        .endpoint_url(emulator.url())
        .build();
    let mut state = AppState::with_sdk_config(config, &sdk);
    if let Some(times) = catalog {
        let catalog = Catalog::new(state.bedrock.clone(), times.ttl)
            .with_miss_refresh_interval(times.miss_refresh);
        state.catalog = std::sync::Arc::new(catalog);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app::router(state)).await;
    });
    Gateway {
        url,
        http: crate::support::http_client(),
        task,
    }
}

impl Gateway {
    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/api/v1{path}", self.url))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }
}

async fn emulator() -> RunningEmulator {
    bedrock_emulator::spawn(EmulatorConfig::default())
        .await
        .unwrap()
}

/// The listing calls the emulator has received: (ListFoundationModels, ListInferenceProfiles).
async fn listings(emulator: &RunningEmulator) -> (u64, u64) {
    let body = crate::support::emulator_calls(emulator, "listing").await;
    (
        body["listFoundationModels"].as_u64().unwrap(),
        body["listInferenceProfiles"].as_u64().unwrap(),
    )
}

/// GetInferenceProfile calls the emulator has received.
async fn profile_lookups(emulator: &RunningEmulator) -> u64 {
    crate::support::emulator_calls(emulator, "listing").await["getInferenceProfile"]
        .as_u64()
        .unwrap()
}

/// Waits (up to 5 s) until the emulator has received `count` ListFoundationModels calls.
async fn wait_for_listings(emulator: &RunningEmulator, count: u64) {
    for _ in 0..100 {
        if listings(emulator).await.0 >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the emulator never got {count} listings");
}

/// Makes the emulator's listings misbehave from now on (see `ListingBehaviour`).
async fn set_listing(emulator: &RunningEmulator, behaviour: Value) {
    let response = crate::support::http_client()
        .post(format!("{}/_emulator/listing", emulator.url()))
        .json(&behaviour)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{behaviour}");
}

/// Creates an application inference profile with the real SDK, as an account admin would.
async fn create_profile(emulator: &RunningEmulator, name: &str, model_id: &str) -> String {
    let control = aws_sdk_bedrock::Client::new(&crate::support::sdk_config(&emulator.url()));
    control
        .create_inference_profile()
        .inference_profile_name(name)
        .model_source(
            aws_sdk_bedrock::types::InferenceProfileModelSource::CopyFrom(format!(
                "arn:aws:bedrock:us-east-1::foundation-model/{model_id}"
            )),
        )
        .send()
        .await
        .unwrap()
        .inference_profile_arn
}

fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a float list: {value}"))
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn assert_close(actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() < 1e-6, "component {i}: {a} != {e}");
    }
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn lists_invocable_models_and_profiles_in_openai_shape() {
    let emulator = emulator().await;
    let gw = start_gateway(&emulator, "AKIDTEST", &[], None).await;
    let (status, list) = gw.get("/api/v1/models").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["object"], "list");
    for entry in list["data"].as_array().unwrap() {
        assert_eq!(entry["object"], "model");
        assert!(entry["created"].is_i64(), "{entry}");
        assert!(!entry["owned_by"].as_str().unwrap().is_empty(), "{entry}");
    }
    let ids = ids(&list);
    // Chat models first (clients that pick the first model get one they can chat with), then
    // embedding and image models; each group by id.
    let is_embedding = |id: &String| {
        id.contains("embed")
            || id.contains("canvas")
            || id.contains("image-generator")
            || id.starts_with("stability.")
    };
    let first_embedding = ids.iter().position(is_embedding).unwrap();
    assert!(ids[first_embedding..].iter().all(is_embedding), "{ids:?}");
    assert!(ids.iter().any(|id| id.contains("canvas")), "{ids:?}");
    for group in [&ids[..first_embedding], &ids[first_embedding..]] {
        let mut sorted = group.to_vec();
        sorted.sort();
        assert_eq!(group, sorted);
    }
    for expected in [
        MODEL,
        PROFILE,
        "amazon.titan-embed-text-v2:0",
        "us.cohere.embed-v4:0",
        "amazon.nova-2-multimodal-embeddings-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        // Only reachable through a profile: the profile is listed.
        "us.deepseek.r1-v1:0",
        APPLICATION_PROFILE_ARN,
        EMBEDDING_PROFILE_ARN,
        // Image models the gateway drives (`/images/generations`).
        "amazon.titan-image-generator-v2:0",
        "amazon.nova-canvas-v1:0",
        "stability.stable-image-core-v1:1",
    ] {
        assert!(ids.iter().any(|id| id == expected), "{expected} missing");
    }
    // Legacy and provisioned-only models are left out, and so is a bare id that cannot be
    // invoked on demand (only through its inference profile).
    for left_out in [
        "anthropic.claude-v2:1",
        "cohere.embed-english-v3:0:512",
        "deepseek.r1-v1:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "cohere.embed-v4:0",
    ] {
        assert!(!ids.iter().any(|id| id == left_out), "{left_out} listed");
    }
    let entry = |id: &str| {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        entry("anthropic.claude-3-haiku-20240307-v1:0"),
        json!({"id": "anthropic.claude-3-haiku-20240307-v1:0", "object": "model", "created": 0, "owned_by": "anthropic"})
    );
    let profile = entry(PROFILE);
    assert_eq!(profile["owned_by"], "anthropic");
    assert_eq!(profile["created"], 1_724_716_800); // 2024-08-27T00:00:00Z
    assert_eq!(entry(APPLICATION_PROFILE_ARN)["owned_by"], "111122223333");

    // The same list under /v1 for clients configured with a bare /v1 base URL.
    let (status, again) = gw.get("/v1/models").await;
    assert_eq!(status, 200);
    assert_eq!(again, list);
}

#[tokio::test]
async fn every_page_of_inference_profiles_is_listed() {
    let emulator = emulator().await;
    let gw = start_gateway(&emulator, "AKIDTEST", &[], None).await;
    let (status, list) = gw.get("/api/v1/models").await;
    assert_eq!(status, 200);
    let listed: BTreeSet<String> = ids(&list).into_iter().collect();

    // What Bedrock has, read page by page with the SDK's own paginator.
    let control = aws_sdk_bedrock::Client::new(&crate::support::sdk_config(&emulator.url()));
    let pages: Vec<_> = control
        .list_inference_profiles()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert!(
        pages.len() > 2,
        "the emulator should answer in several pages"
    );
    let profiles: Vec<String> = pages
        .iter()
        .flat_map(|page| page.inference_profile_summaries())
        .map(|p| match p.r#type().as_str() {
            "APPLICATION" => p.inference_profile_arn().to_string(),
            _ => p.inference_profile_id().to_string(),
        })
        .collect();
    assert!(profiles.len() > DEFAULT_PAGE_SIZE * 2);
    for profile in &profiles {
        assert!(listed.contains(profile), "{profile} missing from /models");
    }
    // The gateway asks for 1000 profiles a page: one page per profile type, where a client
    // using the default page size needed several.
    let (_, profile_calls) = listings(&emulator).await;
    assert_eq!(profile_calls, pages.len() as u64 + 2);
}

#[tokio::test]
async fn short_pages_are_followed_and_endless_paging_fails_the_listing() {
    // Bedrock may answer fewer profiles than asked for, with a next token: every page counts.
    let emulator = emulator().await;
    set_listing(&emulator, json!({"maxPageSize": 3})).await;
    let gw = start_gateway(&emulator, "AKIDTEST", &[], None).await;
    let (status, list) = gw.get("/api/v1/models").await;
    assert_eq!(status, 200, "{list}");
    let listed: BTreeSet<String> = ids(&list).into_iter().collect();
    for profile in [PROFILE, APPLICATION_PROFILE_ARN, EMBEDDING_PROFILE_ARN] {
        assert!(listed.contains(profile), "{profile} missing");
    }
    let (_, profile_calls) = listings(&emulator).await;
    assert!(profile_calls > 10, "{profile_calls} pages");

    // A paginator that never ends is a failed listing, not a silently truncated one.
    let emulator = self::emulator().await;
    set_listing(&emulator, json!({"endlessPages": true})).await;
    let gw = start_gateway(&emulator, "AKIDTEST", &[], None).await;
    let (status, body) = gw.get("/api/v1/models").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("100 pages"),
        "{body}"
    );
    // Nothing to check against: Bedrock decides.
    let (status, body) = gw
        .post("/chat/completions", user("anthropic.claude-9-v1:0", "hi"))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "ValidationException");
}

#[tokio::test]
async fn retrieves_one_model_by_id_profile_or_arn() {
    let emulator = emulator().await;
    let gw = start_gateway(&emulator, "AKIDTEST", &[], None).await;
    let (status, entry) = gw.get(&format!("/api/v1/models/{PROFILE}")).await;
    assert_eq!(status, 200, "{entry}");
    assert_eq!(entry["id"], PROFILE);
    assert_eq!(entry["object"], "model");

    // ARNs carry `/`: raw or percent-encoded, they reach the model.
    let (status, entry) = gw
        .get(&format!("/api/v1/models/{APPLICATION_PROFILE_ARN}"))
        .await;
    assert_eq!(status, 200, "{entry}");
    assert_eq!(entry["id"], APPLICATION_PROFILE_ARN);
    let encoded = APPLICATION_PROFILE_ARN
        .replace(':', "%3A")
        .replace('/', "%2F");
    let (status, entry) = gw.get(&format!("/v1/models/{encoded}")).await;
    assert_eq!(status, 200, "{entry}");
    assert_eq!(entry["id"], APPLICATION_PROFILE_ARN);

    let (status, error) = gw.get("/api/v1/models/anthropic.claude-9-opus-v1:0").await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["error"]["code"], "model_not_found");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("anthropic.claude-9-opus-v1:0")
    );
    // Known to Bedrock but not offered (legacy): not retrievable either.
    let (status, _) = gw.get("/api/v1/models/anthropic.claude-v2:1").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_catalogue_is_cached_per_environment() {
    let emulator = emulator().await;
    let gw = start_gateway(&emulator, "AKIDTEST", &[], None).await;
    assert_eq!(listings(&emulator).await, (0, 0));
    let (status, first) = gw.get("/api/v1/models").await;
    assert_eq!(status, 200);
    let after_first = listings(&emulator).await;
    assert_eq!(after_first.0, 1);
    let (status, second) = gw.get("/api/v1/models").await;
    assert_eq!(status, 200);
    assert_eq!(first, second);
    let (status, body) = gw.post("/chat/completions", user(PROFILE, "hi")).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = gw.get(&format!("/api/v1/models/{MODEL}")).await;
    assert_eq!(status, 200);
    assert_eq!(listings(&emulator).await, after_first);

    // MODELS_CACHE_SECONDS=0: every request lists again.
    let emulator = self::emulator().await;
    let gw = start_gateway(
        &emulator,
        "AKIDTEST",
        &[("MODELS_CACHE_SECONDS", "0")],
        None,
    )
    .await;
    gw.get("/api/v1/models").await;
    gw.get("/api/v1/models").await;
    // The second request is answered from the first listing while a background task lists.
    wait_for_listings(&emulator, 2).await;
}

#[tokio::test]
async fn unknown_models_get_a_404_naming_them() {
    let emulator = emulator().await;
    let gw = start_gateway(&emulator, "AKIDTEST", &[], None).await;
    let typo = "anthropic.claude-3-5-haiku-20241022-v9:0";
    let (status, body) = gw.post("/chat/completions", user(typo, "hi")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");
    assert_eq!(body["error"]["param"], "model");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(typo) && message.contains("/api/v1/models"),
        "{message}"
    );
    let (status, body) = gw
        .post(
            "/embeddings",
            json!({"model": "cohere.embed-v5:0", "input": "x"}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");

    // Known models, profiles and ARNs pass; ARNs without asking the catalogue.
    for model in [MODEL, PROFILE, APPLICATION_PROFILE_ARN] {
        let (status, body) = gw.post("/chat/completions", user(model, "hi")).await;
        assert_eq!(status, 200, "{model}: {body}");
    }
    // Listed by Bedrock as profile-only: the gateway calls the profile of its region.
    let (status, body) = gw
        .post("/chat/completions", user("deepseek.r1-v1:0", "hi"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], "us.deepseek.r1-v1:0");
}

#[tokio::test]
async fn a_miss_refreshes_once_then_waits_for_the_interval() {
    let emulator = emulator().await;
    let catalog = times(Duration::from_secs(600), Duration::from_millis(400));
    let gw = start_gateway(&emulator, "AKIDTEST", &[], catalog).await;
    let typo = json!({"model": "amazon.titan-embed-text-v7:0", "input": "x"});

    gw.get("/api/v1/models").await;
    assert_eq!(listings(&emulator).await.0, 1);
    // Right after a listing, a miss does not list again.
    let (status, _) = gw.post("/embeddings", typo.clone()).await;
    assert_eq!(status, 404);
    assert_eq!(listings(&emulator).await.0, 1);

    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, _) = gw.post("/embeddings", typo.clone()).await;
    assert_eq!(status, 404);
    assert_eq!(
        listings(&emulator).await.0,
        2,
        "a miss refreshes the catalogue"
    );
    let (status, _) = gw.post("/embeddings", typo.clone()).await;
    assert_eq!(status, 404);
    let (status, _) = gw.get("/api/v1/models/amazon.titan-embed-text-v7:0").await;
    assert_eq!(status, 404);
    assert_eq!(listings(&emulator).await.0, 2, "misses are rate-limited");

    // Hits never list.
    let (status, _) = gw
        .post(
            "/embeddings",
            json!({"model": "amazon.titan-embed-text-v2:0", "input": "x"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(listings(&emulator).await.0, 2);
}

#[tokio::test]
async fn without_list_permission_requests_still_reach_bedrock() {
    let emulator = emulator().await;
    let access_key = format!("{DENIED_KEY_PREFIX}EXAMPLE");
    let gw = start_gateway(&emulator, &access_key, &[], None).await;

    let (status, body) = gw
        .post("/chat/completions", user(PROFILE, "still works"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "still works");
    let (status, body) = gw
        .post(
            "/embeddings",
            json!({"model": "us.cohere.embed-v4:0", "input": "x"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Nothing to check against: Bedrock's own answer comes back.
    let (status, body) = gw
        .post("/chat/completions", user("anthropic.claude-9-v1:0", "hi"))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "ValidationException");
    // Listing failed once; later requests do not list again straight away.
    assert_eq!(listings(&emulator).await.0, 1);

    let (status, body) = gw.get("/api/v1/models").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["type"], "permission_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bedrock:List"),
        "{body}"
    );
    // GET /models does not list again either while the failure is recent.
    let (status, _) = gw.get("/api/v1/models").await;
    assert_eq!(status, 403);
    assert_eq!(listings(&emulator).await.0, 1);
}

const TITAN_V2: &str = "amazon.titan-embed-text-v2:0";
const COHERE_V4: &str = "cohere.embed-v4:0";

#[tokio::test]
async fn profile_arns_embed_without_list_permission() {
    let emulator = emulator().await;
    let access_key = format!("{DENIED_KEY_PREFIX}EXAMPLE");
    let gw = start_gateway(&emulator, &access_key, &[], None).await;
    for text in ["first", "second"] {
        let (status, body) = gw
            .post(
                "/embeddings",
                json!({"model": EMBEDDING_PROFILE_ARN, "input": text}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_close(
            &floats(&body["data"][0]["embedding"]),
            &unit_vector(COHERE_V4, text, 1536),
        );
    }
    // GetInferenceProfile told the model once; the answer is kept.
    assert_eq!(profile_lookups(&emulator).await, 1);
    assert_eq!(listings(&emulator).await.0, 1);

    // A profile nobody can describe is still refused clearly.
    let unknown =
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/nope12345678";
    let (status, body) = gw
        .post("/embeddings", json!({"model": unknown, "input": "x"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "model_not_supported");
}

#[tokio::test]
async fn profiles_created_after_the_listing_resolve() {
    // The miss refresh is rate-limited to once per 10 minutes: GetInferenceProfile answers.
    let emulator = emulator().await;
    let catalog = times(Duration::from_secs(600), Duration::from_secs(600));
    let gw = start_gateway(&emulator, "AKIDTEST", &[], catalog).await;
    let (status, _) = gw.get("/api/v1/models").await;
    assert_eq!(status, 200);
    let arn = create_profile(&emulator, "late-titan", TITAN_V2).await;
    let (status, body) = gw
        .post("/embeddings", json!({"model": arn, "input": "late"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_close(
        &floats(&body["data"][0]["embedding"]),
        &unit_vector(TITAN_V2, "late", 1024),
    );
    assert_eq!(listings(&emulator).await.0, 1);
    assert_eq!(profile_lookups(&emulator).await, 1);

    // Once the interval allows, the miss refreshes the listing, which now has the profile.
    let emulator = self::emulator().await;
    let catalog = times(Duration::from_secs(600), Duration::from_millis(200));
    let gw = start_gateway(&emulator, "AKIDTEST", &[], catalog).await;
    gw.get("/api/v1/models").await;
    let arn = create_profile(&emulator, "late-cohere", COHERE_V4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = gw
        .post("/embeddings", json!({"model": arn, "input": ["a", "b"]}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_close(
        &floats(&body["data"][1]["embedding"]),
        &unit_vector(COHERE_V4, "b", 1536),
    );
    assert_eq!(listings(&emulator).await.0, 2);
    assert_eq!(profile_lookups(&emulator).await, 0);
    let (_, list) = gw.get("/api/v1/models").await;
    assert!(ids(&list).contains(&arn), "{arn} not listed");
}

#[tokio::test]
async fn a_failed_refresh_falls_back_to_the_last_listing() {
    let emulator = emulator().await;
    let catalog = times(Duration::from_millis(200), Duration::from_secs(600));
    let gw = start_gateway(&emulator, "AKIDTEST", &[], catalog).await;
    let (status, first) = gw.get("/api/v1/models").await;
    assert_eq!(status, 200);
    // Listing breaks (say, a permission removed) after the cache lifetime ended.
    set_listing(&emulator, json!({"denied": true})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let embed = json!({"model": EMBEDDING_PROFILE_ARN, "input": "stale but known"});
    let (status, body) = gw.post("/embeddings", embed.clone()).await;
    assert_eq!(status, 200, "{body}");
    // The refresh that request started has failed by now; the last listing still serves.
    wait_for_listings(&emulator, 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, body) = gw.post("/embeddings", embed).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(profile_lookups(&emulator).await, 0);
    let (status, list) = gw.get("/api/v1/models").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list, first);
    // And the failure is not retried on every request.
    assert_eq!(listings(&emulator).await.0, 2);
}

#[tokio::test]
async fn bare_ids_of_profile_only_models_call_the_profile_of_the_region() {
    let emulator = emulator().await;
    let gw = start_gateway(&emulator, "AKIDTEST", &[], None).await;
    let (status, body) = gw
        .post("/chat/completions", user(HAIKU_3_5, "routed"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], format!("us.{HAIKU_3_5}"));
    let (status, body) = gw
        .post(
            "/embeddings",
            json!({"model": "cohere.embed-v4:0", "input": "x"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let log = crate::support::emulator_calls(&emulator, "invoke").await;
    assert_eq!(log["calls"][0]["modelId"], "us.cohere.embed-v4:0");

    let gw = start_gateway(&emulator, "AKIDTEST", &[("AWS_REGION", "eu-west-1")], None).await;
    let (status, body) = gw
        .post("/chat/completions", user(HAIKU_3_5, "routed"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], format!("eu.{HAIKU_3_5}"));
}

/// Without a profile of the region's geography, `global.` is used only when allowed; otherwise,
/// and with routing off, the client gets a 400 naming the ids it can call.
const HAIKU_3_5: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";
const SONNET_4_5: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

/// Bedrock refuses the bare id of a profile-only model; the gateway calls the system profile of
/// its own region's geography instead, for chat and embeddings alike.
#[tokio::test]
async fn profile_routing_off_or_global_only_is_a_400_naming_the_callable_ids() {
    let emulator = emulator().await;
    let gw = start_gateway(
        &emulator,
        "AKIDTEST",
        &[("AUTO_INFERENCE_PROFILE", "false")],
        None,
    )
    .await;
    let (status, body) = gw
        .post("/chat/completions", user(HAIKU_3_5, "not routed"))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "inference_profile_required");
    assert_eq!(body["error"]["param"], "model");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("us.{HAIKU_3_5}")), "{message}");
    assert!(
        message.contains("AUTO_INFERENCE_PROFILE=false"),
        "{message}"
    );

    // ap-south-1 is in none of the emulated geography profiles of Sonnet 4.5.
    let gw = start_gateway(&emulator, "AKIDTEST", &[("AWS_REGION", "ap-south-1")], None).await;
    let (status, body) = gw
        .post("/chat/completions", user(SONNET_4_5, "where to?"))
        .await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("global.{SONNET_4_5}")),
        "{message}"
    );
    assert!(
        message.contains("ALLOW_GLOBAL_INFERENCE_PROFILE"),
        "{message}"
    );
    let gw = start_gateway(
        &emulator,
        "AKIDTEST",
        &[
            ("AWS_REGION", "ap-south-1"),
            ("ALLOW_GLOBAL_INFERENCE_PROFILE", "true"),
        ],
        None,
    )
    .await;
    let (status, body) = gw
        .post("/chat/completions", user(SONNET_4_5, "anywhere"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], format!("global.{SONNET_4_5}"));
}
