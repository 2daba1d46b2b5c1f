//! Where the API keys live (the environment, a local file, SSM Parameter Store or Secrets
//! Manager) and the only code that calls the SSM and Secrets Manager clients. [`KeyStore`] is
//! the [`Source`](crate::cache::Source) that [`ApiKeys`](super::ApiKeys) keeps refreshed; what
//! it reads becomes a [`KeySet`] through [`super::document`] (a plain list or a key document).
//! A document that does not check is a load failure marked `invalid`: at start-up it stops the
//! process, on a refresh the keys loaded before stay in use and an error is logged.

use std::sync::Arc;

use tokio::time::Duration;

use super::document::parse_keys;
use super::key::KeySet;
use crate::cache::Source;
use crate::config::ApiKeySource;

/// How long one load may take (SDK retries included) before the request gets its answer.
/// The SDK has no operation timeout by default; a blackholed endpoint would hang requests.
pub const KEY_STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// The store the keys live in. `Debug` shows where the keys are, never a key.
#[derive(Clone)]
pub enum KeyStore {
    Plain(String),
    /// `API_KEYS_FILE`: read again on every refresh, so editing it rotates keys.
    File(std::path::PathBuf),
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
    /// The store answered, but what it holds is not a valid key list or document.
    pub invalid: bool,
}

impl LoadError {
    fn new(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        LoadError {
            summary: summary.into(),
            detail: detail.into(),
            invalid: false,
        }
    }

    fn invalid(problem: String) -> Self {
        // The problem names places in the document, never its values: safe for clients.
        LoadError {
            summary: problem.clone(),
            detail: problem,
            invalid: true,
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
            KeyStore::File(path) => write!(f, "API_KEYS_FILE {}", path.display()),
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
            ApiKeySource::File(path) => KeyStore::File(path.clone()),
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
            KeyStore::File(_) => "API_KEYS_FILE",
            KeyStore::Ssm { .. } => "SSM Parameter Store",
            KeyStore::SecretsManager { .. } => "Secrets Manager",
            #[cfg(test)]
            KeyStore::Scripted(_) => "the scripted store",
        }
    }

    /// Reads the current keys (unbounded in time; [`Source::load`] bounds it).
    pub async fn read(&self) -> Result<KeySet, LoadError> {
        let text = self.read_text().await?;
        parse_keys(&text).map_err(LoadError::invalid)
    }

    /// What the store holds, as text.
    async fn read_text(&self) -> Result<String, LoadError> {
        match self {
            KeyStore::Plain(key) => Ok(key.clone()),
            KeyStore::File(path) => tokio::fs::read_to_string(path).await.map_err(|e| {
                LoadError::new(
                    "the key file cannot be read",
                    format!("{}: {e}", path.display()),
                )
            }),
            KeyStore::Ssm { client, name } => {
                let out = client
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| sdk_load_error(&e))?;
                Ok(out.parameter.and_then(|p| p.value).unwrap_or_default())
            }
            KeyStore::SecretsManager { client, secret_id } => {
                let out = client
                    .get_secret_value()
                    .secret_id(secret_id)
                    .send()
                    .await
                    .map_err(|e| sdk_load_error(&e))?;
                Ok(out.secret_string.unwrap_or_default())
            }
            #[cfg(test)]
            KeyStore::Scripted(script) => {
                let answer = script.lock().unwrap().clone();
                answer.map_err(|why| LoadError::new(why.clone(), why))
            }
        }
    }
}

impl Source for KeyStore {
    type Value = Arc<KeySet>;
    type Error = LoadError;

    /// One read, bounded by [`KEY_STORE_TIMEOUT`].
    async fn load(&self) -> Result<Arc<KeySet>, LoadError> {
        match tokio::time::timeout(KEY_STORE_TIMEOUT, self.read()).await {
            Ok(result) => result.map(Arc::new),
            Err(_) => Err(LoadError::new(
                "timed out",
                format!("no answer within {} s", KEY_STORE_TIMEOUT.as_secs()),
            )),
        }
    }

    fn failed(&self, err: &LoadError, kept: bool) {
        if err.invalid {
            tracing::error!(store = %self, problem = %err.detail, kept_previous_keys = kept, "the key document is invalid; fix it (no key from it is accepted)");
        } else if kept {
            tracing::warn!(store = %self, reason = %err.detail, "could not refresh the API keys; the cached ones stay valid");
        } else {
            tracing::error!(store = %self, reason = %err.detail, "could not load the API keys");
        }
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
