//! Rules for tool use: the tool configuration (names, schemas, choice, model
//! support, streaming support) and the tool calls and results in the
//! conversation history (pairing, ids, inputs, and for Claude the place of
//! results in their turn).

use std::collections::HashSet;

use super::block_path;
use crate::catalog::{ChatCapabilities, ResolvedModel};
use crate::error::ApiError;
use crate::request::{ContentBlock, ConverseRequest, Operation, Role, ToolChoice, ToolEntry};

const NAME_PATTERN: &str = "[a-zA-Z0-9_-]+";

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn check_config(
    request: &ConverseRequest,
    capabilities: &ChatCapabilities,
    operation: Operation,
) -> Result<(), ApiError> {
    let Some(config) = &request.tool_config else {
        return Ok(());
    };
    if !capabilities.tools {
        return Err(ApiError::validation("This model doesn't support tool use."));
    }
    if operation == Operation::ConverseStream && !capabilities.tool_streaming {
        return Err(ApiError::validation(
            "This model doesn't support tool use in streaming mode.",
        ));
    }
    if config.tools.is_empty() {
        return Err(ApiError::constraint(
            "[]",
            "toolConfig.tools",
            "have length greater than or equal to 1",
        ));
    }
    let mut names = HashSet::new();
    for (index, tool) in config.tools.iter().enumerate() {
        let spec = match tool {
            ToolEntry::Spec(spec) => spec,
            ToolEntry::System(name) => {
                return Err(ApiError::validation(format!(
                    "This model doesn't support the system tool {name} at toolConfig.tools.{index}.systemTool. Remove it and try again."
                )));
            }
            ToolEntry::CachePoint { .. } => continue,
        };
        let name_path = format!("toolConfig.tools.{index}.member.toolSpec.name");
        if spec.name.chars().count() > 64 {
            return Err(ApiError::constraint(
                &spec.name,
                &name_path,
                "have length less than or equal to 64",
            ));
        }
        if !is_identifier(&spec.name) {
            return Err(ApiError::constraint(
                &spec.name,
                &name_path,
                &format!("satisfy regular expression pattern: {NAME_PATTERN}"),
            ));
        }
        if spec.description.as_deref() == Some("") {
            return Err(ApiError::constraint(
                "",
                &format!("toolConfig.tools.{index}.member.toolSpec.description"),
                "have length greater than or equal to 1",
            ));
        }
        let schema_is_object = spec.schema.as_object().is_some_and(|schema| {
            schema
                .get("type")
                .is_none_or(|kind| kind.as_str() == Some("object"))
        });
        if !schema_is_object {
            return Err(ApiError::validation(format!(
                "The inputSchema.json of the tool at toolConfig.tools.{index} must be a JSON Schema object of type object. Fix the schema and try again."
            )));
        }
        if !names.insert(spec.name.as_str()) {
            return Err(ApiError::from_model("tools: Tool names must be unique."));
        }
    }
    match &config.choice {
        Some(choice @ (ToolChoice::Any | ToolChoice::Tool(_))) => {
            let member = if *choice == ToolChoice::Any {
                "any"
            } else {
                "tool"
            };
            let accepted = match choice {
                ToolChoice::Tool(_) => capabilities.named_tool_choice,
                _ => capabilities.forced_tool_choice,
            };
            if !accepted {
                return Err(ApiError::validation(format!(
                    "This model doesn't support the toolConfig.toolChoice.{member} field. Remove toolConfig.toolChoice.{member} and try again."
                )));
            }
            if let ToolChoice::Tool(name) = choice
                && !names.contains(name.as_str())
            {
                return Err(ApiError::from_model(format!(
                    "tool_choice.name: Tool '{name}' not found in the tools provided in toolConfig.tools"
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Tool calls and results already in the conversation.
pub fn check_history(request: &ConverseRequest, resolved: &ResolvedModel) -> Result<(), ApiError> {
    let capabilities = &resolved.capabilities;
    let uses_tools = request.messages.iter().any(|message| {
        message.content.iter().any(|block| {
            matches!(
                block,
                ContentBlock::ToolUse(_) | ContentBlock::ToolResult(_)
            )
        })
    });
    if !uses_tools {
        return Ok(());
    }
    if request.tool_config.is_none() {
        return Err(ApiError::validation(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        ));
    }
    let mut seen_ids = HashSet::new();
    for (message_index, message) in request.messages.iter().enumerate() {
        for (block_index, block) in message.content.iter().enumerate() {
            let path = block_path(message_index, block_index);
            match block {
                ContentBlock::ToolUse(tool_use) => {
                    // botocore `ToolUseBlock.name` is a `ToolName`: `[a-zA-Z0-9_-]+`, 1 to 64
                    // characters, checked by Bedrock's own Smithy validation.
                    let name_path = format!(
                        "messages.{message_index}.member.content.{block_index}.member.toolUse.name"
                    );
                    if tool_use.name.chars().count() > 64 {
                        return Err(ApiError::constraint(
                            &tool_use.name,
                            &name_path,
                            "have length less than or equal to 64",
                        ));
                    }
                    if !is_identifier(&tool_use.name) {
                        return Err(ApiError::constraint(
                            &tool_use.name,
                            &name_path,
                            &format!("satisfy regular expression pattern: {NAME_PATTERN}"),
                        ));
                    }
                    // Anthropic's own pattern applies to Claude; Bedrock's `ToolUseId`
                    // (botocore: `[a-zA-Z0-9_.:-]+`, 1-64) to every other model.
                    if resolved.is_anthropic() {
                        if !is_identifier(&tool_use.id) || tool_use.id.len() > 64 {
                            return Err(ApiError::from_model(format!(
                                "{path}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
                            )));
                        }
                    } else {
                        check_smithy_tool_use_id(&tool_use.id, message_index, block_index)?;
                    }
                    if !seen_ids.insert(tool_use.id.as_str()) {
                        return Err(ApiError::from_model(format!(
                            "{path}: `tool_use` ids must be unique"
                        )));
                    }
                    if !tool_use.input.is_object() {
                        return Err(ApiError::from_model(format!(
                            "{path}.tool_use.input: Input should be a valid dictionary"
                        )));
                    }
                }
                ContentBlock::ToolResult(result)
                    if result.status.is_some() && !capabilities.tool_result_status =>
                {
                    return Err(ApiError::validation(
                        "This model doesn't support the status field. Remove status and try again.",
                    ));
                }
                // An error result must say what went wrong: Bedrock refuses an empty `content`
                // with `status` `error` ("The content field at messages.<n>.content.0.toolResult
                // cannot be empty when status value is error.":
                // aws-samples/sample-multi-agent-orchestration-chat-on-agentcore#15). An empty
                // `content` without that status passes on Claude (NousResearch/hermes-agent#55092,
                // measured live), so only the error status is refused here.
                ContentBlock::ToolResult(result)
                    if result.content.is_empty() && result.status.as_deref() == Some("error") =>
                {
                    return Err(ApiError::validation(format!(
                        "The content field at {path}.toolResult cannot be empty when status value is error."
                    )));
                }
                _ => {}
            }
        }
    }
    check_pairing(request)?;
    if resolved.is_anthropic() {
        check_results_lead(request)?;
    }
    Ok(())
}

fn tool_use_ids(blocks: &[ContentBlock]) -> Vec<&str> {
    blocks
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolUse(tool_use) => Some(tool_use.id.as_str()),
            _ => None,
        })
        .collect()
}

/// Every result answers a call of the turn just before it, and every call
/// is answered in the turn just after it.
fn check_pairing(request: &ConverseRequest) -> Result<(), ApiError> {
    let messages = &request.messages;
    for (index, message) in messages.iter().enumerate() {
        match message.role {
            Role::User => {
                let offered = match index.checked_sub(1).map(|previous| &messages[previous]) {
                    Some(previous) => tool_use_ids(&previous.content),
                    None => Vec::new(),
                };
                for (block_index, block) in message.content.iter().enumerate() {
                    if let ContentBlock::ToolResult(result) = block
                        && !offered.contains(&result.tool_use_id.as_str())
                    {
                        return Err(ApiError::from_model(format!(
                            "{}: unexpected `tool_use_id` found in `tool_result` blocks: {}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.",
                            block_path(index, block_index),
                            result.tool_use_id
                        )));
                    }
                }
            }
            Role::Assistant => {
                let Some(next) = messages.get(index + 1) else {
                    continue;
                };
                let answered: HashSet<&str> = next
                    .content
                    .iter()
                    .filter_map(|block| match block {
                        ContentBlock::ToolResult(result) => Some(result.tool_use_id.as_str()),
                        _ => None,
                    })
                    .collect();
                let missing: Vec<&str> = tool_use_ids(&message.content)
                    .into_iter()
                    .filter(|id| !answered.contains(id))
                    .collect();
                if !missing.is_empty() {
                    return Err(ApiError::validation(format!(
                        "Expected toolResult blocks at messages.{}.content for the following Ids: {}",
                        index + 1,
                        missing.join(", ")
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Anthropic answers each call only from the `tool_result` blocks that open
/// the next user turn: a result after text, an image or a document does not
/// count, and the call it answers is reported as unanswered. Cache points
/// are not content to Anthropic, so they do not end the opening run.
fn check_results_lead(request: &ConverseRequest) -> Result<(), ApiError> {
    let messages = &request.messages;
    for (index, message) in messages.iter().enumerate().skip(1) {
        if message.role != Role::User {
            continue;
        }
        let mut leading: HashSet<&str> = HashSet::new();
        let mut misplaced: Vec<&str> = Vec::new();
        let mut in_leading_run = true;
        for block in &message.content {
            match block {
                ContentBlock::ToolResult(result) if in_leading_run => {
                    leading.insert(result.tool_use_id.as_str());
                }
                ContentBlock::ToolResult(result) => misplaced.push(result.tool_use_id.as_str()),
                ContentBlock::CachePoint { .. } => {}
                _ => in_leading_run = false,
            }
        }
        if misplaced.is_empty() {
            continue;
        }
        let mut unanswered: Vec<&str> = tool_use_ids(&messages[index - 1].content)
            .into_iter()
            .filter(|id| !leading.contains(id))
            .collect();
        if unanswered.is_empty() {
            // Every call was answered up front; the late block repeats one.
            unanswered = misplaced;
        }
        return Err(ApiError::from_model(format!(
            "messages.{}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
            index - 1,
            unanswered.join(", ")
        )));
    }
    Ok(())
}

/// Bedrock's own `ToolUseId` constraint (botocore: pattern `[a-zA-Z0-9_.:-]+`, length 1-64).
fn check_smithy_tool_use_id(id: &str, message: usize, block: usize) -> Result<(), ApiError> {
    let path = format!("messages.{message}.member.content.{block}.member.toolUse.toolUseId");
    if id.is_empty() || id.chars().count() > 64 {
        return Err(ApiError::constraint(
            id,
            &path,
            "have length between 1 and 64",
        ));
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-');
    if !id.chars().all(valid) {
        return Err(ApiError::constraint(
            id,
            &path,
            "satisfy regular expression pattern: [a-zA-Z0-9_.:-]+",
        ));
    }
    Ok(())
}
