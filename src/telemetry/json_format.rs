//! The tracing formatter for `LOG_FORMAT=json`: one JSON object per line.
//!
//! The per-request line is built by `line.rs` and handed over whole in the `raw_json` field; it
//! is written as it is. Every other event becomes `{"time","level","target","message",...fields}`
//! (spans are not written: the gateway's own code opens none, and other crates' are filtered).

use std::fmt::Write as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::line::{rfc3339, unix_millis};

/// The field holding a line already rendered as JSON.
pub const RAW_JSON_FIELD: &str = "raw_json";

/// Formats events as JSON lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let Some(raw) = fields.raw {
            return writeln!(writer, "{raw}");
        }
        let meta = event.metadata();
        let mut object = Map::new();
        object.insert("time".into(), rfc3339(unix_millis()).into());
        object.insert("level".into(), meta.level().as_str().into());
        object.insert("target".into(), meta.target().into());
        object.insert("message".into(), fields.message.unwrap_or_default().into());
        for (name, value) in fields.values {
            object.entry(name).or_insert(value);
        }
        let line = serde_json::to_string(&Value::Object(object)).map_err(|_| std::fmt::Error)?;
        writeln!(writer, "{line}")
    }
}

/// An event's fields as JSON values.
#[derive(Default)]
struct Fields {
    raw: Option<String>,
    message: Option<String>,
    values: Vec<(String, Value)>,
}

impl Fields {
    fn push(&mut self, field: &Field, value: Value) {
        match (field.name(), value) {
            ("message", Value::String(text)) => self.message = Some(text),
            (RAW_JSON_FIELD, Value::String(text)) => self.raw = Some(text),
            (name, value) => self.values.push((name.to_string(), value)),
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.push(field, Value::String(text));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, Value::String(value.to_string()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, Value::String(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines_of(emit: impl FnOnce()) -> Vec<Value> {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .event_format(JsonLines)
                .with_writer(move || writer.clone()),
        );
        tracing::subscriber::with_default(subscriber, emit);
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).expect("every line is JSON"))
            .collect()
    }

    #[test]
    fn events_become_flat_json_and_raw_lines_pass_through() {
        let lines = lines_of(|| {
            tracing::warn!(
                status = 503u16,
                code = "x\"y",
                ok = true,
                "storing \"failed\""
            );
            tracing::info!(raw_json = r#"{"a":1}"#);
        });
        assert_eq!(lines.len(), 2);
        let warn = &lines[0];
        assert_eq!(warn["level"], "WARN");
        assert_eq!(warn["message"], "storing \"failed\"");
        assert_eq!(warn["status"], 503);
        assert_eq!(warn["code"], "x\"y");
        assert_eq!(warn["ok"], true);
        assert!(warn["time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(warn["target"], module_path!());
        assert_eq!(lines[1], serde_json::json!({"a": 1}));
    }
}
