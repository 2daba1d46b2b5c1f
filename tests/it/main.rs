//! The gateway's integration tests, one binary (each file under `tests/` would otherwise be a
//! binary of its own, every one linking the whole AWS SDK). One module per feature; the shared
//! helpers (the emulator and a gateway on loopback ports, raw HTTP, SSE parsing) are in
//! `support`. Run one feature with `cargo test --test it chat_features::`.
//!
//! The load tests are a binary of their own (`tests/load`): they time requests, and must not
//! share the cores with the other tests of this binary while they do.

mod support;

mod chat;
mod chat_features;
mod chat_ui;
mod completions;
mod embeddings;
mod fidelity;
mod image_fetch;
mod images;
mod key_store;
mod keys;
mod lambda_events;
mod lambda_runtime;
mod log_redaction;
mod media_parts;
mod models;
mod quotas;
mod request_bodies;
mod request_bodies_prop;
mod responses;
mod responses_store;
mod responses_store_gateway;
mod server_lifecycle;
mod server_limits;
mod startup_errors;
mod telemetry;
mod upstream_pool;
