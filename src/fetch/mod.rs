//! Downloading the http(s) `image_url`s of a chat request, safely.
//!
//! Bedrock takes image bytes, not URLs, so the gateway downloads remote images before the
//! translation core (`crate::translate::images`) turns them into image blocks. That download is
//! a server-side request made on the client's behalf (SSRF), so it is fenced in:
//!
//! - only public internet addresses ([`policy`]), checked on the addresses actually connected
//!   to ([`resolver`]) and on IP-literal hosts before sending ([`download`]);
//! - redirects followed by hand, at most [`MAX_REDIRECTS`], each hop checked again;
//! - http and https only, no credentials in URLs, no proxy, no decompression;
//! - a total time limit per image and Bedrock's 3.75 MB size limit, enforced while reading.
//!
//! `IMAGE_FETCH_ALLOW_HOSTS` exempts exact `host:port` pairs from the address policy, for local
//! development and tests only.

mod download;
pub mod error;
pub mod policy;
pub mod resolver;
mod tls;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt, stream};

use crate::config::Config;
use crate::error::ApiError;
use crate::openai::chat::{ChatMessage, Content, PartKind, Role};
use crate::translate::images::FetchedImages;

pub use error::FetchError;
pub use policy::{BlockedRange, blocked_range};
pub use resolver::RefusedDestination;

/// Redirects followed per image before giving up.
pub const MAX_REDIRECTS: usize = 3;

/// Remote images per request. Bedrock takes at most 20 images in a request, so a longer list
/// would only make the gateway download on a client's behalf for nothing.
pub const MAX_REMOTE_IMAGES: usize = 20;

/// Downloads remote images under the address policy. Cheap to share: the clients pool
/// connections internally.
#[derive(Debug)]
pub struct ImageFetcher {
    /// Resolves through [`resolver::PublicOnlyResolver`]; used for every host not allowlisted.
    public_client: reqwest::Client,
    /// System resolver, no address policy; only for exact `IMAGE_FETCH_ALLOW_HOSTS` matches.
    allowlisted_client: Option<reqwest::Client>,
    allow_hosts: HashSet<String>,
    timeout: Duration,
    concurrency: usize,
}

impl ImageFetcher {
    /// Builds the HTTP clients from `IMAGE_FETCH_*` settings.
    pub fn new(config: &Config) -> ImageFetcher {
        let public_client = build_client(config.image_fetch_timeout, true);
        let allowlisted_client = if config.image_fetch_allow_hosts.is_empty() {
            None
        } else {
            tracing::warn!(
                hosts = ?config.image_fetch_allow_hosts,
                "IMAGE_FETCH_ALLOW_HOSTS is set: image URLs on these host:port pairs bypass the address policy (development and tests only)"
            );
            Some(build_client(config.image_fetch_timeout, false))
        };
        ImageFetcher {
            public_client,
            allowlisted_client,
            allow_hosts: config.image_fetch_allow_hosts.iter().cloned().collect(),
            timeout: config.image_fetch_timeout,
            concurrency: config.image_fetch_concurrency.max(1),
        }
    }

    /// Downloads every http(s) `image_url` of the user messages, at most `concurrency` at a
    /// time, keyed by URL as the translation core looks them up. The first failure cancels the
    /// remaining downloads and becomes a 400 naming its part (`messages[i].content[j]`).
    pub async fn fetch_images(&self, messages: &[ChatMessage]) -> Result<FetchedImages, ApiError> {
        let remote = remote_image_urls(messages)?;
        if remote.is_empty() {
            return Ok(FetchedImages::new());
        }
        stream::iter(remote)
            .map(|(param, url)| async move {
                match self.fetch(&url).await {
                    Ok(bytes) => Ok((url, bytes)),
                    Err(err) => Err(err.into_api_error(&param)),
                }
            })
            .buffer_unordered(self.concurrency)
            .try_collect()
            .await
    }

    /// Downloads one image URL within the time limit.
    pub async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        tokio::time::timeout(self.timeout, self.download(url))
            .await
            .unwrap_or(Err(FetchError::Timeout(self.timeout)))
    }
}

/// `(part path, URL)` of each distinct http(s) image URL in user messages, the only role whose
/// image parts the translation accepts. The `http://`/`https://` test is the translation's own.
fn remote_image_urls(messages: &[ChatMessage]) -> Result<Vec<(String, String)>, ApiError> {
    let mut seen = HashSet::new();
    let mut remote = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let (Role::User, Some(Content::Parts(parts))) = (&message.role, &message.content) else {
            continue;
        };
        for (j, part) in parts.iter().enumerate() {
            let PartKind::ImageUrl { image_url } = &part.kind else {
                continue;
            };
            let url = &image_url.url;
            let is_remote = url.starts_with("http://") || url.starts_with("https://");
            if !is_remote || !seen.insert(url.clone()) {
                continue;
            }
            let param = format!("messages[{i}].content[{j}]");
            if remote.len() == MAX_REMOTE_IMAGES {
                return Err(ApiError::invalid_param(
                    &param,
                    format!(
                        "`{param}` is image URL number {}; a request may carry at most {MAX_REMOTE_IMAGES} images.",
                        MAX_REMOTE_IMAGES + 1
                    ),
                ));
            }
            remote.push((param, url.clone()));
        }
    }
    Ok(remote)
}

/// One HTTP/1.1 client. `public_only` puts the address policy in its resolver.
fn build_client(timeout: Duration, public_only: bool) -> reqwest::Client {
    // Fails only if aws-lc-rs lacks TLS 1.2/1.3 or reqwest lacks rustls, both fixed at build
    // time, so every test run proves these cannot fail.
    let tls = tls::client_config().expect("aws-lc-rs supports the default TLS versions");
    let mut builder = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .http1_only()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .referer(false)
        .connect_timeout(timeout)
        .user_agent(concat!("bedrock-gateway/", env!("CARGO_PKG_VERSION")));
    if public_only {
        builder = builder.dns_resolver(Arc::new(resolver::PublicOnlyResolver));
    }
    builder
        .build()
        .expect("reqwest builds with a preconfigured rustls config")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::chat::ChatRequest;

    fn messages(json: serde_json::Value) -> Vec<ChatMessage> {
        serde_json::from_value::<ChatRequest>(json)
            .unwrap()
            .messages
    }

    #[test]
    fn collects_distinct_remote_urls_of_user_messages() {
        let msgs = messages(serde_json::json!({"model": "m", "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "https://a.example/1.png"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                {"type": "image_url", "image_url": "http://b.example/2.png"},
                {"type": "image_url", "image_url": {"url": "https://a.example/1.png"}}
            ]},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "ftp://c.example/3.png"}},
                {"type": "image_url", "image_url": {"url": "http://c.example/4.png"}}
            ]}
        ]}));
        let urls = remote_image_urls(&msgs).unwrap();
        assert_eq!(
            urls,
            vec![
                (
                    "messages[1].content[1]".to_string(),
                    "https://a.example/1.png".to_string()
                ),
                (
                    "messages[1].content[3]".to_string(),
                    "http://b.example/2.png".to_string()
                ),
                (
                    "messages[3].content[1]".to_string(),
                    "http://c.example/4.png".to_string()
                ),
            ]
        );
    }

    #[test]
    fn more_than_twenty_remote_images_is_a_400_naming_the_part() {
        let parts: Vec<_> = (0..21)
            .map(|n| serde_json::json!({"type": "image_url", "image_url": format!("https://x.example/{n}.png")}))
            .collect();
        let msgs = messages(
            serde_json::json!({"model": "m", "messages": [{"role": "user", "content": parts}]}),
        );
        let err = remote_image_urls(&msgs).unwrap_err();
        assert_eq!(err.status.as_u16(), 400);
        assert_eq!(err.param.as_deref(), Some("messages[0].content[20]"));
    }
}
