//! The operation-independent core of Converse and ConverseStream: turns a
//! model id and a request body into a planned answer, or into the error
//! Bedrock would give. The handlers only render the answer.

use std::time::Duration;
use tokio::time::Instant;

use serde_json::{Map, Value, json};

use crate::catalog::{self, ResolvedModel};
use crate::error::{ApiError, ErrorKind};
use crate::event_stream::StreamException;
use crate::markers::{self, Fault, Markers};
use crate::prompt_cache::PromptCache;
use crate::reply::{self, Reply, ReplyInput};
use crate::request::{self, Operation};
use crate::usage::{self, Usage};
use crate::validate;

/// Everything needed to render a successful answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub reply: Reply,
    pub usage: Usage,
    pub additional_response_fields: Option<Value>,
    /// `trace.promptRouter.invokedModelId`, when a prompt router answered.
    pub routed_to: Option<String>,
    /// A stream that must fail part-way through, with this exception.
    pub interruption: Option<StreamException>,
    /// Pause between streamed deltas.
    pub delta_delay: Duration,
    pub started: Instant,
}

impl Answer {
    pub fn latency_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The `trace` member, when there is one to report.
    pub fn trace(&self) -> Option<Value> {
        self.routed_to
            .as_ref()
            .map(|invoked| json!({ "promptRouter": { "invokedModelId": invoked } }))
    }
}

/// Runs a Converse or ConverseStream request up to the point of answering.
pub async fn answer(
    model_id: &str,
    body: &[u8],
    operation: Operation,
    token_delay: Duration,
    cache: &PromptCache,
) -> Result<Answer, ApiError> {
    let started = Instant::now();
    let body: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::malformed("", format!("the request body is not valid JSON ({error})"))
    })?;
    let resolved = catalog::resolve_chat_model(model_id)?;
    // A model ListFoundationModels lists with `responseStreamingSupported: false` (AI21
    // Jurassic-2: "ConverseStream: No" in AWS's model-features table). Bedrock's wording for the
    // streaming operations on such a model: "The model is unsupported for streaming", a
    // ValidationException (quoted for InvokeModelWithResponseStream on ai21.j2-mid-v1 and Titan
    // embeddings in newrelic/node-newrelic's Bedrock test fixtures and in a user's write-up of
    // Bedrock embeddings). That ConverseStream answers with the same text is assumed.
    if operation == Operation::ConverseStream && !resolved.capabilities.streaming {
        return Err(ApiError::validation(
            "The model is unsupported for streaming.",
        ));
    }
    let request = request::parse(&body, operation)?;
    let facts = validate::validate(&request, &resolved, operation)?;

    let mut markers = Markers::default();
    let echoed = reply::echo_last_user_turn(&request, &mut markers);
    if let Some(delay) = markers.delay {
        tokio::time::sleep(delay).await;
    }
    let interruption = match markers.fault {
        Some(Fault::Immediate(kind)) => {
            return Err(ApiError::new(kind, markers::fault_message(kind)));
        }
        Some(Fault::MidStream(exception)) if operation == Operation::Converse => {
            let kind: ErrorKind = exception.as_http_error();
            return Err(ApiError::new(kind, markers::fault_message(kind)));
        }
        Some(Fault::MidStream(exception)) => Some(exception),
        Some(Fault::RelayedFromModel) => {
            return Err(ApiError::from_model(markers::RELAYED_FAULT_DETAIL));
        }
        None => None,
    };

    let reply = reply::compose(&ReplyInput {
        request: &request,
        resolved: &resolved,
        facts: &facts,
        markers: &markers,
        echoed: &echoed,
        body: &body,
    });
    let profile = usage::profile_prompt(&request, resolved.model.id);
    let cache_usage = cache.account(&profile.checkpoints, resolved.capabilities.min_cache_tokens);
    let usage = Usage::new(&profile, cache_usage, usage::output_tokens(&reply.blocks));
    let additional_response_fields =
        additional_response_fields(&request.additional_response_field_paths, &reply);
    let ResolvedModel { routed_to, .. } = resolved;
    Ok(Answer {
        reply,
        usage,
        additional_response_fields,
        routed_to,
        interruption,
        delta_delay: markers.slow_stream.unwrap_or(token_delay),
        started,
    })
}

/// The provider fields requested by `additionalModelResponseFieldPaths`.
/// Only `/stop_sequence` (Anthropic's) exists in the emulated models.
fn additional_response_fields(paths: &[String], reply: &Reply) -> Option<Value> {
    if paths.is_empty() {
        return None;
    }
    let mut fields = Map::new();
    if paths.iter().any(|path| path == "/stop_sequence") {
        fields.insert("stop_sequence".to_string(), json!(reply.stop_sequence));
    }
    Some(Value::Object(fields))
}
