//! Which model a request under a given key gets: the one place every route's model resolution
//! goes through (chat, Responses and embeddings here; any new route that names a model must call
//! [`resolve_model`] too), so a key's allow-list, aliases and default model hold everywhere.
//!
//! Order: the key's own `aliases`, then for `gpt-*` chat names the key's `default_model`, then
//! the gateway's mapping (`MODEL_ALIASES`, `DEFAULT_MODEL`, `DEFAULT_EMBEDDING_MODEL`); then the
//! key's `models` patterns are checked against that id or, failing that, against the inference
//! profile the catalogue routes a bare id to (so `us.anthropic.*` admits
//! `anthropic.claude-...`, which the gateway sends through `us.`). A model outside the list is
//! a 403 whether or not Bedrock knows it, so a key cannot probe for models it may not use.

use axum::http::StatusCode;

use super::Caller;
use crate::catalog::Published;
use crate::error::{ApiError, ErrorKind};
use crate::state::AppState;

/// What the model name is for, which decides the gateway's default mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Chat completions, Responses (`gpt-*` → the default model).
    Chat,
    /// Embeddings (`text-embedding-*` → the default embedding model).
    Embedding,
}

/// The gateway's own mapping of a name (after the key's aliases): for chat, the key's default
/// model for `gpt-*` names, then `MODEL_ALIASES` and `DEFAULT_MODEL`; for embeddings
/// `MODEL_ALIASES` and `DEFAULT_EMBEDDING_MODEL`.
fn gateway_mapping(state: &AppState, caller: &Caller, requested: &str, kind: ModelKind) -> String {
    let config = &state.config;
    match kind {
        ModelKind::Chat => match &caller.default_model {
            Some(default)
                if config.chat_ui.is_openai_model(requested)
                    && !config.model_aliases.contains_key(requested) =>
            {
                default.clone()
            }
            _ => config.chat_model_id(requested),
        },
        ModelKind::Embedding => config.embedding_model_id(requested),
    }
}

/// The Bedrock model id for `requested` under `caller`'s key: resolved, allowed, known to
/// Bedrock (404 otherwise) and routed to an inference profile where Bedrock needs one.
pub async fn resolve_model(
    state: &AppState,
    caller: &Caller,
    requested: &str,
    kind: ModelKind,
) -> Result<String, ApiError> {
    let (id, _) = resolve_published(state, caller, requested, kind).await?;
    Ok(id)
}

/// [`resolve_model`], with what Bedrock's listing publishes about the model (from the same read
/// of the cached listing), for routes that need its capabilities.
pub async fn resolve_published(
    state: &AppState,
    caller: &Caller,
    requested: &str,
    kind: ModelKind,
) -> Result<(String, Option<Published>), ApiError> {
    resolve_mapped(state, caller, requested, |name| {
        gateway_mapping(state, caller, name, kind)
    })
    .await
}

/// [`resolve_model`] for a route with its own default mapping (`mapping` turns a name that is
/// not one of the key's aliases into a model id; images, for example, map their default model):
/// the key's aliases, then `mapping`, then the allow-list, the catalogue and profile routing.
pub async fn resolve_mapped(
    state: &AppState,
    caller: &Caller,
    requested: &str,
    mapping: impl FnOnce(&str) -> String,
) -> Result<(String, Option<Published>), ApiError> {
    let model_id = match caller.aliases.get(requested) {
        Some(id) => id.clone(),
        None => mapping(requested),
    };
    let allowed = caller.allows(&model_id);
    let routed = state
        .catalog
        .resolve(&model_id, &state.profile_routing())
        .await;
    match routed {
        Ok((routed, published)) if allowed || caller.allows(&routed) => Ok((routed, published)),
        Err(err) if allowed => Err(err),
        _ => Err(not_allowed(caller, requested, &model_id)),
    }
}

/// The 403 for a model outside the key's list; names the key, never the key itself.
pub fn not_allowed(caller: &Caller, requested: &str, model_id: &str) -> ApiError {
    let shown = if requested == model_id {
        format!("`{model_id}`")
    } else {
        format!("`{requested}` (`{model_id}`)")
    };
    let allowed = caller.models.as_deref().unwrap_or_default().join(", ");
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorKind::PermissionError,
        format!(
            "The API key `{}` may not use the model {shown}. It may use: {allowed}. GET /api/v1/models lists them.",
            caller.name
        ),
    )
    .with_param("model")
    .with_code("model_not_allowed")
}
