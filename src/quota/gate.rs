//! The quota step of the auth middleware ([`run`]): name the key in the request record, admit
//! the request under the key's limits (or answer the 429), and settle its tokens when its
//! response body ends: the body is wrapped so that, after the last frame, the tokens Bedrock
//! reported for the request (read from the request record, `crate::telemetry`, at that moment,
//! stream included) are recorded against the key's quotas and usage before the body says it
//! has ended. A response whose body is already whole (not a stream) is settled before it is
//! returned.
//!
//! Awaited rather than spawned: on Lambda the execution environment may be frozen as soon as
//! the response is complete, and a task still waiting on DynamoDB would then run late or never.
//! Behind an ALB the adapter reads the body to its end before answering, so the tokens are
//! recorded within the invocation. A body dropped before its end (the client left, or hyper
//! stopped after the announced length) records what is known on a spawned task instead.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::future::BoxFuture;
use http_body::{Frame, SizeHint};

use super::{Admitted, Quotas, TokenUsage};
use crate::auth::Caller;
use crate::state::AppState;
use crate::telemetry::{Recorder, RequestRecord};

/// After the key check: names the key in the request record, admits the request under the
/// key's limits, hands the [`Caller`] to the handler and settles the tokens at the body's end.
pub async fn run(state: &AppState, caller: Caller, mut request: Request, next: Next) -> Response {
    let recorder = request
        .extensions()
        .get::<Recorder>()
        .cloned()
        .unwrap_or_default();
    recorder.set_key_name(Some(caller.name.clone()));
    match state.quotas.admit(&caller).await {
        Err(refused) => return refused,
        Ok(Admitted::Unchecked) => recorder.update(|r| r.quota_check_failed = true),
        Ok(Admitted::Checked) => {}
    }
    request.extensions_mut().insert(caller.clone());
    let response = next.run(request).await;
    if response.body().size_hint().exact().is_some() {
        // A whole body, not a stream: the handler is done, so the record is final. Recorded
        // before answering, as a client holding the whole answer may send its next request
        // (to another instance) at once, and a server that knows the length stops reading
        // the body at its last byte, before any end-of-body step could run.
        if let Some(used) = used(&recorder.snapshot()) {
            state.quotas.record(&caller, &used.model, used.tokens).await;
        }
        return response;
    }
    let used: ReadUsed = Box::new(move || used(&recorder.snapshot()));
    settle_at_end(state.quotas.clone(), caller, response, used)
}

/// What a finished request used, from its record: the model it ran on and Bedrock's usage.
pub fn used(record: &RequestRecord) -> Option<Used> {
    let tokens = record.usage?;
    Some(Used {
        model: record.model_used.clone()?,
        tokens: TokenUsage {
            input_tokens: tokens.input,
            output_tokens: tokens.output,
            cache_read_tokens: tokens.cache_read,
            cache_write_tokens: tokens.cache_write,
        },
    })
}

/// What a finished request used: the Bedrock model it ran on and its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Used {
    pub model: String,
    pub tokens: TokenUsage,
}

/// Reads what the request used, once its body has ended; `None` if it called no model or
/// Bedrock reported no usage.
pub type ReadUsed = Box<dyn FnOnce() -> Option<Used> + Send>;

/// `response` with a body that records the request's tokens for `caller` when it ends.
pub fn settle_at_end(
    quotas: Arc<Quotas>,
    caller: Caller,
    response: Response,
    used: ReadUsed,
) -> Response {
    response.map(|inner| {
        Body::new(SettlingBody {
            inner,
            phase: Phase::Streaming(Some(Pending {
                quotas,
                caller,
                used,
            })),
        })
    })
}

struct Pending {
    quotas: Arc<Quotas>,
    caller: Caller,
    used: ReadUsed,
}

impl Pending {
    /// The recording to run, if the request used anything.
    fn settle(self) -> Option<BoxFuture<'static, ()>> {
        let used = (self.used)()?;
        let (quotas, caller) = (self.quotas, self.caller);
        Some(Box::pin(async move {
            quotas.record(&caller, &used.model, used.tokens).await;
        }))
    }
}

enum Phase {
    Streaming(Option<Pending>),
    Settling(BoxFuture<'static, ()>),
    Done,
}

struct SettlingBody {
    inner: Body,
    phase: Phase,
}

impl HttpBody for SettlingBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        loop {
            match &mut this.phase {
                Phase::Streaming(pending) => {
                    let frame = std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx));
                    if frame.is_some() {
                        return Poll::Ready(frame);
                    }
                    this.phase = match pending.take().and_then(Pending::settle) {
                        Some(settling) => Phase::Settling(settling),
                        None => Phase::Done,
                    };
                }
                Phase::Settling(settling) => {
                    std::task::ready!(settling.as_mut().poll(cx));
                    this.phase = Phase::Done;
                }
                Phase::Done => return Poll::Ready(None),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.phase, Phase::Done)
            || matches!(self.phase, Phase::Streaming(_)) && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for SettlingBody {
    fn drop(&mut self) {
        let settling = match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Streaming(pending) => pending.and_then(Pending::settle),
            Phase::Settling(settling) => Some(settling),
            Phase::Done => None,
        };
        if let Some(settling) = settling
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(settling);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{ApiKey, KeySet, Limits};
    use crate::quota::memory::MemoryQuotas;
    use crate::quota::{DAY, FailureMode, unix_now};
    use http_body_util::BodyExt;

    fn caller() -> Caller {
        let mut key = ApiKey::plain("k");
        key.limits = Limits {
            tpm: Some(1000),
            ..Limits::default()
        };
        Caller(
            KeySet::new(vec![key])
                .find(&crate::auth::key::digest("k"))
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn tokens_are_recorded_before_the_body_ends_or_when_it_is_dropped() {
        let quotas = Arc::new(Quotas::new(
            Arc::new(MemoryQuotas::new()),
            FailureMode::Open,
            "memory",
        ));
        let used = || -> ReadUsed {
            Box::new(|| {
                Some(Used {
                    model: "m".into(),
                    tokens: TokenUsage {
                        input_tokens: 3,
                        output_tokens: 4,
                        ..TokenUsage::default()
                    },
                })
            })
        };
        let response = Response::new(Body::from("hello"));
        let response = settle_at_end(quotas.clone(), caller(), response, used());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "hello");
        let today = unix_now() / DAY;
        let rows = quotas.report(today, today).await.unwrap();
        assert_eq!((rows[0].requests, rows[0].total_tokens), (1, 7));

        // Dropped unread: recorded on a spawned task.
        let response = settle_at_end(
            quotas.clone(),
            caller(),
            Response::new(Body::from("x")),
            used(),
        );
        drop(response);
        tokio::task::yield_now().await;
        let rows = quotas.report(today, today).await.unwrap();
        assert_eq!(rows[0].requests, 2);

        // Nothing used: nothing recorded.
        let response = settle_at_end(
            quotas.clone(),
            caller(),
            Response::new(Body::empty()),
            Box::new(|| None),
        );
        let _ = response.into_body().collect().await.unwrap();
        assert_eq!(quotas.report(today, today).await.unwrap()[0].requests, 2);
    }
}
