//! `GET /health`: liveness for the ALB target group and for humans. No auth, no Bedrock call.

use axum::Json;
use serde_json::{Value, json};

pub async fn health() -> Json<Value> {
    Json(
        json!({"status": "ok", "service": "bedrock-gateway", "version": env!("CARGO_PKG_VERSION")}),
    )
}
