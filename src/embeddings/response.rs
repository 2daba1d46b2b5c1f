//! The OpenAI embeddings response, with vectors as float lists or as base64.
//!
//! OpenAI's `encoding_format: "base64"` is the vector's float32 values as little-endian bytes,
//! base64 with the standard alphabet: what the OpenAI SDKs request by default and decode with
//! `numpy.frombuffer(..., dtype="float32")` / `Float32Array`. It is computed here from the
//! float vectors; Bedrock's own `binary` types are quantised vectors, something else.

use base64::Engine;
use serde::Serialize;

use crate::embeddings::request::EncodingFormat;

/// `{"object":"list","data":[...],"model","usage"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbeddingList {
    pub object: &'static str,
    pub data: Vec<EmbeddingItem>,
    pub model: String,
    pub usage: Usage,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbeddingItem {
    pub object: &'static str,
    pub index: usize,
    pub embedding: Vector,
}

/// One vector in the requested encoding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Vector {
    Float(Vec<f32>),
    Base64(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub total_tokens: u64,
}

/// Little-endian float32 bytes, base64.
pub fn base64_vector(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|v| v.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The response for `vectors` in input order.
pub fn embedding_list(
    vectors: Vec<Vec<f32>>,
    format: EncodingFormat,
    model: String,
    input_tokens: u64,
) -> EmbeddingList {
    let data = vectors
        .into_iter()
        .enumerate()
        .map(|(index, vector)| EmbeddingItem {
            object: "embedding",
            index,
            embedding: match format {
                EncodingFormat::Float => Vector::Float(vector),
                EncodingFormat::Base64 => Vector::Base64(base64_vector(&vector)),
            },
        })
        .collect();
    EmbeddingList {
        object: "list",
        data,
        model,
        usage: Usage {
            prompt_tokens: input_tokens,
            total_tokens: input_tokens,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_little_endian_float32() {
        assert_eq!(base64_vector(&[1.0, -2.5]), "AACAPwAAIMA=");
        let list = embedding_list(vec![vec![0.5]], EncodingFormat::Base64, "m".into(), 7);
        let json = serde_json::to_value(&list).unwrap();
        assert_eq!(json["data"][0]["embedding"], "AAAAPw==");
        assert_eq!(json["data"][0]["object"], "embedding");
        assert_eq!(json["usage"]["total_tokens"], 7);
        assert_eq!(json["object"], "list");
    }
}
