//! Load properties of the local server, bounded in time (each test well under a minute):
//!
//! - isolation: 20 slow streams in flight do not slow `/health` or a fast chat past a bound;
//! - leaks: three rounds of requests at concurrency 64 against the real binary leave its
//!   resident memory flat after the first round.
//!
//! Both print what they measured (`cargo test --test load -- --nocapture`).

#[path = "../it/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::time::Instant;

/// The two tests run one after the other: the leak test's load would distort the isolation
/// test's latencies.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Slowest answer allowed to `/health` or a one-word chat while 20 streams are in flight. The
/// streams last 4 s each, so a server that made fast requests wait behind them would exceed
/// it many times over; the margin covers a debug build on a busy 2-core machine.
const ISOLATION_BOUND: Duration = Duration::from_millis(500);

fn slow_stream() -> Value {
    let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    json!({
        "model": support::MODEL,
        "stream": true,
        "messages": [{"role": "user", "content": format!("{} [[slowstream:100]]", words.join(" "))}],
    })
}

/// Latencies of `/health` and of a fast chat, `rounds` of each, one after the other.
async fn fast_latencies(
    gw: &support::TestGateway,
    rounds: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let (mut health, mut chat) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let started = Instant::now();
        let response = gw
            .http
            .get(format!("{}/health", gw.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        health.push(started.elapsed());
        let started = Instant::now();
        let (status, body) = gw.chat(support::user(support::MODEL, "fast")).await;
        assert_eq!(status, 200, "{body}");
        chat.push(started.elapsed());
    }
    (health, chat)
}

fn summary(latencies: &[Duration]) -> (Duration, Duration) {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    (sorted[sorted.len() / 2], *sorted.last().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_streams_do_not_slow_health_or_a_fast_chat() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let gw = support::start().await;
    let (health_idle, chat_idle) = fast_latencies(&gw, 20).await;

    let started_streams = Arc::new(AtomicUsize::new(0));
    let finished_streams = Arc::new(AtomicUsize::new(0));
    let mut streams = Vec::new();
    for _ in 0..20 {
        let response = gw
            .http
            .post(format!("{}/api/v1/chat/completions", gw.url))
            .bearer_auth(support::KEY)
            .json(&slow_stream())
            .send();
        let (started, finished) = (started_streams.clone(), finished_streams.clone());
        streams.push(tokio::spawn(async move {
            let response = response.await.unwrap();
            assert_eq!(response.status(), 200);
            started.fetch_add(1, Ordering::SeqCst);
            let text = response.text().await.unwrap();
            finished.fetch_add(1, Ordering::SeqCst);
            text
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while started_streams.load(Ordering::SeqCst) < 20 {
        assert!(Instant::now() < deadline, "streams did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (health_busy, chat_busy) = fast_latencies(&gw, 20).await;
    assert_eq!(
        finished_streams.load(Ordering::SeqCst),
        0,
        "measured while all 20 streams were in flight"
    );
    for stream in streams {
        let text = stream.await.unwrap();
        assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    }
    let report = [
        ("health, idle", summary(&health_idle)),
        ("chat, idle", summary(&chat_idle)),
        ("health, 20 streams", summary(&health_busy)),
        ("chat, 20 streams", summary(&chat_busy)),
    ];
    for (name, (median, max)) in report {
        println!("{name}: median {median:?}, max {max:?}");
    }
    for (name, (_, max)) in &report[2..] {
        assert!(
            *max < ISOLATION_BOUND,
            "{name}: {max:?} over {ISOLATION_BOUND:?}"
        );
    }
}

/// Requests per round and clients at once.
const ROUND: usize = 2000;
const CONCURRENCY: usize = 64;
/// Growth of resident memory allowed from the end of the first round to the end of the last:
/// allocator arenas and caches settle in the first round; a leak of even 1 KiB per request
/// would add about 4 MiB over the two later rounds.
const RSS_TOLERANCE_KIB: u64 = 3 * 1024;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// One round: a mix of health checks, chats, streams and refused keys.
async fn round(http: &reqwest::Client, base: &str) {
    let results = futures_util::stream::iter(0..ROUND)
        .map(|i| {
            let http = http.clone();
            let base = base.to_string();
            async move {
                let request = match i % 4 {
                    0 => http.get(format!("{base}/health")),
                    1 => http
                        .post(format!("{base}/api/v1/chat/completions"))
                        .bearer_auth(support::KEY)
                        .json(&support::user(support::MODEL, "leak check words")),
                    2 => http
                        .post(format!("{base}/api/v1/chat/completions"))
                        .bearer_auth(support::KEY)
                        .json(&json!({
                            "model": support::MODEL,
                            "stream": true,
                            "messages": [{"role": "user", "content": "leak check stream"}],
                        })),
                    _ => http
                        .post(format!("{base}/api/v1/chat/completions"))
                        .bearer_auth("wrong-key")
                        .json(&support::user(support::MODEL, "no")),
                };
                let response = request.send().await.expect("answered");
                let status = response.status().as_u16();
                response.bytes().await.expect("whole body");
                (i % 4, status)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    for (kind, status) in results {
        let expected = if kind == 3 { 401 } else { 200 };
        assert_eq!(status, expected, "request kind {kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_flat_over_rounds_of_requests() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let gw = support::raw_http::Binary::start(&[("RUST_LOG", "warn")]).await;
    let pid = gw.child.id().unwrap();
    let http = support::http_client();
    let base = format!("http://{}", gw.url);
    let started = Instant::now();
    let before = rss_kib(pid);
    let mut after = Vec::new();
    for _ in 0..3 {
        round(&http, &base).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        after.push(rss_kib(pid));
    }
    println!(
        "RSS before {before} KiB, after each round of {ROUND} requests at concurrency {CONCURRENCY}: {after:?} KiB ({:?} in all)",
        started.elapsed()
    );
    assert!(
        after[2] <= after[0] + RSS_TOLERANCE_KIB,
        "RSS grew from {} to {} KiB after the first round",
        after[0],
        after[2]
    );
}
