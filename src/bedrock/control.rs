//! Bedrock control-plane calls behind the model catalogue: ListFoundationModels,
//! ListInferenceProfiles (every page, through the SDK's paginator) and GetInferenceProfile.
//! They return Bedrock's answers as they are; [`crate::catalog`] decides what they mean.

use aws_sdk_bedrock::types::{
    FoundationModelSummary, InferenceProfileSummary, InferenceProfileType,
};
use axum::http::StatusCode;

use super::Bedrock;
use crate::error::{ApiError, ErrorKind};
use crate::translate::errors::from_sdk_error;

/// Profiles asked for per ListInferenceProfiles page: the API's maximum.
const PROFILES_PER_PAGE: i32 = 1000;
/// A guard against a service that never stops handing out page tokens. Reaching it fails the
/// listing: a silently truncated list would turn real profiles into 404s.
const MAX_PAGES: usize = 100;

/// What the listing calls answered.
#[derive(Debug, Clone, Default)]
pub struct ModelListing {
    /// ListFoundationModels (one page: the API does not paginate).
    pub models: Vec<FoundationModelSummary>,
    /// ListInferenceProfiles, system-defined then application profiles.
    pub profiles: Vec<InferenceProfileSummary>,
}

impl Bedrock {
    /// ListFoundationModels and both kinds of ListInferenceProfiles, concurrently.
    pub async fn list_models(&self) -> Result<ModelListing, ApiError> {
        let foundation_models = async {
            self.control
                .list_foundation_models()
                .send()
                .await
                .map(|output| output.model_summaries.unwrap_or_default())
                .map_err(|e| with_permission_hint(from_sdk_error(&e), "ListFoundationModels"))
        };
        let (models, system, application) = tokio::try_join!(
            foundation_models,
            self.list_profiles(InferenceProfileType::SystemDefined),
            self.list_profiles(InferenceProfileType::Application),
        )?;
        Ok(ModelListing {
            models,
            profiles: system.into_iter().chain(application).collect(),
        })
    }

    /// Every page of ListInferenceProfiles for one profile type.
    async fn list_profiles(
        &self,
        kind: InferenceProfileType,
    ) -> Result<Vec<InferenceProfileSummary>, ApiError> {
        let mut pages = self
            .control
            .list_inference_profiles()
            .type_equals(kind)
            .max_results(PROFILES_PER_PAGE)
            .into_paginator()
            .send();
        let mut profiles = Vec::new();
        let mut count = 0;
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|e| with_permission_hint(from_sdk_error(&e), "ListInferenceProfiles"))?;
            count += 1;
            let more = page.next_token().is_some_and(|token| !token.is_empty());
            profiles.extend(page.inference_profile_summaries.unwrap_or_default());
            if more && count == MAX_PAGES {
                return Err(listing_failed(&format!(
                    "ListInferenceProfiles still had more after {MAX_PAGES} pages"
                )));
            }
        }
        Ok(profiles)
    }

    /// GetInferenceProfile: the ARNs of the models a profile routes to.
    pub async fn inference_profile_models(&self, profile: &str) -> Result<Vec<String>, ApiError> {
        let output = self
            .control
            .get_inference_profile()
            .inference_profile_identifier(profile)
            .send()
            .await
            .map_err(|e| with_permission_hint(from_sdk_error(&e), "GetInferenceProfile"))?;
        Ok(output
            .models()
            .iter()
            .filter_map(|m| m.model_arn().map(str::to_string))
            .collect())
    }
}

/// The 502 for a listing that could not be read.
pub fn listing_failed(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        ErrorKind::ApiError,
        format!("Bedrock's model list could not be read: {detail}."),
    )
}

/// AccessDenied on a control-plane call means the gateway's role lacks a permission: say which.
fn with_permission_hint(mut err: ApiError, action: &str) -> ApiError {
    if err.status == StatusCode::FORBIDDEN {
        err.message = format!(
            "{} (the gateway's IAM role needs bedrock:{action})",
            err.message
        );
    }
    err
}
