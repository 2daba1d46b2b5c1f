//! Image generation on Bedrock: an OpenAI images request mapped onto the InvokeModel body of
//! each supported image model, and the model's answer read back. Pure (no I/O).
//!
//! Supported: Amazon Nova Canvas and Amazon Titan Image Generator v2, both through the
//! `TEXT_IMAGE` task, and Stability AI's Stable Image Core, Stable Image Ultra and Stable
//! Diffusion 3.5 Large, whose own body (`prompt`, `aspect_ratio`, `output_format`) and one image
//! per call are in `stability_image.rs` with their evidence.
//!
//! Longer than ~450 lines only because its unit tests (one per family's rules) live beside it.
//!
//! Evidence for each model's body (the emulator enforces the same rules, emulator/src/images/):
//! - Nova Canvas: AWS's Nova user guide, "Request and response structure for image generation"
//!   (docs.aws.amazon.com/nova/latest/userguide/image-gen-req-resp-structure.html): `taskType`
//!   `TEXT_IMAGE`, `textToImageParams` {`text` 1-1024 characters, `negativeText`, `style` one
//!   of eight names}, `imageGenerationConfig` {`width`, `height`, `quality` `standard` |
//!   `premium`, `cfgScale`, `seed`, `numberOfImages`}; the answer is `{"images": [base64...],
//!   "error"}`. AWS's code example for Nova Canvas draws `seed` from 0 to 858,993,459. Sizes
//!   (each side 320-4096 and divisible by 16, aspect ratio within 1:4..4:1, under 4,194,304
//!   pixels) and at most 5 images per request are from the Nova user guide's image generation
//!   pages as remembered; the search tool did not return those sentences, so they are
//!   unconfirmed here.
//! - Titan Image Generator v2: the Bedrock user guide's "Amazon Titan Image Generator G1
//!   models" (docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-image.html):
//!   the same `TEXT_IMAGE` / `textToImageParams` / `imageGenerationConfig` body (no `style`),
//!   `text` up to 512 characters, 1-5 images, `cfgScale` 1.1-10, `seed` up to 2,147,483,646,
//!   and a fixed list of sizes ([`TITAN_SIZES`]). The page's task table was confirmed through
//!   the search tool; the limits and the size list are from the page as remembered (unconfirmed
//!   here).

use serde_json::{Value, json};

use super::stability_image;
use crate::error::ApiError;

/// The image models the gateway drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFamily {
    NovaCanvas,
    TitanImageV2,
    /// Stable Image Core, Stable Image Ultra, Stable Diffusion 3.5 Large: one body shape.
    Stability,
}

/// The Stability AI model ids' stems (any version), see `stability_image.rs`.
const STABILITY_STEMS: &[&str] = &[
    "stability.stable-image-core-v1",
    "stability.stable-image-ultra-v1",
    "stability.sd3-5-large-v1",
];

/// Nova Canvas's visual styles (`textToImageParams.style`).
pub const NOVA_STYLES: &[&str] = &[
    "3D_ANIMATED_FAMILY_FILM",
    "DESIGN_SKETCH",
    "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION",
    "MAXIMALISM",
    "MIDCENTURY_RETRO",
    "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
];

/// Titan Image Generator v2's sizes (width, height).
pub const TITAN_SIZES: &[(u32, u32)] = &[
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

/// Images one request may ask for, on every model (Stability: that many calls).
pub const MAX_IMAGES: u32 = 5;
const NOVA_MAX_PIXELS: u64 = 4_194_304;

impl ImageFamily {
    /// The family of a model id: a bare id, a foundation-model ARN, or a system profile id.
    pub fn of(model_id: &str) -> Option<ImageFamily> {
        let id = model_id
            .rsplit_once("foundation-model/")
            .map_or(model_id, |(_, id)| id);
        let id = match id.split_once('.') {
            Some(("us" | "eu" | "apac" | "global", rest)) => rest,
            _ => id,
        };
        if id.starts_with("amazon.nova-canvas-v1") {
            Some(ImageFamily::NovaCanvas)
        } else if id.starts_with("amazon.titan-image-generator-v2") {
            Some(ImageFamily::TitanImageV2)
        } else if STABILITY_STEMS.iter().any(|stem| id.starts_with(stem)) {
            Some(ImageFamily::Stability)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ImageFamily::NovaCanvas => "Amazon Nova Canvas",
            ImageFamily::TitanImageV2 => "Amazon Titan Image Generator v2",
            ImageFamily::Stability => "Stability AI's image model",
        }
    }

    fn max_prompt_chars(self) -> usize {
        match self {
            ImageFamily::NovaCanvas => 1024,
            ImageFamily::TitanImageV2 => 512,
            ImageFamily::Stability => stability_image::MAX_PROMPT_CHARS,
        }
    }

    /// Whether the model takes `width` x `height`.
    pub fn allows_size(self, width: u32, height: u32) -> bool {
        match self {
            ImageFamily::NovaCanvas => {
                let side = |s: u32| (320..=4096).contains(&s) && s.is_multiple_of(16);
                let (long, short) = (width.max(height), width.min(height));
                side(width)
                    && side(height)
                    && long <= 4 * short
                    && u64::from(width) * u64::from(height) < NOVA_MAX_PIXELS
            }
            ImageFamily::TitanImageV2 => TITAN_SIZES.contains(&(width, height)),
            ImageFamily::Stability => stability_image::ASPECT_RATIOS
                .iter()
                .any(|(_, w, h)| (*w, *h) == (width, height)),
        }
    }

    /// The sizes the model takes, as a client should read them.
    fn sizes_described(self) -> String {
        match self {
            ImageFamily::NovaCanvas => "each side 320 to 4096 pixels and divisible by 16, an aspect ratio between 1:4 and 4:1, and fewer than 4,194,304 pixels (e.g. 1024x1024, 1280x720, 2048x1024)".to_string(),
            ImageFamily::TitanImageV2 => TITAN_SIZES
                .iter()
                .map(|(w, h)| format!("{w}x{h}"))
                .collect::<Vec<_>>()
                .join(", "),
            ImageFamily::Stability => stability_image::sizes_described(),
        }
    }

    /// OpenAI's own sizes that the model does not take, mapped to the nearest size it does.
    fn nearest_for_openai_size(self, width: u32, height: u32) -> Option<(u32, u32)> {
        let mapped = match (self, width, height) {
            (ImageFamily::NovaCanvas, 256, 256) => (320, 320),
            (ImageFamily::TitanImageV2, 256, 256) => (512, 512),
            (ImageFamily::TitanImageV2, 1792, 1024) => (1408, 768),
            (ImageFamily::TitanImageV2, 1024, 1792) => (768, 1408),
            (ImageFamily::TitanImageV2, 1536, 1024) => (1152, 768),
            (ImageFamily::TitanImageV2, 1024, 1536) => (768, 1152),
            _ => return None,
        };
        Some(mapped)
    }
}

/// One image generation, checked and ready to become a model body.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageJob {
    pub family: ImageFamily,
    pub prompt: String,
    pub count: u32,
    pub width: u32,
    pub height: u32,
    pub premium: bool,
    pub style: Option<&'static str>,
    /// Stability's `aspect_ratio` (width and height are then the size it answers).
    pub aspect_ratio: Option<&'static str>,
}

impl ImageJob {
    /// The InvokeModel calls the job takes: Stability's models make one image per call.
    pub fn calls(&self) -> u32 {
        match self.family {
            ImageFamily::Stability => self.count,
            ImageFamily::NovaCanvas | ImageFamily::TitanImageV2 => 1,
        }
    }
}

/// The OpenAI request's fields, as the mapping needs them.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageAsk<'a> {
    pub prompt: &'a str,
    pub n: Option<i64>,
    pub size: Option<&'a str>,
    pub quality: Option<&'a str>,
    pub style: Option<&'a str>,
}

/// Checks an OpenAI images request against `family`'s rules: a 400 naming the field, with the
/// values the model takes, for anything it cannot do.
pub fn image_job(family: ImageFamily, model_id: &str, ask: ImageAsk) -> Result<ImageJob, ApiError> {
    let prompt = ask.prompt.trim();
    if prompt.is_empty() {
        return Err(ApiError::invalid_param(
            "prompt",
            "`prompt` is empty; describe the image to generate.",
        ));
    }
    let chars = prompt.chars().count();
    if chars > family.max_prompt_chars() {
        return Err(ApiError::invalid_param(
            "prompt",
            format!(
                "`prompt` has {chars} characters; {} (`{model_id}`) takes at most {}.",
                family.name(),
                family.max_prompt_chars()
            ),
        ));
    }
    let count = match ask.n {
        None => 1,
        Some(n) if (1..=i64::from(MAX_IMAGES)).contains(&n) => n as u32,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "n",
                format!(
                    "`n` must be between 1 and {MAX_IMAGES} for {}.",
                    family.name()
                ),
            ));
        }
    };
    let (width, height, aspect_ratio) = size(family, model_id, ask.size)?;
    let premium = match ask.quality {
        None | Some("standard" | "auto" | "low" | "medium") => false,
        Some("hd" | "high") => true,
        Some(other) => {
            return Err(ApiError::invalid_param(
                "quality",
                format!(
                    "`quality` must be `standard` or `hd` (or gpt-image's `low`, `medium`, `high`, `auto`); got `{other}`."
                ),
            ));
        }
    };
    Ok(ImageJob {
        family,
        prompt: prompt.to_string(),
        count,
        width,
        height,
        premium,
        style: style(family, model_id, ask.style)?,
        aspect_ratio,
    })
}

/// Width, height and (Stability) the aspect ratio for the requested size.
type Sized = (u32, u32, Option<&'static str>);

fn size(family: ImageFamily, model_id: &str, size: Option<&str>) -> Result<Sized, ApiError> {
    let requested = match size {
        None | Some("auto") if family == ImageFamily::Stability => "1:1",
        None | Some("auto") => return Ok((1024, 1024, None)),
        Some(text) => text,
    };
    if family == ImageFamily::Stability {
        if let Some((ratio, width, height)) = stability_image::aspect_ratio_for(requested) {
            return Ok((width, height, Some(ratio)));
        }
        return Err(size_refused(family, model_id, requested));
    }
    let parsed = requested
        .split_once(['x', 'X'])
        .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)));
    if let Some((width, height)) = parsed {
        if family.allows_size(width, height) {
            return Ok((width, height, None));
        }
        if let Some((width, height)) = family.nearest_for_openai_size(width, height) {
            return Ok((width, height, None));
        }
    }
    Err(size_refused(family, model_id, requested))
}

fn size_refused(family: ImageFamily, model_id: &str, requested: &str) -> ApiError {
    ApiError::invalid_param(
        "size",
        format!(
            "{} (`{model_id}`) cannot make `{requested}` images. Sizes it takes: {}.",
            family.name(),
            family.sizes_described()
        ),
    )
}

/// DALL-E 3's `vivid` and `natural` have no Bedrock counterpart and are ignored (NextChat sends
/// `vivid` by default); Nova Canvas takes its own style names, in any case.
fn style(
    family: ImageFamily,
    model_id: &str,
    style: Option<&str>,
) -> Result<Option<&'static str>, ApiError> {
    let Some(style) = style else {
        return Ok(None);
    };
    if matches!(style, "vivid" | "natural") {
        return Ok(None);
    }
    let named = NOVA_STYLES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(style))
        .copied();
    match (family, named) {
        (ImageFamily::NovaCanvas, Some(named)) => Ok(Some(named)),
        (ImageFamily::NovaCanvas, None) => Err(ApiError::invalid_param(
            "style",
            format!(
                "`style` `{style}` is not one of Nova Canvas's styles: {} (or DALL-E's `vivid`/`natural`, which are ignored).",
                NOVA_STYLES.join(", ")
            ),
        )),
        (ImageFamily::TitanImageV2 | ImageFamily::Stability, _) => Err(ApiError::invalid_param(
            "style",
            format!(
                "{} (`{model_id}`) has no styles; remove `style` (DALL-E's `vivid`/`natural` are accepted and ignored).",
                family.name()
            ),
        )),
    }
}

/// The InvokeModel body for `job` (for Stability, the body of each of its [`ImageJob::calls`]).
pub fn request_body(job: &ImageJob) -> Value {
    if let (ImageFamily::Stability, Some(ratio)) = (job.family, job.aspect_ratio) {
        return stability_image::request_body(&job.prompt, ratio);
    }
    let mut params = json!({ "text": job.prompt });
    if let Some(style) = job.style {
        params["style"] = json!(style);
    }
    json!({
        "taskType": "TEXT_IMAGE",
        "textToImageParams": params,
        "imageGenerationConfig": {
            "numberOfImages": job.count,
            "width": job.width,
            "height": job.height,
            "quality": if job.premium { "premium" } else { "standard" },
        }
    })
}

/// The base64 PNGs in a model's answer: `{"images": [...], "error": ...}` (Amazon) or
/// `{"seeds": [...], "finish_reasons": [null | "Filter reason: ..."], "images": [...]}`
/// (Stability; a filtered answer has a reason and, per AWS's Ultra page, no images).
pub fn images_of(body: &[u8]) -> Result<Vec<String>, ApiError> {
    let unreadable = || {
        ApiError::new(
            axum::http::StatusCode::BAD_GATEWAY,
            crate::error::ErrorKind::ApiError,
            "Bedrock's image model answered with a body the gateway cannot read.",
        )
    };
    let value: Value = serde_json::from_slice(body).map_err(|_| unreadable())?;
    let images: Vec<String> = value["images"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let filtered = value["finish_reasons"]
        .as_array()
        .and_then(|reasons| reasons.iter().find_map(Value::as_str));
    if let Some(reason) = filtered {
        return Err(ApiError::invalid_request(format!(
            "The image model generated no image: {reason}"
        ))
        .with_code("content_filter"));
    }
    if images.is_empty() {
        return Err(match value["error"].as_str() {
            Some(error) => {
                ApiError::invalid_request(format!("The image model generated no image: {error}"))
                    .with_code("content_filter")
            }
            None => unreadable(),
        });
    }
    Ok(images)
}

/// A bound on the answer's size for `job`, before Bedrock is called: PNGs of generated pictures
/// take about 1.5 bytes per pixel (an estimate; content decides), then base64 adds a third.
pub fn estimated_response_bytes(job: &ImageJob) -> usize {
    let pixels = job.width as usize * job.height as usize;
    pixels * 3 / 2 * 4 / 3 * job.count as usize + 200
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(size: Option<&str>) -> ImageAsk<'_> {
        ImageAsk {
            prompt: "a lighthouse",
            size,
            ..ImageAsk::default()
        }
    }

    #[test]
    fn families_from_ids() {
        assert_eq!(
            ImageFamily::of("amazon.nova-canvas-v1:0"),
            Some(ImageFamily::NovaCanvas)
        );
        assert_eq!(
            ImageFamily::of(
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-image-generator-v2:0"
            ),
            Some(ImageFamily::TitanImageV2)
        );
        assert_eq!(
            ImageFamily::of("stability.stable-image-core-v1:1"),
            Some(ImageFamily::Stability)
        );
        assert_eq!(
            ImageFamily::of("us.stability.sd3-5-large-v1:0"),
            Some(ImageFamily::Stability)
        );
        assert_eq!(ImageFamily::of("stability.stable-diffusion-xl-v1"), None);
        assert_eq!(ImageFamily::of("amazon.titan-image-generator-v1"), None);
        assert_eq!(ImageFamily::of("amazon.nova-lite-v1:0"), None);
    }

    #[test]
    fn sizes_map_or_are_refused_with_the_list() {
        let nova = ImageFamily::NovaCanvas;
        let titan = ImageFamily::TitanImageV2;
        let job = |family, size| image_job(family, "m", ask(size));
        assert_eq!(
            job(nova, None).map(|j| (j.width, j.height)),
            Ok((1024, 1024))
        );
        assert_eq!(
            job(nova, Some("1792x1024")).map(|j| (j.width, j.height)),
            Ok((1792, 1024))
        );
        assert_eq!(
            job(nova, Some("256x256")).map(|j| (j.width, j.height)),
            Ok((320, 320))
        );
        assert_eq!(
            job(titan, Some("1792x1024")).map(|j| (j.width, j.height)),
            Ok((1408, 768))
        );
        assert_eq!(
            job(titan, Some("768x1152")).map(|j| (j.width, j.height)),
            Ok((768, 1152))
        );
        for (family, size) in [
            (nova, "1000x1000"), // not divisible by 16
            (nova, "2048x2048"), // 4,194,304 pixels
            (nova, "4096x512"),  // 8:1
            (titan, "1000x1000"),
            (titan, "big"),
        ] {
            let err = job(family, Some(size)).unwrap_err();
            assert_eq!(err.param.as_deref(), Some("size"), "{size}");
            assert!(err.message.contains("Sizes it takes"), "{}", err.message);
        }
        assert!(
            job(titan, Some("9x9"))
                .unwrap_err()
                .message
                .contains("1173x640")
        );
    }

    #[test]
    fn options_per_model() {
        let nova = ImageFamily::NovaCanvas;
        let titan = ImageFamily::TitanImageV2;
        let with = |family, n, quality, style| {
            image_job(
                family,
                "m",
                ImageAsk {
                    prompt: "a fox",
                    n,
                    quality,
                    style,
                    size: None,
                },
            )
        };
        let job = with(nova, Some(3), Some("hd"), Some("photorealism")).unwrap();
        assert_eq!(
            (job.count, job.premium, job.style),
            (3, true, Some("PHOTOREALISM"))
        );
        assert_eq!(with(titan, None, None, Some("vivid")).unwrap().style, None);
        for (family, n, quality, style, param) in [
            (nova, Some(6), None, None, "n"),
            (nova, Some(0), None, None, "n"),
            (nova, None, Some("ultra"), None, "quality"),
            (nova, None, None, Some("cubism"), "style"),
            (titan, None, None, Some("PHOTOREALISM"), "style"),
        ] {
            let err = with(family, n, quality, style).unwrap_err();
            assert_eq!(err.param.as_deref(), Some(param));
        }
        let long = "x".repeat(513);
        let err = image_job(
            titan,
            "m",
            ImageAsk {
                prompt: &long,
                ..ask(None)
            },
        )
        .unwrap_err();
        assert!(err.message.contains("512"), "{}", err.message);
        assert!(
            image_job(
                nova,
                "m",
                ImageAsk {
                    prompt: &long,
                    ..ask(None)
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn body_and_answer() {
        let job = image_job(
            ImageFamily::NovaCanvas,
            "m",
            ImageAsk {
                prompt: "a fox",
                n: Some(2),
                size: Some("512x512"),
                quality: Some("standard"),
                style: Some("DESIGN_SKETCH"),
            },
        )
        .unwrap();
        assert_eq!(
            request_body(&job),
            json!({
                "taskType": "TEXT_IMAGE",
                "textToImageParams": {"text": "a fox", "style": "DESIGN_SKETCH"},
                "imageGenerationConfig": {"numberOfImages": 2, "width": 512, "height": 512, "quality": "standard"}
            })
        );
        assert_eq!(
            images_of(br#"{"images":["QQ=="],"error":null}"#).unwrap(),
            ["QQ=="]
        );
        let err = images_of(br#"{"images":[],"error":"blocked"}"#).unwrap_err();
        assert_eq!(err.code.as_deref(), Some("content_filter"));
        assert_eq!(images_of(b"nope").unwrap_err().status, 502);
        assert!(estimated_response_bytes(&job) > 2 * 512 * 512);
    }

    #[test]
    fn stability_jobs_take_one_call_per_image() {
        let stability = ImageFamily::Stability;
        let job = image_job(
            stability,
            "stability.stable-image-core-v1:1",
            ImageAsk {
                prompt: "a fox",
                n: Some(3),
                size: Some("1792x1024"),
                quality: Some("hd"),
                style: Some("vivid"),
            },
        )
        .unwrap();
        assert_eq!(
            (job.calls(), job.aspect_ratio, job.width, job.height),
            (3, Some("16:9"), 1344, 768)
        );
        assert_eq!(
            request_body(&job),
            json!({"prompt": "a fox", "aspect_ratio": "16:9", "output_format": "png"})
        );
        // 3 images of about a megapixel: the estimate covers every call's answer.
        assert!(estimated_response_bytes(&job) > 3 * 1344 * 768);
        let default = image_job(stability, "m", ask(None)).unwrap();
        assert_eq!(default.aspect_ratio, Some("1:1"));
        let err = image_job(stability, "m", ask(Some("4096x512"))).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("size"));
        assert!(err.message.contains("21:9 (1536x640)"), "{}", err.message);
        for (n, style, param) in [(Some(6), None, "n"), (None, Some("PHOTOREALISM"), "style")] {
            let err = image_job(
                stability,
                "m",
                ImageAsk {
                    n,
                    style,
                    ..ask(None)
                },
            )
            .unwrap_err();
            assert_eq!(err.param.as_deref(), Some(param));
        }
        let long = "x".repeat(10_001);
        let err = image_job(
            stability,
            "m",
            ImageAsk {
                prompt: &long,
                ..ask(None)
            },
        )
        .unwrap_err();
        assert!(err.message.contains("10000"), "{}", err.message);
        assert_eq!(
            images_of(br#"{"seeds":[7],"finish_reasons":[null],"images":["QQ=="]}"#).unwrap(),
            ["QQ=="]
        );
        let err = images_of(br#"{"finish_reasons":["Filter reason: prompt"]}"#).unwrap_err();
        assert_eq!(err.code.as_deref(), Some("content_filter"));
        assert!(err.message.contains("Filter reason: prompt"));
    }
}
