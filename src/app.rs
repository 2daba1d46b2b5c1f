//! The HTTP surface: one axum router for every runtime (local server, ALB, Function URL).
//!
//! Routes live under `/api/v1` (what `OPENAI_BASE_URL=<alb>/api/v1` and NextChat's
//! `<alb>/api` + `/v1/...` produce) and, for clients configured with a bare `/v1`, under `/v1`
//! too. Anything unknown gets an OpenAI-style 404/405, never an empty or HTML body.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use tower_http::cors::{AllowHeaders, AllowOrigin, Any, CorsLayer};

use crate::auth::bearer_token;
use crate::error::{ApiError, ErrorKind};
use crate::routes;
use crate::state::AppState;

mod access_log;
mod preflight_warning;

/// The gateway's router, state applied.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/chat/completions", post(routes::chat::chat_completions))
        .route("/completions", post(routes::completions::completions))
        .route("/embeddings", post(routes::embeddings::embeddings))
        .route("/images/generations", post(routes::images::generate_images))
        .route("/models", get(routes::models::list_models))
        .route("/models/{*id}", get(routes::models::retrieve_model))
        .route("/usage", get(routes::usage::usage))
        .route("/responses", post(routes::responses::create_response))
        .route(
            "/responses/{id}",
            get(routes::responses::retrieve_response).delete(routes::responses::delete_response),
        )
        .route(
            "/responses/{id}/input_items",
            get(routes::responses::list_input_items),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_api_key,
        ));
    Router::new()
        .route("/health", get(routes::health::health))
        .nest("/api/v1", api.clone())
        .nest("/v1", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_request_bytes))
        .layer(cors(&state.config.cors_allowed_origins))
        .layer(middleware::from_fn_with_state(
            preflight_warning::PreflightWarnings::new(&state.config.cors_allowed_origins),
            preflight_warning::warn_refused_preflight,
        ))
        .layer(middleware::from_fn_with_state(
            state.telemetry.clone(),
            access_log::access_log,
        ))
        .with_state(state)
}

/// CORS for browser clients (chat UIs that call the API from the page). Preflight requests are
/// answered here, before authentication, as browsers send them without the key. Bearer keys are
/// not cookies, so `*` is safe; `CORS_ALLOWED_ORIGINS` narrows it, and `none` turns CORS off.
/// A preflight this refuses is logged (`preflight_warning`), as browsers show no reason.
fn cors(allowed: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .max_age(std::time::Duration::from_secs(3600));
    match allowed {
        [] => CorsLayer::new(),
        [any] if any == "*" => layer.allow_origin(Any),
        origins => layer.allow_origin(AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| o.parse::<axum::http::HeaderValue>().ok()),
        )),
    }
}

/// Rejects requests without a valid `Authorization: Bearer <key>`; the key's quotas are then
/// applied by `quota::gate`.
async fn require_api_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Two `Authorization` headers are ambiguous (proxies and servers disagree on which one
    // counts), so neither is chosen.
    let mut headers = request.headers().get_all(header::AUTHORIZATION).iter();
    let header = headers.next().and_then(|v| v.to_str().ok());
    if headers.next().is_some() {
        return ApiError::invalid_param(
            "Authorization",
            "The request has more than one `Authorization` header. Send the key once, as `Authorization: Bearer <key>`.",
        )
        .with_code("duplicate_authorization_header")
        .into_response();
    }
    let Some(key) = bearer_token(header) else {
        return ApiError::unauthorized(
            "Missing API key. Send it as `Authorization: Bearer <key>` (OPENAI_API_KEY in OpenAI SDKs).",
        )
        .into_response();
    };
    match state.keys.verify(key).await {
        Ok(caller) => crate::quota::gate::run(&state, caller, request, next).await,
        Err(err) => err.into_response(),
    }
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "Unknown route {method} {}. This gateway serves /api/v1/chat/completions, /api/v1/completions, /api/v1/responses, /api/v1/embeddings, /api/v1/images/generations, /api/v1/models and /health.",
        uri.path()
    ))
    .with_code("unknown_url")
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::InvalidRequestError,
        format!("{method} is not allowed on {}.", uri.path()),
    )
    .with_code("method_not_allowed")
}
