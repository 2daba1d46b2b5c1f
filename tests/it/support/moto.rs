//! A moto server (`moto[server]` from tests/requirements.txt) standing in for AWS's DynamoDB,
//! SSM and Secrets Manager APIs on loopback, one per test process (`shared`).
#![allow(dead_code)]

use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::time::Instant;

/// A moto server. It runs under a small shell that kills it when its stdin closes, which
/// happens when this handle is dropped or when the test process exits, however it exits.
pub struct Moto {
    pub url: String,
    _guard: std::process::Child,
}

impl Moto {
    /// Starts moto on `port` and waits until it answers.
    pub fn start(port: u16) -> Moto {
        let script = r#"
            if command -v moto_server >/dev/null 2>&1; then
                moto_server -H 127.0.0.1 -p "$0" >/dev/null 2>&1 &
            else
                python3 -m moto.server -H 127.0.0.1 -p "$0" >/dev/null 2>&1 &
            fi
            moto=$!
            read -r _ignored
            kill "$moto" 2>/dev/null
        "#;
        let guard = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("sh starts");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !http_ok(&format!("{url}/moto-api/")) {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}; `make test` installs it into .venv (or: python3 -m pip install 'moto[server]')"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Moto { url, _guard: guard }
    }
}

/// The moto shared by the tests of one test binary (each test uses its own names in it).
pub fn shared() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| Moto::start(free_port()))
}

/// A loopback port nothing listens on (right now).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A tiny blocking HTTP probe (moto's readiness), without pulling in a blocking client.
fn http_ok(url: &str) -> bool {
    use std::io::{Read, Write};
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut stream) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200")
}
