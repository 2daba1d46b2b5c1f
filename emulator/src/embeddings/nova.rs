//! Nova Multimodal Embeddings: the request body checked as Bedrock checks it, and the response
//! rendered in Nova's shape, side by side.
//!
//! InvokeModel takes `taskType: SINGLE_EMBEDDING` with `singleEmbeddingParams` holding exactly
//! one of text, image, audio or video; the emulator embeds inline text only.

use serde::Serialize;
use serde_json::Value;

use super::schema::{enum_at, int_enum_at, text_at};
use super::{Plan, Render};
use crate::error::ApiError;
use crate::json_reader::ObjectReader;

const NOVA_MAX_CHARS: usize = 50_000;

pub(super) fn parse(body: &Value) -> Result<Plan, ApiError> {
    let mut reader = ObjectReader::new(body, "")?;
    if let Some((value, path)) = reader.optional("schemaVersion") {
        enum_at(value, &path, &["nova-multimodal-embed-v1"])?;
    }
    let (value, path) = reader.required("taskType")?;
    if enum_at(value, &path, &["SINGLE_EMBEDDING", "SEGMENTED_EMBEDDING"])? == "SEGMENTED_EMBEDDING"
    {
        return Err(ApiError::validation(
            "SEGMENTED_EMBEDDING is only supported by StartAsyncInvoke; InvokeModel takes SINGLE_EMBEDDING.",
        ));
    }
    let (params, params_path) = reader.required("singleEmbeddingParams")?;
    reader.finish()?;

    let mut params = ObjectReader::new(params, &params_path)?;
    let (value, path) = params.required("embeddingPurpose")?;
    enum_at(
        value,
        &path,
        &[
            "GENERIC_INDEX",
            "GENERIC_RETRIEVAL",
            "TEXT_RETRIEVAL",
            "IMAGE_RETRIEVAL",
            "VIDEO_RETRIEVAL",
            "DOCUMENT_RETRIEVAL",
            "AUDIO_RETRIEVAL",
            "CLASSIFICATION",
            "CLUSTERING",
        ],
    )?;
    let dimension = match params.optional("embeddingDimension") {
        Some((value, path)) => int_enum_at(value, &path, &[256, 384, 1024, 3072])?,
        None => 3072,
    };
    let modalities: Vec<&str> = ["text", "image", "audio", "video"]
        .into_iter()
        .filter(|key| params.optional(key).is_some())
        .collect();
    match modalities.as_slice() {
        ["text"] => {}
        [] | [_, _, ..] => {
            return Err(ApiError::malformed(
                &params_path,
                "exactly one of [text, image, audio, video] must be set",
            ));
        }
        [other] => {
            return Err(ApiError::validation(format!(
                "The Bedrock emulator embeds text only; `{other}` is not emulated."
            )));
        }
    }
    let (text, text_path) = params.required("text")?;
    params.finish()?;

    let mut text = ObjectReader::new(text, &text_path)?;
    let (value, path) = text.required("truncationMode")?;
    enum_at(value, &path, &["START", "END", "NONE"])?;
    if text.optional("source").is_some() {
        return Err(ApiError::validation(
            "The Bedrock emulator embeds inline text only; `text.source` (S3) is not emulated.",
        ));
    }
    let (value, path) = text.required("value")?;
    let value = text_at(value, &path, NOVA_MAX_CHARS)?;
    text.finish()?;
    Ok(Plan {
        model_id: "",
        texts: vec![value.to_string()],
        dimension,
        render: Render::Nova,
    })
}

#[derive(Serialize)]
struct NovaResponse {
    embeddings: Vec<NovaEmbedding>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NovaEmbedding {
    embedding_type: &'static str,
    embedding: Vec<f32>,
}

/// The response: one `TEXT` embedding per text.
pub(super) fn render(vectors: Vec<Vec<f32>>) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&NovaResponse {
        embeddings: vectors
            .into_iter()
            .map(|embedding| NovaEmbedding {
                embedding_type: "TEXT",
                embedding,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::plan;
    use serde_json::json;

    #[test]
    fn a_nova_text_body_sets_the_dimension() {
        let nova = json!({
            "taskType": "SINGLE_EMBEDDING",
            "singleEmbeddingParams": {
                "embeddingPurpose": "GENERIC_INDEX",
                "embeddingDimension": 384,
                "text": {"truncationMode": "END", "value": "hello"}
            }
        });
        assert_eq!(
            plan(
                "amazon.nova-2-multimodal-embeddings-v1:0",
                nova.to_string().as_bytes()
            )
            .unwrap()
            .dimension,
            384
        );
    }
}
