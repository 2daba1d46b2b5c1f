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

/// JSON bytes one vector component takes in the response: a float as text (`-0.012345678,`),
/// or 4 bytes as base64 (4/3 of them, with some slack).
fn bytes_per_component(format: EncodingFormat) -> f64 {
    match format {
        EncodingFormat::Float => 12.0,
        EncodingFormat::Base64 => 5.5,
    }
}

/// JSON bytes of one item besides its vector (`{"object":"embedding","index":N,"embedding":}`).
const ITEM_OVERHEAD: f64 = 60.0;
/// JSON bytes of the list besides its items, and of a Lambda response document around it.
const LIST_OVERHEAD: f64 = 500.0;

/// About how large the response for `count` vectors of `dimension` will be, in bytes.
pub fn estimated_size(count: usize, dimension: u32, format: EncodingFormat) -> usize {
    let per_item = ITEM_OVERHEAD + f64::from(dimension) * bytes_per_component(format);
    (LIST_OVERHEAD + count as f64 * per_item).ceil() as usize
}

/// The most vectors of `dimension` whose response is estimated to fit in `limit` bytes.
pub fn max_vectors_within(limit: usize, dimension: u32, format: EncodingFormat) -> usize {
    let per_item = ITEM_OVERHEAD + f64::from(dimension) * bytes_per_component(format);
    ((limit as f64 - LIST_OVERHEAD) / per_item).floor().max(0.0) as usize
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

    #[test]
    fn size_estimates_match_real_responses() {
        // Unit vectors like real ones (components around +-0.03), serialised for real.
        let vectors: Vec<Vec<f32>> = (0..20)
            .map(|i| {
                (0..1024)
                    .map(|j| ((i * 1024 + j) as f32 * 0.7).sin() * 0.031)
                    .collect()
            })
            .collect();
        for format in [EncodingFormat::Float, EncodingFormat::Base64] {
            let list = embedding_list(vectors.clone(), format, "m".into(), 1);
            let actual = serde_json::to_vec(&list).unwrap().len();
            let estimate = estimated_size(20, 1024, format);
            let ratio = estimate as f64 / actual as f64;
            assert!(
                (0.9..1.2).contains(&ratio),
                "{format:?}: {estimate} vs {actual}"
            );
        }
        let max = max_vectors_within(1_000_000, 1024, EncodingFormat::Base64);
        assert!(estimated_size(max, 1024, EncodingFormat::Base64) <= 1_000_000);
        assert!(estimated_size(max + 1, 1024, EncodingFormat::Base64) > 1_000_000);
    }
}
