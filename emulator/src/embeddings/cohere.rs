//! Cohere Embed v3 and v4: the request body checked as Bedrock checks it, and the response
//! rendered in Cohere's shape, side by side.
//!
//! Both take 1 to 96 `texts` and a required `input_type`; v3 texts are at most 2,048
//! characters. v4 adds `output_dimension` and `max_tokens`, and always answers by type.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::schema::{enum_at, int_enum_at, text_at, type_list_at};
use super::vectors::Vectors;
use super::{Plan, Render};
use crate::error::ApiError;
use crate::json_reader::{ObjectReader, as_array, as_integer, child};

const COHERE_V3_MAX_CHARS: usize = 2_048;
const COHERE_MAX_TEXTS: usize = 96;

/// How a Cohere answer is rendered, and v4's per-text token cap.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Shape {
    /// `embedding_types`: `None` answers `embeddings_floats`.
    by_type: Option<Vec<String>>,
    /// v4's `max_tokens`: each text counts at most this many tokens.
    pub(super) max_tokens: Option<u64>,
}

/// What differs between the versions in the members both take.
struct Version {
    max_chars: usize,
    input_types: &'static [&'static str],
    truncations: &'static [&'static str],
}

const V3: Version = Version {
    max_chars: COHERE_V3_MAX_CHARS,
    input_types: &[
        "search_document",
        "search_query",
        "classification",
        "clustering",
        "image",
    ],
    truncations: &["NONE", "START", "END"],
};

const V4: Version = Version {
    max_chars: usize::MAX,
    input_types: &[
        "search_document",
        "search_query",
        "classification",
        "clustering",
    ],
    truncations: &["NONE", "LEFT", "RIGHT"],
};

pub(super) fn parse_v3(body: &Value) -> Result<Plan, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    let texts = shared_members(&mut reader, &V3)?;
    let by_type = embedding_types(&mut reader)?;
    reader.finish()?;
    Ok(Plan {
        model_id: "",
        texts,
        dimension: 1024,
        render: Render::Cohere(Shape {
            by_type,
            max_tokens: None,
        }),
    })
}

pub(super) fn parse_v4(body: &Value) -> Result<Plan, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    let texts = shared_members(&mut reader, &V4)?;
    let dimension = match reader.optional("output_dimension") {
        Some((value, path)) => int_enum_at(value, &path, &[256, 512, 1024, 1536])?,
        None => 1536,
    };
    let max_tokens = match reader.optional("max_tokens") {
        Some((value, path)) => {
            let max = as_integer(value, &path)?;
            if !(1..=128_000).contains(&max) {
                return Err(ApiError::malformed(
                    &path,
                    format!("{max} is not between 1 and 128000"),
                ));
            }
            Some(max.unsigned_abs())
        }
        None => None,
    };
    let by_type = embedding_types(&mut reader)?.unwrap_or_else(|| vec!["float".to_string()]);
    reader.finish()?;
    Ok(Plan {
        model_id: "",
        texts,
        dimension,
        render: Render::Cohere(Shape {
            by_type: Some(by_type),
            max_tokens,
        }),
    })
}

/// `texts`, the required `input_type` and the optional `truncate`, as the version takes them.
fn shared_members(
    reader: &mut ObjectReader<'_>,
    version: &Version,
) -> Result<Vec<String>, ApiError> {
    let texts = texts(reader, version.max_chars)?;
    let (value, path) = reader.required("input_type")?;
    enum_at(value, &path, version.input_types)?;
    if let Some((value, path)) = reader.optional("truncate") {
        enum_at(value, &path, version.truncations)?;
    }
    Ok(texts)
}

/// The optional `embedding_types`: a non-empty list of distinct type names.
fn embedding_types(reader: &mut ObjectReader<'_>) -> Result<Option<Vec<String>>, ApiError> {
    match reader.optional("embedding_types") {
        Some((value, path)) => Ok(Some(type_list_at(
            value,
            &path,
            &["float", "int8", "uint8", "binary", "ubinary"],
        )?)),
        None => Ok(None),
    }
}

/// Cohere's `texts`: 1 to 96 non-empty strings. Image inputs are not emulated.
fn texts(reader: &mut ObjectReader<'_>, max_chars: usize) -> Result<Vec<String>, ApiError> {
    for key in ["images", "inputs"] {
        if reader.optional(key).is_some() {
            return Err(ApiError::validation(format!(
                "The Bedrock emulator embeds texts only; `{key}` is not emulated."
            )));
        }
    }
    let (value, path) = reader.required("texts")?;
    let items = as_array(value, &path)?;
    if items.is_empty() {
        return Err(ApiError::malformed(
            &path,
            "expected minItems: 1, actual: 0",
        ));
    }
    if items.len() > COHERE_MAX_TEXTS {
        return Err(ApiError::malformed(
            &path,
            format!(
                "expected maxItems: {COHERE_MAX_TEXTS}, actual: {}",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| text_at(item, &child(&path, index), max_chars).map(str::to_string))
        .collect()
}

/// Cohere's `embeddings` by type: a list of vectors per type.
type CohereByType = BTreeMap<String, Vectors<Vec<Vec<f32>>, Vec<Vec<i32>>>>;

#[derive(Serialize)]
struct CohereResponse<'a, E> {
    id: String,
    embeddings: E,
    response_type: &'static str,
    texts: &'a [String],
}

/// The response: `embeddings` as a list of float vectors (`embeddings_floats`), or, when
/// `embedding_types` is set (always for v4), an object by type (`embeddings_by_type`).
pub(super) fn render(
    shape: Shape,
    texts: &[String],
    vectors: Vec<Vec<f32>>,
) -> serde_json::Result<Vec<u8>> {
    let by_type = shape.by_type;
    let digest = Sha256::digest(texts.join("\u{0}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let id = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    let Some(types) = by_type else {
        return serde_json::to_vec(&CohereResponse {
            id,
            embeddings: vectors,
            response_type: "embeddings_floats",
            texts,
        });
    };
    let mut by_type: CohereByType = BTreeMap::new();
    for name in &types {
        let quantised =
            |f: fn(&[f32]) -> Vec<i32>| Vectors::Int(vectors.iter().map(|v| f(v)).collect());
        let entry = match name.as_str() {
            "int8" => quantised(|v| v.iter().map(|x| int8(*x)).collect()),
            "uint8" => quantised(|v| v.iter().map(|x| int8(*x) + 128).collect()),
            "binary" => quantised(|v| {
                pack_bits(v)
                    .into_iter()
                    .map(|b| i32::from(b as i8))
                    .collect()
            }),
            "ubinary" => quantised(|v| pack_bits(v).into_iter().map(i32::from).collect()),
            _ => Vectors::Float(vectors.clone()),
        };
        by_type.insert(name.clone(), entry);
    }
    serde_json::to_vec(&CohereResponse {
        id,
        embeddings: by_type,
        response_type: "embeddings_by_type",
        texts,
    })
}

fn int8(value: f32) -> i32 {
    ((value * 127.0).round() as i32).clamp(-128, 127)
}

/// One bit per dimension (set when positive), eight dimensions to a byte.
fn pack_bits(vector: &[f32]) -> Vec<u8> {
    vector
        .chunks(8)
        .map(|chunk| {
            chunk.iter().enumerate().fold(
                0u8,
                |byte, (bit, v)| if *v > 0.0 { byte | (0x80 >> bit) } else { byte },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{plan, vectors::unit_vector};
    use super::*;
    use serde_json::json;

    fn plan_of(model: &str, body: Value) -> Result<Plan, ApiError> {
        plan(model, body.to_string().as_bytes())
    }

    #[test]
    fn cohere_bodies_are_checked_against_their_schema() {
        let err = plan_of("cohere.embed-english-v3", json!({"texts": ["a"]})).unwrap_err();
        assert!(
            err.message.contains("required key [input_type] not found"),
            "{}",
            err.message
        );
        let texts: Vec<String> = (0..97).map(|i| format!("t{i}")).collect();
        let err = plan_of(
            "cohere.embed-english-v3",
            json!({"texts": texts, "input_type": "search_document"}),
        )
        .unwrap_err();
        assert!(
            err.message.contains("expected maxItems: 96, actual: 97"),
            "{}",
            err.message
        );
        // Cohere Embed v4 is profile-only: its bare id is refused before the body is read.
        let err = plan_of(
            "cohere.embed-v4:0",
            json!({"texts": ["a"], "input_type": "search_query"}),
        )
        .unwrap_err();
        assert!(
            err.message.starts_with("Invocation of model ID cohere.embed-v4:0 with on-demand throughput isn't supported."),
            "{}",
            err.message
        );
        assert!(
            plan_of(
                "eu.cohere.embed-v4:0",
                json!({"texts": ["a"], "input_type": "search_query"})
            )
            .is_ok()
        );
        let err = plan_of(
            "us.cohere.embed-v4:0",
            json!({"texts": ["a", ""], "input_type": "search_query"}),
        )
        .unwrap_err();
        assert!(
            err.message.contains("#/texts/1: expected minLength: 1"),
            "{}",
            err.message
        );
        let err = plan_of(
            "us.cohere.embed-v4:0",
            json!({"texts": ["a"], "input_type": "search_query", "output_dimension": 2048}),
        )
        .unwrap_err();
        assert!(
            err.message.contains("2048 is not a valid enum value"),
            "{}",
            err.message
        );
    }

    #[test]
    fn quantised_types_have_the_expected_sizes() {
        let shape = Shape {
            by_type: Some(vec!["float".into(), "int8".into(), "ubinary".into()]),
            max_tokens: None,
        };
        let body = render(shape, &["a".to_string()], vec![unit_vector("m", "a", 16)]).unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["response_type"], "embeddings_by_type");
        assert_eq!(body["embeddings"]["float"][0].as_array().unwrap().len(), 16);
        assert_eq!(body["embeddings"]["int8"][0].as_array().unwrap().len(), 16);
        assert_eq!(
            body["embeddings"]["ubinary"][0].as_array().unwrap().len(),
            2
        );
    }
}
