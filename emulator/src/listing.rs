//! Bedrock's control-plane listings, built from the model catalogue:
//! `GET /foundation-models` (ListFoundationModels) and `GET /inference-profiles`
//! (ListInferenceProfiles), in the restJson shapes the AWS SDK decodes.
//!
//! ListFoundationModels also lists a few models a client should leave out of an OpenAI model
//! list (a legacy model, an image generator, a provisioned-only variant); they are listed but
//! not invocable. ListInferenceProfiles answers in small pages (10 by default) so that clients
//! must follow `nextToken`.
//!
//! A caller whose SigV4 access key id starts with [`DENIED_KEY_PREFIX`] is refused both
//! listings with AccessDeniedException, as a role without `bedrock:List*` permissions is.
//! `GET /_emulator/calls/listing` counts the listing calls received, for caching tests.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};

use crate::catalog::{self, APPLICATION_PROFILE_ARN, MODELS, ModelKind};
use crate::embeddings::{EMBEDDING_PROFILE_ARN, EMBEDDING_PROFILE_MODEL, Family};
use crate::error::{ApiError, ErrorKind};

/// Access key ids with this prefix may not list models or inference profiles.
pub const DENIED_KEY_PREFIX: &str = "AKIDNOLIST";
/// ListInferenceProfiles' page size when `maxResults` is not given.
pub const DEFAULT_PAGE_SIZE: usize = 10;

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "111122223333";
const SYSTEM_CREATED_AT: &str = "2024-08-27T00:00:00Z";
const SYSTEM_UPDATED_AT: &str = "2025-06-01T00:00:00Z";
const APPLICATION_CREATED_AT: &str = "2025-03-14T09:30:00Z";

/// Listing calls received, for `GET /_emulator/calls/listing`.
#[derive(Debug, Default)]
struct ListingLog {
    foundation_models: AtomicU64,
    inference_profiles: AtomicU64,
}

/// The listing routes, to merge into the emulator's router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/foundation-models", get(list_foundation_models))
        .route("/inference-profiles", get(list_inference_profiles))
        .route("/_emulator/calls/listing", get(report))
        .layer(Extension(Arc::new(ListingLog::default())))
}

async fn report(Extension(log): Extension<Arc<ListingLog>>) -> Json<Value> {
    Json(json!({
        "listFoundationModels": log.foundation_models.load(Ordering::SeqCst),
        "listInferenceProfiles": log.inference_profiles.load(Ordering::SeqCst),
    }))
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

/// Refuses callers whose access key id is one of the denied ones.
fn check_permission(headers: &HeaderMap, action: &str) -> Result<(), ApiError> {
    let key_id = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split("Credential=").nth(1))
        .and_then(|credential| credential.split('/').next())
        .unwrap_or("");
    if key_id.starts_with(DENIED_KEY_PREFIX) {
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

async fn list_foundation_models(
    Extension(log): Extension<Arc<ListingLog>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    log.foundation_models.fetch_add(1, Ordering::SeqCst);
    let Ok(Query(query)) = query else {
        return ApiError::validation("The query string is malformed.").into_response();
    };
    match foundation_models(&headers, &query) {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn foundation_models(
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    check_permission(headers, "ListFoundationModels")?;
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

/// Every inference profile the emulated account sees, system-defined first.
fn all_profiles() -> Vec<Value> {
    let mut profiles = Vec::new();
    for model in MODELS {
        for prefix in model.profile_prefixes {
            let id = format!("{prefix}.{}", model.id);
            let group = prefix.to_ascii_uppercase();
            let regions = regions(prefix);
            let models: Vec<Value> = regions
                .iter()
                .map(|region| json!({ "modelArn": format!("arn:aws:bedrock:{region}::foundation-model/{}", model.id) }))
                .collect();
            profiles.push(json!({
                "inferenceProfileName": format!("{group} {} {}", model.provider, model.name),
                "description": format!("Routes requests to {} {} in {}.", model.provider, model.name, regions.join(", ")),
                "createdAt": SYSTEM_CREATED_AT,
                "updatedAt": SYSTEM_UPDATED_AT,
                "inferenceProfileArn": format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{id}"),
                "models": models,
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
        profiles.push(json!({
            "inferenceProfileName": id,
            "description": description,
            "createdAt": APPLICATION_CREATED_AT,
            "updatedAt": APPLICATION_CREATED_AT,
            "inferenceProfileArn": arn,
            "models": [{ "modelArn": format!("arn:aws:bedrock:{REGION}::foundation-model/{model_id}") }],
            "inferenceProfileId": id,
            "status": "ACTIVE",
            "type": "APPLICATION",
        }));
    }
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
    Extension(log): Extension<Arc<ListingLog>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    log.inference_profiles.fetch_add(1, Ordering::SeqCst);
    let Ok(Query(query)) = query else {
        return ApiError::validation("The query string is malformed.").into_response();
    };
    match inference_profiles(&headers, &query) {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn inference_profiles(
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    check_permission(headers, "ListInferenceProfiles")?;
    let page_size = match query.get("maxResults") {
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
    let type_filter = enum_param(query, "type", &["SYSTEM_DEFINED", "APPLICATION"])?;
    let offset = match query.get("nextToken") {
        None => 0,
        Some(token) => parse_page_token(token, type_filter)
            .ok_or_else(|| ApiError::validation("The provided nextToken is invalid."))?,
    };
    let matching: Vec<Value> = all_profiles()
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
    if end < matching.len() {
        body["nextToken"] = json!(page_token(end, type_filter));
    }
    Ok(body)
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
        let all = foundation_models(&headers, &query(&[])).unwrap();
        let count = |body: &Value| body["modelSummaries"].as_array().unwrap().len();
        let embeddings =
            foundation_models(&headers, &query(&[("byOutputModality", "EMBEDDING")])).unwrap();
        assert!(count(&embeddings) >= 6);
        assert!(count(&embeddings) < count(&all));
        let cohere = foundation_models(&headers, &query(&[("byProvider", "cohere")])).unwrap();
        assert!(
            cohere["modelSummaries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["providerName"] == "Cohere")
        );
        let err =
            foundation_models(&headers, &query(&[("byOutputModality", "VIDEO")])).unwrap_err();
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
            let body = inference_profiles(&headers, &q).unwrap();
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
        let bad = inference_profiles(&headers, &query(&[("nextToken", "bogus")])).unwrap_err();
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
        let err = foundation_models(&headers, &query(&[])).unwrap_err();
        assert_eq!(err.kind, ErrorKind::AccessDenied);
    }
}
