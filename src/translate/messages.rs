//! Messages: OpenAI `messages` -> Converse `system` + `messages`, and a Converse reply's content
//! blocks -> OpenAI's assistant message, side by side.
//!
//! One builder per OpenAI role turns a message into blocks of a Converse turn; Bedrock's
//! conversation rules (alternation, first turn user, no blank text, tool results first, ...) live
//! in `conversation_rules.rs`, one function per rule.
//!
//! Over ~450 lines only with its tests (the code is ~320): whole conversations through the
//! builders and the rules together, which the rules' own unit tests cannot show.

use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, Message, SystemContentBlock};

use crate::capabilities::Capabilities;
use crate::error::ApiError;
use crate::openai::chat::{AssistantMessage, ChatMessage, Role, ThinkingBlock, ToolCall};
use crate::translate::caching::CacheBudget;
use crate::translate::conversation_rules::{
    Turns, documents_need_text, first_turn_is_user, late_system_message_becomes_user_text,
    prefill_has_no_trailing_whitespace, system_only_conversation_becomes_user_turn,
    tool_result_may_take_cache_point, tool_results_first,
};
use crate::translate::documents::DocumentNames;
use crate::translate::images::FetchedImages;
use crate::translate::json_doc::to_value;
use crate::translate::message_parts::{joined_text, text_pieces, user_blocks};
use crate::translate::reasoning::{reasoning_block, thinking_block};
use crate::translate::structured::RESPONSE_TOOL;
use crate::translate::tools::{tool_call, tool_result_block, tool_use_block};

pub use crate::translate::conversation_rules::{CONVERSATION_START, DOCUMENTS_ONLY};

/// The Converse side of a conversation.
#[derive(Debug, Default)]
pub struct Conversation {
    pub system: Vec<SystemContentBlock>,
    pub messages: Vec<Message>,
    /// Whether any turn holds toolUse or toolResult blocks (Bedrock then requires `toolConfig`).
    pub has_tool_blocks: bool,
}

/// What the message translation needs to know besides the messages.
pub struct MessageContext<'a> {
    pub model_id: &'a str,
    pub caps: &'a Capabilities,
    pub images: &'a FetchedImages,
    /// Add a cache point after the system prompt (`ENABLE_PROMPT_CACHING`).
    pub cache_after_system: bool,
    /// Send reasoning blocks of earlier turns (only to a model reasoning in this request:
    /// Bedrock refuses them otherwise).
    pub keep_reasoning: bool,
}

/// OpenAI messages -> Converse system blocks and alternating turns: each message goes to the
/// builder for its role, then Bedrock's conversation rules shape the turns.
pub fn conversation(
    messages: &[ChatMessage],
    ctx: &MessageContext,
    cache: &mut CacheBudget,
) -> Result<Conversation, ApiError> {
    let mut builder = ConversationBuilder {
        ctx,
        cache,
        system: Vec::new(),
        folded_system: Vec::new(),
        turns: Turns::default(),
        legacy_calls: Vec::new(),
        documents: DocumentNames::default(),
        has_tool_blocks: false,
        seen_user: false,
    };
    for (i, message) in messages.iter().enumerate() {
        builder.add(i, message)?;
    }
    builder.finish()
}

/// The state of one conversation while its messages are translated in order.
struct ConversationBuilder<'a, 'c> {
    ctx: &'a MessageContext<'a>,
    cache: &'c mut CacheBudget,
    system: Vec<SystemContentBlock>,
    /// System text for a model that takes no system prompt: it leads the first user turn.
    folded_system: Vec<String>,
    turns: Turns,
    /// Legacy `function_call`s by name and the tool-use id made up for each.
    legacy_calls: Vec<(String, String)>,
    documents: DocumentNames,
    has_tool_blocks: bool,
    seen_user: bool,
}

impl ConversationBuilder<'_, '_> {
    fn add(&mut self, i: usize, message: &ChatMessage) -> Result<(), ApiError> {
        let param = format!("messages[{i}]");
        match message.role {
            Role::System | Role::Developer if self.seen_user => {
                let texts = text_pieces(message.content.as_ref(), &param, "system")?
                    .into_iter()
                    .map(|(text, _)| text)
                    .collect();
                late_system_message_becomes_user_text(&mut self.turns, texts);
                Ok(())
            }
            Role::System | Role::Developer => self.system_message(message, &param),
            Role::User => self.user_message(message, &param),
            Role::Assistant => self.assistant_message(i, message, &param),
            Role::Tool => self.tool_message(message, &param),
            Role::Function => self.function_message(message, &param),
        }
    }

    /// A system or developer message before the first user turn: system blocks, or folded text
    /// for a model without a system prompt.
    fn system_message(&mut self, message: &ChatMessage, param: &str) -> Result<(), ApiError> {
        let system_prompt = self.ctx.caps.system_prompt;
        for (text, part_cached) in text_pieces(message.content.as_ref(), param, "system")? {
            if system_prompt {
                self.system.push(SystemContentBlock::Text(text));
                if let Some(point) = self.cache.take_if(part_cached) {
                    self.system.push(SystemContentBlock::CachePoint(point));
                }
            } else {
                self.folded_system.push(text);
            }
        }
        if system_prompt
            && !self.system.is_empty()
            && let Some(point) = self
                .cache
                .take_if(message.cache_control.is_some() && !ends_with_cache_point(&self.system))
        {
            self.system.push(SystemContentBlock::CachePoint(point));
        }
        Ok(())
    }

    fn user_message(&mut self, message: &ChatMessage, param: &str) -> Result<(), ApiError> {
        self.seen_user = true;
        let mut blocks = user_blocks(
            message.content.as_ref(),
            param,
            self.ctx,
            self.cache,
            &mut self.documents,
        )?;
        push_message_cache_point(&mut blocks, message.cache_control.is_some(), self.cache);
        self.turns.push(ConversationRole::User, blocks);
        Ok(())
    }

    /// Reasoning (when kept), text, tool calls and a legacy function call, in that order.
    fn assistant_message(
        &mut self,
        i: usize,
        message: &ChatMessage,
        param: &str,
    ) -> Result<(), ApiError> {
        let mut blocks = Vec::new();
        let thinking_blocks = message
            .thinking_blocks
            .iter()
            .flatten()
            .filter(|_| self.ctx.keep_reasoning);
        for (j, thinking) in thinking_blocks.enumerate() {
            let thinking = with_reasoning_text(thinking, message);
            blocks.push(reasoning_block(
                &thinking,
                &format!("{param}.thinking_blocks[{j}]"),
            )?);
        }
        for (text, _) in text_pieces(message.content.as_ref(), param, "assistant")? {
            blocks.push(ContentBlock::Text(text));
        }
        for (j, call) in message.tool_calls.iter().flatten().enumerate() {
            blocks.push(tool_use_block(
                &call.id,
                &call.function,
                &format!("{param}.tool_calls[{j}]"),
            )?);
            self.has_tool_blocks = true;
        }
        if let Some(function) = &message.function_call {
            let id = format!("call_{}_{i}", function.name);
            blocks.push(tool_use_block(
                &id,
                function,
                &format!("{param}.function_call"),
            )?);
            self.legacy_calls.push((function.name.clone(), id));
            self.has_tool_blocks = true;
        }
        push_message_cache_point(&mut blocks, message.cache_control.is_some(), self.cache);
        self.turns.push(ConversationRole::Assistant, blocks);
        Ok(())
    }

    fn tool_message(&mut self, message: &ChatMessage, param: &str) -> Result<(), ApiError> {
        let id = message.tool_call_id.as_deref().filter(|id| !id.is_empty()).ok_or_else(|| {
            ApiError::invalid_param(
                format!("{param}.tool_call_id"),
                format!("`{param}` has role \"tool\" but no `tool_call_id`; it must name the tool call it answers."),
            )
        })?;
        let text = joined_text(message.content.as_ref(), param)?;
        let mut blocks = vec![tool_result_block(id, &text)?];
        push_message_cache_point(
            &mut blocks,
            message.cache_control.is_some()
                && tool_result_may_take_cache_point(self.ctx.caps.tool_caching),
            self.cache,
        );
        self.turns.push(ConversationRole::User, blocks);
        self.has_tool_blocks = true;
        Ok(())
    }

    /// A legacy `function` message answers the latest `function_call` of the same name.
    fn function_message(&mut self, message: &ChatMessage, param: &str) -> Result<(), ApiError> {
        let name = message.name.as_deref().unwrap_or_default();
        let id = self
            .legacy_calls
            .iter()
            .rev()
            .find(|(called, _)| called == name)
            .map(|(_, id)| id.clone())
            .ok_or_else(|| {
                ApiError::invalid_param(
                    format!("{param}.name"),
                    format!("`{param}` has role \"function\" but answers no earlier `function_call` named `{name}`."),
                )
            })?;
        let text = joined_text(message.content.as_ref(), param)?;
        self.turns
            .push(ConversationRole::User, vec![tool_result_block(&id, &text)?]);
        self.has_tool_blocks = true;
        Ok(())
    }

    /// Applies the rules that need the whole conversation and builds the Converse messages.
    fn finish(self) -> Result<Conversation, ApiError> {
        let ConversationBuilder {
            ctx,
            cache,
            mut system,
            mut folded_system,
            turns,
            has_tool_blocks,
            ..
        } = self;
        if ctx.cache_after_system
            && !system.is_empty()
            && !ends_with_cache_point(&system)
            && let Some(point) = cache.take()
        {
            system.push(SystemContentBlock::CachePoint(point));
        }
        let mut turns = turns.into_vec();
        system_only_conversation_becomes_user_turn(&mut turns, &mut system, &mut folded_system)?;
        for (role, blocks) in &mut turns {
            if *role == ConversationRole::User {
                tool_results_first(blocks);
                documents_need_text(blocks);
            }
        }
        first_turn_is_user(&mut turns, folded_system);
        prefill_has_no_trailing_whitespace(&mut turns);
        let messages = turns
            .into_iter()
            .map(|(role, content)| {
                Message::builder()
                    .role(role)
                    .set_content(Some(content))
                    .build()
                    .map_err(|e| ApiError::invalid_request(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Conversation {
            system,
            messages,
            has_tool_blocks,
        })
    }
}

/// A signed block whose text the client left empty (it kept the text in `reasoning_content`,
/// as streamed): the signature covers the text, so the text is put back.
fn with_reasoning_text(block: &ThinkingBlock, message: &ChatMessage) -> ThinkingBlock {
    match (
        block,
        &message.reasoning_content,
        message.thinking_blocks.as_deref(),
    ) {
        (
            ThinkingBlock::Thinking {
                thinking,
                signature,
            },
            Some(text),
            Some([_]),
        ) if thinking.is_empty() => ThinkingBlock::Thinking {
            thinking: text.clone(),
            signature: signature.clone(),
        },
        _ => block.clone(),
    }
}

fn ends_with_cache_point(system: &[SystemContentBlock]) -> bool {
    matches!(system.last(), Some(SystemContentBlock::CachePoint(_)))
}

fn push_message_cache_point(blocks: &mut Vec<ContentBlock>, marked: bool, cache: &mut CacheBudget) {
    let ends_with_point = matches!(blocks.last(), Some(ContentBlock::CachePoint(_)));
    if !blocks.is_empty()
        && !ends_with_point
        && let Some(point) = cache.take_if(marked)
    {
        blocks.push(ContentBlock::CachePoint(point));
    }
}

/// Reply: Converse content blocks -> OpenAI's assistant message.
pub fn assistant_message(blocks: &[ContentBlock]) -> AssistantMessage {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thinking_blocks: Vec<ThinkingBlock> = Vec::new();
    let mut tool_calls: Vec<ToolCall> = Vec::new();
    let mut annotations = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::Text(t) => text.push_str(t),
            ContentBlock::CitationsContent(cited) => {
                let start = text.chars().count();
                for part in cited.content() {
                    if let Ok(t) = part.as_text() {
                        text.push_str(t);
                    }
                }
                let end = text.chars().count();
                annotations.extend(
                    cited
                        .citations()
                        .iter()
                        .map(|c| crate::translate::citations::reply_annotation(c, start, end)),
                );
            }
            ContentBlock::ReasoningContent(r) => {
                if let Some((readable, block)) = thinking_block(r) {
                    reasoning.push_str(readable.unwrap_or_default());
                    thinking_blocks.push(block);
                }
            }
            // Structured output forced through a tool: the tool's input is the answer.
            ContentBlock::ToolUse(tool_use) if tool_use.name == RESPONSE_TOOL => {
                text.push_str(&to_value(&tool_use.input).to_string());
            }
            ContentBlock::ToolUse(tool_use) => tool_calls.extend(tool_call(tool_use)),
            _ => {}
        }
    }
    let has_tools = !tool_calls.is_empty();
    AssistantMessage {
        role: "assistant".to_string(),
        content: if text.is_empty() && has_tools {
            None
        } else {
            Some(text)
        },
        reasoning_content: (!thinking_blocks.is_empty()).then_some(reasoning),
        thinking_blocks: (!thinking_blocks.is_empty()).then_some(thinking_blocks),
        tool_calls: has_tools.then_some(tool_calls),
        annotations: (!annotations.is_empty()).then_some(annotations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::capabilities;
    use crate::openai::chat::ChatRequest;
    use crate::openai::request::parse_json;

    fn convert(json: &str, model: &str) -> Result<Conversation, ApiError> {
        let req: ChatRequest = parse_json(json.as_bytes()).unwrap();
        let caps = capabilities(model);
        let images = FetchedImages::new();
        let ctx = MessageContext {
            model_id: model,
            caps: &caps,
            images: &images,
            cache_after_system: false,
            keep_reasoning: true,
        };
        conversation(
            &req.messages,
            &ctx,
            &mut CacheBudget::new(caps.prompt_caching),
        )
    }

    const CLAUDE: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

    #[test]
    fn system_and_developer_become_system_blocks_and_same_roles_merge() {
        let c = convert(
            r#"{"model":"m","messages":[
              {"role":"system","content":"be brief"},{"role":"developer","content":"be kind"},
              {"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"b"},{"type":"text","text":"  "}]},
              {"role":"assistant","content":""},{"role":"assistant","content":"c"}]}"#,
            CLAUDE,
        )
        .unwrap();
        assert_eq!(c.system.len(), 2);
        assert_eq!(c.messages.len(), 2);
        assert_eq!(
            c.messages[0].content.len(),
            2,
            "blank part dropped, user turns merged"
        );
        assert_eq!(c.messages[1].role, ConversationRole::Assistant);
    }

    #[test]
    fn tool_results_join_one_user_turn() {
        let c = convert(
            r#"{"model":"m","messages":[{"role":"user","content":"weather?"},
              {"role":"assistant","content":null,"tool_calls":[
                 {"id":"c1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}},
                 {"id":"c2","type":"function","function":{"name":"w","arguments":""}}]},
              {"role":"tool","tool_call_id":"c1","content":"sunny"},
              {"role":"tool","tool_call_id":"c2","content":"{\"t\":3}"},
              {"role":"user","content":"thanks"}]}"#,
            CLAUDE,
        )
        .unwrap();
        assert!(c.has_tool_blocks);
        assert_eq!(c.messages.len(), 3);
        assert_eq!(c.messages[2].content.len(), 3);
        assert!(matches!(
            c.messages[2].content[0],
            ContentBlock::ToolResult(_)
        ));
        assert!(matches!(c.messages[2].content[2], ContentBlock::Text(_)));
    }

    #[test]
    fn folds_system_for_models_without_it_and_starts_with_user() {
        let c = convert(
            r#"{"model":"m","messages":[{"role":"system","content":"rules"},{"role":"assistant","content":"hello!"},{"role":"user","content":"hi"}]}"#,
            "mistral.mistral-7b-instruct-v0:2",
        )
        .unwrap();
        assert!(c.system.is_empty());
        assert_eq!(c.messages[0].role, ConversationRole::User);
        assert!(matches!(&c.messages[0].content[0], ContentBlock::Text(t) if t == "rules"));
    }

    #[test]
    fn tool_results_lead_their_turn_and_documents_get_text() {
        let c = convert(
            r#"{"model":"m","messages":[{"role":"user","content":"q"},
              {"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}},
                                                {"id":"c2","type":"function","function":{"name":"f","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"a"},
              {"role":"user","content":"note"},
              {"role":"tool","tool_call_id":"c2","content":"b"},
              {"role":"user","content":[{"type":"file","file":{"filename":"r.pdf","file_data":"data:application/pdf;base64,JVBERi0xLjQK"}}]}]}"#,
            CLAUDE,
        )
        .unwrap();
        let last = &c.messages[2].content;
        assert!(matches!(last[0], ContentBlock::ToolResult(_)));
        assert!(matches!(last[1], ContentBlock::ToolResult(_)));
        assert!(matches!(&last[2], ContentBlock::Text(t) if t == "note"));
        assert!(matches!(last[3], ContentBlock::Document(_)));
        assert_eq!(last.len(), 4, "the turn has text already");
        let c = convert(
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"r.pdf","file_data":"data:application/pdf;base64,JVBERi0xLjQK"}}]}]}"#,
            CLAUDE,
        )
        .unwrap();
        assert!(matches!(&c.messages[0].content[1], ContentBlock::Text(t) if t == DOCUMENTS_ONLY));
    }

    #[test]
    fn a_system_only_conversation_becomes_a_user_turn() {
        let c = convert(
            r#"{"model":"m","messages":[{"role":"system","content":"Write a haiku."}]}"#,
            CLAUDE,
        )
        .unwrap();
        assert!(c.system.is_empty());
        assert!(
            matches!(&c.messages[0].content[0], ContentBlock::Text(t) if t == "Write a haiku.")
        );
    }

    #[test]
    fn errors_name_the_message() {
        let err = convert(r#"{"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","content":"r"}]}"#, CLAUDE)
            .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages[1].tool_call_id"));
        let err = convert(
            r#"{"model":"m","messages":[{"role":"system","content":" "}]}"#,
            CLAUDE,
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages"));
        let err = convert(
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}"#,
            "amazon.nova-micro-v1:0",
        )
        .unwrap_err();
        assert!(
            err.message.contains("amazon.nova-micro-v1:0"),
            "{}",
            err.message
        );
    }

    #[test]
    fn cache_markers_become_cache_points_within_budget() {
        let c = convert(
            r#"{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"long","cache_control":{"type":"ephemeral"}}]},
              {"role":"user","content":"q","cache_control":{"type":"ephemeral"}}]}"#,
            CLAUDE,
        )
        .unwrap();
        assert!(matches!(c.system[1], SystemContentBlock::CachePoint(_)));
        assert!(matches!(
            c.messages[0].content[1],
            ContentBlock::CachePoint(_)
        ));
        let c = convert(
            r#"{"model":"m","messages":[{"role":"user","content":"q","cache_control":{"type":"ephemeral"}}]}"#,
            "anthropic.claude-3-haiku-20240307-v1:0",
        )
        .unwrap();
        assert_eq!(
            c.messages[0].content.len(),
            1,
            "no cache points for a model without caching"
        );
    }

    #[test]
    fn reply_blocks_to_assistant_message() {
        let message = assistant_message(&[
            ContentBlock::Text("Hel".into()),
            ContentBlock::Text("lo".into()),
        ]);
        assert_eq!(message.content.as_deref(), Some("Hello"));
        assert!(message.tool_calls.is_none());
    }
}
