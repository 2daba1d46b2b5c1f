//! Request handlers, one file per route family. Each is thin: parse, call the translation core
//! and the Bedrock seam, write the response.

pub mod chat;
pub mod health;
pub mod sse;
