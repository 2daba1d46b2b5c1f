//! The live model catalogue: the foundation models and inference profiles Bedrock lists for
//! this account and region, cached per execution environment for `MODELS_CACHE_SECONDS`.
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
//!
//! Listed: foundation models that are ACTIVE, answer in TEXT or EMBEDDING and can be invoked
//! by their bare id (ON_DEMAND; a model reachable only through an INFERENCE_PROFILE shows up as
//! its profiles); ACTIVE system-defined profiles (by id) and application profiles (by ARN, the
//! form Bedrock invokes them by). Known, for the check: every id either listing returned,
//! whatever its status.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_bedrock::types::{
    FoundationModelSummary, InferenceProfileSummary, InferenceProfileType,
};
use axum::http::StatusCode;
use serde::Serialize;

use crate::error::ApiError;
use crate::translate::errors::from_sdk_error;

/// Longest wait for one listing (all pages); past it, requests go on without the check.
const LIST_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for GetInferenceProfile.
const DESCRIBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a cache miss waits between refreshes, whatever the cache lifetime.
const MAX_MISS_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// Profiles asked for per ListInferenceProfiles page: the API's maximum.
const PROFILES_PER_PAGE: i32 = 1000;
/// A guard against a service that never stops handing out page tokens. Reaching it fails the
/// listing: a silently truncated list would turn real profiles into 404s.
const MAX_PAGES: usize = 100;
/// Profile lookups remembered at most (failed ones are dropped first).
const MAX_PROFILE_LOOKUPS: usize = 1024;

/// One entry of `GET /models`, in OpenAI's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelEntry {
    pub id: String,
    pub object: &'static str,
    /// Unix seconds: an inference profile's creation time; 0 for foundation models, which
    /// Bedrock lists without a date.
    pub created: i64,
    pub owned_by: String,
}

/// One listing of Bedrock's models.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// What `GET /models` shows, sorted by id.
    pub models: Vec<ModelEntry>,
    /// Every id and ARN Bedrock reported.
    known: HashSet<String>,
    /// Inference profile id or ARN -> the foundation model id it routes to.
    underlying: HashMap<String, String>,
    /// Foundation models Bedrock serves only through inference profiles (no ON_DEMAND in
    /// `inferenceTypesSupported`): their bare id is refused, see [`crate::profile_routing`].
    profile_only: HashSet<String>,
    /// Foundation model id -> the ACTIVE system-defined profiles that contain it.
    system_profiles: HashMap<String, Vec<SystemProfile>>,
}

/// A system-defined (cross-region) inference profile, as resolution needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemProfile {
    /// `us.anthropic.claude-...`: the id to invoke.
    pub id: String,
    /// The regions its model ARNs name: where Bedrock may route a request.
    pub regions: Vec<String>,
}

impl Snapshot {
    /// Builds the snapshot from ListFoundationModels and ListInferenceProfiles results.
    pub fn build(models: &[FoundationModelSummary], profiles: &[InferenceProfileSummary]) -> Self {
        let mut snapshot = Snapshot::default();
        let mut providers: HashMap<&str, String> = HashMap::new();
        for model in models {
            let owner = owner_name(model.provider_name());
            snapshot.known.insert(model.model_id().to_string());
            snapshot.known.insert(model.model_arn().to_string());
            providers.insert(model.model_id(), owner.clone());
            if is_profile_only(model) {
                snapshot.profile_only.insert(model.model_id().to_string());
            }
            if is_listed_model(model) {
                snapshot.models.push(ModelEntry {
                    id: model.model_id().to_string(),
                    object: "model",
                    created: 0,
                    owned_by: owner,
                });
            }
        }
        for profile in profiles {
            let id = profile.inference_profile_id();
            let arn = profile.inference_profile_arn();
            snapshot.known.insert(id.to_string());
            snapshot.known.insert(arn.to_string());
            let base = foundation_model_of(profile.models().iter().filter_map(|m| m.model_arn()));
            if let Some(base) = &base {
                snapshot.underlying.insert(id.to_string(), base.clone());
                snapshot.underlying.insert(arn.to_string(), base.clone());
            }
            if profile.status().as_str() != "ACTIVE" {
                continue;
            }
            let application = *profile.r#type() == InferenceProfileType::Application;
            if let (false, Some(base)) = (application, &base) {
                let regions = profile
                    .models()
                    .iter()
                    .filter_map(|m| m.model_arn())
                    .filter_map(|model_arn| model_arn.split(':').nth(3))
                    .map(str::to_string)
                    .collect();
                snapshot
                    .system_profiles
                    .entry(base.clone())
                    .or_default()
                    .push(SystemProfile {
                        id: id.to_string(),
                        regions,
                    });
            }
            let owned_by = if application {
                // arn:aws:bedrock:REGION:ACCOUNT:application-inference-profile/ID
                arn.split(':').nth(4).unwrap_or("account").to_string()
            } else {
                base.as_deref()
                    .and_then(|base| providers.get(base).cloned())
                    .unwrap_or_else(|| "bedrock".to_string())
            };
            snapshot.models.push(ModelEntry {
                id: if application { arn } else { id }.to_string(),
                object: "model",
                created: profile.created_at().map_or(0, |t| t.secs()),
                owned_by,
            });
        }
        snapshot.models.sort_by(|a, b| a.id.cmp(&b.id));
        snapshot.models.dedup_by(|a, b| a.id == b.id);
        snapshot
    }

    /// Whether Bedrock listed `model_id` (any status).
    pub fn knows(&self, model_id: &str) -> bool {
        self.known.contains(model_id)
    }

    /// The `GET /models` entry with this id.
    pub fn entry(&self, id: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|entry| entry.id == id)
    }

    /// The foundation model an inference profile (id or ARN) routes to.
    pub fn underlying_model(&self, profile: &str) -> Option<&str> {
        self.underlying.get(profile).map(String::as_str)
    }

    /// Whether `model_id` is the bare id of a model Bedrock serves only through profiles.
    pub fn is_profile_only(&self, model_id: &str) -> bool {
        self.profile_only.contains(model_id)
    }

    /// The ACTIVE system-defined profiles that contain `model_id`, in listing order.
    pub fn system_profiles(&self, model_id: &str) -> &[SystemProfile] {
        self.system_profiles
            .get(model_id)
            .map_or(&[], Vec::as_slice)
    }
}

/// The foundation model id in the first foundation-model ARN of a profile's models (a
/// cross-region profile names the same model once per region).
fn foundation_model_of<'a>(model_arns: impl IntoIterator<Item = &'a str>) -> Option<String> {
    model_arns
        .into_iter()
        .find_map(|model_arn| model_arn.rsplit_once("foundation-model/"))
        .map(|(_, base)| base.to_string())
}

fn is_listed_model(model: &FoundationModelSummary) -> bool {
    let active = model
        .model_lifecycle()
        .is_none_or(|lifecycle| lifecycle.status().as_str() == "ACTIVE");
    let output = model
        .output_modalities()
        .iter()
        .any(|m| matches!(m.as_str(), "TEXT" | "EMBEDDING"));
    // A model offered only through INFERENCE_PROFILE cannot be invoked by its bare id; its
    // profiles are listed instead.
    let on_demand = model
        .inference_types_supported()
        .iter()
        .any(|t| t.as_str() == "ON_DEMAND");
    active && output && on_demand
}

/// ACTIVE, answers in TEXT or EMBEDDING, and reachable only through an INFERENCE_PROFILE.
fn is_profile_only(model: &FoundationModelSummary) -> bool {
    let types = model.inference_types_supported();
    let active = model
        .model_lifecycle()
        .is_none_or(|lifecycle| lifecycle.status().as_str() == "ACTIVE");
    active
        && types.iter().any(|t| t.as_str() == "INFERENCE_PROFILE")
        && !types.iter().any(|t| t.as_str() == "ON_DEMAND")
}

/// `owned_by` from a provider name: `Mistral AI` -> `mistral-ai`.
fn owner_name(provider: Option<&str>) -> String {
    match provider.map(str::trim).filter(|p| !p.is_empty()) {
        Some(provider) => provider.to_ascii_lowercase().replace(' ', "-"),
        None => "bedrock".to_string(),
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

/// The cached catalogue and what is known about the last listing.
#[derive(Debug, Default)]
struct Cache {
    snapshot: Option<Arc<Snapshot>>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
    /// The error of the last attempt, while it is the latest news.
    failure: Option<ApiError>,
    /// Bumped by every attempt, so that requests that waited for a refresh use its result.
    generation: u64,
    /// A background refresh is running.
    revalidating: bool,
}

/// Outcome of a refresh a cache miss asked for.
enum MissRefresh {
    Refreshed(Arc<Snapshot>),
    /// The last listing succeeded too recently to list again.
    TooSoon,
    /// Listing failed, now or recently: the catalogue cannot tell.
    Unavailable,
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
#[derive(Debug)]
pub struct Catalog {
    ttl: Duration,
    miss_refresh_interval: Duration,
    cache: Mutex<Cache>,
    /// Held while listing, so that concurrent requests share one listing.
    refreshing: tokio::sync::Mutex<()>,
    /// GetInferenceProfile answers, by profile id or ARN.
    profile_lookups: Mutex<HashMap<String, ProfileLookup>>,
}

/// Clears the revalidating flag when a background refresh ends, however it ends.
struct Revalidation(Arc<Catalog>);

impl Drop for Revalidation {
    fn drop(&mut self) {
        self.0.cache().revalidating = false;
    }
}

impl Catalog {
    /// A catalogue kept for `ttl`; a miss refreshes at most every `ttl` (30 s at most).
    pub fn new(ttl: Duration) -> Catalog {
        Catalog {
            ttl,
            miss_refresh_interval: ttl.min(MAX_MISS_REFRESH_INTERVAL),
            cache: Mutex::new(Cache::default()),
            refreshing: tokio::sync::Mutex::new(()),
            profile_lookups: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the shortest time between two refreshes caused by unknown models (and between
    /// listing attempts while listing fails).
    pub fn with_miss_refresh_interval(mut self, interval: Duration) -> Catalog {
        self.miss_refresh_interval = interval;
        self
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while holding this lock cannot leave the cache half-written (every write
        // is a plain assignment), so a poisoned lock is still good to use.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn profile_lookups(&self) -> std::sync::MutexGuard<'_, HashMap<String, ProfileLookup>> {
        self.profile_lookups
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The catalogue to answer with now: the cached listing, fresh or not (a stale one starts
    /// a background refresh), or, before the first listing, a listing waited for. While
    /// listing has failed recently and nothing was ever listed, the failure.
    async fn current(
        self: &Arc<Self>,
        control: &aws_sdk_bedrock::Client,
    ) -> Result<Arc<Snapshot>, ApiError> {
        {
            let mut cache = self.cache();
            let recent_failure = self.recent_failure(&cache);
            if let Some(snapshot) = cache.snapshot.clone() {
                let fresh = cache.fetched_at.is_some_and(|at| at.elapsed() < self.ttl);
                if !fresh && recent_failure.is_none() && !cache.revalidating {
                    cache.revalidating = true;
                    drop(cache);
                    self.revalidate_in_background(control);
                }
                return Ok(snapshot);
            }
            if let Some(err) = recent_failure {
                return Err(err);
            }
        }
        self.refresh(control).await
    }

    fn revalidate_in_background(self: &Arc<Self>, control: &aws_sdk_bedrock::Client) {
        let guard = Revalidation(Arc::clone(self));
        let control = control.clone();
        tokio::spawn(async move {
            // The outcome lands in the cache; a failure is logged by `refresh`.
            let _ = guard.0.refresh(&control).await;
            drop(guard);
        });
    }

    /// The last listing's error, while it is more recent than the miss-refresh interval.
    fn recent_failure(&self, cache: &Cache) -> Option<ApiError> {
        let recent = cache
            .attempted_at
            .is_some_and(|at| at.elapsed() < self.miss_refresh_interval);
        cache.failure.clone().filter(|_| recent)
    }

    /// The catalogue for `GET /models`: the cached listing (refreshed in the background once
    /// older than the cache lifetime), or the error of a listing that never succeeded.
    pub async fn snapshot(
        self: &Arc<Self>,
        control: &aws_sdk_bedrock::Client,
    ) -> Result<Arc<Snapshot>, ApiError> {
        self.current(control).await
    }

    /// The `GET /models/{id}` entry, refreshing once (rate-limited) on a miss.
    pub async fn find(
        self: &Arc<Self>,
        control: &aws_sdk_bedrock::Client,
        id: &str,
    ) -> Result<ModelEntry, ApiError> {
        let snapshot = self.current(control).await?;
        if let Some(entry) = snapshot.entry(id) {
            return Ok(entry.clone());
        }
        if let MissRefresh::Refreshed(snapshot) = self.refresh_on_miss(control).await
            && let Some(entry) = snapshot.entry(id)
        {
            return Ok(entry.clone());
        }
        Err(unknown_model(id))
    }

    /// Checks that Bedrock knows `model_id`: a 404 naming it if not. Passes ARNs, and passes
    /// everything the catalogue cannot judge while listing fails.
    pub async fn check(
        self: &Arc<Self>,
        control: &aws_sdk_bedrock::Client,
        model_id: &str,
    ) -> Result<(), ApiError> {
        if model_id.starts_with("arn:") {
            return Ok(());
        }
        let Ok(snapshot) = self.current(control).await else {
            return Ok(());
        };
        if snapshot.knows(model_id) {
            return Ok(());
        }
        match self.refresh_on_miss(control).await {
            MissRefresh::Refreshed(snapshot) if snapshot.knows(model_id) => Ok(()),
            MissRefresh::Unavailable => Ok(()),
            MissRefresh::Refreshed(_) | MissRefresh::TooSoon => Err(unknown_model(model_id)),
        }
    }

    /// The id to call for `model_id`: the system inference profile of this region's geography
    /// for the bare id of a profile-only model (see [`crate::profile_routing`]), else
    /// `model_id` itself. While the catalogue cannot be read, ids go to Bedrock as they are.
    pub async fn route(
        self: &Arc<Self>,
        control: &aws_sdk_bedrock::Client,
        model_id: &str,
        routing: &crate::profile_routing::ProfileRouting,
    ) -> Result<String, ApiError> {
        let Ok(snapshot) = self.current(control).await else {
            return Ok(model_id.to_string());
        };
        match crate::profile_routing::route(&snapshot, model_id, routing)? {
            Some(profile) => {
                crate::profile_routing::log_once(model_id, &profile);
                Ok(profile)
            }
            None => Ok(model_id.to_string()),
        }
    }

    /// The foundation model an inference profile id or ARN routes to: from the listing
    /// (refreshed once, rate-limited, when the profile is not in it), else from
    /// GetInferenceProfile, whose answer is kept for good. `None` when nothing can tell.
    pub async fn underlying_model(
        self: &Arc<Self>,
        control: &aws_sdk_bedrock::Client,
        profile: &str,
    ) -> Option<String> {
        let retry_failed = match self.profile_lookups().get(profile) {
            Some(ProfileLookup::Model(model)) => return Some(model.clone()),
            Some(ProfileLookup::Failed(at)) => at.elapsed() >= self.miss_refresh_interval,
            None => true,
        };
        if let Ok(snapshot) = self.current(control).await
            && let Some(model) = snapshot.underlying_model(profile)
        {
            return Some(model.to_string());
        }
        if let MissRefresh::Refreshed(snapshot) = self.refresh_on_miss(control).await
            && let Some(model) = snapshot.underlying_model(profile)
        {
            return Some(model.to_string());
        }
        if !retry_failed {
            return None;
        }
        let described = match tokio::time::timeout(
            DESCRIBE_TIMEOUT,
            describe_profile(control, profile),
        )
        .await
        {
            Ok(result) => result,
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

    async fn refresh_on_miss(&self, control: &aws_sdk_bedrock::Client) -> MissRefresh {
        {
            let cache = self.cache();
            let too_soon = cache
                .attempted_at
                .is_some_and(|at| at.elapsed() < self.miss_refresh_interval);
            if too_soon {
                return if cache.failure.is_some() {
                    MissRefresh::Unavailable
                } else {
                    MissRefresh::TooSoon
                };
            }
        }
        match self.refresh(control).await {
            Ok(snapshot) => MissRefresh::Refreshed(snapshot),
            Err(_) => MissRefresh::Unavailable,
        }
    }

    /// Lists Bedrock's models now. Requests that arrive while a listing runs wait for it and
    /// share its result instead of listing again.
    async fn refresh(&self, control: &aws_sdk_bedrock::Client) -> Result<Arc<Snapshot>, ApiError> {
        let generation = self.cache().generation;
        let _listing = self.refreshing.lock().await;
        {
            let cache = self.cache();
            if cache.generation != generation {
                return match (&cache.failure, &cache.snapshot) {
                    (None, Some(snapshot)) => Ok(snapshot.clone()),
                    (Some(err), _) => Err(err.clone()),
                    (None, None) => Err(listing_failed("no listing is available")),
                };
            }
        }
        let result = match tokio::time::timeout(LIST_TIMEOUT, fetch(control)).await {
            Ok(result) => result,
            Err(_) => Err(listing_failed("listing took too long")),
        };
        let mut cache = self.cache();
        cache.generation += 1;
        cache.attempted_at = Some(Instant::now());
        match result {
            Ok(snapshot) => {
                let snapshot = Arc::new(snapshot);
                cache.snapshot = Some(snapshot.clone());
                cache.fetched_at = cache.attempted_at;
                cache.failure = None;
                Ok(snapshot)
            }
            Err(err) => {
                tracing::warn!(
                    status = err.status.as_u16(),
                    code = err.code.as_deref().unwrap_or(""),
                    message = %err.message,
                    "listing Bedrock models failed; requests are not checked against the catalogue"
                );
                cache.failure = Some(err.clone());
                Err(err)
            }
        }
    }
}

fn listing_failed(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "api_error",
        format!("Bedrock's model list could not be read: {detail}."),
    )
}

/// ListFoundationModels and both kinds of ListInferenceProfiles, concurrently.
async fn fetch(control: &aws_sdk_bedrock::Client) -> Result<Snapshot, ApiError> {
    let foundation_models = async {
        control
            .list_foundation_models()
            .send()
            .await
            .map(|output| output.model_summaries.unwrap_or_default())
            .map_err(|e| with_permission_hint(from_sdk_error(&e), "ListFoundationModels"))
    };
    let (models, system, application) = tokio::try_join!(
        foundation_models,
        list_profiles(control, InferenceProfileType::SystemDefined),
        list_profiles(control, InferenceProfileType::Application),
    )?;
    let profiles: Vec<InferenceProfileSummary> = system.into_iter().chain(application).collect();
    Ok(Snapshot::build(&models, &profiles))
}

/// Every page of ListInferenceProfiles for one profile type.
async fn list_profiles(
    control: &aws_sdk_bedrock::Client,
    kind: InferenceProfileType,
) -> Result<Vec<InferenceProfileSummary>, ApiError> {
    let mut profiles = Vec::new();
    let mut next_token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let output = control
            .list_inference_profiles()
            .type_equals(kind.clone())
            .max_results(PROFILES_PER_PAGE)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| with_permission_hint(from_sdk_error(&e), "ListInferenceProfiles"))?;
        profiles.extend(output.inference_profile_summaries.unwrap_or_default());
        match output.next_token {
            Some(token) if !token.is_empty() => next_token = Some(token),
            _ => return Ok(profiles),
        }
    }
    Err(listing_failed(&format!(
        "ListInferenceProfiles still had more after {MAX_PAGES} pages"
    )))
}

/// GetInferenceProfile: the foundation model a profile routes to, if it names one.
async fn describe_profile(
    control: &aws_sdk_bedrock::Client,
    profile: &str,
) -> Result<Option<String>, ApiError> {
    let output = control
        .get_inference_profile()
        .inference_profile_identifier(profile)
        .send()
        .await
        .map_err(|e| with_permission_hint(from_sdk_error(&e), "GetInferenceProfile"))?;
    Ok(foundation_model_of(
        output.models().iter().filter_map(|m| m.model_arn()),
    ))
}

/// AccessDenied on a control-plane call means the gateway's role lacks a permission: say which.
fn with_permission_hint(mut err: ApiError, action: &str) -> ApiError {
    if err.status == StatusCode::FORBIDDEN {
        err.message = format!(
            "{} (the gateway's IAM role needs bedrock:{action})",
            err.message
        );
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrock::primitives::DateTime;
    use aws_sdk_bedrock::types::{
        FoundationModelLifecycle, FoundationModelLifecycleStatus, InferenceProfileModel,
        InferenceProfileStatus, InferenceType, ModelModality,
    };

    fn model(
        id: &str,
        output: ModelModality,
        types: &[&str],
        status: &str,
    ) -> FoundationModelSummary {
        let mut builder = FoundationModelSummary::builder()
            .model_arn(format!("arn:aws:bedrock:us-east-1::foundation-model/{id}"))
            .model_id(id)
            .provider_name("Mistral AI")
            .output_modalities(output)
            .model_lifecycle(
                FoundationModelLifecycle::builder()
                    .status(FoundationModelLifecycleStatus::from(status))
                    .build()
                    .unwrap(),
            );
        for t in types {
            builder = builder.inference_types_supported(InferenceType::from(*t));
        }
        builder.build().unwrap()
    }

    fn profile(
        id: &str,
        arn: &str,
        kind: InferenceProfileType,
        base: &str,
    ) -> InferenceProfileSummary {
        InferenceProfileSummary::builder()
            .inference_profile_name(id)
            .inference_profile_id(id)
            .inference_profile_arn(arn)
            .models(
                InferenceProfileModel::builder()
                    .model_arn(format!(
                        "arn:aws:bedrock:us-west-2::foundation-model/{base}"
                    ))
                    .build(),
            )
            .status(InferenceProfileStatus::Active)
            .r#type(kind)
            .created_at(DateTime::from_secs(1_724_716_800))
            .build()
            .unwrap()
    }

    #[test]
    fn lists_what_clients_can_invoke_and_knows_everything() {
        let snapshot = Snapshot::build(
            &[
                model(
                    "mistral.large",
                    ModelModality::Text,
                    &["ON_DEMAND"],
                    "ACTIVE",
                ),
                model(
                    "mistral.only-profile",
                    ModelModality::Text,
                    &["INFERENCE_PROFILE"],
                    "ACTIVE",
                ),
                model("mistral.old", ModelModality::Text, &["ON_DEMAND"], "LEGACY"),
                model(
                    "mistral.painter",
                    ModelModality::Image,
                    &["ON_DEMAND"],
                    "ACTIVE",
                ),
                model(
                    "mistral.provisioned",
                    ModelModality::Embedding,
                    &["PROVISIONED"],
                    "ACTIVE",
                ),
            ],
            &[
                profile(
                    "us.mistral.large",
                    "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.mistral.large",
                    InferenceProfileType::SystemDefined,
                    "mistral.large",
                ),
                profile(
                    "team1",
                    "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/team1",
                    InferenceProfileType::Application,
                    "mistral.large",
                ),
            ],
        );
        let ids: Vec<&str> = snapshot.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/team1",
                "mistral.large",
                "us.mistral.large",
            ]
        );
        // Reachable only through a profile: known (Bedrock decides), not listed.
        assert!(snapshot.knows("mistral.only-profile"));
        assert!(snapshot.knows("mistral.old"));
        assert!(snapshot.knows("mistral.painter"));
        assert!(!snapshot.knows("mistral.typo"));
        let profile = snapshot.entry("us.mistral.large").unwrap();
        assert_eq!(profile.owned_by, "mistral-ai");
        assert_eq!(profile.created, 1_724_716_800);
        let app = &snapshot.models[0];
        assert_eq!(app.owned_by, "111122223333");
        assert_eq!(
            snapshot.underlying_model(
                "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/team1"
            ),
            Some("mistral.large")
        );
    }
}
