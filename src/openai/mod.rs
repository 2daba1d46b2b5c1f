//! OpenAI's wire types, as OpenAI clients send and expect them. No Bedrock here.

pub mod chat;
pub mod completions;
pub mod images;
pub mod limits;
pub mod request;
pub mod responses;
