//! Audio, video and citations over HTTP, checked against what reached the emulator: OpenAI's
//! `input_audio` and the gateway's `video_url` parts become Converse `audio` and `video` blocks
//! for the models whose listing says they take them (a 400 naming the model otherwise), and a
//! document sent with citations enabled comes back with `annotations`, stream or not.

use crate::support::{TestGateway, last_converse_call, streamed_text, user};
use serde_json::{Value, json};

const NOVA_LITE: &str = "amazon.nova-lite-v1:0";
const HAIKU_3: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const VOXTRAL: &str = "mistral.voxtral-small-24b-2507";

fn with_parts(model: &str, parts: Value) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": parts}]})
}

async fn converse_calls(gw: &TestGateway) -> usize {
    crate::support::emulator_calls(&gw.emulator, "converse").await["calls"]
        .as_array()
        .map_or(0, Vec::len)
}

// ----- audio ----------------------------------------------------------------

#[tokio::test]
async fn input_audio_reaches_a_model_that_hears_as_an_audio_block() {
    let gw = crate::support::start().await;
    let body = with_parts(
        VOXTRAL,
        json!([
            {"type": "text", "text": "transcribe"},
            {"type": "input_audio", "input_audio": {"data": "UklGRiQAAABXQVZF", "format": "wav"}}
        ]),
    );
    let (status, reply) = gw.chat(body).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        "transcribe [audio wav 12 bytes]"
    );
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        sent["body"]["messages"][0]["content"][1],
        json!({"audio": {"format": "wav", "source": {"bytes": "UklGRiQAAABXQVZF"}}}),
        "{sent}"
    );
}

#[tokio::test]
async fn audio_to_a_model_that_cannot_hear_is_a_400_naming_it() {
    let gw = crate::support::start().await;
    let audio =
        json!({"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "mp3"}});
    let (status, reply) = gw
        .chat(with_parts(
            NOVA_LITE,
            json!([{"type": "text", "text": "hi"}, audio]),
        ))
        .await;
    assert_eq!(status, 400, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(NOVA_LITE) && message.contains("audio input"),
        "{message}"
    );
    assert_eq!(reply["error"]["param"], "messages[0].content[1]");
    assert_eq!(converse_calls(&gw).await, 0, "nothing reached Bedrock");
    // A malformed part is a 400 too, not a 500.
    let (status, reply) = gw
        .chat(with_parts(
            VOXTRAL,
            json!([{"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "aiff"}}]),
        ))
        .await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(
        reply["error"]["param"],
        "messages[0].content[0].input_audio.format"
    );
}

#[tokio::test]
async fn responses_input_audio_and_input_video_work_like_chat() {
    let gw = crate::support::start().await;
    let response = gw
        .post(
            "/responses",
            &json!({"model": VOXTRAL, "input": [{"role": "user", "content": [
                {"type": "input_text", "text": "hear"},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
            ]}]}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        sent["body"]["messages"][0]["content"][1]["audio"]["format"],
        "wav"
    );
    let response = gw
        .post(
            "/responses",
            &json!({"model": NOVA_LITE, "input": [{"role": "user", "content": [
                {"type": "input_text", "text": "watch"},
                {"type": "input_video", "video_url": "s3://clips-bucket/a.mp4"}
            ]}]}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        sent["body"]["messages"][0]["content"][1]["video"],
        json!({"format": "mp4", "source": {"s3Location": {"uri": "s3://clips-bucket/a.mp4"}}})
    );
}

// ----- video ----------------------------------------------------------------

#[tokio::test]
async fn video_url_parts_reach_nova_inline_or_from_s3() {
    let gw = crate::support::start().await;
    let body = with_parts(
        NOVA_LITE,
        json!([
            {"type": "text", "text": "what happens?"},
            {"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAAGGZ0eXBtcDQy"}}
        ]),
    );
    let (status, reply) = gw.chat(body).await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        sent["body"]["messages"][0]["content"][1],
        json!({"video": {"format": "mp4", "source": {"bytes": "AAAAGGZ0eXBtcDQy"}}})
    );
    let body = with_parts(
        NOVA_LITE,
        json!([
            {"type": "text", "text": "and this?"},
            {"type": "video_url", "video_url": {"url": "s3://clips-bucket/2026/a.mov"}}
        ]),
    );
    let (status, reply) = gw.chat(body).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        "and this? [video mov s3://clips-bucket/2026/a.mov]"
    );
}

#[tokio::test]
async fn video_to_a_model_without_video_is_a_400_naming_it() {
    let gw = crate::support::start().await;
    let video = json!({"type": "video_url", "video_url": {"url": "s3://clips-bucket/a.mp4"}});
    for model in [HAIKU_3, "amazon.nova-micro-v1:0"] {
        let (status, reply) = gw
            .chat(with_parts(
                model,
                json!([{"type": "text", "text": "hi"}, video]),
            ))
            .await;
        assert_eq!(status, 400, "{model}: {reply}");
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(model) && message.contains("video input"),
            "{message}"
        );
    }
    assert_eq!(converse_calls(&gw).await, 0);
}

#[tokio::test]
async fn inline_video_over_25_mib_encoded_is_refused_before_bedrock() {
    let gw =
        crate::support::start_with(&[("MAX_REQUEST_BYTES", "41943040")], Default::default()).await;
    let data = "A".repeat(25 * 1024 * 1024);
    let video =
        json!({"type": "video_url", "video_url": {"url": format!("data:video/mp4;base64,{data}")}});
    let (status, reply) = gw
        .chat(with_parts(
            NOVA_LITE,
            json!([{"type": "text", "text": "hi"}, video]),
        ))
        .await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("s3://"),
        "{reply}"
    );
    assert_eq!(converse_calls(&gw).await, 0);
}

// ----- citations ------------------------------------------------------------

fn cited_file() -> Value {
    use base64::Engine;
    let policy = "Refunds are paid within 14 days of a return.";
    let data = base64::engine::general_purpose::STANDARD.encode(policy);
    json!({"type": "file", "file": {
        "filename": "Refund policy.txt",
        "file_data": format!("data:text/plain;base64,{data}"),
        "citations": {"enabled": true}
    }})
}

#[tokio::test]
async fn citations_become_annotations_on_the_message() {
    let gw = crate::support::start().await;
    let body = with_parts(
        HAIKU_3,
        json!([{"type": "text", "text": "When?"}, cited_file()]),
    );
    let (status, reply) = gw.chat(body.clone()).await;
    assert_eq!(status, 200, "{reply}");
    let sent = last_converse_call(&gw.emulator).await;
    assert_eq!(
        sent["body"]["messages"][0]["content"][1]["document"]["citations"],
        json!({"enabled": true})
    );
    let message = &reply["choices"][0]["message"];
    let content = message["content"].as_str().unwrap();
    assert!(content.ends_with(" (Refund policy says so.)"), "{content}");
    let annotation = &message["annotations"][0];
    assert_eq!(annotation["type"], "document_citation", "{message}");
    let cited = &annotation["document_citation"];
    assert_eq!(cited["title"], "Refund policy");
    assert_eq!(
        cited["cited_text"],
        "Refunds are paid within 14 days of a ret"
    );
    assert_eq!(
        cited["location"],
        json!({"type": "char", "start": 0, "end": 40})
    );
    let (start, end) = (
        cited["start_index"].as_u64().unwrap() as usize,
        cited["end_index"].as_u64().unwrap() as usize,
    );
    let chars: Vec<char> = content.chars().collect();
    assert_eq!(
        chars[start..end].iter().collect::<String>(),
        " (Refund policy says so.)"
    );

    // Streamed: the same text, and the same annotation in a delta.
    let mut stream = body;
    stream["stream"] = json!(true);
    let (status, events) = gw.chat_stream(stream).await;
    assert_eq!(status, 200);
    assert_eq!(streamed_text(&events), content);
    let streamed = events
        .iter()
        .find_map(|e| e["choices"][0]["delta"]["annotations"].as_array().cloned())
        .expect("an annotations delta");
    assert_eq!(streamed[0], *annotation);
}

#[tokio::test]
async fn without_citations_there_are_no_annotations() {
    let gw = crate::support::start().await;
    let (status, reply) = gw.chat(user(HAIKU_3, "hello")).await;
    assert_eq!(status, 200);
    assert!(
        reply["choices"][0]["message"].get("annotations").is_none(),
        "{reply}"
    );
}
