//! The emulator's vectors: deterministic unit vectors derived from a hash of the model and the
//! text, and the float-or-integer shape the quantised embedding types are answered in.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Vectors of one embedding type: floats, or integers for the quantised types. `F` and `I`
/// are one vector for Titan, a list of vectors for Cohere.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum Vectors<F, I> {
    Float(F),
    Int(I),
}

/// The emulator's embedding of `text` by `model_id`: a unit vector whose components come from
/// SHA-256 in counter mode, so it depends on nothing but the model, the text and the length.
pub fn unit_vector(model_id: &str, text: &str, dimension: usize) -> Vec<f32> {
    let mut components: Vec<f64> = Vec::with_capacity(dimension);
    let mut counter: u64 = 0;
    while components.len() < dimension {
        let mut hasher = Sha256::new();
        hasher.update(b"bedrock-emulator/embedding/v1\n");
        hasher.update((model_id.len() as u64).to_le_bytes());
        hasher.update(model_id.as_bytes());
        hasher.update(text.as_bytes());
        hasher.update(counter.to_le_bytes());
        for word in hasher.finalize().chunks_exact(4) {
            let unit = f64::from(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
                / f64::from(u32::MAX);
            components.push(unit * 2.0 - 1.0);
        }
        counter += 1;
    }
    components.truncate(dimension);
    let norm = components.iter().map(|c| c * c).sum::<f64>().sqrt();
    components
        .into_iter()
        .map(|c| if norm > 0.0 { (c / norm) as f32 } else { 0.0 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_deterministic_unit_vectors() {
        let a = unit_vector("cohere.embed-v4:0", "hello", 1536);
        assert_eq!(a, unit_vector("cohere.embed-v4:0", "hello", 1536));
        assert_ne!(a, unit_vector("cohere.embed-v4:0", "hello!", 1536));
        let norm: f32 = a.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
        let short = unit_vector("cohere.embed-v4:0", "hello", 256);
        let ratio = a[0] / short[0];
        assert!(
            a[..256]
                .iter()
                .zip(&short)
                .all(|(x, y)| (x / y - ratio).abs() < 1e-3)
        );
    }
}
