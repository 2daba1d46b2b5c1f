//! A value loaded from somewhere slow and kept fresh: the one refresh policy behind the API keys
//! ([`crate::auth`]) and the model catalogue ([`crate::catalog`]).
//!
//! [`Refreshing`] holds the last value a [`Source`] loaded and decides when to load again:
//!
//! - **Load once, single flight.** The first caller loads; callers arriving meanwhile wait for
//!   that load and share its outcome instead of starting their own.
//! - **Time to live.** A value is fresh for [`Policy::ttl`]. Once stale it is either reloaded
//!   while the caller waits ([`OnStale::Wait`]) or served as is while one background task
//!   reloads it ([`OnStale::Revalidate`], stale-while-revalidate).
//! - **Stale on failure.** A failed load keeps the last good value; the failure is not retried
//!   for [`Policy::retry_interval`], so a broken source is not asked on every call.
//! - **Early refresh, rate-limited.** A caller that finds the value lacking (a key or model it
//!   does not hold) may ask for a reload with [`Refreshing::refresh_early`]; at most one load
//!   per [`Policy::retry_interval`] starts that way.
//! - **Nothing loaded yet.** Each call tries to load, but after a failure at most once per
//!   [`Policy::empty_retry_interval`]; meanwhile calls get the last error at once.
//!
//! Time is tokio's, so tests run the policy on paused time. A load is not bounded here: the
//! source applies its own timeout, since it knows what a timeout means in its error type.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tokio::time::{Duration, Instant};

/// Where a [`Refreshing`] value comes from.
pub trait Source: Send + Sync + 'static {
    type Value: Clone + Send + Sync + 'static;
    type Error: Clone + Send + Sync + 'static;

    /// Loads the current value.
    fn load(&self) -> impl Future<Output = Result<Self::Value, Self::Error>> + Send;

    /// Told about each failed load; `kept` says whether an earlier value still serves. For
    /// logging (the cache itself logs nothing).
    fn failed(&self, error: &Self::Error, kept: bool) {
        let _ = (error, kept);
    }
}

/// What a caller of [`Refreshing::get`] gets once the value is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStale {
    /// Reload, and wait for it (the reloaded value, or the stale one if the reload failed).
    Wait,
    /// Get the stale value at once; one background task reloads it.
    Revalidate,
}

/// When to load again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long a loaded value is fresh.
    pub ttl: Duration,
    /// The shortest time between a load and an early refresh, and between a failed load and
    /// the next attempt while an earlier value is held.
    pub retry_interval: Duration,
    /// While nothing was ever loaded, the shortest time between a failed load and the next.
    pub empty_retry_interval: Duration,
    pub on_stale: OnStale,
}

/// The outcome of [`Refreshing::refresh_early`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Early<T, E> {
    /// A load ran (this caller's, or one it waited for) and gave this value.
    Loaded(T),
    /// The last load succeeded too recently to load again.
    TooSoon,
    /// Loading failed, now or within the retry interval.
    Failed(E),
}

/// A value from a [`Source`], reloaded under a [`Policy`]. Share it in an [`Arc`].
pub struct Refreshing<S: Source> {
    source: S,
    policy: Policy,
    state: std::sync::Mutex<State<S::Value, S::Error>>,
    /// Held while loading: one load at a time.
    flight: tokio::sync::Mutex<()>,
}

struct State<T, E> {
    value: Option<T>,
    loaded_at: Option<Instant>,
    attempted_at: Option<Instant>,
    /// The last attempt's error; `None` once an attempt succeeds.
    failure: Option<E>,
    /// Counts attempts, so that callers who waited for a load use its outcome.
    attempts: u64,
    /// A background reload is running.
    revalidating: bool,
}

impl<S: Source + fmt::Debug> fmt::Debug for Refreshing<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refreshing")
            .field("source", &self.source)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<S: Source> Refreshing<S> {
    /// Nothing loaded yet; the first [`get`](Self::get) loads.
    pub fn new(source: S, policy: Policy) -> Self {
        Refreshing {
            source,
            policy,
            state: std::sync::Mutex::new(State {
                value: None,
                loaded_at: None,
                attempted_at: None,
                failure: None,
                attempts: 0,
                revalidating: false,
            }),
            flight: tokio::sync::Mutex::new(()),
        }
    }

    /// What the values come from.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// When values are loaded again.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<S::Value, S::Error>> {
        // Every write under this lock is a plain assignment: a panic elsewhere cannot leave the
        // state half-written, so a poisoned lock is still good to use.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value to use now (see the module documentation), or the error of the last load
    /// while nothing was ever loaded.
    pub async fn get(self: &Arc<Self>) -> Result<S::Value, S::Error> {
        let seen = {
            let mut state = self.state();
            let now = Instant::now();
            let failed_within = |state: &State<_, _>, interval: Duration| {
                state.failure.is_some()
                    && state
                        .attempted_at
                        .is_some_and(|at| now.duration_since(at) < interval)
            };
            if let Some(value) = state.value.clone() {
                let fresh = state
                    .loaded_at
                    .is_some_and(|at| now.duration_since(at) < self.policy.ttl);
                if fresh || failed_within(&state, self.policy.retry_interval) {
                    return Ok(value);
                }
                if self.policy.on_stale == OnStale::Revalidate {
                    if !state.revalidating {
                        state.revalidating = true;
                        let seen = state.attempts;
                        drop(state);
                        self.revalidate_in_background(seen);
                    }
                    return Ok(value);
                }
            } else if failed_within(&state, self.policy.empty_retry_interval)
                && let Some(error) = state.failure.clone()
            {
                return Err(error);
            }
            state.attempts
        };
        let outcome = self.load_after(seen).await;
        match (outcome, self.state().value.clone()) {
            (Ok(value), _) | (Err(_), Some(value)) => Ok(value),
            (Err(error), None) => Err(error),
        }
    }

    /// Loads again now, for a caller that found the value lacking, unless the last attempt
    /// was within the retry interval.
    pub async fn refresh_early(&self) -> Early<S::Value, S::Error> {
        let seen = {
            let state = self.state();
            let recent = state
                .attempted_at
                .is_some_and(|at| at.elapsed() < self.policy.retry_interval);
            if recent {
                return match &state.failure {
                    Some(error) => Early::Failed(error.clone()),
                    None => Early::TooSoon,
                };
            }
            state.attempts
        };
        match self.load_after(seen).await {
            Ok(value) => Early::Loaded(value),
            Err(error) => Early::Failed(error),
        }
    }

    fn revalidate_in_background(self: &Arc<Self>, seen: u64) {
        /// Clears the flag when the reload ends, however it ends.
        struct Revalidation<S: Source>(Arc<Refreshing<S>>);
        impl<S: Source> Drop for Revalidation<S> {
            fn drop(&mut self) {
                self.0.state().revalidating = false;
            }
        }
        let guard = Revalidation(Arc::clone(self));
        tokio::spawn(async move {
            // The outcome lands in the state; the source hears of a failure.
            let _ = guard.0.load_after(seen).await;
            drop(guard);
        });
    }

    /// Loads, unless an attempt after attempt number `seen` has ended meanwhile: then that
    /// attempt's outcome.
    async fn load_after(&self, seen: u64) -> Result<S::Value, S::Error> {
        let _flight = self.flight.lock().await;
        {
            let state = self.state();
            if state.attempts != seen {
                // Every attempt leaves a value or an error; were neither there, load after all.
                match (&state.failure, &state.value) {
                    (Some(error), _) => return Err(error.clone()),
                    (None, Some(value)) => return Ok(value.clone()),
                    (None, None) => {}
                }
            }
        }
        let result = self.source.load().await;
        let mut state = self.state();
        let now = Instant::now();
        state.attempts += 1;
        state.attempted_at = Some(now);
        match &result {
            Ok(value) => {
                state.value = Some(value.clone());
                state.loaded_at = Some(now);
                state.failure = None;
            }
            Err(error) => {
                state.failure = Some(error.clone());
                self.source.failed(error, state.value.is_some());
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A source that counts its loads, answers `Ok(n)` (the load's number) after `delay`, or
    /// fails while `failing` is set.
    #[derive(Default)]
    struct Counter {
        loads: AtomicU32,
        failing: std::sync::atomic::AtomicBool,
        delay: Duration,
        kept: std::sync::Mutex<Vec<bool>>,
    }

    impl Source for Arc<Counter> {
        type Value = u32;
        type Error = String;

        async fn load(&self) -> Result<u32, String> {
            let n = self.loads.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(self.delay).await;
            if self.failing.load(Ordering::SeqCst) {
                Err(format!("load {n} failed"))
            } else {
                Ok(n)
            }
        }

        fn failed(&self, _: &String, kept: bool) {
            self.kept.lock().unwrap().push(kept);
        }
    }

    impl Counter {
        fn loads(&self) -> u32 {
            self.loads.load(Ordering::SeqCst)
        }
        fn fail(&self, failing: bool) {
            self.failing.store(failing, Ordering::SeqCst);
        }
    }

    const POLICY: Policy = Policy {
        ttl: Duration::from_secs(60),
        retry_interval: Duration::from_secs(10),
        empty_retry_interval: Duration::from_secs(1),
        on_stale: OnStale::Wait,
    };

    fn cache(policy: Policy, delay: Duration) -> (Arc<Counter>, Arc<Refreshing<Arc<Counter>>>) {
        let counter = Arc::new(Counter {
            delay,
            ..Counter::default()
        });
        (counter.clone(), Arc::new(Refreshing::new(counter, policy)))
    }

    async fn advance(secs: f64) {
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn loads_once_and_concurrent_callers_share_the_load() {
        let (counter, cache) = cache(POLICY, Duration::from_secs(2));
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get().await })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.await.unwrap(), Ok(1));
        }
        assert_eq!(counter.loads(), 1);
        advance(59.0).await;
        assert_eq!(cache.get().await, Ok(1), "fresh within the ttl");
        assert_eq!(counter.loads(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn wait_mode_reloads_once_stale_and_keeps_the_value_when_that_fails() {
        let (counter, cache) = cache(POLICY, Duration::ZERO);
        assert_eq!(cache.get().await, Ok(1));
        advance(60.0).await;
        assert_eq!(cache.get().await, Ok(2), "stale: reloaded while waiting");

        advance(60.0).await;
        counter.fail(true);
        assert_eq!(cache.get().await, Ok(2), "a failed reload keeps the value");
        assert_eq!(*counter.kept.lock().unwrap(), [true]);
        // The failure is not retried within the retry interval, however many calls come.
        for _ in 0..5 {
            assert_eq!(cache.get().await, Ok(2));
        }
        assert_eq!(counter.loads(), 3);
        advance(10.0).await;
        counter.fail(false);
        assert_eq!(cache.get().await, Ok(4), "retried after the interval");
    }

    #[tokio::test(start_paused = true)]
    async fn revalidate_mode_serves_stale_while_one_task_reloads() {
        let policy = Policy {
            on_stale: OnStale::Revalidate,
            ..POLICY
        };
        let (counter, cache) = cache(policy, Duration::from_secs(5));
        assert_eq!(cache.get().await, Ok(1), "the first load is waited for");
        advance(61.0).await;
        let started = Instant::now();
        for _ in 0..5 {
            assert_eq!(cache.get().await, Ok(1), "stale, at once");
        }
        assert_eq!(started.elapsed(), Duration::ZERO);
        advance(6.0).await;
        assert_eq!(counter.loads(), 2, "one background reload");
        assert_eq!(cache.get().await, Ok(2));

        // A failed background reload keeps the value and is not retried within the interval.
        counter.fail(true);
        advance(61.0).await;
        assert_eq!(cache.get().await, Ok(2));
        advance(6.0).await;
        assert_eq!(counter.loads(), 3);
        assert_eq!(cache.get().await, Ok(2));
        advance(1.0).await;
        assert_eq!(counter.loads(), 3, "no retry within the interval");
        advance(10.0).await;
        counter.fail(false);
        assert_eq!(cache.get().await, Ok(2));
        advance(6.0).await;
        assert_eq!(cache.get().await, Ok(4));
    }

    #[tokio::test(start_paused = true)]
    async fn early_refreshes_are_rate_limited() {
        let (counter, cache) = cache(POLICY, Duration::ZERO);
        assert_eq!(cache.get().await, Ok(1));
        assert_eq!(cache.refresh_early().await, Early::TooSoon);
        advance(9.9).await;
        assert_eq!(cache.refresh_early().await, Early::TooSoon);
        advance(0.1).await;
        assert_eq!(cache.refresh_early().await, Early::Loaded(2));
        assert_eq!(cache.refresh_early().await, Early::TooSoon);
        assert_eq!(cache.get().await, Ok(2));

        advance(10.0).await;
        counter.fail(true);
        assert_eq!(
            cache.refresh_early().await,
            Early::Failed("load 3 failed".into())
        );
        // Within the interval the failure is the answer, without loading.
        assert_eq!(
            cache.refresh_early().await,
            Early::Failed("load 3 failed".into())
        );
        assert_eq!(counter.loads(), 3);
        assert_eq!(cache.get().await, Ok(2), "the value still serves");
    }

    #[tokio::test(start_paused = true)]
    async fn while_nothing_loads_the_source_is_tried_at_most_once_per_interval() {
        let (counter, cache) = cache(POLICY, Duration::ZERO);
        counter.fail(true);
        assert_eq!(cache.get().await, Err("load 1 failed".into()));
        assert_eq!(*counter.kept.lock().unwrap(), [false]);
        for _ in 0..20 {
            assert_eq!(cache.get().await, Err("load 1 failed".into()));
        }
        assert_eq!(counter.loads(), 1);
        advance(1.0).await;
        assert_eq!(cache.get().await, Err("load 2 failed".into()));
        advance(1.0).await;
        counter.fail(false);
        assert_eq!(cache.get().await, Ok(3));
    }

    #[tokio::test(start_paused = true)]
    async fn callers_queued_behind_a_failed_load_share_its_error() {
        let (counter, cache) = cache(POLICY, Duration::from_secs(3));
        counter.fail(true);
        let callers: Vec<_> = (0..4)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get().await })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.await.unwrap(), Err("load 1 failed".into()));
        }
        assert_eq!(counter.loads(), 1);
    }
}
