//! ListFoundationModels (`GET /foundation-models`): every catalogue model as a summary row,
//! plus the listed-only extras, filtered by the query as Bedrock filters.

use super::*;

/// One row of ListFoundationModels.
#[derive(Debug, Clone, PartialEq)]
struct ListedModel {
    id: &'static str,
    provider: &'static str,
    name: &'static str,
    input: Vec<&'static str>,
    output: &'static str,
    streaming: bool,
    inference_types: Vec<&'static str>,
    lifecycle: &'static str,
}

impl ListedModel {
    fn to_json(&self) -> Value {
        json!({
            "modelArn": format!("arn:aws:bedrock:{REGION}::foundation-model/{}", self.id),
            "modelId": self.id,
            "modelName": self.name,
            "providerName": self.provider,
            "inputModalities": self.input,
            "outputModalities": [self.output],
            "responseStreamingSupported": self.streaming,
            "customizationsSupported": [],
            "inferenceTypesSupported": self.inference_types,
            "modelLifecycle": { "status": self.lifecycle },
        })
    }
}

/// Every model ListFoundationModels reports: the catalogue, then the listed-only extras.
fn listed_models() -> Vec<ListedModel> {
    let mut rows: Vec<ListedModel> = MODELS
        .iter()
        .map(|model| {
            let (input, output, streaming) = match model.kind {
                ModelKind::Chat(caps) => {
                    let mut input = vec!["TEXT"];
                    if caps.images {
                        input.push("IMAGE");
                    }
                    // Nova Lite and Pro also list VIDEO (a real ListFoundationModels answer).
                    if caps.video {
                        input.push("VIDEO");
                    }
                    // Voxtral lists SPEECH for its audio input (see `ChatCapabilities::audio`).
                    if caps.audio {
                        input.push("SPEECH");
                    }
                    (input, "TEXT", caps.streaming)
                }
                ModelKind::Embedding => (
                    Family::of(model.id).map_or(vec!["TEXT"], |f| f.input_modalities().to_vec()),
                    "EMBEDDING",
                    false,
                ),
                // Nova Canvas and Titan Image Generator v2 take text and images (for editing
                // tasks) and answer images, as the real listing has Titan v2 (the row this
                // replaced was copied from it).
                // Stable Image Core and Ultra take a prompt only (AWS's pages document no input
                // image for them; SD3.5 Large has `image-to-image`).
                ModelKind::Image if model.id.starts_with("stability.stable-image") => {
                    (vec!["TEXT"], "IMAGE", false)
                }
                ModelKind::Image => (vec!["TEXT", "IMAGE"], "IMAGE", false),
            };
            let mut inference_types = Vec::new();
            if model.on_demand {
                inference_types.push("ON_DEMAND");
            }
            if !model.profile_prefixes.is_empty() {
                inference_types.push("INFERENCE_PROFILE");
            }
            ListedModel {
                id: model.id,
                provider: model.provider,
                name: model.name,
                input,
                output,
                streaming,
                inference_types,
                lifecycle: "ACTIVE",
            }
        })
        .collect();
    rows.extend([
        ListedModel {
            id: "anthropic.claude-v2:1",
            provider: "Anthropic",
            name: "Claude",
            input: vec!["TEXT"],
            output: "TEXT",
            streaming: true,
            inference_types: vec!["ON_DEMAND"],
            lifecycle: "LEGACY",
        },
        ListedModel {
            id: "cohere.embed-english-v3:0:512",
            provider: "Cohere",
            name: "Embed English",
            input: vec!["TEXT"],
            output: "EMBEDDING",
            streaming: false,
            inference_types: vec!["PROVISIONED"],
            lifecycle: "ACTIVE",
        },
    ]);
    rows
}

pub(super) async fn list_foundation_models(
    Extension(state): Extension<Arc<ControlPlane>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    state.foundation_models.fetch_add(1, Ordering::SeqCst);
    let behaviour = state.behaviour();
    listing_delay(&behaviour).await;
    let Ok(Query(query)) = query else {
        return ApiError::validation("The query string is malformed.").into_response();
    };
    match foundation_models(&headers, &behaviour, &query) {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

pub(super) fn foundation_models(
    headers: &HeaderMap,
    behaviour: &ListingBehaviour,
    query: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    check_permission(headers, behaviour, "ListFoundationModels")?;
    let provider = query.get("byProvider");
    if let Some(provider) = provider {
        let valid = (1..=63).contains(&provider.len())
            && provider
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b' ');
        if !valid {
            return Err(ApiError::constraint(
                provider,
                "byProvider",
                "satisfy regular expression pattern: ^[A-Za-z0-9- ]{1,63}$",
            ));
        }
    }
    let customization = enum_param(
        query,
        "byCustomizationType",
        &["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"],
    )?;
    let output = enum_param(query, "byOutputModality", &["TEXT", "IMAGE", "EMBEDDING"])?;
    let inference = enum_param(query, "byInferenceType", &["ON_DEMAND", "PROVISIONED"])?;
    let summaries: Vec<Value> = listed_models()
        .iter()
        .filter(|m| provider.is_none_or(|p| m.provider.eq_ignore_ascii_case(p)))
        // No emulated model supports customization.
        .filter(|_| customization.is_none())
        .filter(|m| output.is_none_or(|o| m.output == o))
        .filter(|m| inference.is_none_or(|i| m.inference_types.contains(&i)))
        .map(ListedModel::to_json)
        .collect();
    Ok(json!({ "modelSummaries": summaries }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::query;

    #[test]
    fn filters_foundation_models() {
        let headers = HeaderMap::new();
        let all = foundation_models(&headers, &ListingBehaviour::default(), &query(&[])).unwrap();
        let count = |body: &Value| body["modelSummaries"].as_array().unwrap().len();
        let embeddings = foundation_models(
            &headers,
            &ListingBehaviour::default(),
            &query(&[("byOutputModality", "EMBEDDING")]),
        )
        .unwrap();
        assert!(count(&embeddings) >= 6);
        assert!(count(&embeddings) < count(&all));
        let cohere = foundation_models(
            &headers,
            &ListingBehaviour::default(),
            &query(&[("byProvider", "cohere")]),
        )
        .unwrap();
        assert!(
            cohere["modelSummaries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["providerName"] == "Cohere")
        );
        let err = foundation_models(
            &headers,
            &ListingBehaviour::default(),
            &query(&[("byOutputModality", "VIDEO")]),
        )
        .unwrap_err();
        assert!(err.message.contains("byOutputModality"), "{}", err.message);
    }

    #[test]
    fn denied_keys_cannot_list() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKIDNOLIST1/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=x"
                .parse()
                .unwrap(),
        );
        let err =
            foundation_models(&headers, &ListingBehaviour::default(), &query(&[])).unwrap_err();
        assert_eq!(err.kind, ErrorKind::AccessDenied);
    }
}
