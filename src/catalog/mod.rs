//! The live model catalogue: the foundation models and inference profiles Bedrock lists for
//! this account and region ([`Snapshot`]), kept by [`crate::cache`] for `MODELS_CACHE_SECONDS`.
//!
//! It answers `GET /models` and checks the `model` of chat and embeddings requests, so that a
//! typo gets a 404 naming the model instead of Bedrock's generic "The provided model identifier
//! is invalid". The check never stands in the way of a request it cannot judge: ARNs pass
//! (provisioned throughput, prompt routers, application profiles), and while listing is not
//! permitted (AccessDenied) or fails, requests go to Bedrock, which decides.
//!
//! Freshness without waiting: once the cache lifetime ends, requests keep being served from the
//! old listing while one background task lists again (stale-while-revalidate); only the very
//! first listing of an environment is waited for. A model missing from the listing triggers one
//! refresh, at most once per `miss_refresh_interval`, so a model enabled after the cache was
//! filled works at once and a stream of typos costs at most one listing per interval. After a
//! failed listing, nothing lists again for that interval either: a gateway without list
//! permissions does not list on every request.
//!
//! Embeddings also need the model behind an application inference profile ARN (the ARN does not
//! say). The listing tells; when it cannot (no list permission, a profile created since the last
//! listing), GetInferenceProfile does, and its answer is kept for good: a profile's model never
//! changes.

mod snapshot;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::time::{Duration, Instant};

pub use snapshot::{ModelEntry, Published, Snapshot, SystemProfile};

use crate::bedrock::control::listing_failed;
use crate::bedrock::{Bedrock, ModelListing};
use crate::cache::{Early, OnStale, Policy, Refreshing, Source};
use crate::error::ApiError;

/// Longest wait for one listing (all pages); past it, requests go on without the check.
const LIST_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for GetInferenceProfile.
const DESCRIBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a cache miss waits between refreshes, whatever the cache lifetime.
const MAX_MISS_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// Profile lookups remembered at most (failed ones are dropped first).
const MAX_PROFILE_LOOKUPS: usize = 1024;

/// What the catalogue asks Bedrock: implemented by [`Bedrock`], and by a scripted control
/// plane in the unit tests.
pub trait Control: Send + Sync + 'static {
    /// ListFoundationModels and ListInferenceProfiles.
    fn list_models(&self) -> impl Future<Output = Result<ModelListing, ApiError>> + Send;
    /// GetInferenceProfile: the ARNs of the models a profile routes to.
    fn inference_profile_models(
        &self,
        profile: &str,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
}

impl Control for Bedrock {
    fn list_models(&self) -> impl Future<Output = Result<ModelListing, ApiError>> + Send {
        Bedrock::list_models(self)
    }

    fn inference_profile_models(
        &self,
        profile: &str,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send {
        Bedrock::inference_profile_models(self, profile)
    }
}

/// The 404 for a model Bedrock does not list.
pub fn unknown_model(model_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "The model `{model_id}` does not exist or is not available to this gateway in its AWS region. GET /api/v1/models lists the models you can use."
    ))
    .with_param("model")
    .with_code("model_not_found")
}

/// Lists Bedrock's models for the cache.
struct Listing<C>(Arc<C>);

impl<C: Control> Source for Listing<C> {
    type Value = Arc<Snapshot>;
    type Error = ApiError;

    async fn load(&self) -> Result<Arc<Snapshot>, ApiError> {
        match tokio::time::timeout(LIST_TIMEOUT, self.0.list_models()).await {
            Ok(listing) => listing.map(|listing| Arc::new(Snapshot::from_listing(&listing))),
            Err(_) => Err(listing_failed("listing took too long")),
        }
    }

    fn failed(&self, err: &ApiError, _kept: bool) {
        tracing::warn!(
            status = err.status.as_u16(),
            code = err.code.as_deref().unwrap_or(""),
            message = %err.message,
            "listing Bedrock models failed; requests are not checked against the catalogue"
        );
    }
}

/// What GetInferenceProfile said about a profile.
#[derive(Debug, Clone)]
enum ProfileLookup {
    /// The foundation model it routes to; never changes.
    Model(String),
    /// The lookup failed at this time; asked again after the miss-refresh interval.
    Failed(Instant),
}

/// The model catalogue of one execution environment.
pub struct Catalog<C: Control = Bedrock> {
    listing: Arc<Refreshing<Listing<C>>>,
    /// GetInferenceProfile answers, by profile id or ARN.
    profile_lookups: Mutex<HashMap<String, ProfileLookup>>,
}

impl<C: Control> std::fmt::Debug for Catalog<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("policy", self.listing.policy())
            .finish_non_exhaustive()
    }
}

impl<C: Control> Catalog<C> {
    /// A catalogue kept for `ttl`; a miss refreshes at most every `ttl` (30 s at most).
    pub fn new(control: C, ttl: Duration) -> Self {
        let interval = ttl.min(MAX_MISS_REFRESH_INTERVAL);
        Catalog::with_policy(
            Arc::new(control),
            Policy {
                ttl,
                retry_interval: interval,
                empty_retry_interval: interval,
                on_stale: OnStale::Revalidate,
            },
        )
    }

    fn with_policy(control: Arc<C>, policy: Policy) -> Self {
        Catalog {
            listing: Arc::new(Refreshing::new(Listing(control), policy)),
            profile_lookups: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the shortest time between two refreshes caused by unknown models (and between
    /// listing attempts while listing fails).
    pub fn with_miss_refresh_interval(self, interval: Duration) -> Self {
        let policy = Policy {
            retry_interval: interval,
            empty_retry_interval: interval,
            ..*self.listing.policy()
        };
        Catalog::with_policy(self.listing.source().0.clone(), policy)
    }

    fn profile_lookups(&self) -> std::sync::MutexGuard<'_, HashMap<String, ProfileLookup>> {
        // Every write under this lock is a plain insert or retain: a poisoned lock is still
        // good to use.
        self.profile_lookups
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The catalogue for `GET /models`: the cached listing (refreshed in the background once
    /// older than the cache lifetime), or the error of a listing that never succeeded.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, ApiError> {
        self.listing.get().await
    }

    /// The `GET /models/{id}` entry, refreshing once (rate-limited) on a miss.
    pub async fn find(&self, id: &str) -> Result<ModelEntry, ApiError> {
        let snapshot = self.listing.get().await?;
        if let Some(entry) = snapshot.entry(id) {
            return Ok(entry.clone());
        }
        if let Early::Loaded(snapshot) = self.listing.refresh_early().await
            && let Some(entry) = snapshot.entry(id)
        {
            return Ok(entry.clone());
        }
        Err(unknown_model(id))
    }

    /// Checks that Bedrock knows `model_id`: a 404 naming it if not. Passes ARNs, and passes
    /// everything the catalogue cannot judge while listing fails.
    pub async fn check(&self, model_id: &str) -> Result<(), ApiError> {
        self.checked(model_id).await.map(|_| ())
    }

    /// What a chat-style request needs from the listing, read once: `model_id` checked (as
    /// [`Catalog::check`]), the id to call (the system inference profile of this region's
    /// geography for the bare id of a profile-only model, see [`crate::profile_routing`]; else
    /// `model_id` itself), and what the listing publishes about that model. While the catalogue
    /// cannot be read, ids go to Bedrock as they are, with nothing published.
    pub async fn resolve(
        &self,
        model_id: &str,
        routing: &crate::profile_routing::ProfileRouting,
    ) -> Result<(String, Option<Published>), ApiError> {
        let Some(snapshot) = self.checked(model_id).await? else {
            return Ok((model_id.to_string(), None));
        };
        let id = route_in(&snapshot, model_id, routing)?;
        let published = snapshot.published(&id);
        Ok((id, published))
    }

    /// The id to call for `model_id`: the system inference profile of this region's geography
    /// for the bare id of a profile-only model (see [`crate::profile_routing`]), else
    /// `model_id` itself. While the catalogue cannot be read, ids go to Bedrock as they are.
    pub async fn route(
        &self,
        model_id: &str,
        routing: &crate::profile_routing::ProfileRouting,
    ) -> Result<String, ApiError> {
        let Ok(snapshot) = self.listing.get().await else {
            return Ok(model_id.to_string());
        };
        route_in(&snapshot, model_id, routing)
    }

    /// The listing that judged `model_id` (refreshed once, rate-limited, on a miss), `None`
    /// while listing fails, or the 404 for a model Bedrock does not know. ARNs are not judged.
    async fn checked(&self, model_id: &str) -> Result<Option<Arc<Snapshot>>, ApiError> {
        let Ok(snapshot) = self.listing.get().await else {
            return Ok(None);
        };
        if model_id.starts_with("arn:") || snapshot.knows(model_id) {
            return Ok(Some(snapshot));
        }
        match self.listing.refresh_early().await {
            Early::Loaded(fresh) if fresh.knows(model_id) => Ok(Some(fresh)),
            Early::Failed(_) => Ok(Some(snapshot)),
            Early::Loaded(_) | Early::TooSoon => Err(unknown_model(model_id)),
        }
    }

    /// The foundation model an inference profile id or ARN routes to: from the listing
    /// (refreshed once, rate-limited, when the profile is not in it), else from
    /// GetInferenceProfile, whose answer is kept for good. `None` when nothing can tell.
    pub async fn underlying_model(&self, profile: &str) -> Option<String> {
        let retry_failed = match self.profile_lookups().get(profile) {
            Some(ProfileLookup::Model(model)) => return Some(model.clone()),
            Some(ProfileLookup::Failed(at)) => at.elapsed() >= self.listing.policy().retry_interval,
            None => true,
        };
        if let Ok(snapshot) = self.listing.get().await
            && let Some(model) = snapshot.underlying_model(profile)
        {
            return Some(model.to_string());
        }
        if let Early::Loaded(snapshot) = self.listing.refresh_early().await
            && let Some(model) = snapshot.underlying_model(profile)
        {
            return Some(model.to_string());
        }
        if !retry_failed {
            return None;
        }
        let control = &self.listing.source().0;
        let described =
            match tokio::time::timeout(DESCRIBE_TIMEOUT, control.inference_profile_models(profile))
                .await
            {
                Ok(result) => result
                    .map(|arns| snapshot::foundation_model_of(arns.iter().map(String::as_str))),
                Err(_) => Err(listing_failed("GetInferenceProfile took too long")),
            };
        let lookup = match &described {
            Ok(Some(model)) => ProfileLookup::Model(model.clone()),
            Ok(None) => ProfileLookup::Failed(Instant::now()),
            Err(err) => {
                tracing::warn!(
                    status = err.status.as_u16(),
                    message = %err.message,
                    "GetInferenceProfile failed; the profile's model is unknown"
                );
                ProfileLookup::Failed(Instant::now())
            }
        };
        let mut lookups = self.profile_lookups();
        if lookups.len() >= MAX_PROFILE_LOOKUPS {
            lookups.retain(|_, lookup| matches!(lookup, ProfileLookup::Model(_)));
        }
        if lookups.len() < MAX_PROFILE_LOOKUPS {
            lookups.insert(profile.to_string(), lookup);
        }
        described.ok().flatten()
    }
}

/// [`Catalog::route`] in one snapshot.
fn route_in(
    snapshot: &Snapshot,
    model_id: &str,
    routing: &crate::profile_routing::ProfileRouting,
) -> Result<String, ApiError> {
    match crate::profile_routing::route(snapshot, model_id, routing)? {
        Some(profile) => {
            crate::profile_routing::log_once(model_id, &profile);
            Ok(profile)
        }
        None => Ok(model_id.to_string()),
    }
}

#[cfg(test)]
mod tests;
