//! The DNS resolver of the image client: it resolves a host name and refuses the answer if any
//! address is not public.
//!
//! The check lives in the resolver because the HTTP client connects to exactly the addresses
//! the resolver returns: there is no second lookup between the check and the connect, so a DNS
//! server that answers a public address first and 169.254.169.254 next (DNS rebinding) gains
//! nothing. Host names that are IP literals never reach a resolver; `super::destination`
//! checks those before the request is sent.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::policy::{BlockedRange, blocked_range};

/// A destination the address policy refuses; found again in the HTTP client's error chain.
///
/// Displayed client-facing: it names the range but, for a host name, not the address it
/// resolved to, so the gateway cannot be used to read internal DNS records (the log has the
/// address).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", client_facing(.host, .ip, .range))]
pub struct RefusedDestination {
    pub host: String,
    pub ip: IpAddr,
    pub range: BlockedRange,
}

fn client_facing(host: &str, ip: &IpAddr, range: &BlockedRange) -> String {
    if host == ip.to_string() {
        format!("{ip} is {range}")
    } else {
        format!("{host} resolves to {range}")
    }
}

/// Refuses the whole answer when any address is refused: a name that mixes public and private
/// addresses is not one an image URL needs, and refusing is easier to reason about than
/// filtering.
pub fn check_addresses(
    host: &str,
    addrs: impl IntoIterator<Item = SocketAddr>,
) -> Result<Vec<SocketAddr>, RefusedDestination> {
    let addrs: Vec<SocketAddr> = addrs.into_iter().collect();
    for addr in &addrs {
        if let Some(range) = blocked_range(addr.ip()) {
            return Err(RefusedDestination {
                host: host.to_string(),
                ip: addr.ip(),
                range,
            });
        }
    }
    Ok(addrs)
}

/// System DNS (getaddrinfo) followed by [`check_addresses`].
#[derive(Debug, Default)]
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: the connector puts the URL's port on each address.
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let addrs = check_addresses(&host, found).inspect_err(|refused| {
                tracing::warn!(host = %refused.host, ip = %refused.ip, range = %refused.range, "image URL host refused by the address policy");
            })?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        SocketAddr::new(s.parse().unwrap(), 0)
    }

    #[test]
    fn one_private_address_refuses_the_answer() {
        let err = check_addresses("rebind.example", [addr("93.184.215.14"), addr("10.0.0.1")])
            .unwrap_err();
        assert_eq!(err.ip, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(err.range, BlockedRange::Private);
        assert_eq!(
            err.to_string(),
            "rebind.example resolves to a private network address"
        );
        let ok = check_addresses("example.com", [addr("93.184.215.14"), addr("2606:2800::1")]);
        assert_eq!(ok.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn localhost_is_refused_at_resolution() {
        let err = PublicOnlyResolver
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost must be refused");
        let refused = err
            .downcast_ref::<RefusedDestination>()
            .expect("the policy refused it");
        assert_eq!(refused.range, BlockedRange::Loopback);
    }
}
