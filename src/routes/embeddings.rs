//! `POST /embeddings`: parse, resolve the model to a Bedrock embedding family, decode token
//! input, embed through InvokeModel in batches, answer in OpenAI's shape.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;

use crate::capabilities::{PERMISSIVE, capabilities};
use crate::embeddings;
use crate::embeddings::families::{FAMILIES, Family, family_of};
use crate::embeddings::request::{EmbeddingsRequest, Input, parse_input};
use crate::embeddings::response::{EmbeddingList, embedding_list};
use crate::embeddings::token_input::{Vocabulary, decode};
use crate::error::ApiError;
use crate::routes::parse_body;
use crate::state::AppState;

pub async fn embeddings(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EmbeddingList>, ApiError> {
    let req: EmbeddingsRequest = parse_body(body, "Send fewer inputs per request.")?;
    if req.model.trim().is_empty() {
        return Err(ApiError::invalid_param(
            "model",
            "`model` must name a Bedrock embedding model id; see GET /api/v1/models.",
        ));
    }
    let format = req.encoding_format()?;
    let input = parse_input(req.input.as_ref())?;

    let model_id = state.config.embedding_model_id(&req.model);
    state
        .catalog
        .check(&state.bedrock.control, &model_id)
        .await?;
    let family = resolve_family(&state, &model_id).await?;
    let options = req.options(family)?;
    let texts = match input {
        Input::Texts(texts) => texts,
        Input::Tokens(lists) => {
            // The first use parses the vocabulary (a few hundred ms): off the async workers.
            let vocabulary = Vocabulary::for_model(&req.model);
            tokio::task::spawn_blocking(move || decode(&lists, vocabulary))
                .await
                .map_err(|_| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "api_error",
                        "Decoding the token ids failed.",
                    )
                })??
        }
    };
    let embedded = embeddings::embed(&state.bedrock, &model_id, family, &texts, &options).await?;
    Ok(Json(embedding_list(
        embedded.vectors,
        format,
        model_id,
        embedded.input_tokens,
    )))
}

/// The embedding family behind a model id: from the id itself, or, for an application
/// inference profile ARN, from the model the catalogue says it routes to.
async fn resolve_family(state: &AppState, model_id: &str) -> Result<&'static Family, ApiError> {
    if let Some(family) = family_of(model_id) {
        return Ok(family);
    }
    if model_id.starts_with("arn:")
        && let Some(base) = state
            .catalog
            .underlying_model(&state.bedrock.control, model_id)
            .await
        && let Some(family) = family_of(&base)
    {
        return Ok(family);
    }
    let supported: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
    let message = if model_id.starts_with("arn:") {
        format!(
            "Cannot tell which embedding model `{model_id}` routes to. Use the foundation model id or a system inference profile id of one of: {}.",
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
