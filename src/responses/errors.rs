//! Errors of the shared chat core, renamed into the Responses request's terms: the core names
//! chat fields (`messages[3].content[0]`, `max_completion_tokens`, `reasoning_effort`...), a
//! Responses client sent `input`, `max_output_tokens`, `reasoning.effort`.

use crate::error::ApiError;

/// Chat field -> Responses field, for `param` and for the names quoted in messages.
const RENAMES: &[(&str, &str)] = &[
    ("max_completion_tokens", "max_output_tokens"),
    ("max_tokens", "max_output_tokens"),
    ("reasoning_effort", "reasoning.effort"),
    ("response_format.json_schema.schema", "text.format.schema"),
    ("response_format", "text.format"),
];

/// `err` from the chat core, in Responses terms.
pub fn in_responses_terms(mut err: ApiError) -> ApiError {
    if let Some(param) = err.param.take() {
        let renamed = if param.starts_with("messages") {
            // Message indexes differ from input item indexes (instructions, merged turns).
            "input".to_string()
        } else if param.starts_with("tools[") {
            "tools".to_string()
        } else {
            RENAMES
                .iter()
                .find(|(chat, _)| param == *chat || param.starts_with(&format!("{chat}.")))
                .map(|(chat, responses)| param.replacen(chat, responses, 1))
                .unwrap_or(param)
        };
        err.param = Some(renamed);
    }
    for (chat, responses) in RENAMES {
        err.message = err
            .message
            .replace(&format!("`{chat}`"), &format!("`{responses}`"));
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_names_become_responses_names() {
        let err = in_responses_terms(ApiError::invalid_param(
            "max_completion_tokens",
            "`max_completion_tokens` must be at least 1.",
        ));
        assert_eq!(err.param.as_deref(), Some("max_output_tokens"));
        assert_eq!(err.message, "`max_output_tokens` must be at least 1.");
        let err = in_responses_terms(ApiError::invalid_param(
            "messages[2].content[0]",
            "bad image",
        ));
        assert_eq!(err.param.as_deref(), Some("input"));
        let err = in_responses_terms(ApiError::invalid_param("temperature", "x"));
        assert_eq!(err.param.as_deref(), Some("temperature"));
    }
}
