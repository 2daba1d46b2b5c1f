//! Configuration from the environment, checked once at start.
//!
//! Bad configuration stops the process with one clear line rather than surfacing as errors on
//! the first requests. The AWS SDK reads its own variables (`AWS_REGION`, credentials,
//! `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, `AWS_ENDPOINT_URL_BEDROCK`, `AWS_ENDPOINT_URL_SSM`,
//! `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_MAX_ATTEMPTS`...); they are not repeated here.
//!
//! Longer than ~450 lines only because its unit tests live beside the code.

use std::collections::HashMap;
use std::time::Duration;

mod chat_ui;
pub use chat_ui::{ChatUiSettings, DEFAULT_OPENAI_MODEL_PREFIXES};

/// Default model for OpenAI model names (`OPENAI_MODEL_PREFIXES`) when `DEFAULT_MODEL` is not set: Claude Haiku 4.5, current,
/// offered in every geography's inference profiles, and able to do tools (streamed), images,
/// documents, prompt caching and thinking. A bare id, so that it runs through the inference
/// profile of the deployment's own geography (`profile_routing`).
pub const FALLBACK_DEFAULT_MODEL: &str = "anthropic.claude-haiku-4-5-20251001-v1:0";
/// Default model for `text-embedding-*` names when `DEFAULT_EMBEDDING_MODEL` is not set.
pub const FALLBACK_EMBEDDING_MODEL: &str = "amazon.titan-embed-text-v2:0";
/// Default model for `dall-e-*` and `gpt-image-*` names when `DEFAULT_IMAGE_MODEL` is not set.
/// Stable Image Core, not Nova Canvas: Nova Canvas is Legacy with its end of life on 2026-09-30
/// (public reports reading AWS's lifecycle data: stdapi-ai/stdapi.ai#93, awslabs/startups#244,
/// diillson/chatcli#1364; AWS's own lifecycle table was not reachable through the search tool),
/// and those reports name Stable Image Core as the cheapest image model that is not Legacy.
pub const FALLBACK_IMAGE_MODEL: &str = "stability.stable-image-core-v1:1";

/// Where the API key(s) clients must present come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeySource {
    /// `API_KEY`: a key (or a list, or a key document) in the environment (local use).
    Plain(String),
    /// `API_KEYS_FILE`: a file holding a list of keys or a key document (local use).
    File(std::path::PathBuf),
    /// `API_KEY_PARAM_NAME`: an SSM Parameter Store (Secure)String, by name or ARN.
    SsmParameter(String),
    /// `API_KEY_SECRET_ARN`: a Secrets Manager secret whose JSON holds `api_key`.
    SecretsManager(String),
}

/// The gateway's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub api_key_source: ApiKeySource,
    pub api_key_cache: Duration,
    /// `API_KEY_MISS_REFRESH_SECONDS`: shortest interval between key reloads that an unknown
    /// key or a failing store triggers (default 10).
    pub api_key_miss_refresh: Duration,
    pub default_model: String,
    pub default_embedding_model: String,
    /// `DEFAULT_IMAGE_MODEL`: what `dall-e-*` and `gpt-image-*` names generate images with.
    pub default_image_model: String,
    /// `MODEL_ALIASES`: extra client-facing names for Bedrock model ids.
    pub model_aliases: HashMap<String, String>,
    /// `ENABLE_PROMPT_CACHING`: cache points after the system prompt and tools.
    pub prompt_caching: bool,
    /// `MODEL_CAPABILITIES`: corrections to the built-in capability table.
    pub model_capabilities: crate::capability_overrides::CapabilityOverrides,
    pub models_cache: Duration,
    /// `BEDROCK_TIMEOUT_SECONDS`: limit for one non-streaming Bedrock call.
    pub bedrock_timeout: Duration,
    /// `STREAM_IDLE_TIMEOUT_SECONDS`: longest wait for the next event of a stream.
    pub stream_idle_timeout: Duration,
    /// `MAX_REQUEST_BYTES`: the largest request body accepted.
    pub max_request_bytes: usize,
    /// `CORS_ALLOWED_ORIGINS`: origins browsers may call from (`*` by default, `none` for none).
    pub cors_allowed_origins: Vec<String>,
    /// `IMAGE_FETCH_TIMEOUT_SECONDS`: limit for downloading one `image_url`, redirects included.
    pub image_fetch_timeout: Duration,
    /// `IMAGE_FETCH_CONCURRENCY`: image downloads in flight at once for one request.
    pub image_fetch_concurrency: usize,
    /// `IMAGE_FETCH_ALLOW_HOSTS`: development and tests only; exact `host:port` pairs (normalised
    /// as the URL parser writes them) that image downloads may reach despite the address policy.
    pub image_fetch_allow_hosts: Vec<String>,

    // The local HTTP server (src/server), not used on Lambda.
    /// `HTTP_HEADER_READ_TIMEOUT_SECONDS`: time a client has to send a request's line and
    /// headers, counted from the connection's start or the end of the previous response; so it
    /// is also how long an idle keep-alive connection stays open (default 10).
    pub http_header_read_timeout: Duration,
    /// `HTTP_BODY_READ_TIMEOUT_SECONDS`: time a client has to send a whole request body, counted
    /// from the end of its headers (default 60).
    pub http_body_read_timeout: Duration,
    /// `MAX_CONNECTIONS`: client connections served at once; more get a short-lived connection
    /// that answers `/health` and a 503 for everything else (default 256).
    pub max_connections: usize,
    /// `SHUTDOWN_GRACE_SECONDS`: on Ctrl-C or SIGTERM, how long requests in flight may take to
    /// finish before open streams are ended with a `server_shutting_down` error (default 10).
    pub shutdown_grace: Duration,

    // Model routing (see `profile_routing`).
    /// `AUTO_INFERENCE_PROFILE` (default true): the bare id of a model Bedrock serves only
    /// through inference profiles is sent to the system profile of this region's geography.
    pub auto_inference_profile: bool,
    /// `ALLOW_GLOBAL_INFERENCE_PROFILE` (default false): when no geography profile has the
    /// model, a `global.` profile (requests may be served in any region) may be used instead.
    pub allow_global_inference_profile: bool,

    // Stored Responses on DynamoDB (src/responses/store/dynamo.rs).
    /// `RESPONSES_TABLE`: the DynamoDB table for stored responses (`store: true`); unset keeps
    /// them in memory. The stack sets it on Lambda.
    pub responses_table: Option<String>,
    /// `RESPONSES_TTL_DAYS`: how long a stored response is kept in the table (default 30).
    pub responses_ttl_days: u32,
    // Stored Responses (`store: true`) in the in-memory backend (src/responses/store/memory.rs).
    /// `RESPONSES_MEMORY_MAX_ITEMS`: stored responses kept at most; oldest evicted (default 1000).
    pub responses_memory_max_items: usize,
    /// `RESPONSES_MEMORY_MAX_BYTES`: their total JSON size at most; oldest evicted (default 64 MiB).
    pub responses_memory_max_bytes: usize,
    // Quotas and usage per named key (src/quota).
    /// `QUOTA_TABLE`: the DynamoDB table of quota and usage counters, shared by every instance;
    /// unset keeps them in this process's memory. The stack sets it when quotas are enabled.
    pub quota_table: Option<String>,
    /// `QUOTA_FAILURE`: `open` (default: a request whose quota cannot be checked goes through,
    /// with an error logged) or `closed` (it gets a 503).
    pub quota_fail_closed: bool,
    /// `RESPONSES_REFUSED_TOOLS`: built-in tool types (`web_search,file_search`, or `all`) that
    /// get a 400 instead of being dropped (default: none; all are dropped and named).
    pub responses_refused_tools: Vec<String>,

    /// What chat UIs see: `STREAM_ERROR_AS_CONTENT`, `OPENAI_MODEL_PREFIXES`,
    /// `REASONING_OUTPUT` (src/config/chat_ui.rs).
    pub chat_ui: ChatUiSettings,
    /// `LOG_FORMAT`, `METRICS_NAMESPACE` (`telemetry/settings.rs`).
    pub telemetry: crate::telemetry::TelemetrySettings,
}

/// A configuration error: one line saying which variable is wrong and what it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let api_key_source = match (
            get("API_KEY"),
            get("API_KEYS_FILE"),
            get("API_KEY_PARAM_NAME"),
            get("API_KEY_SECRET_ARN"),
        ) {
            (Some(key), None, None, None) => ApiKeySource::Plain(key),
            (None, Some(path), None, None) => ApiKeySource::File(path.into()),
            (None, None, Some(name), None) => ApiKeySource::SsmParameter(name),
            (None, None, None, Some(arn)) => ApiKeySource::SecretsManager(arn),
            (None, None, None, None) => {
                return Err(ConfigError(
                    "no API key configured: set API_KEY or API_KEYS_FILE (local use), API_KEY_PARAM_NAME (an SSM SecureString) or API_KEY_SECRET_ARN (a Secrets Manager secret)".into(),
                ));
            }
            _ => {
                return Err(ConfigError(
                    "set only one of API_KEY, API_KEYS_FILE, API_KEY_PARAM_NAME and API_KEY_SECRET_ARN".into(),
                ));
            }
        };
        let model_aliases = match get("MODEL_ALIASES") {
            None => HashMap::new(),
            Some(json) => serde_json::from_str::<HashMap<String, String>>(&json).map_err(|e| {
                ConfigError(format!(
                    "MODEL_ALIASES must be a JSON object of name -> Bedrock model id, like {{\"fast\":\"amazon.nova-micro-v1:0\"}} ({e})"
                ))
            })?,
        };
        Ok(Config {
            host: get("HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port: parse_number(&get, "PORT", 8080)?,
            api_key_source,
            api_key_cache: Duration::from_secs(parse_number(&get, "API_KEY_CACHE_SECONDS", 300)?),
            api_key_miss_refresh: Duration::from_secs(parse_number(
                &get,
                "API_KEY_MISS_REFRESH_SECONDS",
                10,
            )?),
            default_model: get("DEFAULT_MODEL").unwrap_or_else(|| FALLBACK_DEFAULT_MODEL.into()),
            default_embedding_model: get("DEFAULT_EMBEDDING_MODEL")
                .unwrap_or_else(|| FALLBACK_EMBEDDING_MODEL.into()),
            default_image_model: get("DEFAULT_IMAGE_MODEL")
                .unwrap_or_else(|| FALLBACK_IMAGE_MODEL.into()),
            model_aliases,
            prompt_caching: parse_bool(&get, "ENABLE_PROMPT_CACHING")?,
            model_capabilities: match get("MODEL_CAPABILITIES") {
                None => Default::default(),
                Some(json) => crate::capability_overrides::CapabilityOverrides::parse(&json)
                    .map_err(ConfigError)?,
            },
            models_cache: Duration::from_secs(parse_number(&get, "MODELS_CACHE_SECONDS", 600)?),
            bedrock_timeout: Duration::from_secs(parse_number(
                &get,
                "BEDROCK_TIMEOUT_SECONDS",
                600,
            )?),
            stream_idle_timeout: Duration::from_secs(parse_positive(
                &get,
                "STREAM_IDLE_TIMEOUT_SECONDS",
                120,
            )?),
            max_request_bytes: parse_number(&get, "MAX_REQUEST_BYTES", 20 * 1024 * 1024)?,
            cors_allowed_origins: match get("CORS_ALLOWED_ORIGINS").as_deref() {
                None => vec!["*".to_string()],
                Some("none") => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .filter(|o| !o.is_empty())
                    .collect(),
            },
            image_fetch_timeout: Duration::from_secs(parse_positive(
                &get,
                "IMAGE_FETCH_TIMEOUT_SECONDS",
                10,
            )?),
            image_fetch_concurrency: parse_positive(&get, "IMAGE_FETCH_CONCURRENCY", 4)?,
            image_fetch_allow_hosts: match get("IMAGE_FETCH_ALLOW_HOSTS") {
                None => Vec::new(),
                Some(list) => parse_host_ports(&list)?,
            },
            http_header_read_timeout: Duration::from_secs(parse_positive(
                &get,
                "HTTP_HEADER_READ_TIMEOUT_SECONDS",
                10,
            )?),
            http_body_read_timeout: Duration::from_secs(parse_positive(
                &get,
                "HTTP_BODY_READ_TIMEOUT_SECONDS",
                60,
            )?),
            max_connections: parse_positive(&get, "MAX_CONNECTIONS", 256)?,
            shutdown_grace: Duration::from_secs(parse_number(&get, "SHUTDOWN_GRACE_SECONDS", 10)?),
            auto_inference_profile: get("AUTO_INFERENCE_PROFILE").is_none()
                || parse_bool(&get, "AUTO_INFERENCE_PROFILE")?,
            allow_global_inference_profile: parse_bool(&get, "ALLOW_GLOBAL_INFERENCE_PROFILE")?,
            responses_table: get("RESPONSES_TABLE"),
            responses_ttl_days: parse_positive(&get, "RESPONSES_TTL_DAYS", 30)?,
            responses_memory_max_items: parse_number(&get, "RESPONSES_MEMORY_MAX_ITEMS", 1000)?,
            responses_memory_max_bytes: parse_number(
                &get,
                "RESPONSES_MEMORY_MAX_BYTES",
                64 * 1024 * 1024,
            )?,
            quota_table: get("QUOTA_TABLE"),
            quota_fail_closed: match get("QUOTA_FAILURE")
                .map(|v| v.to_ascii_lowercase())
                .as_deref()
            {
                None | Some("open") => false,
                Some("closed") => true,
                Some(other) => {
                    return Err(ConfigError(format!(
                        "QUOTA_FAILURE must be open or closed, got `{other}`"
                    )));
                }
            },
            responses_refused_tools: get("RESPONSES_REFUSED_TOOLS")
                .map(|list| {
                    list.split(',')
                        .map(|t| t.trim().to_string())
                        .filter(|t| !t.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            chat_ui: ChatUiSettings::from_lookup(&get)?,
            telemetry: crate::telemetry::TelemetrySettings::from_lookup(get)?,
        })
    }

    /// The Bedrock model id for a chat `model` name: aliases first, then OpenAI's model names
    /// (`OPENAI_MODEL_PREFIXES`) -> `DEFAULT_MODEL`.
    pub fn chat_model_id(&self, name: &str) -> String {
        if let Some(id) = self.model_aliases.get(name) {
            return id.clone();
        }
        if self.chat_ui.is_openai_model(name) {
            return self.default_model.clone();
        }
        name.to_string()
    }

    /// The Bedrock model id for an embeddings `model` name: aliases, then `text-embedding-*`.
    pub fn embedding_model_id(&self, name: &str) -> String {
        if let Some(id) = self.model_aliases.get(name) {
            return id.clone();
        }
        if name.starts_with("text-embedding-") {
            return self.default_embedding_model.clone();
        }
        name.to_string()
    }
}

impl Config {
    /// The Bedrock model id for an images `model` name: aliases, then `dall-e-*` and
    /// `gpt-image-*` (and no name at all, as OpenAI allows) -> `DEFAULT_IMAGE_MODEL`.
    pub fn image_model_id(&self, name: Option<&str>) -> String {
        let name = name.map(str::trim).unwrap_or_default();
        if let Some(id) = self.model_aliases.get(name) {
            return id.clone();
        }
        if name.is_empty() || name.starts_with("dall-e") || name.starts_with("gpt-image") {
            return self.default_image_model.clone();
        }
        name.to_string()
    }
}

fn parse_number<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            ConfigError(format!(
                "{name} must be a non-negative whole number, got `{v}`"
            ))
        }),
    }
}

fn parse_positive<T: std::str::FromStr + Default + PartialEq>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    let value = parse_number(get, name, default)?;
    if value == T::default() {
        return Err(ConfigError(format!("{name} must be at least 1")));
    }
    Ok(value)
}

/// `host:port,host:port` -> `host:port` as the URL parser writes hosts (lowercase names,
/// dotted IPv4, bracketed IPv6), so entries compare equal to what a URL holds.
fn parse_host_ports(list: &str) -> Result<Vec<String>, ConfigError> {
    let invalid = |entry: &str| {
        ConfigError(format!(
            "IMAGE_FETCH_ALLOW_HOSTS must be a comma-separated list of host:port pairs like 127.0.0.1:9000, got `{entry}`"
        ))
    };
    let mut pairs = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (host, port) = entry.rsplit_once(':').ok_or_else(|| invalid(entry))?;
        let port: u16 = port.parse().map_err(|_| invalid(entry))?;
        if host.is_empty() || host.contains(['/', '@', '?', '#']) {
            return Err(invalid(entry));
        }
        let url = url::Url::parse(&format!("http://{host}/")).map_err(|_| invalid(entry))?;
        let host = url.host_str().ok_or_else(|| invalid(entry))?;
        pairs.push(format!("{host}:{port}"));
    }
    Ok(pairs)
}

fn parse_bool(get: &impl Fn(&str) -> Option<String>, name: &str) -> Result<bool, ConfigError> {
    match get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("false" | "0" | "no" | "off") => Ok(false),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some(other) => Err(ConfigError(format!(
            "{name} must be true or false, got `{other}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_key_sources() {
        let c = config(&[("API_KEY", "k")]).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8080));
        assert_eq!(c.api_key_source, ApiKeySource::Plain("k".into()));
        let c = config(&[("API_KEY_PARAM_NAME", "/team/gateway/key")]).unwrap();
        assert_eq!(
            c.api_key_source,
            ApiKeySource::SsmParameter("/team/gateway/key".into())
        );
    }

    #[test]
    fn bad_settings_fail_with_one_line() {
        assert!(config(&[]).unwrap_err().0.contains("API_KEY"));
        assert!(
            config(&[("API_KEY", "k"), ("API_KEY_PARAM_NAME", "p")])
                .unwrap_err()
                .0
                .contains("only one")
        );
        assert!(
            config(&[("API_KEY", "k"), ("PORT", "http")])
                .unwrap_err()
                .0
                .contains("PORT")
        );
        let err = config(&[
            ("API_KEY", "k"),
            ("MODEL_CAPABILITIES", r#"{"mistral.": {"vision": true}}"#),
        ])
        .unwrap_err()
        .0;
        assert!(
            err.starts_with("MODEL_CAPABILITIES")
                && err.contains("`vision`")
                && !err.contains('\n'),
            "{err}"
        );
        let ok = config(&[
            ("API_KEY", "k"),
            ("MODEL_CAPABILITIES", r#"{"mistral.": {"images": true}}"#),
        ])
        .unwrap();
        assert!(
            ok.model_capabilities
                .capabilities("mistral.mistral-small-2402-v1:0")
                .images
        );
        assert!(
            config(&[("API_KEY", "k"), ("MODEL_ALIASES", "[1]")])
                .unwrap_err()
                .0
                .contains("MODEL_ALIASES")
        );
        assert!(
            config(&[("API_KEY", "k"), ("ENABLE_PROMPT_CACHING", "maybe")])
                .unwrap_err()
                .0
                .contains("ENABLE_PROMPT_CACHING")
        );
    }

    #[test]
    fn model_names() {
        let c = config(&[
            ("API_KEY", "k"),
            ("DEFAULT_MODEL", "amazon.nova-lite-v1:0"),
            ("MODEL_ALIASES", r#"{"fast":"amazon.nova-micro-v1:0"}"#),
        ])
        .unwrap();
        assert_eq!(c.chat_model_id("gpt-4o-mini"), "amazon.nova-lite-v1:0");
        assert_eq!(c.chat_model_id("o3-mini"), "amazon.nova-lite-v1:0");
        assert_eq!(
            c.chat_model_id("openai.gpt-oss-120b-1:0"),
            "openai.gpt-oss-120b-1:0"
        );
        assert_eq!(c.chat_model_id("fast"), "amazon.nova-micro-v1:0");
        assert_eq!(
            c.chat_model_id("us.amazon.nova-pro-v1:0"),
            "us.amazon.nova-pro-v1:0"
        );
        assert_eq!(
            c.embedding_model_id("text-embedding-3-small"),
            FALLBACK_EMBEDDING_MODEL
        );
        assert_eq!(c.image_model_id(Some("dall-e-3")), FALLBACK_IMAGE_MODEL);
        assert_eq!(c.image_model_id(Some("gpt-image-1")), FALLBACK_IMAGE_MODEL);
        assert_eq!(c.image_model_id(None), FALLBACK_IMAGE_MODEL);
        assert_eq!(
            c.image_model_id(Some("amazon.titan-image-generator-v2:0")),
            "amazon.titan-image-generator-v2:0"
        );
        let c = config(&[
            ("API_KEY", "k"),
            ("DEFAULT_IMAGE_MODEL", "amazon.titan-image-generator-v2:0"),
        ])
        .unwrap();
        assert_eq!(
            c.image_model_id(Some("dall-e-2")),
            "amazon.titan-image-generator-v2:0"
        );
    }

    #[test]
    fn local_server_settings() {
        let c = config(&[("API_KEY", "k")]).unwrap();
        assert_eq!(c.http_header_read_timeout, Duration::from_secs(10));
        assert_eq!(c.http_body_read_timeout, Duration::from_secs(60));
        assert_eq!(c.max_connections, 256);
        assert_eq!(c.shutdown_grace, Duration::from_secs(10));
        let c = config(&[("API_KEY", "k"), ("SHUTDOWN_GRACE_SECONDS", "0")]).unwrap();
        assert_eq!(c.shutdown_grace, Duration::ZERO);
        for name in [
            "HTTP_HEADER_READ_TIMEOUT_SECONDS",
            "HTTP_BODY_READ_TIMEOUT_SECONDS",
            "MAX_CONNECTIONS",
        ] {
            let err = config(&[("API_KEY", "k"), (name, "0")]).unwrap_err();
            assert!(err.0.contains(name), "{name}: {}", err.0);
        }
    }

    #[test]
    fn image_fetch_settings() {
        let c = config(&[("API_KEY", "k")]).unwrap();
        assert_eq!(c.image_fetch_timeout, Duration::from_secs(10));
        assert_eq!(c.image_fetch_concurrency, 4);
        assert!(c.image_fetch_allow_hosts.is_empty());
        let c = config(&[
            ("API_KEY", "k"),
            ("IMAGE_FETCH_TIMEOUT_SECONDS", "3"),
            ("IMAGE_FETCH_CONCURRENCY", "2"),
            (
                "IMAGE_FETCH_ALLOW_HOSTS",
                "127.0.0.1:9000, LocalHost:80,[::1]:8080,0x7f.1:81",
            ),
        ])
        .unwrap();
        assert_eq!(c.image_fetch_timeout, Duration::from_secs(3));
        assert_eq!(c.image_fetch_concurrency, 2);
        assert_eq!(
            c.image_fetch_allow_hosts,
            [
                "127.0.0.1:9000",
                "localhost:80",
                "[::1]:8080",
                "127.0.0.1:81"
            ]
        );
        for (name, value) in [
            ("IMAGE_FETCH_TIMEOUT_SECONDS", "0"),
            ("IMAGE_FETCH_CONCURRENCY", "0"),
            ("IMAGE_FETCH_ALLOW_HOSTS", "127.0.0.1"),
            ("IMAGE_FETCH_ALLOW_HOSTS", "::1:8080"),
            ("IMAGE_FETCH_ALLOW_HOSTS", "user@127.0.0.1:80"),
            ("IMAGE_FETCH_ALLOW_HOSTS", "127.0.0.1:99999"),
        ] {
            let err = config(&[("API_KEY", "k"), (name, value)]).unwrap_err();
            assert!(err.0.contains(name), "{name}={value}: {}", err.0);
        }
    }

    #[test]
    fn responses_store_settings() {
        let c = config(&[("API_KEY", "k")]).unwrap();
        assert_eq!(c.responses_table, None);
        assert_eq!(c.responses_ttl_days, 30);
        let c = config(&[
            ("API_KEY", "k"),
            ("RESPONSES_TABLE", " gateway-responses "),
            ("RESPONSES_TTL_DAYS", "7"),
        ])
        .unwrap();
        assert_eq!(c.responses_table.as_deref(), Some("gateway-responses"));
        assert_eq!(c.responses_ttl_days, 7);
        for value in ["0", "-1", "a month"] {
            let err = config(&[("API_KEY", "k"), ("RESPONSES_TTL_DAYS", value)]).unwrap_err();
            assert!(err.0.contains("RESPONSES_TTL_DAYS"), "{value}: {}", err.0);
        }
    }
}
