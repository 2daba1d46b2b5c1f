//! Rules for media content: images and documents must be supported by the
//! model, be what their declared format says (checked by magic numbers), and
//! stay within Bedrock's size and count limits. A user turn with a document
//! also needs a text block, and no two documents in a request may share a
//! name.

use std::collections::HashSet;

use super::block_path;
use crate::catalog::ChatCapabilities;
use crate::error::ApiError;
use crate::request::{
    ContentBlock, ConverseRequest, Document, DocumentSource, GuardContent, Image, Media,
    MediaSource, Role, ToolResultContent,
};

/// Bedrock's per-image limit, counted on the base64 encoding of the bytes: 5 MiB encoded, so
/// 3,932,160 raw bytes (the "3.75 MB" of botocore's `Message.content` doc, in MiB). Evidence:
/// Bedrock's refusal "messages.0.content.1.image.source.bytes: image exceeds 5 MB maximum:
/// 5579040 bytes > 5242880 bytes" for a 4,184,278-byte PNG on Claude Sonnet 4.6
/// (aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws#778 and
/// #841, measured live) and aws/aws-sdk-js-v3#6785 (Claude 3.5 Sonnet v2). It is Anthropic's
/// validator relayed, so "The model returned the following errors:"; that non-Anthropic models
/// apply the same encoded limit is unconfirmed.
const MAX_IMAGE_ENCODED_BYTES: usize = 5 * 1024 * 1024;
/// Inline video bytes: botocore `VideoSource` doc: "You can upload a smaller video as a
/// base64-encoded string as long as the encoded file is less than 25MB. You can also transfer
/// videos up to 1GB in size from an S3 bucket." Counted like images (MiB, on the encoding);
/// the unit and Bedrock's wording of the refusal are unconfirmed.
const MAX_VIDEO_ENCODED_BYTES: usize = 25 * 1024 * 1024;
/// Bedrock's per-document limit for Converse.
const MAX_DOCUMENT_BYTES: usize = 4_500_000;
const MAX_IMAGES: usize = 20;
const MAX_DOCUMENTS: usize = 5;

const TEXT_WITH_DOCUMENTS: &str =
    "A text block must be included when using documents. Add a text block and retry your request.";
const DUPLICATE_DOCUMENT_NAMES: &str =
    "Messages can't contain duplicate document names. Rename the document and retry your request.";

pub fn check(request: &ConverseRequest, capabilities: &ChatCapabilities) -> Result<(), ApiError> {
    let mut images = 0;
    let mut documents = 0;
    for (message_index, message) in request.messages.iter().enumerate() {
        for (block_index, block) in message.content.iter().enumerate() {
            let path = block_path(message_index, block_index);
            match block {
                ContentBlock::Image(image) => {
                    images += 1;
                    check_image(image, &path, capabilities)?;
                }
                ContentBlock::GuardContent(GuardContent::Image(image)) => {
                    check_image_bytes(image, &path)?;
                }
                ContentBlock::Document(document) => {
                    documents += 1;
                    check_document(document, &path, capabilities)?;
                }
                ContentBlock::Video(video) => check_video(video, &path, capabilities)?,
                ContentBlock::Audio(_) if !capabilities.audio => {
                    return Err(unsupported_block("audio", &path));
                }
                ContentBlock::Unsupported(kind) => return Err(unsupported_block(kind, &path)),
                ContentBlock::ToolResult(result) => {
                    for (content_index, content) in result.content.iter().enumerate() {
                        let content_path = format!("{path}.toolResult.content.{content_index}");
                        match content {
                            ToolResultContent::Image(image) => {
                                images += 1;
                                check_image(image, &content_path, capabilities)?;
                            }
                            ToolResultContent::Document(document) => {
                                documents += 1;
                                check_document(document, &content_path, capabilities)?;
                            }
                            ToolResultContent::Unsupported(kind) => {
                                return Err(unsupported_block(kind, &content_path));
                            }
                            ToolResultContent::Text(_) | ToolResultContent::Json(_) => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if images > MAX_IMAGES {
        return Err(ApiError::validation(format!(
            "Too many images: the request contains {images} images and the limit is {MAX_IMAGES}. Remove some images and try again."
        )));
    }
    if documents > MAX_DOCUMENTS {
        return Err(ApiError::validation(format!(
            "Too many documents: the request contains {documents} documents and the limit is {MAX_DOCUMENTS}. Remove some documents and try again."
        )));
    }
    check_documents_in_turns(request)
}

/// Bedrock's rules on the document blocks of the conversation itself (not
/// those inside tool results): each user turn that holds one also holds a
/// text block, and names are unique across every turn of the request, since
/// the whole history is sent each time.
fn check_documents_in_turns(request: &ConverseRequest) -> Result<(), ApiError> {
    let mut names = HashSet::new();
    for message in &request.messages {
        let mut has_document = false;
        let mut has_text = false;
        for block in &message.content {
            match block {
                ContentBlock::Document(document) => {
                    has_document = true;
                    if !names.insert(document.name.as_str()) {
                        return Err(ApiError::validation(DUPLICATE_DOCUMENT_NAMES));
                    }
                }
                ContentBlock::Text(_) => has_text = true,
                _ => {}
            }
        }
        if message.role == Role::User && has_document && !has_text {
            return Err(ApiError::validation(TEXT_WITH_DOCUMENTS));
        }
    }
    Ok(())
}

fn unsupported_block(kind: &str, path: &str) -> ApiError {
    ApiError::validation(format!(
        "This model doesn't support the {kind} content block that you provided at {path}. Remove it and try again."
    ))
}

fn check_image(image: &Image, path: &str, capabilities: &ChatCapabilities) -> Result<(), ApiError> {
    if !capabilities.images {
        return Err(unsupported_block("image", path));
    }
    check_image_bytes(image, path)
}

/// The length of the base64 encoding of `len` bytes.
fn base64_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

/// Video blocks: only models that take video (`ChatCapabilities::video`), and inline bytes
/// within the encoded limit. An `s3Location` is taken as it is (the emulator has no S3).
fn check_video(video: &Media, path: &str, capabilities: &ChatCapabilities) -> Result<(), ApiError> {
    if !capabilities.video {
        return Err(unsupported_block("video", path));
    }
    if let MediaSource::Bytes(bytes) = &video.source
        && base64_len(bytes.len()) >= MAX_VIDEO_ENCODED_BYTES
    {
        return Err(ApiError::validation(format!(
            "The video at {path} is {} bytes encoded; inline video bytes must be less than 25 MB encoded. Upload the video to Amazon S3 and pass an s3Location, then try again.",
            base64_len(bytes.len())
        )));
    }
    Ok(())
}

fn check_image_bytes(image: &Image, path: &str) -> Result<(), ApiError> {
    let encoded = base64_len(image.bytes.len());
    if encoded > MAX_IMAGE_ENCODED_BYTES {
        return Err(ApiError::from_model(format!(
            "{path}.image.source.bytes: image exceeds 5 MB maximum: {encoded} bytes > {MAX_IMAGE_ENCODED_BYTES} bytes"
        )));
    }
    match sniff_image_format(&image.bytes) {
        Some(actual) if actual == image.format => check_image_dimensions(&image.bytes, path),
        Some(actual) => Err(ApiError::from_model(format!(
            "{path}.image.source.bytes: The image was specified using the image/{} media type, but the image appears to be a image/{actual} image",
            image.format
        ))),
        None => Err(ApiError::from_model(format!(
            "{path}.image: Could not process image"
        ))),
    }
}

/// Width and height at most 8000 px: botocore `Message.content` ("The maximum image size,
/// height, and width must be no more than 3.75 MB, 8000 px, and 8000 px"). Read from the header
/// only. The refusal's wording follows Anthropic's own validator and is not a quoted Bedrock
/// message (unconfirmed).
fn check_image_dimensions(bytes: &[u8], path: &str) -> Result<(), ApiError> {
    const MAX_SIDE: usize = 8000;
    match imagesize::blob_size(bytes) {
        Ok(size) if size.width > MAX_SIDE || size.height > MAX_SIDE => {
            Err(ApiError::from_model(format!(
                "{path}.image.source.bytes: image dimensions exceed max allowed size: {MAX_SIDE} pixels"
            )))
        }
        _ => Ok(()),
    }
}

/// The image format the bytes really are, from their magic numbers.
pub fn sniff_image_format(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    }
}

/// Bedrock's rule: alphanumerics, whitespace, hyphens, parentheses and
/// square brackets, never two whitespace characters in a row.
fn is_valid_document_name(name: &str) -> bool {
    !name.trim().is_empty()
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch.is_whitespace() || "-()[]".contains(ch))
        && !name
            .chars()
            .zip(name.chars().skip(1))
            .any(|(a, b)| a.is_whitespace() && b.is_whitespace())
}

fn check_document(
    document: &Document,
    path: &str,
    capabilities: &ChatCapabilities,
) -> Result<(), ApiError> {
    if !capabilities.documents {
        return Err(unsupported_block("document", path));
    }
    if !is_valid_document_name(&document.name) {
        return Err(ApiError::validation(format!(
            "The document file name at {path} can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character."
        )));
    }
    if document.source.len() > MAX_DOCUMENT_BYTES {
        return Err(ApiError::validation(format!(
            "The document at {path} is larger than the 4.5 MB limit. Reduce the document size and try again."
        )));
    }
    let DocumentSource::Bytes(bytes) = &document.source else {
        return Ok(());
    };
    let looks_right = match document.format.as_str() {
        "pdf" => bytes.starts_with(b"%PDF-"),
        "docx" | "xlsx" => bytes.starts_with(b"PK\x03\x04"),
        "doc" | "xls" => bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]),
        // No format given (optional in botocore): nothing to check the bytes against.
        "" => true,
        // Text formats: anything that is text.
        _ => std::str::from_utf8(bytes).is_ok(),
    };
    if looks_right {
        Ok(())
    } else {
        Err(ApiError::validation(format!(
            "The document at {path} isn't a valid {} file. Check the document's format and bytes and try again.",
            document.format
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_four_formats() {
        assert_eq!(sniff_image_format(b"\x89PNG\r\n\x1a\nrest"), Some("png"));
        assert_eq!(sniff_image_format(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("jpeg"));
        assert_eq!(sniff_image_format(b"GIF89a..."), Some("gif"));
        assert_eq!(sniff_image_format(b"RIFF\0\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(sniff_image_format(b"hello"), None);
    }

    #[test]
    fn the_image_limit_is_five_mib_of_base64() {
        assert_eq!(
            base64_len(4_184_278),
            5_579_040,
            "the figure Bedrock quoted"
        );
        assert!(base64_len(3_932_160) <= MAX_IMAGE_ENCODED_BYTES);
        assert!(base64_len(3_932_161) > MAX_IMAGE_ENCODED_BYTES);
    }

    #[test]
    fn document_names_follow_the_rule() {
        assert!(is_valid_document_name("Quarterly report (v2) [final]"));
        assert!(is_valid_document_name("report-2024"));
        assert!(!is_valid_document_name("report.pdf"));
        assert!(!is_valid_document_name("two  spaces"));
        assert!(!is_valid_document_name("under_score"));
        assert!(!is_valid_document_name(""));
    }
}
