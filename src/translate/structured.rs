//! Structured output: OpenAI `response_format` -> Bedrock, and the JSON answer back as content.
//!
//! Three ways, chosen per model from the capability table:
//! - native: models with Converse structured output get `outputConfig.textFormat` carrying the
//!   JSON schema (as a string, which is how Bedrock takes it);
//! - forced tool: models with tool use get one tool whose input schema is the wanted schema and
//!   a `toolChoice` that forces it; the tool's input is the answer, returned as `content`;
//! - instruction: models with neither (or requests that bring their own tools, which a forced
//!   tool would shut out) get a system instruction to answer with JSON only.

use aws_sdk_bedrockruntime::types::{
    JsonSchemaDefinition, OutputConfig, OutputFormat, OutputFormatStructure, OutputFormatType,
    ToolInputSchema, ToolSpecification,
};
use serde_json::{Value, json};

use crate::capabilities::Capabilities;
use crate::error::ApiError;
use crate::openai::chat::{ChatRequest, ResponseFormat};
use crate::translate::json_doc::to_document;

/// The tool forced for structured output; its calls come back as content, never as tool calls.
pub const RESPONSE_TOOL: &str = "json_response";

/// How a request's `response_format` is honoured.
#[derive(Debug, Clone)]
pub enum StructuredOutput {
    None,
    Native(OutputConfig),
    ForcedTool(ToolSpecification),
    Instruction(String),
}

/// `response_format` -> the way to honour it on this model.
pub fn structured_output(
    req: &ChatRequest,
    caps: &Capabilities,
) -> Result<StructuredOutput, ApiError> {
    let (schema, name, description) = match &req.response_format {
        None | Some(ResponseFormat::Text) => return Ok(StructuredOutput::None),
        Some(ResponseFormat::JsonObject) => (None, "json_object".to_string(), None),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let schema = match &json_schema.schema {
                None | Some(Value::Null) => None,
                Some(schema @ Value::Object(_)) => Some(schema.clone()),
                Some(_) => {
                    return Err(ApiError::invalid_param(
                        "response_format.json_schema.schema",
                        "`response_format.json_schema.schema` must be a JSON Schema object.",
                    ));
                }
            };
            (
                schema,
                json_schema.name.clone(),
                json_schema.description.clone(),
            )
        }
    };
    let client_tools = req.tools.as_ref().is_some_and(|t| !t.is_empty())
        || req.functions.as_ref().is_some_and(|f| !f.is_empty());
    if let (Some(schema), true) = (&schema, caps.structured_output) {
        let definition = JsonSchemaDefinition::builder()
            .schema(closed_objects(schema.clone()).to_string())
            .name(sanitize_name(&name))
            .set_description(description)
            .build()
            .map_err(|e| ApiError::invalid_param("response_format", e.to_string()))?;
        let format = OutputFormat::builder()
            .r#type(OutputFormatType::JsonSchema)
            .structure(OutputFormatStructure::JsonSchema(definition))
            .build()
            .map_err(|e| ApiError::invalid_param("response_format", e.to_string()))?;
        return Ok(StructuredOutput::Native(
            OutputConfig::builder().text_format(format).build(),
        ));
    }
    if caps.tools && caps.forced_tool_choice && !client_tools {
        let schema = schema.unwrap_or_else(|| json!({"type": "object"}));
        let spec = ToolSpecification::builder()
            .name(RESPONSE_TOOL)
            .description(
                description.unwrap_or_else(|| "Give the answer as this JSON object.".into()),
            )
            .input_schema(ToolInputSchema::Json(to_document(&schema)))
            .build()
            .map_err(|e| ApiError::invalid_param("response_format", e.to_string()))?;
        return Ok(StructuredOutput::ForcedTool(spec));
    }
    let instruction = match schema {
        Some(schema) => format!(
            "Answer with a single JSON value that conforms to this JSON Schema, and nothing else (no prose, no code fences): {schema}"
        ),
        None => {
            "Answer with a single valid JSON object and nothing else (no prose, no code fences)."
                .to_string()
        }
    };
    Ok(StructuredOutput::Instruction(instruction))
}

/// The schema with `additionalProperties: false` on every object that does not say otherwise:
/// OpenAI's strict mode implies it, and Bedrock's native structured output insists on it.
pub fn closed_objects(mut schema: Value) -> Value {
    close(&mut schema);
    schema
}

fn close(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    let is_object = map.get("type").is_some_and(|t| {
        t == "object"
            || t.as_array()
                .is_some_and(|a| a.iter().any(|t| t == "object"))
    }) || map.contains_key("properties");
    if is_object && !map.contains_key("additionalProperties") {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    for key in ["properties", "$defs", "definitions", "patternProperties"] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            children.values_mut().for_each(close);
        }
    }
    for key in ["items", "additionalProperties", "not", "if", "then", "else"] {
        if let Some(child) = map.get_mut(key) {
            close(child);
        }
    }
    for key in ["anyOf", "allOf", "oneOf", "prefixItems"] {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            children.iter_mut().for_each(close);
        }
    }
}

/// Bedrock's schema names allow letters, digits, `_` and `-`.
fn sanitize_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "response".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closes_nested_objects_but_keeps_explicit_choices() {
        let schema = closed_objects(json!({"type": "object", "properties": {
            "a": {"type": "object", "properties": {}},
            "b": {"type": "array", "items": {"type": "object"}},
            "c": {"type": "object", "additionalProperties": true}}}));
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["properties"]["a"]["additionalProperties"], false);
        assert_eq!(
            schema["properties"]["b"]["items"]["additionalProperties"],
            false
        );
        assert_eq!(schema["properties"]["c"]["additionalProperties"], true);
    }
    use crate::capabilities::capabilities;
    use crate::openai::request::parse_json;

    fn plan(json: &str, model: &str) -> StructuredOutput {
        let req: ChatRequest = parse_json(json.as_bytes()).unwrap();
        structured_output(&req, &capabilities(model)).unwrap()
    }

    const SCHEMA: &str = r#""response_format":{"type":"json_schema","json_schema":{"name":"city info","schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}"#;

    #[test]
    fn native_forced_tool_or_instruction() {
        let native = plan(
            &format!(r#"{{"model":"m","messages":[],{SCHEMA}}}"#),
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
        );
        let StructuredOutput::Native(config) = native else {
            panic!("native expected")
        };
        let format = config.text_format.unwrap();
        let definition = format.structure.unwrap();
        let definition = definition.as_json_schema().unwrap();
        assert_eq!(definition.name.as_deref(), Some("city_info"));
        assert!(definition.schema.contains("\"required\""));

        assert!(definition.schema.contains("\"additionalProperties\":false"));

        assert!(matches!(
            plan(&format!(r#"{{"model":"m","messages":[],{SCHEMA}}}"#), "amazon.nova-lite-v1:0"),
            StructuredOutput::ForcedTool(ref spec) if spec.name == RESPONSE_TOOL
        ));
        assert!(matches!(
            plan(
                r#"{"model":"m","messages":[],"response_format":{"type":"json_object"}}"#,
                "mistral.mistral-7b-instruct-v0:2"
            ),
            StructuredOutput::Instruction(_)
        ));
        assert!(matches!(
            plan(
                r#"{"model":"m","messages":[],"response_format":{"type":"text"}}"#,
                "amazon.nova-lite-v1:0"
            ),
            StructuredOutput::None
        ));
    }
}
