//! Prompt routers: the model a router chose, as named in the trace of a Converse answer or of
//! ConverseStream's metadata event. Clients see that model as the response's `model`, stream or
//! not, so both paths read it here.

use aws_sdk_bedrockruntime::types::{ConverseStreamTrace, ConverseTrace, PromptRouterTrace};

/// The model the prompt router invoked, if a router answered.
pub fn invoked_model(router: Option<&PromptRouterTrace>) -> Option<String> {
    router.and_then(|r| r.invoked_model_id.clone())
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
