//! Legacy text completions (`POST /completions`): the request and the `text_completion`
//! objects, and the pure mapping onto the chat types the translation core takes.
//!
//! A completion is not translated on its own: each prompt becomes a one-message chat request
//! (the prompt as the user turn), which goes through the same translation and Bedrock seam as
//! `/chat/completions`; the chat answer (or each stream chunk) is then rewritten as a
//! `text_completion`. Decisions, documented in docs/api.md:
//! - `max_tokens` defaults to 16, as in OpenAI's API for this endpoint.
//! - `prompt` may be a string or a list of strings; each prompt is answered `n` times, one
//!   Bedrock call per choice, and choice `index` is `prompt_index * n + j` (OpenAI's order).
//!   At most [`MAX_CHOICES`] choices per request.
//! - `suffix`, `logprobs`, `best_of > 1` and token-id prompts are refused with a 400 naming the
//!   field; `echo` prepends the prompt to each choice's text.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::openai::chat::{
    ChatChunk, ChatCompletion, ChatMessage, ChatRequest, Role, Stop, StreamOptions, Usage,
};

/// OpenAI's default `max_tokens` for legacy completions.
pub const DEFAULT_MAX_TOKENS: i64 = 16;
/// The most choices (prompts times `n`) one request may ask for: each is a Bedrock call.
pub const MAX_CHOICES: usize = 16;

/// `POST /completions` body. Fields the gateway ignores, as the chat path does
/// (`presence_penalty`, `frequency_penalty`, `logit_bias`, `seed`, `user`), are not declared.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CompletionRequest {
    pub model: String,
    pub prompt: Option<Prompt>,
    pub suffix: Option<String>,
    pub max_tokens: Option<i64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub n: Option<i64>,
    pub stream: Option<bool>,
    pub stream_options: Option<StreamOptions>,
    /// OpenAI takes an integer (0 to 5); any value asks for log probabilities.
    pub logprobs: Option<Value>,
    pub echo: Option<bool>,
    pub stop: Option<Stop>,
    pub best_of: Option<i64>,
}

/// `prompt`: text, a list of texts, or token ids (one list or several), which are refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "a string, a list of strings, or token ids (which this gateway refuses)"
)]
pub enum Prompt {
    One(String),
    Many(Vec<String>),
    Tokens(Vec<i64>),
    TokenLists(Vec<Vec<i64>>),
}

impl CompletionRequest {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }

    pub fn echo(&self) -> bool {
        self.echo.unwrap_or(false)
    }

    /// The prompts to answer, after every refusal that needs no model: options Bedrock cannot
    /// honour, empty prompts, and more choices than [`MAX_CHOICES`].
    pub fn prompts(&self) -> Result<Vec<String>, ApiError> {
        if self.suffix.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(ApiError::invalid_param(
                "suffix",
                "`suffix` (text to insert before) is not supported: Bedrock's models complete text only at its end. Remove `suffix`.",
            ));
        }
        if self.logprobs.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(ApiError::invalid_param(
                "logprobs",
                "Bedrock does not return log probabilities; remove `logprobs`.",
            ));
        }
        if self.best_of.is_some_and(|b| b != 1) {
            return Err(ApiError::invalid_param(
                "best_of",
                "`best_of` other than 1 is not supported (Bedrock cannot rank candidates by log probability). Use `n` to get several completions.",
            ));
        }
        let prompts = match self.prompt.clone() {
            None => {
                return Err(ApiError::invalid_param(
                    "prompt",
                    "Invalid request: missing field `prompt`.",
                ));
            }
            Some(Prompt::One(text)) => vec![text],
            Some(Prompt::Many(texts)) if texts.is_empty() => {
                return Err(ApiError::invalid_param(
                    "prompt",
                    "`prompt` is an empty list; send at least one prompt.",
                ));
            }
            Some(Prompt::Many(texts)) => texts,
            Some(Prompt::Tokens(_) | Prompt::TokenLists(_)) => {
                return Err(ApiError::invalid_param(
                    "prompt",
                    "Token-id prompts are not supported: Bedrock's models take text. Send `prompt` as a string or a list of strings.",
                ));
            }
        };
        let many = prompts.len() > 1 || matches!(self.prompt, Some(Prompt::Many(_)));
        for (i, text) in prompts.iter().enumerate() {
            if text.trim().is_empty() {
                let param = if many {
                    format!("prompt[{i}]")
                } else {
                    "prompt".to_string()
                };
                return Err(ApiError::invalid_param(
                    param.clone(),
                    format!(
                        "`{param}` is empty; Bedrock refuses blank text. Send some text to complete."
                    ),
                ));
            }
        }
        let n = self.choices_per_prompt()?;
        if prompts.len() * n > MAX_CHOICES {
            return Err(ApiError::invalid_param(
                if self.n.is_some() { "n" } else { "prompt" },
                format!(
                    "{} prompts times n={n} ask for {} choices; this gateway answers at most {MAX_CHOICES} per request (each is one Bedrock call). Split the request.",
                    prompts.len(),
                    prompts.len() * n
                ),
            ));
        }
        Ok(prompts)
    }

    /// `n`, checked.
    pub fn choices_per_prompt(&self) -> Result<usize, ApiError> {
        match self.n {
            None => Ok(1),
            Some(n) if (1..=MAX_CHOICES as i64).contains(&n) => Ok(n as usize),
            Some(_) => Err(ApiError::invalid_param(
                "n",
                format!("`n` must be between 1 and {MAX_CHOICES}."),
            )),
        }
    }

    /// The one-message chat request that answers `prompt` (the model id already resolved).
    pub fn chat_request(&self, model_id: &str, prompt: &str) -> ChatRequest {
        ChatRequest {
            model: model_id.to_string(),
            messages: vec![ChatMessage::new(Role::User, prompt)],
            max_tokens: Some(self.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
            temperature: self.temperature,
            top_p: self.top_p,
            stop: self.stop.clone(),
            ..ChatRequest::default()
        }
    }
}

/// `text_completion`: the answer, and each stream chunk (whose `usage` is absent but in the
/// last chunk when `stream_options.include_usage` asks for it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TextCompletion {
    pub id: String,
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<CompletionChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CompletionChoice {
    pub text: String,
    pub index: u32,
    pub logprobs: Option<Value>,
    pub finish_reason: Option<String>,
}

impl TextCompletion {
    pub fn new(id: &str, created: u64, model: &str) -> Self {
        TextCompletion {
            id: id.to_string(),
            object: "text_completion".into(),
            created,
            model: model.to_string(),
            choices: Vec::new(),
            usage: None,
        }
    }
}

/// Legacy completions have no tool calls: a chat finish reason other than OpenAI's three
/// completion reasons reads as `stop`.
fn completion_finish_reason(reason: &str) -> String {
    match reason {
        "length" | "content_filter" => reason.to_string(),
        _ => "stop".to_string(),
    }
}

/// The chat answer to one prompt as choice `index`, the prompt prepended when `echo` is set.
pub fn choice_from_chat(
    answer: &ChatCompletion,
    index: u32,
    echo: Option<&str>,
) -> CompletionChoice {
    let choice = answer.choices.first();
    let reply = choice
        .and_then(|c| c.message.content.as_deref())
        .unwrap_or_default();
    CompletionChoice {
        text: format!("{}{reply}", echo.unwrap_or_default()),
        index,
        logprobs: None,
        finish_reason: Some(
            choice
                .and_then(|c| c.finish_reason.as_deref())
                .map_or_else(|| "stop".to_string(), completion_finish_reason),
        ),
    }
}

/// One chat stream chunk as a completion chunk for choice `index`: text deltas and the finish
/// reason are kept; the role chunk, reasoning and usage chunks give nothing (usage is summed
/// over every choice by the caller).
pub fn chunk_from_chat(chunk: &ChatChunk, index: u32, id: &str) -> Option<TextCompletion> {
    let choice = chunk.choices.first()?;
    let text = choice.delta.content.clone().unwrap_or_default();
    let finish_reason = choice
        .finish_reason
        .as_deref()
        .map(completion_finish_reason);
    if text.is_empty() && finish_reason.is_none() {
        return None;
    }
    let mut out = TextCompletion::new(id, chunk.created, &chunk.model);
    out.choices.push(CompletionChoice {
        text,
        index,
        logprobs: None,
        finish_reason,
    });
    Some(out)
}

/// Adds `more` to `total`, cache details included.
pub fn add_usage(total: &mut Usage, more: &Usage) {
    total.prompt_tokens += more.prompt_tokens;
    total.completion_tokens += more.completion_tokens;
    total.total_tokens += more.total_tokens;
    if let Some(details) = &more.prompt_tokens_details {
        let sum = total
            .prompt_tokens_details
            .get_or_insert_with(Default::default);
        sum.cached_tokens += details.cached_tokens;
        sum.cache_write_tokens += details.cache_write_tokens;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::chat::{AssistantMessage, Choice, ChunkChoice, Delta};
    use crate::openai::request::parse_json;

    fn request(body: &str) -> CompletionRequest {
        parse_json(body.as_bytes()).unwrap()
    }

    #[test]
    fn prompts_as_text_or_lists() {
        assert_eq!(
            request(r#"{"model":"m","prompt":"Once"}"#)
                .prompts()
                .unwrap(),
            ["Once"]
        );
        assert_eq!(
            request(r#"{"model":"m","prompt":["a","b"],"n":2}"#)
                .prompts()
                .unwrap(),
            ["a", "b"]
        );
        for (body, param) in [
            (r#"{"model":"m"}"#, "prompt"),
            (r#"{"model":"m","prompt":[]}"#, "prompt"),
            (r#"{"model":"m","prompt":[1,2,3]}"#, "prompt"),
            (r#"{"model":"m","prompt":[[1],[2]]}"#, "prompt"),
            (r#"{"model":"m","prompt":"  "}"#, "prompt"),
            (r#"{"model":"m","prompt":["a",""]}"#, "prompt[1]"),
            (r#"{"model":"m","prompt":"a","suffix":"end"}"#, "suffix"),
            (r#"{"model":"m","prompt":"a","logprobs":0}"#, "logprobs"),
            (r#"{"model":"m","prompt":"a","best_of":2}"#, "best_of"),
            (r#"{"model":"m","prompt":"a","n":0}"#, "n"),
            (r#"{"model":"m","prompt":"a","n":17}"#, "n"),
            (r#"{"model":"m","prompt":["a","b","c","d","e"],"n":4}"#, "n"),
        ] {
            let err = request(body).prompts().unwrap_err();
            assert_eq!(err.param.as_deref(), Some(param), "{body}: {}", err.message);
            assert_eq!(err.status, 400);
        }
        // Accepted as OpenAI accepts them: an empty suffix, best_of 1, null logprobs.
        assert!(
            request(r#"{"model":"m","prompt":"a","suffix":"","best_of":1,"logprobs":null}"#)
                .prompts()
                .is_ok()
        );
        let err =
            parse_json::<CompletionRequest>(br#"{"model":"m","prompt":{"a":1}}"#).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("prompt"));
    }

    #[test]
    fn chat_request_carries_the_sampling_settings() {
        let req = request(
            r#"{"model":"gpt-3.5-turbo-instruct","prompt":"x","temperature":0.2,"top_p":0.9,"stop":["\n"]}"#,
        );
        let chat = req.chat_request("amazon.nova-lite-v1:0", "Say hi");
        assert_eq!(chat.model, "amazon.nova-lite-v1:0");
        assert_eq!(chat.max_tokens, Some(DEFAULT_MAX_TOKENS));
        assert_eq!((chat.temperature, chat.top_p), (Some(0.2), Some(0.9)));
        assert_eq!(chat.stop.unwrap().into_vec(), ["\n"]);
        assert_eq!(chat.messages.len(), 1);
        assert_eq!(chat.messages[0].role, Role::User);
        let req = request(r#"{"model":"m","prompt":"x","max_tokens":200}"#);
        assert_eq!(req.chat_request("m", "x").max_tokens, Some(200));
    }

    #[test]
    fn chat_answers_become_completion_choices() {
        let answer = ChatCompletion {
            id: "chatcmpl-1".into(),
            object: "chat.completion".into(),
            created: 7,
            model: "m".into(),
            choices: vec![Choice {
                index: 0,
                message: AssistantMessage {
                    role: "assistant".into(),
                    content: Some(" world".into()),
                    ..Default::default()
                },
                finish_reason: Some("length".into()),
                logprobs: None,
            }],
            usage: Usage::default(),
        };
        let choice = choice_from_chat(&answer, 3, Some("Hello"));
        assert_eq!(choice.text, "Hello world");
        assert_eq!(choice.index, 3);
        assert_eq!(choice.finish_reason.as_deref(), Some("length"));

        let chunk = |content: Option<&str>, finish: Option<&str>| ChatChunk {
            id: "chatcmpl-1".into(),
            object: "chat.completion.chunk".into(),
            created: 7,
            model: "m".into(),
            choices: vec![ChunkChoice {
                index: 0,
                delta: Delta {
                    content: content.map(str::to_string),
                    ..Default::default()
                },
                finish_reason: finish.map(str::to_string),
                logprobs: None,
            }],
            usage: None,
        };
        assert_eq!(chunk_from_chat(&chunk(Some(""), None), 0, "cmpl-1"), None);
        let text = chunk_from_chat(&chunk(Some("Hi"), None), 2, "cmpl-1").unwrap();
        assert_eq!(
            (text.object.as_str(), text.id.as_str()),
            ("text_completion", "cmpl-1")
        );
        assert_eq!(text.choices[0].text, "Hi");
        assert_eq!(text.choices[0].index, 2);
        let last = chunk_from_chat(&chunk(None, Some("tool_calls")), 2, "cmpl-1").unwrap();
        assert_eq!(last.choices[0].finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn usage_adds_up() {
        let mut total = Usage::default();
        let one = Usage {
            prompt_tokens: 3,
            completion_tokens: 4,
            total_tokens: 7,
            prompt_tokens_details: None,
        };
        add_usage(&mut total, &one);
        add_usage(&mut total, &one);
        assert_eq!(
            (
                total.prompt_tokens,
                total.completion_tokens,
                total.total_tokens
            ),
            (6, 8, 14)
        );
    }
}
