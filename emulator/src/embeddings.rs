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
//! `[[delay:MS]]` and `[[fault:KIND]]` markers in a text work as they do for Converse.
//! `GET /_emulator/calls/invoke` reports the calls received (model, input count, body) and the
//! most that were in flight at once, for tests that check what a client sends and how it batches.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::catalog::{self, FoundationModel, ModelKind};
use crate::error::{ApiError, ErrorKind};
use crate::json_reader::{ObjectReader, as_array, as_bool, as_integer, as_str, child};
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
const TITAN_MAX_CHARS: usize = 50_000;
const COHERE_V3_MAX_CHARS: usize = 2_048;
const COHERE_MAX_TEXTS: usize = 96;
const NOVA_MAX_CHARS: usize = 50_000;

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

/// The calls received, for `GET /_emulator/calls/invoke`.
#[derive(Debug, Default)]
struct InvokeLog {
    calls: Mutex<Vec<CallRecord>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct CallRecord {
    model_id: String,
    /// Texts in the call (0 when the body was refused).
    inputs: usize,
    /// The request body as received, so tests can check what a client sent.
    body: Value,
}

/// Counts a call as in flight until dropped.
struct InFlight<'a>(&'a InvokeLog);

impl<'a> InFlight<'a> {
    fn enter(log: &'a InvokeLog) -> Self {
        let now = log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        log.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(log)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The InvokeModel routes, to merge into the emulator's router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/model/{model_id}/invoke", post(invoke))
        .route("/_emulator/calls/invoke", get(report))
        .layer(Extension(Arc::new(InvokeLog::default())))
}

async fn report(Extension(log): Extension<Arc<InvokeLog>>) -> Json<Value> {
    let calls = log
        .calls
        .lock()
        .map(|calls| calls.clone())
        .unwrap_or_default();
    Json(json!({
        "calls": calls,
        "maxInFlight": log.max_in_flight.load(Ordering::SeqCst),
    }))
}

async fn invoke(
    Extension(log): Extension<Arc<InvokeLog>>,
    model_id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let _in_flight = InFlight::enter(&log);
    let Ok(Path(model_id)) = model_id else {
        return ApiError::validation(INVALID_MODEL).into_response();
    };
    let plan = plan(&model_id, &body);
    if let Ok(mut calls) = log.calls.lock() {
        calls.push(CallRecord {
            model_id: model_id.clone(),
            inputs: plan.as_ref().map_or(0, |plan| plan.texts.len()),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
    }
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
    /// Titan: one vector. v2 adds `embeddingsByType`; `normalize: false` gives a norm above 1.
    Titan {
        by_type: Option<Vec<String>>,
        normalize: bool,
    },
    /// Cohere: `embeddings` as a list of float vectors (`embeddings_floats`), or, when
    /// `embedding_types` is set (always for v4), an object by type (`embeddings_by_type`).
    Cohere {
        by_type: Option<Vec<String>>,
        max_tokens: Option<u64>,
    },
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
        Family::TitanV1 => titan_v1(&body)?,
        Family::TitanV2 => titan_v2(&body)?,
        Family::CohereV3 => cohere_v3(&body)?,
        Family::CohereV4 => cohere_v4(&body)?,
        Family::NovaMultimodal => nova(&body)?,
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
        ModelKind::Chat(_) => Err(not_this_schema(body)),
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

fn titan_v1(body: &Value) -> Result<Plan, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    let (value, path) = reader.required("inputText")?;
    let text = text_at(value, &path, TITAN_MAX_CHARS)?;
    reader.finish()?;
    Ok(Plan {
        model_id: "",
        texts: vec![text.to_string()],
        dimension: 1536,
        render: Render::Titan {
            by_type: None,
            normalize: true,
        },
    })
}

fn titan_v2(body: &Value) -> Result<Plan, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    let (value, path) = reader.required("inputText")?;
    let text = text_at(value, &path, TITAN_MAX_CHARS)?;
    let dimension = match reader.optional("dimensions") {
        Some((value, path)) => int_enum_at(value, &path, &[256, 512, 1024])?,
        None => 1024,
    };
    let normalize = match reader.optional("normalize") {
        Some((value, path)) => as_bool(value, &path)?,
        None => true,
    };
    let by_type = match reader.optional("embeddingTypes") {
        Some((value, path)) => type_list_at(value, &path, &["float", "binary"])?,
        None => vec!["float".to_string()],
    };
    reader.finish()?;
    Ok(Plan {
        model_id: "",
        texts: vec![text.to_string()],
        dimension,
        render: Render::Titan {
            by_type: Some(by_type),
            normalize,
        },
    })
}

fn cohere_v3(body: &Value) -> Result<Plan, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    let texts = cohere_texts(&mut reader, COHERE_V3_MAX_CHARS)?;
    let (value, path) = reader.required("input_type")?;
    enum_at(
        value,
        &path,
        &[
            "search_document",
            "search_query",
            "classification",
            "clustering",
            "image",
        ],
    )?;
    if let Some((value, path)) = reader.optional("truncate") {
        enum_at(value, &path, &["NONE", "START", "END"])?;
    }
    let by_type = match reader.optional("embedding_types") {
        Some((value, path)) => Some(type_list_at(
            value,
            &path,
            &["float", "int8", "uint8", "binary", "ubinary"],
        )?),
        None => None,
    };
    reader.finish()?;
    Ok(Plan {
        model_id: "",
        texts,
        dimension: 1024,
        render: Render::Cohere {
            by_type,
            max_tokens: None,
        },
    })
}

fn cohere_v4(body: &Value) -> Result<Plan, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    let texts = cohere_texts(&mut reader, usize::MAX)?;
    let (value, path) = reader.required("input_type")?;
    enum_at(
        value,
        &path,
        &[
            "search_document",
            "search_query",
            "classification",
            "clustering",
        ],
    )?;
    if let Some((value, path)) = reader.optional("truncate") {
        enum_at(value, &path, &["NONE", "LEFT", "RIGHT"])?;
    }
    let dimension = match reader.optional("output_dimension") {
        Some((value, path)) => int_enum_at(value, &path, &[256, 512, 1024, 1536])?,
        None => 1536,
    };
    let max_tokens = match reader.optional("max_tokens") {
        Some((value, path)) => {
            let max = as_integer(value, &path)?;
            if !(1..=128_000).contains(&max) {
                return Err(ApiError::malformed(
                    &path,
                    format!("{max} is not between 1 and 128000"),
                ));
            }
            Some(max.unsigned_abs())
        }
        None => None,
    };
    let by_type = match reader.optional("embedding_types") {
        Some((value, path)) => type_list_at(
            value,
            &path,
            &["float", "int8", "uint8", "binary", "ubinary"],
        )?,
        None => vec!["float".to_string()],
    };
    reader.finish()?;
    Ok(Plan {
        model_id: "",
        texts,
        dimension,
        render: Render::Cohere {
            by_type: Some(by_type),
            max_tokens,
        },
    })
}

/// Cohere's `texts`: 1 to 96 non-empty strings. Image inputs are not emulated.
fn cohere_texts(reader: &mut ObjectReader<'_>, max_chars: usize) -> Result<Vec<String>, ApiError> {
    for key in ["images", "inputs"] {
        if reader.optional(key).is_some() {
            return Err(ApiError::validation(format!(
                "The Bedrock emulator embeds texts only; `{key}` is not emulated."
            )));
        }
    }
    let (value, path) = reader.required("texts")?;
    let items = as_array(value, &path)?;
    if items.is_empty() {
        return Err(ApiError::malformed(
            &path,
            "expected minItems: 1, actual: 0",
        ));
    }
    if items.len() > COHERE_MAX_TEXTS {
        return Err(ApiError::malformed(
            &path,
            format!(
                "expected maxItems: {COHERE_MAX_TEXTS}, actual: {}",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| text_at(item, &child(&path, index), max_chars).map(str::to_string))
        .collect()
}

fn nova(body: &Value) -> Result<Plan, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    if let Some((value, path)) = reader.optional("schemaVersion") {
        enum_at(value, &path, &["nova-multimodal-embed-v1"])?;
    }
    let (value, path) = reader.required("taskType")?;
    if enum_at(value, &path, &["SINGLE_EMBEDDING", "SEGMENTED_EMBEDDING"])? == "SEGMENTED_EMBEDDING"
    {
        return Err(ApiError::validation(
            "SEGMENTED_EMBEDDING is only supported by StartAsyncInvoke; InvokeModel takes SINGLE_EMBEDDING.",
        ));
    }
    let (params, params_path) = reader.required("singleEmbeddingParams")?;
    reader.finish()?;

    let mut params = ObjectReader::new(params, &params_path)?;
    let (value, path) = params.required("embeddingPurpose")?;
    enum_at(
        value,
        &path,
        &[
            "GENERIC_INDEX",
            "GENERIC_RETRIEVAL",
            "TEXT_RETRIEVAL",
            "IMAGE_RETRIEVAL",
            "VIDEO_RETRIEVAL",
            "DOCUMENT_RETRIEVAL",
            "AUDIO_RETRIEVAL",
            "CLASSIFICATION",
            "CLUSTERING",
        ],
    )?;
    let dimension = match params.optional("embeddingDimension") {
        Some((value, path)) => int_enum_at(value, &path, &[256, 384, 1024, 3072])?,
        None => 3072,
    };
    let modalities: Vec<&str> = ["text", "image", "audio", "video"]
        .into_iter()
        .filter(|key| params.optional(key).is_some())
        .collect();
    match modalities.as_slice() {
        ["text"] => {}
        [] | [_, _, ..] => {
            return Err(ApiError::malformed(
                &params_path,
                "exactly one of [text, image, audio, video] must be set",
            ));
        }
        [other] => {
            return Err(ApiError::validation(format!(
                "The Bedrock emulator embeds text only; `{other}` is not emulated."
            )));
        }
    }
    let (text, text_path) = params.required("text")?;
    params.finish()?;

    let mut text = ObjectReader::new(text, &text_path)?;
    let (value, path) = text.required("truncationMode")?;
    enum_at(value, &path, &["START", "END", "NONE"])?;
    if text.optional("source").is_some() {
        return Err(ApiError::validation(
            "The Bedrock emulator embeds inline text only; `text.source` (S3) is not emulated.",
        ));
    }
    let (value, path) = text.required("value")?;
    let value = text_at(value, &path, NOVA_MAX_CHARS)?;
    text.finish()?;
    Ok(Plan {
        model_id: "",
        texts: vec![value.to_string()],
        dimension,
        render: Render::Nova,
    })
}

/// A non-empty string of at most `max_chars` characters.
fn text_at<'a>(value: &'a Value, path: &str, max_chars: usize) -> Result<&'a str, ApiError> {
    let text = as_str(value, path)?;
    let chars = text.chars().count();
    if chars == 0 {
        return Err(ApiError::malformed(
            path,
            "expected minLength: 1, actual: 0",
        ));
    }
    if chars > max_chars {
        return Err(ApiError::malformed(
            path,
            format!("expected maxLength: {max_chars}, actual: {chars}"),
        ));
    }
    Ok(text)
}

fn enum_at<'a>(value: &'a Value, path: &str, allowed: &[&str]) -> Result<&'a str, ApiError> {
    let text = as_str(value, path)?;
    if allowed.contains(&text) {
        Ok(text)
    } else {
        Err(ApiError::malformed(
            path,
            format!("{text} is not a valid enum value"),
        ))
    }
}

fn int_enum_at(value: &Value, path: &str, allowed: &[i64]) -> Result<usize, ApiError> {
    let number = as_integer(value, path)?;
    if allowed.contains(&number) {
        Ok(usize::try_from(number).unwrap_or(0))
    } else {
        Err(ApiError::malformed(
            path,
            format!("{number} is not a valid enum value"),
        ))
    }
}

/// A non-empty list of distinct embedding type names.
fn type_list_at(value: &Value, path: &str, allowed: &[&str]) -> Result<Vec<String>, ApiError> {
    let items = as_array(value, path)?;
    if items.is_empty() {
        return Err(ApiError::malformed(path, "expected minItems: 1, actual: 0"));
    }
    let mut types: Vec<String> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let name = enum_at(item, &child(path, index), allowed)?;
        if types.iter().any(|seen| seen == name) {
            return Err(ApiError::malformed(path, "array items are not unique"));
        }
        types.push(name.to_string());
    }
    Ok(types)
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
        Render::Cohere {
            max_tokens: Some(max),
            ..
        } => plan
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
        Render::Titan { by_type, normalize } => {
            let mut vector = vectors.into_iter().next().unwrap_or_default();
            if !normalize {
                let scale = 1.0 + input_tokens as f32;
                vector.iter_mut().for_each(|v| *v *= scale);
            }
            titan_body(vector, input_tokens, by_type)
        }
        Render::Cohere { by_type, .. } => cohere_body(&plan.texts, vectors, by_type),
        Render::Nova => serde_json::to_vec(&NovaResponse {
            embeddings: vectors
                .into_iter()
                .map(|embedding| NovaEmbedding {
                    embedding_type: "TEXT",
                    embedding,
                })
                .collect(),
        }),
    };
    body.map(|body| (body, input_tokens))
        .map_err(|error| ApiError::new(ErrorKind::InternalServer, error.to_string()))
}

/// Vectors of one embedding type: floats, or integers for the quantised types. `F` and `I`
/// are one vector for Titan, a list of vectors for Cohere.
#[derive(Serialize)]
#[serde(untagged)]
enum Vectors<F, I> {
    Float(F),
    Int(I),
}

/// Titan v2's `embeddingsByType`: one vector per type.
type TitanByType = BTreeMap<String, Vectors<Vec<f32>, Vec<i32>>>;
/// Cohere's `embeddings` by type: a list of vectors per type.
type CohereByType = BTreeMap<String, Vectors<Vec<Vec<f32>>, Vec<Vec<i32>>>>;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TitanResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding: Option<Vec<f32>>,
    input_text_token_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    embeddings_by_type: Option<TitanByType>,
}

fn titan_body(
    vector: Vec<f32>,
    input_tokens: u64,
    by_type: Option<Vec<String>>,
) -> serde_json::Result<Vec<u8>> {
    let Some(types) = by_type else {
        // Titan v1: the vector and the count, nothing else.
        return serde_json::to_vec(&TitanResponse {
            embedding: Some(vector),
            input_text_token_count: input_tokens,
            embeddings_by_type: None,
        });
    };
    let mut by_type = BTreeMap::new();
    for name in &types {
        let vectors = match name.as_str() {
            "binary" => Vectors::Int(vector.iter().map(|v| i32::from(*v > 0.0)).collect()),
            _ => Vectors::Float(vector.clone()),
        };
        by_type.insert(name.clone(), vectors);
    }
    serde_json::to_vec(&TitanResponse {
        embedding: types.iter().any(|t| t == "float").then_some(vector),
        input_text_token_count: input_tokens,
        embeddings_by_type: Some(by_type),
    })
}

#[derive(Serialize)]
struct CohereResponse<'a, E> {
    id: String,
    embeddings: E,
    response_type: &'static str,
    texts: &'a [String],
}

fn cohere_body(
    texts: &[String],
    vectors: Vec<Vec<f32>>,
    by_type: Option<Vec<String>>,
) -> serde_json::Result<Vec<u8>> {
    let digest = Sha256::digest(texts.join("\u{0}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let id = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    let Some(types) = by_type else {
        return serde_json::to_vec(&CohereResponse {
            id,
            embeddings: vectors,
            response_type: "embeddings_floats",
            texts,
        });
    };
    let mut by_type: CohereByType = BTreeMap::new();
    for name in &types {
        let quantised =
            |f: fn(&[f32]) -> Vec<i32>| Vectors::Int(vectors.iter().map(|v| f(v)).collect());
        let entry = match name.as_str() {
            "int8" => quantised(|v| v.iter().map(|x| int8(*x)).collect()),
            "uint8" => quantised(|v| v.iter().map(|x| int8(*x) + 128).collect()),
            "binary" => quantised(|v| {
                pack_bits(v)
                    .into_iter()
                    .map(|b| i32::from(b as i8))
                    .collect()
            }),
            "ubinary" => quantised(|v| pack_bits(v).into_iter().map(i32::from).collect()),
            _ => Vectors::Float(vectors.clone()),
        };
        by_type.insert(name.clone(), entry);
    }
    serde_json::to_vec(&CohereResponse {
        id,
        embeddings: by_type,
        response_type: "embeddings_by_type",
        texts,
    })
}

fn int8(value: f32) -> i32 {
    ((value * 127.0).round() as i32).clamp(-128, 127)
}

/// One bit per dimension (set when positive), eight dimensions to a byte.
fn pack_bits(vector: &[f32]) -> Vec<u8> {
    vector
        .chunks(8)
        .map(|chunk| {
            chunk.iter().enumerate().fold(
                0u8,
                |byte, (bit, v)| if *v > 0.0 { byte | (0x80 >> bit) } else { byte },
            )
        })
        .collect()
}

#[derive(Serialize)]
struct NovaResponse {
    embeddings: Vec<NovaEmbedding>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NovaEmbedding {
    embedding_type: &'static str,
    embedding: Vec<f32>,
}

/// The emulator's embedding of `text` by `model_id`: a unit vector whose components come from
/// SHA-256 in counter mode, so it depends on nothing but the model, the text and the length.
pub fn unit_vector(model_id: &str, text: &str, dimension: usize) -> Vec<f32> {
    let mut components: Vec<f64> = Vec::with_capacity(dimension);
    let mut counter: u64 = 0;
    while components.len() < dimension {
        let mut hasher = Sha256::new();
        hasher.update(b"bedrock-emulator/embedding/v1\n");
        hasher.update((model_id.len() as u64).to_le_bytes());
        hasher.update(model_id.as_bytes());
        hasher.update(text.as_bytes());
        hasher.update(counter.to_le_bytes());
        for word in hasher.finalize().chunks_exact(4) {
            let unit = f64::from(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
                / f64::from(u32::MAX);
            components.push(unit * 2.0 - 1.0);
        }
        counter += 1;
    }
    components.truncate(dimension);
    let norm = components.iter().map(|c| c * c).sum::<f64>().sqrt();
    components
        .into_iter()
        .map(|c| if norm > 0.0 { (c / norm) as f32 } else { 0.0 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(model: &str, body: Value) -> Result<Plan, ApiError> {
        plan(model, body.to_string().as_bytes())
    }

    #[test]
    fn vectors_are_deterministic_unit_vectors() {
        let a = unit_vector("cohere.embed-v4:0", "hello", 1536);
        assert_eq!(a, unit_vector("cohere.embed-v4:0", "hello", 1536));
        assert_ne!(a, unit_vector("cohere.embed-v4:0", "hello!", 1536));
        let norm: f32 = a.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
        let short = unit_vector("cohere.embed-v4:0", "hello", 256);
        let ratio = a[0] / short[0];
        assert!(
            a[..256]
                .iter()
                .zip(&short)
                .all(|(x, y)| (x / y - ratio).abs() < 1e-3)
        );
    }

    #[test]
    fn each_family_checks_its_schema() {
        assert!(plan_of("amazon.titan-embed-text-v1", json!({"inputText": "hi"})).is_ok());
        let err = plan_of(
            "amazon.titan-embed-text-v1",
            json!({"inputText": "hi", "dimensions": 256}),
        )
        .unwrap_err();
        assert!(
            err.message.contains("extraneous key [dimensions]"),
            "{}",
            err.message
        );
        let err = plan_of(
            "amazon.titan-embed-text-v2:0",
            json!({"inputText": "hi", "dimensions": 300}),
        )
        .unwrap_err();
        assert!(
            err.message
                .contains("#/dimensions: 300 is not a valid enum value"),
            "{}",
            err.message
        );
        let err = plan_of("amazon.titan-embed-text-v2:0", json!({"inputText": ""})).unwrap_err();
        assert!(
            err.message.contains("#/inputText: expected minLength: 1"),
            "{}",
            err.message
        );
        let err = plan_of("cohere.embed-english-v3", json!({"texts": ["a"]})).unwrap_err();
        assert!(
            err.message.contains("required key [input_type] not found"),
            "{}",
            err.message
        );
        let texts: Vec<String> = (0..97).map(|i| format!("t{i}")).collect();
        let err = plan_of(
            "cohere.embed-english-v3",
            json!({"texts": texts, "input_type": "search_document"}),
        )
        .unwrap_err();
        assert!(
            err.message.contains("expected maxItems: 96, actual: 97"),
            "{}",
            err.message
        );
        // Cohere Embed v4 is profile-only: its bare id is refused before the body is read.
        let err = plan_of(
            "cohere.embed-v4:0",
            json!({"texts": ["a"], "input_type": "search_query"}),
        )
        .unwrap_err();
        assert!(
            err.message.starts_with("Invocation of model ID cohere.embed-v4:0 with on-demand throughput isn't supported."),
            "{}",
            err.message
        );
        assert!(
            plan_of(
                "eu.cohere.embed-v4:0",
                json!({"texts": ["a"], "input_type": "search_query"})
            )
            .is_ok()
        );
        let err = plan_of(
            "us.cohere.embed-v4:0",
            json!({"texts": ["a", ""], "input_type": "search_query"}),
        )
        .unwrap_err();
        assert!(
            err.message.contains("#/texts/1: expected minLength: 1"),
            "{}",
            err.message
        );
        let err = plan_of(
            "us.cohere.embed-v4:0",
            json!({"texts": ["a"], "input_type": "search_query", "output_dimension": 2048}),
        )
        .unwrap_err();
        assert!(
            err.message.contains("2048 is not a valid enum value"),
            "{}",
            err.message
        );
        let nova = json!({
            "taskType": "SINGLE_EMBEDDING",
            "singleEmbeddingParams": {
                "embeddingPurpose": "GENERIC_INDEX",
                "embeddingDimension": 384,
                "text": {"truncationMode": "END", "value": "hello"}
            }
        });
        assert_eq!(
            plan_of("amazon.nova-2-multimodal-embeddings-v1:0", nova)
                .unwrap()
                .dimension,
            384
        );
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

    #[test]
    fn quantised_types_have_the_expected_sizes() {
        let body = cohere_body(
            &["a".to_string()],
            vec![unit_vector("m", "a", 16)],
            Some(vec!["float".into(), "int8".into(), "ubinary".into()]),
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["response_type"], "embeddings_by_type");
        assert_eq!(body["embeddings"]["float"][0].as_array().unwrap().len(), 16);
        assert_eq!(body["embeddings"]["int8"][0].as_array().unwrap().len(), 16);
        assert_eq!(
            body["embeddings"]["ubinary"][0].as_array().unwrap().len(),
            2
        );
    }
}
