//! API keys from SSM Parameter Store and Secrets Manager, end to end.
//!
//! moto's server stands in for SSM and Secrets Manager; the test seeds it with the real
//! aws-sdk-ssm / aws-sdk-secretsmanager clients, then runs the real `bedrock-gateway` binary
//! (local-server mode) with `API_KEY_PARAM_NAME` or `API_KEY_SECRET_ARN` and
//! `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL_SECRETS_MANAGER` pointing at moto, and the Bedrock
//! emulator behind it, and sends chat requests with various keys.
//!
//! moto comes from tests/requirements.txt, which `make test` installs into the repository's `.venv`;
//! `support::moto` starts it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::time::Instant;

use aws_sdk_ssm::types::ParameterType;
use serde_json::{Value, json};

use crate::support::gateway_process::GatewayProcess;
use crate::support::moto::{self, Moto, free_port};

const MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

/// A name no other test (or earlier run against the same moto) uses.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

async fn put_parameter(moto: &Moto, name: &str, kind: ParameterType, value: &str) {
    let ssm = aws_sdk_ssm::Client::new(&crate::support::sdk_config(&moto.url));
    ssm.put_parameter()
        .name(name)
        .r#type(kind)
        .value(value)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put_parameter {name}: {e:?}"));
}

/// SSM that can come and go on a port of its own: a TCP relay to the shared moto. Dropping it
/// closes the port and every relayed connection, so the gateway's next call is refused.
struct Relay {
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(port: u16, moto_url: &str) -> Relay {
        let target = moto_url.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the relay port is free");
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Relay { task }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------------
// The gateway binary
// ---------------------------------------------------------------------------------------------

/// The real gateway binary reading its keys from `ssm_endpoint` (moto).
struct Gateway(GatewayProcess);

impl std::ops::Deref for Gateway {
    type Target = GatewayProcess;
    fn deref(&self) -> &GatewayProcess {
        &self.0
    }
}

impl Gateway {
    async fn start(ssm_endpoint: &str, env: &[(&str, &str)]) -> Gateway {
        let mut vars = vec![
            ("AWS_ENDPOINT_URL_SSM", ssm_endpoint),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", ssm_endpoint),
        ];
        vars.extend_from_slice(env);
        Gateway(GatewayProcess::start(&vars).await)
    }

    /// A chat request with `key`: (status, JSON body).
    async fn chat(&self, key: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/api/v1/chat/completions", self.url))
            .bearer_auth(key)
            .json(&json!({"model": MODEL, "messages": [{"role": "user", "content": "ping"}]}))
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Asserts `key` is accepted (the chat reaches the emulator and answers).
    async fn assert_accepts(&self, key: &str, why: &str) {
        let (status, body) = self.chat(key).await;
        assert_eq!(
            status,
            200,
            "{why}: key `{key}` refused: {body}\ngateway log:\n{}",
            self.log_text()
        );
        assert_eq!(body["choices"][0]["message"]["content"], "ping");
    }

    /// Asserts `key` gets the OpenAI 401.
    async fn assert_refuses(&self, key: &str, why: &str) {
        let (status, body) = self.chat(key).await;
        assert_eq!(status, 401, "{why}: key `{key}` got {status}: {body}");
        assert_eq!(body["error"]["type"], "authentication_error", "{why}");
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn securestring_keys_by_plain_and_hierarchical_name() {
    let moto = moto::shared();
    let plain = unique("gateway-key");
    let hierarchical = format!("/{}/gateway/key", unique("team"));
    put_parameter(moto, &plain, ParameterType::SecureString, "sk-plain-1").await;
    put_parameter(
        moto,
        &hierarchical,
        ParameterType::SecureString,
        "sk-team-1",
    )
    .await;

    let gateway = Gateway::start(&moto.url, &[("API_KEY_PARAM_NAME", &plain)]).await;
    gateway.assert_accepts("sk-plain-1", "plain name").await;
    gateway
        .assert_refuses("sk-team-1", "another parameter's key")
        .await;
    gateway.assert_refuses("", "empty key").await;

    let gateway = Gateway::start(&moto.url, &[("API_KEY_PARAM_NAME", &hierarchical)]).await;
    gateway
        .assert_accepts("sk-team-1", "hierarchical name")
        .await;
    gateway
        .assert_refuses("sk-plain-1", "another parameter's key")
        .await;
    assert!(
        !gateway.log_text().contains("sk-team-1"),
        "keys must never be logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_keys_in_a_stringlist_or_one_per_line() {
    let moto = moto::shared();
    let list = unique("gateway-keys-list");
    let lines = format!("/{}/keys", unique("gateway-keys-lines"));
    put_parameter(moto, &list, ParameterType::StringList, "sk-a,sk-b").await;
    put_parameter(
        moto,
        &lines,
        ParameterType::SecureString,
        "sk-c\nsk-d\r\n\n",
    )
    .await;

    let gateway = Gateway::start(&moto.url, &[("API_KEY_PARAM_NAME", &list)]).await;
    gateway
        .assert_accepts("sk-a", "first of a StringList")
        .await;
    gateway
        .assert_accepts("sk-b", "second of a StringList")
        .await;
    gateway.assert_refuses("sk-a,sk-b", "the raw list").await;

    let gateway = Gateway::start(&moto.url, &[("API_KEY_PARAM_NAME", &lines)]).await;
    gateway.assert_accepts("sk-c", "first line").await;
    gateway.assert_accepts("sk-d", "second line, CRLF").await;
    gateway
        .assert_refuses("sk-c sk-d", "both keys at once")
        .await;
}

/// The wiring: the binary reads SSM again once the interval allows. The timing rules (TTL,
/// early refresh at most once per interval, stale keys on failure) are tested on paused time
/// beside the code, in src/auth.rs and src/cache.rs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_keys_are_read_again_from_ssm() {
    let moto = moto::shared();
    let name = format!("/{}/gateway/key", unique("rotation"));
    put_parameter(moto, &name, ParameterType::SecureString, "sk-old").await;
    let gateway = Gateway::start(
        &moto.url,
        &[
            ("API_KEY_PARAM_NAME", &name),
            ("API_KEY_CACHE_SECONDS", "1"),
            ("API_KEY_MISS_REFRESH_SECONDS", "1"),
        ],
    )
    .await;
    gateway.assert_accepts("sk-old", "initial key").await;
    put_parameter(moto, &name, ParameterType::SecureString, "sk-new").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    gateway
        .assert_accepts("sk-new", "new key after the interval")
        .await;
    gateway
        .assert_refuses("sk-old", "old key after the refresh")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_ssm_gives_a_503_then_the_gateway_recovers() {
    // moto starts (once per file) while the outage is tested.
    let moto = tokio::task::spawn_blocking(moto::shared);
    // Nothing listens on this port yet: every load fails to connect.
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let name = format!("/{}/gateway/outage/key", unique("outage"));
    let gateway = Gateway::start(
        &endpoint,
        &[
            ("API_KEY_PARAM_NAME", &name),
            ("API_KEY_CACHE_SECONDS", "1"),
            ("API_KEY_MISS_REFRESH_SECONDS", "1"),
        ],
    )
    .await;
    for attempt in 0..2 {
        let started = Instant::now();
        let (status, body) = gateway.chat("sk-outage").await;
        assert_eq!(status, 503, "attempt {attempt}: {body}");
        let error = &body["error"];
        assert_eq!(error["type"], "api_error");
        assert_eq!(error["code"], "api_key_unavailable");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("could not load its API key from SSM Parameter Store"),
            "{message}"
        );
        assert!(message.contains("not with your key"), "{message}");
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "a failing store must answer within the key-store timeout, took {:?}",
            started.elapsed()
        );
    }

    let last_failure = Instant::now();

    // SSM comes back: the next request loads the key (while no keys are loaded, the store is
    // tried at most once a second).
    let moto = moto.await.unwrap();
    put_parameter(moto, &name, ParameterType::SecureString, "sk-outage").await;
    let relay = Relay::start(port, &moto.url).await;
    tokio::time::sleep_until(last_failure + Duration::from_secs(1)).await;
    gateway
        .assert_accepts("sk-outage", "first request after SSM is back")
        .await;

    // SSM goes away again: the cached key stays valid past its TTL, bad keys get 401s (not
    // 503s, since keys are known), and nothing hangs.
    drop(relay);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    gateway
        .assert_accepts("sk-outage", "cached key while SSM is down")
        .await;
    gateway
        .assert_refuses("sk-bogus", "bad key while SSM is down")
        .await;
    gateway
        .assert_accepts("sk-outage", "cached key while SSM is still down")
        .await;
    let log = gateway.log_text();
    assert!(log.contains("could not load the API keys"), "{log}");
    assert!(log.contains("could not refresh the API keys"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_manager_json_secret() {
    let moto = moto::shared();
    let client = aws_sdk_secretsmanager::Client::new(&crate::support::sdk_config(&moto.url));
    let single = client
        .create_secret()
        .name(unique("gateway/api-key"))
        .secret_string(r#"{"api_key":"sk-secret-1"}"#)
        .send()
        .await
        .expect("create_secret");
    let several = client
        .create_secret()
        .name(unique("gateway/api-keys"))
        .secret_string(r#"{"api_key":["sk-secret-2","sk-secret-3"]}"#)
        .send()
        .await
        .expect("create_secret");
    let wrong_shape = client
        .create_secret()
        .name(unique("gateway/other"))
        .secret_string(r#"{"password":"hunter2"}"#)
        .send()
        .await
        .expect("create_secret");

    let gateway = Gateway::start(
        &moto.url,
        &[("API_KEY_SECRET_ARN", single.arn().expect("arn"))],
    )
    .await;
    gateway.assert_accepts("sk-secret-1", "JSON api_key").await;
    gateway
        .assert_refuses(r#"{"api_key":"sk-secret-1"}"#, "the raw secret")
        .await;

    let gateway = Gateway::start(
        &moto.url,
        &[("API_KEY_SECRET_ARN", several.arn().expect("arn"))],
    )
    .await;
    gateway
        .assert_accepts("sk-secret-2", "first of a list")
        .await;
    gateway
        .assert_accepts("sk-secret-3", "second of a list")
        .await;

    // A secret without a key is an invalid key store: the process stops at start-up with one
    // line naming the shape expected, and never answers.
    let arn = wrong_shape.arn().expect("arn");
    let (code, lines) = crate::keys::run_to_exit(&[
        ("API_KEY_SECRET_ARN", arn),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.url),
    ])
    .await;
    assert_eq!(code, Some(2), "{lines:#?}");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains("Secrets Manager") && lines[0].contains("api_key"),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains("hunter2"), "{}", lines[0]);
}

/// A key document in an SSM SecureString, its key stored only as a SHA-256.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_document_in_ssm_with_a_hashed_key() {
    use sha2::Digest;
    let moto = moto::shared();
    let name = format!("/{}/gateway/keys", unique("document"));
    let digest: String = sha2::Sha256::digest(b"sk-hashed")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let document = json!({"keys": [{"name": "team", "sha256": digest, "models": ["us.anthropic.*", "anthropic.*"]}]});
    put_parameter(
        moto,
        &name,
        ParameterType::SecureString,
        &document.to_string(),
    )
    .await;
    let gateway = Gateway::start(&moto.url, &[("API_KEY_PARAM_NAME", &name)]).await;
    gateway
        .assert_accepts("sk-hashed", "the key behind the digest")
        .await;
    gateway.assert_refuses(&digest, "the digest itself").await;
    assert!(!gateway.log_text().contains("sk-hashed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_parameter_is_a_503_that_names_the_problem() {
    let moto = moto::shared();
    let gateway = Gateway::start(&moto.url, &[("API_KEY_PARAM_NAME", "/no/such/parameter")]).await;
    let (status, body) = gateway.chat("anything").await;
    assert_eq!(status, 503, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("ParameterNotFound"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_store_is_not_hammered_by_traffic() {
    // A "store" that accepts connections and drops them: every load fails, and each
    // connection is counted.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    let server = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(socket);
        }
    });
    let gateway = Gateway::start(&endpoint, &[("API_KEY_PARAM_NAME", "/gateway/broken/key")]).await;
    let (status, _) = gateway.chat("sk-anything").await;
    assert_eq!(status, 503);
    let after_first = connections.load(std::sync::atomic::Ordering::SeqCst);
    assert!(after_first >= 1, "the first request tried the store");
    for _ in 0..20 {
        let (status, body) = gateway.chat("sk-anything").await;
        assert_eq!(status, 503, "{body}");
    }
    let after_burst = connections.load(std::sync::atomic::Ordering::SeqCst);
    // At most one more load (with the SDK's own retries) may start within the retry interval.
    assert!(
        after_burst <= after_first * 2,
        "20 requests made {} connections to a failing store (the first made {after_first})",
        after_burst - after_first
    );
    server.abort();
}
