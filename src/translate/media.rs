//! Audio and video parts -> Converse `audio` and `video` blocks.
//!
//! - `input_audio` (OpenAI's part: `{"data": <base64>, "format": "wav" | "mp3"}`) becomes an
//!   `AudioBlock` with inline bytes. Bedrock's other `AudioFormat` values (`flac`, `ogg`, ...)
//!   are accepted as well.
//! - `video_url` (a gateway extension: `{"url": "data:video/mp4;base64,..."}` or
//!   `{"url": "s3://bucket/key.mp4"}`) becomes a `VideoBlock` with inline bytes or an
//!   `s3Location`. The format comes from the data URL's media type or the S3 key's extension.
//!
//! Which model takes which is decided by the caller from the capabilities (the listing's
//! `inputModalities`). This module does no I/O.

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    AudioBlock, AudioFormat, AudioSource, S3Location, VideoBlock, VideoFormat, VideoSource,
};

use crate::error::ApiError;
use crate::openai::chat::InputAudio;
use crate::translate::images::{decode_base64, parse_data_url};

/// Inline video: botocore `VideoSource` says the base64-encoded video must be "less than
/// 25MB" (bigger videos, up to 1 GB, go through S3). Counted in MiB on the encoding, as
/// Bedrock counts its 5 MB image limit; the exact unit for video is unconfirmed.
pub const MAX_VIDEO_ENCODED_BYTES: usize = 25 * 1024 * 1024;

/// botocore `AudioFormat`.
const AUDIO_FORMATS: &[&str] = &[
    "mp3", "opus", "wav", "aac", "flac", "mp4", "ogg", "mkv", "mka", "x-aac", "m4a", "mpeg",
    "mpga", "pcm", "webm",
];

/// Video media types and file extensions -> botocore `VideoFormat`.
const VIDEO_TYPES: &[(&str, &str)] = &[
    ("mp4", "mp4"),
    ("quicktime", "mov"),
    ("mov", "mov"),
    ("x-matroska", "mkv"),
    ("mkv", "mkv"),
    ("webm", "webm"),
    ("x-flv", "flv"),
    ("flv", "flv"),
    ("mpeg", "mpeg"),
    ("mpg", "mpg"),
    ("x-ms-wmv", "wmv"),
    ("wmv", "wmv"),
    ("3gpp", "three_gp"),
    ("3gp", "three_gp"),
];

/// The `audio` block for an `input_audio` part at `param`.
pub fn audio_block(audio: &InputAudio, param: &str) -> Result<AudioBlock, ApiError> {
    let format = audio.format.to_ascii_lowercase();
    if !AUDIO_FORMATS.contains(&format.as_str()) {
        return Err(ApiError::invalid_param(
            format!("{param}.input_audio.format"),
            format!(
                "`{param}.input_audio.format` `{}` is not an audio format Bedrock takes; use one of: {}.",
                audio.format,
                AUDIO_FORMATS.join(", ")
            ),
        ));
    }
    let bytes = decode_base64(&audio.data).map_err(|e| {
        ApiError::invalid_param(
            format!("{param}.input_audio.data"),
            format!("`{param}.input_audio.data` is not valid base64 ({e})."),
        )
    })?;
    if bytes.is_empty() {
        return Err(ApiError::invalid_param(
            format!("{param}.input_audio.data"),
            format!("`{param}.input_audio.data` is empty."),
        ));
    }
    AudioBlock::builder()
        .format(AudioFormat::from(format.as_str()))
        .source(AudioSource::Bytes(Blob::new(bytes)))
        .build()
        .map_err(|e| ApiError::invalid_param(param, e.to_string()))
}

/// The `video` block for a `video_url` part at `param`: a base64 data URL or an `s3://` URI.
pub fn video_block(url: &str, param: &str) -> Result<VideoBlock, ApiError> {
    let url_param = format!("{param}.video_url.url");
    let bad = |why: String| ApiError::invalid_param(url_param.clone(), why);
    let (format, source) = if url.starts_with("s3://") {
        if !is_s3_uri(url) {
            return Err(bad(format!(
                "`{url_param}` is not an S3 URI Bedrock takes: `s3://<bucket>/<key>` with a bucket of 3 to 63 lowercase letters, digits, dots and hyphens, at most 1024 characters in all."
            )));
        }
        let extension = url
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default();
        let format = video_format(&extension).ok_or_else(|| {
            bad(format!(
                "`{url_param}`: the video format cannot be told from the key's extension `{extension}`; name the object with one of .mp4, .mov, .mkv, .webm, .flv, .mpeg, .mpg, .wmv, .3gp."
            ))
        })?;
        let location = S3Location::builder()
            .uri(url)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        (format, VideoSource::S3Location(location))
    } else if url.starts_with("data:") {
        let (_, data) = url.split_once(',').unwrap_or_default();
        if data.len() >= MAX_VIDEO_ENCODED_BYTES {
            return Err(bad(format!(
                "`{url_param}`: the video is {} bytes as base64; Bedrock takes inline video under 25 MB encoded. Upload it to Amazon S3 and pass its s3:// URI instead.",
                data.len()
            )));
        }
        let parsed = parse_data_url(url).map_err(|why| bad(format!("`{url_param}`: {why}.")))?;
        let subtype = parsed
            .media_type
            .strip_prefix("video/")
            .ok_or_else(|| {
                bad(format!(
                    "`{url_param}` must be a video data URL (data:video/<type>;base64,...), not `{}`.",
                    parsed.media_type
                ))
            })?
            .to_string();
        let format = video_format(&subtype).ok_or_else(|| {
            bad(format!(
                "`{url_param}`: video/{subtype} is not a video format Bedrock takes (mp4, quicktime, x-matroska, webm, x-flv, mpeg, x-ms-wmv, 3gpp)."
            ))
        })?;
        if parsed.bytes.is_empty() {
            return Err(bad(format!("`{url_param}`: the video is empty.")));
        }
        (format, VideoSource::Bytes(Blob::new(parsed.bytes)))
    } else {
        return Err(bad(format!(
            "`{url_param}` must be a base64 data URL (data:video/mp4;base64,...) or an s3:// URI; the gateway does not download videos."
        )));
    };
    VideoBlock::builder()
        .format(format)
        .source(source)
        .build()
        .map_err(|e| ApiError::invalid_param(param, e.to_string()))
}

fn video_format(name: &str) -> Option<VideoFormat> {
    VIDEO_TYPES
        .iter()
        .find(|(given, _)| *given == name)
        .map(|(_, format)| VideoFormat::from(*format))
}

/// botocore `S3Uri`: `s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?`, at most 1024 characters.
fn is_s3_uri(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("s3://") else {
        return false;
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    uri.len() <= 1024
        && (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| edge(b) || b == b'.' || b == b'-')
        && bucket.bytes().next().is_some_and(edge)
        && bucket.bytes().last().is_some_and(edge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(data: &str, format: &str) -> InputAudio {
        InputAudio {
            data: data.into(),
            format: format.into(),
        }
    }

    #[test]
    fn audio_keeps_its_format_and_bytes() {
        let block = audio_block(&audio("UklGRg==", "wav"), "messages[0].content[0]").unwrap();
        assert_eq!(block.format(), &AudioFormat::Wav);
        assert_eq!(
            block.source().unwrap().as_bytes().unwrap().as_ref(),
            b"RIFF"
        );
        assert!(audio_block(&audio("UklGRg==", "MP3"), "p").is_ok());
        let err = audio_block(&audio("UklGRg==", "aiff"), "p").unwrap_err();
        assert!(err.message.contains("aiff"), "{}", err.message);
        assert!(audio_block(&audio("!!!", "wav"), "p").is_err());
        assert!(audio_block(&audio("", "wav"), "p").is_err());
    }

    #[test]
    fn video_from_a_data_url_or_s3() {
        let block = video_block("data:video/quicktime;base64,AAAAIGZ0eXA=", "p").unwrap();
        assert_eq!(block.format(), &VideoFormat::Mov);
        assert!(block.source().unwrap().is_bytes());
        let block = video_block("s3://my-bucket/clips/a.3gp", "p").unwrap();
        assert_eq!(block.format(), &VideoFormat::ThreeGp);
        assert_eq!(
            block.source().unwrap().as_s3_location().unwrap().uri(),
            "s3://my-bucket/clips/a.3gp"
        );
    }

    #[test]
    fn bad_videos_are_400s_naming_the_part() {
        for url in [
            "https://example.com/a.mp4",
            "s3://My_Bucket/a.mp4",
            "s3://bucket/a.avi",
            "data:image/png;base64,AAAA",
            "data:video/avi;base64,AAAA",
            "data:video/mp4;base64,",
        ] {
            let err = video_block(url, "messages[0].content[1]").unwrap_err();
            assert_eq!(err.status.as_u16(), 400, "{url}");
            assert!(
                err.message.contains("messages[0].content[1].video_url.url"),
                "{url}: {}",
                err.message
            );
        }
    }

    #[test]
    fn inline_video_is_capped_at_25_mib_encoded() {
        let big = format!(
            "data:video/mp4;base64,{}",
            "A".repeat(MAX_VIDEO_ENCODED_BYTES)
        );
        let err = video_block(&big, "p").unwrap_err();
        assert!(err.message.contains("S3"), "{}", err.message);
    }
}
