//! Quotas per named key (`rpm`, `tpm`, `tokens_per_day` in the key document) and the token
//! counts behind the usage report, kept where every gateway instance sees them.
//!
//! Each Lambda execution environment is its own process, so counters in memory would let every
//! instance spend the whole quota. The counters therefore live behind [`QuotaBackend`]: a
//! DynamoDB table ([`dynamo`], `QUOTA_TABLE`, atomic conditional updates on one item per key and
//! window) or, locally, process memory ([`memory`]); both follow the same rules:
//!
//! - **Windows** are wall-clock: the UTC minute (`rpm`, `tpm`) and the UTC day
//!   (`tokens_per_day`), so every instance agrees on them.
//! - **Admission** ([`QuotaBackend::admit`]) happens before the request is handled: one request
//!   is counted, unless the minute already holds `rpm` requests, or `tpm` tokens, or the day
//!   `tokens_per_day` tokens; then the request gets a 429 `rate_limit_exceeded` with
//!   `retry-after` (the seconds to the window's end).
//! - **Tokens** are added after the response ([`QuotaBackend::record`]), from Bedrock's usage,
//!   stream included. A request admitted under the token limit may take the window past it;
//!   the next one is refused.
//! - **Usage** per key, model and UTC day is counted for every request, limited or not, for
//!   `GET /usage` ([`QuotaBackend::report`]).
//!
//! When the backend fails (table unreachable, throttled, timed out), `QUOTA_FAILURE` decides:
//! `open` (default) lets the request through and logs an error, `closed` answers 503.

pub mod dynamo;
pub mod gate;
pub mod memory;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use serde::Serialize;
use tokio::time::Duration;

use crate::auth::{ApiKey, Limits};
use crate::error::{ApiError, ErrorKind};

/// How long an admission may take before `QUOTA_FAILURE` applies: it is on every limited
/// request's path.
pub const ADMIT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long recording a request's tokens may take.
pub const RECORD_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest span `GET /usage` reports on, in days.
pub const MAX_REPORT_DAYS: u64 = 366;

pub const MINUTE: u64 = 60;
pub const DAY: u64 = 86_400;

/// Tokens one request used, from Bedrock's usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
}

impl TokenUsage {
    /// What counts against `tpm` and `tokens_per_day`: every token Bedrock processed.
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens
    }
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    Rpm,
    Tpm,
    /// `rpm` or `tpm`: the store did not say which.
    Minute,
    TokensPerDay,
}

/// The outcome of an admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    Exceeded {
        limit: LimitKind,
        /// Seconds until the window ends.
        retry_after: u64,
    },
}

/// One line of the usage report: a key's use of a model over the reported days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UsageRow {
    pub key: String,
    pub model: String,
    pub requests: u64,
    #[serde(flatten)]
    pub tokens: TokenUsage,
    pub total_tokens: u64,
}

/// A backend that could not answer: a short summary safe for clients, the detail for the log.
#[derive(Debug, Clone)]
pub struct BackendError {
    pub summary: String,
    pub detail: String,
}

/// Where the counters live. `now` is Unix seconds (wall clock: windows must agree across
/// instances).
pub trait QuotaBackend: Send + Sync {
    /// Counts one request unless a limit of `limits` is reached in its window.
    fn admit<'a>(
        &'a self,
        key: &'a str,
        limits: Limits,
        now: u64,
    ) -> BoxFuture<'a, Result<Admission, BackendError>>;

    /// Adds a finished request's tokens: to the windows `limits` counts tokens in, and to the
    /// key's usage of `model` for the day.
    fn record<'a>(
        &'a self,
        key: &'a str,
        limits: Limits,
        model: &'a str,
        usage: TokenUsage,
        now: u64,
    ) -> BoxFuture<'a, Result<(), BackendError>>;

    /// Usage per key and model over the UTC days `from_day..=to_day` (day numbers since the
    /// epoch), sorted by key then model.
    fn report(
        &self,
        from_day: u64,
        to_day: u64,
    ) -> BoxFuture<'_, Result<Vec<UsageRow>, BackendError>>;
}

/// What to do when the backend fails: `QUOTA_FAILURE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureMode {
    /// Let the request through, log an error (default).
    Open,
    /// Answer 503 `quota_unavailable`.
    Closed,
}

/// The quotas every handler shares.
pub struct Quotas {
    backend: Arc<dyn QuotaBackend>,
    failure: FailureMode,
    /// Where the counters live, for logs.
    kind: &'static str,
}

/// How a request got past [`Quotas::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    /// Within its limits (or its key has none).
    Checked,
    /// Let through unchecked: the counters could not be reached and `QUOTA_FAILURE=open`.
    Unchecked,
}

impl Quotas {
    pub fn new(backend: Arc<dyn QuotaBackend>, failure: FailureMode, kind: &'static str) -> Self {
        Quotas {
            backend,
            failure,
            kind,
        }
    }

    /// Admits one request under `key`'s limits, or the response refusing it (429, or 503 when
    /// the backend failed and `QUOTA_FAILURE=closed`). Keys without limits cost nothing here.
    /// [`Admitted::Unchecked`] is a request let through because the backend failed
    /// (`QUOTA_FAILURE=open`): the request line counts it as `QuotaCheckFailures`.
    pub async fn admit(&self, key: &ApiKey) -> Result<Admitted, Response> {
        if !key.limits.any() {
            return Ok(Admitted::Checked);
        }
        let outcome = tokio::time::timeout(
            ADMIT_TIMEOUT,
            self.backend.admit(&key.name, key.limits, unix_now()),
        )
        .await
        .unwrap_or_else(|_| Err(timed_out(ADMIT_TIMEOUT)));
        match outcome {
            Ok(Admission::Admitted) => Ok(Admitted::Checked),
            Ok(Admission::Exceeded { limit, retry_after }) => {
                Err(exceeded(key, limit, retry_after))
            }
            Err(err) => {
                tracing::error!(
                    quota_backend = self.kind,
                    key_name = %key.name,
                    reason = %err.detail,
                    failure_mode = ?self.failure,
                    "quota check failed"
                );
                match self.failure {
                    FailureMode::Open => Ok(Admitted::Unchecked),
                    FailureMode::Closed => Err(ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        ErrorKind::ServerError,
                        format!(
                            "The gateway could not check this key's quota ({}); try again shortly.",
                            err.summary
                        ),
                    )
                    .with_code("quota_unavailable")
                    .into_response()),
                }
            }
        }
    }

    /// Records a finished request's tokens; failures are logged, never the client's problem.
    pub async fn record(&self, key: &ApiKey, model: &str, usage: TokenUsage) {
        let outcome = tokio::time::timeout(
            RECORD_TIMEOUT,
            self.backend
                .record(&key.name, key.limits, model, usage, unix_now()),
        )
        .await
        .unwrap_or_else(|_| Err(timed_out(RECORD_TIMEOUT)));
        if let Err(err) = outcome {
            tracing::error!(
                quota_backend = self.kind,
                key_name = %key.name,
                reason = %err.detail,
                "recording a request's tokens failed; quotas and usage miss them"
            );
        }
    }

    /// Usage per key and model over whole UTC days.
    pub async fn report(&self, from_day: u64, to_day: u64) -> Result<Vec<UsageRow>, ApiError> {
        self.backend.report(from_day, to_day).await.map_err(|err| {
            tracing::error!(quota_backend = self.kind, reason = %err.detail, "usage report failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::ServerError,
                format!(
                    "The usage counters could not be read ({}); try again shortly.",
                    err.summary
                ),
            )
            .with_code("usage_unavailable")
        })
    }
}

fn timed_out(after: Duration) -> BackendError {
    BackendError {
        summary: "timed out".into(),
        detail: format!("no answer within {} s", after.as_secs()),
    }
}

/// The 429, in OpenAI's shape, with `retry-after`.
fn exceeded(key: &ApiKey, limit: LimitKind, retry_after: u64) -> Response {
    let what = match limit {
        LimitKind::Rpm => format!("{} requests per minute", key.limits.rpm.unwrap_or(0)),
        LimitKind::Tpm => format!("{} tokens per minute", key.limits.tpm.unwrap_or(0)),
        LimitKind::Minute => "its requests or tokens per minute".to_string(),
        LimitKind::TokensPerDay => format!(
            "{} tokens per day (UTC)",
            key.limits.tokens_per_day.unwrap_or(0)
        ),
    };
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::RateLimitError,
        format!(
            "The API key `{}` has reached its limit of {what}. Try again in {retry_after} s.",
            key.name
        ),
    )
    .with_code("rate_limit_exceeded")
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
    response
}

/// Unix seconds, wall clock.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Seconds from `now` to the end of its window of `length` seconds.
pub fn until_window_end(now: u64, length: u64) -> u64 {
    length - now % length
}
