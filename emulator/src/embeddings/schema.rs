//! The JSON-schema checks the embedding families share, with the messages Bedrock's schema
//! validation gives (`#/path: expected minLength: 1, actual: 0`, `... is not a valid enum
//! value`, `array items are not unique`).

use serde_json::Value;

use crate::error::ApiError;
use crate::json_reader::{as_array, as_integer, as_str, child};

/// A non-empty string of at most `max_chars` characters.
pub(super) fn text_at<'a>(
    value: &'a Value,
    path: &str,
    max_chars: usize,
) -> Result<&'a str, ApiError> {
    let text = as_str(value, path)?;
    let chars = text.chars().count();
    if chars == 0 {
        return Err(ApiError::malformed(
            path,
            "expected minLength: 1, actual: 0",
        ));
    }
    if chars > max_chars {
        return Err(ApiError::malformed(
            path,
            format!("expected maxLength: {max_chars}, actual: {chars}"),
        ));
    }
    Ok(text)
}

/// One of the `allowed` strings.
pub(super) fn enum_at<'a>(
    value: &'a Value,
    path: &str,
    allowed: &[&str],
) -> Result<&'a str, ApiError> {
    let text = as_str(value, path)?;
    if allowed.contains(&text) {
        Ok(text)
    } else {
        Err(ApiError::malformed(
            path,
            format!("{text} is not a valid enum value"),
        ))
    }
}

/// One of the `allowed` integers.
pub(super) fn int_enum_at(value: &Value, path: &str, allowed: &[i64]) -> Result<usize, ApiError> {
    let number = as_integer(value, path)?;
    if allowed.contains(&number) {
        Ok(usize::try_from(number).unwrap_or(0))
    } else {
        Err(ApiError::malformed(
            path,
            format!("{number} is not a valid enum value"),
        ))
    }
}

/// A non-empty list of distinct embedding type names.
pub(super) fn type_list_at(
    value: &Value,
    path: &str,
    allowed: &[&str],
) -> Result<Vec<String>, ApiError> {
    let items = as_array(value, path)?;
    if items.is_empty() {
        return Err(ApiError::malformed(path, "expected minItems: 1, actual: 0"));
    }
    let mut types: Vec<String> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let name = enum_at(item, &child(path, index), allowed)?;
        if types.iter().any(|seen| seen == name) {
            return Err(ApiError::malformed(path, "array items are not unique"));
        }
        types.push(name.to_string());
    }
    Ok(types)
}
