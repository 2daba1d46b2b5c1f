//! Why one image download failed, and the 400 the client gets for it.
//!
//! Every failure is the client's to fix (a different URL, a smaller image), so all of them are
//! `invalid_request_error` naming the content part, never a 5xx.

use std::error::Error;
use std::time::Duration;

use crate::error::ApiError;

use super::resolver::RefusedDestination;

/// OpenAI-style `code` for every image download failure.
pub const IMAGE_URL_ERROR_CODE: &str = "invalid_image_url";

/// What went wrong downloading one `image_url`.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// The URL does not parse or has no host.
    InvalidUrl(String),
    /// A scheme other than http or https (possible after a redirect).
    UnsupportedScheme(String),
    /// `user:password@` in the URL.
    Credentials,
    /// The address policy refused the destination, before any connection to it.
    Refused {
        destination: RefusedDestination,
        after_redirect: bool,
    },
    TooManyRedirects(usize),
    RedirectWithoutLocation(u16),
    /// A non-2xx answer.
    Status(u16),
    /// The body exceeds Bedrock's image limit; reading stopped there.
    TooLarge(usize),
    /// The body is not PNG, JPEG, GIF or WebP.
    NotAnImage(Option<String>),
    Timeout(Duration),
    /// DNS, TCP, TLS or HTTP failure.
    Unreachable(String),
}

impl FetchError {
    /// From the HTTP client's error, recognising the policy's refusal inside its source chain.
    pub fn from_client(err: reqwest::Error, after_redirect: bool) -> FetchError {
        let mut source: Option<&(dyn Error + 'static)> = Some(&err);
        let mut innermost = err.to_string();
        while let Some(current) = source {
            if let Some(refused) = current.downcast_ref::<RefusedDestination>() {
                return FetchError::Refused {
                    destination: refused.clone(),
                    after_redirect,
                };
            }
            innermost = current.to_string();
            source = current.source();
        }
        FetchError::Unreachable(innermost)
    }

    /// The 400 for the content part at `param`.
    pub fn into_api_error(self, param: &str) -> ApiError {
        let message = match self {
            FetchError::InvalidUrl(why) => {
                format!("The image URL at `{param}` is not a valid URL: {why}.")
            }
            FetchError::UnsupportedScheme(scheme) => format!(
                "The image URL at `{param}` redirected to a `{scheme}:` URL; only http and https are allowed."
            ),
            FetchError::Credentials => format!(
                "The image URL at `{param}` carries credentials (user:password@); they are not allowed in image URLs."
            ),
            FetchError::Refused {
                destination,
                after_redirect,
            } => format!(
                "The image URL at `{param}` {}points to a destination that is not allowed: {destination}. Image URLs must point to public internet addresses.",
                if after_redirect {
                    "redirects to a URL that "
                } else {
                    ""
                }
            ),
            FetchError::TooManyRedirects(max) => {
                format!("The image URL at `{param}` redirected more than {max} times.")
            }
            FetchError::RedirectWithoutLocation(status) => format!(
                "The image URL at `{param}` answered HTTP {status} without a Location header."
            ),
            FetchError::Status(status) => format!(
                "The image at `{param}` could not be downloaded: the server answered HTTP {status}."
            ),
            FetchError::TooLarge(limit) => format!(
                "The image at `{param}` is larger than {limit} bytes (3.75 MB), Bedrock's limit for an image."
            ),
            FetchError::NotAnImage(content_type) => format!(
                "The image at `{param}` is not a PNG, JPEG, GIF or WebP image, the formats Bedrock accepts (the server sent {}).",
                content_type.as_deref().unwrap_or("no content type")
            ),
            FetchError::Timeout(limit) => format!(
                "The image at `{param}` could not be downloaded within the gateway's {}-second limit.",
                limit.as_secs_f64()
            ),
            FetchError::Unreachable(why) => {
                format!("The image at `{param}` could not be downloaded: {why}.")
            }
        };
        ApiError::invalid_param(param, message).with_code(IMAGE_URL_ERROR_CODE)
    }
}
