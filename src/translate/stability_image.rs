//! Stability AI's text-to-image models on Bedrock (Stable Image Core, Stable Image Ultra,
//! Stable Diffusion 3.5 Large): an OpenAI `size` mapped to the nearest documented
//! `aspect_ratio`, and the InvokeModel body. Pure (no I/O). `image_generation.rs` does the
//! checks shared with the Amazon models and reads the answer.
//!
//! Evidence (AWS's Bedrock user guide; the search tool quoted each page):
//! - Stable Image Core: model-parameters-diffusion-stable-image-core-text-image-request-response
//!   (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-stable-image-core-text-image-request-response.html):
//!   `prompt` (0-10,000 characters), `aspect_ratio` (default 1:1, one of [`ASPECT_RATIOS`]),
//!   `mode` (`text-to-image`), `output_format` (JPEG, PNG), `seed` (0-4,294,967,295; 0 or absent
//!   is random), `negative_prompt` (up to 10,000 characters); the answer is
//!   `{"seeds": [...], "finish_reasons": [null], "images": [base64]}`; "Supported dimensions:
//!   height 640 to 1,536 px, width 640 to 1,536 px".
//! - Stable Image Ultra: model-parameters-diffusion-stable-ultra-text-image-request-response
//!   (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-stable-ultra-text-image-request-response.html):
//!   the same `prompt` and the same answer, a filtered answer being
//!   `{"finish_reasons": ["Filter reason: prompt"]}`. The page's optional fields were not in the
//!   excerpt the search tool returned: that Ultra takes the same `aspect_ratio` list is from
//!   Stability's own API schema for Ultra (a third-party copy of it), unconfirmed on AWS's page.
//! - Stable Diffusion 3.5 Large: model-parameters-diffusion-3-5-large
//!   (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-3-5-large.html):
//!   `prompt` up to 10,000 characters, the same `aspect_ratio` list (default 1:1), `mode`
//!   `text-to-image` | `image-to-image`, the same answer.
//! - One image per call: none of the bodies has a count field, and each answer's example has
//!   one image and one seed. The gateway makes `n` calls (at most [`super::image_generation::MAX_IMAGES`]).
//! - Model ids (`stability.stable-image-core-v1:1`, `stability.stable-image-ultra-v1:1`,
//!   `stability.sd3-5-large-v1:0`) and their region (us-west-2): AWS's code examples call
//!   `stability.stable-image-ultra-v1:0` in us-west-2; the `v1:1` ids are from a public client
//!   library's release notes (sebsto/swift-bedrock-library 1.12.0): unconfirmed on an AWS page.
//! - The pixel size of each ratio ([`ASPECT_RATIOS`]) is from Stability's platform docs as
//!   remembered (about one megapixel, each side within AWS's 640-1,536): unconfirmed here. The
//!   gateway uses it only to estimate the answer's size.

use serde_json::{Value, json};

/// The documented `aspect_ratio` values, with the pixel size the model answers for each.
pub const ASPECT_RATIOS: &[(&str, u32, u32)] = &[
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

/// Prompts up to this many characters (all three pages).
pub const MAX_PROMPT_CHARS: usize = 10_000;

/// How far (as a factor) a requested width:height may be from a documented ratio and still map
/// onto it: OpenAI's own sizes (1792x1024 is 1.75 against 16:9's 1.78) map; 4096x512 does not.
const RATIO_TOLERANCE: f64 = 1.15;

/// The documented ratio for `size`: a ratio itself (`16:9`), or `WIDTHxHEIGHT` whose shape is
/// within [`RATIO_TOLERANCE`] of one. `None` when no ratio is close.
pub fn aspect_ratio_for(size: &str) -> Option<(&'static str, u32, u32)> {
    if let Some(found) = ASPECT_RATIOS.iter().find(|(ratio, _, _)| *ratio == size) {
        return Some(*found);
    }
    let (w, h) = size.split_once(['x', 'X'])?;
    let (w, h): (u32, u32) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    if w == 0 || h == 0 {
        return None;
    }
    let wanted = (f64::from(w) / f64::from(h)).ln();
    let (ratio, distance) = ASPECT_RATIOS
        .iter()
        .map(|r| (*r, (wanted - (f64::from(r.1) / f64::from(r.2)).ln()).abs()))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    (distance <= RATIO_TOLERANCE.ln()).then_some(ratio)
}

/// The sizes a client may send, as a 400 lists them.
pub fn sizes_described() -> String {
    let ratios: Vec<String> = ASPECT_RATIOS
        .iter()
        .map(|(ratio, w, h)| format!("{ratio} ({w}x{h})"))
        .collect();
    format!(
        "a WIDTHxHEIGHT close to one of its aspect ratios, or the ratio itself: {}",
        ratios.join(", ")
    )
}

/// The body of one call: one image, PNG (the only format the gateway answers in).
pub fn request_body(prompt: &str, aspect_ratio: &str) -> Value {
    json!({
        "prompt": prompt,
        "aspect_ratio": aspect_ratio,
        "output_format": "png",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_sizes_map_to_the_nearest_ratio() {
        let ratio = |size| aspect_ratio_for(size).map(|r| r.0);
        assert_eq!(ratio("1024x1024"), Some("1:1"));
        assert_eq!(ratio("256x256"), Some("1:1"));
        assert_eq!(ratio("1792x1024"), Some("16:9"));
        assert_eq!(ratio("1024x1792"), Some("9:16"));
        assert_eq!(ratio("1536x1024"), Some("3:2"));
        assert_eq!(ratio("1024x1536"), Some("2:3"));
        assert_eq!(ratio("2560x1080"), Some("21:9"));
        assert_eq!(ratio("21:9"), Some("21:9"));
        assert_eq!(aspect_ratio_for("4:5"), Some(("4:5", 896, 1088)));
        for refused in ["4096x512", "0x10", "big", "7:3", "1024x"] {
            assert_eq!(ratio(refused), None, "{refused}");
        }
        assert!(sizes_described().contains("9:21 (640x1536)"));
    }

    #[test]
    fn every_ratio_is_within_the_documented_dimensions() {
        for (ratio, w, h) in ASPECT_RATIOS {
            assert!(
                (640..=1536).contains(w) && (640..=1536).contains(h),
                "{ratio}"
            );
            let (rw, rh) = ratio.split_once(':').unwrap();
            let (rw, rh): (f64, f64) = (rw.parse().unwrap(), rh.parse().unwrap());
            let off = (f64::from(*w) / f64::from(*h)) / (rw / rh);
            assert!((0.9..1.1).contains(&off), "{ratio}: {off}");
        }
    }

    #[test]
    fn body() {
        assert_eq!(
            request_body("a fox", "16:9"),
            json!({"prompt": "a fox", "aspect_ratio": "16:9", "output_format": "png"})
        );
    }
}
