//! Rules for `inferenceConfig`: token limits, sampling ranges, stop
//! sequences, and models that refuse temperature and topP together.

use crate::catalog::ResolvedModel;
use crate::error::ApiError;
use crate::request::InferenceConfig;

/// Converse's own limit on `stopSequences` (the Smithy model's list length).
const MAX_STOP_SEQUENCES: usize = 2500;

/// Checks the configuration and returns the effective maximum output tokens.
pub fn check(config: &InferenceConfig, resolved: &ResolvedModel) -> Result<u64, ApiError> {
    let capabilities = &resolved.capabilities;
    let limit = u64::from(capabilities.max_output_tokens);
    let max_tokens = match config.max_tokens {
        None => limit,
        Some(requested) if requested < 1 => {
            return Err(ApiError::constraint(
                requested,
                "inferenceConfig.maxTokens",
                "have value greater than or equal to 1",
            ));
        }
        Some(requested) => {
            let requested = requested.unsigned_abs();
            if requested > limit {
                return Err(ApiError::validation(format!(
                    "The maximum tokens you requested exceeds the model limit of {limit}. Try again with a maximum tokens value that is lower than {limit}."
                )));
            }
            requested
        }
    };
    check_unit_range(config.temperature, "inferenceConfig.temperature")?;
    check_unit_range(config.top_p, "inferenceConfig.topP")?;
    if let Some(sequences) = &config.stop_sequences {
        check_stop_sequences(sequences, resolved)?;
    }
    if capabilities.rejects_temperature_with_top_p
        && config.temperature.is_some()
        && config.top_p.is_some()
    {
        return Err(ApiError::from_model(
            "`temperature` and `top_p` cannot both be specified for this model. Please use only one.",
        ));
    }
    Ok(max_tokens)
}

/// Converse's own constraints first (list length, no empty member), then
/// the provider's: its count limit, and Anthropic's refusal of sequences
/// that are only whitespace.
fn check_stop_sequences(sequences: &[String], resolved: &ResolvedModel) -> Result<(), ApiError> {
    if sequences.len() > MAX_STOP_SEQUENCES {
        return Err(ApiError::constraint(
            format!("[{}]", sequences.join(", ")),
            "inferenceConfig.stopSequences",
            &format!("have length less than or equal to {MAX_STOP_SEQUENCES}"),
        ));
    }
    if let Some(index) = sequences.iter().position(String::is_empty) {
        return Err(ApiError::constraint(
            "",
            &format!("inferenceConfig.stopSequences.{index}.member"),
            "have length greater than or equal to 1",
        ));
    }
    if let Some(limit) = resolved.capabilities.max_stop_sequences
        && sequences.len() > limit
    {
        return Err(ApiError::validation(format!(
            "The number of stop sequences you provided ({}) exceeds the model limit of {limit}. Try again with {limit} or fewer stop sequences.",
            sequences.len()
        )));
    }
    if resolved.is_anthropic() && sequences.iter().any(|s| s.trim().is_empty()) {
        return Err(ApiError::from_model(
            "stop_sequences: each stop sequence must contain non-whitespace",
        ));
    }
    Ok(())
}

fn check_unit_range(value: Option<f64>, path: &str) -> Result<(), ApiError> {
    match value {
        Some(value) if value < 0.0 => Err(ApiError::constraint(
            value,
            path,
            "have value greater than or equal to 0",
        )),
        Some(value) if value > 1.0 => Err(ApiError::constraint(
            value,
            path,
            "have value less than or equal to 1",
        )),
        _ => Ok(()),
    }
}
