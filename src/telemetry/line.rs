//! A finished request as one log line: `key=value` text, or one JSON object that is also a
//! CloudWatch Embedded Metric Format (EMF) document, so CloudWatch Logs turns the line into
//! metrics with no agent and no PutMetricData call.
//!
//! Field names: the OpenTelemetry GenAI attribute names are the names of what they describe
//! (`gen_ai.request.model`, `gen_ai.usage.input_tokens`...: a collector maps them without a
//! rename table); everything else has a plain snake_case name. The PascalCase members
//! (`Model`, `KeyName`, `Requests`, `Latency`...) are the EMF dimensions and metric values,
//! which EMF requires at the top level of the line under the metric's own name.
//!
//! EMF document structure, from the specification
//! (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
//! the root holds `_aws` = `{ "Timestamp": <ms since epoch>, "CloudWatchMetrics": [MetricDirective...] }`;
//! a MetricDirective is `{ "Namespace": str, "Dimensions": [[dimension key...]...],
//! "Metrics": [{ "Name": str, "Unit": str }...] }`; every dimension key and metric name is a
//! member of the root (dimension values strings, metric values numbers). An empty dimension set
//! `[]` publishes the metric without dimensions (the rollup); the OpenTelemetry collector's
//! EMF exporter relies on that too (open-telemetry/opentelemetry-collector-contrib#13766).
//! Dimension values must be ASCII with a non-blank character
//! (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Value, json};

use super::record::RequestRecord;
use super::settings::TelemetrySettings;

/// The dimension value for a request without a model or a key name.
pub const NO_DIMENSION: &str = "-";

/// The metric dimensions of the main directive: by model, by key, and the rollup.
const DIMENSIONS: &str = r#"[["Model"],["KeyName"],[]]"#;

/// Milliseconds since the Unix epoch, now.
pub fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The route a path belongs to, without its `/api/v1` or `/v1` prefix and with ids replaced
/// (`/responses/{id}`): a bounded set, good for grouping.
pub fn route_of(path: &str) -> &'static str {
    let rest = path
        .strip_prefix("/api/v1")
        .or_else(|| path.strip_prefix("/v1"));
    let Some(rest) = rest else {
        return if path == "/health" {
            "/health"
        } else {
            "other"
        };
    };
    match rest {
        "/chat/completions" => "/chat/completions",
        "/embeddings" => "/embeddings",
        "/responses" => "/responses",
        "/models" => "/models",
        _ if rest.starts_with("/models/") => "/models/{id}",
        _ if rest.starts_with("/responses/") && rest.ends_with("/input_items") => {
            "/responses/{id}/input_items"
        }
        _ if rest.starts_with("/responses/") => "/responses/{id}",
        _ => "other",
    }
}

/// OpenTelemetry's `gen_ai.operation.name` for a route that calls a model.
fn operation_of(route: &str) -> Option<&'static str> {
    match route {
        "/chat/completions" | "/responses" => Some("chat"),
        "/embeddings" => Some("embeddings"),
        _ => None,
    }
}

/// A duration in milliseconds, to the microsecond.
fn millis(duration: Duration) -> f64 {
    (duration.as_micros() as f64) / 1000.0
}

/// A metric dimension value: ASCII printable, not blank, at most 255 bytes.
fn dimension(value: Option<&str>) -> String {
    let cleaned: String = value
        .unwrap_or_default()
        .chars()
        .take(255)
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    if cleaned.trim_matches('_').is_empty() {
        NO_DIMENSION.to_string()
    } else {
        cleaned
    }
}

/// The JSON line's members, in the order they are written.
#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "_aws", skip_serializing_if = "Option::is_none")]
    aws: Option<Value>,
    time: String,
    level: &'static str,
    message: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<&'a str>,
    method: &'a str,
    path: &'a str,
    route: &'static str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    key_name: Option<&'a str>,
    stream: bool,
    complete: bool,
    latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_byte_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_to_first_token_ms: Option<f64>,
    #[serde(
        rename = "gen_ai.operation.name",
        skip_serializing_if = "Option::is_none"
    )]
    operation: Option<&'static str>,
    #[serde(
        rename = "gen_ai.provider.name",
        skip_serializing_if = "Option::is_none"
    )]
    provider: Option<&'static str>,
    #[serde(
        rename = "gen_ai.request.model",
        skip_serializing_if = "Option::is_none"
    )]
    model_requested: Option<&'a str>,
    #[serde(
        rename = "gen_ai.response.model",
        skip_serializing_if = "Option::is_none"
    )]
    model_used: Option<&'a str>,
    #[serde(
        rename = "gen_ai.response.finish_reasons",
        skip_serializing_if = "Option::is_none"
    )]
    finish_reasons: Option<[&'a str; 1]>,
    /// OpenTelemetry: all input tokens, cached ones included.
    #[serde(
        rename = "gen_ai.usage.input_tokens",
        skip_serializing_if = "Option::is_none"
    )]
    input_tokens: Option<u64>,
    #[serde(
        rename = "gen_ai.usage.output_tokens",
        skip_serializing_if = "Option::is_none"
    )]
    output_tokens: Option<u64>,
    #[serde(
        rename = "gen_ai.usage.cache_read.input_tokens",
        skip_serializing_if = "Option::is_none"
    )]
    cache_read_tokens: Option<u64>,
    #[serde(
        rename = "gen_ai.usage.cache_creation.input_tokens",
        skip_serializing_if = "Option::is_none"
    )]
    cache_write_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_tokens: Option<u64>,
    // EMF dimensions and metric values.
    #[serde(rename = "Model")]
    model_dimension: String,
    #[serde(rename = "KeyName")]
    key_dimension: String,
    #[serde(rename = "StatusClass", skip_serializing_if = "Option::is_none")]
    status_class: Option<&'static str>,
    #[serde(rename = "Requests")]
    requests: u8,
    #[serde(rename = "Errors", skip_serializing_if = "Option::is_none")]
    errors: Option<u8>,
    #[serde(rename = "BedrockThrottles", skip_serializing_if = "Option::is_none")]
    bedrock_throttles: Option<u8>,
    #[serde(rename = "QuotaCheckFailures", skip_serializing_if = "Option::is_none")]
    quota_check_failures: Option<u8>,
    #[serde(rename = "Latency")]
    latency: f64,
    #[serde(rename = "TimeToFirstToken", skip_serializing_if = "Option::is_none")]
    time_to_first_token: Option<f64>,
    #[serde(rename = "InputTokens", skip_serializing_if = "Option::is_none")]
    emf_input_tokens: Option<u64>,
    #[serde(rename = "OutputTokens", skip_serializing_if = "Option::is_none")]
    emf_output_tokens: Option<u64>,
    #[serde(rename = "CacheReadTokens", skip_serializing_if = "Option::is_none")]
    emf_cache_read_tokens: Option<u64>,
    #[serde(rename = "CacheWriteTokens", skip_serializing_if = "Option::is_none")]
    emf_cache_write_tokens: Option<u64>,
}

/// The JSON line for `record`, written at `now_ms` (ms since the epoch). Health checks carry no
/// metrics (an ALB probes every few seconds; they would drown the request counts).
pub fn json_line(record: &RequestRecord, settings: &TelemetrySettings, now_ms: u64) -> String {
    let route = route_of(&record.path);
    let usage = record.usage;
    let status_class = record.error_class();
    let throttled = record.bedrock_throttled();
    let first_token = record.first_token.map(millis);
    let mut line = Line {
        aws: None,
        time: rfc3339(now_ms),
        level: "INFO",
        message: "request",
        request_id: record.request_id.as_deref(),
        trace_id: record.trace_id.as_deref(),
        method: &record.method,
        path: &record.path,
        route,
        status: record.status,
        error_type: record.error.as_ref().map(|e| e.kind),
        error_code: record.error.as_ref().and_then(|e| e.code.as_deref()),
        key_name: record.key_name.as_deref(),
        stream: record.stream,
        complete: record.complete,
        latency_ms: millis(record.latency),
        first_byte_ms: record.first_byte.map(millis),
        time_to_first_token_ms: first_token,
        operation: operation_of(route),
        provider: operation_of(route).map(|_| "aws.bedrock"),
        model_requested: record.model_requested.as_deref(),
        model_used: record.model_used.as_deref(),
        finish_reasons: record.finish_reason.as_deref().map(|r| [r]),
        input_tokens: usage.map(|u| u.input + u.cache_read + u.cache_write),
        output_tokens: usage.map(|u| u.output),
        cache_read_tokens: usage.map(|u| u.cache_read),
        cache_write_tokens: usage.map(|u| u.cache_write),
        reasoning_tokens: usage.and_then(|u| u.reasoning),
        model_dimension: dimension(record.model_used.as_deref()),
        key_dimension: dimension(record.key_name.as_deref()),
        status_class,
        requests: 1,
        errors: status_class.map(|_| 1),
        bedrock_throttles: throttled.then_some(1),
        quota_check_failures: record.quota_check_failed.then_some(1),
        latency: millis(record.latency),
        time_to_first_token: first_token,
        emf_input_tokens: usage.map(|u| u.input),
        emf_output_tokens: usage.map(|u| u.output),
        emf_cache_read_tokens: usage.map(|u| u.cache_read),
        emf_cache_write_tokens: usage.map(|u| u.cache_write),
    };
    if route != "/health" {
        line.aws = Some(emf_metadata(&line, &settings.metrics_namespace, now_ms));
    }
    serde_json::to_string(&line).unwrap_or_default()
}

/// The `_aws` member: which members of `line` are metrics, in which namespace, under which
/// dimensions. Only metrics present in the line are declared.
fn emf_metadata(line: &Line<'_>, namespace: &str, now_ms: u64) -> Value {
    let dimensions: Value = serde_json::from_str(DIMENSIONS).unwrap_or_default();
    let mut metrics = vec![
        json!({"Name": "Requests", "Unit": "Count"}),
        json!({"Name": "Latency", "Unit": "Milliseconds"}),
    ];
    if line.time_to_first_token.is_some() {
        metrics.push(json!({"Name": "TimeToFirstToken", "Unit": "Milliseconds"}));
    }
    if line.emf_input_tokens.is_some() {
        for name in [
            "InputTokens",
            "OutputTokens",
            "CacheReadTokens",
            "CacheWriteTokens",
        ] {
            metrics.push(json!({"Name": name, "Unit": "Count"}));
        }
    }
    let mut directives = vec![json!({
        "Namespace": namespace,
        "Dimensions": dimensions,
        "Metrics": metrics,
    })];
    if line.errors.is_some() {
        directives.push(json!({
            "Namespace": namespace,
            "Dimensions": [["StatusClass"], ["Model", "StatusClass"], ["KeyName", "StatusClass"]],
            "Metrics": [{"Name": "Errors", "Unit": "Count"}],
        }));
    }
    if line.bedrock_throttles.is_some() {
        directives.push(json!({
            "Namespace": namespace,
            "Dimensions": [["Model"], []],
            "Metrics": [{"Name": "BedrockThrottles", "Unit": "Count"}],
        }));
    }
    if line.quota_check_failures.is_some() {
        directives.push(json!({
            "Namespace": namespace,
            "Dimensions": [["KeyName"], []],
            "Metrics": [{"Name": "QuotaCheckFailures", "Unit": "Count"}],
        }));
    }
    json!({"Timestamp": now_ms, "CloudWatchMetrics": directives})
}

/// The text line, through tracing's own formatter.
pub fn text_line(record: &RequestRecord) {
    let usage = record.usage.unwrap_or_default();
    tracing::info!(
        target: super::REQUEST_TARGET,
        method = record.method,
        path = record.path,
        status = record.status,
        error_code = record.error.as_ref().and_then(|e| e.code.as_deref()),
        key_name = record.key_name.as_deref(),
        model = record.model_used.as_deref(),
        stream = record.stream,
        first_byte_micros = record.first_byte.unwrap_or(record.latency).as_micros() as u64,
        first_token_micros = record.first_token.map(|d| d.as_micros() as u64),
        micros = record.latency.as_micros() as u64,
        input_tokens = record.usage.map(|_| usage.input),
        output_tokens = record.usage.map(|_| usage.output),
        finish_reason = record.finish_reason.as_deref(),
        complete = record.complete,
        "request"
    );
}

/// `2026-12-01T01:17:05.123Z` for a time in ms since the epoch (UTC; the civil-from-days
/// conversion of Howard Hinnant's `chrono`-compatible date algorithms).
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests;
