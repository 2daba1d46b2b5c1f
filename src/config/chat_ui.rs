//! The settings that shape what chat UIs (NextChat, Open WebUI and the like) see: how a stream
//! that fails half way shows the failure, which OpenAI model names stand for `DEFAULT_MODEL`,
//! and where reasoning goes in a reply. One block, so that the main settings stay readable.

use super::ConfigError;
use crate::translate::reasoning::ReasoningOutput;

/// `OPENAI_MODEL_PREFIXES`' default: the model families OpenAI clients and chat UIs send.
pub const DEFAULT_OPENAI_MODEL_PREFIXES: &[&str] = &["gpt", "o1", "o3", "o4", "chatgpt"];

/// What chat UIs need from the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatUiSettings {
    /// `STREAM_ERROR_AS_CONTENT` (default true): a chat stream that fails after it started also
    /// gets a last chunk whose content names the error, before the OpenAI error event.
    pub stream_error_as_content: bool,
    /// `OPENAI_MODEL_PREFIXES`: chat model names starting with one of these go to
    /// `DEFAULT_MODEL` (see [`ChatUiSettings::is_openai_model`]).
    pub openai_model_prefixes: Vec<String>,
    /// `REASONING_OUTPUT`: where chat completions put the model's reasoning by default.
    pub reasoning_output: ReasoningOutput,
}

impl Default for ChatUiSettings {
    fn default() -> Self {
        ChatUiSettings {
            stream_error_as_content: true,
            openai_model_prefixes: DEFAULT_OPENAI_MODEL_PREFIXES
                .iter()
                .map(|p| p.to_string())
                .collect(),
            reasoning_output: ReasoningOutput::ReasoningContent,
        }
    }
}

impl ChatUiSettings {
    /// Reads the block through `get` (trimmed, empty = unset).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = ChatUiSettings::default();
        let stream_error_as_content = match get("STREAM_ERROR_AS_CONTENT") {
            None => defaults.stream_error_as_content,
            Some(_) => super::parse_bool(get, "STREAM_ERROR_AS_CONTENT")?,
        };
        let openai_model_prefixes = match get("OPENAI_MODEL_PREFIXES") {
            None => defaults.openai_model_prefixes,
            Some(list) if list.eq_ignore_ascii_case("none") => Vec::new(),
            Some(list) => parse_prefixes(&list)?,
        };
        let reasoning_output = match get("REASONING_OUTPUT") {
            None => defaults.reasoning_output,
            Some(value) => ReasoningOutput::parse(&value).ok_or_else(|| {
                ConfigError(format!(
                    "REASONING_OUTPUT must be reasoning_content, think_tags or both, got `{value}`"
                ))
            })?,
        };
        Ok(ChatUiSettings {
            stream_error_as_content,
            openai_model_prefixes,
            reasoning_output,
        })
    }

    /// Whether a chat `model` name is one of OpenAI's (and so means `DEFAULT_MODEL`): it starts
    /// with a configured prefix and is not shaped like a Bedrock id. Bedrock ids begin with a
    /// provider namespace and a dot (`openai.gpt-oss-120b-1:0`, `us.amazon.nova-pro-v1:0`),
    /// a namespace without `-`; OpenAI's names with a dot have a `-` before it (`gpt-4.1`).
    pub fn is_openai_model(&self, name: &str) -> bool {
        let bedrock_shaped = name.starts_with("arn:")
            || name
                .split_once('.')
                .is_some_and(|(namespace, _)| !namespace.contains('-'));
        !bedrock_shaped
            && self
                .openai_model_prefixes
                .iter()
                .any(|prefix| name.starts_with(prefix.as_str()))
    }
}

/// `gpt,o1,...`: lowercase-insensitive text without the characters of Bedrock ids and ARNs.
fn parse_prefixes(list: &str) -> Result<Vec<String>, ConfigError> {
    let mut prefixes = Vec::new();
    for prefix in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if prefix.contains(['.', ':', '/']) || prefix.contains(char::is_whitespace) {
            return Err(ConfigError(format!(
                "OPENAI_MODEL_PREFIXES must be a comma-separated list of model-name prefixes like gpt,o1,o3 (no `.`, `:` or `/`, which would catch Bedrock ids), got `{prefix}`"
            )));
        }
        prefixes.push(prefix.to_string());
    }
    Ok(prefixes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<ChatUiSettings, ConfigError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        ChatUiSettings::from_lookup(&|k: &str| map.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s, ChatUiSettings::default());
        assert!(s.stream_error_as_content);
        assert_eq!(
            s.openai_model_prefixes,
            ["gpt", "o1", "o3", "o4", "chatgpt"]
        );
        assert_eq!(s.reasoning_output, ReasoningOutput::ReasoningContent);
    }

    #[test]
    fn openai_families_map_and_bedrock_ids_do_not() {
        let s = ChatUiSettings::default();
        for name in [
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-3.5-turbo",
            "o1",
            "o3-mini",
            "o4-mini",
            "chatgpt-4o-latest",
        ] {
            assert!(s.is_openai_model(name), "{name}");
        }
        for name in [
            "openai.gpt-oss-120b-1:0",
            "us.openai.gpt-oss-20b-1:0",
            "amazon.nova-lite-v1:0",
            "claude",
            "omni",
        ] {
            assert!(!s.is_openai_model(name), "{name}");
        }
        // Even a prefix that is a Bedrock provider's name leaves its ids alone.
        let s = settings(&[("OPENAI_MODEL_PREFIXES", "openai, o")]).unwrap();
        assert!(s.is_openai_model("openai-latest"));
        assert!(!s.is_openai_model("openai.gpt-oss-120b-1:0"));
        assert!(!s.is_openai_model("gpt-4o"));
        let none = settings(&[("OPENAI_MODEL_PREFIXES", "none")]).unwrap();
        assert!(!none.is_openai_model("gpt-4o"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("OPENAI_MODEL_PREFIXES", "gpt,openai.gpt"),
            ("OPENAI_MODEL_PREFIXES", "arn:aws"),
            ("STREAM_ERROR_AS_CONTENT", "sometimes"),
            ("REASONING_OUTPUT", "tags"),
        ] {
            let err = settings(&[(name, value)]).unwrap_err();
            assert!(err.0.starts_with(name), "{name}={value}: {}", err.0);
        }
        let s = settings(&[
            ("STREAM_ERROR_AS_CONTENT", "false"),
            ("REASONING_OUTPUT", "think_tags"),
        ])
        .unwrap();
        assert!(!s.stream_error_as_content);
        assert_eq!(s.reasoning_output, ReasoningOutput::ThinkTags);
    }
}
