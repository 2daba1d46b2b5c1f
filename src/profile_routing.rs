//! Bare ids of profile-only models -> the inference profile to call.
//!
//! Many current models (Claude 3.5 Haiku and later, Cohere Embed v4, ...) are listed by
//! ListFoundationModels with `inferenceTypesSupported: ["INFERENCE_PROFILE"]`: Bedrock refuses
//! their bare id ("Invocation of model ID ... with on-demand throughput isn't supported. Retry
//! your request with the ID or ARN of an inference profile that contains this model."). Clients
//! know models by their bare ids, so the gateway routes such an id to the system-defined profile
//! of the deployment's geography: the `us.`/`eu.`/`apac.`/... profile whose model ARNs include
//! the gateway's own AWS region. A `global.` profile sends requests to any commercial region,
//! which some deployments must not do for data-residency reasons, so it is used only when
//! `ALLOW_GLOBAL_INFERENCE_PROFILE` says so. Otherwise the client gets a 400 naming the ids it
//! can call. `AUTO_INFERENCE_PROFILE=false` turns the routing off (the 400 remains).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use crate::catalog::{Snapshot, SystemProfile};
use crate::error::ApiError;

/// The routing settings and the region they apply to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileRouting {
    /// `AUTO_INFERENCE_PROFILE` (default on).
    pub auto: bool,
    /// `ALLOW_GLOBAL_INFERENCE_PROFILE` (default off).
    pub allow_global: bool,
    /// The gateway's AWS region (`AWS_REGION`), whose geography is preferred.
    pub region: Option<String>,
}

impl ProfileRouting {
    /// The settings of `config`, for a gateway in `region`.
    pub fn new(config: &crate::config::Config, region: Option<&str>) -> ProfileRouting {
        ProfileRouting {
            auto: config.auto_inference_profile,
            allow_global: config.allow_global_inference_profile,
            region: region.map(str::to_string),
        }
    }
}

const GLOBAL_PREFIX: &str = "global.";

/// The id to call for `model_id`: `None` to call it as it is (anything but the bare id of a
/// profile-only model), the profile to call instead, or a 400 naming the callable ids.
pub fn route(
    snapshot: &Snapshot,
    model_id: &str,
    routing: &ProfileRouting,
) -> Result<Option<String>, ApiError> {
    if !snapshot.is_profile_only(model_id) {
        return Ok(None);
    }
    let profiles = snapshot.system_profiles(model_id);
    if routing.auto {
        if let Some(profile) = geography_profile(profiles, routing.region.as_deref()) {
            return Ok(Some(profile.id.clone()));
        }
        if routing.allow_global
            && let Some(profile) = profiles.iter().find(|p| p.id.starts_with(GLOBAL_PREFIX))
        {
            return Ok(Some(profile.id.clone()));
        }
    }
    Err(profile_required(model_id, profiles, routing))
}

/// The non-global profile whose regions include `region`.
fn geography_profile<'a>(
    profiles: &'a [SystemProfile],
    region: Option<&str>,
) -> Option<&'a SystemProfile> {
    let region = region?;
    profiles
        .iter()
        .filter(|p| !p.id.starts_with(GLOBAL_PREFIX))
        .find(|p| p.regions.iter().any(|r| r == region))
}

fn profile_required(
    model_id: &str,
    profiles: &[SystemProfile],
    routing: &ProfileRouting,
) -> ApiError {
    let ids: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
    let callable = if ids.is_empty() {
        "Bedrock lists no inference profile for it in this account and region.".to_string()
    } else {
        format!("Call one of: {}.", ids.join(", "))
    };
    let why = if !routing.auto {
        " The gateway does not choose one for you (AUTO_INFERENCE_PROFILE=false)."
    } else if ids.iter().any(|id| id.starts_with(GLOBAL_PREFIX)) && !routing.allow_global {
        " No profile of this region's geography contains it; a `global.` profile routes requests to any region, so the gateway uses it only with ALLOW_GLOBAL_INFERENCE_PROFILE=true."
    } else {
        ""
    };
    ApiError::invalid_param(
        "model",
        format!(
            "Bedrock serves `{model_id}` only through an inference profile, not by its bare id. {callable}{why}"
        ),
    )
    .with_code("inference_profile_required")
}

/// Logs a routing the first time this process uses it (the ids are model names, never content).
pub fn log_once(model_id: &str, profile: &str) {
    static LOGGED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let logged = LOGGED.get_or_init(|| Mutex::new(HashSet::new()));
    let first = logged
        .lock()
        .map(|mut set| set.insert(model_id.to_string()))
        .unwrap_or(false);
    if first {
        tracing::info!(
            model = model_id,
            inference_profile = profile,
            "model is served only through inference profiles; calling this region's profile (AUTO_INFERENCE_PROFILE)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrock::types::{
        FoundationModelSummary, InferenceProfileModel, InferenceProfileStatus,
        InferenceProfileSummary, InferenceProfileType, InferenceType, ModelModality,
    };

    const MODEL: &str = "anthropic.claude-haiku-4-5-20251001-v1:0";

    fn snapshot(prefixes: &[(&str, &[&str])]) -> Snapshot {
        let model = FoundationModelSummary::builder()
            .model_arn(format!(
                "arn:aws:bedrock:eu-west-1::foundation-model/{MODEL}"
            ))
            .model_id(MODEL)
            .output_modalities(ModelModality::Text)
            .inference_types_supported(InferenceType::from("INFERENCE_PROFILE"))
            .build()
            .unwrap();
        let profiles: Vec<InferenceProfileSummary> = prefixes
            .iter()
            .map(|(prefix, regions)| {
                let id = format!("{prefix}.{MODEL}");
                let mut builder = InferenceProfileSummary::builder()
                    .inference_profile_name(&id)
                    .inference_profile_arn(format!(
                        "arn:aws:bedrock:eu-west-1:111122223333:inference-profile/{id}"
                    ))
                    .inference_profile_id(&id)
                    .status(InferenceProfileStatus::Active)
                    .r#type(InferenceProfileType::SystemDefined);
                for region in *regions {
                    builder = builder.models(
                        InferenceProfileModel::builder()
                            .model_arn(format!(
                                "arn:aws:bedrock:{region}::foundation-model/{MODEL}"
                            ))
                            .build(),
                    );
                }
                builder.build().unwrap()
            })
            .collect();
        Snapshot::build(&[model], &profiles)
    }

    fn routing(region: &str, allow_global: bool) -> ProfileRouting {
        ProfileRouting {
            auto: true,
            allow_global,
            region: Some(region.to_string()),
        }
    }

    #[test]
    fn picks_the_profile_of_the_region_geography() {
        let s = snapshot(&[
            ("global", &["us-east-1", "eu-west-1"]),
            ("us", &["us-east-1", "us-west-2"]),
            ("eu", &["eu-west-1", "eu-central-1"]),
        ]);
        assert_eq!(
            route(&s, MODEL, &routing("eu-central-1", false)).unwrap(),
            Some(format!("eu.{MODEL}"))
        );
        assert_eq!(
            route(&s, MODEL, &routing("us-west-2", true)).unwrap(),
            Some(format!("us.{MODEL}"))
        );
        assert_eq!(
            route(&s, &format!("us.{MODEL}"), &routing("us-west-2", false)).unwrap(),
            None
        );
        assert_eq!(
            route(&s, "amazon.nova-lite-v1:0", &routing("us-west-2", false)).unwrap(),
            None
        );
    }

    #[test]
    fn global_only_when_allowed_and_otherwise_a_400_naming_the_ids() {
        let s = snapshot(&[
            ("global", &["us-east-1", "eu-west-1"]),
            ("us", &["us-east-1"]),
        ]);
        let err = route(&s, MODEL, &routing("ap-south-1", false)).unwrap_err();
        assert_eq!(err.status.as_u16(), 400);
        assert!(
            err.message.contains(&format!("global.{MODEL}, us.{MODEL}")),
            "{}",
            err.message
        );
        assert!(err.message.contains("ALLOW_GLOBAL_INFERENCE_PROFILE"));
        assert_eq!(
            route(&s, MODEL, &routing("ap-south-1", true)).unwrap(),
            Some(format!("global.{MODEL}"))
        );
        let off = ProfileRouting {
            auto: false,
            ..routing("us-east-1", true)
        };
        let err = route(&s, MODEL, &off).unwrap_err();
        assert!(
            err.message.contains("AUTO_INFERENCE_PROFILE=false"),
            "{}",
            err.message
        );
    }
}
