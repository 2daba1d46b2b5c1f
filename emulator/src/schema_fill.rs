//! Generates a deterministic JSON value that satisfies a JSON Schema, for tool
//! inputs the model "chooses" and for structured-output replies.
//!
//! Only what a model must produce is generated: required properties, the
//! first enum value, the first alternative of a union. Values are fixed per
//! type (`"text"`, `1`, `true`, `[]`) so tests can predict them.

use serde_json::{Map, Value};

/// `$ref` chains deeper than this are cut off with `null`, so a recursive
/// schema cannot recurse forever.
const MAX_DEPTH: usize = 16;

/// A value for `schema`, resolving local `$ref`s against the schema itself.
pub fn fill(schema: &Value) -> Value {
    fill_at(schema, schema, 0)
}

fn fill_at(schema: &Value, root: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    let Some(object) = schema.as_object() else {
        // `true` or a malformed schema: anything goes, an empty object is
        // the least surprising.
        return Value::Object(Map::new());
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        return match resolve_ref(root, reference) {
            Some(target) => fill_at(target, root, depth + 1),
            None => Value::Null,
        };
    }
    if let Some(constant) = object.get("const") {
        return constant.clone();
    }
    if let Some(first) = object
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|values| values.first())
    {
        return first.clone();
    }
    for union in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = object
            .get(union)
            .and_then(Value::as_array)
            .and_then(|alternatives| first_non_null_alternative(alternatives))
        {
            return fill_at(first, root, depth + 1);
        }
    }
    match declared_type(object) {
        Some("string") => Value::String("text".to_string()),
        Some("integer") | Some("number") => Value::from(1),
        Some("boolean") => Value::Bool(true),
        Some("null") => Value::Null,
        Some("array") => fill_array(object, root, depth),
        Some("object") => fill_object(object, root, depth),
        _ if object.contains_key("properties") => fill_object(object, root, depth),
        _ => Value::Object(Map::new()),
    }
}

/// `type` may be a string or a list (`["string", "null"]`): prefer a
/// non-null member.
fn declared_type(object: &Map<String, Value>) -> Option<&str> {
    match object.get("type")? {
        Value::String(kind) => Some(kind),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null")
            .or(Some("null")),
        _ => None,
    }
}

fn first_non_null_alternative(alternatives: &[Value]) -> Option<&Value> {
    alternatives
        .iter()
        .find(|alternative| alternative.get("type").and_then(Value::as_str) != Some("null"))
        .or_else(|| alternatives.first())
}

fn fill_object(object: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    let properties = object.get("properties").and_then(Value::as_object);
    let mut filled = Map::new();
    for name in object
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let property_schema = properties
            .and_then(|properties| properties.get(name))
            .unwrap_or(&Value::Bool(true));
        filled.insert(name.to_string(), fill_at(property_schema, root, depth + 1));
    }
    Value::Object(filled)
}

/// An empty array, unless `minItems` demands items.
fn fill_array(object: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    let min_items = object.get("minItems").and_then(Value::as_u64).unwrap_or(0);
    let item_schema = object.get("items").unwrap_or(&Value::Bool(true));
    let count = min_items.min(16);
    Value::Array(
        (0..count)
            .map(|_| fill_at(item_schema, root, depth + 1))
            .collect(),
    )
}

/// Resolves a local reference such as `#/$defs/Address`.
fn resolve_ref<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_required_properties_by_type() {
        let schema = json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "metric": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "where": {"type": "object", "properties": {"lat": {"type": "number"}}, "required": ["lat"]},
                "optional": {"type": "string"}
            },
            "required": ["city", "days", "metric", "tags", "unit", "where"]
        });
        assert_eq!(
            fill(&schema),
            json!({"city": "text", "days": 1, "metric": true, "tags": [],
                   "unit": "celsius", "where": {"lat": 1}})
        );
    }

    #[test]
    fn follows_refs_and_unions() {
        let schema = json!({
            "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
            "type": "object",
            "properties": {
                "p": {"$ref": "#/$defs/Point"},
                "maybe": {"anyOf": [{"type": "null"}, {"type": "string"}]},
                "kinds": {"type": ["null", "integer"]}
            },
            "required": ["p", "maybe", "kinds"]
        });
        assert_eq!(
            fill(&schema),
            json!({"p": {"x": 1}, "maybe": "text", "kinds": 1})
        );
    }

    #[test]
    fn recursive_schemas_terminate() {
        let schema = json!({"$ref": "#"});
        assert_eq!(fill(&schema), Value::Null);
    }
}
