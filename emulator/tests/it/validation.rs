//! Bedrock's validation rules, one test (or more) per rule, sent through the
//! real SDK so each refusal is also proven to decode as a ValidationException.

use std::collections::HashMap;

use crate::support::*;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    CachePointBlock, CachePointType, CacheTtl, ContentBlock, ConversationRole, DocumentBlock,
    DocumentFormat, DocumentSource, GuardrailConfiguration, ImageFormat, InferenceConfiguration,
    JsonSchemaDefinition, Message, OutputConfig, OutputFormat, OutputFormatStructure,
    OutputFormatType, PromptVariableValues, ReasoningContentBlock, ReasoningTextBlock, ServiceTier,
    ServiceTierType, SystemContentBlock, Tool, ToolResultBlock, ToolResultContentBlock,
    ToolResultStatus, ToolUseBlock,
};
use serde_json::{Value, json};

// ----- model ids ----------------------------------------------------------

#[tokio::test]
async fn unknown_model_ids_are_invalid() {
    let h = start().await;
    for model in [
        "anthropic.claude-9-v1:0",
        "eu.meta.llama3-3-70b-instruct-v1:0",
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/other",
    ] {
        let message = validation_error(h.converse(model).messages(user("hi"))).await;
        assert_eq!(
            message, "The provided model identifier is invalid.",
            "{model}"
        );
    }
}

#[tokio::test]
async fn embedding_models_cannot_converse() {
    let h = start().await;
    for model in ["amazon.titan-embed-text-v2:0", "cohere.embed-v4:0"] {
        let message = validation_error(h.converse(model).messages(user("hi"))).await;
        assert_eq!(
            message,
            "This action doesn't support the model that you provided. Try again with a supported text or chat model."
        );
    }
}

#[tokio::test]
async fn deepseek_needs_an_inference_profile() {
    let h = start().await;
    let message = validation_error(h.converse("deepseek.r1-v1:0").messages(user("hi"))).await;
    assert_eq!(
        message,
        "Invocation of model ID deepseek.r1-v1:0 with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model."
    );
}

// ----- conversation -------------------------------------------------------

#[tokio::test]
async fn conversation_must_start_with_user() {
    let h = start().await;
    let expected = "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
    assert_eq!(validation_error(h.converse(HAIKU_3)).await, expected);
    let message = validation_error(
        h.converse(HAIKU_3)
            .messages(assistant_blocks(vec![text("hi")]))
            .messages(user("hello")),
    )
    .await;
    assert_eq!(message, expected);
}

#[tokio::test]
async fn roles_must_alternate() {
    let h = start().await;
    let message =
        validation_error(h.converse(HAIKU_3).messages(user("a")).messages(user("b"))).await;
    assert_eq!(
        message,
        "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again."
    );
}

#[tokio::test]
async fn content_must_not_be_empty() {
    let h = start().await;
    let empty = Message::builder()
        .role(ConversationRole::User)
        .set_content(Some(Vec::new()))
        .build()
        .unwrap();
    let message = validation_error(h.converse(HAIKU_3).messages(empty)).await;
    assert_eq!(
        message,
        "The content field in the Message object at messages.0 is empty. Add a ContentBlock object to the content field and try again."
    );
}

#[tokio::test]
async fn blank_text_is_refused() {
    let h = start().await;
    let message = validation_error(
        h.converse(HAIKU_3)
            .messages(user("hi"))
            .messages(assistant_blocks(vec![text("ok")]))
            .messages(user_blocks(vec![text("fine"), text(" \n\t ")])),
    )
    .await;
    assert_eq!(
        message,
        "The text field in the ContentBlock object at messages.2.content.1 is blank. Add text to the text field, and try again."
    );
}

#[tokio::test]
async fn blank_system_text_is_refused() {
    let h = start().await;
    let message = validation_error(
        h.converse(HAIKU_3)
            .system(SystemContentBlock::Text("".into()))
            .messages(user("hi")),
    )
    .await;
    assert!(message.contains("at system.0 is blank"), "{message}");
}

#[tokio::test]
async fn system_prompts_need_model_support() {
    let h = start().await;
    let message = validation_error(
        h.converse(MISTRAL_7B)
            .system(SystemContentBlock::Text("be nice".into()))
            .messages(user("hi")),
    )
    .await;
    assert_eq!(message, "This model doesn't support system messages.");
}

#[tokio::test]
async fn blocks_belong_to_their_role() {
    let h = start().await;
    let call = ToolUseBlock::builder()
        .tool_use_id("tooluse_x")
        .name("get_weather")
        .input(doc(&json!({})))
        .build()
        .unwrap();
    let message = validation_error(
        h.converse(HAIKU_3)
            .tool_config(tools(vec![weather_tool()], None))
            .messages(user_blocks(vec![ContentBlock::ToolUse(call)])),
    )
    .await;
    assert!(
        message.contains("toolUse content block at messages.0.content.0"),
        "{message}"
    );
}

#[tokio::test]
async fn claude_prefill_cannot_end_with_whitespace() {
    let h = start().await;
    let message = validation_error(
        h.converse(HAIKU_3)
            .messages(user("hi"))
            .messages(assistant_blocks(vec![text("Sure, ")])),
    )
    .await;
    assert_eq!(
        message,
        "The model returned the following errors: final assistant content cannot end with trailing whitespace"
    );
}

// ----- images and documents -----------------------------------------------

#[tokio::test]
async fn images_need_model_support() {
    let h = start().await;
    for model in [NOVA_MICRO, LLAMA_3_3, MISTRAL_7B] {
        let message = validation_error(h.converse(model).messages(user_blocks(vec![
            text("see"),
            image(ImageFormat::Png, png_bytes()),
        ])))
        .await;
        assert!(
            message.contains("doesn't support the image content block")
                && message.contains("messages.0.content.1"),
            "{model}: {message}"
        );
    }
}

#[tokio::test]
async fn image_bytes_must_match_the_declared_format() {
    let h = start().await;
    let message = validation_error(h.converse(HAIKU_3).messages(user_blocks(vec![
        text("see"),
        image(ImageFormat::Png, jpeg_bytes()),
    ])))
    .await;
    assert!(
        message.contains("specified using the image/png media type, but the image appears to be a image/jpeg image"),
        "{message}"
    );
    let message = validation_error(h.converse(HAIKU_3).messages(user_blocks(vec![
        text("see"),
        image(ImageFormat::Gif, b"not an image".to_vec()),
    ])))
    .await;
    assert!(message.contains("Could not process image"), "{message}");
}

#[tokio::test]
async fn images_over_five_mib_of_base64_are_refused() {
    // Bedrock counts the limit on the base64 encoding: 5,242,880 bytes, so 3,932,160 raw bytes
    // pass and one more is refused (audit item 18; the evidence is in validate/content.rs).
    let h = start().await;
    let mut bytes = png_bytes();
    bytes.resize(3_932_160, 0);
    h.converse(HAIKU_3)
        .messages(user_blocks(vec![
            text("see"),
            image(ImageFormat::Png, bytes.clone()),
        ]))
        .send()
        .await
        .expect("3.75 MiB passes");
    bytes.push(0);
    let message = validation_error(h.converse(HAIKU_3).messages(user_blocks(vec![
        text("see"),
        image(ImageFormat::Png, bytes),
    ])))
    .await;
    assert_eq!(
        message,
        "The model returned the following errors: messages.0.content.1.image.source.bytes: image exceeds 5 MB maximum: 5242884 bytes > 5242880 bytes"
    );
}

fn document(name: &str, format: DocumentFormat, bytes: &[u8]) -> ContentBlock {
    ContentBlock::Document(
        DocumentBlock::builder()
            .format(format)
            .name(name)
            .source(DocumentSource::Bytes(Blob::new(bytes.to_vec())))
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn documents_need_model_support() {
    let h = start().await;
    // DeepSeek R1 takes no documents...
    let message = validation_error(h.converse(DEEPSEEK_R1_PROFILE).messages(user_blocks(vec![
        text("read"),
        document("notes", DocumentFormat::Txt, b"plain text"),
    ])))
    .await;
    assert!(
        message.contains("doesn't support the document content block"),
        "{message}"
    );
    // ...while Llama 3.x, Mistral 7B and Command R+ do (AWS's model-features table).
    for model in [LLAMA_3_3, MISTRAL_7B, COMMAND_R_PLUS] {
        let output = h
            .converse(model)
            .messages(user_blocks(vec![
                text("read"),
                document("notes", DocumentFormat::Txt, b"plain text"),
            ]))
            .send()
            .await;
        assert!(output.is_ok(), "{model}: {output:?}");
    }
}

#[tokio::test]
async fn document_names_are_restricted() {
    let h = start().await;
    for name in ["report.pdf", "two  spaces", "under_score"] {
        let message = validation_error(h.converse(HAIKU_3).messages(user_blocks(vec![
            text("read"),
            document(name, DocumentFormat::Pdf, b"%PDF-1.4"),
        ])))
        .await;
        assert!(
            message.contains("can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets"),
            "{name}: {message}"
        );
    }
}

#[tokio::test]
async fn document_bytes_must_match_the_format() {
    let h = start().await;
    let message = validation_error(h.converse(NOVA_PRO).messages(user_blocks(vec![
        text("read"),
        document("report", DocumentFormat::Pdf, b"just text"),
    ])))
    .await;
    assert!(message.contains("isn't a valid pdf file"), "{message}");
}

#[tokio::test]
async fn document_names_are_unique_across_the_request() {
    let h = start().await;
    let expected = "Messages can't contain duplicate document names. Rename the document and retry your request.";
    let pdf = |name: &str| document(name, DocumentFormat::Pdf, b"%PDF-1.4");
    let message = validation_error(h.converse(NOVA_PRO).messages(user_blocks(vec![
        text("compare"),
        pdf("report"),
        pdf("report"),
    ])))
    .await;
    assert_eq!(message, expected);
    // The whole history is sent each turn, so a name reused later collides.
    let message = validation_error(
        h.converse(HAIKU_3)
            .messages(user_blocks(vec![text("read"), pdf("report")]))
            .messages(assistant_blocks(vec![text("done")]))
            .messages(user_blocks(vec![text("and this"), pdf("report")])),
    )
    .await;
    assert_eq!(message, expected);
    assert!(
        h.converse(HAIKU_3)
            .messages(user_blocks(vec![text("read"), pdf("report")]))
            .messages(assistant_blocks(vec![text("done")]))
            .messages(user_blocks(vec![text("and this"), pdf("report (2)")]))
            .send()
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_turn_with_a_document_needs_a_text_block() {
    let h = start().await;
    let expected = "A text block must be included when using documents. Add a text block and retry your request.";
    let notes = || document("notes", DocumentFormat::Txt, b"plain text");
    let message = validation_error(h.converse(HAIKU_3).messages(user_blocks(vec![notes()]))).await;
    assert_eq!(message, expected);
    // An image is not text either, and the rule holds in every user turn.
    let message = validation_error(
        h.converse(NOVA_PRO)
            .messages(user("hi"))
            .messages(assistant_blocks(vec![text("hello")]))
            .messages(user_blocks(vec![
                image(ImageFormat::Png, png_bytes()),
                notes(),
            ])),
    )
    .await;
    assert_eq!(message, expected);
    assert!(
        h.converse(NOVA_PRO)
            .messages(user_blocks(vec![notes(), text("summarise")]))
            .send()
            .await
            .is_ok()
    );
}

// ----- tools --------------------------------------------------------------

fn call(id: &str) -> ContentBlock {
    ContentBlock::ToolUse(
        ToolUseBlock::builder()
            .tool_use_id(id)
            .name("get_weather")
            .input(doc(&json!({"city": "Oslo", "days": 1})))
            .build()
            .unwrap(),
    )
}

fn result(id: &str) -> ContentBlock {
    ContentBlock::ToolResult(
        ToolResultBlock::builder()
            .tool_use_id(id)
            .content(ToolResultContentBlock::Text("cold".into()))
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn tool_history_needs_a_tool_config() {
    let h = start().await;
    let message = validation_error(
        h.converse(HAIKU_3)
            .messages(user("weather"))
            .messages(assistant_blocks(vec![call("tooluse_1")]))
            .messages(user_blocks(vec![result("tooluse_1")])),
    )
    .await;
    assert_eq!(
        message,
        "The toolConfig field must be defined when using toolUse and toolResult content blocks."
    );
}

#[tokio::test]
async fn tool_results_must_answer_the_previous_turn() {
    let h = start().await;
    let message = validation_error(
        h.converse(HAIKU_3)
            .tool_config(tools(vec![weather_tool()], None))
            .messages(user("weather"))
            .messages(assistant_blocks(vec![call("tooluse_1")]))
            .messages(user_blocks(vec![result("tooluse_1"), result("tooluse_2")])),
    )
    .await;
    assert!(
        message.contains("messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: tooluse_2"),
        "{message}"
    );
}

#[tokio::test]
async fn every_tool_call_needs_a_result() {
    let h = start().await;
    let message = validation_error(
        h.converse(NOVA_MICRO)
            .tool_config(tools(vec![weather_tool()], None))
            .messages(user("weather"))
            .messages(assistant_blocks(vec![call("tooluse_1"), call("tooluse_2")]))
            .messages(user_blocks(vec![result("tooluse_1")])),
    )
    .await;
    assert_eq!(
        message,
        "Expected toolResult blocks at messages.2.content for the following Ids: tooluse_2"
    );
}

#[tokio::test]
async fn claude_wants_tool_results_before_other_content() {
    let h = start().await;
    let turn = |model: &str, results_turn: Vec<ContentBlock>| {
        h.converse(model)
            .tool_config(tools(vec![weather_tool()], None))
            .messages(user("weather"))
            .messages(assistant_blocks(vec![call("tooluse_1"), call("tooluse_2")]))
            .messages(user_blocks(results_turn))
    };
    let message = validation_error(turn(
        HAIKU_3,
        vec![result("tooluse_1"), text("and"), result("tooluse_2")],
    ))
    .await;
    assert_eq!(
        message,
        "The model returned the following errors: messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: tooluse_2. Each `tool_use` block must have a corresponding `tool_result` block in the next message."
    );
    let message = validation_error(turn(
        SONNET_4,
        vec![text("here"), result("tooluse_1"), result("tooluse_2")],
    ))
    .await;
    assert!(
        message.contains("immediately after: tooluse_1, tooluse_2."),
        "{message}"
    );
    // Results first, then anything: fine. Cache points do not break the run.
    assert!(
        turn(
            HAIKU_3_5,
            vec![
                result("tooluse_2"),
                ContentBlock::CachePoint(cache_point()),
                result("tooluse_1"),
                text("thanks"),
            ]
        )
        .send()
        .await
        .is_ok()
    );
    // Only Anthropic's validator cares about the order.
    assert!(
        turn(
            NOVA_MICRO,
            vec![result("tooluse_1"), text("and"), result("tooluse_2")]
        )
        .send()
        .await
        .is_ok()
    );
}

#[tokio::test]
async fn tool_names_follow_the_pattern() {
    let h = start().await;
    for name in ["get weather", "", &"x".repeat(65)] {
        let message = validation_error(
            h.converse(HAIKU_3)
                .tool_config(tools(vec![tool(name, json!({"type": "object"}))], None))
                .messages(user("hi")),
        )
        .await;
        assert!(
            message.contains("toolConfig.tools.0.member.toolSpec.name"),
            "{name}: {message}"
        );
    }
}

#[tokio::test]
async fn tool_names_are_unique() {
    let h = start().await;
    let message = validation_error(
        h.converse(HAIKU_3)
            .tool_config(tools(vec![weather_tool(), weather_tool()], None))
            .messages(user("hi")),
    )
    .await;
    assert_eq!(
        message,
        "The model returned the following errors: tools: Tool names must be unique."
    );
}

#[tokio::test]
async fn input_schemas_are_json_objects() {
    let h = start().await;
    for schema in [json!("string"), json!({"type": "array"})] {
        let message = validation_error(
            h.converse(HAIKU_3)
                .tool_config(tools(vec![tool("f", schema.clone())], None))
                .messages(user("hi")),
        )
        .await;
        assert!(message.contains("inputSchema.json"), "{schema}: {message}");
    }
}

#[tokio::test]
async fn specific_tool_choice_must_name_a_tool() {
    let h = start().await;
    let message = validation_error(
        h.converse(HAIKU_3)
            .tool_config(tools(vec![weather_tool()], Some(choose_tool("get_time"))))
            .messages(user("hi")),
    )
    .await;
    assert!(message.contains("Tool 'get_time' not found"), "{message}");
}

#[tokio::test]
async fn forced_tool_choice_needs_model_support() {
    let h = start().await;
    let message = validation_error(
        h.converse(LLAMA_3_3)
            .tool_config(tools(vec![weather_tool()], Some(choose_any())))
            .messages(user("hi")),
    )
    .await;
    assert_eq!(
        message,
        "This model doesn't support the toolConfig.toolChoice.any field. Remove toolConfig.toolChoice.any and try again."
    );
}

#[tokio::test]
async fn tools_need_model_support() {
    let h = start().await;
    for model in [MISTRAL_7B, DEEPSEEK_R1_PROFILE] {
        let message = validation_error(
            h.converse(model)
                .tool_config(tools(vec![weather_tool()], None))
                .messages(user("hi")),
        )
        .await;
        assert_eq!(message, "This model doesn't support tool use.", "{model}");
    }
}

#[tokio::test]
async fn tool_streaming_needs_model_support() {
    let h = start().await;
    // Command R+ streams tool use (AWS's model-features table); these two do not.
    for model in [LLAMA_3_3, MISTRAL_LARGE] {
        let error = h
            .client
            .converse_stream()
            .model_id(model)
            .tool_config(tools(vec![weather_tool()], None))
            .messages(user("hi"))
            .send()
            .await
            .expect_err(model)
            .into_service_error();
        assert!(error.is_validation_exception(), "{model}: {error:?}");
        assert_eq!(
            aws_sdk_bedrockruntime::error::ProvideErrorMetadata::message(&error),
            Some("This model doesn't support tool use in streaming mode.")
        );
        // The same tools work through Converse.
        assert!(
            h.converse(model)
                .tool_config(tools(vec![weather_tool()], None))
                .messages(user("hi"))
                .send()
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn tool_result_status_needs_model_support() {
    let h = start().await;
    let with_status = ContentBlock::ToolResult(
        ToolResultBlock::builder()
            .tool_use_id("tooluse_1")
            .content(ToolResultContentBlock::Text("oops".into()))
            .status(ToolResultStatus::Error)
            .build()
            .unwrap(),
    );
    let message = validation_error(
        h.converse(LLAMA_3_3)
            .tool_config(tools(vec![weather_tool()], None))
            .messages(user("weather"))
            .messages(assistant_blocks(vec![call("tooluse_1")]))
            .messages(user_blocks(vec![with_status])),
    )
    .await;
    assert_eq!(
        message,
        "This model doesn't support the status field. Remove status and try again."
    );
}

// ----- inference configuration ---------------------------------------------

fn inference() -> aws_sdk_bedrockruntime::types::builders::InferenceConfigurationBuilder {
    InferenceConfiguration::builder()
}

#[tokio::test]
async fn max_tokens_must_be_positive_and_within_the_model_limit() {
    let h = start().await;
    let message = validation_error(
        h.converse(HAIKU_3)
            .inference_config(inference().max_tokens(0).build())
            .messages(user("hi")),
    )
    .await;
    assert!(
        message.contains("Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1"),
        "{message}"
    );
    let message = validation_error(
        h.converse(HAIKU_3)
            .inference_config(inference().max_tokens(4097).build())
            .messages(user("hi")),
    )
    .await;
    assert_eq!(
        message,
        "The maximum tokens you requested exceeds the model limit of 4096. Try again with a maximum tokens value that is lower than 4096."
    );
    // Claude 3.7 goes to 64000.
    assert!(
        h.converse(SONNET_3_7)
            .inference_config(inference().max_tokens(64000).build())
            .messages(user("hi"))
            .send()
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn sampling_parameters_stay_in_range() {
    let h = start().await;
    let message = validation_error(
        h.converse(HAIKU_3)
            .inference_config(inference().temperature(1.5).build())
            .messages(user("hi")),
    )
    .await;
    assert!(
        message.contains("at 'inferenceConfig.temperature'")
            && message.contains("less than or equal to 1"),
        "{message}"
    );
    let message = validation_error(
        h.converse(HAIKU_3)
            .inference_config(inference().top_p(-0.1).build())
            .messages(user("hi")),
    )
    .await;
    assert!(
        message.contains("at 'inferenceConfig.topP'")
            && message.contains("greater than or equal to 0"),
        "{message}"
    );
}

#[tokio::test]
async fn stop_sequences_are_limited_per_model() {
    let h = start().await;
    let stops = |count: usize| {
        let mut config = inference();
        for index in 0..count {
            config = config.stop_sequences(format!("stop{index}"));
        }
        config.build()
    };
    let message = validation_error(
        h.converse(NOVA_MICRO)
            .inference_config(stops(5))
            .messages(user("hi")),
    )
    .await;
    assert_eq!(
        message,
        "The number of stop sequences you provided (5) exceeds the model limit of 4. Try again with 4 or fewer stop sequences."
    );
    let message = validation_error(
        h.converse(MISTRAL_LARGE)
            .inference_config(stops(11))
            .messages(user("hi")),
    )
    .await;
    assert!(message.contains("model limit of 10"), "{message}");
    for (model, count) in [(HAIKU_3, 5), (MISTRAL_LARGE, 10), (NOVA_MICRO, 4)] {
        assert!(
            h.converse(model)
                .inference_config(stops(count))
                .messages(user("hi"))
                .send()
                .await
                .is_ok(),
            "{model} with {count}"
        );
    }
    // Above Converse's own limit, every model refuses.
    let message = validation_error(
        h.converse(HAIKU_3)
            .inference_config(stops(2501))
            .messages(user("hi")),
    )
    .await;
    assert!(
        message.contains("'inferenceConfig.stopSequences'")
            && message.contains("less than or equal to 2500"),
        "{message}"
    );
}

#[tokio::test]
async fn stop_sequences_must_not_be_blank() {
    let h = start().await;
    for model in [HAIKU_3, NOVA_MICRO] {
        let message = validation_error(
            h.converse(model)
                .inference_config(inference().stop_sequences("END").stop_sequences("").build())
                .messages(user("hi")),
        )
        .await;
        assert!(
            message.contains("'inferenceConfig.stopSequences.1.member'")
                && message.contains("length greater than or equal to 1"),
            "{model}: {message}"
        );
    }
    let whitespace = || inference().stop_sequences("\n\n").build();
    let message = validation_error(
        h.converse(SONNET_4)
            .inference_config(whitespace())
            .messages(user("hi")),
    )
    .await;
    assert_eq!(
        message,
        "The model returned the following errors: stop_sequences: each stop sequence must contain non-whitespace"
    );
    assert!(
        h.converse(NOVA_MICRO)
            .inference_config(whitespace())
            .messages(user("hi"))
            .send()
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn some_models_refuse_temperature_with_top_p() {
    let h = start().await;
    let both = || inference().temperature(0.5).top_p(0.9).build();
    let message = validation_error(
        h.converse(SONNET_4_5)
            .inference_config(both())
            .messages(user("hi")),
    )
    .await;
    assert_eq!(
        message,
        "The model returned the following errors: `temperature` and `top_p` cannot both be specified for this model. Please use only one."
    );
    let message = validation_error(
        h.converse("global.anthropic.claude-haiku-4-5-20251001-v1:0")
            .inference_config(both())
            .messages(user("hi")),
    )
    .await;
    assert!(message.contains("cannot both be specified"));
    assert!(
        h.converse(SONNET_3_7)
            .inference_config(both())
            .messages(user("hi"))
            .send()
            .await
            .is_ok()
    );
}

// ----- thinking and reasoning ----------------------------------------------

#[tokio::test]
async fn thinking_only_on_budget_models() {
    let h = start().await;
    let message = validation_error(
        h.converse(HAIKU_3_5)
            .additional_model_request_fields(thinking(2048))
            .messages(user("hi")),
    )
    .await;
    assert!(
        message.contains("extraneous key [thinking] is not permitted"),
        "{message}"
    );
    let message = validation_error(
        h.converse(SONNET_4)
            .additional_model_request_fields(doc(&json!({"reasoning_effort": "high"})))
            .messages(user("hi")),
    )
    .await;
    assert!(
        message.contains("extraneous key [reasoning_effort]"),
        "{message}"
    );
}

#[tokio::test]
async fn thinking_budget_is_at_least_1024_and_below_max_tokens() {
    let h = start().await;
    let message = validation_error(
        h.converse(SONNET_3_7)
            .additional_model_request_fields(thinking(1000))
            .messages(user("hi")),
    )
    .await;
    assert_eq!(
        message,
        "The model returned the following errors: thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
    );
    let message = validation_error(
        h.converse(SONNET_3_7)
            .additional_model_request_fields(thinking(2048))
            .inference_config(inference().max_tokens(2048).build())
            .messages(user("hi")),
    )
    .await;
    assert!(
        message.contains("`max_tokens` must be greater than `thinking.budget_tokens`"),
        "{message}"
    );
}

#[tokio::test]
async fn thinking_restricts_sampling_and_forced_tools() {
    let h = start().await;
    let message = validation_error(
        h.converse(SONNET_4)
            .additional_model_request_fields(thinking(1024))
            .inference_config(inference().temperature(0.2).build())
            .messages(user("hi")),
    )
    .await;
    assert!(
        message.contains("temperature may only be set to 1 when thinking is enabled"),
        "{message}"
    );
    assert!(
        h.converse(SONNET_4)
            .additional_model_request_fields(thinking(1024))
            .inference_config(inference().temperature(1.0).build())
            .messages(user("hi"))
            .send()
            .await
            .is_ok()
    );
    let message = validation_error(
        h.converse(SONNET_4)
            .additional_model_request_fields(thinking(1024))
            .inference_config(inference().top_p(0.9).build())
            .messages(user("hi")),
    )
    .await;
    assert_eq!(
        message,
        "The model returned the following errors: top_p must be unset when thinking is enabled."
    );
    let message = validation_error(
        h.converse(SONNET_4)
            .additional_model_request_fields(thinking(1024))
            .tool_config(tools(vec![weather_tool()], Some(choose_any())))
            .messages(user("hi")),
    )
    .await;
    assert!(
        message.contains("Thinking may not be enabled when tool_choice forces tool use."),
        "{message}"
    );
}

fn reasoning(text_value: &str, signature: Option<&str>) -> ContentBlock {
    ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(
        ReasoningTextBlock::builder()
            .text(text_value)
            .set_signature(signature.map(str::to_string))
            .build()
            .unwrap(),
    ))
}

#[tokio::test]
async fn reasoning_history_needs_the_issued_signature() {
    let h = start().await;
    let send = |block: ContentBlock| {
        h.converse(SONNET_3_7)
            .messages(user("hi"))
            .messages(assistant_blocks(vec![block, text("hi")]))
            .messages(user("again"))
    };
    let message = validation_error(send(reasoning("Thinking about: hi", Some("forged")))).await;
    assert_eq!(
        message,
        "The model returned the following errors: messages.1.content.0: Invalid `signature` in `thinking` block"
    );
    let message = validation_error(send(reasoning("Thinking about: hi", None))).await;
    assert!(
        message.contains("messages.1.content.0.thinking.signature: Field required"),
        "{message}"
    );
    let message = validation_error(send(ContentBlock::ReasoningContent(
        ReasoningContentBlock::RedactedContent(Blob::new(b"made up".to_vec())),
    )))
    .await;
    assert!(
        message.contains("Invalid `data` in `redacted_thinking` block"),
        "{message}"
    );
}

#[tokio::test]
async fn reasoning_history_needs_a_reasoning_model() {
    let h = start().await;
    let message = validation_error(
        h.converse(NOVA_PRO)
            .messages(user("hi"))
            .messages(assistant_blocks(vec![reasoning("hmm", None), text("hi")]))
            .messages(user("again")),
    )
    .await;
    assert!(
        message.contains("reasoningContent content block"),
        "{message}"
    );
    // Unsigned reasoning is fine for models that never sign.
    assert!(
        h.converse(GPT_OSS)
            .messages(user("hi"))
            .messages(assistant_blocks(vec![reasoning("hmm", None), text("hi")]))
            .messages(user("again"))
            .send()
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn with_thinking_the_tool_calling_turn_must_start_with_reasoning() {
    let h = start().await;
    let message = validation_error(
        h.converse(SONNET_4)
            .additional_model_request_fields(thinking(1024))
            .tool_config(tools(vec![weather_tool()], None))
            .messages(user("weather"))
            .messages(assistant_blocks(vec![call("tooluse_1")]))
            .messages(user_blocks(vec![result("tooluse_1")])),
    )
    .await;
    assert!(
        message.contains("messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`"),
        "{message}"
    );
}

// ----- prompt caching -------------------------------------------------------

#[tokio::test]
async fn cache_points_need_a_caching_model() {
    let h = start().await;
    let message = validation_error(
        h.converse(HAIKU_3)
            .system(SystemContentBlock::Text("sys".into()))
            .system(SystemContentBlock::CachePoint(cache_point()))
            .messages(user("hi")),
    )
    .await;
    assert_eq!(
        message,
        "You invoked an unsupported model or your request did not allow prompt caching. See the documentation for more information."
    );
}

#[tokio::test]
async fn at_most_four_cache_points() {
    let h = start().await;
    let mut blocks = Vec::new();
    for word in ["a", "b", "c", "d", "e"] {
        blocks.push(text(word));
        blocks.push(ContentBlock::CachePoint(cache_point()));
    }
    let message = validation_error(h.converse(HAIKU_3_5).messages(user_blocks(blocks))).await;
    assert_eq!(
        message,
        "The model returned the following errors: A maximum of 4 blocks with cache_control may be provided. Found 5."
    );
}

#[tokio::test]
async fn a_cache_point_cannot_come_first() {
    let h = start().await;
    let message = validation_error(h.converse(NOVA_MICRO).messages(user_blocks(vec![
        ContentBlock::CachePoint(cache_point()),
        text("hi"),
    ])))
    .await;
    assert!(
        message.contains("cachePoint block at messages.0.content.0 can't be the first block"),
        "{message}"
    );
    let message = validation_error(
        h.converse(HAIKU_3_5)
            .tool_config(tools(
                vec![Tool::CachePoint(cache_point()), weather_tool()],
                None,
            ))
            .messages(user("hi")),
    )
    .await;
    assert!(message.contains("toolConfig.tools.0"), "{message}");
}

#[tokio::test]
async fn nova_caches_system_and_messages_but_not_tools() {
    let h = start().await;
    let cached_tools = || tools(vec![weather_tool(), Tool::CachePoint(cache_point())], None);
    let message = validation_error(
        h.converse(NOVA_PRO)
            .tool_config(cached_tools())
            .messages(user("hi")),
    )
    .await;
    assert_eq!(
        message,
        "The model returned the following errors: Malformed input request: #/toolConfig/tools/1: extraneous key [cachePoint] is not permitted, please reformat your input and try again."
    );
    assert!(
        h.converse(NOVA_PRO)
            .system(SystemContentBlock::Text("sys".into()))
            .system(SystemContentBlock::CachePoint(cache_point()))
            .messages(user_blocks(vec![
                text("hi"),
                ContentBlock::CachePoint(cache_point()),
            ]))
            .send()
            .await
            .is_ok()
    );
    assert!(
        h.converse(HAIKU_3_5)
            .tool_config(cached_tools())
            .messages(user("hi"))
            .send()
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_cache_point_cannot_follow_reasoning() {
    let h = start().await;
    let first = h
        .converse(SONNET_4)
        .additional_model_request_fields(thinking(1024))
        .messages(user("hi"))
        .send()
        .await
        .unwrap();
    let (reasoning_text, signature) = reasoning_of(&first).unwrap();
    let message = validation_error(
        h.converse(SONNET_4)
            .messages(user("hi"))
            .messages(assistant_blocks(vec![
                reasoning(&reasoning_text, signature.as_deref()),
                ContentBlock::CachePoint(cache_point()),
                text("hi"),
            ]))
            .messages(user("again")),
    )
    .await;
    assert_eq!(
        message,
        "Cache point cannot be inserted after reasoning block. Please remove the invalid cache point and try again."
    );
}

// ----- side options ---------------------------------------------------------

#[tokio::test]
async fn guardrail_identifier_and_version_are_checked() {
    let h = start().await;
    for (identifier, version, path) in [
        ("", "1", "guardrailConfig.guardrailIdentifier"),
        ("abc123", "", "guardrailConfig.guardrailVersion"),
        ("abc123", "latest", "guardrailConfig.guardrailVersion"),
    ] {
        let guardrail = GuardrailConfiguration::builder()
            .guardrail_identifier(identifier)
            .guardrail_version(version)
            .build();
        let message = validation_error(
            h.converse(HAIKU_3)
                .guardrail_config(guardrail)
                .messages(user("hi")),
        )
        .await;
        assert!(message.contains(path), "{identifier}/{version}: {message}");
    }
}

#[tokio::test]
async fn request_metadata_has_at_most_sixteen_pairs() {
    let h = start().await;
    let metadata: HashMap<String, String> = (0..17)
        .map(|i| (format!("k{i}"), "v".to_string()))
        .collect();
    let message = validation_error(
        h.converse(HAIKU_3)
            .set_request_metadata(Some(metadata))
            .messages(user("hi")),
    )
    .await;
    assert!(
        message.contains("'requestMetadata'") && message.contains("less than or equal to 16"),
        "{message}"
    );
    let ok: HashMap<String, String> = [("team".to_string(), "gateway tests".to_string())].into();
    assert!(
        h.converse(HAIKU_3)
            .set_request_metadata(Some(ok))
            .messages(user("hi"))
            .send()
            .await
            .is_ok()
    );
}

/// Bedrock ignores `promptVariables` without a prompt ARN (botocore: "This field is ignored if
/// you don't specify a prompt resource in the modelId field").
#[tokio::test]
async fn prompt_variables_without_a_prompt_resource_are_ignored() {
    let h = start().await;
    let output = h
        .converse(HAIKU_3)
        .prompt_variables("topic", PromptVariableValues::Text("cats".into()))
        .messages(user("hi"))
        .send()
        .await
        .expect("ignored, not refused");
    assert_eq!(reply_text(&output), "hi");
    assert!(
        h.converse("arn:aws:bedrock:us-east-1:111122223333:prompt/PROMPT12345:1")
            .prompt_variables("topic", PromptVariableValues::Text("cats".into()))
            .send()
            .await
            .is_ok()
    );
}

/// Members botocore leaves optional: `document.format`, `performanceConfig.latency`, the
/// guardrail identifier and version; and Bedrock's own tool-use id pattern (`.` and `:`
/// allowed) for models other than Claude.
#[tokio::test]
async fn optional_members_and_smithy_tool_use_ids_are_accepted() {
    let body = |extra: Value| {
        let mut body = json!({"messages": [{"role": "user", "content": [
            {"text": "read"},
            {"document": {"name": "notes", "source": {"bytes": "cGxhaW4="}}}]}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let response = raw_converse(NOVA_PRO, body(json!({"performanceConfig": {}}))).await;
    assert_eq!(response.status, 200, "{}", response.message());
    let response = raw_converse(
        NOVA_PRO,
        body(json!({"guardrailConfig": {"trace": "disabled"}})),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.message());

    let history = |id: &str| {
        json!({"toolConfig": {"tools": [{"toolSpec": {"name": "get_weather",
                "inputSchema": {"json": {"type": "object"}}}}]},
            "messages": [
                {"role": "user", "content": [{"text": "weather"}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": id, "name": "get_weather", "input": {}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": id, "content": [{"text": "rain"}]}}]}]})
    };
    let response = raw_converse(NOVA_PRO, history("functions.get_weather:0")).await;
    assert_eq!(response.status, 200, "{}", response.message());
    let response = raw_converse(HAIKU_3, history("functions.get_weather:0")).await;
    assert_eq!(response.status, 400);
    assert!(
        response.message().contains("tool_use.id"),
        "{}",
        response.message()
    );
}

fn schema_format(schema: &str) -> OutputConfig {
    OutputConfig::builder()
        .text_format(
            OutputFormat::builder()
                .r#type(OutputFormatType::JsonSchema)
                .structure(OutputFormatStructure::JsonSchema(
                    JsonSchemaDefinition::builder()
                        .schema(schema)
                        .build()
                        .unwrap(),
                ))
                .build()
                .unwrap(),
        )
        .build()
}

#[tokio::test]
async fn structured_output_needs_model_support_and_a_closed_schema() {
    let h = start().await;
    let closed = r#"{"type":"object","properties":{},"additionalProperties":false}"#;
    let message = validation_error(
        h.converse(HAIKU_3_5)
            .output_config(schema_format(closed))
            .messages(user("hi")),
    )
    .await;
    assert_eq!(
        message,
        "This model doesn't support the outputConfig.textFormat field. Remove outputConfig.textFormat and try again."
    );
    let message = validation_error(
        h.converse(SONNET_4_5)
            .output_config(schema_format("{not json"))
            .messages(user("hi")),
    )
    .await;
    assert!(message.contains("isn't valid JSON"), "{message}");
    let message = validation_error(
        h.converse(SONNET_4_5)
            .output_config(schema_format(r#"{"type":"object","properties":{}}"#))
            .messages(user("hi")),
    )
    .await;
    assert!(
        message.contains("'additionalProperties' must be explicitly set to false"),
        "{message}"
    );
    let message = validation_error(
        h.converse(SONNET_4_5)
            .output_config(OutputConfig::builder().effort("high").build())
            .messages(user("hi")),
    )
    .await;
    assert!(message.contains("outputConfig.effort"), "{message}");
}

// ----- service tiers ------------------------------------------------------

fn tier(kind: ServiceTierType) -> ServiceTier {
    ServiceTier::builder().r#type(kind).build().unwrap()
}

#[tokio::test]
async fn service_tiers_depend_on_the_model() {
    let h = start().await;
    let gpt_oss = "openai.gpt-oss-20b-1:0";
    let claude = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    for kind in [
        ServiceTierType::Priority,
        ServiceTierType::Flex,
        ServiceTierType::Default,
    ] {
        h.converse(gpt_oss)
            .messages(user("hi"))
            .service_tier(tier(kind.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("gpt-oss {kind:?}: {e:?}"));
    }
    h.converse(claude)
        .messages(user("hi"))
        .service_tier(tier(ServiceTierType::Default))
        .send()
        .await
        .expect("every model serves the default tier");
    for kind in [ServiceTierType::Priority, ServiceTierType::Flex] {
        let message = validation_error(
            h.converse(claude)
                .messages(user("hi"))
                .service_tier(tier(kind)),
        )
        .await;
        assert_eq!(
            message,
            "The provided service tier is not supported for this model."
        );
    }
    let message = validation_error(
        h.converse(gpt_oss)
            .messages(user("hi"))
            .service_tier(tier(ServiceTierType::Reserved)),
    )
    .await;
    assert_eq!(message, "Reservation not found.");
}

// ----- cache TTL ----------------------------------------------------------

fn cache_point_ttl(ttl: CacheTtl) -> CachePointBlock {
    CachePointBlock::builder()
        .r#type(CachePointType::Default)
        .ttl(ttl)
        .build()
        .unwrap()
}

#[tokio::test]
async fn one_hour_cache_only_on_claude_4_5_and_never_after_a_shorter_ttl() {
    let h = start().await;
    let send = |model: &'static str, first: Option<CacheTtl>, second: CacheTtl| {
        let first_point = match first {
            Some(ttl) => cache_point_ttl(ttl),
            None => cache_point(),
        };
        h.converse(model)
            .system(SystemContentBlock::Text("rules".into()))
            .system(SystemContentBlock::CachePoint(first_point))
            .messages(user_blocks(vec![
                text("question"),
                ContentBlock::CachePoint(cache_point_ttl(second)),
            ]))
    };
    let claude_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let claude_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
    send(claude_45, Some(CacheTtl::OneHour), CacheTtl::OneHour)
        .send()
        .await
        .expect("1h on Claude 4.5");
    send(claude_45, Some(CacheTtl::OneHour), CacheTtl::FiveMinutes)
        .send()
        .await
        .expect("1h then 5m");
    let message = validation_error(send(claude_45, None, CacheTtl::OneHour)).await;
    assert!(
        message.contains("can't come after one with a shorter TTL"),
        "{message}"
    );
    let message = validation_error(send(claude_37, None, CacheTtl::OneHour)).await;
    assert!(
        message.contains("doesn't support the 1h cache TTL"),
        "{message}"
    );
    send(
        claude_37,
        Some(CacheTtl::FiveMinutes),
        CacheTtl::FiveMinutes,
    )
    .send()
    .await
    .expect("5m anywhere");
}
