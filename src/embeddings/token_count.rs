//! Bedrock's input token count for InvokeModel, which arrives in the
//! `X-Amzn-Bedrock-Input-Token-Count` response header. The SDK's `InvokeModelOutput` does not
//! expose response headers, so an interceptor on the one call reads it before deserialization.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_bedrockruntime::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_bedrockruntime::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_bedrockruntime::error::BoxError;

const HEADER: &str = "x-amzn-bedrock-input-token-count";
/// Stored while no count has been seen.
const UNSET: u64 = u64::MAX;

/// Captures the header of the call it is attached to (the last attempt's, after retries).
#[derive(Debug, Clone)]
pub struct InputTokenCount(Arc<AtomicU64>);

impl Default for InputTokenCount {
    fn default() -> Self {
        InputTokenCount(Arc::new(AtomicU64::new(UNSET)))
    }
}

impl InputTokenCount {
    /// The count Bedrock reported, if it sent the header.
    pub fn get(&self) -> Option<u64> {
        Some(self.0.load(Ordering::Relaxed)).filter(|count| *count != UNSET)
    }
}

impl Intercept for InputTokenCount {
    fn name(&self) -> &'static str {
        "InputTokenCount"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let count = context
            .response()
            .headers()
            .get(HEADER)
            .and_then(|value| value.trim().parse::<u64>().ok())
            .unwrap_or(UNSET);
        self.0.store(count, Ordering::Relaxed);
        Ok(())
    }
}
