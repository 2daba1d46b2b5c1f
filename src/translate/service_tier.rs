//! OpenAI's `service_tier` as Bedrock's `serviceTier`.
//!
//! OpenAI's values are `auto`, `default`, `flex`, `priority` and `scale`; Bedrock's
//! `ServiceTierType` (botocore) is `priority | default | flex | reserved`. `auto` sends nothing,
//! so Bedrock picks its default (Standard) tier. `scale` (OpenAI's reserved-capacity tier) is
//! refused rather than mapped to Bedrock's `reserved`: a reservation is bought per account and
//! model, and Bedrock answers `reserved` without one with a 400 ("Reservation not found."), so
//! the gateway says so up front instead. Which models serve `priority` and `flex` is Bedrock's
//! call: the gateway forwards the tier and passes Bedrock's refusal on as a 400 ("The provided
//! service tier is not supported for this model."), rather than keep a list of its own that
//! would go stale.

use aws_sdk_bedrockruntime::types::{ServiceTier, ServiceTierType};

use crate::error::ApiError;

/// The Bedrock tier for an OpenAI `service_tier` value; `None` leaves the choice to Bedrock.
pub fn service_tier(value: Option<&str>) -> Result<Option<ServiceTier>, ApiError> {
    let kind = match value {
        None | Some("auto") => return Ok(None),
        Some("default") => ServiceTierType::Default,
        Some("priority") => ServiceTierType::Priority,
        Some("flex") => ServiceTierType::Flex,
        Some("scale") => {
            return Err(ApiError::invalid_param(
                "service_tier",
                "`service_tier` `scale` has no Bedrock equivalent (Bedrock's reserved capacity is bought per account). Use auto, default, flex or priority.",
            ));
        }
        Some(other) => {
            return Err(ApiError::invalid_param(
                "service_tier",
                format!("`service_tier` must be auto, default, flex or priority; got `{other}`."),
            ));
        }
    };
    let tier = ServiceTier::builder()
        .r#type(kind)
        .build()
        .expect("the tier type, the only required member, is set");
    Ok(Some(tier))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(value: &str) -> Option<ServiceTierType> {
        service_tier(Some(value))
            .unwrap()
            .map(|t| t.r#type().clone())
    }

    #[test]
    fn openai_tiers_map_to_bedrock_tiers() {
        assert_eq!(service_tier(None).unwrap(), None);
        assert_eq!(kind("auto"), None);
        assert_eq!(kind("default"), Some(ServiceTierType::Default));
        assert_eq!(kind("priority"), Some(ServiceTierType::Priority));
        assert_eq!(kind("flex"), Some(ServiceTierType::Flex));
    }

    #[test]
    fn scale_and_unknown_tiers_are_refused_naming_the_field() {
        for value in ["scale", "reserved", "fast"] {
            let err = service_tier(Some(value)).unwrap_err();
            assert_eq!(err.param.as_deref(), Some("service_tier"), "{value}");
            assert!(
                err.message.contains("auto, default, flex or priority"),
                "{value}"
            );
        }
    }
}
