//! OpenAI embeddings over Bedrock's InvokeModel.
//!
//! A request's texts are split into calls of at most the family's batch size (one text for
//! Titan and Nova, 96 for Cohere), the calls run at most [`MAX_CONCURRENT_CALLS`] at a time,
//! and the vectors are put back in input order. Usage adds up Bedrock's own token counts.
//!
//! Layout: `request` (the OpenAI request and its `input` forms), `token_input` (token ids back
//! to text), `families` (the one table of Bedrock's embedding families), `token_count` (the
//! token-count response header), `response` (the OpenAI response, float or base64).

pub mod families;
pub mod request;
pub mod response;
pub mod token_count;
pub mod token_input;

use futures_util::{StreamExt, TryStreamExt, stream};

use crate::bedrock::Bedrock;
use crate::embeddings::families::{Family, Options, Parsed};
use crate::error::{ApiError, ErrorKind};

/// Calls to Bedrock one request may have in flight at once: enough to embed a few hundred
/// texts quickly, few enough not to trip the account's per-model rate limits by itself.
pub const MAX_CONCURRENT_CALLS: usize = 8;

/// Vectors in input order and the input tokens Bedrock counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedded {
    pub vectors: Vec<Vec<f32>>,
    pub input_tokens: u64,
}

/// Embeds `texts` with `model_id` of `family`, batching and running calls concurrently.
/// The first failing call fails the request (the calls still in flight are dropped).
pub async fn embed(
    bedrock: &Bedrock,
    model_id: &str,
    family: &'static Family,
    texts: &[String],
    options: &Options,
) -> Result<Embedded, ApiError> {
    // Collected first: futures do nothing until polled, and a stream over a closure that
    // returns futures would not be `Send` (the closure's lifetimes cannot be generalised).
    let calls: Vec<_> = texts
        .chunks(family.max_batch.max(1))
        .map(|batch| invoke_batch(bedrock, model_id, family, batch, options))
        .collect();
    // `buffered` keeps the output in the order of the calls, whatever order they finish in.
    let answers: Vec<(Parsed, u64)> = stream::iter(calls)
        .buffered(MAX_CONCURRENT_CALLS)
        .try_collect()
        .await?;
    let mut embedded = Embedded {
        vectors: Vec::with_capacity(texts.len()),
        input_tokens: 0,
    };
    for (parsed, tokens) in answers {
        embedded.vectors.extend(parsed.vectors);
        embedded.input_tokens += tokens;
    }
    Ok(embedded)
}

/// One InvokeModel call for up to `family.max_batch` texts.
async fn invoke_batch(
    bedrock: &Bedrock,
    model_id: &str,
    family: &'static Family,
    batch: &[String],
    options: &Options,
) -> Result<(Parsed, u64), ApiError> {
    let body = (family.build_request)(batch, options);
    let answer = bedrock
        .invoke_model(model_id, body.to_string().into_bytes())
        .await?;
    let parsed = (family.parse_response)(&answer.body).map_err(|detail| {
        unexpected(format!(
            "Bedrock's {} response could not be read: {detail}",
            family.name
        ))
    })?;
    if parsed.vectors.len() != batch.len() {
        return Err(unexpected(format!(
            "Bedrock returned {} embeddings for {} texts.",
            parsed.vectors.len(),
            batch.len()
        )));
    }
    let tokens = answer.input_tokens.or(parsed.input_tokens).unwrap_or(0);
    Ok((parsed, tokens))
}

fn unexpected(message: String) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::BAD_GATEWAY,
        ErrorKind::ApiError,
        message,
    )
}
