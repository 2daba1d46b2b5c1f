//! Request handlers, one file per route family. Each is thin: parse, call the translation core
//! and the Bedrock seam, write the response.

pub mod chat;
pub mod embeddings;
pub mod health;
pub mod models;
pub mod responses;
pub mod sse;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::openai::request::parse_json;

/// A request body parsed as `T`, or the OpenAI-style error for it: 413 past
/// `MAX_REQUEST_BYTES` (with `too_large_hint` saying what to send less of), 400 otherwise.
pub fn parse_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    too_large_hint: &str,
) -> Result<T, ApiError> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let message = if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            format!("The request body is too large for this gateway (MAX_REQUEST_BYTES). {too_large_hint}")
        } else {
            format!("The request body could not be read: {rejection}")
        };
        ApiError::new(status, "invalid_request_error", message)
    })?;
    parse_json(&body)
}
