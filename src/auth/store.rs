//! Where the API keys live (the environment, SSM Parameter Store or Secrets Manager) and the
//! only code that calls the SSM and Secrets Manager clients. [`KeyStore`] is the
//! [`Source`](crate::cache::Source) that [`ApiKeys`](super::ApiKeys) keeps refreshed.

use std::sync::Arc;

use tokio::time::Duration;

use crate::cache::Source;
use crate::config::ApiKeySource;

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
    /// Unit tests: whatever the test put there, `Err` for a failing store.
    #[cfg(test)]
    Scripted(Arc<std::sync::Mutex<Result<String, String>>>),
}

/// Why a load failed: a short `summary` safe to show any client (no account ids, ARNs or
/// role names, which AWS puts in AccessDenied messages), and the full `detail` for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
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
            #[cfg(test)]
            KeyStore::Scripted(_) => f.write_str("scripted store"),
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
    pub fn kind(&self) -> &'static str {
        match self {
            KeyStore::Plain(_) => "API_KEY",
            KeyStore::Ssm { .. } => "SSM Parameter Store",
            KeyStore::SecretsManager { .. } => "Secrets Manager",
            #[cfg(test)]
            KeyStore::Scripted(_) => "the scripted store",
        }
    }

    /// Reads the current keys (unbounded in time; [`Source::load`] bounds it).
    pub async fn read(&self) -> Result<Vec<String>, LoadError> {
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
            #[cfg(test)]
            KeyStore::Scripted(script) => {
                let answer = script.lock().unwrap().clone();
                answer
                    .map(|value| split_keys(&value))
                    .map_err(|why| LoadError::new(why.clone(), why))
            }
        }
    }
}

impl Source for KeyStore {
    type Value = Arc<Vec<String>>;
    type Error = LoadError;

    /// One read, bounded by [`KEY_STORE_TIMEOUT`].
    async fn load(&self) -> Result<Arc<Vec<String>>, LoadError> {
        match tokio::time::timeout(KEY_STORE_TIMEOUT, self.read()).await {
            Ok(result) => result.map(Arc::new),
            Err(_) => Err(LoadError::new(
                "timed out",
                format!("no answer within {} s", KEY_STORE_TIMEOUT.as_secs()),
            )),
        }
    }

    fn failed(&self, err: &LoadError, kept: bool) {
        if kept {
            tracing::warn!(store = %self, reason = %err.detail, "could not refresh the API keys; the cached ones stay valid");
        } else {
            tracing::error!(store = %self, reason = %err.detail, "could not load the API keys");
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
}
