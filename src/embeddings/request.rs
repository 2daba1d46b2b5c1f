//! The OpenAI embeddings request: its fields, and `input` in each of the four forms OpenAI
//! accepts (a string, a list of strings, a list of token ids, a list of token-id lists).
//!
//! Besides OpenAI's fields the gateway reads a few that clients pass through `extra_body`
//! for Bedrock's families: `input_type`, `truncate` and `normalize`.

use serde::Deserialize;
use serde_json::Value;

use crate::embeddings::families::{Family, Options, Purpose, Truncate};
use crate::error::ApiError;

/// OpenAI's own limit on inputs per request.
pub const MAX_INPUTS: usize = 2048;

/// `POST /embeddings` as OpenAI clients send it.
#[derive(Debug, Deserialize)]
pub struct EmbeddingsRequest {
    pub model: String,
    #[serde(default)]
    pub input: Option<Value>,
    #[serde(default)]
    pub encoding_format: Option<String>,
    #[serde(default)]
    pub dimensions: Option<u32>,
    /// OpenAI's end-user id; Bedrock has no use for it.
    #[serde(default)]
    pub user: Option<String>,
    /// Cohere's `input_type` (and Nova's purpose): `search_document` (default),
    /// `search_query`, `classification`, `clustering`.
    #[serde(default)]
    pub input_type: Option<String>,
    /// `NONE`, `START`/`LEFT` or `END`/`RIGHT`.
    #[serde(default)]
    pub truncate: Option<String>,
    /// Titan v2's `normalize`.
    #[serde(default)]
    pub normalize: Option<bool>,
}

/// How vectors are written in the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingFormat {
    Float,
    /// Little-endian float32 bytes, base64 (standard alphabet): the OpenAI SDKs' default.
    Base64,
}

/// The texts to embed, or token ids still to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Texts(Vec<String>),
    Tokens(Vec<Vec<u32>>),
}

impl EmbeddingsRequest {
    pub fn encoding_format(&self) -> Result<EncodingFormat, ApiError> {
        match self.encoding_format.as_deref() {
            None | Some("float") => Ok(EncodingFormat::Float),
            Some("base64") => Ok(EncodingFormat::Base64),
            Some(other) => Err(ApiError::invalid_param(
                "encoding_format",
                format!("`encoding_format` must be \"float\" or \"base64\", got \"{other}\"."),
            )),
        }
    }

    /// The family options this request asks for, checked against `family`.
    pub fn options(&self, family: &Family) -> Result<Options, ApiError> {
        if self.dimensions == Some(0) {
            return Err(ApiError::invalid_param(
                "dimensions",
                "`dimensions` must be a positive integer.",
            ));
        }
        let dimension = family
            .dimension_for(self.dimensions)
            .map_err(|message| ApiError::invalid_param("dimensions", message))?;
        let purpose = match self.input_type.as_deref() {
            None => Purpose::default(),
            Some(name) => Purpose::parse(name).ok_or_else(|| {
                ApiError::invalid_param(
                    "input_type",
                    format!(
                        "`input_type` must be one of search_document, search_query, classification, clustering; got \"{name}\"."
                    ),
                )
            })?,
        };
        let truncate = match self.truncate.as_deref() {
            None => None,
            Some(name) => Some(Truncate::parse(name).ok_or_else(|| {
                ApiError::invalid_param(
                    "truncate",
                    format!(
                        "`truncate` must be NONE, START (LEFT) or END (RIGHT); got \"{name}\"."
                    ),
                )
            })?),
        };
        Ok(Options {
            dimension,
            purpose,
            truncate,
            normalize: self.normalize,
        })
    }
}

/// Reads `input` in any of OpenAI's four forms. Empty inputs, empty strings, mixed lists and
/// more than [`MAX_INPUTS`] inputs are refused with the offending path.
pub fn parse_input(input: Option<&Value>) -> Result<Input, ApiError> {
    let bad = |param: String, message: String| ApiError::invalid_param(param, message);
    let items = match input {
        None | Some(Value::Null) => {
            return Err(bad(
                "input".into(),
                "`input` is required: a string, a list of strings, or token ids.".into(),
            ));
        }
        Some(Value::String(text)) => {
            return non_empty(text, "input").map(|text| Input::Texts(vec![text]));
        }
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(bad(
                "input".into(),
                "`input` must be a string, a list of strings, a list of token ids or a list of token-id lists.".into(),
            ));
        }
    };
    if items.is_empty() {
        return Err(bad(
            "input".into(),
            "`input` must not be an empty list.".into(),
        ));
    }
    match &items[0] {
        Value::Number(_) => token_list(items, "input").map(|tokens| Input::Tokens(vec![tokens])),
        Value::String(_) => {
            check_count(items.len())?;
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(text) => non_empty(text, &format!("input[{i}]")),
                    _ => Err(bad(
                        format!("input[{i}]"),
                        format!("`input[{i}]` must be a string like the other items."),
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Input::Texts)
        }
        Value::Array(_) => {
            check_count(items.len())?;
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Array(tokens) => token_list(tokens, &format!("input[{i}]")),
                    _ => Err(bad(
                        format!("input[{i}]"),
                        format!("`input[{i}]` must be a list of token ids like the other items."),
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Input::Tokens)
        }
        _ => Err(bad(
            "input[0]".into(),
            "`input` items must be strings, token ids or lists of token ids.".into(),
        )),
    }
}

fn check_count(count: usize) -> Result<(), ApiError> {
    if count > MAX_INPUTS {
        return Err(ApiError::invalid_param(
            "input",
            format!("`input` may hold at most {MAX_INPUTS} items, got {count}."),
        ));
    }
    Ok(())
}

fn non_empty(text: &str, param: &str) -> Result<String, ApiError> {
    if text.is_empty() {
        return Err(ApiError::invalid_param(
            param,
            format!("`{param}` must not be an empty string."),
        ));
    }
    Ok(text.to_string())
}

fn token_list(items: &[Value], param: &str) -> Result<Vec<u32>, ApiError> {
    if items.is_empty() {
        return Err(ApiError::invalid_param(
            param,
            format!("`{param}` must not be an empty list of token ids."),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_u64()
                .and_then(|id| u32::try_from(id).ok())
                .ok_or_else(|| {
                    ApiError::invalid_param(
                        format!("{param}[{i}]"),
                        format!("`{param}[{i}]` must be a token id (a non-negative integer), got {item}."),
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(value: Value) -> Result<Input, ApiError> {
        parse_input(Some(&value))
    }

    #[test]
    fn reads_the_four_forms() {
        assert_eq!(input(json!("a")).unwrap(), Input::Texts(vec!["a".into()]));
        assert_eq!(
            input(json!(["a", "b"])).unwrap(),
            Input::Texts(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            input(json!([1, 2])).unwrap(),
            Input::Tokens(vec![vec![1, 2]])
        );
        assert_eq!(
            input(json!([[1], [2, 3]])).unwrap(),
            Input::Tokens(vec![vec![1], vec![2, 3]])
        );
    }

    #[test]
    fn refuses_empty_mixed_and_oversized_inputs() {
        let param = |value| input(value).unwrap_err().param.unwrap();
        assert_eq!(
            parse_input(None).unwrap_err().param.as_deref(),
            Some("input")
        );
        assert_eq!(param(json!("")), "input");
        assert_eq!(param(json!([])), "input");
        assert_eq!(param(json!(["a", ""])), "input[1]");
        assert_eq!(param(json!(["a", 1])), "input[1]");
        assert_eq!(param(json!([1, -2])), "input[1]");
        assert_eq!(param(json!([[1], []])), "input[1]");
        assert_eq!(param(json!([[1], [2, "x"]])), "input[1][1]");
        assert_eq!(param(json!({"a": 1})), "input");
        let many: Vec<String> = (0..=MAX_INPUTS).map(|i| i.to_string()).collect();
        assert_eq!(param(json!(many)), "input");
    }
}
