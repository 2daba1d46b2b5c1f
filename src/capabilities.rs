//! What each Bedrock model family can do, in one table.
//!
//! Bedrock's models differ in what Converse accepts: some take no system prompt, some cannot
//! stream tool use, some think. Every per-model decision in the gateway reads this table, so a
//! new model is one row here rather than string checks scattered through the code.
//!
//! Longer than ~450 lines only because its unit tests live beside the code.

/// How a model reasons, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reasoning {
    None,
    /// Anthropic extended thinking: `additionalModelRequestFields.thinking` with a token budget.
    Budget,
    /// Reasons on every request and returns it (DeepSeek R1); nothing to switch on.
    Always,
    /// Reasons on every request, with `additionalModelRequestFields.reasoning_effort` (gpt-oss).
    Effort,
    /// Anthropic adaptive thinking (Claude Opus 4.6, Sonnet 4.6, Opus 4.7 and later):
    /// `thinking: {"type": "adaptive"}` with `output_config.effort`, one of these values. Opus
    /// 4.7 refuses the budget form, so the gateway always sends this one to these models.
    Adaptive(&'static [&'static str]),
}

/// The capabilities of one model family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub system_prompt: bool,
    pub tools: bool,
    /// Accepts `toolChoice` `any` (forcing a call); the others take `auto` only.
    pub forced_tool_choice: bool,
    /// Also accepts `toolChoice` `tool` (forcing one named tool): only Claude 3+ and Nova, per
    /// Bedrock's ToolChoice documentation. The others get `any` plus an instruction naming it.
    pub named_tool_choice: bool,
    /// Tool use through ConverseStream. Without it, the gateway calls Converse and replays the
    /// answer as a stream.
    pub tool_streaming: bool,
    pub images: bool,
    pub documents: bool,
    /// `video_url` parts as Converse `video` blocks (Nova Lite, Pro and Premier; the listing's
    /// `inputModalities` `VIDEO` decides when the catalogue has the model).
    pub video: bool,
    /// `input_audio` parts as Converse `audio` blocks (Mistral Voxtral; the listing's
    /// `inputModalities` `SPEECH` decides when the catalogue has the model).
    pub audio: bool,
    /// Answers through ConverseStream at all. Without it (`responseStreamingSupported: false`
    /// in the listing), a `stream: true` request is answered by Converse, replayed as a stream.
    pub streaming: bool,
    pub reasoning: Reasoning,
    /// Accepts `cachePoint` blocks (in the system prompt and messages).
    pub prompt_caching: bool,
    /// Accepts `cachePoint` blocks in the tool list too (Claude does, Nova does not).
    pub tool_caching: bool,
    /// Takes `cachePoint.ttl` `1h` (Claude 4.5 and later, per AWS's prompt-caching page).
    pub one_hour_cache: bool,
    /// Rejects `temperature` and `topP` in the same request.
    pub temperature_xor_top_p: bool,
    /// Accepts stop sequences made only of whitespace (`"\n"`); Claude refuses them.
    pub whitespace_stop_sequences: bool,
    /// Native structured output (`outputConfig.textFormat`).
    pub structured_output: bool,
    /// An embedding model: InvokeModel only, never Converse.
    pub embedding: bool,
}

/// What the gateway assumes of a model it does not know (ARNs of application inference
/// profiles, new models): let everything through and let Bedrock decide.
pub const PERMISSIVE: Capabilities = Capabilities {
    system_prompt: true,
    tools: true,
    forced_tool_choice: true,
    named_tool_choice: true,
    tool_streaming: true,
    images: true,
    documents: true,
    video: true,
    audio: true,
    streaming: true,
    reasoning: Reasoning::None,
    prompt_caching: false,
    tool_caching: false,
    one_hour_cache: false,
    temperature_xor_top_p: false,
    structured_output: false,
    embedding: false,
    whitespace_stop_sequences: true,
};

const CLAUDE: Capabilities = Capabilities {
    system_prompt: true,
    tools: true,
    forced_tool_choice: true,
    named_tool_choice: true,
    tool_streaming: true,
    images: true,
    documents: true,
    video: false,
    audio: false,
    streaming: true,
    reasoning: Reasoning::None,
    prompt_caching: false,
    tool_caching: false,
    one_hour_cache: false,
    temperature_xor_top_p: false,
    structured_output: false,
    embedding: false,
    whitespace_stop_sequences: false,
};
const CLAUDE_CACHING: Capabilities = Capabilities {
    prompt_caching: true,
    tool_caching: true,
    ..CLAUDE
};
/// Claude 3.5 Haiku has no image input on Bedrock (AWS's model-features table).
const CLAUDE_3_5_HAIKU: Capabilities = Capabilities {
    images: false,
    ..CLAUDE_CACHING
};
const CLAUDE_THINKING: Capabilities = Capabilities {
    reasoning: Reasoning::Budget,
    ..CLAUDE_CACHING
};
const CLAUDE_4_5: Capabilities = Capabilities {
    temperature_xor_top_p: true,
    one_hour_cache: true,
    structured_output: true,
    ..CLAUDE_THINKING
};
/// Opus 4.6: efforts up to `max` (no `xhigh`, which came with 4.7).
const CLAUDE_OPUS_4_6: Capabilities = Capabilities {
    reasoning: Reasoning::Adaptive(&["low", "medium", "high", "max"]),
    ..CLAUDE_4_5
};
/// Sonnet 4.6: `max` unconfirmed for it, so not sent.
const CLAUDE_SONNET_4_6: Capabilities = Capabilities {
    reasoning: Reasoning::Adaptive(&["low", "medium", "high"]),
    ..CLAUDE_4_5
};
/// Opus 4.7 and later Claude releases: adaptive only, every effort.
const CLAUDE_ADAPTIVE: Capabilities = Capabilities {
    reasoning: Reasoning::Adaptive(&["low", "medium", "high", "xhigh", "max"]),
    ..CLAUDE_4_5
};
const NOVA: Capabilities = Capabilities {
    prompt_caching: true,
    whitespace_stop_sequences: true,
    video: true,

    ..CLAUDE
};
const NOVA_TEXT: Capabilities = Capabilities {
    images: false,
    documents: false,
    video: false,
    ..NOVA
};
const TOOLS_NO_STREAM: Capabilities = Capabilities {
    forced_tool_choice: false,
    named_tool_choice: false,
    tool_streaming: false,
    images: false,
    whitespace_stop_sequences: true,

    ..CLAUDE
};
const MISTRAL_LARGE: Capabilities = Capabilities {
    forced_tool_choice: true,
    named_tool_choice: false,
    ..TOOLS_NO_STREAM
};
/// Command R+ streams tool use (AWS's model-features table); Command R does not.
const COMMAND_R_PLUS: Capabilities = Capabilities {
    tool_streaming: true,
    ..TOOLS_NO_STREAM
};
/// Mistral Voxtral: audio in (strands-agents/harness-sdk#3865 sends audio to it over Converse).
const VOXTRAL: Capabilities = Capabilities {
    audio: true,
    documents: false,
    ..TOOLS_NO_STREAM
};
/// AI21 Jurassic-2: Converse only, no system prompt or tools (AWS's model-features table).
const JURASSIC_2: Capabilities = Capabilities {
    streaming: false,
    documents: false,
    ..NO_SYSTEM_NO_TOOLS
};
const LLAMA_VISION: Capabilities = Capabilities {
    images: true,
    ..TOOLS_NO_STREAM
};
const NO_SYSTEM_NO_TOOLS: Capabilities = Capabilities {
    system_prompt: false,
    tools: false,
    forced_tool_choice: false,
    named_tool_choice: false,
    tool_streaming: false,
    images: false,
    whitespace_stop_sequences: true,

    ..CLAUDE
};
const DEEPSEEK_R1: Capabilities = Capabilities {
    tools: false,
    forced_tool_choice: false,
    named_tool_choice: false,
    tool_streaming: false,
    images: false,
    documents: false,
    reasoning: Reasoning::Always,
    whitespace_stop_sequences: true,

    ..CLAUDE
};
const GPT_OSS: Capabilities = Capabilities {
    named_tool_choice: false,
    images: false,
    documents: false,
    reasoning: Reasoning::Effort,
    whitespace_stop_sequences: true,

    ..CLAUDE
};
const EMBEDDING: Capabilities = Capabilities {
    system_prompt: false,
    tools: false,
    forced_tool_choice: false,
    named_tool_choice: false,
    tool_streaming: false,
    images: false,
    documents: false,
    embedding: true,
    whitespace_stop_sequences: true,

    ..CLAUDE
};

/// Base-model-id prefixes, most specific first; the first match wins. Embedding families come
/// first of all, as some share a chat family's prefix (`amazon.nova-2-multimodal-embeddings`
/// starts with `amazon.nova`). Where Bedrock's listing is readable, its `outputModalities`
/// decides embedding or not anyway (`catalog::Published`).
const TABLE: &[(&str, Capabilities)] = &[
    ("amazon.titan-embed", EMBEDDING),
    ("amazon.nova-2-multimodal-embeddings", EMBEDDING),
    ("cohere.embed", EMBEDDING),
    ("anthropic.claude-sonnet-4-5", CLAUDE_4_5),
    ("anthropic.claude-haiku-4-5", CLAUDE_4_5),
    ("anthropic.claude-opus-4-5", CLAUDE_4_5),
    ("anthropic.claude-opus-4-1", CLAUDE_THINKING),
    ("anthropic.claude-sonnet-4", CLAUDE_THINKING),
    ("anthropic.claude-opus-4", CLAUDE_THINKING),
    ("anthropic.claude-3-7-sonnet", CLAUDE_THINKING),
    ("anthropic.claude-3-5-haiku", CLAUDE_3_5_HAIKU),
    ("anthropic.claude", CLAUDE),
    ("amazon.nova-micro", NOVA_TEXT),
    ("amazon.nova", NOVA),
    ("amazon.titan-text", NO_SYSTEM_NO_TOOLS),
    ("meta.llama3-2-11b", LLAMA_VISION),
    ("meta.llama3-2-90b", LLAMA_VISION),
    ("meta.llama4", LLAMA_VISION),
    ("meta.llama", TOOLS_NO_STREAM),
    ("mistral.mistral-7b", NO_SYSTEM_NO_TOOLS),
    ("mistral.mixtral", NO_SYSTEM_NO_TOOLS),
    ("mistral.mistral-large", MISTRAL_LARGE),
    ("mistral.voxtral", VOXTRAL),
    ("mistral.", TOOLS_NO_STREAM),
    ("cohere.command-r-plus", COMMAND_R_PLUS),
    ("cohere.command", TOOLS_NO_STREAM),
    ("deepseek.r1", DEEPSEEK_R1),
    ("ai21.j2", JURASSIC_2),
    ("openai.gpt-oss", GPT_OSS),
];

/// Region-group prefixes of cross-region inference profiles.
const PROFILE_PREFIXES: &[&str] = &[
    "us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.",
];

/// The foundation model id behind a model id: strips an inference-profile prefix and the
/// `arn:...:foundation-model/` or `arn:...:inference-profile/` ARN forms.
pub fn base_model_id(model_id: &str) -> &str {
    let id = match model_id
        .rsplit_once(":foundation-model/")
        .or_else(|| model_id.rsplit_once(":inference-profile/"))
    {
        Some((_, rest)) if model_id.starts_with("arn:") => rest,
        _ => model_id,
    };
    PROFILE_PREFIXES
        .iter()
        .find_map(|p| id.strip_prefix(p))
        .unwrap_or(id)
}

/// The capabilities of a model id (foundation id, inference profile or ARN).
pub fn capabilities(model_id: &str) -> Capabilities {
    let base = base_model_id(model_id);
    match claude_version(base) {
        // Claude releases after the table was written think adaptively, like Opus 4.7.
        Some(version) if version >= (4, 7) => return CLAUDE_ADAPTIVE,
        Some((4, 6)) if base.starts_with("anthropic.claude-opus-") => return CLAUDE_OPUS_4_6,
        Some((4, 6)) => return CLAUDE_SONNET_4_6,
        // 4.5 is not the 4.0 row its prefix (`anthropic.claude-sonnet-4`) would match.
        Some(version) if version >= (4, 5) => return CLAUDE_4_5,
        _ => {}
    }
    TABLE
        .iter()
        .find(|(prefix, _)| base.starts_with(prefix))
        .map(|(_, caps)| *caps)
        .unwrap_or(PERMISSIVE)
}

/// `(major, minor)` of a Claude 4+ style id: `anthropic.claude-sonnet-4-5-20250929-v1:0` is
/// (4, 5); `anthropic.claude-sonnet-4-20250514-v1:0` is (4, 0) (a date is not a minor version).
fn claude_version(base: &str) -> Option<(u32, u32)> {
    let rest = [
        "anthropic.claude-sonnet-",
        "anthropic.claude-opus-",
        "anthropic.claude-haiku-",
    ]
    .iter()
    .find_map(|family| base.strip_prefix(family))?;
    let mut parts = rest.split('-');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()
        .filter(|p| p.len() <= 2)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The family table of docs/configuration.md, generated from the code.
    fn docs_table() -> String {
        let yes = |b: bool| if b { "yes" } else { "—" };
        let mut rows: Vec<(String, Capabilities)> = vec![
            ("Claude 4.7 and later (by version)".into(), CLAUDE_ADAPTIVE),
            ("Claude Opus 4.6".into(), CLAUDE_OPUS_4_6),
            ("Claude Sonnet 4.6".into(), CLAUDE_SONNET_4_6),
        ];
        rows.extend(
            TABLE
                .iter()
                .map(|(prefix, caps)| (format!("`{prefix}`"), *caps)),
        );
        rows.push(("anything else".into(), PERMISSIVE));
        let mut out = String::from(
            "| Model id prefix | system_prompt | tools | forced_tool_choice | named_tool_choice | tool_streaming | streaming | images | video | audio | documents | prompt_caching | tool_caching | one_hour_cache | temperature_xor_top_p | whitespace_stop_sequences | structured_output | reasoning |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for (name, c) in rows {
            let reasoning = match c.reasoning {
                Reasoning::None => "—".to_string(),
                Reasoning::Budget => "budget".to_string(),
                Reasoning::Always => "always".to_string(),
                Reasoning::Effort => "effort".to_string(),
                Reasoning::Adaptive(efforts) => format!("adaptive ({})", efforts.join(", ")),
            };
            let reasoning = if c.embedding {
                "embedding model".to_string()
            } else {
                reasoning
            };
            out.push_str(&format!(
                "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {reasoning} |\n",
                yes(c.system_prompt),
                yes(c.tools),
                yes(c.forced_tool_choice),
                yes(c.named_tool_choice),
                yes(c.tool_streaming),
                yes(c.streaming),
                yes(c.images),
                yes(c.video),
                yes(c.audio),
                yes(c.documents),
                yes(c.prompt_caching),
                yes(c.tool_caching),
                yes(c.one_hour_cache),
                yes(c.temperature_xor_top_p),
                yes(c.whitespace_stop_sequences),
                yes(c.structured_output),
            ));
        }
        out
    }

    #[test]
    fn docs_list_the_table_as_the_code_has_it() {
        let docs = include_str!("../docs/configuration.md");
        let table = docs_table();
        assert!(
            docs.contains(&table),
            "docs/configuration.md's capability table is stale; it should read:\n{table}"
        );
    }

    #[test]
    fn profiles_and_arns_resolve_to_the_base_model() {
        assert_eq!(
            base_model_id("us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
            "anthropic.claude-3-7-sonnet-20250219-v1:0"
        );
        assert_eq!(
            base_model_id("global.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        assert_eq!(
            base_model_id("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"),
            "amazon.nova-lite-v1:0"
        );
        assert_eq!(
            base_model_id(
                "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0"
            ),
            "amazon.nova-pro-v1:0"
        );
    }

    #[test]
    fn newer_claude_versions_get_the_newest_row() {
        assert_eq!(
            claude_version("anthropic.claude-sonnet-4-5-20250929-v1:0"),
            Some((4, 5))
        );
        assert_eq!(
            claude_version("anthropic.claude-sonnet-4-20250514-v1:0"),
            Some((4, 0))
        );
        assert_eq!(
            claude_version("anthropic.claude-3-7-sonnet-20250219-v1:0"),
            None
        );
        assert_eq!(
            capabilities("us.anthropic.claude-opus-4-6-v1"),
            CLAUDE_OPUS_4_6
        );
        assert_eq!(
            capabilities("global.anthropic.claude-sonnet-4-6"),
            CLAUDE_SONNET_4_6
        );
        assert_eq!(capabilities("anthropic.claude-opus-4-7"), CLAUDE_ADAPTIVE);
        assert_eq!(
            capabilities("anthropic.claude-sonnet-5-20270101-v1:0"),
            CLAUDE_ADAPTIVE
        );
        assert_eq!(
            capabilities("anthropic.claude-haiku-4-5-20251001-v1:0"),
            CLAUDE_4_5
        );
        assert_eq!(
            capabilities("anthropic.claude-sonnet-4-20250514-v1:0"),
            CLAUDE_THINKING
        );
    }

    #[test]
    fn families() {
        assert_eq!(
            capabilities("us.anthropic.claude-3-7-sonnet-20250219-v1:0").reasoning,
            Reasoning::Budget
        );
        assert!(capabilities("anthropic.claude-haiku-4-5-20251001-v1:0").temperature_xor_top_p);
        assert!(!capabilities("anthropic.claude-3-haiku-20240307-v1:0").prompt_caching);
        assert!(!capabilities("mistral.mistral-7b-instruct-v0:2").system_prompt);
        assert!(!capabilities("meta.llama3-3-70b-instruct-v1:0").tool_streaming);
        assert!(capabilities("cohere.command-r-plus-v1:0").tool_streaming);
        assert!(!capabilities("cohere.command-r-v1:0").tool_streaming);
        assert!(!capabilities("meta.llama3-3-70b-instruct-v1:0").forced_tool_choice);
        assert!(capabilities("mistral.mistral-large-2407-v1:0").forced_tool_choice);
        assert!(!capabilities("mistral.mistral-large-2407-v1:0").named_tool_choice);
        assert!(capabilities("amazon.nova-lite-v1:0").named_tool_choice);
        assert!(!capabilities("amazon.nova-micro-v1:0").images);
        assert!(!capabilities("us.anthropic.claude-3-5-haiku-20241022-v1:0").images);
        assert!(capabilities("anthropic.claude-3-haiku-20240307-v1:0").images);
        assert_eq!(
            capabilities("us.deepseek.r1-v1:0").reasoning,
            Reasoning::Always
        );
        assert!(capabilities("cohere.embed-english-v3").embedding);
        for embedding in [
            "amazon.nova-2-multimodal-embeddings-v1:0",
            "us.amazon.nova-2-multimodal-embeddings-v1:0",
            "amazon.titan-embed-text-v2:0",
            "cohere.embed-v4:0",
            "global.cohere.embed-v4:0",
        ] {
            assert!(capabilities(embedding).embedding, "{embedding}");
        }
        assert!(!capabilities("amazon.nova-lite-v1:0").embedding);
        assert_eq!(
            capabilities("arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/x"),
            PERMISSIVE
        );
    }
}
