//! The text-to-image body of Stability AI's models on Bedrock (Stable Image Core, Stable Image
//! Ultra, Stable Diffusion 3.5 Large), checked as the emulator believes Bedrock checks it, and
//! the size of the image each `aspect_ratio` answers. Each rule names its evidence:
//!
//! - [CORE] AWS's "Stable Image Core request and response"
//!   (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-stable-image-core-text-image-request-response.html),
//!   quoted by the search tool: `prompt` (0-10,000 characters), `aspect_ratio` (default 1:1;
//!   16:9, 1:1, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21), `mode` (`text-to-image`),
//!   `output_format` (JPEG, PNG; "height 640 to 1,536 px, width 640 to 1,536 px"), `seed`
//!   (0-4,294,967,295, 0 or absent meaning random), `negative_prompt` (up to 10,000
//!   characters); the answer `{"seeds": [...], "finish_reasons": [null], "images": [...]}`.
//! - [ULTRA] AWS's "Stable Image Ultra request and response"
//!   (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-stable-ultra-text-image-request-response.html):
//!   `prompt` 0-10,000 characters and the same answer. Its optional fields were not in what the
//!   search tool returned; the emulator gives Ultra Core's (Stability's own Ultra schema has the
//!   same `aspect_ratio`, `seed`, `output_format`, `negative_prompt`): unconfirmed on AWS's page.
//! - [SD35] AWS's "Stability.ai Stable Diffusion 3.5 Large"
//!   (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-3-5-large.html):
//!   `prompt` up to 10,000 characters, the same `aspect_ratio` list, `mode` `text-to-image` |
//!   `image-to-image` (the latter with `image` and `strength`, which the emulator does not run).
//! - [SIZES] The pixel size per ratio is Stability's as remembered (about a megapixel, inside
//!   [CORE]'s 640-1,536): unconfirmed.
//! - [SCHEMA] Unknown keys are refused in the wording the emulator uses for Amazon models'
//!   bodies; whether Bedrock refuses unknown keys in Stability bodies, and its exact words, are
//!   unconfirmed.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use super::body::ImageAsk;
use crate::error::ApiError;
use crate::json_reader::{ObjectReader, as_integer, as_str};

/// [CORE] [SD35] the ratios, with [SIZES] the image each answers.
const ASPECT_RATIOS: &[(&str, u32, u32)] = &[
    ("1:1", 1024, 1024),
    ("16:9", 1344, 768),
    ("21:9", 1536, 640),
    ("2:3", 832, 1216),
    ("3:2", 1216, 832),
    ("4:5", 896, 1088),
    ("5:4", 1088, 896),
    ("9:16", 768, 1344),
    ("9:21", 640, 1536),
];

/// [CORE] [ULTRA] [SD35]
const MAX_TEXT: usize = 10_000;
/// [CORE]
const MAX_SEED: i64 = 4_294_967_295;

/// Seeds drawn for requests without one (Bedrock draws a random seed; [CORE]).
static DRAWN_SEEDS: AtomicU64 = AtomicU64::new(0);

/// Checks `body`; the request (one image), or Bedrock's ValidationException.
pub fn check(body: &Value) -> Result<ImageAsk, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    let (prompt, path) = reader.required("prompt")?;
    let prompt = checked_text(as_str(prompt, &path)?, &path)?;
    if let Some((negative, path)) = reader.optional("negative_prompt") {
        checked_text(as_str(negative, &path)?, &path)?;
    }
    let (width, height) = match reader.optional("aspect_ratio") {
        None => (1024, 1024),
        Some((value, path)) => {
            let ratio = as_str(value, &path)?;
            let (_, width, height) = ASPECT_RATIOS
                .iter()
                .find(|(r, _, _)| *r == ratio)
                .ok_or_else(|| {
                    ApiError::malformed(&path, format!("{ratio} is not a valid enum value"))
                })?;
            (*width, *height)
        }
    };
    if let Some((value, path)) = reader.optional("mode") {
        match as_str(value, &path)? {
            "text-to-image" => {}
            // [SD35] documents it; the emulator does not run it.
            "image-to-image" => {
                return Err(ApiError::validation(
                    "The Bedrock emulator runs text-to-image only, got mode image-to-image.",
                ));
            }
            other => {
                return Err(ApiError::malformed(
                    &path,
                    format!("{other} is not a valid enum value"),
                ));
            }
        }
    }
    if let Some((value, path)) = reader.optional("output_format") {
        match as_str(value, &path)? {
            "png" => {}
            // [CORE] lists JPEG; Stability's own API also has webp (unconfirmed on Bedrock).
            "jpeg" | "webp" => {
                return Err(ApiError::validation(
                    "The Bedrock emulator renders PNG only; send output_format png.",
                ));
            }
            other => {
                return Err(ApiError::malformed(
                    &path,
                    format!("{other} is not a valid enum value"),
                ));
            }
        }
    }
    let mut seed = 0;
    if let Some((value, path)) = reader.optional("seed") {
        seed = as_integer(value, &path)?;
        if !(0..=MAX_SEED).contains(&seed) {
            return Err(ApiError::malformed(
                &path,
                format!("{seed} is not within the range 0 to {MAX_SEED}"),
            ));
        }
    }
    reader.finish()?; // [SCHEMA]
    if seed == 0 {
        let drawn = DRAWN_SEEDS.fetch_add(1, Ordering::Relaxed);
        seed = (drawn.wrapping_mul(2_654_435_761) % MAX_SEED as u64) as i64 + 1;
    }
    Ok(ImageAsk {
        text: prompt.to_string(),
        count: 1,
        width,
        height,
        seed,
    })
}

fn checked_text<'a>(text: &'a str, path: &str) -> Result<&'a str, ApiError> {
    let chars = text.chars().count();
    if chars > MAX_TEXT {
        return Err(ApiError::malformed(
            path,
            format!("expected maxLength: {MAX_TEXT}, actual: {chars}"),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documented_bodies_and_their_sizes() {
        let ask = check(
            &json!({"prompt": "a fox", "aspect_ratio": "21:9", "mode": "text-to-image",
                                "output_format": "png", "seed": 4_294_967_295_i64,
                                "negative_prompt": "rain"}),
        )
        .unwrap();
        assert_eq!(
            (ask.count, ask.width, ask.height, ask.seed),
            (1, 1536, 640, 4_294_967_295)
        );
        let first = check(&json!({"prompt": "a fox"})).unwrap();
        let second = check(&json!({"prompt": "a fox", "seed": 0})).unwrap();
        assert_eq!((first.width, first.height), (1024, 1024));
        assert!(first.seed > 0 && second.seed > 0);
        assert_ne!(first.seed, second.seed, "no seed draws a new one");
    }

    #[test]
    fn refuses_what_the_models_refuse() {
        for (body, expected) in [
            (json!({"aspect_ratio": "1:1"}), "prompt"),
            (
                json!({"prompt": "x", "aspect_ratio": "7:3"}),
                "7:3 is not a valid enum value",
            ),
            (json!({"prompt": "x".repeat(10_001)}), "maxLength: 10000"),
            (
                json!({"prompt": "x", "negative_prompt": "y".repeat(10_001)}),
                "maxLength: 10000",
            ),
            (json!({"prompt": "x", "seed": -1}), "range 0 to 4294967295"),
            (
                json!({"prompt": "x", "seed": 4_294_967_296_i64}),
                "range 0 to 4294967295",
            ),
            (json!({"prompt": "x", "output_format": "gif"}), "gif"),
            (json!({"prompt": "x", "output_format": "jpeg"}), "PNG only"),
            (
                json!({"prompt": "x", "mode": "image-to-image"}),
                "text-to-image only",
            ),
            (json!({"prompt": "x", "mode": "upscale"}), "upscale"),
            (
                json!({"prompt": "x", "width": 512}),
                "extraneous key [width]",
            ),
            (
                json!({"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"}}),
                "prompt",
            ),
        ] {
            let err = check(&body).unwrap_err();
            assert!(err.message.contains(expected), "{body}: {}", err.message);
        }
    }
}
