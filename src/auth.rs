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
//!   a 401 that would blame the client), and the next request tries again.
//! - Comparison is constant-time. Keys are never logged.

use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;
use tokio::sync::{Mutex, RwLock};

use crate::config::ApiKeySource;
use crate::error::ApiError;

/// The shortest interval between refreshes triggered by an unknown key.
pub const MISS_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// The store the keys live in.
#[derive(Debug, Clone)]
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

impl KeyStore {
    /// The store named by the configuration, with clients from the shared SDK config.
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

    fn describe(&self) -> &'static str {
        match self {
            KeyStore::Plain(_) => "API_KEY",
            KeyStore::Ssm { .. } => "SSM Parameter Store",
            KeyStore::SecretsManager { .. } => "Secrets Manager",
        }
    }

    /// Reads the current keys. The error text names the store and the reason, never a key.
    pub async fn load(&self) -> Result<Vec<String>, String> {
        match self {
            KeyStore::Plain(key) => Ok(split_keys(key)),
            KeyStore::Ssm { client, name } => {
                let out = client
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| sdk_error_text(&e))?;
                let value = out.parameter.and_then(|p| p.value).unwrap_or_default();
                non_empty(split_keys(&value))
            }
            KeyStore::SecretsManager { client, secret_id } => {
                let out = client
                    .get_secret_value()
                    .secret_id(secret_id)
                    .send()
                    .await
                    .map_err(|e| sdk_error_text(&e))?;
                let text = out.secret_string.unwrap_or_default();
                non_empty(keys_from_secret(&text))
            }
        }
    }
}

fn non_empty(keys: Vec<String>) -> Result<Vec<String>, String> {
    if keys.is_empty() {
        Err("the stored value holds no key".into())
    } else {
        Ok(keys)
    }
}

fn sdk_error_text<E, R>(err: &aws_sdk_ssm::error::SdkError<E, R>) -> String
where
    E: aws_sdk_ssm::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_ssm::error::SdkError;
    match err {
        SdkError::ServiceError(e) => {
            let inner = e.err();
            format!(
                "{}: {}",
                inner.code().unwrap_or("error"),
                inner.message().unwrap_or("")
            )
        }
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(_) => "could not connect".into(),
        _ => "unexpected response".into(),
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

#[derive(Debug)]
struct CachedKeys {
    keys: Vec<String>,
    loaded_at: Instant,
}

/// The keys clients may present, cached.
#[derive(Debug)]
pub struct ApiKeys {
    store: KeyStore,
    ttl: Duration,
    cached: RwLock<Option<CachedKeys>>,
    /// One refresh at a time; others wait for it and use its result.
    refreshing: Mutex<()>,
}

impl ApiKeys {
    pub fn new(store: KeyStore, ttl: Duration) -> Self {
        ApiKeys {
            store,
            ttl,
            cached: RwLock::new(None),
            refreshing: Mutex::new(()),
        }
    }

    /// Checks a presented key: Ok, 401 for a wrong key, 503 when no keys could be loaded.
    pub async fn verify(&self, presented: &str) -> Result<(), ApiError> {
        let (matched, age) = self.check_cached(presented).await;
        match (matched, age) {
            (Some(true), Some(age)) if age < self.ttl => return Ok(()),
            (Some(false), Some(age)) if age < self.ttl && age < MISS_REFRESH_INTERVAL => {
                return Err(wrong_key());
            }
            _ => {}
        }
        // Stale, missing, or a miss old enough to justify a fresh look.
        self.refresh(age).await?;
        match self.check_cached(presented).await.0 {
            Some(true) => Ok(()),
            _ => Err(wrong_key()),
        }
    }

    /// Whether the key matches the cached keys, and the cache's age.
    async fn check_cached(&self, presented: &str) -> (Option<bool>, Option<Duration>) {
        let cached = self.cached.read().await;
        match cached.as_ref() {
            None => (None, None),
            Some(c) => (
                Some(matches_any(&c.keys, presented)),
                Some(c.loaded_at.elapsed()),
            ),
        }
    }

    /// Reloads the keys unless another request already did since `seen_age` was observed.
    async fn refresh(&self, seen_age: Option<Duration>) -> Result<(), ApiError> {
        let _guard = self.refreshing.lock().await;
        if let Some(current) = self.cached.read().await.as_ref() {
            let refreshed_meanwhile =
                seen_age.is_none_or(|seen| current.loaded_at.elapsed() < seen);
            if refreshed_meanwhile {
                return Ok(());
            }
        }
        match self.store.load().await {
            Ok(keys) => {
                *self.cached.write().await = Some(CachedKeys {
                    keys,
                    loaded_at: Instant::now(),
                });
                Ok(())
            }
            Err(reason) => {
                let mut cached = self.cached.write().await;
                match cached.as_mut() {
                    // Keep serving the keys we have; try the store again after a short pause.
                    Some(c) => {
                        tracing::warn!(store = self.store.describe(), %reason, "could not refresh API keys; keeping the cached ones");
                        c.loaded_at =
                            Instant::now() - self.ttl.saturating_sub(MISS_REFRESH_INTERVAL);
                        Ok(())
                    }
                    None => {
                        tracing::error!(store = self.store.describe(), %reason, "could not load API keys");
                        Err(ApiError::new(
                            axum::http::StatusCode::SERVICE_UNAVAILABLE,
                            "api_error",
                            format!(
                                "The gateway could not load its API key from {} ({reason}). This is a gateway configuration problem, not your key; try again shortly.",
                                self.store.describe()
                            ),
                        )
                        .with_code("api_key_unavailable"))
                    }
                }
            }
        }
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
    let (scheme, token) = value.split_once(' ')?;
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
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(None), None);
    }

    #[tokio::test]
    async fn plain_keys_verify() {
        let keys = ApiKeys::new(KeyStore::Plain("k1,k2".into()), Duration::from_secs(300));
        assert!(keys.verify("k2").await.is_ok());
        assert_eq!(keys.verify("nope").await.unwrap_err().status.as_u16(), 401);
        assert!(matches_any(&["a".into()], "a"));
        assert!(!matches_any(&["a".into()], "ab"));
    }
}
