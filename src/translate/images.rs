//! Images: OpenAI `image_url` parts -> Converse image blocks.
//!
//! The format is read from the bytes, not trusted from a data URL's header: clients label PNGs
//! as JPEG often enough, and Bedrock rejects a block whose bytes disagree with its format.
//! Remote (http/https) images are downloaded beforehand by the I/O layer (`crate::fetch`) and
//! handed in as bytes; this module does no I/O. (Bedrock never returns images in a chat reply,
//! so this concept has no response direction.)

use std::collections::HashMap;

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{ImageBlock, ImageFormat, ImageSource};
use base64::Engine;

use crate::error::ApiError;

/// Bodies of remote images, downloaded before translation, by URL.
pub type FetchedImages = HashMap<String, Vec<u8>>;

/// Bedrock's per-image limit, "3.75 MB": Bedrock counts 5 MiB (5,242,880 bytes) of base64, so
/// 3,932,160 raw bytes. Evidence: Bedrock's own refusal "image exceeds 5 MB maximum: 5579040
/// bytes > 5242880 bytes" (aws-solutions-library-samples/
/// accelerated-intelligent-document-processing-on-aws#778, aws/aws-sdk-js-v3#6785).
pub const MAX_IMAGE_BYTES: usize = 3_932_160;

/// The image format the bytes really are.
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// A `data:` URL split into its media type and decoded bytes.
pub struct DataUrl {
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// Parses `data:<media type>;base64,<data>`. Errors say what is wrong, for a 400.
pub fn parse_data_url(url: &str) -> Result<DataUrl, String> {
    let rest = url.strip_prefix("data:").ok_or("it is not a data URL")?;
    let (header, data) = rest
        .split_once(',')
        .ok_or("a data URL needs a comma between its header and its data")?;
    let media_type = header
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !header
        .split(';')
        .any(|p| p.trim().eq_ignore_ascii_case("base64"))
    {
        return Err("only base64 data URLs are supported (data:<type>;base64,<data>)".into());
    }
    let bytes = decode_base64(data).map_err(|e| format!("its base64 data is invalid ({e})"))?;
    Ok(DataUrl { media_type, bytes })
}

/// Decodes standard or URL-safe base64, padded or not, ignoring whitespace.
pub fn decode_base64(data: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let cleaned: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let standard = GeneralPurpose::new(&base64::alphabet::STANDARD, config);
    standard
        .decode(&cleaned)
        .or_else(|_| GeneralPurpose::new(&base64::alphabet::URL_SAFE, config).decode(&cleaned))
}

/// Builds the image block for an `image_url` part at `param` (for error messages).
pub fn image_block(
    url: &str,
    fetched: &FetchedImages,
    param: &str,
) -> Result<ImageBlock, ApiError> {
    let bytes = if url.starts_with("data:") {
        parse_data_url(url)
            .map_err(|why| {
                ApiError::invalid_param(
                    param,
                    format!("The image data URL at `{param}` is not usable: {why}."),
                )
            })?
            .bytes
    } else if url.starts_with("http://") || url.starts_with("https://") {
        fetched.get(url).cloned().ok_or_else(|| {
            ApiError::invalid_param(
                param,
                format!("The image at `{param}` could not be downloaded."),
            )
        })?
    } else {
        return Err(ApiError::invalid_param(
            param,
            format!(
                "The image URL at `{param}` must be a data URL (data:image/png;base64,...) or an http(s) URL."
            ),
        ));
    };
    bytes_to_block(bytes, param)
}

fn bytes_to_block(bytes: Vec<u8>, param: &str) -> Result<ImageBlock, ApiError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ApiError::invalid_param(
            param,
            format!(
                "The image at `{param}` is {} bytes; Bedrock accepts images up to 3.75 MB.",
                bytes.len()
            ),
        ));
    }
    let format = sniff_format(&bytes).ok_or_else(|| {
        ApiError::invalid_param(
            param,
            format!("The image at `{param}` is not a PNG, JPEG, GIF or WebP image, the formats Bedrock accepts."),
        )
    })?;
    check_dimensions(&bytes, param)?;
    ImageBlock::builder()
        .format(format)
        .source(ImageSource::Bytes(Blob::new(bytes)))
        .build()
        .map_err(|e| ApiError::invalid_param(param, e.to_string()))
}

/// Bedrock's limit on an image's width and height (botocore `Message.content`: "8000 px").
pub const MAX_IMAGE_SIDE: usize = 8000;

/// Refuses an image wider or taller than Bedrock accepts, from its header alone (no decoding).
/// A header the parser cannot read is left for Bedrock to judge.
fn check_dimensions(bytes: &[u8], param: &str) -> Result<(), ApiError> {
    let Ok(size) = imagesize::blob_size(bytes) else {
        return Ok(());
    };
    if size.width > MAX_IMAGE_SIDE || size.height > MAX_IMAGE_SIDE {
        return Err(ApiError::invalid_param(
            param,
            format!(
                "The image at `{param}` is {}x{} pixels; Bedrock accepts images up to {MAX_IMAGE_SIDE} pixels wide and high. Scale it down and send it again.",
                size.width, size.height
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    /// A PNG signature and IHDR chunk saying `width` x `height` (nothing after it).
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend(width.to_be_bytes());
        bytes.extend(height.to_be_bytes());
        bytes.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn images_over_8000_pixels_are_refused_from_the_header() {
        let err = bytes_to_block(png_header(8001, 10), "messages[0].content[1]").unwrap_err();
        assert!(err.message.contains("8001x10"), "{}", err.message);
        assert_eq!(err.param.as_deref(), Some("messages[0].content[1]"));
        assert!(bytes_to_block(png_header(10, 8001), "p").is_err());
        assert!(bytes_to_block(png_header(8000, 8000), "p").is_ok());
    }

    #[test]
    fn format_comes_from_the_bytes_not_the_header() {
        let url = format!("data:image/jpeg;base64,{PNG_1X1}");
        let block = image_block(&url, &FetchedImages::new(), "messages[0].content[1]").unwrap();
        assert_eq!(block.format, ImageFormat::Png);
    }

    #[test]
    fn rejects_bad_base64_and_unknown_formats() {
        let err = image_block("data:image/png;base64,@@@", &FetchedImages::new(), "p").unwrap_err();
        assert!(err.message.contains("base64"), "{}", err.message);
        let text = base64::engine::general_purpose::STANDARD.encode(b"hello, not an image");
        let err = image_block(
            &format!("data:image/png;base64,{text}"),
            &FetchedImages::new(),
            "p",
        )
        .unwrap_err();
        assert!(err.message.contains("not a PNG"), "{}", err.message);
        let err = image_block("ftp://x/y.png", &FetchedImages::new(), "p").unwrap_err();
        assert_eq!(err.status.as_u16(), 400);
    }

    #[test]
    fn sniffs_every_accepted_format() {
        assert_eq!(sniff_format(b"GIF89a...."), Some(ImageFormat::Gif));
        assert_eq!(
            sniff_format(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(
            sniff_format(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageFormat::Webp)
        );
        assert_eq!(sniff_format(b"<svg"), None);
    }
}
