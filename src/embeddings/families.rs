//! The embedding families Bedrock serves through InvokeModel, in one table.
//!
//! Every family has its own native body in each direction. A row says which model ids belong
//! to the family, how many texts one call may carry, which output sizes it takes, how to build
//! its request and how to read its response, side by side, so that a new family is one row.
//! Shapes are Bedrock's documented ones:
//!
//! | family | request | response |
//! |---|---|---|
//! | Titan Text Embeddings v1 | `{"inputText"}` | `{"embedding","inputTextTokenCount"}` |
//! | Titan Text Embeddings v2 | `{"inputText","dimensions","normalize"}` | same as v1 |
//! | Cohere Embed v3 | `{"texts","input_type","truncate"}` | `{"embeddings":[[..]],"id","response_type","texts"}` |
//! | Cohere Embed v4 | `{"texts","input_type","embedding_types","output_dimension","truncate"}` | `{"embeddings":{"float":[[..]]},..}` |
//! | Nova Multimodal Embeddings | `{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{..}}` | `{"embeddings":[{"embeddingType","embedding"}]}` |
//!
//! Longer than ~450 lines only because its unit tests live beside the code.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::capabilities::base_model_id;

/// What a client asks for beyond the texts, already checked against the family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The output size to request, when it is not the family's only or default size.
    pub dimension: Option<u32>,
    pub purpose: Purpose,
    pub truncate: Option<Truncate>,
    /// Titan v2's `normalize`.
    pub normalize: Option<bool>,
}

/// What the embeddings are for: Cohere's `input_type`, Nova's `embeddingPurpose`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Purpose {
    /// Texts stored for later search (`search_document`, Nova `GENERIC_INDEX`).
    #[default]
    Document,
    /// Search queries (`search_query`, Nova `GENERIC_RETRIEVAL`).
    Query,
    Classification,
    Clustering,
}

impl Purpose {
    /// Parses an `input_type` as Cohere names it.
    pub fn parse(name: &str) -> Option<Purpose> {
        Some(match name {
            "search_document" => Purpose::Document,
            "search_query" => Purpose::Query,
            "classification" => Purpose::Classification,
            "clustering" => Purpose::Clustering,
            _ => return None,
        })
    }

    fn cohere(self) -> &'static str {
        match self {
            Purpose::Document => "search_document",
            Purpose::Query => "search_query",
            Purpose::Classification => "classification",
            Purpose::Clustering => "clustering",
        }
    }

    fn nova(self) -> &'static str {
        match self {
            Purpose::Document => "GENERIC_INDEX",
            Purpose::Query => "GENERIC_RETRIEVAL",
            Purpose::Classification => "CLASSIFICATION",
            Purpose::Clustering => "CLUSTERING",
        }
    }
}

/// Which end of an over-long text the model may cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncate {
    None,
    Start,
    End,
}

impl Truncate {
    /// Parses Cohere v3 and Nova names (`NONE`, `START`, `END`) and Cohere v4 names (`LEFT`,
    /// `RIGHT`), in any case.
    pub fn parse(name: &str) -> Option<Truncate> {
        Some(match name.to_ascii_uppercase().as_str() {
            "NONE" => Truncate::None,
            "START" | "LEFT" => Truncate::Start,
            "END" | "RIGHT" => Truncate::End,
            _ => return None,
        })
    }

    fn start_end(self) -> &'static str {
        match self {
            Truncate::None => "NONE",
            Truncate::Start => "START",
            Truncate::End => "END",
        }
    }

    fn left_right(self) -> &'static str {
        match self {
            Truncate::None => "NONE",
            Truncate::Start => "LEFT",
            Truncate::End => "RIGHT",
        }
    }
}

/// A family's answer to one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub vectors: Vec<Vec<f32>>,
    /// The token count in the body, for families that report one there.
    pub input_tokens: Option<u64>,
}

/// Which of the gateway's extra request options a family has a use for. An option a family
/// would ignore is refused, so a client never believes it took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Takes {
    pub input_type: bool,
    pub truncate: bool,
    pub normalize: bool,
}

impl Takes {
    fn named(&self, option: &str) -> bool {
        match option {
            "input_type" => self.input_type,
            "truncate" => self.truncate,
            "normalize" => self.normalize,
            _ => false,
        }
    }
}

const TITAN_V1_TAKES: Takes = Takes {
    input_type: false,
    truncate: false,
    normalize: false,
};
const TITAN_V2_TAKES: Takes = Takes {
    normalize: true,
    ..TITAN_V1_TAKES
};
const PURPOSE_AND_TRUNCATE: Takes = Takes {
    input_type: true,
    truncate: true,
    normalize: false,
};

/// One embedding family: its ids, limits and wire format.
#[derive(Debug)]
pub struct Family {
    pub name: &'static str,
    /// Foundation-model id prefixes (inference-profile prefixes and ARNs are stripped first).
    pub prefixes: &'static [&'static str],
    /// Texts per InvokeModel call; larger inputs are split into several calls.
    pub max_batch: usize,
    /// The most characters Bedrock takes in one text, when it documents a limit. Checked
    /// before any call, so that a long text late in a batch does not fail the request after
    /// the calls before it ran (and were paid for).
    pub max_chars: Option<usize>,
    /// The extra options it has a use for.
    pub takes: Takes,
    /// Output sizes the family takes; the first is what it answers with by default.
    pub dimensions: &'static [u32],
    pub build_request: fn(&[String], &Options) -> Value,
    pub parse_response: fn(&[u8]) -> Result<Parsed, String>,
}

impl Family {
    /// The names of the families that take `option` (`input_type`, `truncate`, `normalize`).
    pub fn names_taking(option: &str) -> Vec<&'static str> {
        FAMILIES
            .iter()
            .filter(|family| family.takes.named(option))
            .map(|family| family.name)
            .collect()
    }

    /// The 400 for a text over the family's character limit, if `text` is one.
    pub fn check_length(&self, text: &str, param: &str) -> Result<(), String> {
        let Some(max) = self.max_chars else {
            return Ok(());
        };
        // A text of at most `max` bytes has at most `max` characters: no need to count.
        if text.len() <= max {
            return Ok(());
        }
        let chars = text.chars().count();
        if chars <= max {
            return Ok(());
        }
        Err(format!(
            "`{param}` is {chars} characters long; {} takes at most {max} characters a text. Split it into smaller chunks.",
            self.name
        ))
    }

    pub fn default_dimension(&self) -> u32 {
        self.dimensions.first().copied().unwrap_or(0)
    }

    /// The `dimension` option for a client's `dimensions`: `None` when the family's default
    /// serves it, an error listing the sizes it takes otherwise.
    pub fn dimension_for(&self, requested: Option<u32>) -> Result<Option<u32>, String> {
        match requested {
            None => Ok(None),
            Some(size) if size == self.default_dimension() => Ok(None),
            Some(size) if self.dimensions.contains(&size) => Ok(Some(size)),
            Some(size) => {
                let sizes: Vec<String> = self.dimensions.iter().map(u32::to_string).collect();
                Err(format!(
                    "{} cannot produce {size}-dimensional embeddings; `dimensions` must be one of {}.",
                    self.name,
                    sizes.join(", ")
                ))
            }
        }
    }
}

/// Every family, in lookup order. Per-text limits: Titan v1 and v2 50,000 characters, Cohere v3
/// 2,048, Nova 50,000; Cohere v4 none documented.
pub static FAMILIES: &[Family] = &[
    Family {
        name: "Amazon Titan Text Embeddings v1",
        prefixes: &[
            "amazon.titan-embed-text-v1",
            "amazon.titan-embed-g1-text-02",
        ],
        max_batch: 1,
        max_chars: Some(50_000),
        takes: TITAN_V1_TAKES,
        dimensions: &[1536],
        build_request: |texts, _| json!({ "inputText": first(texts) }),
        parse_response: parse_titan,
    },
    Family {
        name: "Amazon Titan Text Embeddings v2",
        prefixes: &["amazon.titan-embed-text-v2"],
        max_batch: 1,
        // "up to 8,192 tokens or 50,000 characters" (Bedrock user guide).
        max_chars: Some(50_000),
        takes: TITAN_V2_TAKES,
        dimensions: &[1024, 512, 256],
        build_request: titan_v2_request,
        parse_response: parse_titan,
    },
    Family {
        name: "Cohere Embed v3",
        prefixes: &["cohere.embed-english-v3", "cohere.embed-multilingual-v3"],
        max_batch: 96,
        max_chars: Some(2_048),
        takes: PURPOSE_AND_TRUNCATE,
        dimensions: &[1024],
        build_request: cohere_v3_request,
        parse_response: parse_cohere,
    },
    Family {
        name: "Cohere Embed v4",
        prefixes: &["cohere.embed-v4"],
        max_batch: 96,
        // Bedrock documents no per-text character limit for v4, only a context of ~128k
        // tokens (which `truncate` governs): Bedrock decides.
        max_chars: None,
        takes: PURPOSE_AND_TRUNCATE,
        dimensions: &[1536, 1024, 512, 256],
        build_request: cohere_v4_request,
        parse_response: parse_cohere,
    },
    Family {
        name: "Amazon Nova Multimodal Embeddings",
        prefixes: &["amazon.nova-2-multimodal-embeddings"],
        max_batch: 1,
        max_chars: Some(50_000),
        takes: PURPOSE_AND_TRUNCATE,
        dimensions: &[3072, 1024, 384, 256],
        build_request: nova_request,
        parse_response: parse_nova,
    },
];

/// The family of a model id (foundation id, inference profile id or ARN with the id in it).
pub fn family_of(model_id: &str) -> Option<&'static Family> {
    let base = base_model_id(model_id);
    FAMILIES.iter().find(|family| {
        family
            .prefixes
            .iter()
            .any(|prefix| base.starts_with(prefix))
    })
}

fn first(texts: &[String]) -> &str {
    texts.first().map(String::as_str).unwrap_or_default()
}

fn titan_v2_request(texts: &[String], options: &Options) -> Value {
    let mut body = json!({ "inputText": first(texts) });
    if let Some(dimension) = options.dimension {
        body["dimensions"] = json!(dimension);
    }
    if let Some(normalize) = options.normalize {
        body["normalize"] = json!(normalize);
    }
    body
}

fn cohere_v3_request(texts: &[String], options: &Options) -> Value {
    let mut body = json!({ "texts": texts, "input_type": options.purpose.cohere() });
    if let Some(truncate) = options.truncate {
        body["truncate"] = json!(truncate.start_end());
    }
    body
}

fn cohere_v4_request(texts: &[String], options: &Options) -> Value {
    let mut body = json!({
        "texts": texts,
        "input_type": options.purpose.cohere(),
        "embedding_types": ["float"],
    });
    if let Some(dimension) = options.dimension {
        body["output_dimension"] = json!(dimension);
    }
    if let Some(truncate) = options.truncate {
        body["truncate"] = json!(truncate.left_right());
    }
    body
}

fn nova_request(texts: &[String], options: &Options) -> Value {
    json!({
        "schemaVersion": "nova-multimodal-embed-v1",
        "taskType": "SINGLE_EMBEDDING",
        "singleEmbeddingParams": {
            "embeddingPurpose": options.purpose.nova(),
            "embeddingDimension": options.dimension.unwrap_or(3072),
            "text": {
                "truncationMode": options.truncate.unwrap_or(Truncate::End).start_end(),
                "value": first(texts),
            },
        },
    })
}

fn parse_titan(body: &[u8]) -> Result<Parsed, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct TitanResponse {
        embedding: Option<Vec<f32>>,
        input_text_token_count: Option<u64>,
        embeddings_by_type: Option<ByType>,
    }
    let response: TitanResponse = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let vector = response
        .embedding
        .or(response
            .embeddings_by_type
            .and_then(|by_type| by_type.float))
        .ok_or("no `embedding` in the response")?;
    Ok(Parsed {
        vectors: vec![vector],
        input_tokens: response.input_text_token_count,
    })
}

/// `embeddings` by type, as Titan v2 (one vector) and Cohere (a list of vectors) send it.
#[derive(Deserialize)]
struct ByType<T = Vec<f32>> {
    float: Option<T>,
}

fn parse_cohere(body: &[u8]) -> Result<Parsed, String> {
    // v3 answers `embeddings: [[..]]` (`embeddings_floats`); v4, and v3 when asked for types,
    // answer `embeddings: {"float": [[..]]}` (`embeddings_by_type`).
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Embeddings {
        Floats(Vec<Vec<f32>>),
        ByType(ByType<Vec<Vec<f32>>>),
    }
    #[derive(Deserialize)]
    struct CohereResponse {
        embeddings: Embeddings,
    }
    let response: CohereResponse = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let vectors = match response.embeddings {
        Embeddings::Floats(vectors) => vectors,
        Embeddings::ByType(by_type) => by_type
            .float
            .ok_or("no `embeddings.float` in the response")?,
    };
    Ok(Parsed {
        vectors,
        input_tokens: None,
    })
}

fn parse_nova(body: &[u8]) -> Result<Parsed, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct NovaEmbedding {
        embedding_type: Option<String>,
        embedding: Vec<f32>,
    }
    #[derive(Deserialize)]
    struct NovaResponse {
        embeddings: Vec<NovaEmbedding>,
    }
    let response: NovaResponse = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let vector = response
        .embeddings
        .into_iter()
        .find(|e| e.embedding_type.as_deref().is_none_or(|t| t == "TEXT"))
        .ok_or("no TEXT embedding in the response")?
        .embedding;
    Ok(Parsed {
        vectors: vec![vector],
        input_tokens: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_profiles_and_arns_find_their_family() {
        let name = |id| family_of(id).map(|f| f.name);
        assert_eq!(
            name("amazon.titan-embed-text-v1"),
            Some("Amazon Titan Text Embeddings v1")
        );
        assert_eq!(
            name("amazon.titan-embed-text-v2:0"),
            Some("Amazon Titan Text Embeddings v2")
        );
        assert_eq!(
            name("cohere.embed-multilingual-v3"),
            Some("Cohere Embed v3")
        );
        assert_eq!(name("us.cohere.embed-v4:0"), Some("Cohere Embed v4"));
        assert_eq!(
            name(
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-2-multimodal-embeddings-v1:0"
            ),
            Some("Amazon Nova Multimodal Embeddings")
        );
        assert_eq!(name("anthropic.claude-3-5-haiku-20241022-v1:0"), None);
    }

    #[test]
    fn dimensions_map_to_what_the_family_takes() {
        let titan_v2 = family_of("amazon.titan-embed-text-v2:0").unwrap();
        assert_eq!(titan_v2.dimension_for(None), Ok(None));
        assert_eq!(titan_v2.dimension_for(Some(1024)), Ok(None));
        assert_eq!(titan_v2.dimension_for(Some(256)), Ok(Some(256)));
        let err = titan_v2.dimension_for(Some(300)).unwrap_err();
        assert!(err.contains("1024, 512, 256"), "{err}");
        let cohere_v3 = family_of("cohere.embed-english-v3").unwrap();
        assert!(cohere_v3.dimension_for(Some(512)).is_err());
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        let cohere_v3 = family_of("cohere.embed-english-v3").unwrap();
        assert!(cohere_v3.check_length(&"é".repeat(2048), "input").is_ok());
        let err = cohere_v3
            .check_length(&"é".repeat(2049), "input[3]")
            .unwrap_err();
        assert!(
            err.contains("`input[3]` is 2049 characters") && err.contains("2048"),
            "{err}"
        );
        let cohere_v4 = family_of("cohere.embed-v4:0").unwrap();
        assert!(
            cohere_v4
                .check_length(&"x".repeat(200_000), "input")
                .is_ok()
        );
        assert_eq!(
            Family::names_taking("normalize"),
            ["Amazon Titan Text Embeddings v2"]
        );
    }

    #[test]
    fn requests_are_in_each_family_schema() {
        let options = Options {
            dimension: Some(256),
            purpose: Purpose::Query,
            truncate: Some(Truncate::Start),
            normalize: Some(false),
        };
        let build =
            |id, items: &[&str]| (family_of(id).unwrap().build_request)(&texts(items), &options);
        assert_eq!(
            build("amazon.titan-embed-text-v2:0", &["a"]),
            json!({"inputText": "a", "dimensions": 256, "normalize": false})
        );
        assert_eq!(
            build("cohere.embed-english-v3", &["a", "b"]),
            json!({"texts": ["a", "b"], "input_type": "search_query", "truncate": "START"})
        );
        assert_eq!(
            build("cohere.embed-v4:0", &["a"]),
            json!({"texts": ["a"], "input_type": "search_query", "embedding_types": ["float"],
                   "output_dimension": 256, "truncate": "LEFT"})
        );
        let nova = build("amazon.nova-2-multimodal-embeddings-v1:0", &["a"]);
        assert_eq!(
            nova["singleEmbeddingParams"]["embeddingPurpose"],
            "GENERIC_RETRIEVAL"
        );
        assert_eq!(nova["singleEmbeddingParams"]["embeddingDimension"], 256);
        assert_eq!(
            nova["singleEmbeddingParams"]["text"],
            json!({"truncationMode": "START", "value": "a"})
        );
    }

    #[test]
    fn responses_of_every_shape_parse() {
        let titan = parse_titan(br#"{"embedding":[0.5,-0.5],"inputTextTokenCount":3}"#).unwrap();
        assert_eq!(titan.vectors, vec![vec![0.5, -0.5]]);
        assert_eq!(titan.input_tokens, Some(3));
        let v3 = parse_cohere(br#"{"id":"x","embeddings":[[1.0],[2.0]],"response_type":"embeddings_floats","texts":["a","b"]}"#).unwrap();
        assert_eq!(v3.vectors, vec![vec![1.0], vec![2.0]]);
        let v4 = parse_cohere(br#"{"id":"x","embeddings":{"float":[[1.0]]},"response_type":"embeddings_by_type","texts":["a"]}"#).unwrap();
        assert_eq!(v4.vectors, vec![vec![1.0]]);
        let nova =
            parse_nova(br#"{"embeddings":[{"embeddingType":"TEXT","embedding":[0.25]}]}"#).unwrap();
        assert_eq!(nova.vectors, vec![vec![0.25]]);
        assert!(parse_cohere(br#"{"embeddings":{"int8":[[1]]}}"#).is_err());
        assert!(parse_titan(b"not json").is_err());
    }
}
