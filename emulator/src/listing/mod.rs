//! Bedrock's control-plane model catalogue, built from the emulator's model table:
//! `GET /foundation-models` (ListFoundationModels), `GET /inference-profiles`
//! (ListInferenceProfiles), `GET /inference-profiles/{id}` (GetInferenceProfile) and
//! `POST /inference-profiles` (CreateInferenceProfile), in the restJson shapes the AWS SDK
//! decodes.
//!
//! ListFoundationModels also lists a few models a client should leave out of an OpenAI model
//! list (a legacy model, an image generator, a provisioned-only variant); they are listed but
//! not invocable. ListInferenceProfiles answers in small pages (10 unless `maxResults` asks for
//! up to 1000) so that clients must follow `nextToken`.
//!
//! Application profiles created through CreateInferenceProfile are the account's: each
//! emulator lists and describes the ones created through it, and InvokeModel (embeddings)
//! resolves any of them through a process-wide registry ([`created_profile_model`]), which is
//! safe to share because every created ARN is unique.
//!
//! A caller whose SigV4 access key id starts with [`DENIED_KEY_PREFIX`] is refused both
//! listings with AccessDeniedException, as a role without `bedrock:List*` permissions is (it
//! may still call GetInferenceProfile). The [`ControlPlane`] state counts the calls received
//! and holds the [`ListingBehaviour`] that makes the listings fail, slow down or page badly,
//! for tests of what a client does when Bedrock's control plane misbehaves; `control.rs`
//! serves both under `/_emulator/`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::catalog::{self, APPLICATION_PROFILE_ARN, MODELS, ModelKind};
use crate::embeddings::{EMBEDDING_PROFILE_ARN, EMBEDDING_PROFILE_MODEL, Family};
use crate::error::{ApiError, ErrorKind};
use crate::json_reader::{ObjectReader, as_str};

mod foundation_models;
mod inference_profiles;

use foundation_models::list_foundation_models;
use inference_profiles::{
    create_inference_profile, get_inference_profile, list_inference_profiles,
};

/// Access key ids with this prefix may not list models or inference profiles.
pub const DENIED_KEY_PREFIX: &str = "AKIDNOLIST";
/// ListInferenceProfiles' page size when `maxResults` is not given.
pub const DEFAULT_PAGE_SIZE: usize = 10;

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "111122223333";
const SYSTEM_CREATED_AT: &str = "2024-08-27T00:00:00Z";
const SYSTEM_UPDATED_AT: &str = "2025-06-01T00:00:00Z";
const APPLICATION_CREATED_AT: &str = "2025-03-14T09:30:00Z";
/// When profiles created through the emulator say they were created.
const CREATED_AT: &str = "2025-11-01T12:00:00Z";

/// How the listings misbehave, as set by `POST /_emulator/listing` (every field optional;
/// each call replaces the whole behaviour).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListingBehaviour {
    /// Both listings answer AccessDeniedException, whoever calls.
    #[serde(default)]
    pub denied: bool,
    /// Each listing call waits this long before answering.
    #[serde(default)]
    pub delay_ms: u64,
    /// ListInferenceProfiles answers at most this many profiles a page, whatever `maxResults`
    /// asks for (Bedrock may return fewer than asked, with a `nextToken`).
    #[serde(default)]
    pub max_page_size: Option<usize>,
    /// ListInferenceProfiles hands out a `nextToken` with every page, forever.
    #[serde(default)]
    pub endless_pages: bool,
}

/// One emulator's control-plane state: call counts, behaviour, profiles created through it.
#[derive(Debug, Default)]
pub struct ControlPlane {
    foundation_models: AtomicU64,
    inference_profiles: AtomicU64,
    get_inference_profile: AtomicU64,
    create_inference_profile: AtomicU64,
    behaviour: Mutex<ListingBehaviour>,
    /// Application profiles created through CreateInferenceProfile, in creation order.
    created: Mutex<Vec<Value>>,
}

impl ControlPlane {
    fn behaviour(&self) -> ListingBehaviour {
        self.behaviour.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Replaces the whole behaviour (`POST /_emulator/listing`).
    pub(crate) fn set_behaviour(&self, behaviour: ListingBehaviour) {
        if let Ok(mut current) = self.behaviour.lock() {
            *current = behaviour;
        }
    }

    /// The calls received per operation (`GET /_emulator/calls/listing`).
    pub(crate) fn call_counts(&self) -> Value {
        json!({
            "listFoundationModels": self.foundation_models.load(Ordering::SeqCst),
            "listInferenceProfiles": self.inference_profiles.load(Ordering::SeqCst),
            "getInferenceProfile": self.get_inference_profile.load(Ordering::SeqCst),
            "createInferenceProfile": self.create_inference_profile.load(Ordering::SeqCst),
        })
    }

    fn created(&self) -> Vec<Value> {
        self.created.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// Application profiles created in this process: ARN -> the foundation model it routes to.
static CREATED_PROFILES: Mutex<BTreeMap<String, &'static str>> = Mutex::new(BTreeMap::new());
/// Makes every created ARN unique across the emulators of one process.
static NEXT_PROFILE: AtomicU64 = AtomicU64::new(1);

/// The foundation model of an application profile created through CreateInferenceProfile.
pub(crate) fn created_profile_model(arn: &str) -> Option<&'static str> {
    CREATED_PROFILES.lock().ok()?.get(arn).copied()
}

/// The control-plane routes, to merge into the emulator's router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/foundation-models", get(list_foundation_models))
        .route(
            "/inference-profiles",
            get(list_inference_profiles).post(create_inference_profile),
        )
        .route("/inference-profiles/{id}", get(get_inference_profile))
}

/// Refuses listings to callers whose access key id is one of the denied ones, or to everyone
/// while the emulator is told to deny listings.
fn check_permission(
    headers: &HeaderMap,
    behaviour: &ListingBehaviour,
    action: &str,
) -> Result<(), ApiError> {
    let key_id = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split("Credential=").nth(1))
        .and_then(|credential| credential.split('/').next())
        .unwrap_or("");
    if behaviour.denied || key_id.starts_with(DENIED_KEY_PREFIX) {
        return Err(ApiError::new(
            ErrorKind::AccessDenied,
            format!(
                "User: arn:aws:sts::{ACCOUNT}:assumed-role/gateway-role/gateway is not authorized to perform: bedrock:{action} because no identity-based policy allows the bedrock:{action} action"
            ),
        ));
    }
    Ok(())
}

fn enum_param<'a>(
    query: &'a HashMap<String, String>,
    name: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, ApiError> {
    match query.get(name) {
        None => Ok(None),
        Some(value) if allowed.contains(&value.as_str()) => Ok(Some(value)),
        Some(value) => Err(ApiError::constraint(
            value,
            name,
            &format!("satisfy enum value set: [{}]", allowed.join(", ")),
        )),
    }
}

/// Waits as long as the behaviour asks before a listing answers.
async fn listing_delay(behaviour: &ListingBehaviour) {
    if behaviour.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(behaviour.delay_ms.min(60_000))).await;
    }
}

/// A query map from pairs, for the tests of the listings.
#[cfg(test)]
fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
