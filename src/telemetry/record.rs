//! The request record: what one request did, filled in as it runs and read once when its
//! response body ends (the access log line, the metrics, and any [`RequestObserver`]).
//!
//! Who writes what:
//! - the access-log middleware (`app/access_log.rs`) creates it with the request's arrival time,
//!   method, path, Lambda request id and `X-Amzn-Trace-Id`, puts a [`Recorder`] into the
//!   request's extensions, and adds the status, the error (from the [`ErrorOutcome`] response
//!   extension every `ApiError` response carries), the time to the first byte and the total time;
//! - the auth middleware sets [`RequestRecord::key_name`] (keys have no names yet: `None`);
//! - handlers take a [`Recorder`] as an extractor and report the model asked and used, stream
//!   or not, and hand Bedrock's answer ([`Recorder::observe_reply`]) or each stream event
//!   ([`Recorder::observe_event`], done by `routes/event_source.rs`) to it: usage, stop reason,
//!   the model a prompt router invoked, the time to the first token, an error ending a stream.
//!
//! The translation core never sees it: handlers copy what Bedrock said into it.
//! Nothing of a prompt, a reply or a key goes in: model names, counts, codes and timings only.
//!
//! Over ~450 lines only with its unit tests (the record and its handle are ~330).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{ConverseStreamOutput, TokenUsage};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tokio::time::Instant;

use crate::error::ApiError;
use crate::translate::prompt_router::{invoked_model_of_reply, invoked_model_of_stream};
use crate::translate::usage::stop_error;

/// Client-supplied text kept in the record (the model asked for, the path, the trace id) is
/// cut to this many bytes, so a log line stays small whatever a client sends.
pub const MAX_CLIENT_TEXT: usize = 200;

/// What one request did. Read it in a [`RequestObserver`]; build it through a [`Recorder`].
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// When the gateway received the request.
    pub started: Instant,
    /// Lambda's request id for the invocation (`None` outside Lambda).
    pub request_id: Option<String>,
    /// The `X-Amzn-Trace-Id` header an ALB (or API Gateway) adds, when present.
    pub trace_id: Option<String>,
    pub method: String,
    /// The request path, without the query string.
    pub path: String,
    /// The name of the API key that authenticated the request; `None` for unnamed keys and
    /// unauthenticated requests.
    pub key_name: Option<String>,
    /// The `model` the client sent, as sent.
    pub model_requested: Option<String>,
    /// The Bedrock model that answered: the resolved id (aliases, `gpt-*`, profile routing), or
    /// the model a prompt router invoked. Set only once the model is known to Bedrock's list,
    /// so its values are bounded (it is a metric dimension).
    pub model_used: Option<String>,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// Token counts from Bedrock's usage; `None` when Bedrock reported none (an error, a stream
    /// cut before its metadata event, a route that calls no model).
    pub usage: Option<Tokens>,
    /// Bedrock's `stopReason` (`end_turn`, `max_tokens`, `tool_use`...), as Bedrock spells it.
    pub finish_reason: Option<String>,
    /// The HTTP status of the response.
    pub status: u16,
    /// The error the client got: the HTTP error, or the error event that ended a stream
    /// answered with 200.
    pub error: Option<ErrorOutcome>,
    /// Streams only: from arrival to the first content Bedrock sent.
    pub first_token: Option<Duration>,
    /// From arrival to the first byte of the response body.
    pub first_byte: Option<Duration>,
    /// From arrival to the end of the response body.
    pub latency: Duration,
    /// False when the body was cut before its end (the client left, or shutdown).
    pub complete: bool,
    /// Let through without a quota check: the quota counters could not be reached.
    pub quota_check_failed: bool,
}

/// Bedrock's token counts for one request. `input` excludes the cached tokens, as Bedrock's
/// `inputTokens` does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    /// Bedrock's Converse usage has no reasoning count (reasoning is part of `output`), so this
    /// stays `None` until a source reports one.
    pub reasoning: Option<u64>,
}

impl Tokens {
    /// Every token Bedrock bills for the request: input, cache reads and writes, output.
    pub fn total(&self) -> u64 {
        self.input + self.cache_read + self.cache_write + self.output
    }

    fn from_bedrock(usage: &TokenUsage) -> Tokens {
        let count = |n: i32| u64::try_from(n).unwrap_or(0);
        Tokens {
            input: count(usage.input_tokens),
            output: count(usage.output_tokens),
            cache_read: count(usage.cache_read_input_tokens.unwrap_or(0)),
            cache_write: count(usage.cache_write_input_tokens.unwrap_or(0)),
            reasoning: None,
        }
    }
}

/// The error a response carried, without its message (messages may quote the request).
/// Every `ApiError` response has one as a response extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorOutcome {
    pub status: u16,
    /// OpenAI's error `type` (`invalid_request_error`, `rate_limit_error`...).
    pub kind: &'static str,
    /// The error `code` (`model_not_found`, Bedrock's `ThrottlingException`...).
    pub code: Option<String>,
}

impl ErrorOutcome {
    pub fn of(err: &ApiError) -> ErrorOutcome {
        ErrorOutcome {
            status: err.status.as_u16(),
            kind: err.kind.as_str(),
            code: err.code.clone(),
        }
    }
}

/// Lambda's request id for the invocation, put in the request's extensions by the Lambda
/// adapter.
#[derive(Debug, Clone)]
pub struct LambdaRequestId(pub String);

/// Something told about every finished request, after its log line is written: quota
/// settlement, usage counters. Called on the task that polled the body's last frame (or dropped
/// it), so it must be quick and must not block: spawn a task for any I/O.
pub trait RequestObserver: Send + Sync {
    fn finished(&self, record: &RequestRecord);
}

impl<F: Fn(&RequestRecord) + Send + Sync> RequestObserver for F {
    fn finished(&self, record: &RequestRecord) {
        self(record)
    }
}

/// A shared handle on the request's record, cheap to clone: the middleware puts one in the
/// request's extensions; handlers extract it (`record: Recorder`). A handler reached without
/// the middleware (a unit test of the router's parts) gets a detached record nobody reads.
#[derive(Debug, Clone)]
pub struct Recorder(Arc<Mutex<RequestRecord>>);

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new(RequestRecord::new(Instant::now(), "", ""))
    }
}

impl RequestRecord {
    /// A record for a request that arrived at `started`.
    pub fn new(started: Instant, method: &str, path: &str) -> RequestRecord {
        RequestRecord {
            started,
            request_id: None,
            trace_id: None,
            method: method.to_string(),
            path: client_text(path),
            key_name: None,
            model_requested: None,
            model_used: None,
            stream: false,
            usage: None,
            finish_reason: None,
            status: 0,
            error: None,
            first_token: None,
            first_byte: None,
            latency: Duration::ZERO,
            complete: false,
            quota_check_failed: false,
        }
    }

    /// The status class counted as an error (`4xx`, `5xx`), from the error event of a stream
    /// when there was one, else from the HTTP status; `None` for a success.
    pub fn error_class(&self) -> Option<&'static str> {
        let status = self.error.as_ref().map_or(self.status, |e| e.status);
        match status {
            400..=499 => Some("4xx"),
            500..=599 => Some("5xx"),
            _ => None,
        }
    }

    /// Whether Bedrock throttled the request (its `ThrottlingException`, before or during a
    /// stream). The gateway's own 429s (quotas) have other codes.
    pub fn bedrock_throttled(&self) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e.code.as_deref() == Some("ThrottlingException"))
    }

    fn add_usage(&mut self, tokens: Tokens) {
        let sum = self.usage.get_or_insert_with(Tokens::default);
        sum.input += tokens.input;
        sum.output += tokens.output;
        sum.cache_read += tokens.cache_read;
        sum.cache_write += tokens.cache_write;
        if let Some(reasoning) = tokens.reasoning {
            *sum.reasoning.get_or_insert(0) += reasoning;
        }
    }
}

impl Recorder {
    pub fn new(record: RequestRecord) -> Recorder {
        Recorder(Arc::new(Mutex::new(record)))
    }

    /// Changes the record. A poisoned lock (a panic while it was held) still gives the record:
    /// it holds plain data that cannot be left half-updated in a harmful way.
    pub fn update(&self, change: impl FnOnce(&mut RequestRecord)) {
        let mut record = self.0.lock().unwrap_or_else(|e| e.into_inner());
        change(&mut record);
    }

    /// A copy of the record as it is now.
    pub fn snapshot(&self) -> RequestRecord {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The name of the key that authenticated the request.
    pub fn set_key_name(&self, name: Option<String>) {
        self.update(|r| r.key_name = name);
    }

    /// The `model` the client sent and whether it asked for a stream.
    pub fn requested(&self, model: &str, stream: bool) {
        self.update(|r| {
            r.model_requested = Some(client_text(model));
            r.stream = stream;
        });
    }

    /// The Bedrock model the request resolved to (known to Bedrock's model list).
    pub fn model_used(&self, model_id: &str) {
        self.update(|r| r.model_used = Some(model_id.to_string()));
    }

    /// Input tokens of a call without a reply (embeddings).
    pub fn add_input_tokens(&self, tokens: u64) {
        self.update(|r| {
            r.add_usage(Tokens {
                input: tokens,
                ..Tokens::default()
            })
        });
    }

    /// A Converse answer: its usage, stop reason and the model a prompt router invoked.
    pub fn observe_reply(&self, output: &ConverseOutput) {
        let invoked = invoked_model_of_reply(output.trace.as_ref());
        self.update(|r| {
            if let Some(usage) = &output.usage {
                r.add_usage(Tokens::from_bedrock(usage));
            }
            r.finish_reason = Some(output.stop_reason.as_str().to_string());
            if invoked.is_some() {
                r.model_used = invoked;
            }
        });
    }

    /// One stream event: the first content is the time to first token; `messageStop` gives
    /// the stop reason (and the error for the reasons answered as errors); the metadata event
    /// gives usage and the model a prompt router invoked.
    pub fn observe_event(&self, event: &ConverseStreamOutput) {
        let now = Instant::now();
        self.update(|r| match event {
            ConverseStreamOutput::ContentBlockDelta(_)
            | ConverseStreamOutput::ContentBlockStart(_)
                if r.first_token.is_none() =>
            {
                r.first_token = Some(now.duration_since(r.started));
            }
            ConverseStreamOutput::MessageStop(stop) => {
                r.finish_reason = Some(stop.stop_reason.as_str().to_string());
                if let Some(err) = stop_error(&stop.stop_reason) {
                    r.error = Some(ErrorOutcome::of(&err));
                }
            }
            ConverseStreamOutput::Metadata(metadata) => {
                if let Some(usage) = &metadata.usage {
                    r.add_usage(Tokens::from_bedrock(usage));
                }
                if let Some(model) = invoked_model_of_stream(metadata.trace.as_ref()) {
                    r.model_used = Some(model);
                }
            }
            _ => {}
        });
    }

    /// What a stream handler read next: an event ([`Recorder::observe_event`]), the end, or the
    /// error that ends the stream.
    pub fn observe(&self, next: &Result<Option<ConverseStreamOutput>, ApiError>) {
        match next {
            Ok(Some(event)) => self.observe_event(event),
            Ok(None) => {}
            Err(err) => self.stream_error(err),
        }
    }

    /// The error that ended a stream after its 200.
    pub fn stream_error(&self, err: &ApiError) {
        self.update(|r| r.error = Some(ErrorOutcome::of(err)));
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Recorder {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Recorder>()
            .cloned()
            .unwrap_or_default())
    }
}

/// Client-supplied text made safe for a log line: at most [`MAX_CLIENT_TEXT`] bytes (cut at a
/// character boundary), control characters replaced.
pub fn client_text(text: &str) -> String {
    let mut end = text.len().min(MAX_CLIENT_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end]
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrockruntime::types::{
        ContentBlockDelta, ContentBlockDeltaEvent, ConverseStreamMetadataEvent,
        ConverseStreamTrace, MessageStopEvent, PromptRouterTrace, StopReason,
    };

    fn usage(input: i32, output: i32, read: Option<i32>, write: Option<i32>) -> TokenUsage {
        TokenUsage::builder()
            .input_tokens(input)
            .output_tokens(output)
            .total_tokens(0)
            .set_cache_read_input_tokens(read)
            .set_cache_write_input_tokens(write)
            .build()
            .unwrap()
    }

    fn delta(text: &str) -> ConverseStreamOutput {
        ConverseStreamOutput::ContentBlockDelta(
            ContentBlockDeltaEvent::builder()
                .content_block_index(0)
                .delta(ContentBlockDelta::Text(text.into()))
                .build()
                .unwrap(),
        )
    }

    fn stop(reason: StopReason) -> ConverseStreamOutput {
        ConverseStreamOutput::MessageStop(
            MessageStopEvent::builder()
                .stop_reason(reason)
                .build()
                .unwrap(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_gives_first_token_stop_reason_usage_and_the_routed_model() {
        let recorder = Recorder::new(RequestRecord::new(Instant::now(), "POST", "/v1/x"));
        recorder.requested("router-alias", true);
        recorder.model_used("arn:aws:bedrock:us-east-1:1:default-prompt-router/x");
        tokio::time::advance(Duration::from_millis(120)).await;
        recorder.observe_event(&delta("a"));
        tokio::time::advance(Duration::from_millis(500)).await;
        recorder.observe_event(&delta("b"));
        recorder.observe_event(&stop(StopReason::MaxTokens));
        recorder.observe_event(&ConverseStreamOutput::Metadata(
            ConverseStreamMetadataEvent::builder()
                .usage(usage(10, 5, Some(100), Some(7)))
                .trace(
                    ConverseStreamTrace::builder()
                        .prompt_router(
                            PromptRouterTrace::builder()
                                .invoked_model_id("claude-x")
                                .build(),
                        )
                        .build(),
                )
                .build(),
        ));
        let record = recorder.snapshot();
        assert_eq!(record.first_token, Some(Duration::from_millis(120)));
        assert_eq!(record.finish_reason.as_deref(), Some("max_tokens"));
        assert_eq!(record.model_requested.as_deref(), Some("router-alias"));
        assert_eq!(record.model_used.as_deref(), Some("claude-x"));
        let tokens = record.usage.unwrap();
        assert_eq!(
            (
                tokens.input,
                tokens.output,
                tokens.cache_read,
                tokens.cache_write
            ),
            (10, 5, 100, 7)
        );
        assert_eq!(tokens.total(), 122);
        assert!(record.stream);
        assert_eq!(record.error_class(), None);
    }

    #[test]
    fn a_malformed_stop_is_recorded_as_the_error_the_client_got() {
        let recorder = Recorder::default();
        recorder.observe_event(&stop(StopReason::MalformedToolUse));
        let record = recorder.snapshot();
        let error = record.error.clone().unwrap();
        assert_eq!(error.status, 502);
        assert_eq!(error.code.as_deref(), Some("malformed_tool_use"));
        assert_eq!(record.error_class(), Some("5xx"));
    }

    #[test]
    fn error_class_and_throttling() {
        let mut record = RequestRecord::new(Instant::now(), "GET", "/");
        record.status = 200;
        assert_eq!(record.error_class(), None);
        record.status = 404;
        assert_eq!(record.error_class(), Some("4xx"));
        record.error = Some(ErrorOutcome {
            status: 429,
            kind: "rate_limit_error",
            code: Some("ThrottlingException".into()),
        });
        assert!(record.bedrock_throttled());
        record.status = 200;
        assert_eq!(record.error_class(), Some("4xx"));
        record.error.as_mut().unwrap().code = Some("rate_limit_exceeded".into());
        assert!(!record.bedrock_throttled());
    }

    #[test]
    fn embeddings_batches_add_up() {
        let recorder = Recorder::default();
        recorder.add_input_tokens(3);
        recorder.add_input_tokens(4);
        let tokens = recorder.snapshot().usage.unwrap();
        assert_eq!(
            (tokens.input, tokens.output, tokens.reasoning),
            (7, 0, None)
        );
    }

    #[test]
    fn client_text_is_capped_and_has_no_control_characters() {
        assert_eq!(client_text("a\nb\u{7}"), "a?b?");
        let long = "é".repeat(300);
        let cut = client_text(&long);
        assert!(cut.len() <= MAX_CLIENT_TEXT);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
