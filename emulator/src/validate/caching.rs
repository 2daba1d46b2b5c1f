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
    // Whether each point, in prompt order (tools, system, messages), asks for the 1h TTL.
    let mut one_hour: Vec<bool> = Vec::new();
    let mut first_tool_point = None;
    if let Some(config) = &request.tool_config {
        for (index, tool) in config.tools.iter().enumerate() {
            if let ToolEntry::CachePoint { one_hour: long } = tool {
                one_hour.push(*long);
                points.push((format!("toolConfig.tools.{index}"), index == 0));
                first_tool_point.get_or_insert(index);
            }
        }
    }
    for (index, block) in request.system.iter().enumerate() {
        if let SystemBlock::CachePoint { one_hour: long } = block {
            one_hour.push(*long);
            points.push((format!("system.{index}"), index == 0));
        }
    }
    for (message_index, message) in request.messages.iter().enumerate() {
        for (index, block) in message.content.iter().enumerate() {
            let ContentBlock::CachePoint { one_hour: long } = block else {
                continue;
            };
            one_hour.push(*long);
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
    check_ttls(&one_hour, capabilities)?;
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

/// `ttl: 1h` only on models with the one-hour cache, and never after a shorter TTL.
///
/// Evidence: the one-hour cache is documented for Claude 4.5-class models only (AWS's
/// prompt-caching page; `ChatCapabilities::one_hour_cache`). What Bedrock answers when another
/// model gets `1h` is not public: the emulator refuses it, an unverified stricter choice, so that a gateway
/// sending it is caught. The ordering rule (TTLs must not increase from tools to system to
/// messages) is from Strands' Bedrock docs (`BedrockCacheTTL`) and
/// strands-agents/sdk-python#2232, which hit it on Claude Haiku 4.5; both messages are the
/// emulator's own wording, Bedrock's is not public.
fn check_ttls(one_hour: &[bool], capabilities: &ChatCapabilities) -> Result<(), ApiError> {
    if one_hour.iter().any(|long| *long) && !capabilities.one_hour_cache {
        return Err(ApiError::validation(
            "This model doesn't support the 1h cache TTL. Remove ttl from cachePoint and try again.",
        ));
    }
    if one_hour.windows(2).any(|pair| !pair[0] && pair[1]) {
        return Err(ApiError::validation(
            "A cachePoint with ttl 1h can't come after one with a shorter TTL. Order cache points from the longest TTL to the shortest and try again.",
        ));
    }
    Ok(())
}
