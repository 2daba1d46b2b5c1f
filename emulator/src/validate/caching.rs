//! Rules for prompt-caching checkpoints (`cachePoint` blocks): only on
//! models with prompt caching, in `toolConfig.tools` only on models that
//! cache tool definitions, at most four per request, and never at a place
//! where there is nothing before them to cache.

use crate::catalog::ChatCapabilities;
use crate::error::ApiError;
use crate::request::{ContentBlock, ConverseRequest, SystemBlock, ToolEntry};

const MAX_CACHE_POINTS: usize = 4;

pub fn check(request: &ConverseRequest, capabilities: &ChatCapabilities) -> Result<(), ApiError> {
    // Paths of every cache point, and whether each comes first in its list.
    let mut points: Vec<(String, bool)> = Vec::new();
    let mut first_tool_point = None;
    if let Some(config) = &request.tool_config {
        for (index, tool) in config.tools.iter().enumerate() {
            if matches!(tool, ToolEntry::CachePoint) {
                points.push((format!("toolConfig.tools.{index}"), index == 0));
                first_tool_point.get_or_insert(index);
            }
        }
    }
    for (index, block) in request.system.iter().enumerate() {
        if matches!(block, SystemBlock::CachePoint) {
            points.push((format!("system.{index}"), index == 0));
        }
    }
    for (message_index, message) in request.messages.iter().enumerate() {
        for (index, block) in message.content.iter().enumerate() {
            if !matches!(block, ContentBlock::CachePoint) {
                continue;
            }
            // Nova's request parser (the models without tool caching) refuses a cache point
            // right after a toolResult: aws-samples/bedrock-engineer#71 (cache points are fine
            // anywhere but directly after a toolResult), zeroclaw-labs/zeroclaw#8943 (a tool-use
            // conversation failing at messages/16 with "extraneous key [cachePoint]"). The
            // pointer Bedrock names for it is assumed to be the cache point's own (unconfirmed).
            if index > 0
                && capabilities.prompt_caching
                && !capabilities.tool_caching
                && matches!(message.content[index - 1], ContentBlock::ToolResult(_))
            {
                return Err(ApiError::from_model(
                    ApiError::malformed(
                        &format!("messages.{message_index}.content.{index}"),
                        "extraneous key [cachePoint] is not permitted",
                    )
                    .message,
                ));
            }
            if index > 0 && matches!(message.content[index - 1], ContentBlock::Reasoning(_)) {
                return Err(ApiError::validation(
                    "Cache point cannot be inserted after reasoning block. Please remove the invalid cache point and try again.",
                ));
            }
            points.push((
                format!("messages.{message_index}.content.{index}"),
                index == 0,
            ));
        }
    }
    if points.is_empty() {
        return Ok(());
    }
    if !capabilities.prompt_caching {
        return Err(ApiError::validation(
            "You invoked an unsupported model or your request did not allow prompt caching. See the documentation for more information.",
        ));
    }
    if points.len() > MAX_CACHE_POINTS {
        return Err(ApiError::from_model(format!(
            "A maximum of {MAX_CACHE_POINTS} blocks with cache_control may be provided. Found {}.",
            points.len()
        )));
    }
    if let Some((path, _)) = points.iter().find(|(_, first)| *first) {
        return Err(ApiError::validation(format!(
            "The cachePoint block at {path} can't be the first block in its list. Place the cache point after the content you want to cache and try again."
        )));
    }
    if let Some(index) = first_tool_point
        && !capabilities.tool_caching
    {
        // Nova's own request parser answers, as it does for unknown keys.
        return Err(ApiError::from_model(
            ApiError::malformed(
                &format!("toolConfig.tools.{index}"),
                "extraneous key [cachePoint] is not permitted",
            )
            .message,
        ));
    }
    Ok(())
}
