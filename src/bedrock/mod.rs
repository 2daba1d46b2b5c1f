//! The seam to Amazon Bedrock: the SDK clients, and the only code that calls them.
//!
//! - [`runtime`]: Converse, ConverseStream and InvokeModel. Handlers hand over a
//!   [`ConverseInput`](crate::translate::ConverseInput) built by the pure translation core and get
//!   Bedrock's answer or an [`ApiError`](crate::error::ApiError) already mapped for OpenAI
//!   clients.
//! - [`control`]: the control-plane listing calls behind the model catalogue
//!   (ListFoundationModels, ListInferenceProfiles, GetInferenceProfile).
//!
//! The key stores' SSM and Secrets Manager calls are the other AWS SDK calls of the gateway; they
//! live in `auth/store.rs`, beside the key formats they read.
//!
//! Endpoints come from the SDK's standard variables (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`,
//! `AWS_ENDPOINT_URL_BEDROCK`), which is how tests and `make run` put the local emulator in
//! Bedrock's place.
//!
//! Both clients share one HTTP client and one connection pool, whose idle connections are bounded
//! ([`MAX_IDLE_CONNECTIONS_PER_HOST`], [`IDLE_CONNECTION_TIMEOUT`]): the SDK's default keeps
//! every connection a burst opened, for 90 s (hyper's default), so 128 concurrent clients left
//! hundreds of idle sockets behind.

pub mod control;
pub mod runtime;

use aws_config::SdkConfig;
use aws_sdk_bedrockruntime::config::SharedHttpClient;
use aws_sdk_bedrockruntime::config::timeout::TimeoutConfig;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use tokio::time::Duration;

pub use control::ModelListing;
pub use runtime::{ConverseEvents, InvokeModelAnswer};

/// Idle connections kept open per Bedrock endpoint after a burst. Connections in use are not
/// limited (concurrency is); past this many, a connection that finishes its request is closed
/// instead of pooled. 32 keep a steady load of a few hundred requests a second on warm
/// connections without holding a socket per peak client.
pub const MAX_IDLE_CONNECTIONS_PER_HOST: usize = 32;

/// How long a pooled connection may sit idle before it is closed: shorter than the idle
/// timeouts of the load balancers and NAT gateways between the gateway and Bedrock (350 s for a
/// NAT gateway), so a pooled connection is not one the network already dropped.
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// How long opening a connection to Bedrock may take. The same for both clients, so that they
/// share one connection pool (the SDK keeps one pool per connect/read timeout pair).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Bedrock clients shared by all requests (cheap to clone).
#[derive(Clone, Debug)]
pub struct Bedrock {
    runtime: aws_sdk_bedrockruntime::Client,
    control: aws_sdk_bedrock::Client,
}

impl Bedrock {
    /// Clients from the shared SDK configuration; `timeout` bounds a non-streaming call.
    pub fn new(sdk: &SdkConfig, timeout: Duration) -> Self {
        let http = pooled_http_client();
        let runtime_config = aws_sdk_bedrockruntime::config::Builder::from(sdk)
            .http_client(http.clone())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_timeout(timeout)
                    .build(),
            )
            .build();
        let control_config = aws_sdk_bedrock::config::Builder::from(sdk)
            .http_client(http)
            .timeout_config(
                aws_sdk_bedrock::config::timeout::TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .build(),
            )
            .build();
        Bedrock {
            runtime: aws_sdk_bedrockruntime::Client::from_conf(runtime_config),
            control: aws_sdk_bedrock::Client::from_conf(control_config),
        }
    }

    /// The region the clients call (`AWS_REGION`, or the profile's), if one is configured.
    pub fn region(&self) -> Option<&str> {
        self.runtime.config().region().map(|r| r.as_ref())
    }
}

/// The SDK's default HTTPS client (rustls over aws-lc-rs, as `default-https-client` builds it)
/// with a bounded idle pool.
fn pooled_http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .pool_max_idle_per_host(MAX_IDLE_CONNECTIONS_PER_HOST)
        .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_https()
}
