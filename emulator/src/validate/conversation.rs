//! Rules for the shape of the conversation: who speaks first, turn taking,
//! empty and blank content, which blocks each role may send, and the system
//! prompt.

use super::block_path;
use crate::catalog::ResolvedModel;
use crate::error::ApiError;
use crate::request::{ContentBlock, ConverseRequest, GuardContent, Role, SystemBlock};

const MUST_START_WITH_USER: &str = "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
const MUST_ALTERNATE: &str = "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.";

pub fn check(request: &ConverseRequest, resolved: &ResolvedModel) -> Result<(), ApiError> {
    check_system(request, resolved)?;
    if request.messages.is_empty() {
        // A prompt from Prompt management carries its own conversation.
        if resolved.is_prompt_resource {
            return Ok(());
        }
        return Err(ApiError::validation(MUST_START_WITH_USER));
    }
    if request.messages[0].role != Role::User {
        return Err(ApiError::validation(MUST_START_WITH_USER));
    }
    for pair in request.messages.windows(2) {
        if pair[0].role == pair[1].role {
            return Err(ApiError::validation(MUST_ALTERNATE));
        }
    }
    for (index, message) in request.messages.iter().enumerate() {
        if message.content.is_empty() {
            return Err(ApiError::validation(format!(
                "The content field in the Message object at messages.{index} is empty. Add a ContentBlock object to the content field and try again."
            )));
        }
        for (block_index, block) in message.content.iter().enumerate() {
            check_block_for_role(block, message.role, index, block_index)?;
        }
    }
    check_final_assistant_turn(request, resolved)
}

fn blank_text(path: &str, object: &str) -> ApiError {
    ApiError::validation(format!(
        "The text field in the {object} object at {path} is blank. Add text to the text field, and try again."
    ))
}

fn check_system(request: &ConverseRequest, resolved: &ResolvedModel) -> Result<(), ApiError> {
    if request.system.is_empty() {
        return Ok(());
    }
    if !resolved.capabilities.system_prompt {
        return Err(ApiError::validation(
            "This model doesn't support system messages.",
        ));
    }
    for (index, block) in request.system.iter().enumerate() {
        let blank = match block {
            SystemBlock::Text(text) => text.trim().is_empty(),
            SystemBlock::GuardContent(GuardContent::Text(text)) => text.trim().is_empty(),
            _ => false,
        };
        if blank {
            return Err(blank_text(&format!("system.{index}"), "SystemContentBlock"));
        }
    }
    Ok(())
}

/// Blank text is refused everywhere; tool calls, reasoning and tool results
/// each belong to one side of the conversation.
fn check_block_for_role(
    block: &ContentBlock,
    role: Role,
    message: usize,
    index: usize,
) -> Result<(), ApiError> {
    let path = block_path(message, index);
    let wrong_role = |kind: &str, expected: Role| {
        ApiError::validation(format!(
            "The {kind} content block at {path} isn't allowed in a {} message. Use {kind} blocks only in {} messages and try again.",
            role.as_str(),
            expected.as_str()
        ))
    };
    match block {
        ContentBlock::Text(text) if text.trim().is_empty() => {
            Err(blank_text(&path, "ContentBlock"))
        }
        ContentBlock::GuardContent(GuardContent::Text(text)) if text.trim().is_empty() => {
            Err(blank_text(&path, "GuardrailConverseContentBlock"))
        }
        ContentBlock::ToolUse(_) if role == Role::User => {
            Err(wrong_role("toolUse", Role::Assistant))
        }
        ContentBlock::Reasoning(_) if role == Role::User => {
            Err(wrong_role("reasoningContent", Role::Assistant))
        }
        ContentBlock::ToolResult(_) if role == Role::Assistant => {
            Err(wrong_role("toolResult", Role::User))
        }
        // Video and audio follow images and documents here by analogy (media are user input);
        // no public report quotes Bedrock refusing them in an assistant turn.
        ContentBlock::Image(_)
        | ContentBlock::Document(_)
        | ContentBlock::Video(_)
        | ContentBlock::Audio(_)
            if role == Role::Assistant =>
        {
            let kind = match block {
                ContentBlock::Image(_) => "image",
                ContentBlock::Video(_) => "video",
                ContentBlock::Audio(_) => "audio",
                _ => "document",
            };
            Err(wrong_role(kind, Role::User))
        }
        _ => Ok(()),
    }
}

/// Anthropic refuses an assistant prefill that ends in whitespace.
fn check_final_assistant_turn(
    request: &ConverseRequest,
    resolved: &ResolvedModel,
) -> Result<(), ApiError> {
    let Some(last) = request.messages.last() else {
        return Ok(());
    };
    if last.role != Role::Assistant || !resolved.is_anthropic() {
        return Ok(());
    }
    if resolved.capabilities.rejects_prefill {
        return Err(ApiError::from_model(
            "This model does not support assistant message prefill. The conversation must end with a user message.",
        ));
    }
    let trailing_text = last.content.iter().rev().find_map(|block| match block {
        ContentBlock::Text(text) => Some(text),
        _ => None,
    });
    if trailing_text.is_some_and(|text| text.trim_end() != text) {
        return Err(ApiError::from_model(
            "final assistant content cannot end with trailing whitespace",
        ));
    }
    Ok(())
}
