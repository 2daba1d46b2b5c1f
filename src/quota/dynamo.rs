//! The DynamoDB [`QuotaBackend`]: counters every gateway instance shares, in the table
//! `QUOTA_TABLE` names (template.yaml creates it when quotas are enabled). The only code that
//! calls the DynamoDB client for quotas; the client comes from the shared SDK configuration, as
//! the response store's does (src/responses/store/dynamo.rs), so `AWS_ENDPOINT_URL_DYNAMODB`
//! points it elsewhere (tests: moto).
//!
//! The table has a string partition key `pk` and a string sort key `sk`, TTL on `expires_at`:
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | a key's minute | `quota#<key name>` | `m#<minute number>` | `requests`, `tokens` |
//! | a key's UTC day | `quota#<key name>` | `d#<day number>` | `requests`, `tokens` |
//! | usage of a model | `usage#<day number>` | `<key name>#<model id>` | `key`, `model`, `requests`, `input_tokens`, `output_tokens`, `cache_read_tokens`, `cache_write_tokens` |
//!
//! Admission is one conditional `UpdateItem` per window (`ADD requests 1` if the counters are
//! under the limits), so two instances can never both take the last request of a window;
//! tokens are added with unconditional `ADD`s after the response. Minute items live an hour,
//! day items two days, usage items [`USAGE_RETENTION_DAYS`](super::memory::USAGE_RETENTION_DAYS).
//! The usage report queries one `usage#<day>` partition per day.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use futures_util::future::BoxFuture;

use super::memory::{USAGE_RETENTION_DAYS, add};
use super::{
    Admission, BackendError, DAY, LimitKind, MINUTE, QuotaBackend, TokenUsage, UsageRow,
    until_window_end,
};
use crate::auth::Limits;

type Item = HashMap<String, AttributeValue>;

/// Quota counters in a DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoQuotas {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn number(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl DynamoQuotas {
    pub fn new(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        DynamoQuotas {
            client: aws_sdk_dynamodb::Client::new(sdk),
            table: table.into(),
        }
    }

    /// `ADD requests 1` on one window's item if `conditions` hold; `Ok(None)` when they do not,
    /// with the item as it was if DynamoDB returned it.
    async fn count_request(
        &self,
        key: &str,
        sort_key: String,
        expires_at: u64,
        conditions: &[(&str, &str, u64)],
    ) -> Result<Result<(), Option<Item>>, BackendError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("quota#{key}")))
            .key("sk", s(sort_key))
            .update_expression("ADD #requests :one SET #expires_at = :expires")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", n(expires_at))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let mut clauses = Vec::new();
        for (attribute, placeholder, limit) in conditions {
            clauses.push(format!(
                "(attribute_not_exists(#{attribute}) OR #{attribute} < {placeholder})"
            ));
            update = update.expression_attribute_values(*placeholder, n(*limit));
        }
        let condition = clauses.join(" AND ");
        let mut expressions = "#requests #expires_at ".to_string();
        if !clauses.is_empty() {
            expressions.push_str(&condition);
            update = update.condition_expression(condition);
        }
        update = update.set_expression_attribute_names(Some(attribute_names(&expressions)));
        match update.send().await {
            Ok(_) => Ok(Ok(())),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                let old = match e.err() {
                    UpdateItemError::ConditionalCheckFailedException(c) => c.item.clone(),
                    _ => None,
                };
                Ok(Err(old))
            }
            Err(err) => Err(backend_error(&err)),
        }
    }

    async fn admit_now(
        &self,
        key: &str,
        limits: Limits,
        now: u64,
    ) -> Result<Admission, BackendError> {
        let (minute, day) = (now / MINUTE, now / DAY);
        let minute_check = async {
            let mut conditions = Vec::new();
            if let Some(rpm) = limits.rpm {
                conditions.push(("requests", ":rpm", rpm));
            }
            if let Some(tpm) = limits.tpm {
                conditions.push(("tokens", ":tpm", tpm));
            }
            if conditions.is_empty() {
                return Ok(Admission::Admitted);
            }
            let expires = (minute + 1) * MINUTE + 3600;
            Ok(
                match self
                    .count_request(key, format!("m#{minute}"), expires, &conditions)
                    .await?
                {
                    Ok(()) => Admission::Admitted,
                    Err(old) => Admission::Exceeded {
                        limit: which_minute_limit(limits, old.as_ref()),
                        retry_after: until_window_end(now, MINUTE),
                    },
                },
            )
        };
        let day_check = async {
            let Some(max) = limits.tokens_per_day else {
                return Ok(Admission::Admitted);
            };
            let expires = (day + 1) * DAY + 2 * DAY;
            let conditions = [("tokens", ":tpd", max)];
            Ok(
                match self
                    .count_request(key, format!("d#{day}"), expires, &conditions)
                    .await?
                {
                    Ok(()) => Admission::Admitted,
                    Err(_) => Admission::Exceeded {
                        limit: LimitKind::TokensPerDay,
                        retry_after: until_window_end(now, DAY),
                    },
                },
            )
        };
        let (minute_outcome, day_outcome) = tokio::join!(minute_check, day_check);
        // The day's refusal lasts longer, so it is the one to report.
        match (minute_outcome?, day_outcome?) {
            (_, refused @ Admission::Exceeded { .. }) => Ok(refused),
            (minute, Admission::Admitted) => Ok(minute),
        }
    }

    async fn add(
        &self,
        pk: String,
        sk: String,
        expression: &str,
        values: Item,
    ) -> Result<(), BackendError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .update_expression(expression)
            .set_expression_attribute_names(Some(attribute_names(expression)))
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| backend_error(&e))
    }

    async fn record_now(
        &self,
        key: &str,
        limits: Limits,
        model: &str,
        usage: TokenUsage,
        now: u64,
    ) -> Result<(), BackendError> {
        let (minute, day) = (now / MINUTE, now / DAY);
        let total = usage.total();
        let tokens = |expires: u64| {
            Item::from([
                (":tokens".to_string(), n(total)),
                (":expires".to_string(), n(expires)),
            ])
        };
        let add_tokens = "ADD #tokens :tokens SET #expires_at = :expires";
        let minute_tokens = async {
            match limits.tpm {
                Some(_) => {
                    self.add(
                        format!("quota#{key}"),
                        format!("m#{minute}"),
                        add_tokens,
                        tokens((minute + 1) * MINUTE + 3600),
                    )
                    .await
                }
                None => Ok(()),
            }
        };
        let day_tokens = async {
            match limits.tokens_per_day {
                Some(_) => {
                    self.add(
                        format!("quota#{key}"),
                        format!("d#{day}"),
                        add_tokens,
                        tokens((day + 3) * DAY),
                    )
                    .await
                }
                None => Ok(()),
            }
        };
        let usage_values = Item::from([
            (":one".to_string(), n(1)),
            (":input".to_string(), n(usage.input_tokens)),
            (":output".to_string(), n(usage.output_tokens)),
            (":read".to_string(), n(usage.cache_read_tokens)),
            (":write".to_string(), n(usage.cache_write_tokens)),
            (":key".to_string(), s(key)),
            (":model".to_string(), s(model)),
            (
                ":expires".to_string(),
                n((day + 1 + USAGE_RETENTION_DAYS) * DAY),
            ),
        ]);
        let usage_item = self.add(
            format!("usage#{day}"),
            format!("{key}#{model}"),
            "ADD #requests :one, #input_tokens :input, #output_tokens :output, #cache_read_tokens :read, #cache_write_tokens :write SET #key = :key, #model = :model, #expires_at = :expires",
            usage_values,
        );
        let (a, b, c) = tokio::join!(minute_tokens, day_tokens, usage_item);
        a.and(b).and(c)
    }

    async fn report_now(&self, from_day: u64, to_day: u64) -> Result<Vec<UsageRow>, BackendError> {
        let mut rows: BTreeMap<(String, String), UsageRow> = BTreeMap::new();
        for day in from_day..=to_day {
            let mut pages = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(format!("usage#{day}")))
                .into_paginator()
                .items()
                .send();
            while let Some(item) = pages.next().await {
                let item = item.map_err(|e| backend_error(&e))?;
                let text = |name: &str| {
                    item.get(name)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default()
                };
                let (key, model) = (text("key"), text("model"));
                let row = rows
                    .entry((key.clone(), model.clone()))
                    .or_insert_with(|| UsageRow {
                        key,
                        model,
                        ..UsageRow::default()
                    });
                add(
                    row,
                    number(&item, "requests"),
                    TokenUsage {
                        input_tokens: number(&item, "input_tokens"),
                        output_tokens: number(&item, "output_tokens"),
                        cache_read_tokens: number(&item, "cache_read_tokens"),
                        cache_write_tokens: number(&item, "cache_write_tokens"),
                    },
                );
            }
        }
        Ok(rows.into_values().collect())
    }
}

/// Which minute limit a refused admission hit, from the item as it was (if DynamoDB said).
fn which_minute_limit(limits: Limits, old: Option<&Item>) -> LimitKind {
    match (limits.rpm, limits.tpm, old) {
        (Some(_), None, _) => LimitKind::Rpm,
        (None, Some(_), _) => LimitKind::Tpm,
        (Some(rpm), Some(_), Some(item)) if number(item, "requests") >= rpm => LimitKind::Rpm,
        (Some(_), Some(_), Some(_)) => LimitKind::Tpm,
        _ => LimitKind::Minute,
    }
}

/// `#name` → `name` for every `#name` in `expression`. Every attribute goes through a name
/// placeholder, so none can collide with DynamoDB's reserved words (`key` is one).
fn attribute_names(expression: &str) -> HashMap<String, String> {
    expression
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '#'))
        .filter_map(|word| word.strip_prefix('#'))
        .filter(|name| !name.is_empty())
        .map(|name| (format!("#{name}"), name.to_string()))
        .collect()
}

fn backend_error<E, R>(err: &SdkError<E, R>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let detail = aws_smithy_types::error::display::DisplayErrorContext(err).to_string();
    let summary = match err {
        SdkError::ServiceError(e) => e.err().code().unwrap_or("service error").to_string(),
        SdkError::TimeoutError(_) => "timed out".to_string(),
        SdkError::DispatchFailure(_) => "could not connect".to_string(),
        _ => "unexpected response".to_string(),
    };
    BackendError { summary, detail }
}

impl QuotaBackend for DynamoQuotas {
    fn admit<'a>(
        &'a self,
        key: &'a str,
        limits: Limits,
        now: u64,
    ) -> BoxFuture<'a, Result<Admission, BackendError>> {
        Box::pin(self.admit_now(key, limits, now))
    }

    fn record<'a>(
        &'a self,
        key: &'a str,
        limits: Limits,
        model: &'a str,
        usage: TokenUsage,
        now: u64,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(self.record_now(key, limits, model, usage, now))
    }

    fn report(
        &self,
        from_day: u64,
        to_day: u64,
    ) -> BoxFuture<'_, Result<Vec<UsageRow>, BackendError>> {
        Box::pin(self.report_now(from_day, to_day))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_named() {
        let names = attribute_names("ADD #requests :one SET #key = :key, #expires_at = :e");
        assert_eq!(names.len(), 3);
        assert_eq!(names["#key"], "key");
        assert_eq!(names["#expires_at"], "expires_at");
    }

    #[test]
    fn the_refused_minute_limit_is_named_when_dynamodb_says() {
        let both = Limits {
            rpm: Some(2),
            tpm: Some(100),
            ..Limits::default()
        };
        let item = Item::from([("requests".to_string(), n(2)), ("tokens".to_string(), n(5))]);
        assert_eq!(which_minute_limit(both, Some(&item)), LimitKind::Rpm);
        let item = Item::from([
            ("requests".to_string(), n(1)),
            ("tokens".to_string(), n(150)),
        ]);
        assert_eq!(which_minute_limit(both, Some(&item)), LimitKind::Tpm);
        assert_eq!(which_minute_limit(both, None), LimitKind::Minute);
    }
}
