//! [`Caller`]: the verified key behind a request, put in the request's extensions by the auth
//! middleware (src/app.rs) and taken by handlers as an extractor, so that model resolution
//! ([`super::model_access`]), `/models`, quotas and the usage report know whose request it is.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::key::ApiKey;
use crate::error::ApiError;

/// The key a request was verified with. `Debug` shows its name, never the key.
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<ApiKey>);

impl std::ops::Deref for Caller {
    type Target = ApiKey;
    fn deref(&self) -> &ApiKey {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    /// Every route behind the auth middleware has one; a route outside it asking for one is a
    /// wiring mistake, answered as a missing key rather than served unchecked.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, ApiError> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::unauthorized("Missing API key. Send it as `Authorization: Bearer <key>`.")
        })
    }
}
