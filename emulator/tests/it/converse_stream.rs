//! ConverseStream happy paths and mid-stream failures, decoded by the real
//! AWS SDK over loopback, plus the wire-level framing.

use std::time::Duration;
use tokio::time::Instant;

use crate::support::*;
use aws_sdk_bedrockruntime::types::{InferenceConfiguration, StopReason};
use axum::body::Body;
use axum::http::Request;
use bedrock_emulator::EmulatorConfig;
use futures_util::StreamExt;
use serde_json::json;
use tower::ServiceExt;

/// Recognises one variant of a mid-stream exception.
type IsException = fn(&aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError) -> bool;

async fn stream(h: &Harness, model: &str, prompt: &str) -> Transcript {
    let response = h
        .client
        .converse_stream()
        .model_id(model)
        .messages(user(prompt))
        .send()
        .await
        .expect("stream starts");
    collect(response).await
}

#[tokio::test]
async fn streams_text_word_by_word() {
    let h = start().await;
    let transcript = stream(&h, HAIKU_3, "Hello big wide world").await;
    assert!(transcript.error.is_none(), "{:?}", transcript.error);
    assert_eq!(transcript.text(), "Hello big wide world");
    assert_eq!(transcript.text_delta_count(), 4);
    assert_eq!(
        transcript.kinds(),
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
    assert_eq!(transcript.stop_reason(), Some(StopReason::EndTurn));
    let usage = transcript.usage().unwrap();
    assert_eq!(
        (
            usage.input_tokens(),
            usage.output_tokens(),
            usage.total_tokens()
        ),
        (4, 4, 8)
    );
}

#[tokio::test]
async fn unfragmented_frames_decode_the_same() {
    let h = start_with(EmulatorConfig {
        fragment_frames: false,
        ..EmulatorConfig::default()
    })
    .await;
    let transcript = stream(&h, NOVA_MICRO, "same words either way").await;
    assert_eq!(transcript.text(), "same words either way");
    assert_eq!(transcript.stop_reason(), Some(StopReason::EndTurn));
}

#[tokio::test]
async fn frames_are_written_in_pieces_of_at_most_37_bytes() {
    let body =
        json!({"messages": [{"role": "user", "content": [{"text": "split me into pieces"}]}]});
    let request = Request::post(format!("/model/{HAIKU_3}/converse-stream"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = bedrock_emulator::router(EmulatorConfig::default())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.amazon.eventstream"
    );
    let mut pieces = response.into_body().into_data_stream();
    let mut sizes = Vec::new();
    let mut total = Vec::new();
    while let Some(piece) = pieces.next().await {
        let piece = piece.unwrap();
        sizes.push(piece.len());
        total.extend_from_slice(&piece);
    }
    assert!(sizes.iter().all(|size| *size <= 37), "{sizes:?}");
    // Nine frames of well over 37 bytes each: many more pieces than frames.
    assert!(sizes.len() > 20, "{sizes:?}");
    // The pieces are whole frames back to back: each prelude's total length
    // walks exactly to the end.
    let mut offset = 0;
    let mut frames = 0;
    while offset < total.len() {
        let length = u32::from_be_bytes(total[offset..offset + 4].try_into().unwrap()) as usize;
        offset += length;
        frames += 1;
    }
    assert_eq!(offset, total.len());
    assert_eq!(frames, 1 + 4 + 1 + 1 + 1);
}

#[tokio::test]
async fn tool_use_streams_start_and_partial_input() {
    let h = start().await;
    let response = h
        .client
        .converse_stream()
        .model_id(SONNET_4)
        .tool_config(tools(vec![weather_tool()], None))
        .messages(user(
            r#"[[call:get_weather {"city": "Rio de Janeiro", "days": 3}]]"#,
        ))
        .send()
        .await
        .unwrap();
    let transcript = collect(response).await;
    assert_eq!(transcript.text(), "Calling get_weather.");
    let calls = transcript.tool_calls();
    assert_eq!(calls.len(), 1);
    let (index, id, name, input) = &calls[0];
    assert_eq!(*index, 1);
    assert!(id.starts_with("tooluse_"));
    assert_eq!(name, "get_weather");
    let parsed: serde_json::Value = serde_json::from_str(input).unwrap();
    assert_eq!(parsed, json!({"city": "Rio de Janeiro", "days": 3}));
    // Input arrives in ~8 character fragments.
    let tool_deltas = transcript
        .kinds()
        .iter()
        .skip_while(|kind| **kind != "contentBlockStart")
        .filter(|kind| **kind == "contentBlockDelta")
        .count();
    assert_eq!(tool_deltas, input.chars().count().div_ceil(8));
    assert_eq!(transcript.stop_reason(), Some(StopReason::ToolUse));
}

#[tokio::test]
async fn a_call_without_arguments_streams_an_empty_input() {
    let h = start().await;
    let response = h
        .client
        .converse_stream()
        .model_id(HAIKU_3)
        .tool_config(tools(
            vec![tool("ping", json!({"type": "object"}))],
            Some(choose_any()),
        ))
        .messages(user("go"))
        .send()
        .await
        .unwrap();
    let transcript = collect(response).await;
    let calls = transcript.tool_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, 0, "forced calls have no text block before them");
    assert_eq!(calls[0].3, "");
}

#[tokio::test]
async fn reasoning_streams_text_then_signature() {
    let h = start().await;
    let response = h
        .client
        .converse_stream()
        .model_id(SONNET_4_5)
        .additional_model_request_fields(thinking(1024))
        .inference_config(InferenceConfiguration::builder().max_tokens(2000).build())
        .messages(user("deep thought"))
        .send()
        .await
        .unwrap();
    let transcript = collect(response).await;
    assert_eq!(transcript.reasoning_text(), "Thinking about: deep thought");
    let signature = transcript.reasoning_signature().expect("signature delta");

    // The same request through Converse signs the same text the same way.
    let output = h
        .converse(SONNET_4_5)
        .additional_model_request_fields(thinking(1024))
        .inference_config(InferenceConfiguration::builder().max_tokens(2000).build())
        .messages(user("deep thought"))
        .send()
        .await
        .unwrap();
    assert_eq!(reasoning_of(&output).unwrap().1, Some(signature));
    assert_eq!(transcript.text(), "deep thought");
}

#[tokio::test]
async fn redacted_reasoning_streams_as_one_delta() {
    let h = start().await;
    let response = h
        .client
        .converse_stream()
        .model_id(SONNET_3_7)
        .additional_model_request_fields(thinking(1024))
        .messages(user("hide it [[redacted]]"))
        .send()
        .await
        .unwrap();
    let transcript = collect(response).await;
    assert!(
        transcript
            .redacted_reasoning()
            .is_some_and(|blob| !blob.is_empty())
    );
    assert_eq!(transcript.reasoning_text(), "");
}

#[tokio::test]
async fn deepseek_streams_unsigned_reasoning() {
    let h = start().await;
    let transcript = stream(&h, DEEPSEEK_R1_PROFILE, "why not").await;
    assert_eq!(transcript.reasoning_text(), "Thinking about: why not");
    assert_eq!(transcript.reasoning_signature(), None);
}

#[tokio::test]
async fn metadata_carries_the_prompt_router_trace() {
    let h = start().await;
    let transcript = stream(
        &h,
        "arn:aws:bedrock:us-east-1:111122223333:default-prompt-router/anthropic.claude:1",
        "routed",
    )
    .await;
    assert_eq!(
        transcript.invoked_model_id().as_deref(),
        Some(
            "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
        )
    );
}

#[tokio::test]
async fn midstream_fault_sends_some_deltas_then_an_exception() {
    let h = start().await;
    let transcript = stream(&h, HAIKU_3, "one two three four five [[fault:midstream]]").await;
    assert_eq!(
        transcript.kinds(),
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta"
        ]
    );
    assert_eq!(transcript.text(), "one two three ");
    let error = transcript.error.expect("an exception frame");
    assert!(error.is_model_stream_error_exception(), "{error:?}");
}

#[tokio::test]
async fn midstream_exceptions_map_to_sdk_variants() {
    let h = start().await;
    let cases: [(&str, IsException); 4] = [
        ("midstream-throttling", |e| e.is_throttling_exception()),
        ("midstream-internal", |e| e.is_internal_server_exception()),
        ("midstream-unavailable", |e| {
            e.is_service_unavailable_exception()
        }),
        ("midstream-validation", |e| e.is_validation_exception()),
    ];
    for (marker, is_expected) in cases {
        let transcript = stream(&h, NOVA_MICRO, &format!("a b c d [[fault:{marker}]]")).await;
        assert!(transcript.stop_reason().is_none());
        let error = transcript.error.expect("an exception frame");
        assert!(is_expected(&error), "{marker}: {error:?}");
    }
}

#[tokio::test]
async fn token_delay_paces_the_deltas() {
    let h = start_with(EmulatorConfig {
        token_delay: Duration::from_millis(40),
        ..EmulatorConfig::default()
    })
    .await;
    let started = Instant::now();
    let transcript = stream(&h, HAIKU_3, "a b c d e").await;
    assert_eq!(transcript.text(), "a b c d e");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn slowstream_marker_overrides_the_pace() {
    let h = start().await;
    let started = Instant::now();
    let transcript = stream(&h, HAIKU_3, "a b c [[slowstream:60]]").await;
    assert_eq!(transcript.text(), "a b c");
    assert!(
        started.elapsed() >= Duration::from_millis(180),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn stream_max_tokens_and_cache_usage() {
    let h = start().await;
    let response = h
        .client
        .converse_stream()
        .model_id(NOVA_PRO)
        // Nova caches from 1,024 tokens (the emulator counts words).
        .system(aws_sdk_bedrockruntime::types::SystemContentBlock::Text(
            vec!["cached"; 1024].join(" "),
        ))
        .system(aws_sdk_bedrockruntime::types::SystemContentBlock::CachePoint(cache_point()))
        .inference_config(InferenceConfiguration::builder().max_tokens(1).build())
        .messages(user("one two"))
        .send()
        .await
        .unwrap();
    let transcript = collect(response).await;
    assert_eq!(transcript.text(), "one");
    assert_eq!(transcript.stop_reason(), Some(StopReason::MaxTokens));
    let usage = transcript.usage().unwrap();
    assert_eq!(usage.cache_write_input_tokens(), Some(1024));
    assert_eq!(usage.input_tokens(), 2);
    assert_eq!(usage.total_tokens(), 2 + 1 + 1024);
}
