//! Image generation through the real AWS SDK: InvokeModel with Nova Canvas's and Titan Image
//! Generator v2's `TEXT_IMAGE` bodies and Stability AI's `prompt`/`aspect_ratio` bodies, the
//! answer's PNGs, the ValidationExceptions of bodies each model refuses, the listing, and
//! Converse refusing image models.

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

const STABILITY_MODELS: [&str; 3] = [
    "stability.stable-image-core-v1:1",
    "stability.stable-image-ultra-v1:1",
    "stability.sd3-5-large-v1:0",
];

#[tokio::test]
async fn stability_bodies_get_one_png_and_its_seed() {
    let h = support::start().await;
    for model in STABILITY_MODELS {
        let answer = invoke(
            &h,
            model,
            json!({"prompt": "a lighthouse", "aspect_ratio": "3:2", "output_format": "png",
                   "mode": "text-to-image", "seed": 7, "negative_prompt": "fog"}),
        )
        .await
        .unwrap();
        assert_eq!(answer["seeds"], json!([7]), "{model}");
        assert_eq!(answer["finish_reasons"], json!([null]));
        let images = answer["images"].as_array().unwrap();
        assert_eq!(images.len(), 1);
        assert_eq!(png_size(&images[0]), (1216, 832));
    }
    // The documented minimal body: 1:1, and a drawn seed.
    let answer = invoke(&h, STABILITY_MODELS[0], json!({"prompt": "a panda"}))
        .await
        .unwrap();
    assert_eq!(png_size(&answer["images"][0]), (1024, 1024));
    assert!(answer["seeds"][0].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn stability_bodies_bedrock_refuses_are_validation_exceptions() {
    let h = support::start().await;
    for (body, expected) in [
        (
            json!({"prompt": "x", "aspect_ratio": "1792x1024"}),
            "not a valid enum value",
        ),
        (json!({"prompt": "x", "seed": -3}), "range 0 to 4294967295"),
        (json!({"prompt": "x".repeat(10_001)}), "maxLength: 10000"),
        (
            json!({"prompt": "x", "numberOfImages": 2}),
            "extraneous key [numberOfImages]",
        ),
        (
            json!({"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"}}),
            "required key [prompt]",
        ),
    ] {
        let (code, message) = invoke(&h, STABILITY_MODELS[0], body.clone())
            .await
            .unwrap_err();
        assert_eq!(code, "ValidationException", "{body}");
        assert!(message.contains(expected), "{body}: {message}");
    }
}

#[tokio::test]
async fn stability_models_are_listed_as_image_models() {
    let response = support::raw(
        Default::default(),
        "GET",
        "/foundation-models?byOutputModality=IMAGE",
        Vec::new(),
    )
    .await;
    let listing: Value = serde_json::from_slice(&response.body).unwrap();
    let rows: Vec<&Value> = listing["modelSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["providerName"] == "Stability AI")
        .collect();
    let ids: Vec<&str> = rows
        .iter()
        .map(|m| m["modelId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, STABILITY_MODELS);
    for row in rows {
        assert_eq!(row["outputModalities"], json!(["IMAGE"]));
        assert_eq!(row["inferenceTypesSupported"], json!(["ON_DEMAND"]));
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
