//! `POST /embeddings`: parse, resolve the model to a Bedrock embedding family, check every
//! limit that can be checked before Bedrock is called, decode token input, embed through
//! InvokeModel in batches, answer in OpenAI's shape.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{Extensions, StatusCode};

use crate::auth::Caller;
use crate::auth::model_access::{ModelKind, resolve_model};
use crate::capabilities::{PERMISSIVE, capabilities};
use crate::embeddings;
use crate::embeddings::families::{FAMILIES, Family, family_of};
use crate::embeddings::request::{EmbeddingInput, EmbeddingsRequest, EncodingFormat};
use crate::embeddings::response::{
    EmbeddingList, embedding_list, estimated_size, max_vectors_within,
};
use crate::embeddings::token_input::{Vocabulary, decode};
use crate::error::{ApiError, ErrorKind};
use crate::limits::ResponseLimit;
use crate::routes::parse_body;
use crate::state::AppState;
use crate::telemetry::Recorder;

/// What is sent to Bedrock for a bare `"input": ""`: Bedrock refuses empty texts, OpenAI
/// answers them, and LangChain relies on that to embed empty documents.
const EMPTY_TEXT_STAND_IN: &str = " ";

pub async fn embeddings(
    State(state): State<AppState>,
    caller: Caller,
    extensions: Extensions,
    record: Recorder,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EmbeddingList>, ApiError> {
    let mut req: EmbeddingsRequest = parse_body(body, "Send fewer inputs per request.")?;
    record.requested(&req.model, false);
    if req.model.trim().is_empty() {
        return Err(ApiError::invalid_param(
            "model",
            "`model` must name a Bedrock embedding model id; see GET /api/v1/models.",
        ));
    }
    let format = req.encoding_format()?;
    let input = req.input()?;

    let model_id = resolve_model(&state, &caller, &req.model, ModelKind::Embedding).await?;
    let family = resolve_family(&state, &model_id).await?;
    record.model_used(&model_id);
    let options = req.options(family)?;
    if let Some(limit) = extensions.get::<ResponseLimit>() {
        let dimension = options
            .dimension
            .unwrap_or_else(|| family.default_dimension());
        check_fits(limit, input.len(), dimension, format)?;
    }
    let shape = input.shape();
    let texts = match input {
        EmbeddingInput::Text(text) if text.is_empty() => vec![EMPTY_TEXT_STAND_IN.to_string()],
        EmbeddingInput::Text(text) => vec![text],
        EmbeddingInput::Texts(texts) => texts,
        EmbeddingInput::Tokens(tokens) => {
            decode_off_thread(vec![tokens], &req.model, shape).await?
        }
        EmbeddingInput::TokenLists(lists) => decode_off_thread(lists, &req.model, shape).await?,
    };
    for (index, text) in texts.iter().enumerate() {
        family
            .check_length(text, &shape.param(index))
            .map_err(|message| ApiError::invalid_param(shape.param(index), message))?;
    }
    let embedded = embeddings::embed(&state.bedrock, &model_id, family, &texts, &options).await?;
    record.add_input_tokens(embedded.input_tokens);
    Ok(Json(embedding_list(
        embedded.vectors,
        format,
        model_id,
        embedded.input_tokens,
    )))
}

/// Token ids back to text. The first use parses the vocabulary (a few hundred ms): off the
/// async workers.
async fn decode_off_thread(
    lists: Vec<Vec<u32>>,
    model: &str,
    shape: embeddings::request::InputShape,
) -> Result<Vec<String>, ApiError> {
    let vocabulary = Vocabulary::for_model(model);
    tokio::task::spawn_blocking(move || decode(&lists, vocabulary, shape))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorKind::ApiError,
                "Decoding the token ids failed.",
            )
        })?
}

/// Refuses, before any Bedrock call, a request whose response would exceed the limit its
/// carrier sets (the carrier would replace it with a 413 after every call had run and been
/// paid for).
fn check_fits(
    limit: &ResponseLimit,
    count: usize,
    dimension: u32,
    format: EncodingFormat,
) -> Result<(), ApiError> {
    let estimate = estimated_size(count, dimension, format);
    if estimate <= limit.bytes {
        return Ok(());
    }
    let most = max_vectors_within(limit.bytes, dimension, format).max(1);
    let encoding = match format {
        EncodingFormat::Float => "float",
        EncodingFormat::Base64 => "base64",
    };
    let base64_hint = match format {
        EncodingFormat::Float => format!(
            ", or ask for `encoding_format: \"base64\"` (about {} per request)",
            max_vectors_within(limit.bytes, dimension, EncodingFormat::Base64)
        ),
        EncodingFormat::Base64 => String::new(),
    };
    Err(ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::InvalidRequestError,
        format!(
            "{count} embeddings of {dimension} dimensions as {encoding} come to about {:.1} MB, more than {}. Send at most {most} inputs per request (LangChain: `OpenAIEmbeddings(chunk_size={most})`){base64_hint}, fewer `dimensions`, or {}.",
            estimate as f64 / 1_000_000.0,
            limit.described,
            limit.avoided_by,
        ),
    )
    .with_param("input")
    .with_code("response_too_large"))
}

/// The embedding family behind a model id: from the id itself, or, for an application
/// inference profile ARN, from the model the catalogue (or GetInferenceProfile) says it routes
/// to.
async fn resolve_family(state: &AppState, model_id: &str) -> Result<&'static Family, ApiError> {
    if let Some(family) = family_of(model_id) {
        return Ok(family);
    }
    if model_id.starts_with("arn:")
        && let Some(base) = state.catalog.underlying_model(model_id).await
        && let Some(family) = family_of(&base)
    {
        return Ok(family);
    }
    let supported: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
    let message = if model_id.starts_with("arn:") {
        format!(
            "Cannot tell which embedding model `{model_id}` routes to (neither the model list nor GetInferenceProfile names an embedding model). Use the foundation model id or a system inference profile id of one of: {}.",
            supported.join(", ")
        )
    } else if capabilities(model_id).embedding {
        format!(
            "`{model_id}` is an embedding model this gateway cannot drive yet. Embedding families: {}.",
            supported.join(", ")
        )
    } else if capabilities(model_id) != PERMISSIVE {
        format!(
            "`{model_id}` is a chat model; send it to /api/v1/chat/completions. Embedding families: {}.",
            supported.join(", ")
        )
    } else {
        format!(
            "`{model_id}` is not an embedding model this gateway supports. Embedding families: {}.",
            supported.join(", ")
        )
    };
    Err(ApiError::invalid_param("model", message).with_code("model_not_supported"))
}
