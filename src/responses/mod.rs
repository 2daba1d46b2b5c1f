//! The Responses API (`/responses`): OpenAI's newer request shape, served on the same
//! translation core as chat completions. A request becomes a chat request (`request`, `input`,
//! `tools`), which `translate` maps to Converse; the answer goes through the Responses state
//! machine (`translate::responses_stream`), streamed or not. `store` holds what `store: true`
//! keeps; `conversation` resolves `previous_response_id` and `item_reference`s.

pub mod conversation;
pub mod errors;
pub mod input;
pub mod request;
pub mod store;
pub mod tools;
