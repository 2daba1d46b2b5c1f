//! The emulator's tests, one binary: each drives the emulator with the real AWS SDK clients over
//! loopback, one module per area; `support` starts emulators and builds clients. Run one area
//! with `cargo test -p bedrock-emulator --test it validation::`.

mod support;

mod converse;
mod converse_stream;
mod faults;
mod images;
mod media;
mod plain_word_tools;
mod validation;
mod wire;
