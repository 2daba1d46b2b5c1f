//! The JSON line and its EMF metadata, field by field.

use super::*;
use crate::telemetry::record::{ErrorOutcome, RequestRecord, Tokens};
use tokio::time::Instant;

const NOW_MS: u64 = 1_796_000_000_123;

fn settings() -> TelemetrySettings {
    TelemetrySettings {
        metrics_namespace: "Test/NS".into(),
        ..TelemetrySettings::default()
    }
}

fn chat_stream_record() -> RequestRecord {
    let mut record = RequestRecord::new(Instant::now(), "POST", "/api/v1/chat/completions");
    record.request_id = Some("lambda-req-1".into());
    record.trace_id = Some("Root=1-abc".into());
    record.key_name = Some("team-a".into());
    record.model_requested = Some("fast".into());
    record.model_used = Some("us.amazon.nova-micro-v1:0".into());
    record.stream = true;
    record.status = 200;
    record.usage = Some(Tokens {
        input: 10,
        output: 20,
        cache_read: 30,
        cache_write: 4,
        reasoning: None,
    });
    record.finish_reason = Some("end_turn".into());
    record.first_token = Some(Duration::from_micros(150_250));
    record.first_byte = Some(Duration::from_millis(150));
    record.latency = Duration::from_micros(1_234_567);
    record.complete = true;
    record
}

fn parse(record: &RequestRecord) -> Value {
    serde_json::from_str(&json_line(record, &settings(), NOW_MS)).expect("the line is JSON")
}

/// Checks the EMF rules the line must follow: `_aws.Timestamp` a number, each directive with a
/// namespace, dimension sets whose keys are string members of the root, and metrics whose names
/// are number members of the root. Returns (metric name, dimension sets) per directive.
fn emf_directives(line: &Value) -> Vec<(Vec<String>, Vec<Vec<String>>)> {
    let aws = &line["_aws"];
    assert_eq!(aws["Timestamp"], NOW_MS);
    let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
    directives
        .iter()
        .map(|directive| {
            assert_eq!(directive["Namespace"], "Test/NS");
            let dimensions: Vec<Vec<String>> =
                serde_json::from_value(directive["Dimensions"].clone()).unwrap();
            for key in dimensions.iter().flatten() {
                let value = line[key].as_str().expect("dimension values are strings");
                assert!(
                    value.is_ascii() && !value.trim().is_empty(),
                    "{key}={value}"
                );
            }
            let names = directive["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|metric| {
                    let name = metric["Name"].as_str().unwrap().to_string();
                    assert!(line[&name].is_number(), "metric {name} has a number");
                    assert!(metric["Unit"] == "Count" || metric["Unit"] == "Milliseconds");
                    name
                })
                .collect();
            (names, dimensions)
        })
        .collect()
}

#[test]
fn a_stream_line_has_the_log_fields() {
    let line = parse(&chat_stream_record());
    assert_eq!(line["time"], "2026-11-30T00:53:20.123Z");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["message"], "request");
    assert_eq!(line["request_id"], "lambda-req-1");
    assert_eq!(line["trace_id"], "Root=1-abc");
    assert_eq!(line["method"], "POST");
    assert_eq!(line["path"], "/api/v1/chat/completions");
    assert_eq!(line["route"], "/chat/completions");
    assert_eq!(line["status"], 200);
    assert!(line.get("error_code").is_none());
    assert_eq!(line["key_name"], "team-a");
    assert_eq!(line["stream"], true);
    assert_eq!(line["complete"], true);
    assert_eq!(line["latency_ms"], 1234.567);
    assert_eq!(line["first_byte_ms"], 150.0);
    assert_eq!(line["time_to_first_token_ms"], 150.25);
    assert_eq!(line["gen_ai.operation.name"], "chat");
    assert_eq!(line["gen_ai.provider.name"], "aws.bedrock");
    assert_eq!(line["gen_ai.request.model"], "fast");
    assert_eq!(line["gen_ai.response.model"], "us.amazon.nova-micro-v1:0");
    assert_eq!(line["gen_ai.response.finish_reasons"], json!(["end_turn"]));
    // OpenTelemetry's input count includes the cached tokens; EMF's InputTokens is Bedrock's.
    assert_eq!(line["gen_ai.usage.input_tokens"], 44);
    assert_eq!(line["gen_ai.usage.output_tokens"], 20);
    assert_eq!(line["gen_ai.usage.cache_read.input_tokens"], 30);
    assert_eq!(line["gen_ai.usage.cache_creation.input_tokens"], 4);
    assert!(line.get("reasoning_tokens").is_none());
}

#[test]
fn a_stream_line_carries_its_metrics() {
    let line = parse(&chat_stream_record());
    assert_eq!(line["Model"], "us.amazon.nova-micro-v1:0");
    assert_eq!(line["KeyName"], "team-a");
    assert_eq!(line["Requests"], 1);
    assert_eq!(line["Latency"], 1234.567);
    assert_eq!(line["TimeToFirstToken"], 150.25);
    assert_eq!(line["InputTokens"], 10);
    assert_eq!(line["OutputTokens"], 20);
    assert_eq!(line["CacheReadTokens"], 30);
    assert_eq!(line["CacheWriteTokens"], 4);
    assert!(line.get("Errors").is_none());
    let directives = emf_directives(&line);
    assert_eq!(directives.len(), 1);
    let (metrics, dimensions) = &directives[0];
    assert_eq!(
        metrics,
        &[
            "Requests",
            "Latency",
            "TimeToFirstToken",
            "InputTokens",
            "OutputTokens",
            "CacheReadTokens",
            "CacheWriteTokens"
        ]
    );
    assert_eq!(
        dimensions,
        &[
            vec!["Model".to_string()],
            vec!["KeyName".to_string()],
            vec![]
        ]
    );
}

#[test]
fn an_error_adds_the_errors_directive_and_bedrock_throttling_its_own() {
    let mut record = RequestRecord::new(Instant::now(), "POST", "/v1/chat/completions");
    record.status = 429;
    record.error = Some(ErrorOutcome {
        status: 429,
        kind: "rate_limit_error",
        code: Some("ThrottlingException".into()),
    });
    let line = parse(&record);
    assert_eq!(line["error_type"], "rate_limit_error");
    assert_eq!(line["error_code"], "ThrottlingException");
    assert_eq!(line["Model"], NO_DIMENSION);
    assert_eq!(line["KeyName"], NO_DIMENSION);
    assert!(line["key_name"].is_null());
    assert_eq!(line["StatusClass"], "4xx");
    assert_eq!(line["Errors"], 1);
    assert_eq!(line["BedrockThrottles"], 1);
    let directives = emf_directives(&line);
    let names: Vec<&Vec<String>> = directives.iter().map(|(m, _)| m).collect();
    assert_eq!(
        names,
        [
            &vec!["Requests".to_string(), "Latency".to_string()],
            &vec!["Errors".to_string()],
            &vec!["BedrockThrottles".to_string()]
        ]
    );
    assert_eq!(
        directives[1].1,
        [
            vec!["StatusClass".to_string()],
            vec!["Model".to_string(), "StatusClass".to_string()],
            vec!["KeyName".to_string(), "StatusClass".to_string()]
        ]
    );
}

#[test]
fn a_5xx_error_event_in_a_200_stream_counts_as_a_5xx() {
    let mut record = chat_stream_record();
    record.error = Some(ErrorOutcome {
        status: 503,
        kind: "api_error",
        code: Some("ServiceUnavailableException".into()),
    });
    let line = parse(&record);
    assert_eq!(line["status"], 200);
    assert_eq!(line["StatusClass"], "5xx");
    assert!(line.get("BedrockThrottles").is_none());
}

#[test]
fn health_checks_are_logged_without_metrics() {
    let mut record = RequestRecord::new(Instant::now(), "GET", "/health");
    record.status = 200;
    let line = parse(&record);
    assert_eq!(line["route"], "/health");
    assert!(line.get("_aws").is_none());
    assert!(line.get("gen_ai.operation.name").is_none());
}

#[test]
fn dimension_values_are_ascii_and_never_blank() {
    assert_eq!(dimension(Some("équipe a")), "_quipe_a");
    assert_eq!(dimension(Some("   ")), NO_DIMENSION);
    assert_eq!(dimension(None), NO_DIMENSION);
    assert_eq!(dimension(Some(&"k".repeat(300))).len(), 255);
}

#[test]
fn routes_are_a_bounded_set() {
    assert_eq!(route_of("/api/v1/chat/completions"), "/chat/completions");
    assert_eq!(route_of("/v1/embeddings"), "/embeddings");
    assert_eq!(route_of("/v1/models/us.x:0"), "/models/{id}");
    assert_eq!(route_of("/v1/responses/resp_1"), "/responses/{id}");
    assert_eq!(
        route_of("/api/v1/responses/resp_1/input_items"),
        "/responses/{id}/input_items"
    );
    assert_eq!(route_of("/health"), "/health");
    assert_eq!(route_of("/wp-admin"), "other");
    assert_eq!(route_of("/v1/nope"), "other");
}

#[test]
fn rfc3339_dates() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    assert_eq!(rfc3339(1_798_761_599_999), "2026-12-31T23:59:59.999Z");
}

#[test]
fn a_request_let_through_without_a_quota_check_counts_as_a_quota_check_failure() {
    let mut record = chat_stream_record();
    record.key_name = Some("team-a".into());
    assert!(parse(&record).get("QuotaCheckFailures").is_none());
    record.quota_check_failed = true;
    let line = parse(&record);
    assert_eq!(line["QuotaCheckFailures"], 1);
    let directives = emf_directives(&line);
    let (metrics, dimensions) = directives.last().expect("a directive");
    assert_eq!(metrics, &vec!["QuotaCheckFailures".to_string()]);
    assert_eq!(dimensions, &vec![vec!["KeyName".to_string()], vec![]]);
}
