//! Limits that the carrier of a response puts on it, handed to handlers as request extensions.
//!
//! A handler must not need to know which runtime serves it (the local server, Lambda behind an
//! ALB, a Function URL, an API Gateway HTTP API). What it has to respect is put into the
//! request by the adapter that knows (today the Lambda adapter, `crate::lambda`), and the
//! handler reads only the extension. No extension means no limit.

/// The most bytes the whole response document for this request may take, with the words a
/// client needs when a request would exceed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseLimit {
    /// Bytes of the response as the carrier measures it (the serialised document).
    pub bytes: usize,
    /// The limit as a client should read it, e.g. "the 1 MB an Application Load Balancer
    /// accepts from Lambda".
    pub described: &'static str,
    /// How to get the same answer without the limit, as advice, e.g. "use the gateway's
    /// Function URL (StreamingUrl), which has no such limit".
    pub avoided_by: &'static str,
}
