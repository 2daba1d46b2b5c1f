//! `POST /completions`, OpenAI's legacy text completions: each prompt (times `n`) becomes a
//! one-message chat request for the shared translation core and one Converse call (or
//! ConverseStream when streaming); the answers come back as `text_completion` objects or chunks.
//! The mapping itself lives in `openai/completions.rs`.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use futures_util::{StreamExt, stream};

use crate::auth::Caller;
use crate::bedrock::Bedrock;
use crate::capabilities::Capabilities;
use crate::error::ApiError;
use crate::openai::chat::Usage;
use crate::openai::completions::{
    CompletionChoice, CompletionRequest, TextCompletion, add_usage, choice_from_chat,
    chunk_from_chat,
};
use crate::routes::event_source::EventSource;
use crate::routes::{chat_model, parse_body, sse};
use crate::state::AppState;
use crate::telemetry::Recorder;
use crate::translate::images::FetchedImages;
use crate::translate::stream::ChunkStream;
use crate::translate::tool_names::ToolNames;
use crate::translate::usage::stop_error;
use crate::translate::{ConverseInput, ResponseContext, Target, converse_input};

/// Converse calls in flight at once for one non-streaming request with several choices.
const CONCURRENT_CHOICES: usize = 4;

/// One choice to produce: its index, the text `echo` puts first, and its Converse input.
struct PlannedChoice {
    index: u32,
    echo: Option<String>,
    input: ConverseInput,
}

pub async fn completions(
    State(state): State<AppState>,
    caller: Caller,
    record: Recorder,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: CompletionRequest = parse_body(body, "Send a shorter prompt.")?;
    record.requested(&req.model, req.is_stream());
    let prompts = req.prompts()?;
    let n = req.choices_per_prompt()?;
    let (model_id, caps) = chat_model(&state, &caller, &req.model, "completions").await?;
    record.model_used(&model_id);
    let target = Target {
        model_id: &model_id,
        caps,
        prompt_caching: state.config.prompt_caching,
    };
    // Every prompt is translated before Bedrock is called, so a 400 costs nothing.
    let mut planned = Vec::with_capacity(prompts.len() * n);
    for (p, prompt) in prompts.iter().enumerate() {
        let mut chat = req.chat_request(&model_id, prompt);
        caller.cap_request(&mut chat);
        let input = converse_input(&chat, &target, &FetchedImages::new())?;
        for j in 0..n {
            planned.push(PlannedChoice {
                index: (p * n + j) as u32,
                echo: req.echo().then(|| prompt.clone()),
                input: input.clone(),
            });
        }
    }
    let id = format!("cmpl-{}", uuid::Uuid::new_v4().simple());
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let ctx = ResponseContext {
        id: id.clone(),
        created,
        model: model_id.clone(),
        tool_names: ToolNames::default(),
    };

    if !req.is_stream() {
        let answers: Vec<_> = stream::iter(planned)
            .map(|choice| {
                let bedrock = state.bedrock.clone();
                async move {
                    (
                        choice.index,
                        choice.echo,
                        bedrock.converse(choice.input).await,
                    )
                }
            })
            .buffered(CONCURRENT_CHOICES)
            .collect()
            .await;
        let mut completion = TextCompletion::new(&id, created, &model_id);
        let mut usage = Usage::default();
        for (index, echo, answer) in answers {
            let output = answer?;
            record.observe_reply(&output);
            if let Some(err) = stop_error(&output.stop_reason) {
                return Err(err);
            }
            let chat = crate::translate::chat_completion(&output, &ctx);
            add_usage(&mut usage, &chat.usage);
            // A prompt router's choice names the model, as in chat.
            completion.model = chat.model.clone();
            completion
                .choices
                .push(choice_from_chat(&chat, index, echo.as_deref()));
        }
        completion.usage = Some(usage);
        return Ok(Json(completion).into_response());
    }

    // The first choice's stream is opened before answering, so that an immediate Bedrock
    // error is a plain HTTP error, as in chat.
    let mut queue = VecDeque::from(planned);
    let first = queue.pop_front().expect("at least one choice");
    let idle = state.config.stream_idle_timeout;
    let source = EventSource::open(&state.bedrock, first.input, caps, idle).await?;
    let streaming = Streaming {
        bedrock: state.bedrock.clone(),
        caps,
        idle,
        ctx,
        include_usage: req.include_usage(),
        usage: Usage::default(),
        queue,
        current: Some(Current::new(source, first.index, first.echo, &id)),
        record,
    };
    Ok(sse::response(completion_stream(streaming)))
}

/// The choice being streamed.
struct Current {
    source: EventSource,
    machine: ChunkStream,
    index: u32,
    /// The prompt, sent as this choice's first text when `echo` is set.
    echo: Option<String>,
}

impl Current {
    fn new(source: EventSource, index: u32, echo: Option<String>, id: &str) -> Self {
        let ctx = ResponseContext {
            id: id.to_string(),
            created: 0,
            model: String::new(),
            tool_names: ToolNames::default(),
        };
        // Usage is always collected (and summed over the choices); the caller decides whether
        // the client sees it.
        Current {
            source,
            machine: ChunkStream::new(ctx, true),
            index,
            echo,
        }
    }
}

/// A streamed request: the choices are streamed one after the other, each with its own
/// `index`, then the summed usage (if asked for) and `[DONE]`.
struct Streaming {
    bedrock: Bedrock,
    caps: Capabilities,
    idle: Duration,
    ctx: ResponseContext,
    include_usage: bool,
    usage: Usage,
    queue: VecDeque<PlannedChoice>,
    current: Option<Current>,
    /// Usage and timings of every choice, for the request line and the key's quotas.
    record: Recorder,
}

impl Streaming {
    fn chunk(&self, choice: CompletionChoice) -> TextCompletion {
        let mut chunk = TextCompletion::new(&self.ctx.id, self.ctx.created, &self.ctx.model);
        chunk.choices.push(choice);
        chunk
    }

    /// The chat chunks of the current choice, rewritten; usage chunks are summed instead.
    fn push_chat_chunks(
        &mut self,
        buf: &mut BytesMut,
        chunks: Vec<crate::openai::chat::ChatChunk>,
        index: u32,
    ) {
        for chunk in chunks {
            if let Some(usage) = &chunk.usage {
                add_usage(&mut self.usage, usage);
            }
            if let Some(mut text) = chunk_from_chat(&chunk, index, &self.ctx.id) {
                text.created = self.ctx.created;
                text.model = self.ctx.model.clone();
                sse::push_event(buf, &text);
            }
        }
    }
}

/// Pulls Bedrock events of the current choice, opening the next choice's stream when one ends.
/// Errors end the stream with an error event and no `[DONE]`, as in chat.
fn completion_stream(streaming: Streaming) -> impl futures_util::Stream<Item = Bytes> + Send {
    stream::unfold(Some(streaming), |state| async move {
        let mut s = state?;
        let mut buf = BytesMut::new();
        let Some(mut current) = s.current.take() else {
            // Every choice is done.
            if s.include_usage {
                let mut chunk = TextCompletion::new(&s.ctx.id, s.ctx.created, &s.ctx.model);
                chunk.usage = Some(s.usage.clone());
                sse::push_event(&mut buf, &chunk);
            }
            buf.extend_from_slice(sse::DONE);
            return Some((buf.freeze(), None));
        };
        if let Some(echo) = current.echo.take() {
            let chunk = s.chunk(CompletionChoice {
                text: echo,
                index: current.index,
                logprobs: None,
                finish_reason: None,
            });
            sse::push_event(&mut buf, &chunk);
            s.current = Some(current);
            return Some((buf.freeze(), Some(s)));
        }
        let next = current.source.next_within(s.idle).await;
        s.record.observe(&next);
        match next {
            Ok(Some(ConverseStreamOutput::MessageStop(stop)))
                if let Some(err) = stop_error(&stop.stop_reason) =>
            {
                Some((sse::error_event(&err), None))
            }
            Ok(Some(event)) => {
                let chunks = current.machine.on_event(&event);
                s.push_chat_chunks(&mut buf, chunks, current.index);
                s.current = Some(current);
                Some((buf.freeze(), Some(s)))
            }
            Ok(None) => {
                let chunks = current.machine.finish();
                s.push_chat_chunks(&mut buf, chunks, current.index);
                if let Some(next) = s.queue.pop_front() {
                    match EventSource::open(&s.bedrock, next.input, s.caps, s.idle).await {
                        Ok(source) => {
                            s.current = Some(Current::new(source, next.index, next.echo, &s.ctx.id))
                        }
                        Err(err) => {
                            buf.extend_from_slice(&sse::error_event(&err));
                            return Some((buf.freeze(), None));
                        }
                    }
                }
                Some((buf.freeze(), Some(s)))
            }
            Err(err) => {
                tracing::warn!(
                    status = err.status.as_u16(),
                    code = err.code.as_deref().unwrap_or(""),
                    "completion stream ended by a Bedrock error"
                );
                Some((sse::error_event(&err), None))
            }
        }
    })
}
