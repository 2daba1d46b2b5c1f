//! Converse happy paths, decoded by the real AWS SDK over loopback.

use std::time::Duration;
use tokio::time::Instant;

use crate::support::*;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, DocumentBlock, DocumentFormat, DocumentSource, GuardrailConfiguration,
    ImageFormat, InferenceConfiguration, JsonSchemaDefinition, OutputConfig, OutputFormat,
    OutputFormatStructure, OutputFormatType, ReasoningContentBlock, ReasoningTextBlock, StopReason,
    SystemContentBlock, ToolResultBlock, ToolResultContentBlock, ToolUseBlock,
};
use serde_json::json;

#[tokio::test]
async fn echoes_the_last_user_turn_with_usage() {
    let h = start().await;
    let output = h
        .converse(HAIKU_3)
        .system(SystemContentBlock::Text("You are terse.".into()))
        .messages(user("first question"))
        .messages(assistant_blocks(vec![text("first answer")]))
        .messages(user("Hello  big world"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply_text(&output), "Hello big world");
    assert_eq!(output.stop_reason(), &StopReason::EndTurn);
    let usage = output.usage().unwrap();
    // system 3 + history 4 + last turn 3 words
    assert_eq!(usage.input_tokens(), 10);
    assert_eq!(usage.output_tokens(), 3);
    assert_eq!(usage.total_tokens(), 13);
    assert_eq!(usage.cache_read_input_tokens(), None);
    assert!(output.metrics().is_some());
    assert!(output.trace().is_none());
}

#[tokio::test]
async fn describes_images_documents_and_tool_results() {
    let h = start().await;
    let document = DocumentBlock::builder()
        .format(DocumentFormat::Pdf)
        .name("Quarterly report")
        .source(DocumentSource::Bytes(Blob::new(b"%PDF-1.7 tiny".to_vec())))
        .build()
        .unwrap();
    let output = h
        .converse(NOVA_PRO)
        .messages(user_blocks(vec![
            text("Look at"),
            image(ImageFormat::Png, png_bytes()),
            ContentBlock::Document(document),
            text("please"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply_text(&output),
        "Look at [image png 68 bytes] [document Quarterly report pdf 13 bytes] please"
    );
}

#[tokio::test]
async fn auto_tool_choice_calls_tools_named_by_markers() {
    let h = start().await;
    let output = h
        .converse(SONNET_4)
        .tool_config(tools(vec![weather_tool()], Some(choose_auto())))
        .messages(user(
            r#"Weather? [[call:get_weather {"city": "Paris", "days": 2}]]"#,
        ))
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
    assert_eq!(json_of(call.input()), json!({"city": "Paris", "days": 2}));
}

#[tokio::test]
async fn auto_tool_choice_without_markers_answers_in_text() {
    let h = start().await;
    let output = h
        .converse(NOVA_MICRO)
        .tool_config(tools(vec![weather_tool()], None))
        .messages(user("just chat"))
        .send()
        .await
        .unwrap();
    assert_eq!(output.stop_reason(), &StopReason::EndTurn);
    assert_eq!(reply_text(&output), "just chat");
}

#[tokio::test]
async fn parallel_calls_from_several_markers() {
    let h = start().await;
    let output = h
        .converse(HAIKU_3_5)
        .tool_config(tools(
            vec![weather_tool(), tool("get_time", json!({"type": "object"}))],
            None,
        ))
        .messages(user("[[call:get_weather]] and [[call:get_time]]"))
        .send()
        .await
        .unwrap();
    let blocks = content(&output);
    assert_eq!(
        blocks[0].as_text().unwrap(),
        "Calling get_weather, get_time."
    );
    let first = blocks[1].as_tool_use().unwrap();
    let second = blocks[2].as_tool_use().unwrap();
    // Without marker arguments the input is generated from the schema.
    assert_eq!(json_of(first.input()), json!({"city": "text", "days": 1}));
    assert_eq!(second.name(), "get_time");
    assert_eq!(json_of(second.input()), json!({}));
    assert_ne!(first.tool_use_id(), second.tool_use_id());
}

#[tokio::test]
async fn forced_tool_choices_call_without_text() {
    let h = start().await;
    let any = h
        .converse(HAIKU_3)
        .tool_config(tools(
            vec![weather_tool(), tool("get_time", json!({"type": "object"}))],
            Some(choose_any()),
        ))
        .messages(user("anything"))
        .send()
        .await
        .unwrap();
    assert_eq!(content(&any).len(), 1);
    assert_eq!(
        content(&any)[0].as_tool_use().unwrap().name(),
        "get_weather"
    );

    let specific = h
        .converse(HAIKU_3)
        .tool_config(tools(
            vec![weather_tool(), tool("get_time", json!({"type": "object"}))],
            Some(choose_tool("get_time")),
        ))
        .messages(user("anything"))
        .send()
        .await
        .unwrap();
    assert_eq!(specific.stop_reason(), &StopReason::ToolUse);
    assert_eq!(content(&specific).len(), 1);
    assert_eq!(
        content(&specific)[0].as_tool_use().unwrap().name(),
        "get_time"
    );
}

#[tokio::test]
async fn tool_results_are_echoed_back() {
    let h = start().await;
    let call = ToolUseBlock::builder()
        .tool_use_id("tooluse_abc")
        .name("get_weather")
        .input(doc(&json!({"city": "Paris", "days": 1})))
        .build()
        .unwrap();
    let result = ToolResultBlock::builder()
        .tool_use_id("tooluse_abc")
        .content(ToolResultContentBlock::Json(doc(&json!({"temp": 21}))))
        .content(ToolResultContentBlock::Text("sunny".into()))
        .build()
        .unwrap();
    let output = h
        .converse(HAIKU_3)
        .tool_config(tools(vec![weather_tool()], None))
        .messages(user("weather?"))
        .messages(assistant_blocks(vec![ContentBlock::ToolUse(call)]))
        .messages(user_blocks(vec![ContentBlock::ToolResult(result)]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply_text(&output),
        r#"[toolResult tooluse_abc: {"temp":21} sunny]"#
    );
}

#[tokio::test]
async fn budget_thinking_reasons_with_a_signature_that_round_trips() {
    let h = start().await;
    let first = h
        .converse(SONNET_3_7)
        .additional_model_request_fields(thinking(2048))
        .inference_config(InferenceConfiguration::builder().max_tokens(4096).build())
        .messages(user("hi there"))
        .send()
        .await
        .unwrap();
    let (reasoning, signature) = reasoning_of(&first).expect("a reasoning block");
    assert_eq!(reasoning, "Thinking about: hi there");
    let signature = signature.expect("Claude signs its reasoning");
    assert!(content(&first)[0].is_reasoning_content());
    assert_eq!(reply_text(&first), "hi there");

    // The signed block is accepted back in the next turn.
    let block = ReasoningTextBlock::builder()
        .text(reasoning)
        .signature(signature)
        .build()
        .unwrap();
    let second = h
        .converse(SONNET_3_7)
        .additional_model_request_fields(thinking(2048))
        .inference_config(InferenceConfiguration::builder().max_tokens(4096).build())
        .messages(user("hi there"))
        .messages(assistant_blocks(vec![
            ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(block)),
            text("hi there"),
        ]))
        .messages(user("again"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply_text(&second), "again");
}

#[tokio::test]
async fn thinking_off_means_no_reasoning() {
    let h = start().await;
    let output = h
        .converse(SONNET_4)
        .messages(user("plain"))
        .send()
        .await
        .unwrap();
    assert!(reasoning_of(&output).is_none());
}

#[tokio::test]
async fn redacted_marker_gives_redacted_reasoning_that_round_trips() {
    let h = start().await;
    let first = h
        .converse(SONNET_4)
        .additional_model_request_fields(thinking(1024))
        .messages(user("secret [[redacted]]"))
        .send()
        .await
        .unwrap();
    let ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(blob)) =
        &content(&first)[0]
    else {
        panic!("expected redacted reasoning first: {first:?}");
    };
    assert_eq!(reply_text(&first), "secret");
    let second = h
        .converse(SONNET_4)
        .additional_model_request_fields(thinking(1024))
        .messages(user("secret"))
        .messages(assistant_blocks(vec![
            ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(blob.clone())),
            text("secret"),
        ]))
        .messages(user("more"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply_text(&second), "more");
}

#[tokio::test]
async fn always_reasoning_models_reason_unsigned() {
    let h = start().await;
    for model in [DEEPSEEK_R1_PROFILE, GPT_OSS] {
        let output = h
            .converse(model)
            .messages(user("why"))
            .send()
            .await
            .unwrap();
        let (reasoning, signature) = reasoning_of(&output).expect("reasoning");
        assert_eq!(reasoning, "Thinking about: why", "{model}");
        assert_eq!(signature, None, "{model}");
        assert_eq!(reply_text(&output), "why");
    }
}

#[tokio::test]
async fn prompt_router_reports_the_invoked_model() {
    let h = start().await;
    let output = h
        .converse("arn:aws:bedrock:us-east-1:111122223333:default-prompt-router/anthropic.claude:1")
        .messages(user("route me"))
        .send()
        .await
        .unwrap();
    let invoked = output
        .trace()
        .and_then(|trace| trace.prompt_router())
        .and_then(|router| router.invoked_model_id());
    assert_eq!(
        invoked,
        Some(
            "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
        )
    );
    assert_eq!(reply_text(&output), "route me");
}

#[tokio::test]
async fn inference_profiles_and_arns_resolve() {
    let h = start().await;
    for model in [
        "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "global.anthropic.claude-haiku-4-5-20251001-v1:0",
        "apac.amazon.nova-lite-v1:0",
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/emu-app-profile",
        "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-micro-v1:0",
        "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.deepseek.r1-v1:0",
        MISTRAL_7B,
        MISTRAL_LARGE,
        COMMAND_R_PLUS,
        LLAMA_3_3,
    ] {
        let output = h.converse(model).messages(user("ok")).send().await;
        assert!(output.is_ok(), "{model}: {output:?}");
    }
}

#[tokio::test]
async fn structured_output_replies_with_schema_shaped_json() {
    let h = start().await;
    let schema = json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                       "kind": {"type": "string", "enum": ["cat", "dog"]}},
        "required": ["name", "age", "kind"],
        "additionalProperties": false
    });
    let format = OutputFormat::builder()
        .r#type(OutputFormatType::JsonSchema)
        .structure(OutputFormatStructure::JsonSchema(
            JsonSchemaDefinition::builder()
                .schema(schema.to_string())
                .name("pet")
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap();
    let output = h
        .converse(SONNET_4_5)
        .output_config(OutputConfig::builder().text_format(format).build())
        .messages(user("describe a pet"))
        .send()
        .await
        .unwrap();
    let reply: serde_json::Value = serde_json::from_str(&reply_text(&output)).unwrap();
    assert_eq!(reply, json!({"name": "text", "age": 1, "kind": "cat"}));
}

#[tokio::test]
async fn echo_request_returns_what_the_sdk_sent() {
    let h = start().await;
    let output = h
        .converse(HAIKU_3)
        .inference_config(
            InferenceConfiguration::builder()
                .max_tokens(3)
                .temperature(0.5)
                .stop_sequences("never")
                .build(),
        )
        .messages(user("show me [[echo:request]]"))
        .send()
        .await
        .unwrap();
    let echoed: serde_json::Value = serde_json::from_str(&reply_text(&output)).unwrap();
    assert_eq!(echoed["inferenceConfig"]["maxTokens"], 3);
    assert_eq!(echoed["inferenceConfig"]["stopSequences"], json!(["never"]));
    assert_eq!(
        echoed["messages"][0]["content"][0]["text"],
        "show me [[echo:request]]"
    );
    // Echoes are never cut by maxTokens.
    assert_eq!(output.stop_reason(), &StopReason::EndTurn);
}

#[tokio::test]
async fn echo_system_returns_the_system_prompt() {
    let h = start().await;
    let output = h
        .converse(NOVA_MICRO)
        .system(SystemContentBlock::Text("Be kind.".into()))
        .system(SystemContentBlock::Text("Be brief.".into()))
        .messages(user("[[echo:system]]"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply_text(&output), "Be kind. Be brief.");
}

#[tokio::test]
async fn max_tokens_cuts_the_answer() {
    let h = start().await;
    let output = h
        .converse(HAIKU_3)
        .inference_config(InferenceConfiguration::builder().max_tokens(2).build())
        .messages(user("one two three four"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply_text(&output), "one two");
    assert_eq!(output.stop_reason(), &StopReason::MaxTokens);
    assert_eq!(output.usage().unwrap().output_tokens(), 2);
}

#[tokio::test]
async fn stop_sequences_cut_before_the_match() {
    let h = start().await;
    let output = h
        .converse(HAIKU_3)
        .inference_config(
            InferenceConfiguration::builder()
                .stop_sequences("STOP")
                .stop_sequences("four")
                .build(),
        )
        .additional_model_response_field_paths("/stop_sequence")
        .messages(user("one two STOP three four"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply_text(&output), "one two ");
    assert_eq!(output.stop_reason(), &StopReason::StopSequence);
    let fields = json_of(output.additional_model_response_fields().unwrap());
    assert_eq!(fields, json!({"stop_sequence": "STOP"}));
}

#[tokio::test]
async fn guardrail_and_content_filter_markers() {
    let h = start().await;
    let guardrail = GuardrailConfiguration::builder()
        .guardrail_identifier("abc123")
        .guardrail_version("1")
        .build();
    let blocked = h
        .converse(HAIKU_3)
        .guardrail_config(guardrail.clone())
        .messages(user("bad things [[guardrail]]"))
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.stop_reason(), &StopReason::GuardrailIntervened);
    assert_eq!(
        reply_text(&blocked),
        "Sorry, the model cannot answer this question."
    );

    // Without a guardrail configured the marker does nothing.
    let unguarded = h
        .converse(HAIKU_3)
        .messages(user("bad things [[guardrail]]"))
        .send()
        .await
        .unwrap();
    assert_eq!(unguarded.stop_reason(), &StopReason::EndTurn);

    let filtered = h
        .converse(HAIKU_3)
        .messages(user("filtered [[content_filtered]]"))
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.stop_reason(), &StopReason::ContentFiltered);
}

/// A system prompt of `words` tokens (the emulator counts words).
fn words(count: usize) -> String {
    vec!["word"; count].join(" ")
}

#[tokio::test]
async fn cache_points_write_then_read() {
    let h = start().await;
    // Claude 3.5 Haiku caches from 2,048 tokens.
    let send = || {
        h.converse(HAIKU_3_5)
            .system(SystemContentBlock::Text(words(2048)))
            .system(SystemContentBlock::CachePoint(cache_point()))
            .messages(user("question here"))
            .send()
    };
    let first = send().await.unwrap();
    let usage = first.usage().unwrap();
    assert_eq!(usage.cache_write_input_tokens(), Some(2048));
    assert_eq!(usage.cache_read_input_tokens(), Some(0));
    assert_eq!(usage.input_tokens(), 2);
    assert_eq!(usage.total_tokens(), 2 + 2 + 2048);

    let second = send().await.unwrap();
    let usage = second.usage().unwrap();
    assert_eq!(usage.cache_read_input_tokens(), Some(2048));
    assert_eq!(usage.cache_write_input_tokens(), Some(0));
    assert_eq!(usage.input_tokens(), 2);
    assert_eq!(usage.total_tokens(), 2 + 2 + 2048);
}

#[tokio::test]
async fn cache_points_below_the_model_minimum_cache_nothing() {
    let h = start().await;
    for (model, minimum) in [
        (HAIKU_3_5, 2048),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", 4096),
    ] {
        for _ in 0..2 {
            let reply = h
                .converse(model)
                .system(SystemContentBlock::Text(words(minimum - 1)))
                .system(SystemContentBlock::CachePoint(cache_point()))
                .messages(user("question here"))
                .send()
                .await
                .unwrap();
            let usage = reply.usage().unwrap();
            assert_eq!(usage.cache_write_input_tokens(), Some(0), "{model}");
            assert_eq!(usage.cache_read_input_tokens(), Some(0), "{model}");
            assert_eq!(usage.input_tokens(), minimum as i32 - 1 + 2, "{model}");
        }
    }
}

#[tokio::test]
async fn delay_marker_slows_the_answer() {
    let h = start().await;
    let started = Instant::now();
    h.converse(HAIKU_3)
        .messages(user("wait [[delay:150]]"))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
}
