//! The model catalogue: which model ids exist, what each model can do, and how
//! a request's `modelId` (bare id, inference profile, ARN) resolves to a row.
//!
//! One table decides every capability check in the emulator, so adding a
//! model is adding a row. Rows carry a kind (chat or embedding) so that
//! embedding endpoints and model listing can grow from the same table.
//!
//! Longer than the usual ~450 lines because each family's capabilities carry
//! their evidence (AWS pages, botocore, public reports) next to them; the
//! family constants could move to their own module if it grows further.

use crate::error::ApiError;

/// How a chat model produces reasoning content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningKind {
    /// No reasoning output.
    None,
    /// Anthropic-style extended thinking, switched on per request with
    /// `additionalModelRequestFields.thinking` and signed.
    BudgetThinking,
    /// Always reasons before answering; reasoning text carries no signature.
    AlwaysReasons,
    /// Claude Opus 4.6 and Sonnet 4.6: `thinking.type` `adaptive` (effort-controlled, with
    /// `output_config.effort`) or the deprecated `enabled` with a budget, or `disabled`.
    /// Evidence: https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html
    AdaptiveOrBudget,
    /// Claude Opus 4.7: `adaptive` only; `enabled` (and `disabled`) are a 400. Evidence: the
    /// same AWS page ("Claude Opus 4.7 ... only support adaptive thinking. Manual extended
    /// thinking ... and disabled thinking ... will return a 400 error") and
    /// NousResearch/hermes-agent#11137, which quotes the error.
    AdaptiveOnly,
}

impl ReasoningKind {
    /// Anthropic thinking, signed, switched on per request (any of the three forms).
    pub fn is_signed_thinking(self) -> bool {
        matches!(
            self,
            ReasoningKind::BudgetThinking
                | ReasoningKind::AdaptiveOrBudget
                | ReasoningKind::AdaptiveOnly
        )
    }
}

/// What a chat model accepts through Converse and ConverseStream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatCapabilities {
    pub system_prompt: bool,
    pub tools: bool,
    /// Tool definitions are accepted by ConverseStream, not only Converse.
    pub tool_streaming: bool,
    /// `toolChoice` may be `any` (forcing a call), not only `auto`.
    pub forced_tool_choice: bool,
    /// `toolChoice` may also be `tool` (forcing one named tool). botocore's `ToolChoice.tool`
    /// doc and API_runtime_ToolChoice: "This field is only supported by Anthropic Claude 3 and
    /// Amazon Nova models." So Mistral Large and gpt-oss take `any` only (gpt-oss by that
    /// sentence; no public report of its own).
    pub named_tool_choice: bool,
    /// `toolResult.status` is accepted.
    pub tool_result_status: bool,
    pub images: bool,
    pub documents: bool,
    /// `video` content blocks (botocore `VideoBlock`). Nova Lite, Pro and Premier: AWS's Nova
    /// user guide ("Video understanding", modalities-video.html) and a real ListFoundationModels
    /// answer listing `VIDEO` among their `inputModalities`; Nova Micro takes text only.
    pub video: bool,
    /// `audio` content blocks (botocore `AudioBlock`). Only Mistral's Voxtral models take audio
    /// through Converse: strands-agents/harness-sdk#3865 sends an MP3 to Voxtral Small over
    /// Converse in a live test, and #3490 found that Nova Lite/Pro/2 Lite list audio as an
    /// unsupported input. Voxtral's listing says `SPEECH` (a public model table of Bedrock's
    /// Mistral models: "mistral.voxtral-small-24b-2507 | SPEECH/TEXT").
    pub audio: bool,
    /// Answers with `citationsContent` when a document has `citations.enabled` (botocore
    /// `DocumentBlock.citations`, `CitationsContentBlock`). AWS's Converse page documents
    /// citations for Anthropic Claude models; which other models cite is unconfirmed, so only
    /// Claude rows cite here.
    pub citations: bool,
    pub reasoning: ReasoningKind,
    /// `cachePoint` blocks are accepted (in `system` and `messages`).
    pub prompt_caching: bool,
    /// `cachePoint` blocks are also accepted in `toolConfig.tools`. Claude
    /// caches tool definitions this way; Nova caches only `system` and
    /// `messages` and refuses the key in a tool entry.
    pub tool_caching: bool,
    /// Setting both `temperature` and `topP` is refused.
    pub rejects_temperature_with_top_p: bool,
    /// `outputConfig.textFormat` (native structured output) is accepted.
    pub structured_output: bool,
    pub streaming: bool,
    pub max_output_tokens: u32,
    /// The provider's own limit on `inferenceConfig.stopSequences`, when it
    /// is below the 2500 that Converse itself allows. `None` for Anthropic,
    /// whose 8191 is above it.
    pub max_stop_sequences: Option<usize>,
    /// Keys the provider accepts in `additionalModelRequestFields`.
    pub request_field_keys: &'static [&'static str],
    /// Values `additionalModelRequestFields.output_config.effort` may take (empty: no effort).
    pub efforts: &'static [&'static str],
    /// Reasoning blocks sent back in the history are refused (DeepSeek R1).
    pub refuses_reasoning_history: bool,
    /// A conversation ending with an assistant turn (a prefill) is refused: Claude Opus 4.6,
    /// Sonnet 4.6 and later ("This model does not support assistant message prefill. The
    /// conversation must end with a user message.": Skyvern-AI/skyvern#4795, which names
    /// Bedrock too; langchain-ai/deepagents#1585; anomalyco/opencode#13768).
    pub rejects_prefill: bool,
    /// Serves the `priority` and `flex` service tiers (`serviceTier.type`); every model serves
    /// `default`. See `validate::service_tier` for the evidence and what is unverified.
    pub flex_and_priority_tiers: bool,
    /// Takes `cachePoint.ttl` `1h`. AWS's prompt-caching page
    /// (https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html, seen in its
    /// ko_kr copy) gives the extended one-hour TTL to Claude Opus 4.5, Haiku 4.5 and Sonnet 4.5;
    /// anomalyco/opencode#23106 used it on Sonnet/Opus 4.6 too.
    pub one_hour_cache: bool,
    /// Tokens a cache checkpoint must cover, counted from the previous checkpoint that cached:
    /// below it Bedrock still answers but caches nothing (same AWS page: "If you add a cache
    /// checkpoint before the minimum ... inference still succeeds but the prefix is not cached";
    /// its example: Claude 3.7 Sonnet, 1,024 tokens, a second checkpoint after 2,048).
    pub min_cache_tokens: u64,
}

/// What kind of model a row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Chat(ChatCapabilities),
    Embedding,
    /// An image generation model, invoked through InvokeModel (`crate::images`).
    Image,
}

/// One foundation model Bedrock offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundationModel {
    pub id: &'static str,
    pub provider: &'static str,
    pub name: &'static str,
    pub kind: ModelKind,
    /// Invocable by its bare id (on-demand throughput). When false, only an
    /// inference profile reaches it.
    pub on_demand: bool,
    /// Prefixes of the system-defined inference profiles that contain the
    /// model (`us`, `eu`, `apac`, `global`).
    pub profile_prefixes: &'static [&'static str],
}

const ANTHROPIC_KEYS: &[&str] = &["top_k", "anthropic_beta"];
const ANTHROPIC_THINKING_KEYS: &[&str] = &["top_k", "anthropic_beta", "thinking"];
const NOVA_KEYS: &[&str] = &["inferenceConfig"];
const NO_KEYS: &[&str] = &[];
const TOP_K_KEYS: &[&str] = &["top_k"];
const GPT_OSS_KEYS: &[&str] = &["reasoning_effort"];
const COHERE_KEYS: &[&str] = &["k"];

const CLAUDE_3: ChatCapabilities = ChatCapabilities {
    system_prompt: true,
    tools: true,
    tool_streaming: true,
    forced_tool_choice: true,
    named_tool_choice: true,
    tool_result_status: true,
    images: true,
    documents: true,
    video: false,
    audio: false,
    citations: true,
    reasoning: ReasoningKind::None,
    prompt_caching: false,
    tool_caching: false,
    rejects_temperature_with_top_p: false,
    structured_output: false,
    streaming: true,
    max_output_tokens: 4096,
    max_stop_sequences: None,
    request_field_keys: ANTHROPIC_KEYS,
    efforts: &[],
    refuses_reasoning_history: false,
    rejects_prefill: false,
    flex_and_priority_tiers: false,
    one_hour_cache: false,
    // Claude 3.x and 4 Sonnet/Opus: 1,024 (AWS prompt-caching page). Nova's page gives 1K;
    // the Llama-derived rows never cache, so their value is never read.
    min_cache_tokens: 1024,
};

/// No image input: AWS's "Supported models and model features" table gives Claude 3.5 Haiku
/// no vision on Bedrock (https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-supported-models-features.html;
/// seen in its ja_jp and ko_kr copies).
const CLAUDE_3_5_HAIKU: ChatCapabilities = ChatCapabilities {
    images: false,
    prompt_caching: true,
    tool_caching: true,
    max_output_tokens: 8192,
    // AWS prompt-caching page: 2,048 tokens for Claude 3.5 Haiku.
    min_cache_tokens: 2048,
    ..CLAUDE_3
};

const CLAUDE_THINKING: ChatCapabilities = ChatCapabilities {
    reasoning: ReasoningKind::BudgetThinking,
    prompt_caching: true,
    tool_caching: true,
    max_output_tokens: 64000,
    request_field_keys: ANTHROPIC_THINKING_KEYS,
    ..CLAUDE_3
};

const CLAUDE_4_5: ChatCapabilities = ChatCapabilities {
    rejects_temperature_with_top_p: true,
    structured_output: true,
    one_hour_cache: true,
    ..CLAUDE_THINKING
};

/// Claude Haiku 4.5 caches from 4,096 tokens (AWS prompt-caching page; the audit in
/// /work/shared/notes/bedrock-fidelity-audit.md item 10).
const CLAUDE_HAIKU_4_5: ChatCapabilities = ChatCapabilities {
    min_cache_tokens: 4096,
    ..CLAUDE_4_5
};

const ANTHROPIC_ADAPTIVE_KEYS: &[&str] = &["top_k", "anthropic_beta", "thinking", "output_config"];

/// Claude Opus 4.6: adaptive thinking with effort `low`..`max`; Anthropic's effort page lists
/// `max` for Opus 4.6 (https://platform.claude.com/docs/en/build-with-claude/effort); `xhigh`
/// is newer than 4.6 (hermes-agent#11137: "exclusive to opus 4-7").
const CLAUDE_OPUS_4_6: ChatCapabilities = ChatCapabilities {
    reasoning: ReasoningKind::AdaptiveOrBudget,
    max_output_tokens: 128000,
    request_field_keys: ANTHROPIC_ADAPTIVE_KEYS,
    efforts: &["low", "medium", "high", "max"],
    rejects_prefill: true,
    ..CLAUDE_4_5
};

/// Claude Sonnet 4.6: like Opus 4.6; whether it takes effort `max` is not confirmed by a public
/// source (the effort page's older copies say `max` is Opus-only), so the emulator refuses it.
const CLAUDE_SONNET_4_6: ChatCapabilities = ChatCapabilities {
    max_output_tokens: 64000,
    efforts: &["low", "medium", "high"],
    ..CLAUDE_OPUS_4_6
};

/// Claude Opus 4.7: adaptive only, effort `low`..`max` including `xhigh` (hermes-agent#11137).
const CLAUDE_OPUS_4_7: ChatCapabilities = ChatCapabilities {
    reasoning: ReasoningKind::AdaptiveOnly,
    efforts: &["low", "medium", "high", "xhigh", "max"],
    ..CLAUDE_OPUS_4_6
};

const NOVA_MICRO: ChatCapabilities = ChatCapabilities {
    system_prompt: true,
    tools: true,
    tool_streaming: true,
    forced_tool_choice: true,
    named_tool_choice: true,
    tool_result_status: true,
    images: false,
    documents: false,
    video: false,
    audio: false,
    citations: false,
    reasoning: ReasoningKind::None,
    prompt_caching: true,
    tool_caching: false,
    rejects_temperature_with_top_p: false,
    structured_output: false,
    streaming: true,
    max_output_tokens: 10000,
    // Nova documents no limit; the emulator assumes the common 4.
    max_stop_sequences: Some(4),
    request_field_keys: NOVA_KEYS,
    efforts: &[],
    refuses_reasoning_history: false,
    rejects_prefill: false,
    flex_and_priority_tiers: false,
    one_hour_cache: false,
    // Claude 3.x and 4 Sonnet/Opus: 1,024 (AWS prompt-caching page). Nova's page gives 1K;
    // the Llama-derived rows never cache, so their value is never read.
    min_cache_tokens: 1024,
};

const NOVA_MULTIMODAL: ChatCapabilities = ChatCapabilities {
    images: true,
    documents: true,
    video: true,
    ..NOVA_MICRO
};

const LLAMA_3: ChatCapabilities = ChatCapabilities {
    system_prompt: true,
    tools: true,
    tool_streaming: false,
    forced_tool_choice: false,
    named_tool_choice: false,
    tool_result_status: false,
    images: false,
    // Llama 3.x, Mistral 7B and Command R+ take documents (AWS "Supported models and model
    // features" table, conversation-inference-supported-models-features.html).
    documents: true,
    video: false,
    audio: false,
    citations: false,
    reasoning: ReasoningKind::None,
    prompt_caching: false,
    tool_caching: false,
    rejects_temperature_with_top_p: false,
    structured_output: false,
    streaming: true,
    max_output_tokens: 8192,
    // Meta documents no limit; the emulator assumes the common 4.
    max_stop_sequences: Some(4),
    request_field_keys: NO_KEYS,
    efforts: &[],
    refuses_reasoning_history: false,
    rejects_prefill: false,
    flex_and_priority_tiers: false,
    one_hour_cache: false,
    // Claude 3.x and 4 Sonnet/Opus: 1,024 (AWS prompt-caching page). Nova's page gives 1K;
    // the Llama-derived rows never cache, so their value is never read.
    min_cache_tokens: 1024,
};

const MISTRAL_LARGE: ChatCapabilities = ChatCapabilities {
    forced_tool_choice: true,
    documents: true,
    max_stop_sequences: Some(10),
    request_field_keys: TOP_K_KEYS,
    ..LLAMA_3
};

const MISTRAL_7B: ChatCapabilities = ChatCapabilities {
    system_prompt: false,
    tools: false,
    forced_tool_choice: false,
    max_stop_sequences: Some(10),
    request_field_keys: TOP_K_KEYS,
    ..LLAMA_3
};

const DEEPSEEK_R1: ChatCapabilities = ChatCapabilities {
    documents: false,
    // langchain-ai/langchain-aws#401, aws-samples/bedrock-chat#845.
    refuses_reasoning_history: true,
    tools: false,
    reasoning: ReasoningKind::AlwaysReasons,
    max_output_tokens: 32768,
    max_stop_sequences: Some(10),
    ..LLAMA_3
};

const GPT_OSS: ChatCapabilities = ChatCapabilities {
    documents: false,
    tool_streaming: true,
    forced_tool_choice: true,
    reasoning: ReasoningKind::AlwaysReasons,
    // OpenAI's chat format allows up to 4 `stop` strings.
    max_stop_sequences: Some(4),
    request_field_keys: GPT_OSS_KEYS,
    // Priority and Flex on gpt-oss: build-on-aws/swift-bedrock-library#61 calls
    // openai.gpt-oss-20b with `serviceTier` priority, and a re:Post answer
    // (repost.aws QUBuhKumN7Qsm6Whi0HaeJuw) names the gpt-oss models as supporting both.
    flex_and_priority_tiers: true,
    ..LLAMA_3
};

/// Command R+ streams tool use (same AWS features table).
const COMMAND_R_PLUS: ChatCapabilities = ChatCapabilities {
    tool_streaming: true,
    max_output_tokens: 4096,
    max_stop_sequences: Some(5),
    request_field_keys: COHERE_KEYS,
    ..LLAMA_3
};

/// Mistral Voxtral: text and audio in, text out, tool use (strands-agents/harness-sdk#3865 runs
/// it over Converse). Documents, tool streaming and a stop-sequence limit are unconfirmed; the
/// row keeps Mistral's other values.
const VOXTRAL: ChatCapabilities = ChatCapabilities {
    audio: true,
    documents: false,
    max_stop_sequences: Some(10),
    request_field_keys: TOP_K_KEYS,
    ..LLAMA_3
};

/// AI21 Jurassic-2: Converse only, never ConverseStream. AWS's "Supported models and model
/// features" table gives "AI21 Labs Jurassic-2 (Text)" Converse "Limited. No chat support." and
/// ConverseStream "No", and no system prompt, documents, vision or tools; ListFoundationModels
/// says `responseStreamingSupported: false` for it. Bedrock's streaming refusal is quoted in
/// `engine.rs`. Its "no chat support" (multi-turn refused?) is not emulated: the refusal's
/// wording is unknown.
const JURASSIC_2: ChatCapabilities = ChatCapabilities {
    system_prompt: false,
    tools: false,
    documents: false,
    streaming: false,
    max_stop_sequences: Some(10),
    ..LLAMA_3
};

const GEO: &[&str] = &["us", "eu", "apac"];
const GEO_AND_GLOBAL: &[&str] = &["us", "eu", "apac", "global"];
const US_ONLY: &[&str] = &["us"];
/// Cohere Embed v4's profiles, as users report calling them (paperless-iq#21, req_llm#748);
/// whether an `apac.` profile exists is unconfirmed.
const US_EU_GLOBAL: &[&str] = &["us", "eu", "global"];
const NO_PROFILES: &[&str] = &[];

const fn chat(
    id: &'static str,
    provider: &'static str,
    name: &'static str,
    capabilities: ChatCapabilities,
    profile_prefixes: &'static [&'static str],
) -> FoundationModel {
    FoundationModel {
        id,
        provider,
        name,
        kind: ModelKind::Chat(capabilities),
        on_demand: true,
        profile_prefixes,
    }
}

const fn embedding(
    id: &'static str,
    provider: &'static str,
    name: &'static str,
) -> FoundationModel {
    FoundationModel {
        id,
        provider,
        name,
        kind: ModelKind::Embedding,
        on_demand: true,
        profile_prefixes: NO_PROFILES,
    }
}

const fn image(id: &'static str, provider: &'static str, name: &'static str) -> FoundationModel {
    FoundationModel {
        id,
        provider,
        name,
        kind: ModelKind::Image,
        on_demand: true,
        profile_prefixes: NO_PROFILES,
    }
}

/// A model Bedrock serves only through inference profiles (ListFoundationModels'
/// `inferenceTypesSupported` is `["INFERENCE_PROFILE"]`): its bare id is refused with "Invocation
/// of model ID ... with on-demand throughput isn't supported. Retry your request with the ID or
/// ARN of an inference profile that contains this model." Evidence: cline/cline#1952 (Claude
/// 3.7 Sonnet), strands-agents/samples#145 (Claude Sonnet 4), knows-cloud/paperless-iq#21 and
/// agentjido/req_llm#748 (Cohere Embed v4), and a real ListFoundationModels answer that marks
/// Claude 3.5 Haiku, 3.7 Sonnet, Sonnet 4, Sonnet 4.5 and Haiku 4.5 INFERENCE_PROFILE only.
const fn profile_only(model: FoundationModel) -> FoundationModel {
    FoundationModel {
        on_demand: false,
        ..model
    }
}

/// Every foundation model the emulator knows, with real Bedrock ids.
pub static MODELS: &[FoundationModel] = &[
    chat(
        "anthropic.claude-3-haiku-20240307-v1:0",
        "Anthropic",
        "Claude 3 Haiku",
        CLAUDE_3,
        GEO,
    ),
    profile_only(chat(
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "Anthropic",
        "Claude 3.5 Haiku",
        CLAUDE_3_5_HAIKU,
        GEO,
    )),
    profile_only(chat(
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "Anthropic",
        "Claude 3.7 Sonnet",
        CLAUDE_THINKING,
        GEO,
    )),
    profile_only(chat(
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "Anthropic",
        "Claude Sonnet 4",
        CLAUDE_THINKING,
        GEO_AND_GLOBAL,
    )),
    profile_only(chat(
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "Anthropic",
        "Claude Sonnet 4.5",
        CLAUDE_4_5,
        GEO_AND_GLOBAL,
    )),
    profile_only(chat(
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "Anthropic",
        "Claude Haiku 4.5",
        CLAUDE_HAIKU_4_5,
        GEO_AND_GLOBAL,
    )),
    // Model ids from the AWS adaptive-thinking page; profile-only like the other current
    // Claude models. Which geography profiles exist for them is assumed, not confirmed.
    profile_only(chat(
        "anthropic.claude-opus-4-6-v1",
        "Anthropic",
        "Claude Opus 4.6",
        CLAUDE_OPUS_4_6,
        GEO_AND_GLOBAL,
    )),
    profile_only(chat(
        "anthropic.claude-sonnet-4-6",
        "Anthropic",
        "Claude Sonnet 4.6",
        CLAUDE_SONNET_4_6,
        GEO_AND_GLOBAL,
    )),
    profile_only(chat(
        "anthropic.claude-opus-4-7",
        "Anthropic",
        "Claude Opus 4.7",
        CLAUDE_OPUS_4_7,
        GEO_AND_GLOBAL,
    )),
    chat(
        "amazon.nova-micro-v1:0",
        "Amazon",
        "Nova Micro",
        NOVA_MICRO,
        GEO,
    ),
    chat(
        "amazon.nova-lite-v1:0",
        "Amazon",
        "Nova Lite",
        NOVA_MULTIMODAL,
        GEO,
    ),
    chat(
        "amazon.nova-pro-v1:0",
        "Amazon",
        "Nova Pro",
        NOVA_MULTIMODAL,
        GEO,
    ),
    chat(
        "meta.llama3-1-8b-instruct-v1:0",
        "Meta",
        "Llama 3.1 8B Instruct",
        LLAMA_3,
        NO_PROFILES,
    ),
    chat(
        "meta.llama3-3-70b-instruct-v1:0",
        "Meta",
        "Llama 3.3 70B Instruct",
        LLAMA_3,
        NO_PROFILES,
    ),
    chat(
        "mistral.mistral-large-2407-v1:0",
        "Mistral AI",
        "Mistral Large (24.07)",
        MISTRAL_LARGE,
        NO_PROFILES,
    ),
    chat(
        "mistral.mistral-7b-instruct-v0:2",
        "Mistral AI",
        "Mistral 7B Instruct",
        MISTRAL_7B,
        NO_PROFILES,
    ),
    profile_only(chat(
        "deepseek.r1-v1:0",
        "DeepSeek",
        "DeepSeek-R1",
        DEEPSEEK_R1,
        US_ONLY,
    )),
    chat(
        "openai.gpt-oss-120b-1:0",
        "OpenAI",
        "gpt-oss-120b",
        GPT_OSS,
        NO_PROFILES,
    ),
    chat(
        "openai.gpt-oss-20b-1:0",
        "OpenAI",
        "gpt-oss-20b",
        GPT_OSS,
        NO_PROFILES,
    ),
    chat(
        "mistral.voxtral-small-24b-2507",
        "Mistral AI",
        "Voxtral Small 24B 2507",
        VOXTRAL,
        NO_PROFILES,
    ),
    chat(
        "ai21.j2-mid-v1",
        "AI21 Labs",
        "Jurassic-2 Mid",
        JURASSIC_2,
        NO_PROFILES,
    ),
    chat(
        "cohere.command-r-plus-v1:0",
        "Cohere",
        "Command R+",
        COMMAND_R_PLUS,
        NO_PROFILES,
    ),
    embedding(
        "amazon.titan-embed-text-v1",
        "Amazon",
        "Titan Embeddings G1 - Text",
    ),
    embedding(
        "amazon.titan-embed-text-v2:0",
        "Amazon",
        "Titan Text Embeddings V2",
    ),
    embedding("cohere.embed-english-v3", "Cohere", "Embed English"),
    embedding(
        "cohere.embed-multilingual-v3",
        "Cohere",
        "Embed Multilingual",
    ),
    profile_only(FoundationModel {
        profile_prefixes: US_EU_GLOBAL,
        ..embedding("cohere.embed-v4:0", "Cohere", "Embed v4")
    }),
    embedding(
        "amazon.nova-2-multimodal-embeddings-v1:0",
        "Amazon",
        "Nova Multimodal Embeddings",
    ),
    image("amazon.nova-canvas-v1:0", "Amazon", "Nova Canvas"),
    image(
        "amazon.titan-image-generator-v2:0",
        "Amazon",
        "Titan Image Generator G1 v2",
    ),
    // Stability AI's text-to-image models whose InvokeModel body AWS documents (the pages are
    // cited in `images/stability.rs`). The `v1:1` ids are from sebsto/swift-bedrock-library
    // 1.12.0's release notes, which also say all three are served in us-west-2 (AWS's code
    // examples call them there); the emulator has one region and lists them on demand: whether
    // Bedrock offers them elsewhere, or through inference profiles, is unconfirmed. The display
    // names are the emulator's own.
    image(
        "stability.stable-image-core-v1:1",
        "Stability AI",
        "Stable Image Core 1.1",
    ),
    image(
        "stability.stable-image-ultra-v1:1",
        "Stability AI",
        "Stable Image Ultra 1.1",
    ),
    image(
        "stability.sd3-5-large-v1:0",
        "Stability AI",
        "Stable Diffusion 3.5 Large",
    ),
];

/// The application inference profile the emulator pretends the account owns.
pub const APPLICATION_PROFILE_ARN: &str =
    "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/emu-app-profile";
/// The default prompt router the emulator pretends the account can use.
pub const PROMPT_ROUTER_ARN: &str =
    "arn:aws:bedrock:us-east-1:111122223333:default-prompt-router/anthropic.claude:1";
/// The model both of the above answer with.
const ROUTED_MODEL_ID: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

const INVALID_MODEL: &str = "The provided model identifier is invalid.";
const NOT_A_CHAT_MODEL: &str = "This action doesn't support the model that you provided. Try again with a supported text or chat model.";

/// A request's `modelId` resolved to the model that will answer it.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    pub model: &'static FoundationModel,
    pub capabilities: ChatCapabilities,
    /// Set when a prompt router chose the model: the ARN reported in
    /// `trace.promptRouter.invokedModelId`.
    pub routed_to: Option<String>,
    /// The id is a Prompt management prompt ARN (only these accept
    /// `promptVariables`).
    pub is_prompt_resource: bool,
}

impl ResolvedModel {
    /// Claude models: the request also passes Anthropic's own validator,
    /// whose refusals Bedrock relays with `The model returned the following
    /// errors:`.
    pub fn is_anthropic(&self) -> bool {
        self.model.provider == "Anthropic"
    }
}

/// Finds a foundation model by its bare id.
pub fn lookup(id: &str) -> Option<&'static FoundationModel> {
    MODELS.iter().find(|model| model.id == id)
}

/// Resolves the `modelId` of a Converse or ConverseStream request, with the
/// errors Bedrock gives for ids it cannot run there.
pub fn resolve_chat_model(model_id: &str) -> Result<ResolvedModel, ApiError> {
    if model_id == APPLICATION_PROFILE_ARN {
        return routed(false, None);
    }
    if model_id == PROMPT_ROUTER_ARN {
        // botocore `InvokedModelId` takes a foundation-model ARN or an inference-profile ARN
        // (`arn:aws:bedrock:REGION:ACCOUNT:inference-profile/ID`). The routed model, Claude 3.5
        // Haiku, is profile-only on Bedrock, so the router reaches it through its `us.` profile
        // and names that profile. Which form real routers report is unconfirmed; clients must
        // handle both, and this one is the form the gateway did not handle.
        let invoked = format!(
            "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.{ROUTED_MODEL_ID}"
        );
        return routed(false, Some(invoked));
    }
    if let Some(resource) = model_id.strip_prefix("arn:") {
        return resolve_arn(resource);
    }
    resolve_id(model_id)
}

fn routed(is_prompt_resource: bool, routed_to: Option<String>) -> Result<ResolvedModel, ApiError> {
    let model = lookup(ROUTED_MODEL_ID).ok_or_else(|| ApiError::validation(INVALID_MODEL))?;
    let ModelKind::Chat(capabilities) = model.kind else {
        return Err(ApiError::validation(INVALID_MODEL));
    };
    Ok(ResolvedModel {
        model,
        capabilities,
        routed_to,
        is_prompt_resource,
    })
}

/// `arn:aws:bedrock:REGION:ACCOUNT:TYPE/ID` without the leading `arn:`.
fn resolve_arn(resource: &str) -> Result<ResolvedModel, ApiError> {
    let parts: Vec<&str> = resource.splitn(5, ':').collect();
    let [partition, service, region, account, rest] = parts.as_slice() else {
        return Err(ApiError::validation(INVALID_MODEL));
    };
    if !partition.starts_with("aws") || *service != "bedrock" || region.is_empty() {
        return Err(ApiError::validation(INVALID_MODEL));
    }
    let Some((resource_type, resource_id)) = rest.split_once('/') else {
        return Err(ApiError::validation(INVALID_MODEL));
    };
    match resource_type {
        "foundation-model" if account.is_empty() => resolve_id(resource_id),
        "inference-profile" if is_account_id(account) && has_profile_prefix(resource_id) => {
            resolve_id(resource_id)
        }
        "prompt" if is_account_id(account) && is_prompt_id(resource_id) => routed(true, None),
        _ => Err(ApiError::validation(INVALID_MODEL)),
    }
}

fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

fn has_profile_prefix(id: &str) -> bool {
    id.split_once('.')
        .is_some_and(|(prefix, _)| matches!(prefix, "us" | "eu" | "apac" | "global"))
}

/// `PROMPT_ID` or `PROMPT_ID:VERSION`, as Prompt management issues them.
fn is_prompt_id(id: &str) -> bool {
    let (name, version) = id.split_once(':').unwrap_or((id, "1"));
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric())
        && !version.is_empty()
        && version.bytes().all(|b| b.is_ascii_digit())
}

/// Bedrock's answer to the bare id of a profile-only model (see [`profile_only`]).
pub fn on_demand_refusal(model_id: &str) -> ApiError {
    ApiError::validation(format!(
        "Invocation of model ID {model_id} with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model."
    ))
}

/// A bare foundation-model id or a system inference profile id.
fn resolve_id(id: &str) -> Result<ResolvedModel, ApiError> {
    let (profile_prefix, base_id) = match id.split_once('.') {
        Some((prefix, rest)) if matches!(prefix, "us" | "eu" | "apac" | "global") => {
            (Some(prefix), rest)
        }
        _ => (None, id),
    };
    let model = lookup(base_id).ok_or_else(|| ApiError::validation(INVALID_MODEL))?;
    if let Some(prefix) = profile_prefix
        && !model.profile_prefixes.contains(&prefix)
    {
        return Err(ApiError::validation(INVALID_MODEL));
    }
    let ModelKind::Chat(capabilities) = model.kind else {
        return Err(ApiError::validation(NOT_A_CHAT_MODEL));
    };
    if profile_prefix.is_none() && !model.on_demand {
        return Err(on_demand_refusal(model.id));
    }
    Ok(ResolvedModel {
        model,
        capabilities,
        routed_to: None,
        is_prompt_resource: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_is_unique() {
        for (i, model) in MODELS.iter().enumerate() {
            assert!(
                MODELS[i + 1..].iter().all(|other| other.id != model.id),
                "{} listed twice",
                model.id
            );
        }
    }

    #[test]
    fn resolves_profiles_and_arns() {
        let resolved = resolve_chat_model("us.anthropic.claude-3-7-sonnet-20250219-v1:0").unwrap();
        assert_eq!(
            resolved.model.id,
            "anthropic.claude-3-7-sonnet-20250219-v1:0"
        );
        assert!(resolve_chat_model("global.anthropic.claude-sonnet-4-20250514-v1:0").is_ok());
        assert!(resolve_chat_model("global.anthropic.claude-3-7-sonnet-20250219-v1:0").is_err());
        assert!(resolve_chat_model("eu.amazon.nova-pro-v1:0").is_ok());
        assert!(
            resolve_chat_model("arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-lite-v1:0")
                .is_ok()
        );
        assert!(
            resolve_chat_model(
                "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.deepseek.r1-v1:0"
            )
            .is_ok()
        );
        assert!(
            resolve_chat_model("arn:aws:bedrock:us-east-1:111122223333:prompt/PROMPT12345:2")
                .unwrap()
                .is_prompt_resource
        );
    }

    #[test]
    fn prompt_router_reports_the_invoked_model() {
        let resolved = resolve_chat_model(PROMPT_ROUTER_ARN).unwrap();
        assert_eq!(resolved.model.id, ROUTED_MODEL_ID);
        assert_eq!(
            resolved.routed_to.as_deref(),
            Some(
                "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
            )
        );
    }

    #[test]
    fn refuses_what_bedrock_refuses() {
        let message = |id: &str| resolve_chat_model(id).unwrap_err().message;
        assert_eq!(message("nope.model-v1"), INVALID_MODEL);
        assert_eq!(message("amazon.titan-embed-text-v2:0"), NOT_A_CHAT_MODEL);
        assert!(message("deepseek.r1-v1:0").starts_with("Invocation of model ID deepseek.r1-v1:0"));
        assert!(resolve_chat_model("us.deepseek.r1-v1:0").is_ok());
        for profile_only in [
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
            "anthropic.claude-sonnet-4-20250514-v1:0",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0",
        ] {
            assert!(
                message(profile_only).ends_with("Retry your request with the ID or ARN of an inference profile that contains this model."),
                "{profile_only}"
            );
        }
        assert!(resolve_chat_model("anthropic.claude-3-haiku-20240307-v1:0").is_ok());
        assert_eq!(message("eu.deepseek.r1-v1:0"), INVALID_MODEL);
        assert_eq!(
            message("arn:aws:bedrock:us-east-1:1:prompt/x"),
            INVALID_MODEL
        );
    }
}
