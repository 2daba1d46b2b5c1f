//! The Responses path: ConverseStream events -> Responses stream events, as one explicit state
//! machine; and, fed a replayed Converse answer, the non-stream Response object too, so item ids
//! and shapes are the same both ways.
//!
//! It drives the chat state machine ([`ChunkStream`]) for the shared mappings (tool-call
//! numbering, the gateway's own tools, reasoning signatures, usage, finish reasons) and turns
//! its deltas into output items. States: `Created` (nothing sent) -> `Open(item)` while an item
//! streams (a message, a reasoning item, or a tool call) -> `Idle` between items -> `Done`
//! after `response.completed` / `response.incomplete` / `response.failed`. Every event carries
//! `type` and a strictly increasing `sequence_number`.
//!
//! Reasoning is sent as reasoning *summary* events (`response.reasoning_summary_*`) holding
//! Bedrock's reasoning text, the events Codex and the SDKs display; Bedrock's signed blocks go
//! into the item's `encrypted_content` when `include` asks for `reasoning.encrypted_content`.
//!
//! Longer than ~450 lines only because its unit tests sit beside it; the machine is ~400.
//!
//! Longer than ~450 lines only because its unit tests live beside the code.

use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::openai::chat::{ChatChunk, ThinkingBlock, Usage};
use crate::responses::input::encode_reasoning;
use crate::responses::tools::Tools;
use crate::translate::ResponseContext;
use crate::translate::stream::ChunkStream;
use crate::translate::tool_names::ToolNames;

/// The item being streamed.
#[derive(Debug)]
enum Open {
    Message {
        text: String,
    },
    Reasoning {
        text: String,
        blocks: Vec<ThinkingBlock>,
    },
    Call {
        index: u32,
        call_id: String,
        name: String,
        arguments: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Created,
    Idle,
    Open,
    Done,
}

/// Turns one ConverseStream into Responses events and the final Response object.
pub struct ResponseStream {
    chunks: ChunkStream,
    /// The Response object so far (settings echoed, `output` filled at the end).
    response: Value,
    tools: Tools,
    include_encrypted: bool,
    phase: Phase,
    open: Option<(Open, String, usize)>,
    output: Vec<Value>,
    sequence: u64,
    next_item: u32,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    model: Option<String>,
}

/// Usage in the Responses shape.
pub fn responses_usage(usage: &Usage) -> Value {
    let details = usage.prompt_tokens_details.clone().unwrap_or_default();
    json!({
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": details.cached_tokens, "cache_write_tokens": details.cache_write_tokens},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.total_tokens,
    })
}

impl ResponseStream {
    /// `response` is the Response object's shell: id, created_at, model and echoed settings.
    /// `tool_names` gives the client's tool names back where Bedrock needed others.
    pub fn new(
        response: Value,
        tools: Tools,
        tool_names: ToolNames,
        include_encrypted: bool,
    ) -> Self {
        let ctx = ResponseContext {
            id: response["id"].as_str().unwrap_or_default().to_string(),
            created: response["created_at"].as_u64().unwrap_or(0),
            model: response["model"].as_str().unwrap_or_default().to_string(),
            tool_names,
        };
        ResponseStream {
            chunks: ChunkStream::new(ctx, true),
            response,
            tools,
            include_encrypted,
            phase: Phase::Created,
            open: None,
            output: Vec::new(),
            sequence: 0,
            next_item: 0,
            finish_reason: None,
            usage: None,
            model: None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// One Bedrock event -> the events it yields.
    pub fn on_event(&mut self, event: &ConverseStreamOutput) -> Vec<Value> {
        let mut out = self.start();
        if self.phase == Phase::Done {
            return out;
        }
        for chunk in self.chunks.on_event(event) {
            self.on_chunk(chunk, &mut out);
        }
        out
    }

    /// The end of Bedrock's stream -> the closing events and `response.completed` (or
    /// `.incomplete`).
    pub fn finish(&mut self) -> Vec<Value> {
        let mut out = self.start();
        if self.phase == Phase::Done {
            return out;
        }
        for chunk in self.chunks.finish() {
            self.on_chunk(chunk, &mut out);
        }
        self.close(&mut out);
        let response = self.final_response(None);
        let kind = if response["status"] == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        self.emit(&mut out, json!({"type": kind, "response": response}));
        self.phase = Phase::Done;
        out
    }

    /// A Bedrock failure mid-stream -> `error`, then `response.failed`.
    pub fn fail(&mut self, err: &ApiError) -> Vec<Value> {
        let mut out = self.start();
        if self.phase == Phase::Done {
            return out;
        }
        self.emit(
            &mut out,
            json!({"type": "error", "code": err.code, "message": err.message, "param": err.param}),
        );
        let response = self.final_response(Some(err));
        self.emit(
            &mut out,
            json!({"type": "response.failed", "response": response}),
        );
        self.phase = Phase::Done;
        out
    }

    /// The Response object as it stands (complete after [`finish`](Self::finish)).
    pub fn final_response(&self, error: Option<&ApiError>) -> Value {
        let mut response = self.response.clone();
        response["output"] = Value::Array(self.output.clone());
        if let Some(model) = &self.model {
            response["model"] = Value::String(model.clone());
        }
        if let Some(err) = error {
            response["status"] = json!("failed");
            response["error"] = json!({
                "code": err.code.clone().unwrap_or_else(|| "server_error".into()),
                "message": err.message,
            });
            return response;
        }
        let incomplete = match self.finish_reason.as_deref() {
            Some("length") => Some("max_output_tokens"),
            Some("content_filter") => Some("content_filter"),
            _ => None,
        };
        response["status"] = json!(if incomplete.is_some() {
            "incomplete"
        } else {
            "completed"
        });
        response["incomplete_details"] = match incomplete {
            Some(reason) => json!({"reason": reason}),
            None => Value::Null,
        };
        response["usage"] = responses_usage(&self.usage.clone().unwrap_or_default());
        response
    }

    fn emit(&mut self, out: &mut Vec<Value>, mut event: Value) {
        event["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        out.push(event);
    }

    fn start(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        if self.phase == Phase::Created {
            let mut response = self.response.clone();
            response["status"] = json!("in_progress");
            response["output"] = json!([]);
            self.emit(
                &mut out,
                json!({"type": "response.created", "response": response.clone()}),
            );
            self.emit(
                &mut out,
                json!({"type": "response.in_progress", "response": response}),
            );
            self.phase = Phase::Idle;
        }
        out
    }

    fn item_id(&mut self, prefix: &str) -> String {
        self.next_item += 1;
        let base = self.response["id"]
            .as_str()
            .unwrap_or("resp_")
            .trim_start_matches("resp_");
        format!("{prefix}_{base}{:03}", self.next_item)
    }

    fn on_chunk(&mut self, chunk: ChatChunk, out: &mut Vec<Value>) {
        self.model = Some(chunk.model.clone());
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage);
        }
        let Some(choice) = chunk.choices.into_iter().next() else {
            return;
        };
        if let Some(reason) = choice.finish_reason {
            self.finish_reason = Some(reason);
        }
        let delta = choice.delta;
        if let Some(text) = delta.reasoning_content.filter(|t| !t.is_empty()) {
            self.reasoning(out, Some(text), Vec::new());
        }
        if let Some(blocks) = delta.thinking_blocks {
            self.reasoning(out, None, blocks);
        }
        if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
            if !matches!(self.open, Some((Open::Message { .. }, _, _))) {
                self.close(out);
                let id = self.item_id("msg");
                let index = self.output.len();
                self.emit(out, json!({"type": "response.output_item.added", "output_index": index,
                    "item": {"id": id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}}));
                self.emit(out, json!({"type": "response.content_part.added", "item_id": id, "output_index": index,
                    "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}));
                self.open = Some((
                    Open::Message {
                        text: String::new(),
                    },
                    id,
                    index,
                ));
                self.phase = Phase::Open;
            }
            if let Some((Open::Message { text: all }, id, index)) = &mut self.open {
                all.push_str(&text);
                let (id, index) = (id.clone(), *index);
                self.emit(out, json!({"type": "response.output_text.delta", "item_id": id, "output_index": index,
                    "content_index": 0, "delta": text, "logprobs": []}));
            }
        }
        for call in delta.tool_calls.into_iter().flatten() {
            if let Some(call_id) = call.id {
                self.close(out);
                let name = call.function.name.unwrap_or_default();
                let id = self.item_id("fc");
                let index = self.output.len();
                let mut item = self.tools.call_item(&call_id, &name, "");
                item["id"] = json!(id);
                if item["type"] == "function_call" {
                    item["status"] = json!("in_progress");
                }
                self.emit(out, json!({"type": "response.output_item.added", "output_index": index, "item": item}));
                self.open = Some((
                    Open::Call {
                        index: call.index,
                        call_id,
                        name,
                        arguments: String::new(),
                    },
                    id,
                    index,
                ));
                self.phase = Phase::Open;
            }
            let fragment = call.function.arguments;
            if fragment.is_empty() {
                continue;
            }
            if let Some((
                Open::Call {
                    index,
                    name,
                    arguments,
                    ..
                },
                id,
                output_index,
            )) = &mut self.open
                && *index == call.index
            {
                arguments.push_str(&fragment);
                let custom = self.tools.is_custom(name);
                let (id, output_index) = (id.clone(), *output_index);
                // A custom tool's input is one string inside Bedrock's JSON: sent whole at the end.
                if !custom {
                    self.emit(
                        out,
                        json!({"type": "response.function_call_arguments.delta",
                        "item_id": id, "output_index": output_index, "delta": fragment}),
                    );
                }
            }
        }
    }

    fn reasoning(
        &mut self,
        out: &mut Vec<Value>,
        text: Option<String>,
        blocks: Vec<ThinkingBlock>,
    ) {
        if !matches!(self.open, Some((Open::Reasoning { .. }, _, _))) {
            self.close(out);
            let id = self.item_id("rs");
            let index = self.output.len();
            self.emit(
                out,
                json!({"type": "response.output_item.added", "output_index": index,
                "item": {"id": id, "type": "reasoning", "summary": []}}),
            );
            self.open = Some((
                Open::Reasoning {
                    text: String::new(),
                    blocks: Vec::new(),
                },
                id,
                index,
            ));
            self.phase = Phase::Open;
        }
        let Some((
            Open::Reasoning {
                text: all,
                blocks: kept,
            },
            id,
            index,
        )) = &mut self.open
        else {
            return;
        };
        kept.extend(blocks);
        let Some(text) = text else { return };
        let first = all.is_empty();
        all.push_str(&text);
        let (id, index) = (id.clone(), *index);
        if first {
            self.emit(out, json!({"type": "response.reasoning_summary_part.added", "item_id": id,
                "output_index": index, "summary_index": 0, "part": {"type": "summary_text", "text": ""}}));
        }
        self.emit(
            out,
            json!({"type": "response.reasoning_summary_text.delta", "item_id": id,
            "output_index": index, "summary_index": 0, "delta": text}),
        );
    }

    /// Ends the open item: its `.done` events and `response.output_item.done`.
    fn close(&mut self, out: &mut Vec<Value>) {
        let Some((open, id, index)) = self.open.take() else {
            return;
        };
        self.phase = Phase::Idle;
        let item = match open {
            Open::Message { text } => {
                let part = json!({"type": "output_text", "text": text, "annotations": []});
                self.emit(out, json!({"type": "response.output_text.done", "item_id": id, "output_index": index,
                    "content_index": 0, "text": text, "logprobs": []}));
                self.emit(out, json!({"type": "response.content_part.done", "item_id": id, "output_index": index,
                    "content_index": 0, "part": part}));
                json!({"id": id, "type": "message", "status": "completed", "role": "assistant", "content": [part]})
            }
            Open::Reasoning { text, blocks } => {
                let mut summary = Vec::new();
                if !text.is_empty() {
                    let part = json!({"type": "summary_text", "text": text});
                    self.emit(
                        out,
                        json!({"type": "response.reasoning_summary_text.done", "item_id": id,
                        "output_index": index, "summary_index": 0, "text": text}),
                    );
                    self.emit(
                        out,
                        json!({"type": "response.reasoning_summary_part.done", "item_id": id,
                        "output_index": index, "summary_index": 0, "part": part}),
                    );
                    summary.push(part);
                }
                let mut item = json!({"id": id, "type": "reasoning", "summary": summary});
                if self.include_encrypted && !blocks.is_empty() {
                    item["encrypted_content"] = json!(encode_reasoning(&blocks));
                }
                item
            }
            Open::Call {
                call_id,
                name,
                arguments,
                ..
            } => {
                let arguments = if arguments.is_empty() {
                    "{}".to_string()
                } else {
                    arguments
                };
                let mut item = self.tools.call_item(&call_id, &name, &arguments);
                if item["type"] == "function_call" {
                    self.emit(
                        out,
                        json!({"type": "response.function_call_arguments.done", "item_id": id,
                        "output_index": index, "name": item["name"], "arguments": arguments}),
                    );
                }
                item["id"] = json!(id);
                if item["type"] == "function_call" {
                    item["status"] = json!("completed");
                }
                item
            }
        };
        self.emit(out, json!({"type": "response.output_item.done", "output_index": index, "item": item.clone()}));
        self.output.push(item);
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
    use aws_sdk_bedrockruntime::types::{
        ContentBlock, ConverseOutput as Output, Message, ReasoningContentBlock, ReasoningTextBlock,
        StopReason, TokenUsage, ToolUseBlock,
    };
    use aws_smithy_types::Document;

    use super::*;
    use crate::translate::converse_replay::replay_as_events;

    fn answer(blocks: Vec<ContentBlock>, stop: StopReason) -> ConverseOutput {
        ConverseOutput::builder()
            .output(Output::Message(
                Message::builder()
                    .role(aws_sdk_bedrockruntime::types::ConversationRole::Assistant)
                    .set_content(Some(blocks))
                    .build()
                    .unwrap(),
            ))
            .stop_reason(stop)
            .usage(
                TokenUsage::builder()
                    .input_tokens(5)
                    .output_tokens(3)
                    .total_tokens(8)
                    .build()
                    .unwrap(),
            )
            .metrics(
                aws_sdk_bedrockruntime::types::ConverseMetrics::builder()
                    .latency_ms(1)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    fn run(output: &ConverseOutput, include: bool) -> (Vec<Value>, Value) {
        let tools = Tools::from_request(
            &[json!({"type":"function","name":"f","parameters":{"type":"object"}})],
            &[],
        )
        .unwrap();
        let shell = json!({"id": "resp_abc", "created_at": 1, "model": "m", "output": []});
        let mut machine = ResponseStream::new(shell, tools, ToolNames::default(), include);
        let mut events = Vec::new();
        for event in replay_as_events(output) {
            events.extend(machine.on_event(&event));
        }
        events.extend(machine.finish());
        assert!(machine.is_done());
        let last = events.last().unwrap()["response"].clone();
        (events, last)
    }

    #[test]
    fn reasoning_text_and_a_call_in_order_with_increasing_sequence_numbers() {
        let output = answer(
            vec![
                ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(
                    ReasoningTextBlock::builder()
                        .text("think")
                        .signature("sig")
                        .build()
                        .unwrap(),
                )),
                ContentBlock::Text("hi".into()),
                ContentBlock::ToolUse(
                    ToolUseBlock::builder()
                        .tool_use_id("tooluse_1")
                        .name("f")
                        .input(Document::Object(Default::default()))
                        .build()
                        .unwrap(),
                ),
            ],
            StopReason::ToolUse,
        );
        let (events, response) = run(&output, true);
        let numbers: Vec<u64> = events
            .iter()
            .map(|e| e["sequence_number"].as_u64().unwrap())
            .collect();
        assert_eq!(numbers, (0..events.len() as u64).collect::<Vec<_>>());
        let kinds: Vec<&str> = response["output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["reasoning", "message", "function_call"]);
        assert_eq!(response["status"], "completed");
        assert_eq!(response["output"][0]["summary"][0]["text"], "think");
        let blocks = response["output"][0]["encrypted_content"].as_str().unwrap();
        assert!(!blocks.is_empty());
        assert_eq!(response["output"][2]["call_id"], "tooluse_1");
        assert_eq!(response["output"][2]["arguments"], "{}");
        assert_eq!(response["usage"]["input_tokens"], 5);
        // Ids in `.added` events are the final ones.
        let added: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "response.output_item.added")
            .map(|e| &e["item"]["id"])
            .collect();
        let finals: Vec<&Value> = response["output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| &i["id"])
            .collect();
        assert_eq!(added, finals);
    }

    #[test]
    fn a_cut_answer_is_incomplete_and_encrypted_content_needs_include() {
        let output = answer(
            vec![ContentBlock::Text("a b".into())],
            StopReason::MaxTokens,
        );
        let (events, response) = run(&output, false);
        assert_eq!(events.last().unwrap()["type"], "response.incomplete");
        assert_eq!(response["status"], "incomplete");
        assert_eq!(
            response["incomplete_details"]["reason"],
            "max_output_tokens"
        );
    }

    #[test]
    fn a_failure_ends_with_error_then_failed() {
        let shell = json!({"id": "resp_x", "created_at": 1, "model": "m"});
        let mut machine = ResponseStream::new(shell, Tools::default(), ToolNames::default(), false);
        let events = machine.fail(&ApiError::invalid_request("boom").with_code("model_error"));
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "response.created",
                "response.in_progress",
                "error",
                "response.failed"
            ]
        );
        assert_eq!(events[3]["response"]["error"]["code"], "model_error");
        assert!(machine.finish().is_empty());
    }
}
