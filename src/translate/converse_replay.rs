//! The Converse-to-stream replay: a whole Converse answer as the event sequence ConverseStream
//! would have sent. Some models cannot stream tool use; for them the gateway calls Converse and
//! replays the answer through the same stream state machine (`stream.rs`), so the client still
//! gets a stream and both paths share one translation.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    Citation, CitationSourceContentDelta, CitationsDelta, ContentBlock, ContentBlockDelta,
    ContentBlockDeltaEvent, ContentBlockStart, ContentBlockStartEvent, ContentBlockStopEvent,
    ConversationRole, ConverseStreamMetadataEvent, ConverseStreamOutput, ConverseStreamTrace,
    MessageStartEvent, MessageStopEvent, ReasoningContentBlock, ReasoningContentBlockDelta,
    StopReason, ToolUseBlockDelta, ToolUseBlockStart,
};

use crate::translate::json_doc::to_value;
use crate::translate::reply_blocks;

/// A whole Converse answer as the event sequence ConverseStream would have sent, for models
/// that cannot stream tool use: the client still gets a stream, through the same state machine.
pub fn replay_as_events(output: &ConverseOutput) -> Vec<ConverseStreamOutput> {
    let mut events = vec![ConverseStreamOutput::MessageStart(
        MessageStartEvent::builder()
            .role(ConversationRole::Assistant)
            .build()
            .expect("role is set"),
    )];
    for (i, block) in reply_blocks(output).iter().enumerate() {
        let index = i32::try_from(i).unwrap_or(i32::MAX);
        let delta = |delta| {
            ConverseStreamOutput::ContentBlockDelta(
                ContentBlockDeltaEvent::builder()
                    .content_block_index(index)
                    .delta(delta)
                    .build()
                    .expect("fields set"),
            )
        };
        match block {
            ContentBlock::Text(text) => events.push(delta(ContentBlockDelta::Text(text.clone()))),
            // Cited text: its text, then one `citation` delta per citation, as ConverseStream
            // sends them (botocore `ContentBlockDelta.citation`).
            ContentBlock::CitationsContent(cited) => {
                for part in cited.content() {
                    if let Ok(text) = part.as_text() {
                        events.push(delta(ContentBlockDelta::Text(text.clone())));
                    }
                }
                for citation in cited.citations() {
                    events.push(delta(ContentBlockDelta::Citation(citations_delta(
                        citation,
                    ))));
                }
            }
            ContentBlock::ToolUse(tool) => {
                events.push(ConverseStreamOutput::ContentBlockStart(
                    ContentBlockStartEvent::builder()
                        .content_block_index(index)
                        .start(ContentBlockStart::ToolUse(
                            ToolUseBlockStart::builder()
                                .tool_use_id(&tool.tool_use_id)
                                .name(&tool.name)
                                .build()
                                .expect("fields set"),
                        ))
                        .build()
                        .expect("fields set"),
                ));
                events.push(delta(ContentBlockDelta::ToolUse(
                    ToolUseBlockDelta::builder()
                        .input(to_value(&tool.input).to_string())
                        .build()
                        .expect("input set"),
                )));
            }
            ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(text)) => {
                events.push(delta(ContentBlockDelta::ReasoningContent(
                    ReasoningContentBlockDelta::Text(text.text.clone()),
                )));
                if let Some(signature) = &text.signature {
                    events.push(delta(ContentBlockDelta::ReasoningContent(
                        ReasoningContentBlockDelta::Signature(signature.clone()),
                    )));
                }
            }
            ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(blob)) => {
                events.push(delta(ContentBlockDelta::ReasoningContent(
                    ReasoningContentBlockDelta::RedactedContent(blob.clone()),
                )));
            }
            _ => {}
        }
        events.push(ConverseStreamOutput::ContentBlockStop(
            ContentBlockStopEvent::builder()
                .content_block_index(index)
                .build()
                .expect("index set"),
        ));
    }
    events.push(ConverseStreamOutput::MessageStop(
        MessageStopEvent::builder()
            .stop_reason(output.stop_reason.clone())
            .build()
            .unwrap_or_else(|_| {
                MessageStopEvent::builder()
                    .stop_reason(StopReason::EndTurn)
                    .build()
                    .expect("set")
            }),
    ));
    let trace = output
        .trace
        .as_ref()
        .and_then(|t| t.prompt_router.clone())
        .map(|router| ConverseStreamTrace::builder().prompt_router(router).build());
    events.push(ConverseStreamOutput::Metadata(
        ConverseStreamMetadataEvent::builder()
            .set_usage(output.usage.clone())
            .set_trace(trace)
            .build(),
    ));
    events
}

/// A reply's citation as the stream delta carrying the same facts.
fn citations_delta(citation: &Citation) -> CitationsDelta {
    let source_content = citation
        .source_content()
        .iter()
        .filter_map(|c| c.as_text().ok())
        .map(|text| CitationSourceContentDelta::builder().text(text).build())
        .collect();
    CitationsDelta::builder()
        .set_title(citation.title.clone())
        .set_source(citation.source.clone())
        .set_source_content(Some(source_content))
        .set_location(citation.location.clone())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::stream::ChunkStream;
    use crate::translate::{ResponseContext, chat_completion};
    use aws_sdk_bedrockruntime::types::{
        ConverseOutput as Output, ConverseTrace, Message, PromptRouterTrace, TokenUsage,
        ToolUseBlock,
    };
    use aws_smithy_types::Document;

    /// A replayed answer streams the same text, tool call, finish reason and model as the
    /// non-stream completion of that answer.
    #[test]
    fn a_replayed_answer_streams_what_the_completion_says() {
        let tool = ToolUseBlock::builder()
            .tool_use_id("t1")
            .name("weather")
            .input(Document::Object(
                [("city".to_string(), Document::String("Paris".into()))].into(),
            ))
            .build()
            .unwrap();
        let output = ConverseOutput::builder()
            .output(Output::Message(
                Message::builder()
                    .role(ConversationRole::Assistant)
                    .content(ContentBlock::Text("Let me look.".into()))
                    .content(ContentBlock::ToolUse(tool))
                    .build()
                    .unwrap(),
            ))
            .stop_reason(StopReason::ToolUse)
            .usage(
                TokenUsage::builder()
                    .input_tokens(3)
                    .output_tokens(4)
                    .total_tokens(7)
                    .build()
                    .unwrap(),
            )
            .trace(
                ConverseTrace::builder()
                    .prompt_router(
                        PromptRouterTrace::builder()
                            .invoked_model_id("claude")
                            .build(),
                    )
                    .build(),
            )
            .build()
            .unwrap();
        let ctx = ResponseContext {
            id: "chatcmpl-1".into(),
            created: 1,
            model: "router".into(),
            tool_names: Default::default(),
        };
        let completion = chat_completion(&output, &ctx);

        let mut stream = ChunkStream::new(ctx, true);
        let mut chunks: Vec<_> = replay_as_events(&output)
            .iter()
            .flat_map(|event| stream.on_event(event))
            .collect();
        chunks.extend(stream.finish());
        let text: String = chunks
            .iter()
            .flat_map(|c| c.choices.iter())
            .filter_map(|c| c.delta.content.clone())
            .collect();
        let arguments: String = chunks
            .iter()
            .flat_map(|c| c.choices.iter())
            .flat_map(|c| c.delta.tool_calls.iter().flatten())
            .map(|call| call.function.arguments.clone())
            .collect();
        let final_chunk = &chunks[chunks.len() - 2];
        let message = &completion.choices[0].message;
        assert_eq!(Some(text), message.content);
        let call = &message.tool_calls.as_ref().unwrap()[0];
        assert_eq!(arguments, call.function.arguments);
        assert_eq!(
            final_chunk.choices[0].finish_reason,
            completion.choices[0].finish_reason
        );
        assert_eq!(final_chunk.model, completion.model);
        assert_eq!(completion.model, "claude");
        assert_eq!(
            chunks.last().unwrap().usage.as_ref().unwrap().total_tokens,
            completion.usage.total_tokens
        );
    }
}
