//! bedrock-gateway: an OpenAI-compatible API in front of Amazon Bedrock.
//!
//! OpenAI clients send Chat Completions, Embeddings and Models requests; the gateway translates
//! them into Bedrock's Converse, ConverseStream and InvokeModel calls and translates the answers
//! back. One router ([`app::router`]) serves every runtime: the local HTTP server ([`server`])
//! and AWS Lambda behind an ALB or a streaming Function URL ([`lambda`]).
//!
//! Layout: `openai` (wire types), `translate` (the pure core), `capabilities` (per-model
//! table), `bedrock` (the SDK seam), `cache` (the refresh cache behind `auth` and `catalog`),
//! `auth`, `config`, `routes` (thin handlers, blind to the runtime), `limits` (what a runtime
//! adapter tells handlers), `telemetry` (the per-request record, log line and metrics), `app`.

pub mod app;
pub mod auth;
pub mod bedrock;
pub mod cache;
pub mod capabilities;
pub mod capability_overrides;
pub mod catalog;
pub mod config;
pub mod embeddings;
pub mod error;
pub mod fetch;
pub mod lambda;
pub mod limits;
pub mod memory;
pub mod openai;
pub mod profile_routing;
pub mod quota;
pub mod responses;
pub mod routes;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod translate;
