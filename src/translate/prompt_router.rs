//! Prompt routers: the model a router chose, as named in the trace of a Converse answer or of
//! ConverseStream's metadata event. Clients see that model as the response's `model`, stream or
//! not, so both paths read it here.
//!
//! Bedrock names it by ARN, of a foundation model or of an inference profile (botocore
//! `InvokedModelId` allows both: `arn:...:foundation-model/<id>` and
//! `arn:...:inference-profile/<id>`). `model` is the id inside the ARN, the form a client
//! can send back as `model` and finds in `GET /models`.

use aws_sdk_bedrockruntime::types::{ConverseStreamTrace, ConverseTrace, PromptRouterTrace};

/// The model the prompt router invoked, if a router answered.
pub fn invoked_model(router: Option<&PromptRouterTrace>) -> Option<String> {
    router
        .and_then(|r| r.invoked_model_id.as_deref())
        .map(|id| model_id_of(id).to_string())
}

/// The model or profile id inside a foundation-model or inference-profile ARN; anything else
/// as it is.
fn model_id_of(invoked: &str) -> &str {
    if !invoked.starts_with("arn:") {
        return invoked;
    }
    [":foundation-model/", ":inference-profile/"]
        .iter()
        .find_map(|kind| invoked.split_once(kind).map(|(_, id)| id))
        .filter(|id| !id.is_empty())
        .unwrap_or(invoked)
}

/// The invoked model named in a Converse answer's trace.
pub fn invoked_model_of_reply(trace: Option<&ConverseTrace>) -> Option<String> {
    invoked_model(trace.and_then(|t| t.prompt_router.as_ref()))
}

/// The invoked model named in ConverseStream's metadata trace.
pub fn invoked_model_of_stream(trace: Option<&ConverseStreamTrace>) -> Option<String> {
    invoked_model(trace.and_then(|t| t.prompt_router.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_arn_form_becomes_the_id_inside() {
        assert_eq!(
            model_id_of(
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
            ),
            "anthropic.claude-3-haiku-20240307-v1:0"
        );
        assert_eq!(
            model_id_of(
                "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
            ),
            "us.anthropic.claude-3-5-haiku-20241022-v1:0"
        );
        assert_eq!(model_id_of("claude"), "claude");
        assert_eq!(
            model_id_of("arn:aws:bedrock:us-east-1:1:custom-model/x"),
            "arn:aws:bedrock:us-east-1:1:custom-model/x"
        );
    }

    #[test]
    fn the_routers_choice_is_read_from_either_trace() {
        let router = PromptRouterTrace::builder()
            .invoked_model_id("claude")
            .build();
        let reply = ConverseTrace::builder()
            .prompt_router(router.clone())
            .build();
        let stream = ConverseStreamTrace::builder().prompt_router(router).build();
        assert_eq!(
            invoked_model_of_reply(Some(&reply)).as_deref(),
            Some("claude")
        );
        assert_eq!(
            invoked_model_of_stream(Some(&stream)).as_deref(),
            Some("claude")
        );
        assert_eq!(invoked_model_of_reply(None), None);
        assert_eq!(
            invoked_model_of_stream(Some(&ConverseStreamTrace::builder().build())),
            None
        );
    }
}
