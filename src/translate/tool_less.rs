//! Tools offered to a model that cannot use them. Chat UIs (Open WebUI sends its built-in tools
//! with every chat) offer tools whatever the model, so when the model has no tool use on
//! Bedrock (see `capabilities`) and the request does not force a call, the tools are removed
//! and the model answers without them; the route says so in a response header and the log. A
//! forced call (`required`, a named function, `allowed_tools` in `required` mode) cannot be
//! honoured without tools, so it is left in place and the translation refuses it with a 400.

use crate::capabilities::Capabilities;
use crate::openai::chat::{ChatRequest, ToolChoice};

/// Longest `x-gateway-dropped-tools` value; the names past it are counted, not listed.
const MAX_HEADER_NAMES_BYTES: usize = 1024;

/// Removes the tools a tool-less model was offered without being forced to call one, and
/// returns their names (empty when nothing was removed).
pub fn drop_unusable_tools(req: &mut ChatRequest, caps: &Capabilities) -> Vec<String> {
    if caps.tools {
        return Vec::new();
    }
    let forced = match req.tool_choice.as_ref().or(req.function_call.as_ref()) {
        None | Some(ToolChoice::None | ToolChoice::Auto) => false,
        Some(ToolChoice::Allowed { required, .. }) => *required,
        Some(ToolChoice::Required | ToolChoice::Function(_)) => true,
    };
    if forced {
        return Vec::new();
    }
    let mut names: Vec<String> = req
        .tools
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.function.name)
        .collect();
    names.extend(
        req.functions
            .take()
            .unwrap_or_default()
            .into_iter()
            .map(|f| f.name),
    );
    if !names.is_empty() {
        req.tool_choice = None;
        req.function_call = None;
        req.parallel_tool_calls = None;
    }
    names
}

/// The `x-gateway-dropped-tools` value: the names, comma-separated, as far as they fit in 1 KiB
/// (then `+N more`); names that a header cannot carry are counted too.
pub fn dropped_tools_header(names: &[String]) -> String {
    let mut value = String::new();
    let mut listed = 0;
    for name in names {
        let fits = value.len() + name.len() < MAX_HEADER_NAMES_BYTES;
        let header_safe = name.bytes().all(|b| b.is_ascii_graphic() && b != b',');
        if fits && header_safe && !name.is_empty() {
            if !value.is_empty() {
                value.push(',');
            }
            value.push_str(name);
            listed += 1;
        }
    }
    if listed < names.len() {
        if !value.is_empty() {
            value.push(',');
        }
        value.push_str(&format!("+{} more", names.len() - listed));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::capabilities;
    use crate::openai::request::parse_json;

    fn request(extra: &str) -> ChatRequest {
        let json = format!(
            r#"{{"model":"m","messages":[{{"role":"user","content":"x"}}],
                "tools":[{{"type":"function","function":{{"name":"a"}}}},{{"type":"function","function":{{"name":"b"}}}}]{extra}}}"#
        );
        parse_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn unforced_tools_are_dropped_for_a_tool_less_model() {
        let r1 = capabilities("deepseek.r1-v1:0");
        for extra in [
            "",
            r#","tool_choice":"auto""#,
            r#","tool_choice":"none""#,
            r#","tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}"#,
        ] {
            let mut req = request(extra);
            assert_eq!(drop_unusable_tools(&mut req, &r1), ["a", "b"], "{extra}");
            assert!(req.tools.is_none() && req.tool_choice.is_none(), "{extra}");
        }
    }

    #[test]
    fn forced_choices_and_tool_models_keep_their_tools() {
        let r1 = capabilities("deepseek.r1-v1:0");
        for extra in [
            r#","tool_choice":"required""#,
            r#","tool_choice":{"type":"function","function":{"name":"a"}}"#,
        ] {
            let mut req = request(extra);
            assert!(drop_unusable_tools(&mut req, &r1).is_empty(), "{extra}");
            assert_eq!(req.tools.as_ref().map(Vec::len), Some(2));
        }
        let mut req = request("");
        let claude = capabilities("anthropic.claude-3-haiku-20240307-v1:0");
        assert!(drop_unusable_tools(&mut req, &claude).is_empty());
        assert!(req.tools.is_some());
    }

    #[test]
    fn the_header_lists_what_fits() {
        assert_eq!(dropped_tools_header(&["a".into(), "b".into()]), "a,b");
        let many: Vec<String> = (0..200).map(|i| format!("tool_number_{i}")).collect();
        let value = dropped_tools_header(&many);
        assert!(
            value.len() <= MAX_HEADER_NAMES_BYTES + 20,
            "{}",
            value.len()
        );
        assert!(value.ends_with(" more") && value.starts_with("tool_number_0,"));
        assert_eq!(dropped_tools_header(&["wé".into()]), "+1 more");
    }
}
