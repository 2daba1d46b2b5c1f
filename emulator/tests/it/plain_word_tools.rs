//! Tools asked for in plain words ("use get_weather", "call get_weather"): the emulator calls
//! the offered tool with input filled from its schema, as a `[[call:NAME]]` marker does, so
//! the README's tools example works against `make run`. Decoded by the real AWS SDK over
//! loopback, through Converse and ConverseStream.

use crate::support::*;
use aws_sdk_bedrockruntime::types::{StopReason, ToolResultBlock, ToolResultContentBlock};
use serde_json::json;

#[tokio::test]
async fn use_name_calls_the_offered_tool_with_schema_input() {
    let h = start().await;
    let output = h
        .converse(HAIKU_3_5)
        .tool_config(tools(vec![weather_tool()], None))
        .messages(user("Use get_weather to find the weather in Paris."))
        .send()
        .await
        .unwrap();
    assert_eq!(output.stop_reason(), &StopReason::ToolUse);
    let blocks = content(&output);
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].as_text().unwrap(), "Calling get_weather.");
    let call = blocks[1].as_tool_use().unwrap();
    assert_eq!(call.name(), "get_weather");
    assert!(call.tool_use_id().starts_with("tooluse_"));
    assert_eq!(json_of(call.input()), json!({"city": "text", "days": 1}));
}

#[tokio::test]
async fn call_the_name_tool_works_in_a_stream_and_with_explicit_auto() {
    let h = start().await;
    let response = h
        .client
        .converse_stream()
        .model_id(SONNET_4)
        .tool_config(tools(
            vec![tool("get_time", json!({"type": "object"})), weather_tool()],
            Some(choose_auto()),
        ))
        .messages(user("Please call the `get_weather` tool for Oslo"))
        .send()
        .await
        .expect("stream starts");
    let transcript = collect(response).await;
    assert!(transcript.error.is_none(), "{:?}", transcript.error);
    assert_eq!(transcript.stop_reason(), Some(StopReason::ToolUse));
    let calls = transcript.tool_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].2, "get_weather");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&calls[0].3).unwrap(),
        json!({"city": "text", "days": 1})
    );
}

#[tokio::test]
async fn names_not_offered_and_plain_mentions_answer_in_text() {
    let h = start().await;
    for prompt in [
        "Use get_stock for ACME",
        "What is get_weather for?",
        "I use weather apps",
    ] {
        let output = h
            .converse(NOVA_MICRO)
            .tool_config(tools(vec![weather_tool()], None))
            .messages(user(prompt))
            .send()
            .await
            .unwrap();
        assert_eq!(output.stop_reason(), &StopReason::EndTurn, "{prompt}");
        assert_eq!(reply_text(&output), prompt);
    }
}

#[tokio::test]
async fn a_marker_wins_over_plain_words() {
    let h = start().await;
    let output = h
        .converse(HAIKU_3_5)
        .tool_config(tools(
            vec![weather_tool(), tool("get_time", json!({"type": "object"}))],
            None,
        ))
        .messages(user(r#"use get_weather [[call:get_time {"tz": "UTC"}]]"#))
        .send()
        .await
        .unwrap();
    let blocks = content(&output);
    assert_eq!(blocks.len(), 2);
    let call = blocks[1].as_tool_use().unwrap();
    assert_eq!(call.name(), "get_time");
    assert_eq!(json_of(call.input()), json!({"tz": "UTC"}));
}

/// The second round of the README example: the last user turn holds only the tool result,
/// so the emulator answers in text (echoing the result) instead of calling the tool again.
#[tokio::test]
async fn a_tool_result_turn_does_not_call_again() {
    let h = start().await;
    let first = h
        .converse(HAIKU_3_5)
        .tool_config(tools(vec![weather_tool()], None))
        .messages(user("use get_weather for Paris"))
        .send()
        .await
        .unwrap();
    let call = content(&first)[1].as_tool_use().unwrap().clone();
    let assistant_turn = content(&first).to_vec();
    let result = ToolResultBlock::builder()
        .tool_use_id(call.tool_use_id())
        .content(ToolResultContentBlock::Json(doc(&json!({"temp_c": 21}))))
        .build()
        .unwrap();
    let second = h
        .converse(HAIKU_3_5)
        .tool_config(tools(vec![weather_tool()], None))
        .messages(user("use get_weather for Paris"))
        .messages(assistant_blocks(assistant_turn))
        .messages(user_blocks(vec![
            aws_sdk_bedrockruntime::types::ContentBlock::ToolResult(result),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(second.stop_reason(), &StopReason::EndTurn);
    assert_eq!(
        reply_text(&second),
        format!("[toolResult {}: {{\"temp_c\":21}}]", call.tool_use_id())
    );
}
