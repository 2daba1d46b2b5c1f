//! Function calling: OpenAI `tools`/`tool_choice`/`tool_calls` <-> Converse `toolConfig`,
//! `toolUse` and `toolResult`, both directions side by side.
//!
//! Converse has no "none" tool choice, and it refuses a history that holds tool blocks unless a
//! `toolConfig` is present. Both are answered with a placeholder tool that the client never sees.
//!
//! Over ~450 lines only with its tests (the code is ~350): the offer (`tool_config`) and the
//! calls (`tool_use_block`, `tool_call`) are one id and name mapping, kept in one place.

use aws_sdk_bedrockruntime::types::{
    AnyToolChoice, AutoToolChoice, ContentBlock, SpecificToolChoice, Tool,
    ToolChoice as BedrockToolChoice, ToolConfiguration, ToolInputSchema, ToolResultBlock,
    ToolResultContentBlock, ToolSpecification, ToolUseBlock, ToolUseBlockStart,
};
use serde_json::Value;

use crate::capabilities::Capabilities;
use crate::error::ApiError;
use crate::openai::chat::{
    ChatRequest, FunctionCall, FunctionCallDelta, FunctionDefinition, ToolCall, ToolCallDelta,
    ToolChoice,
};
use crate::translate::caching::CacheBudget;
use crate::translate::json_doc::{to_document, to_value};
use crate::translate::structured::RESPONSE_TOOL;
use crate::translate::tool_names::bedrock_tool_name;

/// The tool offered when Bedrock needs a `toolConfig` but the client wants no tool called.
pub const PLACEHOLDER_TOOL: &str = "no_tool_available";

/// The functions a request offers (`tools`, or legacy `functions`), with caching markers.
fn offered_functions(req: &ChatRequest) -> Vec<(&FunctionDefinition, bool)> {
    let mut offered = all_functions(req);
    if let Some(ToolChoice::Allowed { names, .. }) = &req.tool_choice {
        offered.retain(|(f, _)| names.contains(&f.name));
    }
    offered
}

fn all_functions(req: &ChatRequest) -> Vec<(&FunctionDefinition, bool)> {
    if let Some(tools) = &req.tools {
        tools
            .iter()
            .map(|t| (&t.function, t.cache_control.is_some()))
            .collect()
    } else if let Some(functions) = &req.functions {
        functions.iter().map(|f| (f, false)).collect()
    } else {
        Vec::new()
    }
}

/// The client's tool choice (`tool_choice`, or legacy `function_call`), with an allowed-tools
/// choice read as its mode (the tool list itself is narrowed by `offered_functions`).
fn requested_choice(req: &ChatRequest) -> Option<&ToolChoice> {
    match req.tool_choice.as_ref().or(req.function_call.as_ref())? {
        ToolChoice::Allowed { required: true, .. } => Some(&ToolChoice::Required),
        ToolChoice::Allowed {
            required: false, ..
        } => Some(&ToolChoice::Auto),
        choice => Some(choice),
    }
}

/// OpenAI tools -> Converse `toolConfig`.
///
/// `history_has_tools` says whether earlier turns hold toolUse/toolResult blocks (then a config
/// is mandatory). `cache_after_tools` asks for a cache point after the tool list.
pub fn tool_config(
    req: &ChatRequest,
    history_has_tools: bool,
    caps: &Capabilities,
    model_id: &str,
    cache: &mut CacheBudget,
    cache_after_tools: bool,
    forced: Option<ToolSpecification>,
) -> Result<Option<ToolConfiguration>, ApiError> {
    let functions = offered_functions(req);
    let choice = requested_choice(req);
    if let Some(spec) = forced {
        // Structured output through a forced tool (see `structured`); the client sent no tools.
        return ToolConfiguration::builder()
            .tools(Tool::ToolSpec(spec))
            .tool_choice(if caps.named_tool_choice {
                BedrockToolChoice::Tool(
                    SpecificToolChoice::builder()
                        .name(RESPONSE_TOOL)
                        .build()
                        .map_err(build_error)?,
                )
            } else {
                // The only tool offered: `any` forces it just the same.
                BedrockToolChoice::Any(AnyToolChoice::builder().build())
            })
            .build()
            .map(Some)
            .map_err(build_error);
    }
    let offer = !functions.is_empty() && choice != Some(&ToolChoice::None);
    if offer && !caps.tools {
        return Err(ApiError::invalid_param(
            "tools",
            format!(
                "The model `{model_id}` does not support tool use on Bedrock. Remove `tools`, or choose a model that supports them."
            ),
        ));
    }
    let mut tools = Vec::new();
    if offer {
        for (index, (function, cache_marked)) in functions.iter().enumerate() {
            tools.push(Tool::ToolSpec(tool_spec(function, index)?));
            if let Some(point) = cache.take_if(*cache_marked && caps.tool_caching) {
                tools.push(Tool::CachePoint(point));
            }
        }
        if cache_after_tools
            && caps.tool_caching
            && !matches!(tools.last(), Some(Tool::CachePoint(_)))
            && let Some(point) = cache.take()
        {
            tools.push(Tool::CachePoint(point));
        }
    } else if history_has_tools {
        tools.push(Tool::ToolSpec(placeholder_spec()));
    } else {
        return Ok(None);
    }
    let auto = || Some(BedrockToolChoice::Auto(AutoToolChoice::builder().build()));
    let bedrock_choice = match choice {
        // Models that cannot be forced get `auto` plus an instruction (`forcing_instruction`).
        Some(ToolChoice::Required | ToolChoice::Function(_))
            if offer && !caps.forced_tool_choice =>
        {
            if let Some(ToolChoice::Function(name)) = choice {
                check_named_function(&functions, name)?;
            }
            auto()
        }
        Some(ToolChoice::Required) if offer => {
            Some(BedrockToolChoice::Any(AnyToolChoice::builder().build()))
        }
        // `any` forces a call; the instruction (`forcing_instruction`) names the tool.
        Some(ToolChoice::Function(name)) if offer && !caps.named_tool_choice => {
            check_named_function(&functions, name)?;
            Some(BedrockToolChoice::Any(AnyToolChoice::builder().build()))
        }
        Some(ToolChoice::Function(name)) if offer => {
            check_named_function(&functions, name)?;
            Some(BedrockToolChoice::Tool(
                SpecificToolChoice::builder()
                    .name(bedrock_tool_name(name))
                    .build()
                    .map_err(build_error)?,
            ))
        }
        Some(ToolChoice::Auto) if offer => auto(),
        _ => None,
    };
    ToolConfiguration::builder()
        .set_tools(Some(tools))
        .set_tool_choice(bedrock_choice)
        .build()
        .map(Some)
        .map_err(build_error)
}

fn check_named_function(
    functions: &[(&FunctionDefinition, bool)],
    name: &str,
) -> Result<(), ApiError> {
    if functions.iter().any(|(f, _)| f.name == name) {
        return Ok(());
    }
    Err(ApiError::invalid_param(
        "tool_choice",
        format!("`tool_choice` names the function `{name}`, which is not among `tools`."),
    ))
}

/// For models that only take `toolChoice: auto` (or `any` but not `tool`): the instruction that
/// asks for the call the client's `tool_choice` demands, where Bedrock would refuse `any`/`tool`.
pub fn forcing_instruction(req: &ChatRequest, caps: &Capabilities) -> Option<String> {
    if caps.named_tool_choice || offered_functions(req).is_empty() {
        return None;
    }
    match requested_choice(req)? {
        ToolChoice::Required if !caps.forced_tool_choice => {
            Some("You must call one of the available tools in this reply.".into())
        }
        ToolChoice::Function(name) => Some(format!(
            "You must call the tool `{}` in this reply.",
            bedrock_tool_name(name)
        )),
        _ => None,
    }
}

fn tool_spec(function: &FunctionDefinition, index: usize) -> Result<ToolSpecification, ApiError> {
    let schema = match &function.parameters {
        None | Some(Value::Null) => serde_json::json!({"type": "object", "properties": {}}),
        Some(Value::Object(map)) => Value::Object(map.clone()),
        Some(_) => {
            return Err(ApiError::invalid_param(
                format!("tools[{index}].function.parameters"),
                "`parameters` must be a JSON Schema object.",
            ));
        }
    };
    ToolSpecification::builder()
        .name(bedrock_tool_name(&function.name))
        .set_description(
            function
                .description
                .clone()
                .filter(|d| !d.trim().is_empty()),
        )
        .input_schema(ToolInputSchema::Json(to_document(&schema)))
        .build()
        .map_err(build_error)
}

fn placeholder_spec() -> ToolSpecification {
    ToolSpecification::builder()
        .name(PLACEHOLDER_TOOL)
        .description("Never call this tool. No tools are available in this turn.")
        .input_schema(ToolInputSchema::Json(to_document(
            &serde_json::json!({"type": "object", "properties": {}}),
        )))
        .build()
        .expect("placeholder tool spec has every required field")
}

/// A tool-call id Bedrock accepts (`^[a-zA-Z0-9_-]{1,64}$`). Ids from other providers
/// (`functions.get_weather:0`), empty or over-long ones are rewritten, the same way on the
/// toolUse and the toolResult side, so the pair still matches. Valid ids pass unchanged.
pub fn bedrock_tool_id(id: &str) -> String {
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if !id.is_empty() && id.len() <= 64 && id.chars().all(valid) {
        return id.to_string();
    }
    // FNV-1a: stable across processes and releases, unlike std's hasher.
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let readable: String = id
        .chars()
        .map(|c| if valid(c) { c } else { '_' })
        .take(40)
        .collect();
    format!("{readable}_{hash:016x}")
}

/// Assistant history: an OpenAI tool call -> a Converse toolUse block.
pub fn tool_use_block(
    call_id: &str,
    function: &FunctionCall,
    param: &str,
) -> Result<ContentBlock, ApiError> {
    let arguments = function.arguments.trim();
    let input = if arguments.is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str::<Value>(arguments).map_err(|e| {
            ApiError::invalid_param(
                format!("{param}.function.arguments"),
                format!("`{param}.function.arguments` is not valid JSON ({e})."),
            )
        })?
    };
    let input = match input {
        Value::Object(_) => input,
        // Bedrock wants an object; keep a non-object argument rather than lose it.
        other => serde_json::json!({ "value": other }),
    };
    ToolUseBlock::builder()
        .tool_use_id(bedrock_tool_id(call_id))
        .name(bedrock_tool_name(&function.name))
        .input(to_document(&input))
        .build()
        .map(ContentBlock::ToolUse)
        .map_err(build_error)
}

/// A `role: "tool"` message -> a Converse toolResult block. JSON object results stay JSON.
pub fn tool_result_block(tool_call_id: &str, text: &str) -> Result<ContentBlock, ApiError> {
    let content = match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => ToolResultContentBlock::Json(to_document(&value)),
        _ if text.trim().is_empty() => ToolResultContentBlock::Text("(empty result)".to_string()),
        _ => ToolResultContentBlock::Text(text.to_string()),
    };
    ToolResultBlock::builder()
        .tool_use_id(bedrock_tool_id(tool_call_id))
        .content(content)
        .build()
        .map(ContentBlock::ToolResult)
        .map_err(build_error)
}

/// Whether a tool name is one of the gateway's own (placeholder, structured output), which
/// the client never sees as a tool call.
pub fn is_internal_tool(name: &str) -> bool {
    name == PLACEHOLDER_TOOL || name == RESPONSE_TOOL
}

/// Reply: a Converse toolUse block -> an OpenAI tool call. `None` for the gateway's own tools.
pub fn tool_call(block: &ToolUseBlock) -> Option<ToolCall> {
    if is_internal_tool(&block.name) {
        return None;
    }
    Some(ToolCall {
        id: block.tool_use_id.clone(),
        kind: "function".to_string(),
        function: FunctionCall {
            name: block.name.clone(),
            arguments: to_value(&block.input).to_string(),
        },
    })
}

/// Stream: the start of a toolUse block -> the first delta of tool call number `index`.
pub fn tool_call_start(start: &ToolUseBlockStart, index: u32) -> ToolCallDelta {
    ToolCallDelta {
        index,
        id: Some(start.tool_use_id.clone()),
        kind: Some("function".to_string()),
        function: FunctionCallDelta {
            name: Some(start.name.clone()),
            arguments: String::new(),
        },
    }
}

/// Stream: a fragment of tool call `index`'s arguments.
pub fn tool_call_fragment(index: u32, fragment: String) -> ToolCallDelta {
    ToolCallDelta {
        index,
        id: None,
        kind: None,
        function: FunctionCallDelta {
            name: None,
            arguments: fragment,
        },
    }
}

fn build_error(e: aws_smithy_types::error::operation::BuildError) -> ApiError {
    ApiError::invalid_request(format!("Could not build the Bedrock request: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::request::parse_json;

    fn request(json: &str) -> ChatRequest {
        parse_json(json.as_bytes()).unwrap()
    }

    /// `tool_config` for a model that can do everything, without caching or structured output.
    fn config_for(
        req: &ChatRequest,
        history_has_tools: bool,
    ) -> Result<Option<ToolConfiguration>, ApiError> {
        let caps = crate::capabilities::PERMISSIVE;
        tool_config(
            req,
            history_has_tools,
            &caps,
            "m",
            &mut CacheBudget::new(false),
            false,
            None,
        )
    }

    const TOOLS: &str = r#""tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]"#;

    #[test]
    fn choices_map_to_converse() {
        let req = request(&format!(
            r#"{{"model":"m","messages":[],{TOOLS},"tool_choice":"required"}}"#
        ));
        let config = config_for(&req, false).unwrap().unwrap();
        assert!(matches!(
            config.tool_choice,
            Some(BedrockToolChoice::Any(_))
        ));
        let req = request(&format!(
            r#"{{"model":"m","messages":[],{TOOLS},"tool_choice":{{"type":"function","function":{{"name":"get_weather"}}}}}}"#
        ));
        let config = config_for(&req, false).unwrap().unwrap();
        assert!(
            matches!(config.tool_choice, Some(BedrockToolChoice::Tool(ref t)) if t.name == "get_weather")
        );
        let req = request(&format!(
            r#"{{"model":"m","messages":[],{TOOLS},"tool_choice":{{"type":"function","function":{{"name":"nope"}}}}}}"#
        ));
        assert_eq!(
            config_for(&req, false).unwrap_err().param.as_deref(),
            Some("tool_choice")
        );
    }

    #[test]
    fn a_named_choice_is_any_plus_an_instruction_without_tool_choice_tool() {
        let req = request(&format!(
            r#"{{"model":"m","messages":[],{TOOLS},"tool_choice":{{"type":"function","function":{{"name":"get_weather"}}}}}}"#
        ));
        let caps = crate::capabilities::capabilities("mistral.mistral-large-2407-v1:0");
        let config = tool_config(
            &req,
            false,
            &caps,
            "m",
            &mut CacheBudget::new(false),
            false,
            None,
        )
        .unwrap()
        .unwrap();
        assert!(matches!(
            config.tool_choice,
            Some(BedrockToolChoice::Any(_))
        ));
        assert!(
            forcing_instruction(&req, &caps)
                .unwrap()
                .contains("`get_weather`")
        );
        let required = request(&format!(
            r#"{{"model":"m","messages":[],{TOOLS},"tool_choice":"required"}}"#
        ));
        assert_eq!(forcing_instruction(&required, &caps), None);
        assert_eq!(
            forcing_instruction(&req, &crate::capabilities::PERMISSIVE),
            None
        );
    }

    #[test]
    fn none_offers_nothing_or_only_the_placeholder() {
        let req = request(&format!(
            r#"{{"model":"m","messages":[],{TOOLS},"tool_choice":"none"}}"#
        ));
        assert!(config_for(&req, false).unwrap().is_none());
        let config = config_for(&req, true).unwrap().unwrap();
        assert_eq!(config.tools.len(), 1);
        assert!(matches!(&config.tools[0], Tool::ToolSpec(s) if s.name == PLACEHOLDER_TOOL));
        assert!(config.tool_choice.is_none());
    }

    #[test]
    fn tool_calls_round_trip() {
        let call = FunctionCall {
            name: "f".into(),
            arguments: "".into(),
        };
        let ContentBlock::ToolUse(block) =
            tool_use_block("call_1", &call, "messages[1].tool_calls[0]").unwrap()
        else {
            panic!()
        };
        let back = tool_call(&block).unwrap();
        assert_eq!(back.function.arguments, "{}");
        assert_eq!(back.id, "call_1");
        let bad = FunctionCall {
            name: "f".into(),
            arguments: "{oops".into(),
        };
        let err = tool_use_block("c", &bad, "messages[1].tool_calls[0]").unwrap_err();
        assert_eq!(
            err.param.as_deref(),
            Some("messages[1].tool_calls[0].function.arguments")
        );
    }

    #[test]
    fn foreign_tool_ids_are_rewritten_consistently() {
        assert_eq!(bedrock_tool_id("tooluse_abc-1"), "tooluse_abc-1");
        let rewritten = bedrock_tool_id("functions.get_weather:0");
        assert!(
            rewritten.starts_with("functions_get_weather_0_"),
            "{rewritten}"
        );
        assert_eq!(rewritten, bedrock_tool_id("functions.get_weather:0"));
        assert_ne!(
            bedrock_tool_id("a.b"),
            bedrock_tool_id("a:b"),
            "distinct ids stay distinct"
        );
        let long = "x".repeat(100);
        assert!(bedrock_tool_id(&long).len() <= 64);
        assert!(!bedrock_tool_id("").is_empty());
        let ContentBlock::ToolUse(call) = tool_use_block(
            "a.b",
            &FunctionCall {
                name: "f".into(),
                arguments: "{}".into(),
            },
            "p",
        )
        .unwrap() else {
            panic!()
        };
        let ContentBlock::ToolResult(result) = tool_result_block("a.b", "ok").unwrap() else {
            panic!()
        };
        assert_eq!(call.tool_use_id, result.tool_use_id);
    }

    #[test]
    fn json_tool_results_stay_json() {
        let ContentBlock::ToolResult(r) = tool_result_block("c", r#"{"temp":21}"#).unwrap() else {
            panic!()
        };
        assert!(matches!(r.content[0], ToolResultContentBlock::Json(_)));
        let ContentBlock::ToolResult(r) = tool_result_block("c", "sunny").unwrap() else {
            panic!()
        };
        assert!(matches!(r.content[0], ToolResultContentBlock::Text(ref t) if t == "sunny"));
    }
}
