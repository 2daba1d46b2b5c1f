//! The content of one OpenAI message -> Converse blocks: the text pieces of a text-only message
//! (system, assistant, tool), and a user message's text, image, document, audio and video parts
//! with their cache points. Blank text is dropped here (`conversation_rules::is_blank_text`); a part the
//! model cannot take is a 400 naming the part.

use aws_sdk_bedrockruntime::types::ContentBlock;

use crate::error::ApiError;
use crate::openai::chat::{Content, PartKind};
use crate::translate::caching::CacheBudget;
use crate::translate::conversation_rules::is_blank_text;
use crate::translate::documents::{DocumentNames, document_block};
use crate::translate::images::image_block;
use crate::translate::media::{audio_block, video_block};
use crate::translate::messages::MessageContext;

/// The non-blank text pieces of a text-only message, with their part-level cache markers.
pub(super) fn text_pieces(
    content: Option<&Content>,
    param: &str,
    role: &str,
) -> Result<Vec<(String, bool)>, ApiError> {
    let mut pieces = Vec::new();
    match content {
        None => {}
        Some(Content::Text(text)) => pieces.push((text.clone(), false)),
        Some(Content::Parts(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                match &part.kind {
                    PartKind::Text { text } => {
                        pieces.push((text.clone(), part.cache_control.is_some()))
                    }
                    PartKind::Refusal { refusal } => pieces.push((refusal.clone(), false)),
                    _ => {
                        return Err(ApiError::invalid_param(
                            format!("{param}.content[{j}]"),
                            format!(
                                "`{param}.content[{j}]`: {role} messages take text parts only."
                            ),
                        ));
                    }
                }
            }
        }
    }
    pieces.retain(|(text, _)| !is_blank_text(text));
    Ok(pieces)
}

/// All text of a tool or function message as one string.
pub(super) fn joined_text(content: Option<&Content>, param: &str) -> Result<String, ApiError> {
    Ok(text_pieces(content, param, "tool")?
        .into_iter()
        .map(|(text, _)| text)
        .collect::<Vec<_>>()
        .join("\n"))
}

/// A user message's content -> text, image, document, audio and video blocks, with cache
/// points.
pub(super) fn user_blocks(
    content: Option<&Content>,
    param: &str,
    ctx: &MessageContext,
    cache: &mut CacheBudget,
    documents: &mut DocumentNames,
) -> Result<Vec<ContentBlock>, ApiError> {
    let mut blocks = Vec::new();
    let parts = match content {
        None => return Ok(blocks),
        Some(Content::Text(text)) => {
            if !is_blank_text(text) {
                blocks.push(ContentBlock::Text(text.clone()));
            }
            return Ok(blocks);
        }
        Some(Content::Parts(parts)) => parts,
    };
    for (j, part) in parts.iter().enumerate() {
        let part_param = format!("{param}.content[{j}]");
        let before = blocks.len();
        match &part.kind {
            PartKind::Text { text } | PartKind::Refusal { refusal: text } => {
                if !is_blank_text(text) {
                    blocks.push(ContentBlock::Text(text.clone()));
                }
            }
            PartKind::ImageUrl { image_url } => {
                if !ctx.caps.images {
                    return Err(unsupported(ctx.model_id, "image input", &part_param));
                }
                blocks.push(ContentBlock::Image(image_block(
                    &image_url.url,
                    ctx.images,
                    &part_param,
                )?));
            }
            PartKind::File { file } => {
                if !ctx.caps.documents {
                    return Err(unsupported(
                        ctx.model_id,
                        "document (file) input",
                        &part_param,
                    ));
                }
                blocks.push(ContentBlock::Document(document_block(
                    file,
                    &part_param,
                    documents,
                )?));
            }
            PartKind::InputAudio { input_audio } => {
                if !ctx.caps.audio {
                    return Err(unsupported(ctx.model_id, "audio input", &part_param));
                }
                blocks.push(ContentBlock::Audio(audio_block(input_audio, &part_param)?));
            }
            PartKind::VideoUrl { video_url } => {
                if !ctx.caps.video {
                    return Err(unsupported(ctx.model_id, "video input", &part_param));
                }
                blocks.push(ContentBlock::Video(video_block(
                    &video_url.url,
                    &part_param,
                )?));
            }
        }
        if blocks.len() > before
            && let Some(point) = cache.take_if(part.cache_control.is_some())
        {
            blocks.push(ContentBlock::CachePoint(point));
        }
    }
    Ok(blocks)
}

fn unsupported(model_id: &str, what: &str, param: &str) -> ApiError {
    ApiError::invalid_param(
        param,
        format!(
            "The model `{model_id}` does not accept {what} on Bedrock (`{param}`). Choose a model that does, or remove that part."
        ),
    )
}
