//! The local server's start and end: graceful shutdown (requests in flight finish within the
//! grace period, open streams then end with a `server_shutting_down` error event), the same
//! through SIGTERM on the real binary together with its access log timing a stream to its
//! end, and the message when the port is taken.

use std::process::Stdio;
use std::time::Duration;

use crate::support::raw_http::{
    Binary, HEALTH, LocalServer, chat_request, closes_within, find, read_response,
};
use bedrock_gateway::server::ServerSettings;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A streaming chat whose reply is `words` words, `delay_ms` apart.
fn slow_stream(words: usize, delay_ms: u64) -> Value {
    let text: Vec<String> = (0..words).map(|i| format!("w{i}")).collect();
    json!({
        "model": crate::support::MODEL,
        "stream": true,
        "messages": [{"role": "user", "content": format!("{} [[slowstream:{delay_ms}]]", text.join(" "))}],
    })
}

/// Reads a chunked SSE response to its end: (status, the `data:` payloads).
async fn read_stream(stream: &mut TcpStream) -> (u16, Vec<Value>) {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body_start = find(&raw, b"\r\n\r\n").map_or(raw.len(), |p| p + 4);
    // The events never span chunk boundaries in a way that matters here: strip the chunk
    // size lines by keeping only `data: ` lines.
    let events = String::from_utf8_lossy(&raw[body_start..])
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap_or_else(|_| Value::String(d.to_string())))
        .collect();
    (status, events)
}

/// Sends a request that asks the server to close the connection after answering.
async fn send_closing(addr: std::net::SocketAddr, body: &Value) -> TcpStream {
    let request = String::from_utf8(chat_request(body)).unwrap().replacen(
        "Host: gw\r\n",
        "Host: gw\r\nConnection: close\r\n",
        1,
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn shutdown_lets_requests_finish_then_ends_open_streams() {
    let grace = Duration::from_secs(1);
    let mut gw = LocalServer::start(ServerSettings {
        shutdown_grace: grace,
        ..ServerSettings::default()
    })
    .await;
    // An idle keep-alive connection, a stream that ends within the grace period (about 0.5 s)
    // and one that would take 12 s.
    let mut idle = gw.connect().await;
    idle.write_all(HEALTH).await.unwrap();
    assert_eq!(read_response(&mut idle).await.status, 200);
    let mut short = send_closing(gw.addr, &slow_stream(10, 50)).await;
    let mut long = send_closing(gw.addr, &slow_stream(40, 300)).await;
    // Both have started streaming before the shutdown.
    let mut first = [0u8; 16];
    long.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200 OK\r");

    let started = Instant::now();
    gw.shut_down();
    assert!(
        closes_within(&mut idle, Duration::from_millis(500)).await,
        "idle connections close at once"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        TcpStream::connect(gw.addr).await.is_err(),
        "no new connections"
    );

    let (status, events) = read_stream(&mut short).await;
    assert_eq!(status, 200);
    assert_eq!(events.last(), Some(&json!("[DONE]")), "{events:?}");
    assert_eq!(
        crate::support::streamed_text(&events).split(' ').count(),
        10
    );

    let (_, events) = read_stream(&mut long).await;
    let cut_after = started.elapsed();
    let last = events.last().expect("events");
    assert_eq!(last["error"]["code"], "server_shutting_down", "{events:?}");
    assert_eq!(last["error"]["type"], "server_error");
    assert!(!events.contains(&json!("[DONE]")));
    let words = crate::support::streamed_text(&events[..events.len() - 1]);
    assert!(
        words.starts_with("w0 w1") && words.split(' ').count() < 40,
        "{words}"
    );
    assert!(
        cut_after >= grace && cut_after < grace + Duration::from_millis(1500),
        "cut after {cut_after:?}"
    );

    let finished = tokio::time::timeout(Duration::from_secs(3), &mut gw.task)
        .await
        .expect("serve_with returns after the grace period and the flush");
    assert!(finished.unwrap().is_ok());
}

/// A `key=value` field of a log line, as a number.
fn field(line: &str, key: &str) -> Option<u64> {
    line.split(' ')
        .find_map(|f| f.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn sigterm_ends_a_stream_with_server_shutting_down_and_the_log_times_streams() {
    let mut gw = Binary::start(&[("SHUTDOWN_GRACE_SECONDS", "1")]).await;
    let addr: std::net::SocketAddr = gw.url.parse().unwrap();

    // A stream of about 0.6 s: the access line counts to its end, not to its headers.
    let mut short = send_closing(addr, &slow_stream(6, 100)).await;
    let (status, events) = read_stream(&mut short).await;
    assert_eq!(status, 200);
    assert_eq!(events.last(), Some(&json!("[DONE]")));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = gw.log();
    let line = log
        .iter()
        .find(|l| l.contains("path=\"/api/v1/chat/completions\""))
        .unwrap_or_else(|| panic!("no access line: {log:#?}"));
    let total = field(line, "micros").unwrap();
    let first_byte = field(line, "first_byte_micros").unwrap();
    assert!(total >= 500_000, "{line}");
    assert!(first_byte < total, "{line}");
    assert!(line.contains("complete=true"), "{line}");
    println!("access line for a 0.6 s stream: {line}");

    let mut long = send_closing(addr, &slow_stream(40, 300)).await;
    let mut first = [0u8; 16];
    long.read_exact(&mut first).await.unwrap();
    let pid = gw.child.id().expect("running");
    let started = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let (_, events) = read_stream(&mut long).await;
    let last = events.last().expect("events");
    assert_eq!(last["error"]["code"], "server_shutting_down", "{events:?}");
    let exit = tokio::time::timeout(Duration::from_secs(5), gw.child.wait())
        .await
        .expect("the process exits after the grace period")
        .unwrap();
    assert!(exit.success(), "{exit:?}; log: {:#?}", gw.log());
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "{took:?}");
    let log = gw.log().join("\n");
    assert!(!log.contains("Could not reach Bedrock"), "{log}");
    println!("SIGTERM to exit: {took:?}");
}

#[tokio::test]
async fn a_taken_port_names_the_setting_that_changes_it() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_bedrock-gateway"))
        .env_clear()
        .env("PORT", &port)
        .env("API_KEY", crate::support::KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // Credentials, so the start-up credentials check passes and the port is what fails.
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}"))
            && stderr.contains("already in use")
            && stderr.contains("PORT=8081 make run"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}
