//! TLS for image downloads: rustls with the aws-lc-rs crypto provider and the system's root
//! certificates, the same stack the AWS SDK already links, so no second crypto library (ring)
//! enters the binary.

use std::sync::{Arc, OnceLock};

use rustls::{ClientConfig, RootCertStore};

/// The system roots, read once per process (Lambda reuses the process across invocations).
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, _unparsable) = roots.add_parsable_certificates(loaded.certs);
        if added == 0 {
            // Not fatal: http image URLs still work, https ones fail with a certificate error.
            tracing::warn!(
                errors = ?loaded.errors,
                "no system root certificates found; https image URLs will fail (install ca-certificates or set SSL_CERT_FILE)"
            );
        }
        roots
    })
}

/// A client TLS configuration for HTTP/1.1.
pub fn client_config() -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(system_roots().clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
