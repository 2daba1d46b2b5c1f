//! The local server against slow, idle, excess and malformed clients, over raw TCP sockets:
//! header and body read timeouts (on paused tokio time, with the default 10 s and 60 s), the
//! connection cap and its `/health` overflow path, the OpenAI-shaped 414 and 431, what hyper
//! still answers itself, and HTTP/2 cleartext (not served).

use std::time::Duration;

use crate::support::raw_http::{
    HEALTH, LocalServer, chat_request, closes_within, exchange, read_response, read_until_closed,
};
use bedrock_gateway::server::{OVERFLOW_CONNECTIONS, ServerSettings};
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test(start_paused = true)]
async fn slowloris_head_is_closed_at_the_header_read_timeout() {
    let gw = LocalServer::start(ServerSettings::default()).await;
    let mut stream = gw.connect().await;
    let started = Instant::now();
    stream
        .write_all(b"POST /api/v1/chat/completions HTTP/1.1\r\nHost: gw\r\n")
        .await
        .unwrap();
    // One more header line every second, never the blank line that ends the head.
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for i in 0..60 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if writer
                .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    });
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        use tokio::io::AsyncReadExt;
        reader.read(&mut buf).await
    })
    .await
    .expect("the server closes a trickling head");
    let closed_after = started.elapsed();
    trickle.abort();
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "closed without an answer: {read:?}"
    );
    assert!(
        closed_after >= HEADER_TIMEOUT && closed_after < HEADER_TIMEOUT + Duration::from_secs(1),
        "closed after {closed_after:?}"
    );
    println!("slowloris head closed after {closed_after:?} (paused clock)");
}

#[tokio::test(start_paused = true)]
async fn idle_connections_are_closed_at_the_header_read_timeout() {
    let gw = LocalServer::start(ServerSettings::default()).await;
    // A connection that never sends a byte.
    let mut silent = gw.connect().await;
    let started = Instant::now();
    assert!(closes_within(&mut silent, Duration::from_secs(30)).await);
    let silent_closed = started.elapsed();
    assert!(
        silent_closed >= HEADER_TIMEOUT && silent_closed < HEADER_TIMEOUT + Duration::from_secs(1),
        "{silent_closed:?}"
    );

    // A keep-alive connection after its request: open until the timeout, then closed.
    let mut kept = gw.connect().await;
    kept.write_all(HEALTH).await.unwrap();
    assert_eq!(read_response(&mut kept).await.status, 200);
    let answered = Instant::now();
    assert!(
        !closes_within(&mut kept, HEADER_TIMEOUT - Duration::from_millis(500)).await,
        "keep-alive connections stay open for reuse until the timeout"
    );
    kept.write_all(HEALTH).await.unwrap();
    assert_eq!(read_response(&mut kept).await.status, 200, "reused");
    let answered_again = Instant::now();
    assert!(closes_within(&mut kept, Duration::from_secs(30)).await);
    let idle_closed = answered_again.elapsed();
    assert!(
        idle_closed >= HEADER_TIMEOUT && idle_closed < HEADER_TIMEOUT + Duration::from_secs(1),
        "{idle_closed:?}"
    );
    assert!(answered.elapsed() > HEADER_TIMEOUT);
}

#[tokio::test(start_paused = true)]
async fn a_partial_body_gets_an_openai_408_at_the_body_read_timeout() {
    let gw = LocalServer::start(ServerSettings::default()).await;
    let mut stream = gw.connect().await;
    let head = format!(
        "POST /api/v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"model\":",
        crate::support::KEY
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(120), read_response(&mut stream))
        .await
        .expect("answered before the test's own limit");
    let answered_after = started.elapsed();
    assert_eq!(response.status, 408, "{response:?}");
    assert_eq!(response.openai_error_code(), "request_timeout");
    let message = response.json()["error"]["message"].to_string();
    assert!(
        message.contains("HTTP_BODY_READ_TIMEOUT_SECONDS"),
        "{message}"
    );
    assert_eq!(response.headers["connection"], "close");
    assert!(
        answered_after >= Duration::from_secs(60) && answered_after < Duration::from_secs(61),
        "{answered_after:?}"
    );
    assert!(closes_within(&mut stream, Duration::from_secs(1)).await);
}

#[tokio::test(start_paused = true)]
async fn a_body_sent_in_time_is_served() {
    let gw = LocalServer::start(ServerSettings::default()).await;
    let request = chat_request(&crate::support::user(
        crate::support::MODEL,
        "slow but in time",
    ));
    let (head, body) = request.split_at(request.len() - 10);
    let mut stream = gw.connect().await;
    stream.write_all(head).await.unwrap();
    tokio::time::sleep(Duration::from_secs(50)).await;
    stream.write_all(body).await.unwrap();
    let response = read_response(&mut stream).await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.json()["choices"][0]["message"]["content"],
        "slow but in time"
    );
}

#[tokio::test]
async fn the_connection_cap_holds_and_health_still_answers() {
    let settings = ServerSettings {
        max_connections: 3,
        ..ServerSettings::default()
    };
    let gw = LocalServer::start(settings).await;
    // Three keep-alive connections, each answered once, so the server has accepted them all.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = gw.connect().await;
        stream.write_all(HEALTH).await.unwrap();
        assert_eq!(read_response(&mut stream).await.status, 200);
        held.push(stream);
    }

    // At the cap: /health is answered, on a connection that then closes.
    let mut stream = gw.connect().await;
    stream.write_all(HEALTH).await.unwrap();
    let health = read_response(&mut stream).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(health.headers["connection"], "close");
    assert!(closes_within(&mut stream, Duration::from_secs(2)).await);

    // Anything else: an OpenAI-shaped 503 with Retry-After, and nothing reaches Bedrock.
    let chat = exchange(
        gw.addr,
        &chat_request(&crate::support::user(crate::support::MODEL, "hi")),
    )
    .await;
    assert_eq!(chat.status, 503, "{chat:?}");
    assert_eq!(chat.openai_error_code(), "server_busy");
    assert_eq!(chat.headers["retry-after"], "1");
    assert!(
        chat.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("MAX_CONNECTIONS")
    );
    // (a chat that reaches the router looks the model up in Bedrock's listing first)
    let listing = crate::support::emulator_calls(&gw.emulator, "listing").await;
    assert_eq!(listing["listFoundationModels"], 0, "{listing}");

    // A closed connection frees its place for a normal one.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = exchange(
            gw.addr,
            &chat_request(&crate::support::user(crate::support::MODEL, "hi")),
        )
        .await;
        if response.status == 200 {
            let listing = crate::support::emulator_calls(&gw.emulator, "listing").await;
            assert_eq!(listing["listFoundationModels"], 1, "{listing}");
            break;
        }
        assert_eq!(response.status, 503);
        assert!(
            Instant::now() < deadline,
            "the freed place was never reused"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn past_the_overflow_connections_new_ones_are_closed_unanswered() {
    let settings = ServerSettings {
        max_connections: 1,
        ..ServerSettings::default()
    };
    let gw = LocalServer::start(settings).await;
    let mut first = gw.connect().await;
    first.write_all(HEALTH).await.unwrap();
    assert_eq!(read_response(&mut first).await.status, 200);
    // Silent connections fill the overflow places (each holds one for up to 2 s).
    let mut overflow = Vec::new();
    for _ in 0..OVERFLOW_CONNECTIONS {
        overflow.push(gw.connect().await);
    }
    let mut extra = gw.connect().await;
    let _ = extra.write_all(HEALTH).await;
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(1), read_until_closed(&mut extra))
        .await
        .expect("closed at once");
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
    assert!(started.elapsed() < Duration::from_secs(1));
    // The overflow places themselves close after their short header read timeout.
    for stream in &mut overflow {
        assert!(closes_within(stream, Duration::from_secs(5)).await);
    }
}

#[tokio::test]
async fn heads_over_the_documented_limits_get_openai_errors() {
    let gw = LocalServer::start(ServerSettings::default()).await;
    let long_target = format!(
        "GET /health?q={} HTTP/1.1\r\nHost: gw\r\n\r\n",
        "a".repeat(9000)
    );
    let response = exchange(gw.addr, long_target.as_bytes()).await;
    assert_eq!(response.status, 414, "{response:?}");
    assert_eq!(response.openai_error_code(), "uri_too_long");

    let many_headers: String = (0..101).map(|i| format!("X-H{i}: v\r\n")).collect();
    let request = format!("GET /health HTTP/1.1\r\nHost: gw\r\n{many_headers}\r\n");
    let response = exchange(gw.addr, request.as_bytes()).await;
    assert_eq!(response.status, 431, "{response:?}");
    assert_eq!(response.openai_error_code(), "headers_too_large");

    let big_header = format!(
        "GET /health HTTP/1.1\r\nHost: gw\r\nX-Big: {}\r\n\r\n",
        "b".repeat(40 * 1024)
    );
    let response = exchange(gw.addr, big_header.as_bytes()).await;
    assert_eq!(response.status, 431, "{response:?}");
    assert_eq!(response.openai_error_code(), "headers_too_large");

    // Just under the limits: served.
    let fine = format!(
        "GET /health?q={} HTTP/1.1\r\nHost: gw\r\nX-Big: {}\r\n\r\n",
        "a".repeat(8000),
        "b".repeat(30 * 1024)
    );
    assert_eq!(exchange(gw.addr, fine.as_bytes()).await.status, 200);
}

/// Pins what hyper answers itself, before any code of ours runs (see src/server/head_limits.rs):
/// a bare status with an empty body, then the connection closes.
#[tokio::test]
async fn hyper_still_answers_unparsable_and_huge_heads_itself() {
    let gw = LocalServer::start(ServerSettings::default()).await;
    let response = exchange(gw.addr, b"NOT AN HTTP REQUEST\r\n\r\n").await;
    assert_eq!(response.status, 400);
    assert!(response.body.is_empty());
    assert_eq!(response.headers["connection"], "close");

    let huge = format!(
        "GET /health HTTP/1.1\r\nHost: gw\r\nX-Big: {}\r\n\r\n",
        "b".repeat(70 * 1024)
    );
    let response = exchange(gw.addr, huge.as_bytes()).await;
    assert_eq!(response.status, 431);
    assert!(response.body.is_empty());
}

#[tokio::test]
async fn http2_cleartext_is_not_served() {
    let gw = LocalServer::start(ServerSettings::default()).await;
    // Prior knowledge: the HTTP/2 preface and an empty SETTINGS frame. The connection is
    // closed without a byte (hyper is built without HTTP/2).
    let mut stream = gw.connect().await;
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(2), read_until_closed(&mut stream))
        .await
        .expect("closed at once");
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));

    // An upgrade offer is ignored: the request is answered over HTTP/1.1, no 101.
    let response = exchange(
        gw.addr,
        b"GET /health HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
    )
    .await;
    assert_eq!(response.status, 200);
    assert!(!response.headers.contains_key("upgrade"));
}
