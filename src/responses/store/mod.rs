//! Where stored Responses live (`store: true`): what `GET /responses/{id}` returns and what
//! `previous_response_id` continues. In memory locally; DynamoDB on Lambda.
use crate::error::ApiError;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
pub mod dynamo;
pub mod memory;
/// One stored response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredResponse {
    /// `resp_...`
    pub id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The Response object as it was returned to the client.
    pub response: serde_json::Value,
    /// This request's input items, with their ids (`GET .../input_items`).
    pub input_items: Vec<serde_json::Value>,
    /// The whole conversation up to and including this response's output items, in order:
    /// what a request with `previous_response_id` = this id continues.
    pub conversation: Vec<serde_json::Value>,
}
/// A backend for stored responses.
pub trait ResponseStore: Send + Sync {
    fn put(&self, response: StoredResponse) -> BoxFuture<'_, Result<(), ApiError>>;
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredResponse>, ApiError>>;
    /// `true` if it existed.
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, ApiError>>;
}
