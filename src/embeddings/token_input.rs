//! Token-id input: OpenAI clients may send `input` as token ids instead of text (LangChain's
//! OpenAI embeddings do by default). Bedrock's models take text, so the ids are decoded back
//! to text with the tokenizer the client encoded them with: `cl100k_base`, the tokenizer of
//! OpenAI's embedding models, unless the model name implies `o200k_base` (`gpt-4o`, `o1`...).
//!
//! The vocabularies are compiled into the binary by `tiktoken-rs` and parsed on first use, so
//! a Lambda that never sees token input never pays for them at start.

use tiktoken_rs::CoreBPE;
use tiktoken_rs::tokenizer::{Tokenizer, get_tokenizer};

use crate::embeddings::request::InputShape;
use crate::error::ApiError;

/// The tokenizer vocabularies token ids can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    Cl100kBase,
    O200kBase,
}

impl Vocabulary {
    /// The vocabulary a client that names `model` encoded its tokens with.
    pub fn for_model(model: &str) -> Vocabulary {
        if model.contains("o200k") {
            return Vocabulary::O200kBase;
        }
        match get_tokenizer(model) {
            Some(Tokenizer::O200kBase | Tokenizer::O200kHarmony) => Vocabulary::O200kBase,
            _ => Vocabulary::Cl100kBase,
        }
    }

    fn bpe(self) -> &'static CoreBPE {
        match self {
            Vocabulary::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
            Vocabulary::O200kBase => tiktoken_rs::o200k_base_singleton(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Vocabulary::Cl100kBase => "cl100k_base",
            Vocabulary::O200kBase => "o200k_base",
        }
    }
}

/// Decodes each token-id list to its text. `shape` says how errors name an input: `input` for
/// a bare list of ids, `input[2]` for the third of a list of lists.
/// Ids outside the vocabulary are a 400; byte sequences that are not valid UTF-8 on their own
/// (a list cut inside a character) keep U+FFFD in their place, as tiktoken does.
pub fn decode(
    lists: &[Vec<u32>],
    vocabulary: Vocabulary,
    shape: InputShape,
) -> Result<Vec<String>, ApiError> {
    let bpe = vocabulary.bpe();
    lists
        .iter()
        .enumerate()
        .map(|(index, tokens)| {
            let param = shape.param(index);
            let bytes = bpe.decode_bytes(tokens).map_err(|err| {
                ApiError::invalid_param(
                    param.clone(),
                    format!(
                        "`{param}` holds token id {}, which is not in the {} vocabulary.",
                        err.token,
                        vocabulary.name()
                    ),
                )
            })?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if text.is_empty() {
                return Err(ApiError::invalid_param(
                    param.clone(),
                    format!("`{param}` decodes to an empty text."),
                ));
            }
            Ok(text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_vocabulary_from_the_model_name() {
        assert_eq!(
            Vocabulary::for_model("text-embedding-3-small"),
            Vocabulary::Cl100kBase
        );
        assert_eq!(
            Vocabulary::for_model("text-embedding-ada-002"),
            Vocabulary::Cl100kBase
        );
        assert_eq!(
            Vocabulary::for_model("amazon.titan-embed-text-v2:0"),
            Vocabulary::Cl100kBase
        );
        assert_eq!(Vocabulary::for_model("gpt-4o-mini"), Vocabulary::O200kBase);
        assert_eq!(
            Vocabulary::for_model("my-o200k-embedder"),
            Vocabulary::O200kBase
        );
    }

    #[test]
    fn decodes_what_tiktoken_encodes() {
        let text = "Embeddings through Bedrock, déjà vu";
        for vocabulary in [Vocabulary::Cl100kBase, Vocabulary::O200kBase] {
            let ids = vocabulary.bpe().encode_ordinary(text);
            assert_eq!(
                decode(&[ids], vocabulary, InputShape::Single).unwrap(),
                vec![text.to_string()]
            );
        }
        assert_eq!(
            decode(
                &[vec![15339, 1917]],
                Vocabulary::Cl100kBase,
                InputShape::Single
            )
            .unwrap(),
            vec!["hello world".to_string()]
        );
    }

    #[test]
    fn unknown_ids_are_client_errors() {
        let err = decode(
            &[vec![1], vec![4_000_000_000]],
            Vocabulary::Cl100kBase,
            InputShape::List,
        )
        .unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.param.as_deref(), Some("input[1]"));
        assert!(err.message.contains("4000000000"), "{}", err.message);
        // A list of one list is still a list: the input is `input[0]`.
        let err = decode(
            &[vec![1, 99_999_999]],
            Vocabulary::Cl100kBase,
            InputShape::List,
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("input[0]"));
        let err = decode(
            &[vec![1, 99_999_999]],
            Vocabulary::Cl100kBase,
            InputShape::Single,
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("input"));
    }
}
