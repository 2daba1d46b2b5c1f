//! Strict reading of request JSON: every object is read through an
//! [`ObjectReader`] that refuses keys nobody asked for and values of the wrong
//! type, reporting where the problem is, as Bedrock's deserializer does.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// Joins a dotted path and a child key or index.
pub fn child(path: &str, key: impl std::fmt::Display) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

fn wrong_type(path: &str, expected: &str, found: &Value) -> ApiError {
    ApiError::malformed(
        path,
        format!("expected type: {expected}, found: {}", type_name(found)),
    )
}

pub fn as_str<'a>(value: &'a Value, path: &str) -> Result<&'a str, ApiError> {
    value
        .as_str()
        .ok_or_else(|| wrong_type(path, "String", value))
}

pub fn as_bool(value: &Value, path: &str) -> Result<bool, ApiError> {
    value
        .as_bool()
        .ok_or_else(|| wrong_type(path, "Boolean", value))
}

/// A JSON integer (no fraction, no exponent beyond what fits an i64).
pub fn as_integer(value: &Value, path: &str) -> Result<i64, ApiError> {
    value
        .as_i64()
        .ok_or_else(|| wrong_type(path, "Integer", value))
}

pub fn as_number(value: &Value, path: &str) -> Result<f64, ApiError> {
    value
        .as_f64()
        .ok_or_else(|| wrong_type(path, "Number", value))
}

pub fn as_array<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, ApiError> {
    value
        .as_array()
        .ok_or_else(|| wrong_type(path, "JSONArray", value))
}

pub fn as_object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(path, "JSONObject", value))
}

/// Decodes a blob member: Smithy sends blobs as standard base64 in JSON.
pub fn as_blob(value: &Value, path: &str) -> Result<Vec<u8>, ApiError> {
    use base64::Engine;
    let text = as_str(value, path)?;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| ApiError::malformed(path, "the value is not valid base64"))
}

/// A union member: an object with exactly one key set. Returns that key and
/// its value, after checking the key is one of `members`.
pub fn read_union<'a>(
    value: &'a Value,
    path: &str,
    members: &[&str],
) -> Result<(&'a str, &'a Value, String), ApiError> {
    let object = as_object(value, path)?;
    let mut entries = object.iter();
    let (Some((key, member)), None) = (entries.next(), entries.next()) else {
        return Err(ApiError::malformed(
            path,
            format!(
                "a union must have exactly one member set, found {}",
                object.len()
            ),
        ));
    };
    if !members.contains(&key.as_str()) {
        return Err(ApiError::malformed(
            path,
            format!("extraneous key [{key}] is not permitted"),
        ));
    }
    Ok((key.as_str(), member, child(path, key)))
}

/// Reads the members of one JSON object, remembering which keys were read so
/// that [`ObjectReader::finish`] can refuse the rest.
pub struct ObjectReader<'a> {
    path: String,
    object: &'a Map<String, Value>,
    read: Vec<&'static str>,
}

impl<'a> ObjectReader<'a> {
    pub fn new(value: &'a Value, path: &str) -> Result<Self, ApiError> {
        Ok(ObjectReader {
            path: path.to_string(),
            object: as_object(value, path)?,
            read: Vec::new(),
        })
    }

    /// The member `key` and its path, if present.
    pub fn optional(&mut self, key: &'static str) -> Option<(&'a Value, String)> {
        self.read.push(key);
        self.object
            .get(key)
            .map(|value| (value, child(&self.path, key)))
    }

    /// The member `key` and its path; Bedrock refuses requests without it.
    pub fn required(&mut self, key: &'static str) -> Result<(&'a Value, String), ApiError> {
        self.optional(key).ok_or_else(|| {
            ApiError::malformed(&self.path, format!("required key [{key}] not found"))
        })
    }

    pub fn optional_str(&mut self, key: &'static str) -> Result<Option<&'a str>, ApiError> {
        self.optional(key)
            .map(|(value, path)| as_str(value, &path))
            .transpose()
    }

    pub fn required_str(&mut self, key: &'static str) -> Result<&'a str, ApiError> {
        let (value, path) = self.required(key)?;
        as_str(value, &path)
    }

    /// Refuses every key that was not read.
    pub fn finish(self) -> Result<(), ApiError> {
        match self
            .object
            .keys()
            .find(|key| !self.read.contains(&key.as_str()))
        {
            Some(key) => Err(ApiError::malformed(
                &self.path,
                format!("extraneous key [{key}] is not permitted"),
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refuses_unread_keys() {
        let value = json!({"a": 1, "b": 2});
        let mut reader = ObjectReader::new(&value, "x").unwrap();
        reader.optional("a");
        let error = reader.finish().unwrap_err();
        assert!(error.message.contains("#/x: extraneous key [b]"));
    }

    #[test]
    fn unions_take_exactly_one_known_member() {
        assert!(read_union(&json!({"text": "x"}), "p", &["text"]).is_ok());
        assert!(read_union(&json!({}), "p", &["text"]).is_err());
        assert!(read_union(&json!({"text": "x", "image": {}}), "p", &["text", "image"]).is_err());
        assert!(read_union(&json!({"video": {}}), "p", &["text"]).is_err());
    }

    #[test]
    fn reports_types() {
        let error = as_integer(&json!("12"), "inferenceConfig.maxTokens").unwrap_err();
        assert!(
            error
                .message
                .contains("#/inferenceConfig/maxTokens: expected type: Integer, found: String")
        );
        assert!(as_integer(&json!(1.5), "p").is_err());
    }
}
