//! Image generation through the real AWS SDK: InvokeModel with Nova Canvas's and Titan Image
//! Generator v2's `TEXT_IMAGE` bodies, the answer's PNGs, the ValidationExceptions of bodies
//! each model refuses, and Converse refusing image models.

use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::primitives::Blob;
use base64::Engine;
use serde_json::{Value, json};

use crate::support::{self, Harness};

const NOVA_CANVAS: &str = "amazon.nova-canvas-v1:0";
const TITAN_IMAGE: &str = "amazon.titan-image-generator-v2:0";

async fn invoke(h: &Harness, model: &str, body: Value) -> Result<Value, (String, String)> {
    h.client
        .invoke_model()
        .model_id(model)
        .content_type("application/json")
        .accept("application/json")
        .body(Blob::new(body.to_string()))
        .send()
        .await
        .map(|out| serde_json::from_slice(out.body.as_ref()).unwrap())
        .map_err(|err| {
            let err = err.into_service_error();
            (
                err.code().unwrap_or_default().to_string(),
                err.message().unwrap_or_default().to_string(),
            )
        })
}

fn png_size(b64: &Value) -> (u32, u32) {
    let png = base64::engine::general_purpose::STANDARD
        .decode(b64.as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    (width, height)
}

#[tokio::test]
async fn documented_bodies_get_pngs_of_the_asked_size() {
    let h = support::start().await;
    let answer = invoke(
        &h,
        NOVA_CANVAS,
        json!({
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "a lighthouse", "style": "PHOTOREALISM"},
            "imageGenerationConfig": {"numberOfImages": 3, "width": 1280, "height": 720,
                                      "quality": "premium", "cfgScale": 6.5, "seed": 12}
        }),
    )
    .await
    .unwrap();
    let images = answer["images"].as_array().unwrap();
    assert_eq!(images.len(), 3);
    assert!(images.iter().all(|i| png_size(i) == (1280, 720)));

    let arn = format!("arn:aws:bedrock:us-east-1::foundation-model/{TITAN_IMAGE}");
    let answer = invoke(
        &h,
        &arn,
        json!({"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a kite"},
               "imageGenerationConfig": {"width": 1408, "height": 768}}),
    )
    .await
    .unwrap();
    assert_eq!(png_size(&answer["images"][0]), (1408, 768));
}

#[tokio::test]
async fn bodies_a_model_refuses_are_validation_exceptions() {
    let h = support::start().await;
    for (model, body, expected) in [
        (
            TITAN_IMAGE,
            json!({"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x", "style": "PHOTOREALISM"}}),
            "extraneous key [style]",
        ),
        (
            TITAN_IMAGE,
            json!({"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"},
                   "imageGenerationConfig": {"width": 1792, "height": 1024}}),
            "not a supported image size",
        ),
        (
            NOVA_CANVAS,
            json!({"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"},
                   "imageGenerationConfig": {"numberOfImages": 6}}),
            "numberOfImages",
        ),
        (
            NOVA_CANVAS,
            json!({"inputText": "an embeddings body"}),
            "taskType",
        ),
    ] {
        let (code, message) = invoke(&h, model, body.clone()).await.unwrap_err();
        assert_eq!(code, "ValidationException", "{body}");
        assert!(message.contains(expected), "{body}: {message}");
    }
}

#[tokio::test]
async fn converse_refuses_image_models() {
    let h = support::start().await;
    let err = h
        .converse(NOVA_CANVAS)
        .messages(support::user("hi"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(
        err.message().unwrap().contains("text or chat model"),
        "{:?}",
        err.message()
    );
}
