//! The translation core: OpenAI chat requests in, Bedrock Converse requests out, and Converse
//! answers back into OpenAI responses. Pure: no I/O, no clock, no randomness (ids and times come
//! in through [`ResponseContext`]), so every mapping is unit-tested without a network.
//!
//! One concept per module, each holding both directions: `messages`, `tools`, `images`,
//! `documents`, `reasoning`, `caching`, `usage` (with finish reasons), `errors`, and `stream`,
//! the state machine over ConverseStream events that reuses the others.
//!
//! Longer than ~450 lines only because its unit tests live beside the code.

pub mod caching;
pub mod citations;
pub mod conversation_rules;
pub mod converse_replay;
pub mod documents;
pub mod errors;
pub mod image_generation;
pub mod images;
pub mod json_doc;
pub mod media;
pub mod message_parts;
pub mod messages;
pub mod prompt_router;
pub mod reasoning;
pub mod responses_stream;
pub mod service_tier;
pub mod stability_image;
pub mod stream;
pub mod structured;
pub mod tool_less;
pub mod tool_names;
pub mod tools;
pub mod usage;

use std::collections::HashMap;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, GuardrailConfiguration, GuardrailTrace, InferenceConfiguration, Message,
    OutputConfig, PerformanceConfigLatency, PerformanceConfiguration, PromptVariableValues,
    ServiceTier, SystemContentBlock, ToolConfiguration,
};
use aws_smithy_types::Document;
use serde_json::Value;

use crate::capabilities::{Capabilities, Reasoning};
use crate::error::ApiError;
use crate::openai::chat::{ChatCompletion, ChatRequest, Choice};
use caching::CacheBudget;
use images::FetchedImages;
use json_doc::to_document;
use messages::{MessageContext, assistant_message, conversation};
use structured::StructuredOutput;

/// Everything one Converse or ConverseStream call carries, built from an OpenAI request.
#[derive(Debug, Clone, Default)]
pub struct ConverseInput {
    pub model_id: String,
    pub system: Vec<SystemContentBlock>,
    pub messages: Vec<Message>,
    pub inference_config: Option<InferenceConfiguration>,
    pub tool_config: Option<ToolConfiguration>,
    pub additional_model_request_fields: Option<Document>,
    pub guardrail_config: Option<GuardrailConfiguration>,
    pub performance_config: Option<PerformanceConfiguration>,
    pub service_tier: Option<ServiceTier>,
    pub prompt_variables: Option<HashMap<String, PromptVariableValues>>,
    pub request_metadata: Option<HashMap<String, String>>,
    pub output_config: Option<OutputConfig>,
}

/// The model a request resolved to, and the gateway settings that shape its translation.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The Bedrock model id, inference profile or ARN to call.
    pub model_id: &'a str,
    pub caps: Capabilities,
    /// `ENABLE_PROMPT_CACHING`: cache points after the system prompt and the tools.
    pub prompt_caching: bool,
}

/// Identity of one response: what a client sees as `id`, `created` and `model`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseContext {
    pub id: String,
    pub created: u64,
    pub model: String,
    /// Tool names rewritten for Bedrock, to give the client's names back in tool calls.
    pub tool_names: tool_names::ToolNames,
}

/// OpenAI's limit on `stop` sequences (Bedrock's differs per model; this one fits them all).
pub const MAX_STOP_SEQUENCES: usize = 4;

/// OpenAI chat request -> Converse input.
pub fn converse_input(
    req: &ChatRequest,
    target: &Target,
    images: &FetchedImages,
) -> Result<ConverseInput, ApiError> {
    reject_unsupported_options(req)?;
    let model_caps = target.caps;

    // Reasoning first: it decides what the rest of the request may contain.
    let mut fields = req
        .additional_model_request_fields
        .clone()
        .unwrap_or_default();
    let requested_max = max_tokens(req)?;
    let mut max_tokens = requested_max;
    let plan =
        reasoning::reasoning_plan(req.reasoning_effort.as_deref(), requested_max, &model_caps)?;
    // A setting the client passed through `additionalModelRequestFields` wins; and Bedrock
    // refuses thinking when the assistant turn with pending tool calls lost its reasoning
    // (clients that drop `thinking_blocks`), so such a turn is answered without thinking.
    let plan = plan.filter(|p| !fields.contains_key(p.field)).filter(|p| {
        p.field != "thinking" || !reasoning::pending_tool_turn_lacks_reasoning(&req.messages)
    });
    if let Some(plan) = plan {
        fields.insert(plan.field.into(), plan.value);
        if let Some((field, value)) = plan.extra {
            fields.entry(field).or_insert(value);
        }
        max_tokens = plan.max_tokens.or(max_tokens);
    }
    let thinking = reasoning::thinking_enabled(&fields);
    if thinking {
        // Anthropic refuses `top_k` while the model thinks, as it does temperature and top_p.
        fields.remove("top_k");
    }
    let caps = &Capabilities {
        // Bedrock refuses a forced tool choice while the model thinks.
        forced_tool_choice: model_caps.forced_tool_choice && !thinking,
        named_tool_choice: model_caps.named_tool_choice && !thinking,
        ..model_caps
    };

    let mut cache = CacheBudget::new(caps.prompt_caching)
        .with_one_hour(caching::request_asks_one_hour(req)?, caps.one_hour_cache);
    let ctx = MessageContext {
        model_id: target.model_id,
        caps,
        images,
        cache_after_system: target.prompt_caching,
        // Reasoning blocks go back only to a model that reasons in this request, and never to
        // DeepSeek R1 (`Always`), which Bedrock refuses with reasoning in the history.
        keep_reasoning: thinking || matches!(caps.reasoning, Reasoning::Effort),
    };
    let mut conversation = conversation(&req.messages, &ctx, &mut cache)?;
    let (mut output_config, mut forced_tool) = (None, None);
    match structured::structured_output(req, caps)? {
        StructuredOutput::None => {}
        StructuredOutput::Native(config) => output_config = Some(config),
        StructuredOutput::ForcedTool(spec) => forced_tool = Some(spec),
        StructuredOutput::Instruction(text) => add_instruction(&mut conversation, caps, text),
    }
    if let Some(text) = tools::forcing_instruction(req, caps) {
        add_instruction(&mut conversation, caps, text);
    }
    let tool_config = tools::tool_config(
        req,
        conversation.has_tool_blocks,
        caps,
        target.model_id,
        &mut cache,
        target.prompt_caching,
        forced_tool,
    )?;
    let inference_config = inference_config(req, max_tokens, caps, thinking)?;

    Ok(ConverseInput {
        model_id: target.model_id.to_string(),
        system: conversation.system,
        messages: conversation.messages,
        inference_config,
        tool_config,
        additional_model_request_fields: (!fields.is_empty())
            .then(|| to_document(&Value::Object(fields))),
        guardrail_config: guardrail_config(req)?,
        performance_config: performance_config(req)?,
        service_tier: service_tier::service_tier(req.service_tier.as_deref())?,
        prompt_variables: req.prompt_variables.as_ref().map(|vars| {
            vars.iter()
                .map(|(k, v)| (k.clone(), PromptVariableValues::Text(v.text.clone())))
                .collect()
        }),
        request_metadata: req.request_metadata.clone(),
        output_config,
    })
}

/// `max_completion_tokens` (newer clients) or `max_tokens`, checked.
fn max_tokens(req: &ChatRequest) -> Result<Option<i64>, ApiError> {
    let (param, value) = match (req.max_completion_tokens, req.max_tokens) {
        (Some(v), _) => ("max_completion_tokens", Some(v)),
        (None, v) => ("max_tokens", v),
    };
    if value.is_some_and(|v| v < 1) {
        return Err(ApiError::invalid_param(
            param,
            format!("`{param}` must be at least 1."),
        ));
    }
    Ok(value)
}

/// An instruction of the gateway's own: in the system prompt, or leading the first user turn
/// for models without one.
fn add_instruction(conversation: &mut messages::Conversation, caps: &Capabilities, text: String) {
    if caps.system_prompt {
        conversation.system.push(SystemContentBlock::Text(text));
    } else if let Some(first) = conversation.messages.first_mut() {
        first.content.insert(0, ContentBlock::Text(text));
    }
}

/// Options OpenAI has and Bedrock cannot honour: refused clearly rather than ignored.
fn reject_unsupported_options(req: &ChatRequest) -> Result<(), ApiError> {
    if req.n.is_some_and(|n| n != 1) {
        return Err(ApiError::invalid_param(
            "n",
            "Bedrock returns one choice per request; `n` must be 1. Send several requests for several completions.",
        ));
    }
    if req.logprobs == Some(true) || req.top_logprobs.is_some_and(|n| n > 0) {
        return Err(ApiError::invalid_param(
            "logprobs",
            "Bedrock's Converse API does not return log probabilities; remove `logprobs` and `top_logprobs`.",
        ));
    }
    Ok(())
}

fn inference_config(
    req: &ChatRequest,
    max_tokens: Option<i64>,
    caps: &Capabilities,
    thinking: bool,
) -> Result<Option<InferenceConfiguration>, ApiError> {
    let mut temperature = req.temperature;
    let mut top_p = req.top_p;
    if let Some(t) = temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(ApiError::invalid_param(
                "temperature",
                "`temperature` must be between 0 and 2.",
            ));
        }
        // OpenAI's range is 0..2, Bedrock's 0..1: the top of OpenAI's scale means "most random".
        temperature = Some(t.min(1.0));
    }
    if let Some(p) = top_p
        && !(0.0..=1.0).contains(&p)
    {
        return Err(ApiError::invalid_param(
            "top_p",
            "`top_p` must be between 0 and 1.",
        ));
    }
    if thinking {
        // Bedrock refuses sampling settings while the model thinks.
        temperature = None;
        top_p = None;
    } else if caps.temperature_xor_top_p && temperature.is_some() {
        top_p = None;
    }
    // Empty stop sequences stop nothing; whitespace-only ones go only to models that take them.
    let stop: Vec<String> = req
        .stop
        .clone()
        .map(|s| s.into_vec())
        .unwrap_or_default()
        .into_iter()
        .filter(|s| !s.is_empty() && (caps.whitespace_stop_sequences || !s.trim().is_empty()))
        .collect();
    if stop.len() > MAX_STOP_SEQUENCES {
        return Err(ApiError::invalid_param(
            "stop",
            format!(
                "`stop` takes at most {MAX_STOP_SEQUENCES} sequences, as in OpenAI's API; got {}.",
                stop.len()
            ),
        ));
    }
    if max_tokens.is_none() && temperature.is_none() && top_p.is_none() && stop.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        InferenceConfiguration::builder()
            .set_max_tokens(max_tokens.map(|m| i32::try_from(m).unwrap_or(i32::MAX)))
            .set_temperature(temperature.map(|t| t as f32))
            .set_top_p(top_p.map(|p| p as f32))
            .set_stop_sequences((!stop.is_empty()).then_some(stop))
            .build(),
    ))
}

fn guardrail_config(req: &ChatRequest) -> Result<Option<GuardrailConfiguration>, ApiError> {
    let Some(g) = &req.guardrail_config else {
        return Ok(None);
    };
    let trace = match g.trace.as_deref() {
        None | Some("disabled") => GuardrailTrace::Disabled,
        Some("enabled") => GuardrailTrace::Enabled,
        Some("enabled_full") => GuardrailTrace::EnabledFull,
        Some(other) => {
            return Err(ApiError::invalid_param(
                "guardrailConfig.trace",
                format!(
                    "`guardrailConfig.trace` must be enabled, disabled or enabled_full; got `{other}`."
                ),
            ));
        }
    };
    let config = GuardrailConfiguration::builder()
        .guardrail_identifier(&g.guardrail_identifier)
        .guardrail_version(&g.guardrail_version)
        .trace(trace)
        .build();
    Ok(Some(config))
}

fn performance_config(req: &ChatRequest) -> Result<Option<PerformanceConfiguration>, ApiError> {
    let Some(p) = &req.performance_config else {
        return Ok(None);
    };
    let latency = match p.latency.as_str() {
        "standard" => PerformanceConfigLatency::Standard,
        "optimized" => PerformanceConfigLatency::Optimized,
        other => {
            return Err(ApiError::invalid_param(
                "performanceConfig.latency",
                format!(
                    "`performanceConfig.latency` must be standard or optimized; got `{other}`."
                ),
            ));
        }
    };
    Ok(Some(
        PerformanceConfiguration::builder().latency(latency).build(),
    ))
}

/// The content blocks of a Converse answer (none if Bedrock sent no message).
pub fn reply_blocks(output: &ConverseOutput) -> &[ContentBlock] {
    output
        .output
        .as_ref()
        .and_then(|o| o.as_message().ok())
        .map(|m| m.content.as_slice())
        .unwrap_or_default()
}

/// Converse answer -> OpenAI chat completion.
pub fn chat_completion(output: &ConverseOutput, ctx: &ResponseContext) -> ChatCompletion {
    let mut message = assistant_message(reply_blocks(output));
    for call in message.tool_calls.iter_mut().flatten() {
        call.function.name = ctx.tool_names.original(&call.function.name);
    }
    let finish_reason =
        usage::reply_finish_reason(&output.stop_reason, message.tool_calls.is_some());
    let model = prompt_router::invoked_model_of_reply(output.trace.as_ref())
        .unwrap_or_else(|| ctx.model.clone());
    ChatCompletion {
        id: ctx.id.clone(),
        object: "chat.completion".into(),
        created: ctx.created,
        model,
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: Some(finish_reason.to_string()),
            logprobs: None,
        }],
        usage: output
            .usage
            .as_ref()
            .map(usage::usage_from_bedrock)
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::capabilities;
    use crate::openai::request::parse_json;

    fn input(json: &str, model: &str) -> Result<ConverseInput, ApiError> {
        let req: ChatRequest = parse_json(json.as_bytes()).unwrap();
        let target = Target {
            model_id: model,
            caps: capabilities(model),
            prompt_caching: false,
        };
        converse_input(&req, &target, &FetchedImages::new())
    }

    const CLAUDE_45: &str = "anthropic.claude-haiku-4-5-20251001-v1:0";

    #[test]
    fn sampling_settings_map_to_inference_config() {
        let i = input(
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":50,"max_tokens":9,
                "temperature":1.6,"top_p":0.5,"stop":["a",""]}"#,
            "amazon.nova-lite-v1:0",
        )
        .unwrap();
        let c = i.inference_config.unwrap();
        assert_eq!(c.max_tokens, Some(50), "max_completion_tokens wins");
        assert_eq!(c.temperature, Some(1.0));
        assert_eq!(c.top_p, Some(0.5));
        assert_eq!(c.stop_sequences, Some(vec!["a".to_string()]));
    }

    #[test]
    fn one_of_temperature_and_top_p_for_models_that_need_it() {
        let i = input(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":0.2,"top_p":0.9}"#, CLAUDE_45)
            .unwrap();
        let c = i.inference_config.unwrap();
        assert_eq!((c.temperature, c.top_p), (Some(0.2), None));
    }

    #[test]
    fn reasoning_effort_sets_thinking_and_drops_sampling() {
        let i = input(
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"low","temperature":0.3,"max_tokens":4000}"#,
            CLAUDE_45,
        )
        .unwrap();
        let fields = json_doc::to_value(&i.additional_model_request_fields.unwrap());
        assert_eq!(fields["thinking"]["budget_tokens"], 1024);
        let c = i.inference_config.unwrap();
        assert_eq!(c.temperature, None);
        assert_eq!(c.max_tokens, Some(4000));
    }

    #[test]
    fn unsupported_options_are_refused() {
        let err = input(
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}"#,
            CLAUDE_45,
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("n"));
        let err = input(
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"logprobs":true}"#,
            CLAUDE_45,
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("logprobs"));
        let err = input(
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#,
            CLAUDE_45,
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("max_tokens"));
    }
}
