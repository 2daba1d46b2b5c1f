//! Bearer-key authentication, with keys loaded from the environment, SSM Parameter Store or
//! Secrets Manager ([`store`]), cached and refreshed so that rotating a key needs no redeploy.
//!
//! - Keys are read once per execution environment and again after `API_KEY_CACHE_SECONDS`;
//!   until the refresh the old keys keep working. A key that matches none of the cached ones
//!   triggers an early refresh, at most once per [`MISS_REFRESH_INTERVAL`], so a newly added key
//!   works within seconds without letting bad requests hammer SSM.
//! - Several keys may be stored at once (a StringList, or one per line) for overlap during
//!   rotation, or a key document of named keys with their models, limits and expiry
//!   ([`document`]); a verified request carries its key's [`Caller`] in its extensions, which
//!   [`model_access`] reads to resolve and check models.
//! - When the store cannot be read and no keys are cached, requests get a 503 saying so (never
//!   a 401 that would blame the client), and the next request tries again, at most once per
//!   [`UNAVAILABLE_RETRY_INTERVAL`]. When keys are cached, a failed refresh keeps them valid
//!   and is retried at most once per miss-refresh interval.
//! - One load runs at a time, bounded by [`KEY_STORE_TIMEOUT`]; requests queued behind it use
//!   its outcome instead of starting their own. The policy is [`crate::cache`]'s.
//! - A key document that does not check stops the process at start-up
//!   ([`ApiKeys::check_at_startup`]); on a refresh it is logged and the keys loaded before stay.
//! - Comparison is constant-time (SHA-256 digests, [`key::KeySet::find`]). Keys are never
//!   logged; a key's name stands for it.

mod caller;
pub mod document;
pub mod key;
pub mod model_access;
mod store;

use std::sync::Arc;

use tokio::time::Duration;

use crate::cache::{Early, OnStale, Policy, Refreshing, Source};
use crate::error::{ApiError, ErrorKind};

pub use caller::Caller;
pub use document::{parse_keys, split_keys};
pub use key::{ApiKey, KeySet, Limits};
pub use store::{KEY_STORE_TIMEOUT, KeyStore, LoadError};

/// While no keys are loaded, the shortest interval between attempts to load them.
pub const UNAVAILABLE_RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// The shortest interval between loads that clients can trigger: by presenting a key the cache
/// does not hold, or by arriving while the store is failing. `API_KEY_MISS_REFRESH_SECONDS`.
pub const MISS_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// The keys clients may present, cached. `Debug` shows the store and timings, never a key.
#[derive(Debug)]
pub struct ApiKeys {
    keys: Arc<Refreshing<KeyStore>>,
}

impl ApiKeys {
    /// Keys from `store`, reloaded after `ttl`.
    pub fn new(store: KeyStore, ttl: Duration) -> Self {
        let policy = Policy {
            ttl,
            retry_interval: MISS_REFRESH_INTERVAL,
            empty_retry_interval: UNAVAILABLE_RETRY_INTERVAL,
            // A request with a stale key waits for the reload: a removed key must stop working.
            on_stale: OnStale::Wait,
        };
        ApiKeys {
            keys: Arc::new(Refreshing::new(store, policy)),
        }
    }

    /// Sets the shortest interval between loads triggered by unknown keys or by a failing store
    /// ([`MISS_REFRESH_INTERVAL`] by default).
    pub fn with_miss_refresh_interval(self, interval: Duration) -> Self {
        let policy = Policy {
            retry_interval: interval,
            ..*self.keys.policy()
        };
        ApiKeys {
            keys: Arc::new(Refreshing::new(self.keys.source().clone(), policy)),
        }
    }

    /// Checks a presented key: its [`Caller`], 401 for a wrong or expired key, 503 when no
    /// keys could be loaded.
    pub async fn verify(&self, presented: &str) -> Result<Caller, ApiError> {
        let keys = self
            .keys
            .get()
            .await
            .map_err(|err| self.unavailable(&err.summary))?;
        let digest = key::digest(presented);
        let found = match keys.find(&digest) {
            Some(found) => found,
            // An unknown key may be a newly added one: reload, at most once per interval.
            None => match self.keys.refresh_early().await {
                Early::Loaded(keys) => keys.find(&digest).ok_or_else(wrong_key)?,
                _ => return Err(wrong_key()),
            },
        };
        if found.expired_at(std::time::SystemTime::now()) {
            return Err(ApiError::unauthorized(format!(
                "The API key `{}` expired at {}. Ask the gateway's operator for a new key.",
                found.name,
                found.expires_text.as_deref().unwrap_or("its expiry time")
            ))
            .with_code("api_key_expired"));
        }
        Ok(Caller(found))
    }

    /// Loads the keys once at start-up. A store that holds an invalid key document is an
    /// error (the process stops with it); a store that cannot be reached is only logged, as
    /// requests get a 503 until it answers.
    pub async fn check_at_startup(&self) -> Result<(), String> {
        // Straight from the store, not through the cache, whose failure log would add a
        // second line to the one the process stops with.
        let store = self.keys.source();
        match store.load().await {
            Ok(keys) => {
                tracing::debug!(store = %store, keys = keys.len(), "API keys checked");
                Ok(())
            }
            Err(err) if err.invalid => {
                Err(format!("the keys in {store} are invalid: {}", err.detail))
            }
            Err(err) => {
                tracing::warn!(store = %store, reason = %err.detail, "could not check the API keys at start-up; requests get a 503 until the store answers");
                Ok(())
            }
        }
    }

    /// The 503 for requests that arrive while no keys can be loaded.
    fn unavailable(&self, summary: &str) -> ApiError {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::ApiError,
            format!(
                "The gateway could not load its API key from {} ({summary}). This is a problem with the gateway's configuration or AWS, not with your key; try again shortly.",
                self.keys.source().kind()
            ),
        )
        .with_code("api_key_unavailable")
    }
}

fn wrong_key() -> ApiError {
    ApiError::unauthorized("Incorrect API key provided. Send it as `Authorization: Bearer <key>`.")
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
        assert_eq!(keys.verify("k").await.unwrap_err().status.as_u16(), 401);
        assert!(
            !format!("{keys:?}").contains("k1"),
            "Debug must not show keys"
        );
    }

    /// Keys from a store the test rewrites, refreshed every 6 s, early at most every 3 s.
    fn scripted(value: &str) -> (Arc<std::sync::Mutex<Result<String, String>>>, ApiKeys) {
        let script = Arc::new(std::sync::Mutex::new(Ok(value.to_string())));
        let keys = ApiKeys::new(KeyStore::Scripted(script.clone()), Duration::from_secs(6))
            .with_miss_refresh_interval(Duration::from_secs(3));
        (script, keys)
    }

    async fn status(keys: &ApiKeys, key: &str) -> u16 {
        match keys.verify(key).await {
            Ok(_) => 200,
            Err(err) => err.status.as_u16(),
        }
    }

    async fn advance_ms(ms: u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn rotated_keys_take_effect_on_refresh_and_unknown_keys_refresh_early_but_rarely() {
        let (script, keys) = scripted("sk-old");
        assert_eq!(status(&keys, "sk-old").await, 200);
        *script.lock().unwrap() = Ok("sk-new".into());
        // Within 3 s of the load an unknown key does not reload; the old key still works.
        advance_ms(2900).await;
        assert_eq!(status(&keys, "sk-new").await, 401);
        assert_eq!(status(&keys, "sk-old").await, 200);
        // After 3 s the unknown key reloads and works; the old key is gone with it.
        advance_ms(100).await;
        assert_eq!(status(&keys, "sk-new").await, 200);
        assert_eq!(status(&keys, "sk-old").await, 401);

        // Bad keys right after that reload do not reload again.
        *script.lock().unwrap() = Ok("sk-new\nsk-newer".into());
        for _ in 0..5 {
            assert_eq!(status(&keys, "sk-bogus").await, 401);
        }
        advance_ms(2900).await;
        assert_eq!(status(&keys, "sk-newer").await, 401, "within the interval");
        advance_ms(100).await;
        assert_eq!(status(&keys, "sk-newer").await, 200, "after the interval");

        // A known key triggers the periodic refresh once the keys are 6 s old.
        *script.lock().unwrap() = Ok("sk-newest".into());
        advance_ms(5900).await;
        assert_eq!(status(&keys, "sk-new").await, 200, "cached before the ttl");
        advance_ms(100).await;
        assert_eq!(
            status(&keys, "sk-new").await,
            401,
            "removed once the ttl expired"
        );
        assert_eq!(status(&keys, "sk-newest").await, 200);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_store_gives_503s_until_it_recovers_then_cached_keys_survive_it() {
        let (script, keys) = scripted("sk-1");
        *script.lock().unwrap() = Err("ParameterNotFound".into());
        let err = keys.verify("sk-1").await.unwrap_err();
        assert_eq!(err.status.as_u16(), 503);
        assert_eq!(err.code.as_deref(), Some("api_key_unavailable"));
        assert!(
            err.message.contains("(ParameterNotFound)"),
            "{}",
            err.message
        );
        // Recovered, but within a second of the failure the store is not asked again.
        *script.lock().unwrap() = Ok("sk-1".into());
        advance_ms(900).await;
        assert_eq!(status(&keys, "sk-1").await, 503);
        advance_ms(100).await;
        assert_eq!(status(&keys, "sk-1").await, 200);

        // Down again past the ttl: the cached key stays valid, bad keys get 401s.
        *script.lock().unwrap() = Err("could not connect".into());
        advance_ms(6000).await;
        assert_eq!(status(&keys, "sk-1").await, 200);
        assert_eq!(status(&keys, "sk-bogus").await, 401);
        advance_ms(3000).await;
        assert_eq!(status(&keys, "sk-1").await, 200);
    }

    #[tokio::test(start_paused = true)]
    async fn a_broken_document_on_refresh_keeps_the_keys_loaded_before() {
        let (script, keys) = scripted(r#"{"keys": [{"name": "a", "key": "sk-a"}]}"#);
        assert_eq!(keys.verify("sk-a").await.unwrap().name, "a");
        *script.lock().unwrap() =
            Ok(r#"{"keys": [{"name": "b", "key": "sk-b", "rpm": 0}]}"#.into());
        advance_ms(6000).await;
        assert_eq!(status(&keys, "sk-a").await, 200, "the old keys stay");
        assert_eq!(
            status(&keys, "sk-b").await,
            401,
            "nothing of the broken document"
        );
        *script.lock().unwrap() = Ok(r#"{"keys": [{"name": "b", "key": "sk-b"}]}"#.into());
        advance_ms(6000).await;
        assert_eq!(status(&keys, "sk-b").await, 200, "fixed");
        assert_eq!(status(&keys, "sk-a").await, 401);
    }

    #[tokio::test]
    async fn expired_keys_are_refused_by_name() {
        let doc = r#"{"keys": [{"name": "old", "key": "sk-old", "expires": "2001-01-01T00:00:00Z"},
                              {"name": "new", "key": "sk-new", "expires": "2999-01-01T00:00:00Z"}]}"#;
        let keys = ApiKeys::new(KeyStore::Plain(doc.into()), Duration::from_secs(300));
        let err = keys.verify("sk-old").await.unwrap_err();
        assert_eq!(err.status.as_u16(), 401);
        assert_eq!(err.code.as_deref(), Some("api_key_expired"));
        assert!(
            err.message
                .contains("`old` expired at 2001-01-01T00:00:00Z"),
            "{}",
            err.message
        );
        assert_eq!(keys.verify("sk-new").await.unwrap().name, "new");
    }

    #[tokio::test]
    async fn an_invalid_document_fails_the_startup_check_and_a_valid_one_passes() {
        let bad = ApiKeys::new(
            KeyStore::Plain(r#"{"keys": []}"#.into()),
            Duration::from_secs(1),
        );
        let err = bad.check_at_startup().await.unwrap_err();
        assert!(
            err.contains("API_KEY") && err.contains("`keys` is empty"),
            "{err}"
        );
        let good = ApiKeys::new(KeyStore::Plain("sk-1".into()), Duration::from_secs(1));
        assert!(good.check_at_startup().await.is_ok());
    }
}
