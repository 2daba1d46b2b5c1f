//! The in-memory [`QuotaBackend`]: the same rules as the DynamoDB one, for `make run` and one
//! local process (when `QUOTA_TABLE` is not set). Counters of past windows are dropped as time
//! moves on; usage is kept for [`USAGE_RETENTION_DAYS`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use futures_util::future::{BoxFuture, ready};

use super::until_window_end;
use super::{Admission, BackendError, DAY, LimitKind, MINUTE, QuotaBackend, TokenUsage, UsageRow};
use crate::auth::Limits;

/// Days of usage kept (the DynamoDB items' TTL is the same).
pub const USAGE_RETENTION_DAYS: u64 = 400;

#[derive(Debug, Default, Clone, Copy)]
struct Counter {
    requests: u64,
    tokens: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    requests: u64,
    tokens: TokenUsage,
}

#[derive(Default)]
struct Inner {
    /// (key, minute number) → counter.
    minutes: HashMap<(String, u64), Counter>,
    /// (key, day number) → counter.
    days: HashMap<(String, u64), Counter>,
    /// (day, key, model) → usage.
    usage: BTreeMap<(u64, String, String), Usage>,
    /// The minute of the last clean-up.
    pruned_at: u64,
}

/// Counters in process memory.
#[derive(Default)]
pub struct MemoryQuotas {
    inner: Mutex<Inner>,
}

impl MemoryQuotas {
    pub fn new() -> Self {
        Self::default()
    }

    fn admit_now(&self, key: &str, limits: Limits, now: u64) -> Admission {
        let (minute, day) = (now / MINUTE, now / DAY);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.prune(minute, day);
        let this_minute = inner
            .minutes
            .get(&(key.to_string(), minute))
            .copied()
            .unwrap_or_default();
        let today = inner
            .days
            .get(&(key.to_string(), day))
            .copied()
            .unwrap_or_default();
        let refused = if limits.rpm.is_some_and(|rpm| this_minute.requests >= rpm) {
            Some((LimitKind::Rpm, until_window_end(now, MINUTE)))
        } else if limits.tpm.is_some_and(|tpm| this_minute.tokens >= tpm) {
            Some((LimitKind::Tpm, until_window_end(now, MINUTE)))
        } else if limits.tokens_per_day.is_some_and(|max| today.tokens >= max) {
            Some((LimitKind::TokensPerDay, until_window_end(now, DAY)))
        } else {
            None
        };
        if let Some((limit, retry_after)) = refused {
            return Admission::Exceeded { limit, retry_after };
        }
        if limits.rpm.is_some() || limits.tpm.is_some() {
            inner
                .minutes
                .entry((key.to_string(), minute))
                .or_default()
                .requests += 1;
        }
        if limits.tokens_per_day.is_some() {
            inner
                .days
                .entry((key.to_string(), day))
                .or_default()
                .requests += 1;
        }
        Admission::Admitted
    }

    fn record_now(&self, key: &str, limits: Limits, model: &str, usage: TokenUsage, now: u64) {
        let (minute, day) = (now / MINUTE, now / DAY);
        let total = usage.total();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if limits.tpm.is_some() {
            inner
                .minutes
                .entry((key.to_string(), minute))
                .or_default()
                .tokens += total;
        }
        if limits.tokens_per_day.is_some() {
            inner.days.entry((key.to_string(), day)).or_default().tokens += total;
        }
        let row = inner
            .usage
            .entry((day, key.to_string(), model.to_string()))
            .or_default();
        row.requests += 1;
        row.tokens.input_tokens += usage.input_tokens;
        row.tokens.output_tokens += usage.output_tokens;
        row.tokens.cache_read_tokens += usage.cache_read_tokens;
        row.tokens.cache_write_tokens += usage.cache_write_tokens;
    }

    fn report_now(&self, from_day: u64, to_day: u64) -> Vec<UsageRow> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut rows: BTreeMap<(String, String), UsageRow> = BTreeMap::new();
        for ((day, key, model), usage) in &inner.usage {
            if *day < from_day || *day > to_day {
                continue;
            }
            let row = rows
                .entry((key.clone(), model.clone()))
                .or_insert_with(|| UsageRow {
                    key: key.clone(),
                    model: model.clone(),
                    ..UsageRow::default()
                });
            add(row, usage.requests, usage.tokens);
        }
        rows.into_values().collect()
    }
}

/// Adds one day's counts to a report row.
pub fn add(row: &mut UsageRow, requests: u64, tokens: TokenUsage) {
    row.requests += requests;
    row.tokens.input_tokens += tokens.input_tokens;
    row.tokens.output_tokens += tokens.output_tokens;
    row.tokens.cache_read_tokens += tokens.cache_read_tokens;
    row.tokens.cache_write_tokens += tokens.cache_write_tokens;
    row.total_tokens = row.tokens.total();
}

impl Inner {
    /// Drops past windows, once per minute.
    fn prune(&mut self, minute: u64, day: u64) {
        if self.pruned_at == minute {
            return;
        }
        self.pruned_at = minute;
        self.minutes.retain(|(_, m), _| *m >= minute);
        self.days.retain(|(_, d), _| *d >= day);
        let oldest = day.saturating_sub(USAGE_RETENTION_DAYS);
        self.usage.retain(|(d, _, _), _| *d >= oldest);
    }
}

impl QuotaBackend for MemoryQuotas {
    fn admit<'a>(
        &'a self,
        key: &'a str,
        limits: Limits,
        now: u64,
    ) -> BoxFuture<'a, Result<Admission, BackendError>> {
        Box::pin(ready(Ok(self.admit_now(key, limits, now))))
    }

    fn record<'a>(
        &'a self,
        key: &'a str,
        limits: Limits,
        model: &'a str,
        usage: TokenUsage,
        now: u64,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        self.record_now(key, limits, model, usage, now);
        Box::pin(ready(Ok(())))
    }

    fn report(
        &self,
        from_day: u64,
        to_day: u64,
    ) -> BoxFuture<'_, Result<Vec<UsageRow>, BackendError>> {
        Box::pin(ready(Ok(self.report_now(from_day, to_day))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_800_000_000 - 1_800_000_000 % DAY; // a day's start

    fn tokens(n: u64) -> TokenUsage {
        TokenUsage {
            input_tokens: n,
            ..TokenUsage::default()
        }
    }

    #[test]
    fn rpm_refuses_within_the_minute_and_admits_in_the_next() {
        let q = MemoryQuotas::new();
        let limits = Limits {
            rpm: Some(2),
            ..Limits::default()
        };
        assert_eq!(q.admit_now("a", limits, T0), Admission::Admitted);
        assert_eq!(q.admit_now("a", limits, T0 + 10), Admission::Admitted);
        assert_eq!(
            q.admit_now("a", limits, T0 + 50),
            Admission::Exceeded {
                limit: LimitKind::Rpm,
                retry_after: 10
            }
        );
        assert_eq!(
            q.admit_now("b", limits, T0 + 50),
            Admission::Admitted,
            "per key"
        );
        assert_eq!(q.admit_now("a", limits, T0 + 60), Admission::Admitted);
    }

    #[test]
    fn tokens_count_after_the_request_against_the_minute_and_the_day() {
        let q = MemoryQuotas::new();
        let limits = Limits {
            tpm: Some(100),
            tokens_per_day: Some(150),
            ..Limits::default()
        };
        assert_eq!(q.admit_now("a", limits, T0), Admission::Admitted);
        q.record_now("a", limits, "m", tokens(120), T0 + 1);
        assert_eq!(
            q.admit_now("a", limits, T0 + 2),
            Admission::Exceeded {
                limit: LimitKind::Tpm,
                retry_after: 58
            }
        );
        assert_eq!(q.admit_now("a", limits, T0 + 60), Admission::Admitted);
        q.record_now("a", limits, "m", tokens(40), T0 + 61);
        assert_eq!(
            q.admit_now("a", limits, T0 + 3600),
            Admission::Exceeded {
                limit: LimitKind::TokensPerDay,
                retry_after: DAY - 3600
            }
        );
        assert_eq!(q.admit_now("a", limits, T0 + DAY), Admission::Admitted);
    }

    #[test]
    fn usage_is_reported_per_key_and_model_over_days() {
        let q = MemoryQuotas::new();
        let none = Limits::default();
        q.record_now("a", none, "m1", tokens(10), T0);
        q.record_now("a", none, "m1", tokens(5), T0 + DAY);
        q.record_now("a", none, "m2", tokens(1), T0 + DAY);
        q.record_now("b", none, "m1", tokens(7), T0 + 2 * DAY);
        let day = T0 / DAY;
        let rows = q.report_now(day, day + 1);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].key.as_str(), rows[0].model.as_str()), ("a", "m1"));
        assert_eq!((rows[0].requests, rows[0].total_tokens), (2, 15));
        assert_eq!((rows[1].model.as_str(), rows[1].total_tokens), ("m2", 1));
        assert_eq!(q.report_now(day + 2, day + 2)[0].key, "b");
    }
}
