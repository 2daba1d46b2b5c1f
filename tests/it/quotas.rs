//! Quotas that hold across gateway instances: two real `bedrock-gateway` processes (as two
//! Lambda execution environments would be) share one DynamoDB quota table in moto, shaped as
//! template.yaml makes it. Requests and tokens counted by one process refuse requests on the
//! other; tokens come from Bedrock's usage, streamed answers included; the usage report reads
//! what both counted; an unreachable table follows `QUOTA_FAILURE`.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use serde_json::{Value, json};

use crate::support::gateway_process::GatewayProcess;
use crate::support::moto::{self, free_port};
use crate::support::responses_table::dynamodb;
use crate::support::{MODEL, user};

/// A new quota table in the shared moto: `pk` + `sk` strings, TTL on `expires_at`.
async fn new_table() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "quotas-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let client = dynamodb(&moto::shared().url);
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&name)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("moto creates the table");
    client
        .update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires_at")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("moto enables TTL");
    name
}

/// Two gateway processes sharing `table`, with the key document `keys`.
async fn two_gateways(
    table: &str,
    keys: &Value,
    extra: &[(&str, &str)],
) -> (GatewayProcess, GatewayProcess) {
    let keys = keys.to_string();
    let moto_url = moto::shared().url.clone();
    let mut env = vec![
        ("API_KEY", keys.as_str()),
        ("QUOTA_TABLE", table),
        ("AWS_ENDPOINT_URL_DYNAMODB", moto_url.as_str()),
    ];
    env.extend_from_slice(extra);
    let a = GatewayProcess::start(&env).await;
    let b = GatewayProcess::start(&env).await;
    (a, b)
}

async fn chat(gateway: &GatewayProcess, key: &str, body: Value) -> (u16, Option<String>, Value) {
    let response = gateway
        .http
        .post(format!("{}/api/v1/chat/completions", gateway.url))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let text = response.text().await.unwrap();
    (
        status,
        retry_after,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Waits, if needed, until the current UTC minute has at least `seconds` left, so that a test's
/// requests fall in one quota window.
async fn within_one_minute(seconds: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let left = 60.0 - now % 60.0;
    if left < seconds as f64 {
        tokio::time::sleep(Duration::from_secs_f64(left + 0.2)).await;
    }
}

fn assert_refused(status: u16, retry_after: Option<String>, body: &Value, key: &str, limit: &str) {
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("`{key}`")) && message.contains(limit),
        "{message}"
    );
    let retry_after: u64 = retry_after.expect("retry-after").parse().unwrap();
    assert!((1..=86_400).contains(&retry_after), "{retry_after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_requests_per_minute_quota() {
    let table = new_table().await;
    let keys = json!({"keys": [
        {"name": "limited", "key": "sk-limited", "rpm": 3},
        {"name": "free", "key": "sk-free"},
    ]});
    let (a, b) = two_gateways(&table, &keys, &[]).await;
    within_one_minute(20).await;
    for (i, gateway) in [&a, &b, &a].into_iter().enumerate() {
        let (status, _, body) = chat(gateway, "sk-limited", user(MODEL, "hi")).await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    // The fourth request of the minute, on either process, is refused.
    for gateway in [&b, &a] {
        let (status, retry_after, body) = chat(gateway, "sk-limited", user(MODEL, "hi")).await;
        assert_refused(
            status,
            retry_after.clone(),
            &body,
            "limited",
            "3 requests per minute",
        );
        assert!(retry_after.unwrap().parse::<u64>().unwrap() <= 60);
    }
    // Other keys are not affected.
    let (status, _, body) = chat(&b, "sk-free", user(MODEL, "hi")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_counted_on_one_process_refuse_requests_on_the_other() {
    let table = new_table().await;
    let keys = json!({"keys": [
        {"name": "limited", "key": "sk-limited", "tpm": 5},
        {"name": "daily", "key": "sk-daily", "tokens_per_day": 5},
        {"name": "admin", "key": "sk-admin", "admin": true},
    ]});
    let (a, b) = two_gateways(&table, &keys, &[]).await;
    within_one_minute(20).await;

    // A streamed answer: its tokens arrive in the stream's last events.
    let mut body = user(MODEL, "one two three four five six");
    body["stream"] = json!(true);
    let (status, _, answer) = chat(&a, "sk-limited", body).await;
    assert_eq!(status, 200, "{answer}");
    let (status, retry_after, answer) = chat(&b, "sk-limited", user(MODEL, "hi")).await;
    assert_refused(
        status,
        retry_after,
        &answer,
        "limited",
        "5 tokens per minute",
    );

    let (status, _, answer) =
        chat(&b, "sk-daily", user(MODEL, "one two three four five six")).await;
    assert_eq!(status, 200, "{answer}");
    let usage = answer["usage"].clone();
    let (status, retry_after, answer) = chat(&a, "sk-daily", user(MODEL, "hi")).await;
    assert_refused(status, retry_after, &answer, "daily", "5 tokens per day");

    // Both processes' counts, read from the table by either.
    let report: Value = a
        .http
        .get(format!("{}/api/v1/usage", a.url))
        .bearer_auth("sk-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = report["data"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{report}");
    let daily = rows.iter().find(|r| r["key"] == "daily").expect("daily");
    assert_eq!(daily["model"], MODEL);
    assert_eq!(daily["requests"], 1);
    assert_eq!(daily["input_tokens"], usage["prompt_tokens"]);
    assert_eq!(daily["output_tokens"], usage["completion_tokens"]);
    let limited = rows
        .iter()
        .find(|r| r["key"] == "limited")
        .expect("limited");
    assert!(limited["total_tokens"].as_u64().unwrap() > 5, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_table_fails_open_by_default_or_closed_when_asked() {
    // Nothing listens there.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let keys = json!({"keys": [{"name": "limited", "key": "sk-limited", "rpm": 1}]}).to_string();
    let env = |failure: &'static str| {
        vec![
            ("API_KEY", keys.clone()),
            ("QUOTA_TABLE", "quotas".to_string()),
            ("AWS_ENDPOINT_URL_DYNAMODB", nowhere.clone()),
            ("AWS_MAX_ATTEMPTS", "1".to_string()),
            ("QUOTA_FAILURE", failure.to_string()),
        ]
    };
    let start = |vars: Vec<(&'static str, String)>| async move {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        GatewayProcess::start(&vars).await
    };

    // JSON lines, so the request line's metrics can be read.
    let mut open_env = env("open");
    open_env.push(("LOG_FORMAT", "json".to_string()));
    let open = start(open_env).await;
    for _ in 0..2 {
        let (status, _, body) = chat(&open, "sk-limited", user(MODEL, "hi")).await;
        assert_eq!(status, 200, "fails open: {body}");
    }
    let log = open.log_text();
    assert!(
        log.contains("quota check failed") && log.contains(r#""key_name":"limited""#),
        "{log}"
    );
    // Each request let through unchecked is counted in the EMF metric.
    assert_eq!(log.matches(r#""QuotaCheckFailures":1"#).count(), 2, "{log}");
    assert!(!log.contains("sk-limited"), "{log}");

    let closed = start(env("closed")).await;
    let (status, _, body) = chat(&closed, "sk-limited", user(MODEL, "hi")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "quota_unavailable");
}
