//! Per-request telemetry: the [`RequestRecord`] each request fills in, and what happens to it
//! when the response body ends: one log line (text, or JSON with CloudWatch metrics in
//! Embedded Metric Format) and the registered [`RequestObserver`]s.
//!
//! Pieces: `record.rs` (the record and its shared handle, [`Recorder`]), `settings.rs`
//! (`LOG_FORMAT`, `METRICS_NAMESPACE`), `line.rs` (the JSON line and its EMF metrics),
//! `json_format.rs` (the tracing formatter for `LOG_FORMAT=json`).

pub mod json_format;
pub mod line;
pub mod record;
pub mod settings;

use std::sync::Arc;

pub use record::{ErrorOutcome, LambdaRequestId, Recorder, RequestObserver, RequestRecord, Tokens};
pub use settings::{LogFormat, TelemetrySettings};

/// The tracing target of the per-request line (`RUST_LOG=bedrock_gateway::request=off` turns
/// it off).
pub const REQUEST_TARGET: &str = "bedrock_gateway::request";

/// What finished requests go to: the log line, in the configured format, then the observers.
#[derive(Default)]
pub struct Telemetry {
    settings: TelemetrySettings,
    observers: Vec<Arc<dyn RequestObserver>>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("settings", &self.settings)
            .field("observers", &self.observers.len())
            .finish()
    }
}

impl Telemetry {
    pub fn new(settings: TelemetrySettings) -> Telemetry {
        Telemetry {
            settings,
            observers: Vec::new(),
        }
    }

    /// Adds an observer, told about every finished request in the order they were added.
    pub fn with_observer(mut self, observer: Arc<dyn RequestObserver>) -> Telemetry {
        self.observers.push(observer);
        self
    }

    pub fn settings(&self) -> &TelemetrySettings {
        &self.settings
    }

    /// A request is over: writes its line, then tells the observers.
    pub fn finish(&self, record: &RequestRecord) {
        match self.settings.log_format {
            LogFormat::Json => {
                if tracing::enabled!(target: REQUEST_TARGET, tracing::Level::INFO) {
                    let line = line::json_line(record, &self.settings, line::unix_millis());
                    tracing::info!(target: REQUEST_TARGET, raw_json = line.as_str());
                }
            }
            LogFormat::Text => line::text_line(record),
        }
        for observer in &self.observers {
            observer.finished(record);
        }
    }
}
