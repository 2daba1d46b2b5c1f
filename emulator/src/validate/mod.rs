//! Bedrock's semantic checks on a parsed request: the rules that depend on the
//! model's capabilities or on several members together. Each submodule owns
//! one family of rules; this module runs them in order and collects what the
//! reply needs to know.

mod caching;
mod content;
mod conversation;
mod inference;
mod options;
mod reasoning;
mod service_tier;
mod tools;

use serde_json::Value;

use crate::catalog::ResolvedModel;
use crate::error::ApiError;
use crate::request::{ConverseRequest, Operation};

/// Facts established while validating that shape the reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// Extended thinking was switched on for a budget-thinking model.
    pub thinking: bool,
    /// `maxTokens`, or the model's limit when absent.
    pub max_tokens: u64,
    /// The parsed `outputConfig` JSON schema, when structured output was
    /// requested.
    pub output_schema: Option<Value>,
}

/// Runs every rule Bedrock applies before invoking the model.
pub fn validate(
    request: &ConverseRequest,
    resolved: &ResolvedModel,
    operation: Operation,
) -> Result<Facts, ApiError> {
    let capabilities = &resolved.capabilities;
    let output_schema = options::check(request, resolved)?;
    conversation::check(request, resolved)?;
    content::check(request, capabilities)?;
    tools::check_config(request, capabilities, operation)?;
    tools::check_history(request, resolved)?;
    let max_tokens = inference::check(&request.inference, resolved)?;
    let thinking = reasoning::check(request, capabilities, max_tokens)?;
    caching::check(request, capabilities)?;
    service_tier::check(request, capabilities)?;
    Ok(Facts {
        thinking,
        max_tokens,
        output_schema,
    })
}

/// A path to a content block, as Bedrock writes it in messages.
fn block_path(message: usize, block: usize) -> String {
    format!("messages.{message}.content.{block}")
}
