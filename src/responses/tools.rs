//! Responses tools -> chat tool definitions (which `translate::tools` maps to Bedrock), and
//! Bedrock tool names back to Responses output items.
//!
//! - `function` tools are flat (`{type, name, description, parameters, strict}`);
//! - `namespace` tools (a named group of functions, as Codex sends) are flattened to
//!   `<namespace>__<name>` for Bedrock and answered as `function_call` items carrying
//!   `namespace` and the function's own `name`;
//! - `custom` tools (free-form text input) become a tool taking one string, `input`, and are
//!   answered as `custom_tool_call` items;
//! - built-in tools Bedrock cannot run (`web_search`, `file_search`...) are dropped and listed
//!   (the route names them in the `x-gateway-dropped-tools` header), unless `tool_choice` forces
//!   one or `RESPONSES_REFUSED_TOOLS` lists it: then the request is a 400 naming it.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::openai::chat::{FunctionDefinition, ToolChoice, ToolDefinition};

/// Built-in tool types that only OpenAI can run.
pub const BUILT_IN: &[&str] = &[
    "web_search",
    "web_search_preview",
    "web_search_preview_2025_03_11",
    "web_search_2025_08_26",
    "file_search",
    "computer_use_preview",
    "computer_use",
    "code_interpreter",
    "image_generation",
    "local_shell",
    "shell",
    "apply_patch",
    "mcp",
    // Codex sends `{"type":"tool_search","execution":"client",...}` for models it knows (gpt-5.5):
    // a search over deferred tools, which Bedrock has no counterpart for.
    "tool_search",
];

/// Where a Bedrock tool name came from.
#[derive(Debug, Clone, PartialEq)]
enum Origin {
    Function,
    Namespaced { namespace: String, name: String },
    Custom { name: String },
}

/// The request's tools in Bedrock's terms, and the way back.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    pub definitions: Vec<ToolDefinition>,
    /// Built-in tools that were dropped, by type.
    pub dropped: Vec<String>,
    origins: HashMap<String, Origin>,
}

/// The Bedrock name of a function in a namespace.
pub fn namespaced(namespace: &str, name: &str) -> String {
    format!("{namespace}__{name}")
}

fn text_field<'a>(tool: &'a Value, field: &str, param: &str) -> Result<&'a str, ApiError> {
    tool.get(field).and_then(Value::as_str).ok_or_else(|| {
        ApiError::invalid_param(
            format!("{param}.{field}"),
            format!("`{param}.{field}` must be a string."),
        )
    })
}

fn function_definition(tool: &Value, name: String) -> ToolDefinition {
    ToolDefinition {
        kind: "function".into(),
        function: FunctionDefinition {
            name,
            description: tool
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            parameters: tool.get("parameters").filter(|p| !p.is_null()).cloned(),
            strict: tool.get("strict").and_then(Value::as_bool),
        },
        cache_control: None,
    }
}

impl Tools {
    /// `refused`: built-in types that are a 400 rather than dropped (`all` for every one).
    pub fn from_request(tools: &[Value], refused: &[String]) -> Result<Tools, ApiError> {
        let mut out = Tools::default();
        for (i, tool) in tools.iter().enumerate() {
            let param = format!("tools[{i}]");
            let kind = text_field(tool, "type", &param)?;
            match kind {
                "function" => {
                    let name = text_field(tool, "name", &param)?.to_string();
                    out.origins.insert(name.clone(), Origin::Function);
                    out.definitions.push(function_definition(tool, name));
                }
                "namespace" => {
                    let namespace = text_field(tool, "name", &param)?;
                    let inner = tool.get("tools").and_then(Value::as_array).ok_or_else(|| {
                        ApiError::invalid_param(
                            format!("{param}.tools"),
                            format!("`{param}.tools` must be a list of function tools."),
                        )
                    })?;
                    for (j, f) in inner.iter().enumerate() {
                        let fparam = format!("{param}.tools[{j}]");
                        let name = text_field(f, "name", &fparam)?;
                        let flat = namespaced(namespace, name);
                        out.origins.insert(
                            flat.clone(),
                            Origin::Namespaced {
                                namespace: namespace.into(),
                                name: name.into(),
                            },
                        );
                        out.definitions.push(function_definition(f, flat));
                    }
                }
                "custom" => {
                    let name = text_field(tool, "name", &param)?.to_string();
                    out.origins
                        .insert(name.clone(), Origin::Custom { name: name.clone() });
                    let description = tool
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("A tool taking free-form text.");
                    out.definitions.push(ToolDefinition {
                        kind: "function".into(),
                        function: FunctionDefinition {
                            name,
                            description: Some(description.to_string()),
                            parameters: Some(json!({
                                "type": "object",
                                "properties": {"input": {"type": "string", "description": "The tool's whole input, as free-form text."}},
                                "required": ["input"]
                            })),
                            strict: None,
                        },
                        cache_control: None,
                    });
                }
                built_in
                    if BUILT_IN.contains(&built_in)
                        && refused.iter().any(|r| r == built_in || r == "all") =>
                {
                    return Err(ApiError::invalid_param(
                        format!("{param}.type"),
                        format!(
                            "The built-in tool `{built_in}` cannot run on Bedrock, and this gateway refuses it (RESPONSES_REFUSED_TOOLS); remove it from `tools`."
                        ),
                    ));
                }
                built_in if BUILT_IN.contains(&built_in) => {
                    tracing::info!(
                        tool = built_in,
                        "built-in tool dropped: Bedrock cannot run it"
                    );
                    out.dropped.push(built_in.to_string());
                }
                other => {
                    return Err(ApiError::invalid_param(
                        format!("{param}.type"),
                        format!(
                            "Tool type `{other}` is not supported; use `function`, `namespace` or `custom` tools."
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The Bedrock name for a `function_call` item sent back by the client.
    pub fn bedrock_name(namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) if !ns.is_empty() => namespaced(ns, name),
            _ => name.to_string(),
        }
    }

    /// Whether `name` is a custom (free-form) tool.
    pub fn is_custom(&self, name: &str) -> bool {
        matches!(self.origins.get(name), Some(Origin::Custom { .. }))
    }

    /// A tool call in the answer as a Responses output item (without `id`/`status`).
    pub fn call_item(&self, call_id: &str, bedrock_name: &str, arguments: &str) -> Value {
        match self.origins.get(bedrock_name) {
            Some(Origin::Custom { name }) => {
                let input = serde_json::from_str::<Value>(arguments)
                    .ok()
                    .and_then(|v| v.get("input").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_default();
                json!({"type": "custom_tool_call", "call_id": call_id, "name": name, "input": input})
            }
            Some(Origin::Namespaced { namespace, name }) => json!({
                "type": "function_call", "call_id": call_id, "namespace": namespace,
                "name": name, "arguments": arguments
            }),
            _ => json!({
                "type": "function_call", "call_id": call_id, "name": bedrock_name,
                "arguments": arguments
            }),
        }
    }

    /// Responses `tool_choice` -> chat's.
    pub fn tool_choice(&self, choice: &Value) -> Result<ToolChoice, ApiError> {
        let bad = |detail: String| ApiError::invalid_param("tool_choice", detail);
        if let Some(mode) = choice.as_str() {
            return match mode {
                "auto" => Ok(ToolChoice::Auto),
                "none" => Ok(ToolChoice::None),
                "required" => Ok(ToolChoice::Required),
                other => Err(bad(format!(
                    "Unknown `tool_choice` `{other}`: use auto, none, required or a tool."
                ))),
            };
        }
        let kind = choice.get("type").and_then(Value::as_str).unwrap_or("");
        let named = |c: &Value| -> Result<String, ApiError> {
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("`tool_choice.name` must be a string.".into()))?;
            Ok(Tools::bedrock_name(
                c.get("namespace").and_then(Value::as_str),
                name,
            ))
        };
        match kind {
            "function" | "custom" => Ok(ToolChoice::Function(named(choice)?)),
            "allowed_tools" => {
                let required = match choice.get("mode").and_then(Value::as_str) {
                    Some("required") => true,
                    Some("auto") | None => false,
                    Some(other) => {
                        return Err(bad(format!(
                            "Unknown `tool_choice.mode` `{other}`: use auto or required."
                        )));
                    }
                };
                let mut names = Vec::new();
                for tool in choice
                    .get("tools")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let t = tool.get("type").and_then(Value::as_str).unwrap_or("");
                    if BUILT_IN.contains(&t) {
                        continue;
                    }
                    names.push(named(tool)?);
                }
                Ok(ToolChoice::Allowed { required, names })
            }
            built_in if BUILT_IN.contains(&built_in) || built_in.starts_with("web_search") => {
                Err(bad(format!(
                    "`tool_choice` forces the built-in tool `{built_in}`, which Bedrock cannot run; offer a function tool instead."
                )))
            }
            other => Err(bad(format!(
                "Unknown `tool_choice` type `{other}`: use auto, none, required, function, custom or allowed_tools."
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools() -> Tools {
        Tools::from_request(&[
            json!({"type":"function","name":"get_weather","parameters":{"type":"object"}}),
            json!({"type":"namespace","name":"mcp","description":"d","tools":[{"type":"function","name":"read","parameters":{"type":"object"}}]}),
            json!({"type":"custom","name":"apply_patch","description":"patch"}),
            json!({"type":"web_search","external_web_access":false}),
        ], &[])
        .unwrap()
    }

    #[test]
    fn flattens_and_maps_back() {
        let t = tools();
        let names: Vec<_> = t
            .definitions
            .iter()
            .map(|d| d.function.name.as_str())
            .collect();
        assert_eq!(names, ["get_weather", "mcp__read", "apply_patch"]);
        assert_eq!(t.dropped, ["web_search"]);
        let item = t.call_item("c1", "mcp__read", "{}");
        assert_eq!(
            (item["namespace"].as_str(), item["name"].as_str()),
            (Some("mcp"), Some("read"))
        );
        let item = t.call_item("c2", "apply_patch", r#"{"input":"*** Begin"}"#);
        assert_eq!(item["type"], "custom_tool_call");
        assert_eq!(item["input"], "*** Begin");
    }

    #[test]
    fn refused_built_ins_are_a_400() {
        let web = [json!({"type":"web_search"})];
        let err = Tools::from_request(&web, &["all".into()]).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("tools[0].type"));
        assert!(Tools::from_request(&web, &["file_search".into()]).is_ok());
    }

    #[test]
    fn forcing_a_built_in_is_refused() {
        let err = tools()
            .tool_choice(&json!({"type":"web_search"}))
            .unwrap_err();
        assert!(err.message.contains("web_search"));
        assert_eq!(
            tools()
                .tool_choice(&json!({"type":"function","name":"get_weather"}))
                .unwrap(),
            ToolChoice::Function("get_weather".into())
        );
    }
}
