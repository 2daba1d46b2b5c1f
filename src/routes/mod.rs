//! Request handlers, one file per route family. Each is thin: parse, call the translation core
//! and the Bedrock seam, write the response.

pub mod chat;
pub mod embeddings;
pub mod health;
pub mod models;
pub mod sse;
