//! Titan Text Embeddings v1 and v2: the request body checked as Bedrock checks it, and the
//! response rendered in Titan's shape, side by side.
//!
//! v1 takes `inputText` alone (any other key is extraneous) and answers 1536 floats; v2 adds
//! `dimensions` (256, 512 or 1024), `normalize` and `embeddingTypes` (float, binary) and answers
//! `embeddingsByType` too.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::schema::{int_enum_at, text_at, type_list_at};
use super::vectors::Vectors;
use super::{Plan, Render};
use crate::error::ApiError;
use crate::json_reader::{ObjectReader, as_bool};

const TITAN_MAX_CHARS: usize = 50_000;

/// How a Titan answer is rendered.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Shape {
    /// v2's `embeddingTypes`; `None` for v1, which answers the float vector alone.
    by_type: Option<Vec<String>>,
    /// `normalize: false` gives a vector whose norm is above 1.
    normalize: bool,
}

pub(super) fn parse_v1(body: &Value) -> Result<Plan, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    let (value, path) = reader.required("inputText")?;
    let text = text_at(value, &path, TITAN_MAX_CHARS)?;
    reader.finish()?;
    Ok(Plan {
        model_id: "",
        texts: vec![text.to_string()],
        dimension: 1536,
        render: Render::Titan(Shape {
            by_type: None,
            normalize: true,
        }),
    })
}

pub(super) fn parse_v2(body: &Value) -> Result<Plan, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    let (value, path) = reader.required("inputText")?;
    let text = text_at(value, &path, TITAN_MAX_CHARS)?;
    let dimension = match reader.optional("dimensions") {
        Some((value, path)) => int_enum_at(value, &path, &[256, 512, 1024])?,
        None => 1024,
    };
    let normalize = match reader.optional("normalize") {
        Some((value, path)) => as_bool(value, &path)?,
        None => true,
    };
    let by_type = match reader.optional("embeddingTypes") {
        Some((value, path)) => type_list_at(value, &path, &["float", "binary"])?,
        None => vec!["float".to_string()],
    };
    reader.finish()?;
    Ok(Plan {
        model_id: "",
        texts: vec![text.to_string()],
        dimension,
        render: Render::Titan(Shape {
            by_type: Some(by_type),
            normalize,
        }),
    })
}

/// Titan v2's `embeddingsByType`: one vector per type.
type TitanByType = BTreeMap<String, Vectors<Vec<f32>, Vec<i32>>>;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TitanResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding: Option<Vec<f32>>,
    input_text_token_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    embeddings_by_type: Option<TitanByType>,
}

/// The response: one vector, scaled above norm 1 for `normalize: false`, and for v2 the vector
/// by each requested type.
pub(super) fn render(
    shape: Shape,
    mut vector: Vec<f32>,
    input_tokens: u64,
) -> serde_json::Result<Vec<u8>> {
    if !shape.normalize {
        let scale = 1.0 + input_tokens as f32;
        vector.iter_mut().for_each(|v| *v *= scale);
    }
    let by_type = shape.by_type;
    let Some(types) = by_type else {
        // Titan v1: the vector and the count, nothing else.
        return serde_json::to_vec(&TitanResponse {
            embedding: Some(vector),
            input_text_token_count: input_tokens,
            embeddings_by_type: None,
        });
    };
    let mut by_type = BTreeMap::new();
    for name in &types {
        let vectors = match name.as_str() {
            "binary" => Vectors::Int(vector.iter().map(|v| i32::from(*v > 0.0)).collect()),
            _ => Vectors::Float(vector.clone()),
        };
        by_type.insert(name.clone(), vectors);
    }
    serde_json::to_vec(&TitanResponse {
        embedding: types.iter().any(|t| t == "float").then_some(vector),
        input_text_token_count: input_tokens,
        embeddings_by_type: Some(by_type),
    })
}

#[cfg(test)]
mod tests {
    use super::super::plan;
    use serde_json::json;

    #[test]
    fn titan_bodies_are_checked_against_their_schema() {
        let plan_of =
            |model: &str, body: serde_json::Value| plan(model, body.to_string().as_bytes());
        assert!(plan_of("amazon.titan-embed-text-v1", json!({"inputText": "hi"})).is_ok());
        let err = plan_of(
            "amazon.titan-embed-text-v1",
            json!({"inputText": "hi", "dimensions": 256}),
        )
        .unwrap_err();
        assert!(
            err.message.contains("extraneous key [dimensions]"),
            "{}",
            err.message
        );
        let err = plan_of(
            "amazon.titan-embed-text-v2:0",
            json!({"inputText": "hi", "dimensions": 300}),
        )
        .unwrap_err();
        assert!(
            err.message
                .contains("#/dimensions: 300 is not a valid enum value"),
            "{}",
            err.message
        );
        let err = plan_of("amazon.titan-embed-text-v2:0", json!({"inputText": ""})).unwrap_err();
        assert!(
            err.message.contains("#/inputText: expected minLength: 1"),
            "{}",
            err.message
        );
    }
}
