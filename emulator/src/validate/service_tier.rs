//! Rules for `serviceTier`: which processing tier a model serves.
//!
//! The member's shape (`ServiceTier.type`, enum `priority | default | flex | reserved`) is
//! botocore's `ServiceTier`/`ServiceTierType` and is checked while parsing. What this module
//! adds is Bedrock's per-model answer.

use crate::catalog::ChatCapabilities;
use crate::error::ApiError;
use crate::request::ConverseRequest;

/// Bedrock's words for a tier the model does not serve, quoted by maximhq/bifrost#7270 (a
/// Standard-only model sent `serviceTier.type` `priority` "failed with HTTP 400 (\"The provided
/// service tier is not supported for this model.\")"); strands-agents/harness-sdk#1799 also says
/// an unsupported tier is a ValidationException.
pub const TIER_NOT_SUPPORTED: &str = "The provided service tier is not supported for this model.";

/// Bedrock's answer to `reserved` without a reservation: "ValidationException: Reservation not
/// found." (NousResearch/hermes-agent#34476, envoyproxy/ai-gateway#1749). The emulator has no
/// reservations, so `reserved` is always refused.
pub const RESERVATION_NOT_FOUND: &str = "Reservation not found.";

/// Checks the requested tier against the model.
///
/// Which models serve `priority` and `flex` is not published in a form found for this
/// emulator (AWS's service-tiers page says "Check the documentation"); only gpt-oss has public
/// evidence (see `ChatCapabilities::flex_and_priority_tiers` on `GPT_OSS`). Every other family
/// refuses them here: an unverified, cautious choice, so the gateway is tested against the
/// refusal it must pass on.
pub fn check(request: &ConverseRequest, capabilities: &ChatCapabilities) -> Result<(), ApiError> {
    match request.service_tier.as_deref() {
        None | Some("default") => Ok(()),
        Some("reserved") => Err(ApiError::validation(RESERVATION_NOT_FOUND)),
        Some(_) if capabilities.flex_and_priority_tiers => Ok(()),
        Some(_) => Err(ApiError::validation(TIER_NOT_SUPPORTED)),
    }
}
