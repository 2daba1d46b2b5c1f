//! Deterministic stand-ins for the cryptographic material Bedrock issues:
//! reasoning signatures, redacted reasoning blobs and tool-use ids.
//!
//! Bedrock refuses a reasoning block sent back with a signature it did not
//! issue for that exact text; the emulator can check the same thing without
//! keeping state because its signature is a hash of the text.

use sha2::{Digest, Sha256};

const SIGNATURE_DOMAIN: &[u8] = b"bedrock-emulator/reasoning-signature/v1\n";
const REDACTED_DOMAIN: &[u8] = b"bedrock-emulator/redacted-reasoning/v1\n";
const REDACTED_MAGIC: &[u8] = b"EMU-REDACTED:";
const TOOL_USE_ID_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The signature the emulator issues for a reasoning text.
pub fn reasoning_signature(text: &str) -> String {
    hex(&sha256(&[SIGNATURE_DOMAIN, text.as_bytes()]))
}

/// Whether `signature` is the one the emulator issued for `text`.
pub fn signature_matches(text: &str, signature: &str) -> bool {
    reasoning_signature(text) == signature
}

/// An opaque redacted-reasoning blob, derived from `seed`, that
/// [`is_issued_redaction`] later recognises.
pub fn redacted_reasoning(seed: &str) -> Vec<u8> {
    let nonce = &sha256(&[b"nonce\n", seed.as_bytes()])[..16];
    let tag = &sha256(&[REDACTED_DOMAIN, nonce])[..16];
    [REDACTED_MAGIC, nonce, tag].concat()
}

/// Whether `blob` is a redacted-reasoning blob the emulator issued.
pub fn is_issued_redaction(blob: &[u8]) -> bool {
    let Some(rest) = blob.strip_prefix(REDACTED_MAGIC) else {
        return false;
    };
    if rest.len() != 32 {
        return false;
    }
    let (nonce, tag) = rest.split_at(16);
    sha256(&[REDACTED_DOMAIN, nonce])[..16] == *tag
}

/// A `tooluse_` id shaped like Bedrock's, derived from `seed`.
pub fn tool_use_id(seed: &str) -> String {
    let digest = sha256(&[b"tool-use-id\n", seed.as_bytes()]);
    let suffix: String = digest[..22]
        .iter()
        .map(|byte| TOOL_USE_ID_ALPHABET[usize::from(*byte) % TOOL_USE_ID_ALPHABET.len()] as char)
        .collect();
    format!("tooluse_{suffix}")
}

/// A hex digest of `parts`, for cache keys and request ids.
pub fn digest_hex(parts: &[&[u8]]) -> String {
    hex(&sha256(parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_the_text() {
        let signature = reasoning_signature("Thinking about: hi");
        assert!(signature_matches("Thinking about: hi", &signature));
        assert!(!signature_matches("Thinking about: ho", &signature));
        assert_eq!(signature, reasoning_signature("Thinking about: hi"));
    }

    #[test]
    fn redactions_are_recognised() {
        let blob = redacted_reasoning("x");
        assert!(is_issued_redaction(&blob));
        let mut forged = blob.clone();
        forged[20] ^= 1;
        assert!(!is_issued_redaction(&forged));
        assert!(!is_issued_redaction(b"anything"));
    }

    #[test]
    fn tool_use_ids_look_like_bedrock_ids() {
        let id = tool_use_id("seed");
        assert!(id.starts_with("tooluse_"));
        assert_eq!(id.len(), "tooluse_".len() + 22);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        assert_eq!(id, tool_use_id("seed"));
    }
}
