//! Image URL downloads over real sockets: a local HTTP server on 127.0.0.1 (allowlisted by exact
//! host:port through `IMAGE_FETCH_ALLOW_HOSTS`, as the setting is meant for tests) serves images,
//! redirects to forbidden destinations, huge, slow, missing and non-image bodies. The address
//! policy must refuse every other loopback, private and metadata destination without dialing it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

use bedrock_emulator::EmulatorConfig;
use bedrock_gateway::config::Config;
use bedrock_gateway::fetch::{BlockedRange, FetchError, ImageFetcher, MAX_REDIRECTS};
use bedrock_gateway::openai::chat::ChatRequest;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A 1x1 PNG (70 bytes).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0xf8, 0xcf, 0x50,
    0x0f, 0x00, 0x03, 0x86, 0x01, 0x80, 0x5a, 0x34, 0x7d, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Bytes the close-delimited huge body would send in full.
const HUGE_STREAM_BYTES: u64 = 64 * 1024 * 1024;

/// Policy refusals must come back well before any connect timeout could have expired.
const FAST: Duration = Duration::from_millis(1500);

/// The local image server: counts TCP connections and records request paths.
struct ImageServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
    huge_stream_sent: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ImageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ImageServer {
    async fn start() -> ImageServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let huge_stream_sent = Arc::new(AtomicU64::new(0));
        let (c, p, h) = (connections.clone(), paths.clone(), huge_stream_sent.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                c.fetch_add(1, Ordering::SeqCst);
                let (p, h) = (p.clone(), h.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, addr, p, h).await;
                });
            }
        });
        ImageServer {
            addr,
            connections,
            paths,
            huge_stream_sent,
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests_for(&self, path: &str) -> usize {
        self.paths
            .lock()
            .unwrap()
            .iter()
            .filter(|p| *p == path)
            .count()
    }

    /// A fetcher that may reach exactly this server's host:port.
    fn fetcher(&self, extra: &[(&str, &str)]) -> ImageFetcher {
        let allow = self.addr.to_string();
        let mut vars = vec![
            ("API_KEY", "k"),
            ("IMAGE_FETCH_ALLOW_HOSTS", allow.as_str()),
        ];
        vars.extend_from_slice(extra);
        let config = Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
        .expect("valid config");
        ImageFetcher::new(&config)
    }
}

/// Answers one request per connection (`Connection: close`).
async fn serve(
    mut stream: TcpStream,
    addr: SocketAddr,
    paths: Arc<Mutex<Vec<String>>>,
    huge_stream_sent: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    paths.lock().unwrap().push(path.clone());

    let redirect = |status: &str, location: &str| {
        format!("HTTP/1.1 {status}\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .into_bytes()
    };
    let ok = |content_type: &str, body: &[u8]| {
        let mut response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(body);
        response
    };
    let response = match path.as_str() {
        "/png" => ok("image/png", PNG),
        "/mislabeled.jpg" => ok("image/jpeg", PNG),
        p if p.starts_with("/delayed/") => {
            tokio::time::sleep(Duration::from_millis(700)).await;
            ok("image/png", PNG)
        }
        "/redirect/png" => redirect("302 Found", "/png"),
        "/redirect/metadata" => redirect(
            "302 Found",
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        ),
        "/redirect/metadata-decimal" => {
            redirect("302 Found", "http://2852039166/latest/meta-data/")
        }
        "/redirect/metadata-ipv6" => redirect(
            "307 Temporary Redirect",
            "http://[fd00:ec2::254]/latest/meta-data/",
        ),
        "/redirect/private" => redirect("301 Moved Permanently", "http://10.0.0.1/x.png"),
        "/redirect/localhost" => redirect(
            "307 Temporary Redirect",
            &format!("http://localhost:{}/png", addr.port()),
        ),
        "/redirect/ftp" => redirect("302 Found", "ftp://example.com/x.png"),
        "/redirect/credentials" => redirect("302 Found", &format!("http://user:secret@{addr}/png")),
        "/loop" => redirect("302 Found", "/loop"),
        "/missing" => {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
        "/page.html" => ok(
            "text/html; charset=utf-8",
            b"<html><body>not an image</body></html>",
        ),
        "/huge-declared" => {
            // Announces 5 MB, sends only the start: the client must not wait for the rest.
            let mut response = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n".to_vec();
            response.extend_from_slice(PNG);
            stream.write_all(&response).await?;
            tokio::time::sleep(Duration::from_secs(30)).await;
            return Ok(());
        }
        "/huge-stream" => {
            // No length: the body runs until the connection closes, 64 MB unless cut short.
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n",
                )
                .await?;
            stream.write_all(PNG).await?;
            let piece = vec![0u8; 64 * 1024];
            while huge_stream_sent.load(Ordering::SeqCst) < HUGE_STREAM_BYTES {
                stream.write_all(&piece).await?;
                huge_stream_sent.fetch_add(piece.len() as u64, Ordering::SeqCst);
            }
            return Ok(());
        }
        "/slow" => {
            // Headers and a few bytes at once, then nothing for 30 s.
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                PNG.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&PNG[..10]).await?;
            tokio::time::sleep(Duration::from_secs(30)).await;
            stream.write_all(&PNG[10..]).await?;
            return Ok(());
        }
        _ => {
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_vec()
        }
    };
    stream.write_all(&response).await?;
    stream.shutdown().await
}

/// Fetches `url`, returning the result and how long it took.
async fn timed_fetch(fetcher: &ImageFetcher, url: &str) -> (Result<Vec<u8>, FetchError>, Duration) {
    let started = Instant::now();
    let result = fetcher.fetch(url).await;
    (result, started.elapsed())
}

/// Asserts `result` is the policy's refusal of `range`.
#[track_caller]
fn assert_refused(result: Result<Vec<u8>, FetchError>, range: BlockedRange, redirected: bool) {
    match result {
        Err(FetchError::Refused {
            destination,
            after_redirect,
        }) => {
            assert_eq!(destination.range, range, "{destination}");
            assert_eq!(after_redirect, redirected, "{destination}");
        }
        other => panic!("expected a refusal ({range}), got {other:?}"),
    }
}

#[tokio::test]
async fn downloads_an_image_from_the_allowed_host() {
    let server = ImageServer::start().await;
    let fetcher = server.fetcher(&[]);
    assert_eq!(fetcher.fetch(&server.url("/png")).await.unwrap(), PNG);
    // A relative redirect on the allowed host is followed.
    assert_eq!(
        fetcher.fetch(&server.url("/redirect/png")).await.unwrap(),
        PNG
    );
    assert_eq!(server.requests_for("/png"), 2);
}

#[tokio::test]
async fn redirect_to_the_metadata_service_is_refused_by_policy_without_dialing() {
    let server = ImageServer::start().await;
    let fetcher = server.fetcher(&[]);
    for (path, ip) in [
        ("/redirect/metadata", "169.254.169.254"),
        ("/redirect/metadata-decimal", "169.254.169.254"),
        ("/redirect/metadata-ipv6", "fd00:ec2::254"),
    ] {
        let (result, elapsed) = timed_fetch(&fetcher, &server.url(path)).await;
        if let Err(FetchError::Refused { destination, .. }) = &result {
            assert_eq!(destination.ip.to_string(), ip);
        }
        assert_refused(result, BlockedRange::CloudMetadata, true);
        assert!(elapsed < FAST, "{path} took {elapsed:?}");
    }
}

#[tokio::test]
async fn redirect_to_a_private_address_fails_fast() {
    let server = ImageServer::start().await;
    // A 10 s limit: a dial of 10.0.0.1 would hang there (no route answers), not return at once.
    let fetcher = server.fetcher(&[("IMAGE_FETCH_TIMEOUT_SECONDS", "10")]);
    let (result, elapsed) = timed_fetch(&fetcher, &server.url("/redirect/private")).await;
    assert_refused(result, BlockedRange::Private, true);
    assert!(elapsed < FAST, "took {elapsed:?}");
}

#[tokio::test]
async fn every_ip_spelling_is_normalised_then_refused() {
    let server = ImageServer::start().await;
    let fetcher = server.fetcher(&[]);
    let port = server.addr.port();
    let loopback_other_port = format!("http://127.0.0.1:{}/png", port.wrapping_add(1).max(1));
    let loopback_v6 = format!("http://[::1]:{port}/png");
    let cases: Vec<(&str, BlockedRange)> = vec![
        (
            "http://169.254.169.254/latest/meta-data/",
            BlockedRange::CloudMetadata,
        ),
        ("http://2852039166/", BlockedRange::CloudMetadata),
        ("http://0xa9fea9fe/", BlockedRange::CloudMetadata),
        ("http://0xa9.0xfe.0xa9.0xfe/", BlockedRange::CloudMetadata),
        ("http://0251.0376.0251.0376/", BlockedRange::CloudMetadata),
        ("http://169.254.43518/", BlockedRange::CloudMetadata),
        ("http://169.254.169.254./", BlockedRange::CloudMetadata),
        (
            "http://[::ffff:169.254.169.254]/",
            BlockedRange::CloudMetadata,
        ),
        ("http://[::ffff:a9fe:a9fe]/", BlockedRange::CloudMetadata),
        ("http://[64:ff9b::a9fe:a9fe]/", BlockedRange::CloudMetadata),
        ("https://[fd00:ec2::254]/", BlockedRange::CloudMetadata),
        ("http://0x7f.1/", BlockedRange::Loopback),
        ("http://2130706433/", BlockedRange::Loopback),
        ("http://017700000001/", BlockedRange::Loopback),
        (&loopback_other_port, BlockedRange::Loopback),
        (&loopback_v6, BlockedRange::Loopback),
        ("http://0/", BlockedRange::Unspecified),
        ("http://[::]/", BlockedRange::Unspecified),
        ("http://10.0.0.1/", BlockedRange::Private),
        ("http://167772161/", BlockedRange::Private),
        ("https://192.168.1.1:8443/x.png", BlockedRange::Private),
        ("http://[::ffff:10.0.0.1]/", BlockedRange::Private),
        ("http://100.100.100.200/", BlockedRange::SharedAddressSpace),
        ("http://[fe80::1]/", BlockedRange::LinkLocal),
        ("http://[fc00::1]/", BlockedRange::UniqueLocal),
        ("http://224.0.0.1/", BlockedRange::Multicast),
        ("http://255.255.255.255/", BlockedRange::Broadcast),
        ("http://198.18.0.1/", BlockedRange::Benchmarking),
        ("http://203.0.113.5/", BlockedRange::Documentation),
    ];
    let before = server.connections();
    for (url, range) in cases {
        let (result, elapsed) = timed_fetch(&fetcher, url).await;
        assert_refused(result, range, false);
        assert!(elapsed < FAST, "{url} took {elapsed:?}");
    }
    assert_eq!(
        server.connections(),
        before,
        "no refused URL reached the server"
    );
}

#[tokio::test]
async fn host_names_are_checked_on_their_resolved_addresses_before_connecting() {
    let server = ImageServer::start().await;
    let fetcher = server.fetcher(&[]);
    let port = server.addr.port();
    // `localhost` resolves to the very server that is listening: only the resolver stands in
    // the way, and the connection count proves nothing was dialed.
    let before = server.connections();
    let direct = fetcher.fetch(&format!("http://localhost:{port}/png")).await;
    assert_refused(direct, BlockedRange::Loopback, false);
    assert_eq!(server.connections(), before);
    let redirected = fetcher.fetch(&server.url("/redirect/localhost")).await;
    assert_refused(redirected, BlockedRange::Loopback, true);
    assert_eq!(
        server.connections(),
        before + 1,
        "only the allowed first hop connected"
    );
    assert_eq!(server.requests_for("/png"), 0);
}

#[tokio::test]
async fn redirects_are_limited_and_rechecked() {
    let server = ImageServer::start().await;
    let fetcher = server.fetcher(&[]);
    assert_eq!(
        fetcher.fetch(&server.url("/loop")).await,
        Err(FetchError::TooManyRedirects(MAX_REDIRECTS))
    );
    assert_eq!(server.requests_for("/loop"), MAX_REDIRECTS + 1);
    assert_eq!(
        fetcher.fetch(&server.url("/redirect/ftp")).await,
        Err(FetchError::UnsupportedScheme("ftp".into()))
    );
    assert_eq!(
        fetcher.fetch(&server.url("/redirect/credentials")).await,
        Err(FetchError::Credentials)
    );
    let with_credentials = format!("http://user:secret@{}/png", server.addr);
    assert_eq!(
        fetcher.fetch(&with_credentials).await,
        Err(FetchError::Credentials)
    );
    assert_eq!(server.requests_for("/png"), 0);
}

#[tokio::test]
async fn bodies_beyond_bedrocks_limit_stop_being_read() {
    let server = ImageServer::start().await;
    let fetcher = server.fetcher(&[]);
    let limit = bedrock_gateway::translate::images::MAX_IMAGE_BYTES;
    // Declared too large: refused on the headers, without waiting for the body.
    let (result, elapsed) = timed_fetch(&fetcher, &server.url("/huge-declared")).await;
    assert_eq!(result, Err(FetchError::TooLarge(limit)));
    assert!(elapsed < FAST, "took {elapsed:?}");
    // Undeclared: reading stops past the limit, long before the 64 MB the server would send.
    let result = fetcher.fetch(&server.url("/huge-stream")).await;
    assert_eq!(result, Err(FetchError::TooLarge(limit)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = server.huge_stream_sent.load(Ordering::SeqCst);
    assert!(sent < HUGE_STREAM_BYTES / 4, "server sent {sent} bytes");
}

#[tokio::test]
async fn slow_bodies_hit_the_time_limit() {
    let server = ImageServer::start().await;
    let fetcher = server.fetcher(&[("IMAGE_FETCH_TIMEOUT_SECONDS", "1")]);
    let (result, elapsed) = timed_fetch(&fetcher, &server.url("/slow")).await;
    assert_eq!(result, Err(FetchError::Timeout(Duration::from_secs(1))));
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "took {elapsed:?}"
    );
}

#[tokio::test]
async fn missing_and_non_image_bodies_are_refused() {
    let server = ImageServer::start().await;
    let fetcher = server.fetcher(&[]);
    assert_eq!(
        fetcher.fetch(&server.url("/missing")).await,
        Err(FetchError::Status(404))
    );
    assert_eq!(
        fetcher.fetch(&server.url("/page.html")).await,
        Err(FetchError::NotAnImage(Some(
            "text/html; charset=utf-8".into()
        )))
    );
    // The format comes from the bytes: a PNG labelled JPEG is still accepted.
    assert_eq!(
        fetcher.fetch(&server.url("/mislabeled.jpg")).await.unwrap(),
        PNG
    );
}

#[tokio::test]
async fn unreachable_hosts_are_reported() {
    let fetcher = ImageServer::start().await.fetcher(&[]);
    // `.invalid` never resolves (RFC 6761).
    let result = fetcher.fetch("http://images.example.invalid/cat.png").await;
    assert!(
        matches!(result, Err(FetchError::Unreachable(_))),
        "{result:?}"
    );
}

fn request(parts: serde_json::Value) -> ChatRequest {
    serde_json::from_value(json!({"model": "m", "messages": [{"role": "user", "content": parts}]}))
        .unwrap()
}

#[tokio::test]
async fn a_request_downloads_its_images_concurrently_and_names_a_failing_part() {
    let server = ImageServer::start().await;
    let urls: Vec<String> = (0..3)
        .map(|n| server.url(&format!("/delayed/{n}")))
        .collect();
    let parts = json!([
        {"type": "text", "text": "compare"},
        {"type": "image_url", "image_url": {"url": urls[0]}},
        {"type": "image_url", "image_url": {"url": urls[1]}},
        {"type": "image_url", "image_url": urls[2]},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    ]);
    let req = request(parts);

    // Each image takes 700 ms to serve: 3 at once take about 700 ms, one by one 2.1 s.
    let concurrent = server.fetcher(&[("IMAGE_FETCH_CONCURRENCY", "3")]);
    let started = Instant::now();
    let images = concurrent.fetch_images(&req.messages).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(images.len(), 3, "data URLs are not downloaded");
    assert!(urls.iter().all(|u| images[u] == PNG));
    assert!(elapsed < Duration::from_millis(1800), "took {elapsed:?}");

    let sequential = server.fetcher(&[("IMAGE_FETCH_CONCURRENCY", "1")]);
    let started = Instant::now();
    sequential.fetch_images(&req.messages).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(2000));

    let req = request(json!([
        {"type": "image_url", "image_url": {"url": server.url("/png")}},
        {"type": "image_url", "image_url": {"url": server.url("/missing")}}
    ]));
    let err = concurrent.fetch_images(&req.messages).await.unwrap_err();
    assert_eq!(err.status.as_u16(), 400);
    assert_eq!(err.param.as_deref(), Some("messages[0].content[1]"));
    assert_eq!(err.code.as_deref(), Some("invalid_image_url"));
    assert!(err.message.contains("HTTP 404"), "{}", err.message);
}

#[tokio::test]
async fn chat_with_an_http_image_reaches_bedrock_as_an_image_block() {
    let server = ImageServer::start().await;
    let allow = server.addr.to_string();
    let gateway = crate::support::start_with(
        &[("IMAGE_FETCH_ALLOW_HOSTS", allow.as_str())],
        EmulatorConfig::default(),
    )
    .await;
    let (status, body) = gateway
        .chat(
            json!({"model": crate::support::MODEL, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": server.url("/mislabeled.jpg")}}
            ]}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let reply = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(
        reply.contains(&format!("[image png {} bytes]", PNG.len())),
        "{reply}"
    );
}

#[tokio::test]
async fn chat_with_a_metadata_image_url_is_a_400() {
    let gateway = crate::support::start().await;
    for stream in [false, true] {
        let response = gateway
            .post(
                "/chat/completions",
                &json!({"model": crate::support::MODEL, "stream": stream, "messages": [{"role": "user", "content": [
                    {"type": "text", "text": "describe"},
                    {"type": "image_url", "image_url": {"url": "http://169.254.169.254/latest/meta-data/"}}
                ]}]}),
            )
            .await;
        assert_eq!(response.status().as_u16(), 400);
        let body: serde_json::Value = response.json().await.unwrap();
        let error = &body["error"];
        assert_eq!(error["type"], "invalid_request_error");
        assert_eq!(error["param"], "messages[0].content[1]");
        assert_eq!(error["code"], "invalid_image_url");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("destination that is not allowed")
                && message.contains("cloud metadata"),
            "{message}"
        );
    }
}
