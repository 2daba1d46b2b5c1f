//! Image generation end to end: `POST /api/v1/images/generations` over HTTP, InvokeModel
//! through the real AWS SDK to the emulator, which checks Nova Canvas's and Titan Image
//! Generator v2's bodies (and Stability AI's `prompt`/`aspect_ratio` bodies, one image per call)
//! and answers with PNGs of the requested size; the ALB's 1 MB limit through the Lambda
//! adapter's own request conversion.

use crate::support::{self, MODEL, TestGateway};
use base64::Engine;
use bedrock_emulator::EmulatorConfig;
use serde_json::{Value, json};

const NOVA_CANVAS: &str = "amazon.nova-canvas-v1:0";
const TITAN_IMAGE: &str = "amazon.titan-image-generator-v2:0";
const STABLE_IMAGE_CORE: &str = "stability.stable-image-core-v1:1";

async fn generate(gw: &TestGateway, body: Value) -> (u16, Value) {
    let response = gw.post("/images/generations", &body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn invoke_calls(gw: &TestGateway) -> Vec<Value> {
    support::emulator_calls(&gw.emulator, "invoke").await["calls"]
        .as_array()
        .unwrap()
        .clone()
}

/// The size of a base64 PNG.
fn png_size(b64: &str) -> (u32, u32) {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (width, height)
}

#[tokio::test]
async fn dall_e_names_use_the_configured_default_image_model_with_the_mapped_body() {
    let gw = support::start_with(
        &[("DEFAULT_IMAGE_MODEL", NOVA_CANVAS)],
        EmulatorConfig::default(),
    )
    .await;
    let (status, body) = generate(
        &gw,
        json!({"model": "dall-e-3", "prompt": "a lighthouse at dusk", "n": 2,
               "size": "1792x1024", "quality": "hd", "style": "vivid"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["created"].as_u64().unwrap() > 0);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    for image in data {
        assert_eq!(png_size(image["b64_json"].as_str().unwrap()), (1792, 1024));
        assert!(image.get("url").is_none());
    }
    let calls = invoke_calls(&gw).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["modelId"], NOVA_CANVAS);
    assert_eq!(
        calls[0]["body"],
        json!({
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "a lighthouse at dusk"},
            "imageGenerationConfig": {"numberOfImages": 2, "width": 1792, "height": 1024, "quality": "premium"}
        })
    );
}

#[tokio::test]
async fn titan_gets_its_own_sizes_and_url_is_a_data_url() {
    let gw = support::start_with(
        &[("DEFAULT_IMAGE_MODEL", TITAN_IMAGE)],
        EmulatorConfig::default(),
    )
    .await;
    let (status, body) = generate(
        &gw,
        json!({"model": "gpt-image-1", "prompt": "a red kite", "size": "1024x1536",
               "response_format": "url"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let url = body["data"][0]["url"].as_str().unwrap();
    let b64 = url.strip_prefix("data:image/png;base64,").unwrap();
    assert_eq!(png_size(b64), (768, 1152));
    let calls = invoke_calls(&gw).await;
    assert_eq!(calls[0]["modelId"], TITAN_IMAGE);
    assert_eq!(calls[0]["body"]["imageGenerationConfig"]["width"], 768);
    assert_eq!(
        calls[0]["body"]["imageGenerationConfig"]["quality"],
        "standard"
    );
}

#[tokio::test]
async fn nova_styles_reach_bedrock_and_the_same_request_paints_the_same_image() {
    let gw = support::start().await;
    let request = json!({"model": NOVA_CANVAS, "prompt": "a fox", "size": "512x512",
                         "style": "photorealism"});
    let (status, first) = generate(&gw, request.clone()).await;
    assert_eq!(status, 200, "{first}");
    let (_, second) = generate(&gw, request).await;
    assert_eq!(first["data"], second["data"]);
    let calls = invoke_calls(&gw).await;
    assert_eq!(
        calls[0]["body"]["textToImageParams"],
        json!({"text": "a fox", "style": "PHOTOREALISM"})
    );
}

#[tokio::test]
async fn stability_makes_one_call_per_image_with_the_nearest_aspect_ratio() {
    let gw = support::start().await;
    let (status, body) = generate(
        &gw,
        json!({"model": STABLE_IMAGE_CORE, "prompt": "a lighthouse at dusk", "n": 2,
               "size": "1792x1024", "quality": "hd", "style": "vivid",
               "response_format": "url"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    let images: Vec<&str> = data
        .iter()
        .map(|image| {
            let url = image["url"].as_str().unwrap();
            url.strip_prefix("data:image/png;base64,").unwrap()
        })
        .collect();
    for image in &images {
        assert_eq!(png_size(image), (1344, 768));
    }
    // No seed is sent, so Bedrock draws one per call: two different pictures.
    assert_ne!(images[0], images[1]);
    let calls = invoke_calls(&gw).await;
    assert_eq!(calls.len(), 2);
    for call in &calls {
        assert_eq!(call["modelId"], STABLE_IMAGE_CORE);
        assert_eq!(
            call["body"],
            json!({"prompt": "a lighthouse at dusk", "aspect_ratio": "16:9", "output_format": "png"})
        );
    }

    let (status, body) = generate(
        &gw,
        json!({"model": "stability.sd3-5-large-v1:0", "prompt": "a kite", "size": "9:21"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        png_size(body["data"][0]["b64_json"].as_str().unwrap()),
        (640, 1536)
    );
    let calls = invoke_calls(&gw).await;
    assert_eq!(calls[2]["body"]["aspect_ratio"], "9:21");

    // Stable Image Core is the default image model (Nova Canvas is Legacy).
    let (status, body) = generate(&gw, json!({"model": "dall-e-3", "prompt": "a fox"})).await;
    assert_eq!(status, 200, "{body}");
    let calls = invoke_calls(&gw).await;
    assert_eq!(calls[3]["modelId"], STABLE_IMAGE_CORE);
    assert_eq!(calls[3]["body"]["aspect_ratio"], "1:1");
}

#[tokio::test]
async fn what_a_model_cannot_do_is_400_listing_what_it_can_before_bedrock() {
    let gw = support::start().await;
    for (body, param, hint) in [
        (
            json!({"model": TITAN_IMAGE, "prompt": "x", "size": "1000x1000"}),
            "size",
            "1173x640",
        ),
        (
            json!({"model": NOVA_CANVAS, "prompt": "x", "size": "4096x512"}),
            "size",
            "divisible by 16",
        ),
        (
            json!({"model": STABLE_IMAGE_CORE, "prompt": "x", "size": "4096x512"}),
            "size",
            "21:9 (1536x640)",
        ),
        (
            json!({"model": STABLE_IMAGE_CORE, "prompt": "x", "n": 6}),
            "n",
            "between 1 and 5",
        ),
        (
            json!({"model": STABLE_IMAGE_CORE, "prompt": "x", "style": "PHOTOREALISM"}),
            "style",
            "no styles",
        ),
        (
            json!({"model": NOVA_CANVAS, "prompt": "x", "n": 9}),
            "n",
            "between 1 and 5",
        ),
        (
            json!({"model": NOVA_CANVAS, "prompt": "x", "quality": "ultra"}),
            "quality",
            "hd",
        ),
        (
            json!({"model": TITAN_IMAGE, "prompt": "x", "style": "PHOTOREALISM"}),
            "style",
            "no styles",
        ),
        (
            json!({"model": NOVA_CANVAS, "prompt": "x", "style": "cubism"}),
            "style",
            "DESIGN_SKETCH",
        ),
        (
            json!({"model": NOVA_CANVAS, "prompt": " "}),
            "prompt",
            "empty",
        ),
        (
            json!({"model": TITAN_IMAGE, "prompt": "x".repeat(600)}),
            "prompt",
            "512",
        ),
        (
            json!({"model": NOVA_CANVAS, "prompt": "x", "response_format": "gif"}),
            "response_format",
            "b64_json",
        ),
        (
            json!({"model": NOVA_CANVAS, "prompt": "x", "output_format": "jpeg"}),
            "output_format",
            "PNG",
        ),
        (json!({"model": NOVA_CANVAS}), "prompt", "missing"),
        (
            json!({"model": MODEL, "prompt": "x"}),
            "model",
            "not an image model",
        ),
    ] {
        let (status, answer) = generate(&gw, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["param"], param, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(hint), "{body}: {message}");
    }
    assert!(invoke_calls(&gw).await.is_empty());
    let (status, answer) =
        generate(&gw, json!({"model": "stability.nope-v1", "prompt": "x"})).await;
    assert_eq!(status, 404, "{answer}");
}

#[tokio::test]
async fn image_models_are_not_chat_models_but_are_listed() {
    let gw = support::start().await;
    let (status, body) = gw.chat(support::user(NOVA_CANVAS, "hi")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "model");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/images/generations"),
        "{body}"
    );
    let list: Value = gw
        .http
        .get(format!("{}/api/v1/models", gw.url))
        .bearer_auth(support::KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (id, owner) in [
        (NOVA_CANVAS, "amazon"),
        (TITAN_IMAGE, "amazon"),
        (STABLE_IMAGE_CORE, "stability-ai"),
        ("stability.stable-image-ultra-v1:1", "stability-ai"),
        ("stability.sd3-5-large-v1:0", "stability-ai"),
    ] {
        let entry = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{id} not listed"));
        assert_eq!(entry["owned_by"], owner);
        assert_eq!(entry["object"], "model");
    }
}

#[tokio::test]
async fn bedrock_faults_come_back_as_openai_errors() {
    let gw = support::start().await;
    let (status, body) = generate(
        &gw,
        json!({"model": NOVA_CANVAS, "prompt": "a fox [[fault:throttling]]"}),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn images_too_large_for_the_alb_are_refused_before_bedrock() {
    use tower::ServiceExt;

    let emulator = bedrock_emulator::spawn(EmulatorConfig::default())
        .await
        .unwrap();
    let vars = std::collections::HashMap::from([("API_KEY".to_string(), support::KEY.to_string())]);
    let config = bedrock_gateway::config::Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let state = bedrock_gateway::state::AppState::with_sdk_config(
        config,
        &support::sdk_config(&emulator.url()),
    );
    let router = bedrock_gateway::app::router(state);
    let send = |body: Value| {
        let router = router.clone();
        async move {
            let mut event: Value =
                serde_json::from_str(include_str!("../../events/alb-embeddings.json")).unwrap();
            event["path"] = json!("/api/v1/images/generations");
            let text = body.to_string();
            if let Some(length) = event.pointer_mut("/multiValueHeaders/content-length") {
                *length = json!([text.len().to_string()]);
            }
            event["body"] = json!(text);
            let request =
                bedrock_gateway::lambda::router_request(serde_json::from_value(event).unwrap())
                    .unwrap();
            let response = router.oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let (status, body) = send(json!({"model": NOVA_CANVAS, "prompt": "a fox"})).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "response_too_large");
    assert_eq!(body["error"]["param"], "size");
    let calls = support::emulator_calls(&emulator, "invoke").await;
    assert!(calls["calls"].as_array().unwrap().is_empty());
    // Stability's images are about a megapixel at every ratio: none fits behind an ALB.
    let (status, body) = send(json!({"model": STABLE_IMAGE_CORE, "prompt": "a fox",
                                     "size": "1024x1792"}))
    .await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("never fit"),
        "{body}"
    );
    let calls = support::emulator_calls(&emulator, "invoke").await;
    assert!(calls["calls"].as_array().unwrap().is_empty());
    let (status, body) =
        send(json!({"model": NOVA_CANVAS, "prompt": "a fox", "size": "512x512"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
}
