//! The `TEXT_IMAGE` request body of Nova Canvas and Titan Image Generator v2, checked as the
//! emulator believes Bedrock checks it. Each rule names its evidence:
//!
//! - [NOVA] AWS's Nova user guide, "Request and response structure for image generation"
//!   (docs.aws.amazon.com/nova/latest/userguide/image-gen-req-resp-structure.html), quoted by
//!   the search tool: `taskType` `TEXT_IMAGE`; `textToImageParams` with `text` (required, 1-1024
//!   characters), `negativeText` (1-1024 characters) and `style` (eight names, below);
//!   `imageGenerationConfig` with `width`, `height`, `quality` (`standard` | `premium`),
//!   `cfgScale`, `seed`, `numberOfImages`.
//! - [NOVA-SEED] AWS's Nova Canvas code example ("Create a random seed between 0 and
//!   858,993,459"), quoted by the search tool.
//! - [NOVA-SIZE] Nova user guide, image generation sizes: each side 320-4096 and divisible by
//!   16, aspect ratio 1:4 to 4:1, fewer than 4,194,304 pixels; 1-5 images; `cfgScale` 1.1-10.
//!   Not returned by the search tool: unconfirmed here (a third-party client hard-codes the
//!   same 320, 4096 and 4,194,304).
//! - [TITAN] The Bedrock user guide's "Amazon Titan Image Generator G1 models"
//!   (docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-image.html): the task
//!   table (`TEXT_IMAGE` with `textToImageParams`) was quoted by the search tool; `text` up to
//!   512 characters, 1-5 images, `cfgScale` 1.1-10, `seed` 0-2,147,483,646 and the size list
//!   are from that page as remembered: unconfirmed here.
//! - [SCHEMA] Unknown keys and wrong types are refused in the JSON-schema wording Bedrock uses
//!   for Amazon models' InvokeModel bodies (as the embeddings bodies, `embeddings/`). The exact
//!   words of the range errors are the emulator's own: unconfirmed.

use serde_json::Value;

use crate::error::ApiError;
use crate::json_reader::{ObjectReader, as_integer, as_number, as_str};

/// The two image models' families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageModel {
    NovaCanvas,
    TitanV2,
}

/// [NOVA]
const NOVA_STYLES: &[&str] = &[
    "3D_ANIMATED_FAMILY_FILM",
    "DESIGN_SKETCH",
    "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION",
    "MAXIMALISM",
    "MIDCENTURY_RETRO",
    "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
];

/// [TITAN]
const TITAN_SIZES: &[(i64, i64)] = &[
    (1024, 1024),
    (768, 768),
    (512, 512),
    (768, 1152),
    (384, 576),
    (1152, 768),
    (576, 384),
    (768, 1280),
    (384, 640),
    (1280, 768),
    (640, 384),
    (896, 1152),
    (448, 576),
    (1152, 896),
    (576, 448),
    (768, 1408),
    (384, 704),
    (1408, 768),
    (704, 384),
    (640, 1408),
    (320, 704),
    (1408, 640),
    (704, 320),
    (1152, 640),
    (1173, 640),
];

/// What one checked request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageAsk {
    pub text: String,
    pub count: u32,
    pub width: u32,
    pub height: u32,
    pub seed: i64,
}

impl ImageModel {
    fn max_text(self) -> usize {
        match self {
            ImageModel::NovaCanvas => 1024, // [NOVA]
            ImageModel::TitanV2 => 512,     // [TITAN]
        }
    }

    fn max_seed(self) -> i64 {
        match self {
            ImageModel::NovaCanvas => 858_993_459, // [NOVA-SEED]
            ImageModel::TitanV2 => 2_147_483_646,  // [TITAN]
        }
    }

    fn size_error(self, width: i64, height: i64) -> Option<String> {
        match self {
            // [NOVA-SIZE]
            ImageModel::NovaCanvas => {
                let side_ok = |s: i64| (320..=4096).contains(&s) && s % 16 == 0;
                if !side_ok(width) || !side_ok(height) {
                    return Some(format!(
                        "width and height must be between 320 and 4096 and divisible by 16, got {width}x{height}"
                    ));
                }
                if width.max(height) > 4 * width.min(height) {
                    return Some(format!(
                        "the aspect ratio must be between 1:4 and 4:1, got {width}x{height}"
                    ));
                }
                if width * height >= 4_194_304 {
                    return Some(format!(
                        "the image must have fewer than 4194304 pixels, got {width}x{height}"
                    ));
                }
                None
            }
            // [TITAN]
            ImageModel::TitanV2 => (!TITAN_SIZES.contains(&(width, height)))
                .then(|| format!("{width}x{height} is not a supported image size")),
        }
    }
}

/// Checks `body` for `model`; the request, or Bedrock's ValidationException.
pub fn check(model: ImageModel, body: &Value) -> Result<ImageAsk, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    let (task, path) = reader.required("taskType")?;
    let task = as_str(task, &path)?;
    if task != "TEXT_IMAGE" {
        // The other tasks (INPAINTING, OUTPAINTING, IMAGE_VARIATION...) exist on Bedrock
        // [TITAN]; the emulator does not run them.
        return Err(ApiError::validation(format!(
            "The Bedrock emulator runs the TEXT_IMAGE task only, got taskType {task}."
        )));
    }
    let (params, params_path) = reader.required("textToImageParams")?;
    let mut params_reader = ObjectReader::new(params, &params_path)?;
    let (text, text_path) = params_reader.required("text")?;
    let text = checked_text(model, as_str(text, &text_path)?, &text_path)?;
    if let Some((negative, path)) = params_reader.optional("negativeText") {
        checked_text(model, as_str(negative, &path)?, &path)?;
    }
    if model == ImageModel::NovaCanvas
        && let Some((style, path)) = params_reader.optional("style")
    {
        let style = as_str(style, &path)?;
        if !NOVA_STYLES.contains(&style) {
            return Err(ApiError::malformed(
                &path,
                format!("{style} is not a valid enum value"),
            ));
        }
    }
    params_reader.finish()?; // [SCHEMA]: `style` is extraneous for Titan
    let mut ask = ImageAsk {
        text: text.to_string(),
        count: 1,
        width: 1024,
        height: 1024,
        seed: 0,
    };
    if let Some((config, config_path)) = reader.optional("imageGenerationConfig") {
        read_config(model, config, &config_path, &mut ask)?;
    }
    reader.finish()?;
    Ok(ask)
}

fn checked_text<'a>(model: ImageModel, text: &'a str, path: &str) -> Result<&'a str, ApiError> {
    let chars = text.chars().count();
    if chars == 0 || chars > model.max_text() {
        return Err(ApiError::malformed(
            path,
            format!(
                "expected minLength: 1, maxLength: {}, actual: {chars}",
                model.max_text()
            ),
        ));
    }
    Ok(text)
}

fn read_config(
    model: ImageModel,
    config: &Value,
    path: &str,
    ask: &mut ImageAsk,
) -> Result<(), ApiError> {
    let mut reader = ObjectReader::new(config, path)?;
    if let Some((value, path)) = reader.optional("numberOfImages") {
        ask.count = ranged(as_integer(value, &path)?, 1, 5, &path)? as u32; // [NOVA-SIZE] [TITAN]
    }
    let width = reader
        .optional("width")
        .map(|(v, p)| as_integer(v, &p))
        .transpose()?;
    let height = reader
        .optional("height")
        .map(|(v, p)| as_integer(v, &p))
        .transpose()?;
    let (width, height) = (width.unwrap_or(1024), height.unwrap_or(1024));
    if let Some(message) = model.size_error(width, height) {
        return Err(ApiError::validation(message));
    }
    (ask.width, ask.height) = (width as u32, height as u32);
    if let Some((value, path)) = reader.optional("quality") {
        let quality = as_str(value, &path)?;
        if !matches!(quality, "standard" | "premium") {
            return Err(ApiError::malformed(
                &path,
                format!("{quality} is not a valid enum value"),
            ));
        }
    }
    if let Some((value, path)) = reader.optional("cfgScale") {
        let scale = as_number(value, &path)?;
        if !(1.1..=10.0).contains(&scale) {
            return Err(ApiError::malformed(
                &path,
                format!("{scale} is not within the range 1.1 to 10.0"),
            ));
        }
    }
    if let Some((value, path)) = reader.optional("seed") {
        ask.seed = ranged(as_integer(value, &path)?, 0, model.max_seed(), &path)?;
    }
    reader.finish()
}

fn ranged(value: i64, min: i64, max: i64, path: &str) -> Result<i64, ApiError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::malformed(
            path,
            format!("{value} is not within the range {min} to {max}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(params: Value, config: Value) -> Value {
        json!({"taskType": "TEXT_IMAGE", "textToImageParams": params, "imageGenerationConfig": config})
    }

    #[test]
    fn accepts_documented_bodies() {
        let ask = check(
            ImageModel::NovaCanvas,
            &body(
                json!({"text": "a fox", "negativeText": "rain", "style": "PHOTOREALISM"}),
                json!({"numberOfImages": 2, "width": 1280, "height": 720, "quality": "premium", "cfgScale": 6.5, "seed": 858_993_459}),
            ),
        )
        .unwrap();
        assert_eq!(
            (ask.count, ask.width, ask.height, ask.seed),
            (2, 1280, 720, 858_993_459)
        );
        let ask = check(
            ImageModel::TitanV2,
            &json!({"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a fox"}}),
        )
        .unwrap();
        assert_eq!((ask.count, ask.width, ask.height), (1, 1024, 1024));
    }

    #[test]
    fn refuses_what_the_models_refuse() {
        let nova = ImageModel::NovaCanvas;
        let titan = ImageModel::TitanV2;
        let cases = [
            (
                nova,
                body(json!({"text": "x"}), json!({"width": 1000, "height": 1000})),
                "divisible by 16",
            ),
            (
                nova,
                body(json!({"text": "x"}), json!({"width": 2048, "height": 2048})),
                "fewer than 4194304",
            ),
            (
                nova,
                body(json!({"text": "x"}), json!({"width": 4096, "height": 512})),
                "1:4",
            ),
            (
                nova,
                body(json!({"text": "x"}), json!({"numberOfImages": 6})),
                "numberOfImages",
            ),
            (
                nova,
                body(json!({"text": "x"}), json!({"seed": 858_993_460})),
                "seed",
            ),
            (
                nova,
                body(json!({"text": "x"}), json!({"quality": "hd"})),
                "quality",
            ),
            (
                nova,
                body(json!({"text": "x"}), json!({"cfgScale": 11})),
                "cfgScale",
            ),
            (
                nova,
                body(json!({"text": "x", "style": "CUBISM"}), json!({})),
                "style",
            ),
            (nova, body(json!({"text": ""}), json!({})), "minLength"),
            (
                nova,
                body(json!({"text": "x".repeat(1025)}), json!({})),
                "maxLength: 1024",
            ),
            (
                nova,
                body(json!({"text": "x"}), json!({"size": 3})),
                "extraneous key [size]",
            ),
            (
                titan,
                body(json!({"text": "x", "style": "PHOTOREALISM"}), json!({})),
                "extraneous key [style]",
            ),
            (
                titan,
                body(json!({"text": "x".repeat(513)}), json!({})),
                "maxLength: 512",
            ),
            (
                titan,
                body(json!({"text": "x"}), json!({"width": 1792, "height": 1024})),
                "not a supported image size",
            ),
            (
                titan,
                json!({"taskType": "INPAINTING", "textToImageParams": {"text": "x"}}),
                "TEXT_IMAGE",
            ),
            (
                titan,
                json!({"textToImageParams": {"text": "x"}}),
                "taskType",
            ),
        ];
        for (model, body, expected) in cases {
            let err = check(model, &body).unwrap_err();
            assert!(err.message.contains(expected), "{body}: {}", err.message);
        }
    }
}
