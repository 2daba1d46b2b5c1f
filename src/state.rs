//! What every request handler shares: configuration, the Bedrock seam, the API keys, the image
//! fetcher and the model catalogue.

use std::sync::Arc;

use aws_config::BehaviorVersion;

use crate::auth::{ApiKeys, KeyStore};
use crate::bedrock::Bedrock;
use crate::catalog::Catalog;
use crate::config::{Config, ConfigError};
use crate::fetch::ImageFetcher;

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
}

impl AppState {
    /// Builds the AWS clients from the standard SDK environment. Loading makes no network call;
    /// credentials are resolved on the first request.
    pub async fn from_config(config: Config) -> Result<AppState, ConfigError> {
        let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
        if sdk.region().is_none() {
            return Err(ConfigError(
                "no AWS region configured: set AWS_REGION (for example us-east-1)".into(),
            ));
        }
        Ok(AppState::with_sdk_config(config, &sdk))
    }

    /// How bare ids of profile-only models are routed, in this gateway's region.
    pub fn profile_routing(&self) -> crate::profile_routing::ProfileRouting {
        let region = self.bedrock.runtime.config().region().map(|r| r.as_ref());
        crate::profile_routing::ProfileRouting::new(&self.config, region)
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
        let catalog = Arc::new(Catalog::new(config.models_cache));
        AppState {
            config: Arc::new(config),
            bedrock,
            keys: Arc::new(keys),
            image_fetcher,
            catalog,
        }
    }
}
