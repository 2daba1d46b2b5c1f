//! How a [`StoredResponse`] becomes the bytes kept in DynamoDB, and back.
//!
//! A DynamoDB item holds at most 400 KB (attribute names and values together), and a stored
//! response carries its whole conversation, images and long tool outputs included. So the
//! JSON is always deflate-compressed (it is mostly text: typically a fifth of its size, and
//! fewer write units), and what is still over [`PART_BYTES`] is cut into parts, each kept in
//! an item of its own. This module is pure: no I/O, no clock.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

use crate::responses::store::StoredResponse;

/// The value of the `format` attribute: what the `body` bytes are. A reader refuses any other.
pub const FORMAT: &str = "json+deflate/1";

/// The most body bytes kept in one item. DynamoDB's limit is 400 KB for the whole item; the
/// rest (key, kind, timestamps, format, attribute names) takes well under 1 KB, and this leaves
/// a wide margin below the limit.
pub const PART_BYTES: usize = 350 * 1024;

/// The most bytes a stored body inflates to. Bodies come from the gateway's own table, but a
/// bound keeps a damaged or foreign item from exhausting memory.
pub const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

/// The compressed JSON of `response`.
pub fn encode(response: &StoredResponse) -> Result<Vec<u8>, String> {
    // Level 1: the write happens on every stored request; the higher levels cost several times
    // the CPU for a few percent on JSON.
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::fast());
    serde_json::to_writer(&mut encoder, response)
        .map_err(|e| format!("could not serialise the response: {e}"))?;
    encoder
        .flush()
        .map_err(|e| format!("could not compress the response: {e}"))?;
    encoder
        .finish()
        .map_err(|e| format!("could not compress the response: {e}"))
}

/// The response in `body` (the output of [`encode`], parts joined).
pub fn decode(body: &[u8]) -> Result<StoredResponse, String> {
    let mut json = Vec::new();
    DeflateDecoder::new(body)
        .take(MAX_DECODED_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("the stored body does not inflate: {e}"))?;
    if json.len() as u64 > MAX_DECODED_BYTES {
        return Err(format!(
            "the stored body inflates to more than {MAX_DECODED_BYTES} bytes"
        ));
    }
    serde_json::from_slice(&json).map_err(|e| format!("the stored body is not a response: {e}"))
}

/// How `body` is kept: in the response's own item, or in parts of at most [`PART_BYTES`].
pub fn split(body: &[u8]) -> Vec<&[u8]> {
    if body.len() <= PART_BYTES {
        vec![body]
    } else {
        body.chunks(PART_BYTES).collect()
    }
}

/// The key of part `index` of response `id`. `#` never occurs in a response id
/// ([`is_response_key`]), so these cannot collide with one.
pub fn part_key(id: &str, index: usize) -> String {
    format!("{id}#{index}")
}

/// The longest id looked up. DynamoDB refuses partition keys over 2048 bytes with a
/// ValidationException; the gateway's own ids are 37 bytes.
pub const MAX_ID_BYTES: usize = 1024;

/// Whether `id` can name a stored response at all. Clients may send any id; one that cannot
/// (empty, too long for a key, or a part's key with `#`) is simply not stored, never an error.
pub fn is_response_key(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_BYTES && !id.contains('#')
}

/// The most parts a response can have: [`MAX_DECODED_BYTES`] can compress to no less than
/// itself, and bodies are cut into [`PART_BYTES`]. A larger count is a damaged item.
pub const MAX_PARTS: i64 = (MAX_DECODED_BYTES / PART_BYTES as u64) as i64 + 1;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(text: &str) -> StoredResponse {
        StoredResponse {
            id: "resp_1".into(),
            created_at: 1_700_000_000,
            response: json!({"id": "resp_1", "output": [{"type": "message", "content": [{"type": "output_text", "text": text}]}]}),
            input_items: vec![json!({"type": "message", "role": "user", "content": "hi"})],
            conversation: vec![json!({"type": "message", "role": "user", "content": "hi"})],
        }
    }

    #[test]
    fn round_trip_and_compression() {
        let original = response(&"all work and no play ".repeat(10_000));
        let body = encode(&original).unwrap();
        let json_len = serde_json::to_vec(&original).unwrap().len();
        assert!(body.len() * 10 < json_len, "{} vs {json_len}", body.len());
        assert_eq!(decode(&body).unwrap(), original);
        assert_eq!(split(&body).len(), 1);
    }

    #[test]
    fn split_cuts_at_part_size_and_joins_back() {
        let body: Vec<u8> = (0..(2 * PART_BYTES + 5)).map(|i| (i % 251) as u8).collect();
        let parts = split(&body);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [PART_BYTES, PART_BYTES, 5]
        );
        assert_eq!(parts.concat(), body);
        assert_eq!(split(&body[..PART_BYTES]).len(), 1);
    }

    #[test]
    fn damaged_bodies_are_errors_not_panics() {
        assert!(decode(b"not deflate at all").is_err());
        assert!(decode(b"").is_err());
        let body = encode(&response("x")).unwrap();
        assert!(decode(&body[..body.len() / 2]).is_err());
        let mut other = DeflateEncoder::new(Vec::new(), Compression::fast());
        other.write_all(b"{\"not\":\"a response\"}").unwrap();
        assert!(decode(&other.finish().unwrap()).is_err());
    }

    #[test]
    fn keys() {
        assert_eq!(part_key("resp_1", 3), "resp_1#3");
        assert!(is_response_key("resp_0123abc"));
        assert!(!is_response_key(&part_key("resp_1", 0)));
        assert!(!is_response_key(""));
        assert!(!is_response_key(&"r".repeat(MAX_ID_BYTES + 1)));
    }
}
