//! Video, audio and citations: the block shapes (format enums, exactly one source, the S3 URI
//! pattern), which models take them, the inline video limit, the citations a document with
//! `citations.enabled` gets back (stream or not), the model that cannot stream, and the
//! listing that tells clients all of this.

use crate::support::*;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    AudioBlock, AudioFormat, AudioSource, CitationLocation, CitationsConfig, ContentBlock,
    ContentBlockDelta, ConverseStreamOutput, DocumentBlock, DocumentFormat, DocumentSource,
    S3Location, ToolResultBlock, ToolResultStatus, ToolUseBlock, VideoBlock, VideoFormat,
    VideoSource,
};
use serde_json::json;

const NOVA_LITE: &str = "amazon.nova-lite-v1:0";
const NOVA_MICRO: &str = "amazon.nova-micro-v1:0";
const HAIKU_3: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const VOXTRAL: &str = "mistral.voxtral-small-24b-2507";
const JURASSIC: &str = "ai21.j2-mid-v1";

fn video(format: VideoFormat, source: VideoSource) -> ContentBlock {
    ContentBlock::Video(
        VideoBlock::builder()
            .format(format)
            .source(source)
            .build()
            .unwrap(),
    )
}

fn mp4(bytes: &[u8]) -> ContentBlock {
    video(VideoFormat::Mp4, VideoSource::Bytes(Blob::new(bytes)))
}

fn s3_video(uri: &str) -> ContentBlock {
    video(
        VideoFormat::Mov,
        VideoSource::S3Location(S3Location::builder().uri(uri).build().unwrap()),
    )
}

fn audio(format: AudioFormat) -> ContentBlock {
    ContentBlock::Audio(
        AudioBlock::builder()
            .format(format)
            .source(AudioSource::Bytes(Blob::new(b"RIFF....WAVE".to_vec())))
            .build()
            .unwrap(),
    )
}

// ----- video ----------------------------------------------------------------

#[tokio::test]
async fn nova_lite_takes_video_inline_or_from_s3() {
    let h = start().await;
    let output = h
        .converse(NOVA_LITE)
        .messages(user_blocks(vec![
            text("what happens?"),
            mp4(b"\0\0\0\x18ftypmp42"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(reply_text(&output), "what happens? [video mp4 12 bytes]");
    let output = h
        .converse(NOVA_LITE)
        .messages(user_blocks(vec![
            text("and here?"),
            s3_video("s3://my-videos/clips/a.mov"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply_text(&output),
        "and here? [video mov s3://my-videos/clips/a.mov]"
    );
}

#[tokio::test]
async fn models_without_video_refuse_it() {
    let h = start().await;
    for model in [HAIKU_3, NOVA_MICRO, VOXTRAL] {
        let message = validation_error(
            h.converse(model)
                .messages(user_blocks(vec![text("see"), mp4(b"video")])),
        )
        .await;
        assert_eq!(
            message,
            "This model doesn't support the video content block that you provided at messages.0.content.1. Remove it and try again.",
            "{model}"
        );
    }
}

#[tokio::test]
async fn video_shapes_follow_botocore() {
    let h = start().await;
    // VideoFormat is an enum.
    let message = validation_error(h.converse(NOVA_LITE).messages(user_blocks(vec![
        text("see"),
        video(
            VideoFormat::from("avi"),
            VideoSource::Bytes(Blob::new(b"v".to_vec())),
        ),
    ])))
    .await;
    assert!(
        message.contains("failed to satisfy constraint: Member must satisfy enum value set: [mkv, mov, mp4, webm, flv, mpeg, mpg, wmv, three_gp]"),
        "{message}"
    );
    // S3Uri's pattern.
    let message = validation_error(h.converse(NOVA_LITE).messages(user_blocks(vec![
        text("see"),
        s3_video("https://my-videos.s3.amazonaws.com/a.mov"),
    ])))
    .await;
    assert!(
        message.contains("regular expression pattern: s3://"),
        "{message}"
    );
    // A source is a union: exactly one of bytes and s3Location.
    for source in [
        json!({}),
        json!({"bytes": "AAAA", "s3Location": {"uri": "s3://bucket/a.mp4"}}),
    ] {
        let body = json!({"messages": [{"role": "user", "content": [
            {"text": "see"}, {"video": {"format": "mp4", "source": source}}]}]});
        let message = raw_validation(&raw_converse(NOVA_LITE, body).await);
        assert!(message.contains("exactly one member"), "{message}");
    }
    // format and source are required.
    let body = json!({"messages": [{"role": "user", "content": [
        {"text": "see"}, {"video": {"source": {"bytes": "AAAA"}}}]}]});
    let message = raw_validation(&raw_converse(NOVA_LITE, body).await);
    assert!(message.contains("format"), "{message}");
}

#[tokio::test]
async fn inline_video_must_stay_under_25_mib_encoded() {
    let h = start().await;
    // 19,660,800 bytes encode to exactly 25 MiB: not "less than 25MB".
    let at_limit = vec![0u8; 19_660_800];
    let message = validation_error(
        h.converse(NOVA_LITE)
            .messages(user_blocks(vec![text("see"), mp4(&at_limit)])),
    )
    .await;
    assert!(message.contains("less than 25 MB encoded"), "{message}");
    let under = vec![0u8; 19_660_797];
    h.converse(NOVA_LITE)
        .messages(user_blocks(vec![text("see"), mp4(&under)]))
        .send()
        .await
        .expect("just under the limit");
}

#[tokio::test]
async fn video_and_audio_belong_to_user_turns() {
    let h = start().await;
    let message = validation_error(
        h.converse(NOVA_LITE)
            .messages(user("hi"))
            .messages(assistant_blocks(vec![text("look"), mp4(b"video")])),
    )
    .await;
    assert!(message.contains("video"), "{message}");
}

// ----- audio ----------------------------------------------------------------

#[tokio::test]
async fn voxtral_takes_audio_and_others_refuse_it() {
    let h = start().await;
    let output = h
        .converse(VOXTRAL)
        .messages(user_blocks(vec![
            text("transcribe"),
            audio(AudioFormat::Wav),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(reply_text(&output), "transcribe [audio wav 12 bytes]");
    for model in [NOVA_LITE, HAIKU_3] {
        let message = validation_error(
            h.converse(model)
                .messages(user_blocks(vec![text("hear"), audio(AudioFormat::Mp3)])),
        )
        .await;
        assert_eq!(
            message,
            "This model doesn't support the audio content block that you provided at messages.0.content.1. Remove it and try again.",
            "{model}"
        );
    }
    let message = validation_error(h.converse(VOXTRAL).messages(user_blocks(vec![
        text("hear"),
        audio(AudioFormat::from("aiff")),
    ])))
    .await;
    assert!(
        message.contains("enum value set: [mp3, opus, wav"),
        "{message}"
    );
}

// ----- streaming ------------------------------------------------------------

#[tokio::test]
async fn a_model_listed_without_streaming_refuses_converse_stream() {
    let h = start().await;
    h.converse(JURASSIC)
        .messages(user("hi"))
        .send()
        .await
        .expect("Converse works");
    let error = h
        .client
        .converse_stream()
        .model_id(JURASSIC)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_validation_exception(), "{error:?}");
    assert_eq!(
        error.meta().message(),
        Some("The model is unsupported for streaming.")
    );
}

// ----- tool results ---------------------------------------------------------

#[tokio::test]
async fn an_error_tool_result_needs_content() {
    let h = start().await;
    let call = ContentBlock::ToolUse(
        ToolUseBlock::builder()
            .tool_use_id("tooluse_1")
            .name("get_weather")
            .input(doc(&json!({"city": "Paris"})))
            .build()
            .unwrap(),
    );
    let result = |status: Option<ToolResultStatus>| {
        ContentBlock::ToolResult(
            ToolResultBlock::builder()
                .tool_use_id("tooluse_1")
                .set_content(Some(Vec::new()))
                .set_status(status)
                .build()
                .unwrap(),
        )
    };
    let request = |status| {
        h.converse(HAIKU_3)
            .messages(user("weather?"))
            .messages(assistant_blocks(vec![call.clone()]))
            .messages(user_blocks(vec![result(status)]))
            .tool_config(tools(vec![weather_tool()], None))
    };
    let message = validation_error(request(Some(ToolResultStatus::Error))).await;
    assert_eq!(
        message,
        "The content field at messages.2.content.0.toolResult cannot be empty when status value is error."
    );
    request(None)
        .send()
        .await
        .expect("empty content without the error status passes");
}

// ----- citations ------------------------------------------------------------

fn cited_document(text_value: &str) -> ContentBlock {
    ContentBlock::Document(
        DocumentBlock::builder()
            .format(DocumentFormat::Txt)
            .name("Refund policy")
            .source(DocumentSource::Bytes(Blob::new(text_value.as_bytes())))
            .citations(CitationsConfig::builder().enabled(true).build().unwrap())
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn a_document_with_citations_enabled_is_cited() {
    let h = start().await;
    let policy = "Refunds are paid within 14 days of a return.";
    let output = h
        .converse(HAIKU_3)
        .messages(user_blocks(vec![text("When?"), cited_document(policy)]))
        .send()
        .await
        .unwrap();
    let blocks = content(&output);
    let ContentBlock::CitationsContent(cited) = blocks.last().unwrap() else {
        panic!("no citationsContent: {blocks:?}");
    };
    assert_eq!(
        cited.content()[0].as_text().unwrap(),
        " (Refund policy says so.)"
    );
    let citation = &cited.citations()[0];
    assert_eq!(citation.title(), Some("Refund policy"));
    assert_eq!(
        citation.source_content()[0].as_text().unwrap(),
        "Refunds are paid within 14 days of a ret"
    );
    let Some(CitationLocation::DocumentChar(place)) = citation.location() else {
        panic!("{citation:?}");
    };
    assert_eq!(
        (place.document_index(), place.start(), place.end()),
        (Some(0), Some(0), Some(40))
    );

    // Not enabled: plain text only.
    let plain = h
        .converse(HAIKU_3)
        .messages(user_blocks(vec![
            text("When?"),
            ContentBlock::Document(
                DocumentBlock::builder()
                    .format(DocumentFormat::Txt)
                    .name("Refund policy")
                    .source(DocumentSource::Bytes(Blob::new(policy.as_bytes())))
                    .build()
                    .unwrap(),
            ),
        ]))
        .send()
        .await
        .unwrap();
    assert!(content(&plain).iter().all(ContentBlock::is_text));
}

#[tokio::test]
async fn citations_stream_as_citation_deltas() {
    let h = start().await;
    let response = h
        .client
        .converse_stream()
        .model_id(HAIKU_3)
        .messages(user_blocks(vec![
            text("When?"),
            cited_document("Refunds are paid within 14 days."),
        ]))
        .send()
        .await
        .unwrap();
    let transcript = collect(response).await;
    assert!(transcript.error.is_none(), "{:?}", transcript.error);
    assert!(transcript.text().ends_with(" (Refund policy says so.)"));
    let citation = transcript
        .events
        .iter()
        .find_map(|event| match event {
            ConverseStreamOutput::ContentBlockDelta(d) => match d.delta() {
                Some(ContentBlockDelta::Citation(c)) => Some((d.content_block_index(), c.clone())),
                _ => None,
            },
            _ => None,
        })
        .expect("a citation delta");
    assert_eq!(citation.0, 1, "the second block, after the echo");
    assert_eq!(citation.1.title(), Some("Refund policy"));
    assert_eq!(
        citation.1.source_content()[0].text(),
        Some("Refunds are paid within 14 days.")
    );
}

// ----- listing --------------------------------------------------------------

#[tokio::test]
async fn the_listing_says_video_speech_and_streaming() {
    let response = raw(Default::default(), "GET", "/foundation-models", Vec::new()).await;
    let listing: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    let row = |id: &str| {
        listing["modelSummaries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["modelId"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not listed"))
    };
    assert_eq!(
        row(NOVA_LITE)["inputModalities"],
        json!(["TEXT", "IMAGE", "VIDEO"])
    );
    assert_eq!(row(NOVA_MICRO)["inputModalities"], json!(["TEXT"]));
    assert_eq!(row(VOXTRAL)["inputModalities"], json!(["TEXT", "SPEECH"]));
    assert_eq!(row(JURASSIC)["responseStreamingSupported"], false);
    assert_eq!(row(HAIKU_3)["responseStreamingSupported"], true);
}
