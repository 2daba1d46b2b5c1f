//! `GET /usage?from=YYYY-MM-DD&to=YYYY-MM-DD`: tokens per key and model over whole UTC days,
//! from the quota counters ([`crate::quota`]: the DynamoDB table when `QUOTA_TABLE` is set,
//! otherwise this process's memory). Only for keys marked `admin` in the key document.
//!
//! `from` and `to` are UTC dates (an RFC 3339 time counts as its UTC date), both included; each
//! defaults to today, and the span is at most [`MAX_REPORT_DAYS`] days.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Serialize;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorKind};
use crate::quota::{DAY, MAX_REPORT_DAYS, UsageRow, unix_now};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct UsageReport {
    pub object: &'static str,
    /// The first and last UTC dates reported, both included.
    pub from: String,
    pub to: String,
    pub data: Vec<UsageRow>,
}

pub async fn usage(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<UsageReport>, ApiError> {
    if !caller.admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorKind::PermissionError,
            format!(
                "The API key `{}` may not read usage: only keys marked `\"admin\": true` in the key document may.",
                caller.name
            ),
        )
        .with_code("admin_key_required"));
    }
    let today = unix_now() / DAY;
    let (mut from, mut to) = (today, today);
    for (name, value) in url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match name.as_ref() {
            "from" => from = parse_day("from", &value)?,
            "to" => to = parse_day("to", &value)?,
            _ => {}
        }
    }
    if from > to {
        return Err(ApiError::invalid_param(
            "from",
            "`from` must not be after `to`.",
        ));
    }
    if to - from >= MAX_REPORT_DAYS {
        return Err(ApiError::invalid_param(
            "from",
            format!("Ask for at most {MAX_REPORT_DAYS} days at once."),
        ));
    }
    let data = state.quotas.report(from, to).await?;
    Ok(Json(UsageReport {
        object: "usage_report",
        from: date(from),
        to: date(to),
        data,
    }))
}

/// A UTC date (`2026-12-01`) or an RFC 3339 time, as a day number since the epoch.
fn parse_day(param: &str, value: &str) -> Result<u64, ApiError> {
    use aws_smithy_types::date_time::{DateTime, Format};
    let value = value.trim();
    let text = if value.len() == 10 {
        format!("{value}T00:00:00Z")
    } else {
        value.to_string()
    };
    DateTime::from_str(&text, Format::DateTimeWithOffset)
        .ok()
        .and_then(|t| u64::try_from(t.secs()).ok())
        .map(|secs| secs / DAY)
        .ok_or_else(|| {
            ApiError::invalid_param(
                param,
                format!("`{param}` must be a date like 2026-12-01 (UTC) or an RFC 3339 time."),
            )
        })
}

/// A day number as `YYYY-MM-DD`.
fn date(day: u64) -> String {
    use aws_smithy_types::date_time::{DateTime, Format};
    DateTime::from_secs((day * DAY) as i64)
        .fmt(Format::DateTime)
        .map(|t| t[..10].to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days() {
        let day = parse_day("from", "2026-12-01").unwrap();
        assert_eq!(date(day), "2026-12-01");
        assert_eq!(parse_day("to", "2026-12-01T23:59:59Z").unwrap(), day);
        assert_eq!(parse_day("to", "2026-12-02T00:30:00+01:00").unwrap(), day);
        assert_eq!(
            parse_day("from", "yesterday").unwrap_err().param.as_deref(),
            Some("from")
        );
    }
}
