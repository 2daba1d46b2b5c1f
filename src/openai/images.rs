//! Image generation (`POST /images/generations`): OpenAI's request and response, as DALL-E and
//! gpt-image clients (openai-python's `client.images.generate`, NextChat, Open WebUI) send and
//! read them. The mapping onto Bedrock's image models is in `translate/image_generation.rs`.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// `POST /images/generations` body. `user`, `moderation`, `background` and
/// `output_compression` are accepted and ignored (not declared).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImageRequest {
    pub prompt: String,
    pub model: Option<String>,
    pub n: Option<i64>,
    /// `WIDTHxHEIGHT` or `auto`.
    pub size: Option<String>,
    /// `standard`/`hd` (DALL-E 3), `low`/`medium`/`high`/`auto` (gpt-image).
    pub quality: Option<String>,
    /// `vivid`/`natural` (DALL-E 3), or a Nova Canvas style name.
    pub style: Option<String>,
    /// `b64_json` (the default here) or `url` (answered as a `data:` URL).
    pub response_format: Option<String>,
    /// gpt-image's `png`, `jpeg` or `webp`: Bedrock's image models answer PNG only.
    pub output_format: Option<String>,
}

/// How the images are given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    B64Json,
    /// A `data:image/png;base64,...` URL: the gateway keeps no files to link to.
    DataUrl,
}

impl ImageRequest {
    /// `response_format`, checked: absent means `b64_json`.
    pub fn response_format(&self) -> Result<ResponseFormat, ApiError> {
        match self.response_format.as_deref() {
            None | Some("b64_json") => Ok(ResponseFormat::B64Json),
            Some("url") => Ok(ResponseFormat::DataUrl),
            Some(other) => Err(ApiError::invalid_param(
                "response_format",
                format!("`response_format` must be `b64_json` or `url`; got `{other}`."),
            )),
        }
    }

    /// Refuses `output_format` other than PNG.
    pub fn check_output_format(&self) -> Result<(), ApiError> {
        match self.output_format.as_deref() {
            None | Some("png") => Ok(()),
            Some(other) => Err(ApiError::invalid_param(
                "output_format",
                format!(
                    "Bedrock's image models answer PNG only; `output_format` `{other}` is not supported. Remove it or send `png`."
                ),
            )),
        }
    }
}

/// The images response: `{created, data: [{b64_json | url}]}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImagesResponse {
    pub created: u64,
    pub data: Vec<ImageData>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b64_json: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Bedrock does not rewrite prompts, so this is never set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revised_prompt: Option<String>,
}

impl ImagesResponse {
    /// The response for base64 PNGs, in the asked format.
    pub fn from_pngs(created: u64, pngs: Vec<String>, format: ResponseFormat) -> Self {
        let data = pngs
            .into_iter()
            .map(|b64| match format {
                ResponseFormat::B64Json => ImageData {
                    b64_json: Some(b64),
                    url: None,
                    revised_prompt: None,
                },
                ResponseFormat::DataUrl => ImageData {
                    b64_json: None,
                    url: Some(format!("data:image/png;base64,{b64}")),
                    revised_prompt: None,
                },
            })
            .collect();
        ImagesResponse { created, data }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::request::parse_json;

    #[test]
    fn formats() {
        let req: ImageRequest =
            parse_json(br#"{"prompt":"a cat","model":"dall-e-3","response_format":"url"}"#)
                .unwrap();
        assert_eq!(req.response_format().unwrap(), ResponseFormat::DataUrl);
        let req: ImageRequest = parse_json(br#"{"prompt":"a cat"}"#).unwrap();
        assert_eq!(req.response_format().unwrap(), ResponseFormat::B64Json);
        let req: ImageRequest =
            parse_json(br#"{"prompt":"a cat","response_format":"gif"}"#).unwrap();
        assert_eq!(
            req.response_format().unwrap_err().param.as_deref(),
            Some("response_format")
        );
        let req: ImageRequest =
            parse_json(br#"{"prompt":"a cat","output_format":"webp"}"#).unwrap();
        assert_eq!(
            req.check_output_format().unwrap_err().param.as_deref(),
            Some("output_format")
        );
        let err = parse_json::<ImageRequest>(br#"{"model":"dall-e-3"}"#).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("prompt"));

        let body = ImagesResponse::from_pngs(5, vec!["QUJD".into()], ResponseFormat::DataUrl);
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"created": 5, "data": [{"url": "data:image/png;base64,QUJD"}]})
        );
    }
}
