//! InvokeModel for Bedrock's image generation models: Amazon Nova Canvas and Titan Image
//! Generator v2 (`POST /model/{modelId}/invoke` with the `TEXT_IMAGE` body, `body.rs`, answered
//! with `{"images": [base64 PNG...]}`), and Stability AI's Stable Image Core, Stable Image Ultra
//! and Stable Diffusion 3.5 Large (their `prompt`/`aspect_ratio` body, `stability.rs`, answered
//! with `{"seeds": [seed], "finish_reasons": [null], "images": [one base64 PNG]}`). Bodies are
//! checked as strictly as the emulator knows Bedrock checks them, with the evidence beside each
//! rule. The images are deterministic solid-colour PNGs of the requested size (`png.rs`), the
//! colour derived from the model, the text, the seed and the image's position (a Stability
//! request without a seed gets a drawn one, as Bedrock draws a random seed).
//!
//! This module owns the InvokeModel route and hands every other model to the embeddings
//! module. `[[delay:MS]]` and `[[fault:KIND]]` markers in the prompt work as for embeddings;
//! every call is recorded in the InvokeLog (`GET /_emulator/calls/invoke`), with the number of
//! images asked for as its input count.

mod body;
mod png;
mod stability;

pub use png::solid_png;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::catalog::{self, ModelKind};
use crate::control::InvokeLog;
use crate::error::{ApiError, ErrorKind};
use crate::markers::{self, Fault, Markers};
use body::{ImageAsk, ImageModel};

/// The InvokeModel route (image models here, the rest to `crate::embeddings`), to merge into
/// the emulator's router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/model/{model_id}/invoke", post(invoke))
}

/// Which body an image model takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyShape {
    /// `TEXT_IMAGE` (`body.rs`).
    Amazon(ImageModel),
    /// `prompt`, `aspect_ratio`... (`stability.rs`).
    Stability,
}

/// The image model a `modelId` names: its bare id or foundation-model ARN. Nova Canvas and
/// Titan have no inference profiles (a real ListInferenceProfiles answer in the fidelity audit
/// lists none); whether Stability's models have any is unconfirmed, so none are modelled.
fn image_model(model_id: &str) -> Option<(&'static str, BodyShape)> {
    let id = model_id
        .strip_prefix("arn:aws:bedrock:")
        .and_then(|rest| rest.split_once("::foundation-model/"))
        .map_or(model_id, |(_, id)| id);
    let model = catalog::lookup(id).filter(|m| m.kind == ModelKind::Image)?;
    let shape = if model.id.starts_with("amazon.nova-canvas") {
        BodyShape::Amazon(ImageModel::NovaCanvas)
    } else if model.id.starts_with("stability.") {
        BodyShape::Stability
    } else {
        BodyShape::Amazon(ImageModel::TitanV2)
    };
    Some((model.id, shape))
}

async fn invoke(
    Extension(log): Extension<Arc<InvokeLog>>,
    model_id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Some((id, shape)) = model_id
        .as_ref()
        .ok()
        .and_then(|Path(model_id)| image_model(model_id))
    else {
        return crate::embeddings::invoke(Extension(log), model_id, body).await;
    };
    let _in_flight = log.enter();
    let checked = serde_json::from_slice::<Value>(&body)
        .map_err(|error| {
            ApiError::malformed("", format!("the request body is not valid JSON ({error})"))
        })
        .and_then(|value| match shape {
            BodyShape::Amazon(model) => body::check(model, &value),
            BodyShape::Stability => stability::check(&value),
        });
    log.record(
        id,
        checked.as_ref().map_or(0, |ask| ask.count as usize),
        &body,
    );
    match checked {
        Ok(ask) => match answer(id, shape, ask).await {
            Ok(body) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(error) => error.into_response(),
        },
        Err(error) => error.into_response(),
    }
}

/// Applies the prompt's markers, then renders the images.
async fn answer(model_id: &str, shape: BodyShape, ask: ImageAsk) -> Result<String, ApiError> {
    let mut markers = Markers::default();
    markers.scan(&ask.text);
    if let Some(delay) = markers.delay {
        tokio::time::sleep(delay.min(Duration::from_secs(60))).await;
    }
    match markers.fault {
        Some(Fault::Immediate(kind)) => {
            return Err(ApiError::new(kind, markers::fault_message(kind)));
        }
        Some(Fault::MidStream(exception)) => {
            let kind = exception.as_http_error();
            return Err(ApiError::new(kind, markers::fault_message(kind)));
        }
        Some(Fault::RelayedFromModel) => {
            return Err(ApiError::new(
                ErrorKind::Validation,
                markers::RELAYED_FAULT_DETAIL,
            ));
        }
        None => {}
    }
    let images: Vec<String> = (0..ask.count)
        .map(|index| {
            let png = solid_png(ask.width, ask.height, colour(model_id, &ask, index));
            base64::engine::general_purpose::STANDARD.encode(png)
        })
        .collect();
    Ok(match shape {
        BodyShape::Amazon(_) => json!({ "images": images }),
        BodyShape::Stability => {
            json!({ "seeds": [ask.seed], "finish_reasons": [null], "images": images })
        }
    }
    .to_string())
}

/// The colour of image `index`: the same request always paints the same pictures.
fn colour(model_id: &str, ask: &ImageAsk, index: u32) -> [u8; 3] {
    let digest = Sha256::new()
        .chain_update(model_id)
        .chain_update([0])
        .chain_update(&ask.text)
        .chain_update(ask.seed.to_le_bytes())
        .chain_update(index.to_le_bytes())
        .finalize();
    [digest[0], digest[1], digest[2]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_models_by_id_or_arn() {
        assert_eq!(
            image_model("amazon.nova-canvas-v1:0"),
            Some((
                "amazon.nova-canvas-v1:0",
                BodyShape::Amazon(ImageModel::NovaCanvas)
            ))
        );
        assert_eq!(
            image_model(
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-image-generator-v2:0"
            ),
            Some((
                "amazon.titan-image-generator-v2:0",
                BodyShape::Amazon(ImageModel::TitanV2)
            ))
        );
        assert_eq!(
            image_model("stability.sd3-5-large-v1:0"),
            Some(("stability.sd3-5-large-v1:0", BodyShape::Stability))
        );
        assert_eq!(image_model("amazon.titan-embed-text-v2:0"), None);
        assert_eq!(image_model("us.amazon.nova-canvas-v1:0"), None);
    }

    const NOVA: &str = "amazon.nova-canvas-v1:0";
    const NOVA_SHAPE: BodyShape = BodyShape::Amazon(ImageModel::NovaCanvas);

    #[tokio::test]
    async fn stability_answers_one_image_with_its_seed() {
        let ask = ImageAsk {
            text: "a fox".into(),
            count: 1,
            width: 1344,
            height: 768,
            seed: 42,
        };
        let body = answer(
            "stability.stable-image-core-v1:1",
            BodyShape::Stability,
            ask,
        )
        .await
        .unwrap();
        let value: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["seeds"], json!([42]));
        assert_eq!(value["finish_reasons"], json!([null]));
        let png = base64::engine::general_purpose::STANDARD
            .decode(value["images"][0].as_str().unwrap())
            .unwrap();
        let size = imagesize::blob_size(&png).unwrap();
        assert_eq!((size.width, size.height), (1344, 768));
    }

    #[tokio::test]
    async fn answers_are_deterministic_pngs_of_the_asked_size() {
        let ask = ImageAsk {
            text: "a fox".into(),
            count: 2,
            width: 512,
            height: 768,
            seed: 7,
        };
        let body = answer(NOVA, NOVA_SHAPE, ask.clone()).await.unwrap();
        assert_eq!(body, answer(NOVA, NOVA_SHAPE, ask.clone()).await.unwrap());
        let value: Value = serde_json::from_str(&body).unwrap();
        let images = value["images"].as_array().unwrap();
        assert_eq!(images.len(), 2);
        assert_ne!(images[0], images[1]);
        let png = base64::engine::general_purpose::STANDARD
            .decode(images[0].as_str().unwrap())
            .unwrap();
        let size = imagesize::blob_size(&png).unwrap();
        assert_eq!((size.width, size.height), (512, 768));
        let faulty = ImageAsk {
            text: "a fox [[fault:throttling]]".into(),
            ..ask
        };
        let err = answer(NOVA, NOVA_SHAPE, faulty).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Throttling);
    }
}
