//! The telemetry settings: `LOG_FORMAT` and `METRICS_NAMESPACE`, read with the rest of the
//! configuration (`config.rs`) and checked once at start.

use crate::config::ConfigError;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line; the per-request line carries CloudWatch metrics (EMF).
    /// The default on Lambda, where CloudWatch Logs reads it.
    Json,
    /// `key=value` lines for a terminal. The default elsewhere.
    Text,
}

/// The CloudWatch namespace of the metrics unless `METRICS_NAMESPACE` says otherwise.
pub const DEFAULT_METRICS_NAMESPACE: &str = "BedrockGateway";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetrySettings {
    pub log_format: LogFormat,
    /// The CloudWatch namespace the EMF metrics go to.
    pub metrics_namespace: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings {
            log_format: LogFormat::Text,
            metrics_namespace: DEFAULT_METRICS_NAMESPACE.to_string(),
        }
    }
}

impl TelemetrySettings {
    /// Reads `LOG_FORMAT` (`json` or `text`; JSON by default when `AWS_LAMBDA_RUNTIME_API` is
    /// set, text otherwise) and `METRICS_NAMESPACE` through `get`, which returns trimmed,
    /// non-empty values.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let log_format = match get("LOG_FORMAT").map(|v| v.to_ascii_lowercase()).as_deref() {
            None if get("AWS_LAMBDA_RUNTIME_API").is_some() => LogFormat::Json,
            None => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(other) => {
                return Err(ConfigError(format!(
                    "LOG_FORMAT must be `json` or `text`, got `{other}`"
                )));
            }
        };
        let metrics_namespace = match get("METRICS_NAMESPACE") {
            None => DEFAULT_METRICS_NAMESPACE.to_string(),
            Some(namespace) => check_namespace(namespace)?,
        };
        Ok(TelemetrySettings {
            log_format,
            metrics_namespace,
        })
    }
}

/// CloudWatch namespaces: 1 to 255 characters among letters, digits and `. - _ / # : ` and
/// space, not starting with `AWS/` (reserved). See the `Namespace` parameter of PutMetricData
/// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html)
/// and the namespace rules in the CloudWatch concepts page
/// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html).
fn check_namespace(namespace: String) -> Result<String, ConfigError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c);
    if namespace.len() > 255 || !namespace.chars().all(allowed) || namespace.starts_with("AWS/") {
        return Err(ConfigError(format!(
            "METRICS_NAMESPACE must be at most 255 letters, digits, spaces or `. - _ / # :`, and not start with `AWS/`, got `{namespace}`"
        )));
    }
    Ok(namespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<TelemetrySettings, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TelemetrySettings::from_lookup(|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn json_on_lambda_text_elsewhere_unless_set() {
        assert_eq!(settings(&[]).unwrap().log_format, LogFormat::Text);
        let lambda = ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");
        assert_eq!(settings(&[lambda]).unwrap().log_format, LogFormat::Json);
        let text = settings(&[lambda, ("LOG_FORMAT", "TEXT")]).unwrap();
        assert_eq!(text.log_format, LogFormat::Text);
        let json = settings(&[("LOG_FORMAT", "json")]).unwrap();
        assert_eq!(json.log_format, LogFormat::Json);
        let err = settings(&[("LOG_FORMAT", "yaml")]).unwrap_err();
        assert!(err.0.contains("LOG_FORMAT"), "{}", err.0);
    }

    #[test]
    fn namespaces() {
        assert_eq!(settings(&[]).unwrap().metrics_namespace, "BedrockGateway");
        let custom = settings(&[("METRICS_NAMESPACE", "Team/Gateway prod")]).unwrap();
        assert_eq!(custom.metrics_namespace, "Team/Gateway prod");
        for bad in ["AWS/Bedrock", "emoji🙂", &"x".repeat(256)] {
            let err = settings(&[("METRICS_NAMESPACE", bad)]).unwrap_err();
            assert!(err.0.contains("METRICS_NAMESPACE"), "{}", err.0);
        }
    }
}
