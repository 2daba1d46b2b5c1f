//! Test support for the local server's own behaviour: the gateway served by
//! `server::serve_with` with chosen limits and a shutdown the test triggers, and a raw HTTP/1.1
//! client over plain TCP sockets (so the tests see exactly what went over the wire, including
//! closed connections and empty bodies).
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bedrock_emulator::{EmulatorConfig, RunningEmulator};
use bedrock_gateway::{app, config::Config, server, state::AppState};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::support as common;

/// A gateway served with explicit server settings.
pub struct LocalServer {
    pub addr: SocketAddr,
    pub emulator: RunningEmulator,
    shutdown: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl LocalServer {
    pub async fn start(settings: server::ServerSettings) -> LocalServer {
        let emulator = bedrock_emulator::spawn(EmulatorConfig::default())
            .await
            .expect("emulator starts");
        let vars = HashMap::from([("API_KEY", common::KEY)]);
        let config = Config::from_lookup(|k| vars.get(k).map(|v| v.to_string())).unwrap();
        let state = AppState::with_sdk_config(config, &common::sdk_config(&emulator.url()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve_with(
            listener,
            app::router(state),
            settings,
            async move {
                let _ = rx.await;
            },
        ));
        LocalServer {
            addr,
            emulator,
            shutdown: Some(tx),
            task,
        }
    }

    /// Starts the graceful shutdown (what Ctrl-C does in the binary).
    pub fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.expect("connects")
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An HTTP/1.1 response as read off the socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "not JSON: {:?} ({self:?})",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the OpenAI error shape and returns `error.code`.
    pub fn openai_error_code(&self) -> String {
        let json = self.json();
        let error = &json["error"];
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{json}"
        );
        assert!(error["type"].is_string(), "{json}");
        assert!(error.get("param").is_some(), "{json}");
        error["code"].as_str().unwrap_or_default().to_string()
    }
}

/// Reads one response with a `Content-Length` body (what every non-stream answer has).
pub async fn read_response(stream: &mut TcpStream) -> RawResponse {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.expect("reads a response");
        assert!(
            n > 0,
            "connection closed before a full head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .map_or(0, |v| v.parse().unwrap());
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        let n = stream.read(&mut chunk).await.expect("reads the body");
        assert!(n > 0, "connection closed inside the body");
        body.extend_from_slice(&chunk[..n]);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

/// Sends `request` on a new connection and reads the response.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_response(&mut stream).await
}

/// Waits until the peer closes the connection (EOF or reset) and returns what it sent first.
pub async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
        }
    }
}

/// True if the connection is closed within `within`.
pub async fn closes_within(stream: &mut TcpStream, within: Duration) -> bool {
    tokio::time::timeout(within, read_until_closed(stream))
        .await
        .is_ok()
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A POST of `body` to the chat route with the test key.
pub fn chat_request(body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "POST /api/v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        common::KEY,
        body.len()
    )
    .into_bytes()
}

pub const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: gw\r\n\r\n";

/// The gateway binary (target/debug/bedrock-gateway) on a free port in front of an in-process
/// emulator, its stderr collected.
pub struct Binary {
    pub child: tokio::process::Child,
    /// `127.0.0.1:PORT`
    pub url: String,
    stderr: Arc<Mutex<Vec<String>>>,
    _emulator: bedrock_emulator::RunningEmulator,
}

impl Binary {
    pub async fn start(env: &[(&str, &str)]) -> Binary {
        let emulator = bedrock_emulator::spawn(Default::default()).await.unwrap();
        let port = free_port().await;
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_bedrock-gateway"));
        command
            .env_clear()
            .env("PORT", port.to_string())
            .env("API_KEY", common::KEY)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url())
            .env("AWS_ENDPOINT_URL_BEDROCK", emulator.url())
            .env("RUST_LOG", "info");
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts");
        let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let banner = tokio::time::timeout(Duration::from_secs(20), stdout.next_line())
            .await
            .expect("the banner within 20 s")
            .unwrap()
            .unwrap_or_default();
        assert!(banner.contains("listening on"), "{banner}");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Binary {
            child,
            url: format!("127.0.0.1:{port}"),
            stderr,
            _emulator: emulator,
        }
    }

    pub fn log(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }
}

pub async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}
