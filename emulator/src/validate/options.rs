//! Rules for the request's side options: guardrails, prompt variables,
//! request metadata, response field paths and structured output.

use serde_json::Value;

use crate::catalog::ResolvedModel;
use crate::error::ApiError;
use crate::request::ConverseRequest;

const GUARDRAIL_ID_PATTERN: &str =
    "(([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))";
const GUARDRAIL_VERSION_PATTERN: &str = "(([1-9][0-9]{0,7})|(DRAFT))";
const METADATA_PATTERN: &str = "[a-zA-Z0-9\\s:_@$#=/+,-.]";
const MAX_METADATA_PAIRS: usize = 16;
const MAX_RESPONSE_FIELD_PATHS: usize = 10;

/// Checks the options and returns the structured-output schema, if any.
pub fn check(
    request: &ConverseRequest,
    resolved: &ResolvedModel,
) -> Result<Option<Value>, ApiError> {
    // `promptVariables` without a prompt ARN is ignored, not refused: botocore's
    // `ConverseRequest.promptVariables` doc says "This field is ignored if you don't specify a
    // prompt resource in the modelId field."
    let _ = resolved.is_prompt_resource;
    // Both members are optional in botocore's `GuardrailConfiguration` (no `required` list);
    // what Bedrock does with a guardrail lacking them is unconfirmed, so only given values are
    // checked.
    if let Some(guardrail) = &request.guardrail {
        if let Some(identifier) = &guardrail.identifier {
            check_guardrail_identifier(identifier)?;
        }
        if let Some(version) = &guardrail.version {
            check_guardrail_version(version)?;
        }
    }
    if let Some(metadata) = &request.request_metadata {
        check_metadata(metadata)?;
    }
    check_response_field_paths(&request.additional_response_field_paths)?;
    let Some(output_config) = &request.output_config else {
        return Ok(None);
    };
    if output_config.effort.is_some() {
        return Err(ApiError::validation(
            "This model doesn't support the outputConfig.effort field. Remove outputConfig.effort and try again.",
        ));
    }
    let Some(format) = &output_config.json_schema else {
        return Ok(None);
    };
    if !resolved.capabilities.structured_output {
        return Err(ApiError::validation(
            "This model doesn't support the outputConfig.textFormat field. Remove outputConfig.textFormat and try again.",
        ));
    }
    let schema: Value = serde_json::from_str(&format.schema_text).map_err(|_| {
        ApiError::validation(
            "The schema in outputConfig.textFormat.structure.jsonSchema.schema isn't valid JSON. Provide a JSON Schema object and try again.",
        )
    })?;
    if !schema.is_object() {
        return Err(ApiError::validation(
            "The schema in outputConfig.textFormat.structure.jsonSchema.schema must be a JSON object. Provide a JSON Schema object and try again.",
        ));
    }
    check_closed_objects(&schema, "schema")?;
    Ok(Some(schema))
}

fn check_guardrail_identifier(identifier: &str) -> Result<(), ApiError> {
    let identifier_path = "guardrailConfig.guardrailIdentifier";
    if identifier.is_empty() {
        return Err(ApiError::constraint(
            identifier,
            identifier_path,
            "have length greater than or equal to 1",
        ));
    }
    if !is_guardrail_identifier(identifier) {
        return Err(ApiError::constraint(
            identifier,
            identifier_path,
            &format!("satisfy regular expression pattern: {GUARDRAIL_ID_PATTERN}"),
        ));
    }
    Ok(())
}

fn check_guardrail_version(version: &str) -> Result<(), ApiError> {
    let version_path = "guardrailConfig.guardrailVersion";
    if version.is_empty() {
        return Err(ApiError::constraint(
            version,
            version_path,
            "have length greater than or equal to 1",
        ));
    }
    let numeric = !version.starts_with('0')
        && version.len() <= 8
        && version.bytes().all(|b| b.is_ascii_digit());
    if version != "DRAFT" && !numeric {
        return Err(ApiError::constraint(
            version,
            version_path,
            &format!("satisfy regular expression pattern: {GUARDRAIL_VERSION_PATTERN}"),
        ));
    }
    Ok(())
}

fn is_lower_alphanumeric(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A guardrail id (`abc123`) or guardrail ARN.
fn is_guardrail_identifier(identifier: &str) -> bool {
    if is_lower_alphanumeric(identifier) {
        return true;
    }
    let parts: Vec<&str> = identifier.split(':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    *arn == "arn"
        && partition.starts_with("aws")
        && *service == "bedrock"
        && !region.is_empty()
        && region.len() <= 20
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("guardrail/")
            .is_some_and(is_lower_alphanumeric)
}

fn is_metadata_text(text: &str) -> bool {
    text.chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch.is_whitespace() || ":_@$#=/+,-.".contains(ch))
}

fn check_metadata(metadata: &std::collections::BTreeMap<String, String>) -> Result<(), ApiError> {
    if metadata.len() > MAX_METADATA_PAIRS {
        return Err(ApiError::constraint(
            format!("{} entries", metadata.len()),
            "requestMetadata",
            &format!("have length less than or equal to {MAX_METADATA_PAIRS}"),
        ));
    }
    for (key, value) in metadata {
        if key.is_empty() || key.chars().count() > 256 || !is_metadata_text(key) {
            return Err(ApiError::constraint(
                key,
                "requestMetadata",
                &format!("satisfy regular expression pattern: {METADATA_PATTERN}{{1,256}}"),
            ));
        }
        if value.chars().count() > 256 || !is_metadata_text(value) {
            return Err(ApiError::constraint(
                value,
                &format!("requestMetadata.{key}"),
                &format!("satisfy regular expression pattern: {METADATA_PATTERN}{{0,256}}"),
            ));
        }
    }
    Ok(())
}

fn check_response_field_paths(paths: &[String]) -> Result<(), ApiError> {
    if paths.len() > MAX_RESPONSE_FIELD_PATHS {
        return Err(ApiError::constraint(
            format!("{} entries", paths.len()),
            "additionalModelResponseFieldPaths",
            &format!("have length less than or equal to {MAX_RESPONSE_FIELD_PATHS}"),
        ));
    }
    for (index, path) in paths.iter().enumerate() {
        if !path.starts_with('/') || path.len() > 256 {
            return Err(ApiError::validation(format!(
                "The value at additionalModelResponseFieldPaths.{index} isn't a valid JSON Pointer. Use a path such as /stop_sequence and try again."
            )));
        }
    }
    Ok(())
}

/// Structured output needs every object schema closed with
/// `"additionalProperties": false`, as Anthropic's validator demands.
fn check_closed_objects(schema: &Value, path: &str) -> Result<(), ApiError> {
    match schema {
        Value::Object(object) => {
            let is_object_type = match object.get("type") {
                Some(Value::String(kind)) => kind == "object",
                Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "object"),
                _ => false,
            };
            if is_object_type && object.get("additionalProperties") != Some(&Value::Bool(false)) {
                return Err(ApiError::from_model(format!(
                    "output_config.format.{path}: For 'object' type, 'additionalProperties' must be explicitly set to false"
                )));
            }
            for (key, child) in object {
                if key != "const" && key != "enum" && key != "default" && key != "examples" {
                    check_closed_objects(child, &format!("{path}.{key}"))?;
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(index, item)| check_closed_objects(item, &format!("{path}.{index}"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_guardrail(identifier: &str, version: &str) -> Result<(), ApiError> {
        check_guardrail_identifier(identifier)?;
        check_guardrail_version(version)
    }
    use serde_json::json;

    #[test]
    fn guardrail_ids_follow_bedrock_patterns() {
        assert!(check_guardrail("abc123", "1").is_ok());
        assert!(
            check_guardrail(
                "arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123",
                "DRAFT"
            )
            .is_ok()
        );
        assert!(check_guardrail("", "1").is_err());
        assert!(check_guardrail("Bad_Id", "1").is_err());
        assert!(check_guardrail("abc", "").is_err());
        assert!(check_guardrail("abc", "01").is_err());
        assert!(check_guardrail("abc", "draft").is_err());
    }

    #[test]
    fn structured_output_objects_must_be_closed() {
        let closed = json!({"type": "object", "properties": {"a": {"type": "object", "additionalProperties": false}}, "additionalProperties": false});
        assert!(check_closed_objects(&closed, "schema").is_ok());
        let open = json!({"type": "object", "properties": {"a": {"type": "object"}}, "additionalProperties": false});
        let error = check_closed_objects(&open, "schema").unwrap_err();
        assert!(error.message.contains("schema.properties.a"), "{error}");
    }
}
