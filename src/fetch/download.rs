//! One image download: check the destination, send, follow redirects by hand, read the body
//! up to Bedrock's size limit.

use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Client, Response, StatusCode};
use url::{Host, Url};

use super::error::FetchError;
use super::policy::blocked_range;
use super::resolver::RefusedDestination;
use super::{ImageFetcher, MAX_REDIRECTS};
use crate::translate::images::{MAX_IMAGE_BYTES, sniff_format};

impl ImageFetcher {
    /// Downloads `url` (no time limit here; [`ImageFetcher::fetch`] puts one around it).
    pub(super) async fn download(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        // The URL parser normalises every IPv4 spelling (2852039166, 0xa9.0376.0xa9fe, 0x7f.1)
        // to a.b.c.d, so the policy judges the address the connector will dial.
        let mut url = Url::parse(url).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        let mut redirects = 0;
        loop {
            let after_redirect = redirects > 0;
            let client = self.client_for(&url, after_redirect)?;
            let response = client
                .get(url.clone())
                .header(ACCEPT, "image/png,image/jpeg,image/gif,image/webp,image/*")
                .send()
                .await
                .map_err(|e| FetchError::from_client(e, after_redirect))?;
            let status = response.status();
            if is_redirect(status) {
                if redirects == MAX_REDIRECTS {
                    return Err(FetchError::TooManyRedirects(MAX_REDIRECTS));
                }
                url = next_hop(&url, &response)?;
                redirects += 1;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            return read_image(response).await;
        }
    }

    /// Checks scheme, credentials and IP-literal hosts, and picks the client for this hop.
    /// Host names are checked later, by the public client's resolver, on the resolved addresses.
    fn client_for(&self, url: &Url, after_redirect: bool) -> Result<&Client, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::UnsupportedScheme(url.scheme().to_string()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::Credentials);
        }
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
            return Err(FetchError::InvalidUrl("it has no host".into()));
        };
        if let Some(client) = &self.allowlisted_client
            && self.allow_hosts.contains(&format!("{host}:{port}"))
        {
            return Ok(client);
        }
        let literal = match host {
            Host::Ipv4(ip) => Some(ip.into()),
            Host::Ipv6(ip) => Some(ip.into()),
            Host::Domain(_) => None,
        };
        if let Some(ip) = literal
            && let Some(range) = blocked_range(ip)
        {
            tracing::warn!(%ip, %range, after_redirect, "image URL refused by the address policy");
            return Err(FetchError::Refused {
                destination: RefusedDestination {
                    host: ip.to_string(),
                    ip,
                    range,
                },
                after_redirect,
            });
        }
        Ok(&self.public_client)
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The `Location` of a redirect, resolved against the current URL.
fn next_hop(current: &Url, response: &Response) -> Result<Url, FetchError> {
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(FetchError::RedirectWithoutLocation(
            response.status().as_u16(),
        ))?;
    current
        .join(location)
        .map_err(|e| FetchError::InvalidUrl(format!("its redirect location is invalid ({e})")))
}

/// Reads the body, stopping as soon as it exceeds Bedrock's limit, and checks it is an image.
async fn read_image(mut response: Response) -> Result<Vec<u8>, FetchError> {
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_IMAGE_BYTES as u64) {
        return Err(FetchError::TooLarge(MAX_IMAGE_BYTES));
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FetchError::from_client(e, false))?
    {
        if body.len() + chunk.len() > MAX_IMAGE_BYTES {
            return Err(FetchError::TooLarge(MAX_IMAGE_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    if sniff_format(&body).is_none() {
        return Err(FetchError::NotAnImage(content_type));
    }
    Ok(body)
}
