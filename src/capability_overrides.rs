//! `MODEL_CAPABILITIES`: operator corrections to the capability table in `capabilities`,
//! parsed at start and applied to every chat and Responses request.

use crate::capabilities::{Capabilities, base_model_id, capabilities};

/// `MODEL_CAPABILITIES`: operator corrections to the table, per model id or id prefix.
///
/// A JSON object such as `{"us.anthropic.claude-3-5-haiku": {"images": true},
/// "mistral.": {"tool_streaming": false}}`. A key matches a model id that starts with it, as
/// sent or without its inference-profile prefix; when several match, the longer key wins.
/// Only the yes/no capabilities can be overridden.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CapabilityOverrides {
    /// `(key, [(capability, value)])`, shortest key first so longer ones apply last.
    entries: Vec<(String, Vec<(&'static str, bool)>)>,
}

/// The capability names `MODEL_CAPABILITIES` accepts.
pub const OVERRIDABLE: &[&str] = &[
    "system_prompt",
    "tools",
    "forced_tool_choice",
    "named_tool_choice",
    "tool_streaming",
    "streaming",
    "images",
    "video",
    "audio",
    "documents",
    "prompt_caching",
    "tool_caching",
    "one_hour_cache",
    "temperature_xor_top_p",
    "whitespace_stop_sequences",
    "structured_output",
];

impl CapabilityOverrides {
    /// Parses the `MODEL_CAPABILITIES` JSON; the error is one line saying what to fix.
    pub fn parse(json: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| format!("MODEL_CAPABILITIES is not valid JSON ({e})"))?;
        let object = value.as_object().ok_or(
            "MODEL_CAPABILITIES must be a JSON object of model id (or id prefix) to capabilities, e.g. {\"mistral.\": {\"tool_streaming\": false}}",
        )?;
        let mut entries = Vec::new();
        for (key, settings) in object {
            if key.trim().is_empty() {
                return Err("MODEL_CAPABILITIES has an empty model id".into());
            }
            let settings = settings.as_object().ok_or_else(|| {
                format!(
                    "MODEL_CAPABILITIES[\"{key}\"] must be an object such as {{\"images\": true}}"
                )
            })?;
            let mut values = Vec::new();
            for (name, flag) in settings {
                let Some(name) = OVERRIDABLE.iter().find(|n| **n == name) else {
                    return Err(format!(
                        "MODEL_CAPABILITIES[\"{key}\"] names unknown capability `{name}`; known: {}",
                        OVERRIDABLE.join(", ")
                    ));
                };
                let flag = flag.as_bool().ok_or_else(|| {
                    format!("MODEL_CAPABILITIES[\"{key}\"].{name} must be true or false")
                })?;
                values.push((*name, flag));
            }
            entries.push((key.trim().to_string(), values));
        }
        entries.sort_by_key(|(key, _)| key.len());
        Ok(CapabilityOverrides { entries })
    }

    /// The table's capabilities for `model_id` with the matching overrides applied.
    pub fn capabilities(&self, model_id: &str) -> Capabilities {
        self.apply(model_id, capabilities(model_id))
    }

    /// `caps` (the table's, or the catalogue's) with the overrides matching `model_id`.
    pub fn apply(&self, model_id: &str, mut caps: Capabilities) -> Capabilities {
        let base = base_model_id(model_id);
        for (key, values) in &self.entries {
            if !model_id.starts_with(key.as_str()) && !base.starts_with(key.as_str()) {
                continue;
            }
            for (name, flag) in values {
                *caps.flag_mut(name) = *flag;
            }
        }
        caps
    }
}

impl Capabilities {
    /// The yes/no capability called `name` (one of [`OVERRIDABLE`]).
    fn flag_mut(&mut self, name: &str) -> &mut bool {
        match name {
            "system_prompt" => &mut self.system_prompt,
            "tools" => &mut self.tools,
            "forced_tool_choice" => &mut self.forced_tool_choice,
            "named_tool_choice" => &mut self.named_tool_choice,
            "tool_streaming" => &mut self.tool_streaming,
            "streaming" => &mut self.streaming,
            "images" => &mut self.images,
            "video" => &mut self.video,
            "audio" => &mut self.audio,
            "documents" => &mut self.documents,
            "prompt_caching" => &mut self.prompt_caching,
            "tool_caching" => &mut self.tool_caching,
            "one_hour_cache" => &mut self.one_hour_cache,
            "temperature_xor_top_p" => &mut self.temperature_xor_top_p,
            "whitespace_stop_sequences" => &mut self.whitespace_stop_sequences,
            _ => &mut self.structured_output,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::PERMISSIVE;

    #[test]
    fn overrides_apply_by_prefix_longest_last() {
        let overrides = CapabilityOverrides::parse(
            r#"{"mistral.": {"tool_streaming": true, "images": true},
                "mistral.mistral-large": {"images": false}}"#,
        )
        .unwrap();
        let large = overrides.capabilities("mistral.mistral-large-2407-v1:0");
        assert!(large.tool_streaming && !large.images);
        let small = overrides.capabilities("mistral.mistral-small-2402-v1:0");
        assert!(small.tool_streaming && small.images);
        let profiled =
            CapabilityOverrides::parse(r#"{"anthropic.claude-3-5-haiku": {"images": true}}"#)
                .unwrap()
                .capabilities("us.anthropic.claude-3-5-haiku-20241022-v1:0");
        assert!(profiled.images, "matches without the profile prefix");
        assert_eq!(
            CapabilityOverrides::default().capabilities("meta.llama3-3-70b-instruct-v1:0"),
            capabilities("meta.llama3-3-70b-instruct-v1:0")
        );
    }

    #[test]
    fn every_overridable_name_reaches_its_own_field() {
        for name in OVERRIDABLE {
            let mut caps = PERMISSIVE;
            let before = caps;
            *caps.flag_mut(name) = !*before.clone().flag_mut(name);
            assert_ne!(caps, before, "{name}");
        }
    }

    #[test]
    fn bad_overrides_are_one_line_errors() {
        for (json, says) in [
            ("{", "not valid JSON"),
            ("[1]", "must be a JSON object"),
            (r#"{"x": 1}"#, "must be an object"),
            (r#"{"x": {"vision": true}}"#, "unknown capability `vision`"),
            (r#"{"x": {"images": "yes"}}"#, "must be true or false"),
            (r#"{" ": {"images": true}}"#, "empty model id"),
        ] {
            let err = CapabilityOverrides::parse(json).unwrap_err();
            assert!(err.contains(says), "{json}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
