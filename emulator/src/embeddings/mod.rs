//! InvokeModel for Bedrock's text embedding models: `POST /model/{modelId}/invoke` with the
//! native bodies of Titan Text Embeddings v1 and v2, Cohere Embed v3 and v4, and Nova
//! Multimodal Embeddings.
//!
//! Each family's body is checked as strictly as Bedrock checks it: unknown keys, wrong types,
//! empty texts, batches over the family's limit and unsupported dimensions are
//! ValidationExceptions. Answers come in the family's own response shape. Vectors are
//! deterministic unit vectors derived from a hash of the model and the text, so the same text
//! always embeds to the same vector (and a shorter dimension is a renormalised prefix of a
//! longer one, as with Matryoshka embeddings). Token counts use the emulator's unit (one word,
//! one token) and come back in `X-Amzn-Bedrock-Input-Token-Count`, as Bedrock sends them.
//!
//! `[[delay:MS]]` and `[[fault:KIND]]` markers in a text work as they do for Converse. Every call
//! is recorded in the [`InvokeLog`] that `GET /_emulator/calls/invoke` reports (`control.rs`).
//!
//! This module resolves the model and answers; each family's file (`titan.rs`, `cohere.rs`,
//! `nova.rs`) holds its request parsing beside its response rendering.

mod cohere;
mod nova;
mod schema;
mod titan;
mod vectors;

pub use vectors::unit_vector;

use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::catalog::{self, FoundationModel, ModelKind};
use crate::control::InvokeLog;
use crate::error::{ApiError, ErrorKind};
use crate::listing;
use crate::markers::{self, Fault, Markers};
use crate::tokens;

/// An application inference profile the emulated account owns for an embedding model, so
/// that clients can be tested with an ARN whose id says nothing about the model behind it.
pub const EMBEDDING_PROFILE_ARN: &str =
    "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/emu-embed-profile";
/// The model behind [`EMBEDDING_PROFILE_ARN`].
pub const EMBEDDING_PROFILE_MODEL: &str = "cohere.embed-v4:0";

const INVALID_MODEL: &str = "The provided model identifier is invalid.";

/// The embedding families Bedrock serves through InvokeModel, each with its own body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    TitanV1,
    TitanV2,
    CohereV3,
    CohereV4,
    NovaMultimodal,
}

impl Family {
    /// The family of a foundation model id.
    pub fn of(model_id: &str) -> Option<Family> {
        const PREFIXES: &[(&str, Family)] = &[
            ("amazon.titan-embed-text-v1", Family::TitanV1),
            ("amazon.titan-embed-text-v2", Family::TitanV2),
            ("cohere.embed-english-v3", Family::CohereV3),
            ("cohere.embed-multilingual-v3", Family::CohereV3),
            ("cohere.embed-v4", Family::CohereV4),
            (
                "amazon.nova-2-multimodal-embeddings",
                Family::NovaMultimodal,
            ),
        ];
        PREFIXES
            .iter()
            .find(|(prefix, _)| model_id.starts_with(prefix))
            .map(|(_, family)| *family)
    }

    /// What the model takes in, as ListFoundationModels reports it.
    pub fn input_modalities(self) -> &'static [&'static str] {
        match self {
            // Cohere Embed v3 is listed with TEXT only by a real ListFoundationModels answer
            // (the fidelity audit's dump), although its body accepts images.
            Family::TitanV1 | Family::TitanV2 | Family::CohereV3 => &["TEXT"],
            Family::CohereV4 | Family::NovaMultimodal => &["TEXT", "IMAGE"],
        }
    }
}

/// InvokeModel for an embedding model (`crate::images` routes image models elsewhere).
pub(crate) async fn invoke(
    Extension(log): Extension<Arc<InvokeLog>>,
    model_id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let _in_flight = log.enter();
    let Ok(Path(model_id)) = model_id else {
        return ApiError::validation(INVALID_MODEL).into_response();
    };
    let plan = plan(&model_id, &body);
    log.record(
        &model_id,
        plan.as_ref().map_or(0, |plan| plan.texts.len()),
        &body,
    );
    let answer = match plan {
        Ok(plan) => answer(plan).await,
        Err(error) => Err(error),
    };
    match answer {
        Ok((body, input_tokens)) => {
            let mut response = (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response();
            let headers = response.headers_mut();
            headers.insert("x-amzn-bedrock-input-token-count", input_tokens.into());
            let latency = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            headers.insert("x-amzn-bedrock-invocation-latency", latency.into());
            response
        }
        Err(error) => error.into_response(),
    }
}

/// A checked request: what to embed and how to answer.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    model_id: &'static str,
    texts: Vec<String>,
    dimension: usize,
    render: Render,
}

/// The response shape a family answers in.
#[derive(Debug, Clone, PartialEq)]
enum Render {
    Titan(titan::Shape),
    Cohere(cohere::Shape),
    Nova,
}

/// Resolves the model and checks the body against its family's schema.
fn plan(model_id: &str, body: &[u8]) -> Result<Plan, ApiError> {
    let body: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::malformed("", format!("the request body is not valid JSON ({error})"))
    })?;
    let model = resolve(model_id, &body)?;
    let family = Family::of(model.id).ok_or_else(|| ApiError::validation(INVALID_MODEL))?;
    let mut plan = match family {
        Family::TitanV1 => titan::parse_v1(&body)?,
        Family::TitanV2 => titan::parse_v2(&body)?,
        Family::CohereV3 => cohere::parse_v3(&body)?,
        Family::CohereV4 => cohere::parse_v4(&body)?,
        Family::NovaMultimodal => nova::parse(&body)?,
    };
    plan.model_id = model.id;
    Ok(plan)
}

/// The embedding model a `modelId` names: a bare id, a foundation-model ARN, a system
/// inference profile, the account's embedding application profile, or an application profile
/// created through CreateInferenceProfile. Chat models are
/// refused the way Bedrock refuses a body of the wrong schema.
fn resolve(model_id: &str, body: &Value) -> Result<&'static FoundationModel, ApiError> {
    let (id, application_profile) = if model_id == EMBEDDING_PROFILE_ARN {
        (EMBEDDING_PROFILE_MODEL, true)
    } else if let Some(model) = listing::created_profile_model(model_id) {
        (model, true)
    } else if let Some(rest) = model_id.strip_prefix("arn:") {
        let id =
            foundation_model_in_arn(rest).ok_or_else(|| ApiError::validation(INVALID_MODEL))?;
        (id, false)
    } else {
        (model_id, false)
    };
    let (prefix, base) = match id.split_once('.') {
        Some((prefix, rest)) if matches!(prefix, "us" | "eu" | "apac" | "global") => {
            (Some(prefix), rest)
        }
        _ => (None, id),
    };
    let Some(model) = catalog::lookup(base) else {
        if catalog::resolve_chat_model(model_id).is_ok() {
            return Err(not_this_schema(body));
        }
        return Err(ApiError::validation(INVALID_MODEL));
    };
    if prefix.is_some_and(|p| !model.profile_prefixes.contains(&p)) {
        return Err(ApiError::validation(INVALID_MODEL));
    }
    // A profile-only model (Cohere Embed v4) is refused by its bare id, as for chat; see
    // `catalog::profile_only` for the evidence.
    if prefix.is_none() && !application_profile && !model.on_demand {
        return Err(catalog::on_demand_refusal(model.id));
    }
    match model.kind {
        ModelKind::Embedding => Ok(model),
        ModelKind::Chat(_) | ModelKind::Image => Err(not_this_schema(body)),
    }
}

/// `aws:bedrock:REGION::foundation-model/ID` (after `arn:`) -> `ID`.
fn foundation_model_in_arn(resource: &str) -> Option<&str> {
    let parts: Vec<&str> = resource.splitn(5, ':').collect();
    let [partition, "bedrock", region, "", rest] = parts.as_slice() else {
        return None;
    };
    if !partition.starts_with("aws") || region.is_empty() {
        return None;
    }
    rest.strip_prefix("foundation-model/")
}

/// What a text model's schema says about an embeddings body.
fn not_this_schema(body: &Value) -> ApiError {
    let key = body
        .as_object()
        .and_then(|object| object.keys().next().cloned())
        .unwrap_or_else(|| "inputText".to_string());
    ApiError::malformed("", format!("extraneous key [{key}] is not permitted"))
}

/// Applies the markers in the texts, then renders the family's response body. Returns the
/// body and the input token count.
async fn answer(plan: Plan) -> Result<(Vec<u8>, u64), ApiError> {
    let mut markers = Markers::default();
    for text in &plan.texts {
        markers.scan(text);
    }
    if let Some(delay) = markers.delay {
        tokio::time::sleep(delay.min(Duration::from_secs(60))).await;
    }
    match markers.fault {
        Some(Fault::Immediate(kind)) => {
            return Err(ApiError::new(kind, markers::fault_message(kind)));
        }
        Some(Fault::MidStream(exception)) => {
            let kind = exception.as_http_error();
            return Err(ApiError::new(kind, markers::fault_message(kind)));
        }
        Some(Fault::RelayedFromModel) => {
            return Err(ApiError::from_model(markers::RELAYED_FAULT_DETAIL));
        }
        None => {}
    }
    let counts: Vec<u64> = match &plan.render {
        Render::Cohere(cohere::Shape {
            max_tokens: Some(max),
            ..
        }) => plan
            .texts
            .iter()
            .map(|t| tokens::count(t).min(*max))
            .collect(),
        _ => plan.texts.iter().map(|t| tokens::count(t)).collect(),
    };
    let input_tokens: u64 = counts.iter().sum();
    let vectors: Vec<Vec<f32>> = plan
        .texts
        .iter()
        .map(|text| unit_vector(plan.model_id, text, plan.dimension))
        .collect();
    let body = match plan.render {
        Render::Titan(shape) => titan::render(
            shape,
            vectors.into_iter().next().unwrap_or_default(),
            input_tokens,
        ),
        Render::Cohere(shape) => cohere::render(shape, &plan.texts, vectors),
        Render::Nova => nova::render(vectors),
    };
    body.map(|body| (body, input_tokens))
        .map_err(|error| ApiError::new(ErrorKind::InternalServer, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan_of(model: &str, body: Value) -> Result<Plan, ApiError> {
        plan(model, body.to_string().as_bytes())
    }

    #[test]
    fn chat_models_and_unknown_ids_are_refused() {
        let err = plan_of(
            "anthropic.claude-3-haiku-20240307-v1:0",
            json!({"inputText": "hi"}),
        )
        .unwrap_err();
        assert!(
            err.message.contains("extraneous key [inputText]"),
            "{}",
            err.message
        );
        let err = plan_of(
            "us.anthropic.claude-3-5-haiku-20241022-v1:0",
            json!({"inputText": "hi"}),
        )
        .unwrap_err();
        assert!(err.message.contains("extraneous key"), "{}", err.message);
        let err = plan_of("nope.embed-v1", json!({"inputText": "hi"})).unwrap_err();
        assert_eq!(err.message, INVALID_MODEL);
        assert!(
            plan_of(
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v1",
                json!({"inputText": "hi"})
            )
            .is_ok()
        );
        assert!(
            plan_of(
                EMBEDDING_PROFILE_ARN,
                json!({"texts": ["hi"], "input_type": "search_query"})
            )
            .is_ok()
        );
    }
}
