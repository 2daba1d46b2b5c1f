//! The DynamoDB [`ResponseStore`]: stored responses on Lambda, where process memory does not
//! outlive an instance. Selected when `RESPONSES_TABLE` names the table (src/state.rs).
//!
//! This file is the seam for DynamoDB: the only code in the gateway that calls the
//! aws-sdk-dynamodb client (as src/bedrock/ is for Bedrock and src/auth/store.rs for SSM), so
//! the rest of the gateway sees only the [`ResponseStore`] trait. The client comes from the
//! shared SDK configuration, so `AWS_ENDPOINT_URL_DYNAMODB` points it elsewhere (tests: moto).
//!
//! The table has one string partition key, `id`. A response is one item:
//!
//! | attribute    | type | what                                                        |
//! |--------------|------|-------------------------------------------------------------|
//! | `id`         | S    | the response id, `resp_...`                                  |
//! | `kind`       | S    | `response` (or `part`, below)                                |
//! | `created_at` | N    | Unix seconds, as in the response                             |
//! | `expires_at` | N    | Unix seconds: the table's TTL attribute (`RESPONSES_TTL_DAYS`) |
//! | `format`     | S    | [`codec::FORMAT`]: the body is deflate-compressed JSON       |
//! | `body`       | B    | the body, when it fits in this item                          |
//! | `parts`, `size` | N | otherwise: how many part items hold it, and its total length |
//!
//! A body over [`codec::PART_BYTES`] is kept in part items `id#0`, `id#1`, ... (`kind` =
//! `part`, with `body` and the same `expires_at`), written before the response's own item,
//! which is the manifest: a reader that finds it finds its parts. So no response is too large
//! to store (DynamoDB's 400 KB item limit applies per part). Reads are strongly consistent:
//! a client continues a response (`previous_response_id`) right after it was written.
//! DynamoDB deletes expired items within days, not at once, so reads also skip items past
//! `expires_at`, as AWS advises.

pub mod codec;

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use axum::http::StatusCode;
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, TryStreamExt, stream};
use tokio::time::Duration;

use super::{ResponseStore, StoredResponse};
use crate::error::{ApiError, ErrorKind};

/// How long one store operation may take, parts and SDK retries included. The SDK has no
/// operation timeout by default, and a blackholed endpoint would hang the request.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(10);

/// Part items written or read at once for one response.
const PART_CONCURRENCY: usize = 4;

const ID: &str = "id";
const KIND: &str = "kind";
const CREATED_AT: &str = "created_at";
/// The TTL attribute; template.yaml enables TTL on it.
pub const EXPIRES_AT: &str = "expires_at";
const FORMAT: &str = "format";
const BODY: &str = "body";
const PARTS: &str = "parts";
const SIZE: &str = "size";
const KIND_RESPONSE: &str = "response";
const KIND_PART: &str = "part";

type Item = HashMap<String, AttributeValue>;

/// Stored responses in a DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ttl_seconds: i64,
}

/// What went wrong, before it becomes the client's error: `transient` failures (throttling,
/// timeouts, no connection, DynamoDB's own 5xx) are a 503 worth retrying; the others (access
/// denied, no such table, a damaged item) a 502 that needs the operator.
#[derive(Debug)]
struct StoreFailure {
    transient: bool,
    /// Short and safe for any client: an error code, never an ARN or account id.
    summary: String,
    /// The full SDK error, for the log only.
    detail: String,
}

impl DynamoStore {
    /// A store over `table`, whose items expire `ttl_days` after they are written.
    pub fn new(sdk: &aws_config::SdkConfig, table: impl Into<String>, ttl_days: u32) -> Self {
        DynamoStore {
            client: aws_sdk_dynamodb::Client::new(sdk),
            table: table.into(),
            ttl_seconds: i64::from(ttl_days) * 86_400,
        }
    }

    async fn put_now(&self, response: StoredResponse) -> Result<(), StoreFailure> {
        let body = codec::encode(&response).map_err(StoreFailure::permanent)?;
        let expires_at = AttributeValue::N((unix_now() + self.ttl_seconds).to_string());
        let mut item = Item::from([
            (ID.into(), AttributeValue::S(response.id.clone())),
            (KIND.into(), AttributeValue::S(KIND_RESPONSE.into())),
            (
                CREATED_AT.into(),
                AttributeValue::N(response.created_at.to_string()),
            ),
            (EXPIRES_AT.into(), expires_at.clone()),
            (FORMAT.into(), AttributeValue::S(codec::FORMAT.into())),
        ]);
        let parts = codec::split(&body);
        if let [whole] = parts.as_slice() {
            item.insert(BODY.into(), AttributeValue::B(Blob::new(*whole)));
        } else {
            // Built before any future, so that the futures own their items (a borrow of
            // `parts` inside them would not be `Send` for every lifetime, as BoxFuture needs).
            let part_items: Vec<Item> = parts
                .iter()
                .enumerate()
                .map(|(index, part)| {
                    Item::from([
                        (
                            ID.into(),
                            AttributeValue::S(codec::part_key(&response.id, index)),
                        ),
                        (KIND.into(), AttributeValue::S(KIND_PART.into())),
                        (EXPIRES_AT.into(), expires_at.clone()),
                        (BODY.into(), AttributeValue::B(Blob::new(*part))),
                    ])
                })
                .collect();
            stream::iter(part_items.into_iter().map(|part| self.put_item(part)))
                .buffer_unordered(PART_CONCURRENCY)
                .try_collect::<Vec<()>>()
                .await?;
            item.insert(PARTS.into(), AttributeValue::N(parts.len().to_string()));
            item.insert(SIZE.into(), AttributeValue::N(body.len().to_string()));
        }
        // Parts that were written before a failure here expire with their TTL.
        self.put_item(item).await
    }

    async fn put_item(&self, item: Item) -> Result<(), StoreFailure> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| StoreFailure::from_sdk(&e))
    }

    async fn get_item(&self, key: String) -> Result<Option<Item>, StoreFailure> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(key))
            .consistent_read(true)
            .send()
            .await
            .map(|out| out.item)
            .map_err(|e| StoreFailure::from_sdk(&e))
    }

    async fn get_now(&self, id: &str) -> Result<Option<StoredResponse>, StoreFailure> {
        if !codec::is_response_key(id) {
            return Ok(None);
        }
        let Some(item) = self.get_item(id.to_string()).await? else {
            return Ok(None);
        };
        if !is_live_response(&item, unix_now()) {
            return Ok(None);
        }
        if string(&item, FORMAT) != Some(codec::FORMAT) {
            return Err(StoreFailure::permanent(format!(
                "stored item {id} has format {:?}, expected {}",
                string(&item, FORMAT),
                codec::FORMAT
            )));
        }
        let body = match (binary(&item, BODY), number(&item, PARTS)) {
            (Some(body), _) => body.to_vec(),
            (None, Some(parts)) => match self.read_parts(id, parts).await? {
                Some(body) => body,
                None => return Ok(None),
            },
            (None, None) => {
                return Err(StoreFailure::permanent(format!(
                    "stored item {id} has neither a body nor parts"
                )));
            }
        };
        if let Some(size) = number(&item, SIZE)
            && size != body.len() as i64
        {
            return Err(StoreFailure::permanent(format!(
                "stored response {id} should be {size} bytes, its parts hold {}",
                body.len()
            )));
        }
        codec::decode(&body)
            .map(Some)
            .map_err(StoreFailure::permanent)
    }

    /// The body held in `parts` part items, joined; `None` if one is missing (the response is
    /// being deleted: the manifest goes first).
    async fn read_parts(&self, id: &str, parts: i64) -> Result<Option<Vec<u8>>, StoreFailure> {
        if !(1..=codec::MAX_PARTS).contains(&parts) {
            return Err(StoreFailure::permanent(format!(
                "stored item {id} claims {parts} parts"
            )));
        }
        let keys: Vec<String> = (0..parts as usize)
            .map(|index| codec::part_key(id, index))
            .collect();
        let reads = keys.into_iter().map(|key| self.get_item(key));
        let items: Vec<Option<Item>> = stream::iter(reads)
            .buffered(PART_CONCURRENCY)
            .try_collect()
            .await?;
        let mut body = Vec::new();
        for item in items {
            match item.as_ref().and_then(|i| binary(i, BODY)) {
                Some(part) => body.extend_from_slice(part),
                None => {
                    tracing::warn!(table = %self.table, "a part of a stored response is missing; answering as if it were not stored");
                    return Ok(None);
                }
            }
        }
        Ok(Some(body))
    }

    async fn delete_now(&self, id: &str) -> Result<bool, StoreFailure> {
        if !codec::is_response_key(id) {
            return Ok(false);
        }
        let old = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(id.to_string()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| StoreFailure::from_sdk(&e))?
            .attributes;
        let Some(old) = old else {
            return Ok(false);
        };
        if let Some(parts) = number(&old, PARTS) {
            let keys: Vec<String> = (0..parts.clamp(0, codec::MAX_PARTS) as usize)
                .map(|index| codec::part_key(id, index))
                .collect();
            let deletes = keys.into_iter().map(|key| async move {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .key(ID, AttributeValue::S(key))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| StoreFailure::from_sdk(&e))
            });
            stream::iter(deletes)
                .buffer_unordered(PART_CONCURRENCY)
                .try_collect::<Vec<()>>()
                .await?;
        }
        Ok(is_live_response(&old, unix_now()))
    }

    /// Runs `operation` within [`STORE_TIMEOUT`], turning a failure into the client's error
    /// and the log line (which names the table and the SDK's error, never the content).
    async fn bounded<T>(
        &self,
        action: &'static str,
        operation: impl std::future::Future<Output = Result<T, StoreFailure>>,
    ) -> Result<T, ApiError> {
        let failure = match tokio::time::timeout(STORE_TIMEOUT, operation).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(failure)) => failure,
            Err(_) => StoreFailure {
                transient: true,
                summary: "timed out".into(),
                detail: format!("no answer within {} s", STORE_TIMEOUT.as_secs()),
            },
        };
        tracing::error!(table = %self.table, action, reason = %failure.detail, "the response store failed");
        Err(failure.into_api_error(action))
    }
}

impl ResponseStore for DynamoStore {
    fn put(&self, response: StoredResponse) -> BoxFuture<'_, Result<(), ApiError>> {
        Box::pin(self.bounded("save", self.put_now(response)))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredResponse>, ApiError>> {
        Box::pin(self.bounded("read", self.get_now(id)))
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, ApiError>> {
        Box::pin(self.bounded("delete", self.delete_now(id)))
    }
}

impl StoreFailure {
    fn permanent(detail: String) -> Self {
        StoreFailure {
            transient: false,
            summary: "a damaged stored item".into(),
            detail,
        }
    }

    fn from_sdk<E, R>(err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let detail = aws_smithy_types::error::display::DisplayErrorContext(err).to_string();
        let (transient, summary) = match err {
            SdkError::ServiceError(e) => {
                let code = e.err().code().unwrap_or("an unknown service error");
                (is_transient_code(code), code.to_string())
            }
            SdkError::TimeoutError(_) => (true, "timed out".to_string()),
            SdkError::DispatchFailure(_) => (true, "could not connect".to_string()),
            _ => (true, "an unexpected response".to_string()),
        };
        StoreFailure {
            transient,
            summary,
            detail,
        }
    }

    fn into_api_error(self, action: &str) -> ApiError {
        let (status, advice) = if self.transient {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again shortly, or send the whole conversation with `store: false`",
            )
        } else {
            (
                StatusCode::BAD_GATEWAY,
                "This is a problem with the gateway's deployment, not with your request; send the whole conversation with `store: false` meanwhile",
            )
        };
        ApiError::new(
            status,
            ErrorKind::ApiError,
            format!(
                "The gateway could not {action} the stored response: its DynamoDB table answered with {}. {advice}.",
                self.summary
            ),
        )
        .with_code("response_store_unavailable")
    }
}

/// DynamoDB error codes that pass with time (throttling and its own failures).
fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "ThrottlingException"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "TransactionConflictException"
    )
}

/// A response's own item (not a part) whose TTL has not passed.
fn is_live_response(item: &Item, now: i64) -> bool {
    string(item, KIND) == Some(KIND_RESPONSE) && number(item, EXPIRES_AT).is_none_or(|t| t > now)
}

fn string<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn binary<'a>(item: &'a Item, name: &str) -> Option<&'a [u8]> {
    item.get(name)?.as_b().ok().map(Blob::as_ref)
}

/// Wall-clock Unix seconds, for the TTL attribute (DynamoDB compares it with its own clock).
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(kind: &str, expires_at: Option<i64>) -> Item {
        let mut item = Item::from([(KIND.to_string(), AttributeValue::S(kind.into()))]);
        if let Some(t) = expires_at {
            item.insert(EXPIRES_AT.into(), AttributeValue::N(t.to_string()));
        }
        item
    }

    #[test]
    fn expired_items_and_parts_are_not_responses() {
        assert!(is_live_response(&item("response", Some(101)), 100));
        assert!(!is_live_response(&item("response", Some(100)), 100));
        assert!(is_live_response(&item("response", None), 100));
        assert!(!is_live_response(&item("part", Some(101)), 100));
    }

    #[test]
    fn errors_say_what_to_do_and_never_include_the_detail() {
        let throttled = StoreFailure {
            transient: true,
            summary: "ProvisionedThroughputExceededException".into(),
            detail: "arn:aws:dynamodb:us-east-1:123456789012:table/t".into(),
        }
        .into_api_error("save");
        assert_eq!(throttled.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            throttled.code.as_deref(),
            Some("response_store_unavailable")
        );
        assert!(throttled.message.contains("could not save"));
        assert!(!throttled.message.contains("123456789012"));
        let denied = StoreFailure {
            transient: is_transient_code("AccessDeniedException"),
            summary: "AccessDeniedException".into(),
            detail: String::new(),
        }
        .into_api_error("read");
        assert_eq!(denied.status, StatusCode::BAD_GATEWAY);
        assert!(
            denied.message.contains("AccessDeniedException"),
            "{}",
            denied.message
        );
    }
}
