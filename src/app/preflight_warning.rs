//! A trace for browser calls that CORS refuses. A preflight (`OPTIONS` with
//! `Access-Control-Request-Method`) from an origin `CORS_ALLOWED_ORIGINS` does not allow is
//! answered 200 without `Access-Control-Allow-Origin`, so the browser says only "Failed to
//! fetch" and the access log only `OPTIONS 200`. This middleware, outside the CORS layer, logs a
//! warning naming the origin and the setting: once per origin per [`WARN_INTERVAL`], so that a
//! page retrying in a loop (or anyone sending made-up origins) cannot flood the log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tokio::time::{Duration, Instant};

/// How long an origin stays quiet after its warning.
pub const WARN_INTERVAL: Duration = Duration::from_secs(600);
/// Origins remembered at most; past it, the expired ones are forgotten, then all.
const MAX_REMEMBERED: usize = 1024;
/// Longest origin written to the log.
const MAX_LOGGED_ORIGIN: usize = 200;

/// The origins browsers may call from, as the CORS layer compares them, and when each refused
/// origin was last logged.
#[derive(Debug)]
pub struct PreflightWarnings {
    /// `None`: every origin (`*`). `Some(empty)`: none (`CORS_ALLOWED_ORIGINS=none`).
    allowed: Option<Vec<HeaderValue>>,
    logged: Mutex<HashMap<Vec<u8>, Instant>>,
}

impl PreflightWarnings {
    /// From the `CORS_ALLOWED_ORIGINS` list as `Config` holds it (`["*"]`, empty, or origins).
    pub fn new(allowed: &[String]) -> Arc<Self> {
        let allowed = match allowed {
            [any] if any == "*" => None,
            origins => Some(
                origins
                    .iter()
                    .filter_map(|o| o.parse::<HeaderValue>().ok())
                    .collect(),
            ),
        };
        Arc::new(PreflightWarnings {
            allowed,
            logged: Mutex::new(HashMap::new()),
        })
    }

    fn refuses(&self, origin: &HeaderValue) -> bool {
        self.allowed
            .as_ref()
            .is_some_and(|allowed| !allowed.contains(origin))
    }

    /// Whether `origin` is due a warning now (and, if so, records that it got one).
    fn due(&self, origin: &HeaderValue) -> bool {
        let now = Instant::now();
        let mut logged = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = logged.get(origin.as_bytes())
            && now.duration_since(*at) < WARN_INTERVAL
        {
            return false;
        }
        if logged.len() >= MAX_REMEMBERED {
            logged.retain(|_, at| now.duration_since(*at) < WARN_INTERVAL);
            if logged.len() >= MAX_REMEMBERED {
                logged.clear();
            }
        }
        logged.insert(origin.as_bytes().to_vec(), now);
        true
    }
}

/// The middleware: warns about refused preflights, then lets the CORS layer answer them.
pub async fn warn_refused_preflight(
    State(warnings): State<Arc<PreflightWarnings>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    if request.method() == Method::OPTIONS
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        && let Some(origin) = headers.get(header::ORIGIN)
        && warnings.refuses(origin)
        && warnings.due(origin)
    {
        let shown: String = origin
            .to_str()
            .unwrap_or("(not ASCII)")
            .chars()
            .take(MAX_LOGGED_ORIGIN)
            .collect();
        let setting = if warnings.allowed.as_ref().is_some_and(Vec::is_empty) {
            "CORS_ALLOWED_ORIGINS=none turns CORS off"
        } else {
            "CORS_ALLOWED_ORIGINS does not list it"
        };
        tracing::warn!(
            origin = %shown,
            "browser preflight refused: {setting}, so the browser blocks the call (\"Failed to fetch\"); add the origin to CORS_ALLOWED_ORIGINS to allow it (logged once per origin every {} minutes)",
            WARN_INTERVAL.as_secs() / 60
        );
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn each_refused_origin_is_due_once_per_interval() {
        let w = PreflightWarnings::new(&["https://chat.example.com".to_string()]);
        let allowed = HeaderValue::from_static("https://chat.example.com");
        let other = HeaderValue::from_static("http://localhost:3000");
        assert!(!w.refuses(&allowed));
        assert!(w.refuses(&other));
        assert!(w.due(&other));
        assert!(!w.due(&other));
        assert!(w.due(&HeaderValue::from_static("http://localhost:3001")));
        tokio::time::advance(WARN_INTERVAL - Duration::from_secs(1)).await;
        assert!(!w.due(&other));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(w.due(&other));
    }

    #[tokio::test(start_paused = true)]
    async fn memory_stays_bounded() {
        let w = PreflightWarnings::new(&[]);
        for i in 0..(MAX_REMEMBERED * 3) {
            let origin = HeaderValue::from_str(&format!("http://site{i}.example")).unwrap();
            assert!(w.refuses(&origin) && w.due(&origin));
        }
        assert!(w.logged.lock().unwrap().len() <= MAX_REMEMBERED);
        let any = PreflightWarnings::new(&["*".to_string()]);
        assert!(!any.refuses(&HeaderValue::from_static("http://x")));
    }
}
