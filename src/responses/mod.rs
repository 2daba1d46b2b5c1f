//! The Responses API (`/responses`): OpenAI's newer request shape, served on the same
//! translation core as chat completions. `store` holds what `store: true` keeps.

pub mod store;
