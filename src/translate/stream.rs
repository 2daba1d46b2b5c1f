//! The stream path: ConverseStream events -> `chat.completion.chunk`s, as one explicit state
//! machine that reuses the non-stream mappings (tools, reasoning, usage, finish reasons).
//!
//! States: `AwaitingStart` -> `Streaming` (after messageStart) -> `Stopped` (after messageStop;
//! Bedrock still sends the metadata event with usage and trace) -> `Finished` (the final chunk
//! was emitted). The final chunk waits for the metadata so that it can name the model a prompt
//! router chose, and the usage chunk follows it when the client asked for usage.
//!
//! Reasoning goes to `delta.reasoning_content`, to the content in `<think>` tags, or to both
//! (`REASONING_OUTPUT`, see [`ThinkTagStream`]); an open tag is closed before any other output.
//!
//! A stream that fails part way can end with [`ChunkStream::fail`]: a last chunk whose content
//! names the error, for chat UIs that read only `choices` (`STREAM_ERROR_AS_CONTENT`).
//!
//! Tool calls are numbered from 0 in the order they start: Bedrock's `contentBlockIndex`
//! counts every block (reasoning, text, tools), so it is not OpenAI's tool-call `index`.
//!
//! Over ~450 lines only with its tests (the state machine is ~250): one test per event
//! sequence Bedrock sends, kept beside the machine they pin down.

use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockStart, ConversationRole, ConverseStreamOutput,
    MessageStartEvent, ReasoningContentBlockDelta,
};

use crate::openai::chat::{ChatChunk, ChunkChoice, Delta, Usage};
use crate::translate::ResponseContext;
use crate::translate::citations::StreamCitations;
use crate::translate::prompt_router::invoked_model_of_stream;
use crate::translate::reasoning::{ReasoningOutput, ThinkTagStream, reasoning_delta};
use crate::translate::structured::RESPONSE_TOOL;
use crate::translate::tools::{is_internal_tool, tool_call_fragment, tool_call_start};
use crate::translate::usage::{reply_finish_reason, usage_from_bedrock};

/// `finish_reason` of the note chunk of a failed stream: `stop`, one of OpenAI's values (typed
/// clients refuse others), which chat UIs read as "the reply ends here"; `length` would invite
/// an automatic "continue", `content_filter` would blame a filter. The error event that follows
/// tells SDKs the stream failed.
pub const FAILED_STREAM_FINISH_REASON: &str = "stop";

/// The note a failed stream's last chunk carries, for UIs that show only the content.
pub fn error_note(message: &str) -> String {
    format!("\n\n[Error: {message}]")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitingStart,
    Streaming,
    Stopped,
    Finished,
}

/// A tool-use block in flight.
#[derive(Debug)]
struct OpenTool {
    block: i32,
    /// OpenAI's tool-call index; `None` for the gateway's own tools.
    index: Option<u32>,
    /// The structured-output tool: its arguments are the answer, streamed as content.
    as_content: bool,
    sent_arguments: bool,
}

/// Turns one ConverseStream into chat completion chunks.
#[derive(Debug)]
pub struct ChunkStream {
    ctx: ResponseContext,
    include_usage: bool,
    phase: Phase,
    tools: Vec<OpenTool>,
    next_tool_index: u32,
    finish_reason: Option<&'static str>,
    usage: Option<Usage>,
    invoked_model: Option<String>,
    /// Reasoning text of the block in flight, sent again with its signature.
    reasoning_text: String,
    /// Content offsets and citation deltas, for `annotations`.
    citations: StreamCitations,
    /// Where reasoning goes (`REASONING_OUTPUT`), and whether a `<think>` tag is open.
    think: ThinkTagStream,
}

impl ChunkStream {
    pub fn new(ctx: ResponseContext, include_usage: bool) -> Self {
        ChunkStream {
            ctx,
            include_usage,
            phase: Phase::AwaitingStart,
            tools: Vec::new(),
            next_tool_index: 0,
            finish_reason: None,
            usage: None,
            invoked_model: None,
            reasoning_text: String::new(),
            citations: StreamCitations::default(),
            think: ThinkTagStream::new(ReasoningOutput::ReasoningContent),
        }
    }

    /// Puts reasoning where `mode` says (`delta.reasoning_content` unless told otherwise).
    pub fn with_reasoning_output(mut self, mode: ReasoningOutput) -> Self {
        self.think = ThinkTagStream::new(mode);
        self
    }

    /// Whether the final chunk has been produced.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// One Bedrock event -> the chunks it yields (often one, sometimes none).
    pub fn on_event(&mut self, event: &ConverseStreamOutput) -> Vec<ChatChunk> {
        if self.phase == Phase::Finished {
            return Vec::new();
        }
        let mut chunks = Vec::new();
        if self.phase == Phase::AwaitingStart {
            // The first chunk carries the role, whatever event Bedrock led with.
            chunks.push(self.chunk(
                Delta {
                    role: Some("assistant".into()),
                    content: Some(String::new()),
                    ..Delta::default()
                },
                None,
            ));
            self.phase = Phase::Streaming;
        }
        match event {
            ConverseStreamOutput::MessageStart(_) => {}
            ConverseStreamOutput::ContentBlockStart(start) => {
                if let Some(ContentBlockStart::ToolUse(tool)) = &start.start {
                    let index = (!is_internal_tool(&tool.name)).then(|| {
                        self.next_tool_index += 1;
                        self.next_tool_index - 1
                    });
                    self.tools.push(OpenTool {
                        block: start.content_block_index,
                        index,
                        as_content: tool.name == RESPONSE_TOOL,
                        sent_arguments: false,
                    });
                    if let Some(index) = index {
                        self.close_think(&mut chunks);
                        let mut start = tool_call_start(tool, index);
                        start.function.name = start
                            .function
                            .name
                            .map(|name| self.ctx.tool_names.original(&name));
                        chunks.push(self.tool_chunk(start));
                    }
                }
            }
            ConverseStreamOutput::ContentBlockDelta(event) => match &event.delta {
                Some(ContentBlockDelta::Text(text)) if !text.is_empty() => {
                    self.close_think(&mut chunks);
                    self.citations.on_text(event.content_block_index, text);
                    chunks.push(self.text_chunk(text.clone()));
                }
                Some(ContentBlockDelta::Citation(citation)) => {
                    self.citations
                        .on_citation(event.content_block_index, citation);
                }
                Some(ContentBlockDelta::ToolUse(tool)) if !tool.input.is_empty() => {
                    if let Some(open) = self
                        .tools
                        .iter_mut()
                        .find(|t| t.block == event.content_block_index)
                    {
                        open.sent_arguments = true;
                        let (index, as_content) = (open.index, open.as_content);
                        if let Some(index) = index {
                            chunks.push(
                                self.tool_chunk(tool_call_fragment(index, tool.input.clone())),
                            );
                        } else if as_content {
                            self.close_think(&mut chunks);
                            chunks.push(self.text_chunk(tool.input.clone()));
                        }
                    }
                }
                Some(ContentBlockDelta::ReasoningContent(reasoning)) => {
                    if let ReasoningContentBlockDelta::Text(text) = reasoning {
                        self.reasoning_text.push_str(text);
                    }
                    if let Some(delta) = reasoning_delta(reasoning, &self.reasoning_text) {
                        let delta = self.think.reasoning(delta);
                        chunks.push(self.chunk(delta, None));
                    }
                }
                _ => {}
            },
            ConverseStreamOutput::ContentBlockStop(stop) => {
                self.reasoning_text.clear();
                if let Some(annotations) = self.citations.on_block_stop(stop.content_block_index) {
                    let delta = Delta {
                        annotations: Some(annotations),
                        ..Delta::default()
                    };
                    chunks.push(self.chunk(delta, None));
                }
                if let Some(open) = self
                    .tools
                    .iter()
                    .find(|t| t.block == stop.content_block_index)
                {
                    // A call without arguments still ends as "{}", never as an empty string.
                    match (open.index, open.as_content, open.sent_arguments) {
                        (Some(index), _, false) => {
                            chunks.push(self.tool_chunk(tool_call_fragment(index, "{}".into())))
                        }
                        (None, true, false) => {
                            if let Some(close) = self.think.close() {
                                chunks.push(self.text_chunk(close));
                            }
                            chunks.push(self.text_chunk("{}".into()))
                        }
                        _ => {}
                    }
                }
            }
            ConverseStreamOutput::MessageStop(stop) => {
                self.finish_reason = Some(reply_finish_reason(
                    &stop.stop_reason,
                    self.next_tool_index > 0,
                ));
                self.phase = Phase::Stopped;
            }
            ConverseStreamOutput::Metadata(metadata) => {
                self.usage = metadata.usage.as_ref().map(usage_from_bedrock);
                self.invoked_model = invoked_model_of_stream(metadata.trace.as_ref());
            }
            _ => {}
        }
        chunks
    }

    /// The end of Bedrock's stream -> the final chunk, and the usage chunk if asked for.
    pub fn finish(&mut self) -> Vec<ChatChunk> {
        if self.phase == Phase::Finished {
            return Vec::new();
        }
        if let Some(model) = self.invoked_model.clone() {
            self.ctx.model = model;
        }
        let mut chunks = self.wind_up();
        let reason = self.finish_reason.unwrap_or("stop");
        chunks.push(self.chunk(Delta::default(), Some(reason)));
        if self.include_usage {
            let mut usage_chunk = self.chunk(Delta::default(), None);
            usage_chunk.choices.clear();
            usage_chunk.usage = Some(self.usage.clone().unwrap_or_default());
            chunks.push(usage_chunk);
        }
        self.phase = Phase::Finished;
        chunks
    }

    /// A stream that failed after it started -> its last chunks: the role chunk if nothing was
    /// sent yet, the closing `<think>` tag if one is open, and `note` as content with
    /// `finish_reason` [`FAILED_STREAM_FINISH_REASON`]. The caller sends the error event after.
    pub fn fail(&mut self, note: String) -> Vec<ChatChunk> {
        if self.phase == Phase::Finished {
            return Vec::new();
        }
        let mut chunks = self.wind_up();
        chunks.push(self.chunk(
            Delta {
                content: Some(note),
                ..Delta::default()
            },
            Some(FAILED_STREAM_FINISH_REASON),
        ));
        self.phase = Phase::Finished;
        chunks
    }

    /// What must come before a stream's last chunk: the role chunk if nothing was sent yet,
    /// and the closing `<think>` tag if one is open.
    fn wind_up(&mut self) -> Vec<ChatChunk> {
        let mut chunks = Vec::new();
        if self.phase == Phase::AwaitingStart {
            chunks.extend(
                self.on_event(&ConverseStreamOutput::MessageStart(
                    MessageStartEvent::builder()
                        .role(ConversationRole::Assistant)
                        .build()
                        .expect("role is set"),
                )),
            );
        }
        self.close_think(&mut chunks);
        chunks
    }

    fn close_think(&mut self, chunks: &mut Vec<ChatChunk>) {
        if let Some(close) = self.think.close() {
            chunks.push(self.text_chunk(close));
        }
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<&str>) -> ChatChunk {
        ChatChunk {
            id: self.ctx.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.ctx.created,
            model: self.ctx.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason: finish_reason.map(str::to_string),
                logprobs: None,
            }],
            usage: None,
        }
    }

    fn text_chunk(&self, text: String) -> ChatChunk {
        self.chunk(
            Delta {
                content: Some(text),
                ..Delta::default()
            },
            None,
        )
    }

    fn tool_chunk(&self, call: crate::openai::chat::ToolCallDelta) -> ChatChunk {
        self.chunk(
            Delta {
                tool_calls: Some(vec![call]),
                ..Delta::default()
            },
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::tools::PLACEHOLDER_TOOL;
    use aws_sdk_bedrockruntime::types::{
        ContentBlockDeltaEvent, ContentBlockStartEvent, ContentBlockStopEvent,
        ConverseStreamMetadataEvent, ConverseStreamTrace, MessageStopEvent, PromptRouterTrace,
        StopReason, TokenUsage, ToolUseBlockDelta, ToolUseBlockStart,
    };

    fn ctx() -> ResponseContext {
        ResponseContext {
            id: "chatcmpl-1".into(),
            created: 1,
            model: "router".into(),
            tool_names: Default::default(),
        }
    }

    fn delta_event(index: i32, delta: ContentBlockDelta) -> ConverseStreamOutput {
        ConverseStreamOutput::ContentBlockDelta(
            ContentBlockDeltaEvent::builder()
                .content_block_index(index)
                .delta(delta)
                .build()
                .unwrap(),
        )
    }

    fn tool_start(index: i32, id: &str, name: &str) -> ConverseStreamOutput {
        ConverseStreamOutput::ContentBlockStart(
            ContentBlockStartEvent::builder()
                .content_block_index(index)
                .start(ContentBlockStart::ToolUse(
                    ToolUseBlockStart::builder()
                        .tool_use_id(id)
                        .name(name)
                        .build()
                        .unwrap(),
                ))
                .build()
                .unwrap(),
        )
    }

    fn stop(index: i32) -> ConverseStreamOutput {
        ConverseStreamOutput::ContentBlockStop(
            ContentBlockStopEvent::builder()
                .content_block_index(index)
                .build()
                .unwrap(),
        )
    }

    fn message_stop(reason: StopReason) -> ConverseStreamOutput {
        ConverseStreamOutput::MessageStop(
            MessageStopEvent::builder()
                .stop_reason(reason)
                .build()
                .unwrap(),
        )
    }

    #[test]
    fn text_stream_starts_with_role_and_ends_with_usage() {
        let mut s = ChunkStream::new(ctx(), true);
        let mut chunks = s.on_event(&ConverseStreamOutput::MessageStart(
            MessageStartEvent::builder()
                .role(ConversationRole::Assistant)
                .build()
                .unwrap(),
        ));
        chunks.extend(s.on_event(&delta_event(0, ContentBlockDelta::Text("Hi".into()))));
        chunks.extend(s.on_event(&stop(0)));
        chunks.extend(s.on_event(&message_stop(StopReason::MaxTokens)));
        chunks.extend(
            s.on_event(&ConverseStreamOutput::Metadata(
                ConverseStreamMetadataEvent::builder()
                    .usage(
                        TokenUsage::builder()
                            .input_tokens(3)
                            .output_tokens(1)
                            .total_tokens(4)
                            .build()
                            .unwrap(),
                    )
                    .trace(
                        ConverseStreamTrace::builder()
                            .prompt_router(
                                PromptRouterTrace::builder()
                                    .invoked_model_id("claude")
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )),
        );
        chunks.extend(s.finish());
        assert_eq!(
            chunks[0].choices[0].delta.role.as_deref(),
            Some("assistant")
        );
        assert_eq!(chunks[1].choices[0].delta.content.as_deref(), Some("Hi"));
        let last_choice = &chunks[2];
        assert_eq!(
            last_choice.choices[0].finish_reason.as_deref(),
            Some("length")
        );
        assert_eq!(last_choice.model, "claude", "the router's pick is reported");
        let usage = &chunks[3];
        assert!(usage.choices.is_empty());
        assert_eq!(usage.usage.as_ref().unwrap().total_tokens, 4);
        assert!(s.finish().is_empty());
    }

    #[test]
    fn tool_indexes_count_tool_calls_not_blocks() {
        let mut s = ChunkStream::new(ctx(), false);
        let mut chunks = Vec::new();
        chunks.extend(s.on_event(&delta_event(0, ContentBlockDelta::Text("Calling.".into()))));
        chunks.extend(s.on_event(&stop(0)));
        chunks.extend(s.on_event(&tool_start(1, "t1", "a")));
        chunks.extend(
            s.on_event(&delta_event(
                1,
                ContentBlockDelta::ToolUse(
                    ToolUseBlockDelta::builder()
                        .input("{\"x\":")
                        .build()
                        .unwrap(),
                ),
            )),
        );
        chunks.extend(s.on_event(&delta_event(
            1,
            ContentBlockDelta::ToolUse(ToolUseBlockDelta::builder().input("1}").build().unwrap()),
        )));
        chunks.extend(s.on_event(&stop(1)));
        chunks.extend(s.on_event(&tool_start(2, "t2", "b")));
        chunks.extend(s.on_event(&stop(2)));
        chunks.extend(s.on_event(&message_stop(StopReason::ToolUse)));
        chunks.extend(s.finish());
        let calls: Vec<_> = chunks
            .iter()
            .filter_map(|c| c.choices.first()?.delta.tool_calls.clone())
            .flatten()
            .collect();
        assert_eq!(calls[0].index, 0);
        assert_eq!(calls[0].id.as_deref(), Some("t1"));
        assert_eq!(calls[0].function.arguments, "");
        let args_0: String = calls
            .iter()
            .filter(|c| c.index == 0)
            .map(|c| c.function.arguments.as_str())
            .collect();
        assert_eq!(args_0, "{\"x\":1}");
        let args_1: String = calls
            .iter()
            .filter(|c| c.index == 1)
            .map(|c| c.function.arguments.as_str())
            .collect();
        assert_eq!(args_1, "{}", "an empty input ends as {{}}");
        assert_eq!(
            chunks.last().unwrap().choices[0].finish_reason.as_deref(),
            Some("tool_calls")
        );
    }

    #[test]
    fn the_structured_output_tool_streams_as_content() {
        let mut s = ChunkStream::new(ctx(), false);
        let mut chunks = s.on_event(&tool_start(0, "t", RESPONSE_TOOL));
        chunks.extend(
            s.on_event(&delta_event(
                0,
                ContentBlockDelta::ToolUse(
                    ToolUseBlockDelta::builder()
                        .input("{\"a\":")
                        .build()
                        .unwrap(),
                ),
            )),
        );
        chunks.extend(s.on_event(&delta_event(
            0,
            ContentBlockDelta::ToolUse(ToolUseBlockDelta::builder().input("1}").build().unwrap()),
        )));
        chunks.extend(s.on_event(&stop(0)));
        chunks.extend(s.on_event(&message_stop(StopReason::ToolUse)));
        chunks.extend(s.finish());
        let text: String = chunks
            .iter()
            .filter_map(|c| c.choices[0].delta.content.clone())
            .collect();
        assert_eq!(text, "{\"a\":1}");
        assert_eq!(
            chunks.last().unwrap().choices[0].finish_reason.as_deref(),
            Some("stop")
        );
        let mut s = ChunkStream::new(ctx(), false);
        let mut chunks = s.on_event(&tool_start(0, "t", RESPONSE_TOOL));
        chunks.extend(s.on_event(&stop(0)));
        let text: String = chunks
            .iter()
            .filter_map(|c| c.choices[0].delta.content.clone())
            .collect();
        assert_eq!(text, "{}", "an empty answer is still JSON");
    }

    #[test]
    fn placeholder_tool_is_hidden() {
        let mut s = ChunkStream::new(ctx(), false);
        let mut chunks = s.on_event(&tool_start(0, "t", PLACEHOLDER_TOOL));
        chunks.extend(s.on_event(&stop(0)));
        chunks.extend(s.on_event(&message_stop(StopReason::ToolUse)));
        chunks.extend(s.finish());
        assert!(
            chunks
                .iter()
                .all(|c| c.choices.iter().all(|ch| ch.delta.tool_calls.is_none()))
        );
        assert_eq!(
            chunks.last().unwrap().choices[0].finish_reason.as_deref(),
            Some("stop")
        );
    }

    fn reasoning(text: &str) -> ConverseStreamOutput {
        delta_event(
            0,
            ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text(text.into())),
        )
    }

    #[test]
    fn think_tags_wrap_streamed_reasoning_before_the_answer() {
        let mut s =
            ChunkStream::new(ctx(), false).with_reasoning_output(ReasoningOutput::ThinkTags);
        let mut chunks = s.on_event(&reasoning("Let me "));
        chunks.extend(s.on_event(&reasoning("think.")));
        chunks.extend(s.on_event(&stop(0)));
        chunks.extend(s.on_event(&delta_event(1, ContentBlockDelta::Text("Hi".into()))));
        chunks.extend(s.on_event(&message_stop(StopReason::EndTurn)));
        chunks.extend(s.finish());
        let text: String = chunks
            .iter()
            .filter_map(|c| c.choices[0].delta.content.clone())
            .collect();
        assert_eq!(text, "<think>\nLet me think.\n</think>\n\nHi");
        assert!(
            chunks
                .iter()
                .all(|c| c.choices[0].delta.reasoning_content.is_none())
        );
        // Reasoning only, then the end: the tag still closes.
        let mut s = ChunkStream::new(ctx(), false).with_reasoning_output(ReasoningOutput::Both);
        let mut chunks = s.on_event(&reasoning("hmm"));
        chunks.extend(s.finish());
        let text: String = chunks
            .iter()
            .filter_map(|c| c.choices[0].delta.content.clone())
            .collect();
        assert_eq!(text, "<think>\nhmm\n</think>\n\n");
        assert!(
            chunks
                .iter()
                .any(|c| c.choices[0].delta.reasoning_content.as_deref() == Some("hmm"))
        );
    }

    #[test]
    fn a_failure_ends_with_a_note_chunk() {
        let mut s = ChunkStream::new(ctx(), true).with_reasoning_output(ReasoningOutput::ThinkTags);
        let mut chunks = s.on_event(&reasoning("hmm"));
        chunks.extend(s.fail(error_note("Too many requests.")));
        let last = chunks.last().unwrap();
        assert_eq!(
            last.choices[0].delta.content.as_deref(),
            Some("\n\n[Error: Too many requests.]")
        );
        assert_eq!(last.choices[0].finish_reason.as_deref(), Some("stop"));
        let text: String = chunks
            .iter()
            .filter_map(|c| c.choices[0].delta.content.clone())
            .collect();
        assert!(text.contains("</think>"), "{text}");
        assert!(s.finish().is_empty() && s.fail("again".into()).is_empty());
        // Failing before anything was sent still starts with the role.
        let mut s = ChunkStream::new(ctx(), false);
        let chunks = s.fail(error_note("x"));
        assert_eq!(
            chunks[0].choices[0].delta.role.as_deref(),
            Some("assistant")
        );
        assert_eq!(chunks.len(), 2);
    }
}
