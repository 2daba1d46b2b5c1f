//! `POST /images/generations`: parse, resolve the model to a Bedrock image model
//! (`dall-e-*`/`gpt-image-*` -> `DEFAULT_IMAGE_MODEL`), check the request against the model's
//! rules and the response limit before Bedrock is called, one InvokeModel call (Stability AI's
//! models make one image per call: `n` calls, at most 5, made together), answer in OpenAI's
//! shape. The per-model mapping is in `translate/image_generation.rs`.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{Extensions, StatusCode};

use crate::auth::Caller;
use crate::auth::model_access::resolve_mapped;
use crate::error::{ApiError, ErrorKind};
use crate::limits::ResponseLimit;
use crate::openai::images::{ImageRequest, ImagesResponse};
use crate::routes::parse_body;
use crate::state::AppState;
use crate::telemetry::Recorder;
use crate::translate::image_generation::{
    ImageAsk, ImageFamily, ImageJob, estimated_response_bytes, image_job, images_of, request_body,
};

pub async fn generate_images(
    State(state): State<AppState>,
    caller: Caller,
    record: Recorder,
    extensions: Extensions,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImagesResponse>, ApiError> {
    let req: ImageRequest = parse_body(body, "Send a shorter prompt.")?;
    let format = req.response_format()?;
    req.check_output_format()?;
    record.requested(req.model.as_deref().unwrap_or(""), false);
    // Through the key's aliases and allow-list like every route; `dall-e-*`, `gpt-image-*` and
    // no model at all mean DEFAULT_IMAGE_MODEL.
    let requested = req.model.as_deref().unwrap_or("");
    let (model_id, _) = resolve_mapped(&state, &caller, requested, |name| {
        state
            .config
            .image_model_id((!name.is_empty()).then_some(name))
    })
    .await?;
    record.model_used(&model_id);
    let family = resolve_family(&state, &model_id).await?;
    let job = image_job(
        family,
        &model_id,
        ImageAsk {
            prompt: &req.prompt,
            n: req.n,
            size: req.size.as_deref(),
            quality: req.quality.as_deref(),
            style: req.style.as_deref(),
        },
    )?;
    if let Some(limit) = extensions.get::<ResponseLimit>() {
        check_fits(limit, &job)?;
    }
    let body = request_body(&job).to_string().into_bytes();
    let calls = (0..job.calls()).map(|_| state.bedrock.invoke_model(&model_id, body.clone()));
    let mut pngs = Vec::new();
    for answer in futures_util::future::try_join_all(calls).await? {
        pngs.extend(images_of(&answer.body)?);
    }
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(Json(ImagesResponse::from_pngs(created, pngs, format)))
}

/// The image family behind a model id, or behind the application inference profile it names.
async fn resolve_family(state: &AppState, model_id: &str) -> Result<ImageFamily, ApiError> {
    if let Some(family) = ImageFamily::of(model_id) {
        return Ok(family);
    }
    if model_id.starts_with("arn:")
        && let Some(base) = state.catalog.underlying_model(model_id).await
        && let Some(family) = ImageFamily::of(&base)
    {
        return Ok(family);
    }
    Err(ApiError::invalid_param(
        "model",
        format!(
            "`{model_id}` is not an image model this gateway drives. Image models: amazon.nova-canvas-v1:0 (Nova Canvas), amazon.titan-image-generator-v2:0 (Titan Image Generator v2), stability.stable-image-core-v1:1, stability.stable-image-ultra-v1:1, stability.sd3-5-large-v1:0 (Stability AI); `dall-e-*` and `gpt-image-*` use DEFAULT_IMAGE_MODEL."
        ),
    )
    .with_code("model_not_supported"))
}

/// Refuses, before Bedrock is called (and paid), a request whose images would likely exceed the
/// response limit of its carrier (the ALB's 1 MB). The size of a PNG depends on its content, so
/// this is an estimate; an answer that still exceeds the limit becomes the carrier's 413.
fn check_fits(limit: &ResponseLimit, job: &ImageJob) -> Result<(), ApiError> {
    let estimate = estimated_response_bytes(job);
    if estimate <= limit.bytes {
        return Ok(());
    }
    // Stability's models answer about a megapixel whatever the ratio: none fits.
    let advice = match job.family {
        ImageFamily::Stability => format!(
            "This model's images (about a megapixel each) never fit: {}",
            limit.avoided_by
        ),
        ImageFamily::NovaCanvas | ImageFamily::TitanImageV2 => format!(
            "Ask for fewer or smaller images (one 512x512 image fits), or {}",
            limit.avoided_by
        ),
    };
    Err(ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::InvalidRequestError,
        format!(
            "{} image(s) of {}x{} come to about {:.1} MB as base64 PNG, more than {}. {advice}.",
            job.count,
            job.width,
            job.height,
            estimate as f64 / 1_000_000.0,
            limit.described,
        ),
    )
    .with_param(if job.count > 1 { "n" } else { "size" })
    .with_code("response_too_large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_fits_behind_an_alb() {
        let limit = ResponseLimit {
            bytes: 1_000_000,
            described: "the 1 MB an Application Load Balancer accepts from Lambda",
            avoided_by: "use the Function URL",
        };
        let job = |n, side| ImageJob {
            family: ImageFamily::NovaCanvas,
            prompt: "p".into(),
            count: n,
            width: side,
            height: side,
            premium: false,
            style: None,
            aspect_ratio: None,
        };
        assert!(check_fits(&limit, &job(1, 512)).is_ok());
        let err = check_fits(&limit, &job(1, 1024)).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(err.param.as_deref(), Some("size"));
        assert!(err.message.contains("Function URL"), "{}", err.message);
        assert_eq!(
            check_fits(&limit, &job(2, 512))
                .unwrap_err()
                .param
                .as_deref(),
            Some("n")
        );
        let stability = ImageJob {
            family: ImageFamily::Stability,
            aspect_ratio: Some("9:21"),
            width: 640,
            height: 1536,
            ..job(1, 512)
        };
        let err = check_fits(&limit, &stability).unwrap_err();
        assert!(
            err.message.contains("never fit: use the Function URL"),
            "{}",
            err.message
        );
    }
}
