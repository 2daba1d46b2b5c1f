//! `POST /model/{modelId}/converse`: answers with one JSON ConverseResponse.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use crate::AppState;
use crate::control::ConverseLog;
use crate::engine::{self, Answer};
use crate::error::ApiError;
use crate::reply::OutputBlock;
use crate::request::Operation;

pub async fn handle(
    State(state): State<AppState>,
    Extension(calls): Extension<Arc<ConverseLog>>,
    model_id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(model_id)) = model_id else {
        return ApiError::validation("The provided model identifier is invalid.").into_response();
    };
    calls.record("Converse", &model_id, &body);
    match engine::answer(
        &model_id,
        &body,
        Operation::Converse,
        state.config.token_delay,
        &state.cache,
    )
    .await
    {
        Ok(answer) => Json(response_body(&answer)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// A content block as ConverseResponse's `output.message.content` holds it.
pub fn block_json(block: &OutputBlock) -> Value {
    match block {
        OutputBlock::Text(text) => json!({ "text": text }),
        OutputBlock::Reasoning { text, signature } => {
            let mut reasoning = json!({ "text": text });
            if let Some(signature) = signature {
                reasoning["signature"] = json!(signature);
            }
            json!({ "reasoningContent": { "reasoningText": reasoning } })
        }
        OutputBlock::RedactedReasoning(blob) => json!({
            "reasoningContent": {
                "redactedContent": base64::engine::general_purpose::STANDARD.encode(blob)
            }
        }),
        OutputBlock::ToolUse { id, name, input } => json!({
            "toolUse": { "toolUseId": id, "name": name, "input": input }
        }),
        OutputBlock::Cited { text, citation } => json!({
            "citationsContent": {
                "content": [{ "text": text }],
                "citations": [citation.to_json()],
            }
        }),
    }
}

fn response_body(answer: &Answer) -> Value {
    let content: Vec<Value> = answer.reply.blocks.iter().map(block_json).collect();
    let mut body = json!({
        "output": { "message": { "role": "assistant", "content": content } },
        "stopReason": answer.reply.stop_reason.as_str(),
        "usage": answer.usage.to_json(),
        "metrics": { "latencyMs": answer.latency_ms() },
    });
    if let Some(trace) = answer.trace() {
        body["trace"] = trace;
    }
    if let Some(fields) = &answer.additional_response_fields {
        body["additionalModelResponseFields"] = fields.clone();
    }
    body
}
