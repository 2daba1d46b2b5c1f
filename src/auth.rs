//! Bearer-key authentication, with keys loaded from the environment, SSM Parameter Store or
//! Secrets Manager, cached and refreshed so that rotating a key needs no redeploy.
//!
//! - Keys are read once per execution environment and again after `API_KEY_CACHE_SECONDS`;
//!   until the refresh the old keys keep working. A key that matches none of the cached ones
//!   triggers an early refresh, at most once per [`MISS_REFRESH_INTERVAL`], so a newly added key
//!   works within seconds without letting bad requests hammer SSM.
//! - Several keys may be stored at once (a StringList, or one per line) for overlap during
//!   rotation.
//! - When the store cannot be read and no keys are cached, requests get a 503 saying so (never
//!   a 401 that would blame the client), and the next request tries again. When keys are
//!   cached, a failed refresh keeps them valid and is retried at most once per interval.
//! - One load runs at a time, bounded by [`KEY_STORE_TIMEOUT`]; requests queued behind it use
//!   its outcome instead of starting their own.
//! - Comparison is constant-time. Keys are never logged.

use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;
use tokio::sync::{Mutex, RwLock};

use crate::config::ApiKeySource;
use crate::error::ApiError;

/// While no keys are loaded, the shortest interval between attempts to load them.
pub const UNAVAILABLE_RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// The shortest interval between loads that clients can trigger: by presenting a key the cache
/// does not hold, or by arriving while the store is failing. `API_KEY_MISS_REFRESH_SECONDS`.
pub const MISS_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// How long one load may take (SDK retries included) before the request gets its answer.
/// The SDK has no operation timeout by default; a blackholed endpoint would hang requests.
pub const KEY_STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// The store the keys live in. `Debug` shows where the keys are, never a key.
#[derive(Clone)]
pub enum KeyStore {
    Plain(String),
    Ssm {
        client: aws_sdk_ssm::Client,
        name: String,
    },
    SecretsManager {
        client: aws_sdk_secretsmanager::Client,
        secret_id: String,
    },
}

/// Why a load failed: a short `summary` safe to show any client (no account ids, ARNs or
/// role names, which AWS puts in AccessDenied messages), and the full `detail` for the log.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub summary: String,
    pub detail: String,
}

impl LoadError {
    fn new(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        LoadError {
            summary: summary.into(),
            detail: detail.into(),
        }
    }
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyStore({self})")
    }
}

impl std::fmt::Display for KeyStore {
    /// Names the store for logs (never the key).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyStore::Plain(_) => f.write_str("API_KEY"),
            KeyStore::Ssm { name, .. } => write!(f, "SSM parameter {name}"),
            KeyStore::SecretsManager { secret_id, .. } => {
                write!(f, "Secrets Manager secret {secret_id}")
            }
        }
    }
}

impl KeyStore {
    /// The store named by the configuration, with clients from the shared SDK config (which
    /// carries `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL_SECRETS_MANAGER` when set).
    pub fn from_source(source: &ApiKeySource, sdk: &aws_config::SdkConfig) -> Self {
        match source {
            ApiKeySource::Plain(key) => KeyStore::Plain(key.clone()),
            ApiKeySource::SsmParameter(name) => KeyStore::Ssm {
                client: aws_sdk_ssm::Client::new(sdk),
                name: name.clone(),
            },
            ApiKeySource::SecretsManager(arn) => KeyStore::SecretsManager {
                client: aws_sdk_secretsmanager::Client::new(sdk),
                secret_id: arn.clone(),
            },
        }
    }

    /// The kind of store, for messages to clients.
    fn kind(&self) -> &'static str {
        match self {
            KeyStore::Plain(_) => "API_KEY",
            KeyStore::Ssm { .. } => "SSM Parameter Store",
            KeyStore::SecretsManager { .. } => "Secrets Manager",
        }
    }

    /// Reads the current keys.
    pub async fn load(&self) -> Result<Vec<String>, LoadError> {
        match self {
            KeyStore::Plain(key) => Ok(split_keys(key)),
            KeyStore::Ssm { client, name } => {
                let out = client
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| sdk_load_error(&e))?;
                let value = out.parameter.and_then(|p| p.value).unwrap_or_default();
                non_empty(split_keys(&value), "the parameter holds no key")
            }
            KeyStore::SecretsManager { client, secret_id } => {
                let out = client
                    .get_secret_value()
                    .secret_id(secret_id)
                    .send()
                    .await
                    .map_err(|e| sdk_load_error(&e))?;
                let text = out.secret_string.unwrap_or_default();
                non_empty(
                    keys_from_secret(&text),
                    "the secret holds no key; store {\"api_key\": \"...\"} or the key itself",
                )
            }
        }
    }
}

fn non_empty(keys: Vec<String>, why_empty: &str) -> Result<Vec<String>, LoadError> {
    if keys.is_empty() {
        Err(LoadError::new(why_empty, why_empty))
    } else {
        Ok(keys)
    }
}

fn sdk_load_error<E, R>(err: &aws_sdk_ssm::error::SdkError<E, R>) -> LoadError
where
    E: aws_sdk_ssm::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_ssm::error::SdkError;
    let detail = aws_smithy_types::error::display::DisplayErrorContext(err).to_string();
    match err {
        SdkError::ServiceError(e) => {
            let inner = e.err();
            let code = inner.code().unwrap_or("service error");
            LoadError::new(code, format!("{code}: {}", inner.message().unwrap_or("")))
        }
        SdkError::TimeoutError(_) => LoadError::new("timed out", detail),
        SdkError::DispatchFailure(_) => LoadError::new("could not connect", detail),
        _ => LoadError::new("unexpected response", detail),
    }
}

/// Keys in a stored value: a StringList (`a,b`) or one key per line.
pub fn split_keys(value: &str) -> Vec<String> {
    value
        .split([',', '\n'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

/// Keys in a Secrets Manager secret: JSON with `api_key` (a string or a list) or `api_keys`,
/// or the secret string itself.
pub fn keys_from_secret(text: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => {
            let field = map.get("api_key").or_else(|| map.get("api_keys"));
            match field {
                Some(serde_json::Value::String(s)) => split_keys(s),
                Some(serde_json::Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| v.as_str())
                    .flat_map(split_keys)
                    .collect(),
                _ => Vec::new(),
            }
        }
        _ => split_keys(text),
    }
}

/// What the cache knows: the last keys loaded, and the last attempt to load them.
#[derive(Default)]
struct Cache {
    /// The keys from the last successful load, kept through failed refreshes.
    keys: Option<Vec<String>>,
    loaded_at: Option<Instant>,
    /// The last load attempt, successful or not; gates refreshes a client can trigger.
    attempted_at: Option<Instant>,
    /// Counts attempts, so requests that queued behind one reuse its outcome.
    attempts: u64,
    /// Why the last attempt failed (for the 503 while no keys are cached).
    last_error: Option<String>,
}

/// What one look at the cache decided.
enum Decision {
    Allow,
    Deny,
    /// Load the keys (unless the attempt numbered `seen` is no longer the latest) and check again.
    Refresh {
        seen: u64,
    },
    /// No keys, and the store failed a moment ago (its error summary).
    Unavailable(String),
}

/// The keys clients may present, cached. `Debug` shows the store and timings, never a key.
pub struct ApiKeys {
    store: KeyStore,
    ttl: Duration,
    miss_refresh: Duration,
    cache: RwLock<Cache>,
    /// One load at a time; requests arriving meanwhile wait and use its result.
    loading: Mutex<()>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("store", &self.store)
            .field("ttl", &self.ttl)
            .field("miss_refresh", &self.miss_refresh)
            .finish_non_exhaustive()
    }
}

impl ApiKeys {
    /// Keys from `store`, reloaded after `ttl`.
    pub fn new(store: KeyStore, ttl: Duration) -> Self {
        ApiKeys {
            store,
            ttl,
            miss_refresh: MISS_REFRESH_INTERVAL,
            cache: RwLock::new(Cache::default()),
            loading: Mutex::new(()),
        }
    }

    /// Sets the shortest interval between loads triggered by unknown keys or by a failing store
    /// ([`MISS_REFRESH_INTERVAL`] by default).
    pub fn with_miss_refresh_interval(mut self, interval: Duration) -> Self {
        self.miss_refresh = interval;
        self
    }

    /// Checks a presented key: Ok, 401 for a wrong key, 503 when no keys could be loaded.
    pub async fn verify(&self, presented: &str) -> Result<(), ApiError> {
        match self.decide(presented).await {
            Decision::Allow => return Ok(()),
            Decision::Deny => return Err(wrong_key()),
            Decision::Refresh { seen } => self.refresh(seen).await?,
            Decision::Unavailable(summary) => return Err(self.unavailable(&summary)),
        }
        let cache = self.cache.read().await;
        match cache.keys.as_deref() {
            Some(keys) if matches_any(keys, presented) => Ok(()),
            _ => Err(wrong_key()),
        }
    }

    async fn decide(&self, presented: &str) -> Decision {
        let cache = self.cache.read().await;
        let refresh = Decision::Refresh {
            seen: cache.attempts,
        };
        let Some(keys) = cache.keys.as_deref() else {
            // Nothing cached (first request, or the store has failed so far): try again, but at
            // most once a second, so that traffic cannot turn a broken store into a stream of
            // SSM calls that throttles the account.
            let recently_failed = cache
                .attempted_at
                .is_some_and(|at| at.elapsed() < UNAVAILABLE_RETRY_INTERVAL);
            return match (&cache.last_error, recently_failed) {
                (Some(summary), true) => Decision::Unavailable(summary.clone()),
                _ => refresh,
            };
        };
        let fresh = cache.loaded_at.is_some_and(|at| at.elapsed() < self.ttl);
        // Loads a client can trigger (an unknown key, a retry after a failure) are rate-limited
        // so that a stream of bad keys cannot hammer the store.
        let may_retry = cache
            .attempted_at
            .is_none_or(|at| at.elapsed() >= self.miss_refresh);
        let matched = matches_any(keys, presented);
        match (fresh, matched) {
            (true, true) => Decision::Allow,
            (_, false) if may_retry => refresh,
            (_, false) => Decision::Deny,
            // Stale: reload, unless the last reload just failed; then the old keys still count.
            (false, true) if may_retry => refresh,
            (false, true) => Decision::Allow,
        }
    }

    /// Loads the keys, unless another request made an attempt after attempt `seen`.
    async fn refresh(&self, seen: u64) -> Result<(), ApiError> {
        let _loading = self.loading.lock().await;
        if self.cache.read().await.attempts == seen {
            let result = match tokio::time::timeout(KEY_STORE_TIMEOUT, self.store.load()).await {
                Ok(result) => result,
                Err(_) => Err(LoadError::new(
                    "timed out",
                    format!("no answer within {} s", KEY_STORE_TIMEOUT.as_secs()),
                )),
            };
            let mut cache = self.cache.write().await;
            cache.attempts += 1;
            cache.attempted_at = Some(Instant::now());
            match result {
                Ok(keys) => {
                    cache.keys = Some(keys);
                    cache.loaded_at = cache.attempted_at;
                    cache.last_error = None;
                }
                Err(err) => {
                    if cache.keys.is_some() {
                        tracing::warn!(store = %self.store, reason = %err.detail, "could not refresh the API keys; the cached ones stay valid");
                    } else {
                        tracing::error!(store = %self.store, reason = %err.detail, "could not load the API keys");
                    }
                    cache.last_error = Some(err.summary);
                }
            }
        }
        let cache = self.cache.read().await;
        match (&cache.keys, &cache.last_error) {
            (None, Some(summary)) => Err(self.unavailable(summary)),
            _ => Ok(()),
        }
    }

    /// The 503 for requests that arrive while no keys can be loaded.
    fn unavailable(&self, summary: &str) -> ApiError {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            format!(
                "The gateway could not load its API key from {} ({summary}). This is a problem with the gateway's configuration or AWS, not with your key; try again shortly.",
                self.store.kind()
            ),
        )
        .with_code("api_key_unavailable")
    }
}

fn wrong_key() -> ApiError {
    ApiError::unauthorized("Incorrect API key provided. Send it as `Authorization: Bearer <key>`.")
}

/// Constant-time comparison against every key (no early exit on the first match).
fn matches_any(keys: &[String], presented: &str) -> bool {
    let mut found = subtle::Choice::from(0u8);
    for key in keys {
        found |= key.as_bytes().ct_eq(presented.as_bytes());
    }
    found.into()
}

/// The key in an `Authorization: Bearer <key>` header value.
pub fn bearer_token(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let (scheme, token) = value.split_once(|c: char| c.is_ascii_whitespace())?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_formats() {
        assert_eq!(split_keys("a, b\nc\n"), vec!["a", "b", "c"]);
        assert_eq!(keys_from_secret(r#"{"api_key":"k1"}"#), vec!["k1"]);
        assert_eq!(
            keys_from_secret(r#"{"api_keys":["k1","k2"]}"#),
            vec!["k1", "k2"]
        );
        assert_eq!(keys_from_secret("plain"), vec!["plain"]);
        assert!(keys_from_secret(r#"{"other":1}"#).is_empty());
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(Some("Bearer\tabc")), Some("abc"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(None), None);
    }

    #[tokio::test]
    async fn plain_keys_verify() {
        let keys = ApiKeys::new(KeyStore::Plain("k1,k2".into()), Duration::from_secs(300));
        assert!(keys.verify("k2").await.is_ok());
        assert_eq!(keys.verify("nope").await.unwrap_err().status.as_u16(), 401);
        assert!(
            !format!("{keys:?}").contains("k1"),
            "Debug must not show keys"
        );
        assert!(matches_any(&["a".into()], "a"));
        assert!(!matches_any(&["a".into()], "ab"));
    }
}
