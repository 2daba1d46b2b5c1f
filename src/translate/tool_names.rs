//! Tool names Bedrock accepts, both ways.
//!
//! Converse's `ToolName` (tool specs, toolUse blocks, `toolChoice.tool`) must match
//! `[a-zA-Z0-9_-]{1,64}` (botocore `ToolName`), while clients use dots, spaces and long MCP names
//! (`github.create_issue`, `mcp__server__tool`). Such a name goes to Bedrock rewritten the way
//! tool-call ids are (readable prefix plus a stable hash, see `tools::bedrock_tool_id`), the same
//! in the tool list and in the history, and the reply's tool calls, streamed or not, come back
//! under the client's own name through the [`ToolNames`] of the request.

use std::collections::HashMap;

use crate::openai::chat::{ChatRequest, ToolChoice};
use crate::translate::tools::bedrock_tool_id;

/// The name Bedrock gets for a client's tool name (unchanged when it is valid already).
pub fn bedrock_tool_name(name: &str) -> String {
    bedrock_tool_id(name)
}

/// Bedrock name -> the client's name, for every rewritten name of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolNames(HashMap<String, String>);

impl ToolNames {
    /// The rewritten names among the request's tools, legacy functions, tool choice and the
    /// tool calls of its history.
    pub fn from_request(req: &ChatRequest) -> ToolNames {
        let mut names = ToolNames::default();
        for tool in req.tools.iter().flatten() {
            names.add(&tool.function.name);
        }
        for function in req.functions.iter().flatten() {
            names.add(&function.name);
        }
        if let Some(ToolChoice::Function(name)) = req.tool_choice.as_ref() {
            names.add(name);
        }
        for message in &req.messages {
            for call in message.tool_calls.iter().flatten() {
                names.add(&call.function.name);
            }
            if let Some(function) = &message.function_call {
                names.add(&function.name);
            }
        }
        names
    }

    fn add(&mut self, name: &str) {
        let bedrock = bedrock_tool_name(name);
        if bedrock != name {
            self.0.insert(bedrock, name.to_string());
        }
    }

    /// The client's name for a name Bedrock used.
    pub fn original(&self, bedrock_name: &str) -> String {
        self.0
            .get(bedrock_name)
            .cloned()
            .unwrap_or_else(|| bedrock_name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::request::parse_json;

    #[test]
    fn invalid_names_are_rewritten_and_mapped_back() {
        assert_eq!(bedrock_tool_name("get_weather"), "get_weather");
        let long = format!("mcp__server__{}", "x".repeat(80));
        for name in ["github.create_issue", "two words", long.as_str()] {
            let bedrock = bedrock_tool_name(name);
            assert!(bedrock.len() <= 64, "{bedrock}");
            assert!(
                bedrock
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "{bedrock}"
            );
        }
        let req: ChatRequest = parse_json(
            br#"{"model":"m","messages":[{"role":"user","content":"x"}],
                "tools":[{"type":"function","function":{"name":"github.create_issue"}}]}"#,
        )
        .unwrap();
        let names = ToolNames::from_request(&req);
        assert_eq!(
            names.original(&bedrock_tool_name("github.create_issue")),
            "github.create_issue"
        );
        assert_eq!(names.original("other"), "other");
    }
}
