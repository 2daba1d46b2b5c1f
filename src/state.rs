//! What every request handler shares: configuration, the Bedrock seam, the API keys, the image
//! fetcher and the model catalogue; and the start-up checks of the AWS environment they need.

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;

use crate::auth::{ApiKeys, KeyStore};
use crate::bedrock::Bedrock;
use crate::catalog::Catalog;
use crate::config::{Config, ConfigError};
use crate::fetch::ImageFetcher;
use crate::quota::dynamo::DynamoQuotas;
use crate::quota::memory::MemoryQuotas;
use crate::quota::{FailureMode, Quotas};
use crate::responses::store::ResponseStore;
use crate::responses::store::dynamo::DynamoStore;
use crate::responses::store::memory::MemoryStore;
use crate::telemetry::Telemetry;

/// Shared state, cheap to clone into each request.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub bedrock: Bedrock,
    pub keys: Arc<ApiKeys>,
    /// Downloads http(s) `image_url`s under the SSRF policy.
    pub image_fetcher: Arc<ImageFetcher>,
    /// Bedrock's model list, cached; validates `model` and serves /models.
    pub catalog: Arc<Catalog>,
    /// Stored Responses (`store: true`, `previous_response_id`, `GET /responses/{id}`).
    pub responses: Arc<dyn ResponseStore>,
    /// Quota and usage counters per named key.
    pub quotas: Arc<Quotas>,
    /// Where finished requests go: the log line, metrics, and the request observers.
    pub telemetry: Arc<Telemetry>,
}

impl AppState {
    /// Builds the AWS clients from the standard SDK environment, after checking that it names
    /// a region and, when the real Bedrock is used outside Lambda, yields credentials.
    pub async fn from_config(config: Config) -> Result<AppState, ConfigError> {
        let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
        if sdk.region().is_none() {
            return Err(ConfigError(
                "no AWS region configured: set AWS_REGION (for example us-east-1)".into(),
            ));
        }
        if needs_credentials_check(|name| std::env::var(name).ok()) {
            check_credentials(&sdk).await?;
        }
        let state = AppState::with_sdk_config(config, &sdk);
        state.keys.check_at_startup().await.map_err(ConfigError)?;
        Ok(state)
    }

    /// How bare ids of profile-only models are routed, in this gateway's region.
    pub fn profile_routing(&self) -> crate::profile_routing::ProfileRouting {
        crate::profile_routing::ProfileRouting::new(&self.config, self.bedrock.region())
    }

    /// State over an explicit SDK configuration (tests point it at local servers).
    pub fn with_sdk_config(config: Config, sdk: &aws_config::SdkConfig) -> AppState {
        let bedrock = Bedrock::new(sdk, config.bedrock_timeout);
        let keys = ApiKeys::new(
            KeyStore::from_source(&config.api_key_source, sdk),
            config.api_key_cache,
        )
        .with_miss_refresh_interval(config.api_key_miss_refresh);
        let image_fetcher = Arc::new(ImageFetcher::new(&config));
        let catalog = Arc::new(Catalog::new(bedrock.clone(), config.models_cache));
        let responses = response_store(&config, sdk);
        let quotas = Arc::new(quotas(&config, sdk));
        let telemetry = Arc::new(Telemetry::new(config.telemetry.clone()));
        AppState {
            config: Arc::new(config),
            bedrock,
            keys: Arc::new(keys),
            image_fetcher,
            catalog,
            responses,
            quotas,
            telemetry,
        }
    }
}

/// The quota counters: the DynamoDB table `QUOTA_TABLE` names (shared by every instance),
/// otherwise process memory.
fn quotas(config: &Config, sdk: &aws_config::SdkConfig) -> Quotas {
    let failure = if config.quota_fail_closed {
        FailureMode::Closed
    } else {
        FailureMode::Open
    };
    match &config.quota_table {
        Some(table) => Quotas::new(Arc::new(DynamoQuotas::new(sdk, table)), failure, "dynamodb"),
        None => Quotas::new(Arc::new(MemoryQuotas::new()), failure, "memory"),
    }
}

/// The backend for stored Responses: the DynamoDB table `RESPONSES_TABLE` names (on Lambda,
/// where memory does not outlive an instance; its client comes from the shared SDK config, so
/// `AWS_ENDPOINT_URL_DYNAMODB` applies), otherwise bounded process memory.
fn response_store(config: &Config, sdk: &aws_config::SdkConfig) -> Arc<dyn ResponseStore> {
    match &config.responses_table {
        Some(table) => Arc::new(DynamoStore::new(sdk, table, config.responses_ttl_days)),
        None => Arc::new(MemoryStore::new(
            config.responses_memory_max_items,
            config.responses_memory_max_bytes,
        )),
    }
}

/// How long the start-up credentials check may take. Environment variables and files answer at
/// once; the container and instance metadata services answer within a second where they exist.
const CREDENTIALS_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// One line for a gateway that found no AWS credentials: every request would fail with a 502.
pub const NO_CREDENTIALS: &str = "no AWS credentials found: tried the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), the profile in ~/.aws/config and ~/.aws/credentials (AWS_PROFILE), web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN) and the ECS container and EC2 instance metadata services; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (after `aws sso login` for SSO profiles)";

/// Loads credentials once through the SDK's default chain, so that missing ones stop the
/// process with one line instead of failing every request. Not run on Lambda, where the
/// runtime puts the role's credentials in the environment and start-up must not wait.
async fn check_credentials(sdk: &aws_config::SdkConfig) -> Result<(), ConfigError> {
    let Some(provider) = sdk.credentials_provider() else {
        return Err(ConfigError(NO_CREDENTIALS.into()));
    };
    match tokio::time::timeout(CREDENTIALS_CHECK_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(_)) => Err(ConfigError(NO_CREDENTIALS.into())),
        Err(_) => Err(ConfigError(format!(
            "{NO_CREDENTIALS} (the check gave up after {} s)",
            CREDENTIALS_CHECK_TIMEOUT.as_secs()
        ))),
    }
}

/// Whether start-up should load credentials: not on Lambda (the runtime provides them and
/// start-up must not wait), not with `AWS_BEARER_TOKEN_BEDROCK` (Bedrock then takes a bearer
/// token instead), and not when Bedrock's endpoint is overridden to a loopback address: the
/// local emulator (`make run`, tests), which takes any credentials the SDK can sign with.
fn needs_credentials_check(env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    if set("AWS_LAMBDA_RUNTIME_API").is_some() || set("AWS_BEARER_TOKEN_BEDROCK").is_some() {
        return false;
    }
    let endpoint = set("AWS_ENDPOINT_URL_BEDROCK_RUNTIME").or_else(|| set("AWS_ENDPOINT_URL"));
    !endpoint.is_some_and(|url| is_loopback_url(&url))
}

fn is_loopback_url(value: &str) -> bool {
    match url::Url::parse(value.trim())
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_credentials_are_checked() {
        let check = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            needs_credentials_check(|name| {
                vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            })
        };
        assert!(check(&[]));
        assert!(check(&[("AWS_ENDPOINT_URL", "https://vpce.example.com")]));
        assert!(!check(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")]));
        assert!(!check(&[("AWS_BEARER_TOKEN_BEDROCK", "t")]));
        assert!(!check(&[(
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
            "http://127.0.0.1:4000"
        )]));
        assert!(!check(&[("AWS_ENDPOINT_URL", "http://localhost:4000")]));
    }

    #[test]
    fn loopback_endpoints() {
        for url in [
            "http://127.0.0.1:8081",
            "http://localhost:9000/",
            "http://[::1]:1",
            "http://127.9.9.9",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "https://bedrock-runtime.us-east-1.amazonaws.com",
            "http://10.0.0.1",
            "nonsense",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }
}
