//! The OpenAI embeddings request: its fields, and `input` in each of the four forms OpenAI
//! accepts (a string, a list of strings, a list of token ids, a list of token-id lists).
//!
//! `input` is read straight into its typed form as the body is parsed, never through a generic
//! JSON tree (a token id is 4 bytes here, not a 32-byte JSON value plus list overhead), and the
//! caps are enforced while reading: at most [`MAX_INPUTS`] inputs and [`MAX_TOKENS_PER_INPUT`]
//! token ids an input, so an oversized request stops being read at the first id too many.
//! Errors name the offending item (`input[3]`, `input[1][7]`) through the body parser's path.
//!
//! A bare empty string is accepted, as OpenAI accepts it (LangChain embeds `""` to stand in for
//! empty documents); an empty string inside a list is refused, as OpenAI refuses it.
//!
//! Besides OpenAI's fields the gateway reads a few that clients pass through `extra_body`
//! for Bedrock's families: `input_type`, `truncate` and `normalize`.
//!
//! Longer than ~450 lines only because its unit tests live beside the code.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use crate::embeddings::families::{Family, Options, Purpose, Truncate};
use crate::error::ApiError;

/// OpenAI's own limit on inputs per request.
pub const MAX_INPUTS: usize = 2048;
/// Token ids one input may hold: OpenAI's embedding models take 8192 tokens (LangChain cuts
/// longer texts into pieces of 8191).
pub const MAX_TOKENS_PER_INPUT: usize = 8192;

/// `POST /embeddings` as OpenAI clients send it.
#[derive(Debug, Deserialize)]
pub struct EmbeddingsRequest {
    pub model: String,
    #[serde(default)]
    pub input: Option<EmbeddingInput>,
    #[serde(default)]
    pub encoding_format: Option<String>,
    #[serde(default)]
    pub dimensions: Option<u32>,
    /// OpenAI's end-user id; Bedrock has no use for it.
    #[serde(default)]
    pub user: Option<String>,
    /// Cohere's `input_type` (and Nova's purpose): `search_document` (default),
    /// `search_query`, `classification`, `clustering`.
    #[serde(default)]
    pub input_type: Option<String>,
    /// `NONE`, `START`/`LEFT` or `END`/`RIGHT`.
    #[serde(default)]
    pub truncate: Option<String>,
    /// Titan v2's `normalize`.
    #[serde(default)]
    pub normalize: Option<bool>,
}

/// How vectors are written in the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingFormat {
    Float,
    /// Little-endian float32 bytes, base64 (standard alphabet): the OpenAI SDKs' default.
    Base64,
}

/// `input` in the form the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddingInput {
    /// `"input": "text"` (possibly empty).
    Text(String),
    /// `"input": ["text", ...]`, none empty.
    Texts(Vec<String>),
    /// `"input": [id, ...]`: one input as token ids.
    Tokens(Vec<u32>),
    /// `"input": [[id, ...], ...]`.
    TokenLists(Vec<Vec<u32>>),
}

/// Whether `input` held one input or a list of them, which decides how errors name an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputShape {
    Single,
    List,
}

impl InputShape {
    /// The request field of input `index`: `input` for a single input, `input[index]` in a list.
    pub fn param(self, index: usize) -> String {
        match self {
            InputShape::Single => "input".to_string(),
            InputShape::List => format!("input[{index}]"),
        }
    }
}

impl EmbeddingInput {
    /// How many embeddings the request asks for.
    pub fn len(&self) -> usize {
        match self {
            EmbeddingInput::Text(_) | EmbeddingInput::Tokens(_) => 1,
            EmbeddingInput::Texts(texts) => texts.len(),
            EmbeddingInput::TokenLists(lists) => lists.len(),
        }
    }

    /// Never true: every form holds at least one input.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn shape(&self) -> InputShape {
        match self {
            EmbeddingInput::Text(_) | EmbeddingInput::Tokens(_) => InputShape::Single,
            EmbeddingInput::Texts(_) | EmbeddingInput::TokenLists(_) => InputShape::List,
        }
    }
}

impl<'de> Deserialize<'de> for EmbeddingInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(InputVisitor)
    }
}

/// Reads `input` itself: a string, or a list whose first item decides the form of the rest.
struct InputVisitor;

impl<'de> Visitor<'de> for InputVisitor {
    type Value = EmbeddingInput;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, a list of strings, a list of token ids or a list of token-id lists")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(EmbeddingInput::Text(text.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let Some(first) = seq.next_element_seed(FirstItemVisitor)? else {
            return Err(de::Error::custom(
                "the list is empty; send at least one text or token id",
            ));
        };
        match first {
            FirstItem::Text(text) => {
                let mut texts = vec![text];
                while let Some(text) = seq.next_element_seed(TextItem)? {
                    check_more_inputs(texts.len())?;
                    texts.push(text);
                }
                Ok(EmbeddingInput::Texts(texts))
            }
            FirstItem::Token(id) => {
                let mut tokens = vec![id];
                while let Some(id) = seq.next_element_seed(TokenId)? {
                    check_more_tokens(tokens.len())?;
                    tokens.push(id);
                }
                Ok(EmbeddingInput::Tokens(tokens))
            }
            FirstItem::Tokens(list) => {
                let mut lists = vec![list];
                while let Some(list) = seq.next_element_seed(TokenList)? {
                    check_more_inputs(lists.len())?;
                    lists.push(list);
                }
                Ok(EmbeddingInput::TokenLists(lists))
            }
        }
    }
}

fn check_more_inputs<E: de::Error>(count: usize) -> Result<(), E> {
    if count >= MAX_INPUTS {
        return Err(E::custom(format!(
            "more than {MAX_INPUTS} inputs; send at most {MAX_INPUTS} per request"
        )));
    }
    Ok(())
}

fn check_more_tokens<E: de::Error>(count: usize) -> Result<(), E> {
    if count >= MAX_TOKENS_PER_INPUT {
        return Err(E::custom(format!(
            "more than {MAX_TOKENS_PER_INPUT} token ids; an input may hold at most {MAX_TOKENS_PER_INPUT}"
        )));
    }
    Ok(())
}

fn empty_text<E: de::Error>() -> E {
    E::custom("an empty string is not a text to embed (only a bare `\"input\": \"\"` may be empty)")
}

/// The first item of a list `input`, which may be any of the three item kinds.
enum FirstItem {
    Text(String),
    Token(u32),
    Tokens(Vec<u32>),
}

struct FirstItemVisitor;

impl<'de> DeserializeSeed<'de> for FirstItemVisitor {
    type Value = FirstItem;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FirstItemVisitor {
    type Value = FirstItem;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, a token id or a list of token ids")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        if text.is_empty() {
            return Err(empty_text());
        }
        Ok(FirstItem::Text(text.to_string()))
    }

    fn visit_u64<E: de::Error>(self, id: u64) -> Result<Self::Value, E> {
        token_id(id).map(FirstItem::Token)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        TokenListVisitor.visit_seq(seq).map(FirstItem::Tokens)
    }
}

/// A later item of a list of texts.
struct TextItem;

impl<'de> DeserializeSeed<'de> for TextItem {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for TextItem {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, like the first item")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        if text.is_empty() {
            return Err(empty_text());
        }
        Ok(text.to_string())
    }
}

/// One token id.
struct TokenId;

impl<'de> DeserializeSeed<'de> for TokenId {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u32, D::Error> {
        deserializer.deserialize_u64(self)
    }
}

impl<'de> Visitor<'de> for TokenId {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a token id (a non-negative integer), like the first item")
    }

    fn visit_u64<E: de::Error>(self, id: u64) -> Result<u32, E> {
        token_id(id)
    }
}

fn token_id<E: de::Error>(id: u64) -> Result<u32, E> {
    u32::try_from(id).map_err(|_| E::custom(format!("token id {id} is out of range")))
}

/// A later item of a list of token-id lists.
struct TokenList;

impl<'de> DeserializeSeed<'de> for TokenList {
    type Value = Vec<u32>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<u32>, D::Error> {
        deserializer.deserialize_seq(TokenListVisitor)
    }
}

struct TokenListVisitor;

impl<'de> Visitor<'de> for TokenListVisitor {
    type Value = Vec<u32>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of token ids, like the first item")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u32>, A::Error> {
        let mut tokens = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_TOKENS_PER_INPUT));
        while let Some(id) = seq.next_element_seed(TokenId)? {
            check_more_tokens(tokens.len())?;
            tokens.push(id);
        }
        if tokens.is_empty() {
            return Err(de::Error::custom("an empty list of token ids"));
        }
        Ok(tokens)
    }
}

impl EmbeddingsRequest {
    pub fn encoding_format(&self) -> Result<EncodingFormat, ApiError> {
        match self.encoding_format.as_deref() {
            None | Some("float") => Ok(EncodingFormat::Float),
            Some("base64") => Ok(EncodingFormat::Base64),
            Some(other) => Err(ApiError::invalid_param(
                "encoding_format",
                format!("`encoding_format` must be \"float\" or \"base64\", got \"{other}\"."),
            )),
        }
    }

    /// The input, or the 400 for a request without one.
    pub fn input(&mut self) -> Result<EmbeddingInput, ApiError> {
        self.input.take().ok_or_else(|| {
            ApiError::invalid_param(
                "input",
                "`input` is required: a string, a list of strings, or token ids.",
            )
        })
    }

    /// The family options this request asks for, checked against `family`: options the family
    /// has no use for are refused rather than silently dropped.
    pub fn options(&self, family: &Family) -> Result<Options, ApiError> {
        for (param, given, taken) in [
            (
                "input_type",
                self.input_type.is_some(),
                family.takes.input_type,
            ),
            ("truncate", self.truncate.is_some(), family.takes.truncate),
            (
                "normalize",
                self.normalize.is_some(),
                family.takes.normalize,
            ),
        ] {
            if given && !taken {
                return Err(ApiError::invalid_param(
                    param,
                    format!(
                        "{} does not take `{param}`; leave it out for this model. It applies to: {}.",
                        family.name,
                        Family::names_taking(param).join(", ")
                    ),
                ));
            }
        }
        if self.dimensions == Some(0) {
            return Err(ApiError::invalid_param(
                "dimensions",
                "`dimensions` must be a positive integer.",
            ));
        }
        let dimension = family
            .dimension_for(self.dimensions)
            .map_err(|message| ApiError::invalid_param("dimensions", message))?;
        let purpose = match self.input_type.as_deref() {
            None => Purpose::default(),
            Some(name) => Purpose::parse(name).ok_or_else(|| {
                ApiError::invalid_param(
                    "input_type",
                    format!(
                        "`input_type` must be one of search_document, search_query, classification, clustering; got \"{name}\"."
                    ),
                )
            })?,
        };
        let truncate = match self.truncate.as_deref() {
            None => None,
            Some(name) => Some(Truncate::parse(name).ok_or_else(|| {
                ApiError::invalid_param(
                    "truncate",
                    format!(
                        "`truncate` must be NONE, START (LEFT) or END (RIGHT); got \"{name}\"."
                    ),
                )
            })?),
        };
        Ok(Options {
            dimension,
            purpose,
            truncate,
            normalize: self.normalize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::request::parse_json;
    use serde_json::{Value, json};

    fn input(value: Value) -> Result<EmbeddingInput, ApiError> {
        let body = json!({"model": "m", "input": value}).to_string();
        parse_json::<EmbeddingsRequest>(body.as_bytes())?.input()
    }

    #[test]
    fn reads_the_four_forms() {
        assert_eq!(input(json!("a")).unwrap(), EmbeddingInput::Text("a".into()));
        assert_eq!(
            input(json!("")).unwrap(),
            EmbeddingInput::Text(String::new())
        );
        assert_eq!(
            input(json!(["a", "b"])).unwrap(),
            EmbeddingInput::Texts(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            input(json!([1, 2])).unwrap(),
            EmbeddingInput::Tokens(vec![1, 2])
        );
        assert_eq!(
            input(json!([[1], [2, 3]])).unwrap(),
            EmbeddingInput::TokenLists(vec![vec![1], vec![2, 3]])
        );
        assert_eq!(EmbeddingInput::Tokens(vec![1, 2]).len(), 1);
        assert_eq!(
            EmbeddingInput::Texts(vec!["a".into(); 3]).shape().param(2),
            "input[2]"
        );
        assert_eq!(EmbeddingInput::Text("a".into()).shape().param(0), "input");
    }

    #[test]
    fn refuses_empty_mixed_and_oversized_inputs() {
        let param = |value| input(value).unwrap_err().param.unwrap();
        let body = json!({"model": "m"}).to_string();
        let mut missing = parse_json::<EmbeddingsRequest>(body.as_bytes()).unwrap();
        assert_eq!(missing.input().unwrap_err().param.as_deref(), Some("input"));
        assert_eq!(param(json!(null)), "input");
        assert_eq!(param(json!([])), "input");
        assert_eq!(param(json!([""])), "input[0]");
        assert_eq!(param(json!(["a", ""])), "input[1]");
        assert_eq!(param(json!(["a", 1])), "input[1]");
        assert_eq!(param(json!([1, -2])), "input[1]");
        assert_eq!(param(json!([1, 4_294_967_296_u64])), "input[1]");
        assert_eq!(param(json!([[1], []])), "input[1]");
        assert_eq!(param(json!([[]])), "input[0]");
        assert_eq!(param(json!([[1], [2, "x"]])), "input[1][1]");
        assert_eq!(param(json!([1, [2]])), "input[1]");
        assert_eq!(param(json!({"a": 1})), "input");
        assert_eq!(param(json!(true)), "input");
        let many: Vec<String> = (0..=MAX_INPUTS).map(|i| i.to_string()).collect();
        assert_eq!(param(json!(many)), "input");
        let many_lists: Vec<Vec<u32>> = vec![vec![1]; MAX_INPUTS + 1];
        assert_eq!(param(json!(many_lists)), "input");
        assert!(input(json!(vec![vec![1]; MAX_INPUTS])).is_ok());
        let long: Vec<u32> = vec![7; MAX_TOKENS_PER_INPUT + 1];
        assert_eq!(param(json!(long)), "input");
        assert_eq!(param(json!([[1], long])), "input[1]");
        assert!(input(json!([vec![7; MAX_TOKENS_PER_INPUT]])).is_ok());
        let message = input(json!(["a", 3])).unwrap_err().message;
        assert!(message.contains("like the first item"), "{message}");
    }
}
