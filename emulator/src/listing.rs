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

/// One row of ListFoundationModels.
#[derive(Debug, Clone, PartialEq)]
struct ListedModel {
    id: &'static str,
    provider: &'static str,
    name: &'static str,
    input: Vec<&'static str>,
    output: &'static str,
    streaming: bool,
    inference_types: Vec<&'static str>,
    lifecycle: &'static str,
}

impl ListedModel {
    fn to_json(&self) -> Value {
        json!({
            "modelArn": format!("arn:aws:bedrock:{REGION}::foundation-model/{}", self.id),
            "modelId": self.id,
            "modelName": self.name,
            "providerName": self.provider,
            "inputModalities": self.input,
            "outputModalities": [self.output],
            "responseStreamingSupported": self.streaming,
            "customizationsSupported": [],
            "inferenceTypesSupported": self.inference_types,
            "modelLifecycle": { "status": self.lifecycle },
        })
    }
}

/// Every model ListFoundationModels reports: the catalogue, then the listed-only extras.
fn listed_models() -> Vec<ListedModel> {
    let mut rows: Vec<ListedModel> = MODELS
        .iter()
        .map(|model| {
            let (input, output, streaming) = match model.kind {
                ModelKind::Chat(caps) => {
                    let mut input = vec!["TEXT"];
                    if caps.images {
                        input.push("IMAGE");
                    }
                    // Nova Lite and Pro also list VIDEO (a real ListFoundationModels answer); the
                    // emulator's Converse does not take video blocks.
                    if model.provider == "Amazon" && caps.images {
                        input.push("VIDEO");
                    }
                    (input, "TEXT", caps.streaming)
                }
                ModelKind::Embedding => (
                    Family::of(model.id).map_or(vec!["TEXT"], |f| f.input_modalities().to_vec()),
                    "EMBEDDING",
                    false,
                ),
            };
            let mut inference_types = Vec::new();
            if model.on_demand {
                inference_types.push("ON_DEMAND");
            }
            if !model.profile_prefixes.is_empty() {
                inference_types.push("INFERENCE_PROFILE");
            }
            ListedModel {
                id: model.id,
                provider: model.provider,
                name: model.name,
                input,
                output,
                streaming,
                inference_types,
                lifecycle: "ACTIVE",
            }
        })
        .collect();
    rows.extend([
        ListedModel {
            id: "anthropic.claude-v2:1",
            provider: "Anthropic",
            name: "Claude",
            input: vec!["TEXT"],
            output: "TEXT",
            streaming: true,
            inference_types: vec!["ON_DEMAND"],
            lifecycle: "LEGACY",
        },
        ListedModel {
            id: "amazon.titan-image-generator-v2:0",
            provider: "Amazon",
            name: "Titan Image Generator G1 v2",
            input: vec!["TEXT", "IMAGE"],
            output: "IMAGE",
            streaming: false,
            inference_types: vec!["ON_DEMAND"],
            lifecycle: "ACTIVE",
        },
        ListedModel {
            id: "cohere.embed-english-v3:0:512",
            provider: "Cohere",
            name: "Embed English",
            input: vec!["TEXT"],
            output: "EMBEDDING",
            streaming: false,
            inference_types: vec!["PROVISIONED"],
            lifecycle: "ACTIVE",
        },
    ]);
    rows
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

async fn list_foundation_models(
    Extension(state): Extension<Arc<ControlPlane>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    state.foundation_models.fetch_add(1, Ordering::SeqCst);
    let behaviour = state.behaviour();
    listing_delay(&behaviour).await;
    let Ok(Query(query)) = query else {
        return ApiError::validation("The query string is malformed.").into_response();
    };
    match foundation_models(&headers, &behaviour, &query) {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn foundation_models(
    headers: &HeaderMap,
    behaviour: &ListingBehaviour,
    query: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    check_permission(headers, behaviour, "ListFoundationModels")?;
    let provider = query.get("byProvider");
    if let Some(provider) = provider {
        let valid = (1..=63).contains(&provider.len())
            && provider
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b' ');
        if !valid {
            return Err(ApiError::constraint(
                provider,
                "byProvider",
                "satisfy regular expression pattern: ^[A-Za-z0-9- ]{1,63}$",
            ));
        }
    }
    let customization = enum_param(
        query,
        "byCustomizationType",
        &["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"],
    )?;
    let output = enum_param(query, "byOutputModality", &["TEXT", "IMAGE", "EMBEDDING"])?;
    let inference = enum_param(query, "byInferenceType", &["ON_DEMAND", "PROVISIONED"])?;
    let summaries: Vec<Value> = listed_models()
        .iter()
        .filter(|m| provider.is_none_or(|p| m.provider.eq_ignore_ascii_case(p)))
        // No emulated model supports customization.
        .filter(|_| customization.is_none())
        .filter(|m| output.is_none_or(|o| m.output == o))
        .filter(|m| inference.is_none_or(|i| m.inference_types.contains(&i)))
        .map(ListedModel::to_json)
        .collect();
    Ok(json!({ "modelSummaries": summaries }))
}

/// The regions a system-defined profile's prefix routes to.
fn regions(prefix: &str) -> &'static [&'static str] {
    match prefix {
        "us" => &["us-east-1", "us-east-2", "us-west-2"],
        "eu" => &["eu-central-1", "eu-west-1", "eu-west-3"],
        "apac" => &["ap-northeast-1", "ap-southeast-1", "ap-southeast-2"],
        _ => &["us-east-1", "eu-west-1", "ap-northeast-1"],
    }
}

/// `{"modelArn"}` entries for `model_id` in each of `regions`.
fn model_arns(model_id: &str, regions: &[&str]) -> Vec<Value> {
    regions
        .iter()
        .map(|region| json!({ "modelArn": format!("arn:aws:bedrock:{region}::foundation-model/{model_id}") }))
        .collect()
}

/// An application profile as ListInferenceProfiles and GetInferenceProfile describe it.
fn application_profile(
    arn: &str,
    name: &str,
    description: &str,
    created_at: &str,
    models: Vec<Value>,
) -> Value {
    json!({
        "inferenceProfileName": name,
        "description": description,
        "createdAt": created_at,
        "updatedAt": created_at,
        "inferenceProfileArn": arn,
        "models": models,
        "inferenceProfileId": arn.rsplit('/').next().unwrap_or(arn),
        "status": "ACTIVE",
        "type": "APPLICATION",
    })
}

/// Every inference profile the emulated account sees, system-defined first, then the
/// account's application profiles and those created through this emulator.
fn all_profiles(created: Vec<Value>) -> Vec<Value> {
    let mut profiles = Vec::new();
    for model in MODELS {
        for prefix in model.profile_prefixes {
            let id = format!("{prefix}.{}", model.id);
            let group = prefix.to_ascii_uppercase();
            let regions = regions(prefix);
            profiles.push(json!({
                "inferenceProfileName": format!("{group} {} {}", model.provider, model.name),
                "description": format!("Routes requests to {} {} in {}.", model.provider, model.name, regions.join(", ")),
                "createdAt": SYSTEM_CREATED_AT,
                "updatedAt": SYSTEM_UPDATED_AT,
                "inferenceProfileArn": format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{id}"),
                "models": model_arns(model.id, regions),
                "inferenceProfileId": id,
                "status": "ACTIVE",
                "type": "SYSTEM_DEFINED",
            }));
        }
    }
    let chat_model = catalog::resolve_chat_model(APPLICATION_PROFILE_ARN)
        .map(|resolved| resolved.model.id)
        .unwrap_or("anthropic.claude-3-5-haiku-20241022-v1:0");
    for (arn, model_id, description) in [
        (
            APPLICATION_PROFILE_ARN,
            chat_model,
            "Chat traffic of the emulated team.",
        ),
        (
            EMBEDDING_PROFILE_ARN,
            EMBEDDING_PROFILE_MODEL,
            "Embedding traffic of the emulated team.",
        ),
    ] {
        let id = arn.rsplit('/').next().unwrap_or(arn);
        profiles.push(application_profile(
            arn,
            id,
            description,
            APPLICATION_CREATED_AT,
            model_arns(model_id, &[REGION]),
        ));
    }
    profiles.extend(created);
    profiles
}

/// A page token: the offset and filter it continues, opaque to clients.
fn page_token(offset: usize, type_filter: Option<&str>) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!(
        "emu-page:{offset}:{}",
        type_filter.unwrap_or("ALL")
    ))
}

fn parse_page_token(token: &str, type_filter: Option<&str>) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix("emu-page:")?;
    let (offset, filter) = rest.split_once(':')?;
    (filter == type_filter.unwrap_or("ALL")).then_some(())?;
    offset.parse().ok()
}

async fn list_inference_profiles(
    Extension(state): Extension<Arc<ControlPlane>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    state.inference_profiles.fetch_add(1, Ordering::SeqCst);
    let behaviour = state.behaviour();
    listing_delay(&behaviour).await;
    let Ok(Query(query)) = query else {
        return ApiError::validation("The query string is malformed.").into_response();
    };
    match inference_profiles(&headers, &behaviour, &query, state.created()) {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn inference_profiles(
    headers: &HeaderMap,
    behaviour: &ListingBehaviour,
    query: &HashMap<String, String>,
    created: Vec<Value>,
) -> Result<Value, ApiError> {
    check_permission(headers, behaviour, "ListInferenceProfiles")?;
    let asked = match query.get("maxResults") {
        None => DEFAULT_PAGE_SIZE,
        Some(value) => match value.parse::<usize>() {
            Ok(size) if (1..=1000).contains(&size) => size,
            _ => {
                return Err(ApiError::constraint(
                    value,
                    "maxResults",
                    "have value less than or equal to 1000 and greater than or equal to 1",
                ));
            }
        },
    };
    let page_size = behaviour
        .max_page_size
        .map_or(asked, |cap| asked.min(cap.max(1)));
    let type_filter = enum_param(query, "type", &["SYSTEM_DEFINED", "APPLICATION"])?;
    let offset = match query.get("nextToken") {
        None => 0,
        Some(token) => parse_page_token(token, type_filter)
            .ok_or_else(|| ApiError::validation("The provided nextToken is invalid."))?,
    };
    let matching: Vec<Value> = all_profiles(created)
        .into_iter()
        .filter(|p| type_filter.is_none_or(|t| p["type"] == t))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .cloned()
        .collect();
    let end = offset + page.len();
    let mut body = json!({ "inferenceProfileSummaries": page });
    if behaviour.endless_pages || end < matching.len() {
        // An endless paginator keeps handing out the page after the last (which is empty).
        body["nextToken"] = json!(page_token(end.max(offset + 1), type_filter));
    }
    Ok(body)
}

async fn get_inference_profile(
    Extension(state): Extension<Arc<ControlPlane>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    state.get_inference_profile.fetch_add(1, Ordering::SeqCst);
    let Ok(Path(id)) = id else {
        return ApiError::validation("The inference profile identifier is malformed.")
            .into_response();
    };
    let found = all_profiles(state.created()).into_iter().find(|p| {
        p["inferenceProfileId"] == id.as_str() || p["inferenceProfileArn"] == id.as_str()
    });
    match found {
        Some(profile) => Json(profile).into_response(),
        None => ApiError::new(
            ErrorKind::ResourceNotFound,
            format!("Inference profile {id} not found."),
        )
        .into_response(),
    }
}

async fn create_inference_profile(
    Extension(state): Extension<Arc<ControlPlane>>,
    body: Bytes,
) -> Response {
    state
        .create_inference_profile
        .fetch_add(1, Ordering::SeqCst);
    match create_profile(&state, &body) {
        Ok(arn) => (
            StatusCode::CREATED,
            Json(json!({ "inferenceProfileArn": arn, "status": "ACTIVE" })),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// Checks a CreateInferenceProfile body, records the profile, and returns its new ARN.
fn create_profile(state: &ControlPlane, body: &[u8]) -> Result<String, ApiError> {
    let body: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::malformed("", format!("the request body is not valid JSON ({error})"))
    })?;
    let mut reader = ObjectReader::new(&body, "")?;
    let (value, path) = reader.required("inferenceProfileName")?;
    let name = as_str(value, &path)?.to_string();
    let valid_name = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" _-".contains(&b))
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if !valid_name {
        return Err(ApiError::constraint(
            &name,
            "inferenceProfileName",
            "satisfy regular expression pattern: ^([0-9a-zA-Z][ _-]?)+$",
        ));
    }
    let description = match reader.optional("description") {
        Some((value, path)) => as_str(value, &path)?.to_string(),
        None => String::new(),
    };
    for key in ["clientRequestToken", "tags"] {
        let _ = reader.optional(key);
    }
    let (source, source_path) = reader.required("modelSource")?;
    let mut source = ObjectReader::new(source, &source_path)?;
    let (value, path) = source.required("copyFrom")?;
    let copy_from = as_str(value, &path)?.to_string();
    source.finish()?;
    reader.finish()?;

    let (model_id, regions) = model_source(&copy_from).ok_or_else(|| {
        ApiError::new(
            ErrorKind::ResourceNotFound,
            format!("The model source {copy_from} was not found."),
        )
    })?;
    let mut created = state
        .created
        .lock()
        .map_err(|_| ApiError::new(ErrorKind::InternalServer, "state is unavailable"))?;
    if created
        .iter()
        .any(|p| p["inferenceProfileName"] == name.as_str())
    {
        return Err(ApiError::validation(format!(
            "An inference profile named {name} already exists."
        )));
    }
    let number = NEXT_PROFILE.fetch_add(1, Ordering::Relaxed);
    let id =
        crate::signing::digest_hex(&[b"inference-profile", &number.to_le_bytes(), name.as_bytes()]);
    let arn = format!(
        "arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/{}",
        &id[..12]
    );
    created.push(application_profile(
        &arn,
        &name,
        &description,
        CREATED_AT,
        model_arns(model_id, regions),
    ));
    if let Ok(mut registry) = CREATED_PROFILES.lock() {
        registry.insert(arn.clone(), model_id);
    }
    Ok(arn)
}

/// The model and regions of a `copyFrom` ARN: a foundation model, or a system-defined
/// inference profile (whose regions the new profile inherits).
fn model_source(arn: &str) -> Option<(&'static str, &'static [&'static str])> {
    let resource = arn.strip_prefix("arn:aws:bedrock:")?;
    let (_region, rest) = resource.split_once(':')?;
    let (_account, rest) = rest.split_once(':')?;
    let (kind, id) = rest.split_once('/')?;
    match kind {
        "foundation-model" => catalog::lookup(id).map(|model| (model.id, &[REGION][..])),
        "inference-profile" => {
            let (prefix, base) = id.split_once('.')?;
            let model = catalog::lookup(base)?;
            model
                .profile_prefixes
                .contains(&prefix)
                .then(|| (model.id, regions(prefix)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_foundation_models() {
        let headers = HeaderMap::new();
        let all = foundation_models(&headers, &ListingBehaviour::default(), &query(&[])).unwrap();
        let count = |body: &Value| body["modelSummaries"].as_array().unwrap().len();
        let embeddings = foundation_models(
            &headers,
            &ListingBehaviour::default(),
            &query(&[("byOutputModality", "EMBEDDING")]),
        )
        .unwrap();
        assert!(count(&embeddings) >= 6);
        assert!(count(&embeddings) < count(&all));
        let cohere = foundation_models(
            &headers,
            &ListingBehaviour::default(),
            &query(&[("byProvider", "cohere")]),
        )
        .unwrap();
        assert!(
            cohere["modelSummaries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["providerName"] == "Cohere")
        );
        let err = foundation_models(
            &headers,
            &ListingBehaviour::default(),
            &query(&[("byOutputModality", "VIDEO")]),
        )
        .unwrap_err();
        assert!(err.message.contains("byOutputModality"), "{}", err.message);
    }

    #[test]
    fn pages_through_profiles() {
        let headers = HeaderMap::new();
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut q = query(&[("type", "SYSTEM_DEFINED")]);
            if let Some(t) = &token {
                q.insert("nextToken".into(), t.clone());
            }
            let body =
                inference_profiles(&headers, &ListingBehaviour::default(), &q, Vec::new()).unwrap();
            let page = body["inferenceProfileSummaries"].as_array().unwrap();
            assert!(page.len() <= DEFAULT_PAGE_SIZE);
            seen.extend(
                page.iter()
                    .map(|p| p["inferenceProfileId"].as_str().unwrap().to_string()),
            );
            match body["nextToken"].as_str() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        assert!(seen.len() > DEFAULT_PAGE_SIZE);
        assert!(seen.contains(&"us.anthropic.claude-3-5-haiku-20241022-v1:0".to_string()));
        let bad = inference_profiles(
            &headers,
            &ListingBehaviour::default(),
            &query(&[("nextToken", "bogus")]),
            Vec::new(),
        )
        .unwrap_err();
        assert_eq!(bad.kind, ErrorKind::Validation);
    }

    #[test]
    fn denied_keys_cannot_list() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKIDNOLIST1/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=x"
                .parse()
                .unwrap(),
        );
        let err =
            foundation_models(&headers, &ListingBehaviour::default(), &query(&[])).unwrap_err();
        assert_eq!(err.kind, ErrorKind::AccessDenied);
    }

    #[test]
    fn behaviour_caps_pages_and_can_page_forever() {
        let headers = HeaderMap::new();
        let capped = ListingBehaviour {
            max_page_size: Some(3),
            ..Default::default()
        };
        let body = inference_profiles(
            &headers,
            &capped,
            &query(&[("maxResults", "1000")]),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(
            body["inferenceProfileSummaries"].as_array().unwrap().len(),
            3
        );
        assert!(body["nextToken"].is_string());
        let endless = ListingBehaviour {
            endless_pages: true,
            ..Default::default()
        };
        let body = inference_profiles(
            &headers,
            &endless,
            &query(&[("maxResults", "1000"), ("type", "APPLICATION")]),
            Vec::new(),
        )
        .unwrap();
        assert!(body["nextToken"].is_string());
        let denied = ListingBehaviour {
            denied: true,
            ..Default::default()
        };
        let err = foundation_models(&headers, &denied, &query(&[])).unwrap_err();
        assert_eq!(err.kind, ErrorKind::AccessDenied);
    }

    #[test]
    fn created_profiles_are_listed_and_resolvable() {
        let state = ControlPlane::default();
        let body = json!({
            "inferenceProfileName": "team embeddings",
            "modelSource": {"copyFrom": "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"}
        });
        let arn = create_profile(&state, body.to_string().as_bytes()).unwrap();
        assert!(
            arn.starts_with(
                "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/"
            )
        );
        assert_eq!(
            created_profile_model(&arn),
            Some("amazon.titan-embed-text-v2:0")
        );
        let listed = all_profiles(state.created());
        assert!(
            listed
                .iter()
                .any(|p| p["inferenceProfileArn"] == arn.as_str())
        );
        // Names are unique per account; unknown sources are refused.
        assert!(create_profile(&state, body.to_string().as_bytes()).is_err());
        let unknown = json!({
            "inferenceProfileName": "x",
            "modelSource": {"copyFrom": "arn:aws:bedrock:us-east-1::foundation-model/nope"}
        });
        let err = create_profile(&state, unknown.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ResourceNotFound);
        let system = model_source(
            "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0",
        )
        .unwrap();
        assert_eq!(system.1, regions("us"));
    }
}
