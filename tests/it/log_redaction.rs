//! Nothing of a prompt, a reply, an API key or an AWS credential reaches the gateway's log, even
//! at `RUST_LOG=trace`: the real binary, in front of the emulator, with every logger turned up,
//! in both log formats, through chat (JSON and stream), embeddings and Responses (JSON and
//! stream).

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bedrock_emulator::EmulatorConfig;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

const API_KEY: &str = "sk-gw-SECRETKEY7781";
const ACCESS_KEY_ID: &str = "AKIDSECRETACCESS4242";
const SECRET_ACCESS_KEY: &str = "wJalrSECRETACCESSKEY9090";
const PROMPT_WORD: &str = "zebraprompt5150";
/// The emulator echoes the last user message, so this comes back in the reply.
const REPLY_WORD: &str = "quokkareply6060";

/// Collects the lines of a child's output stream.
fn collect(stream: impl AsyncRead + Unpin + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            into.lock().unwrap().push(line);
        }
    });
}

#[tokio::test]
async fn trace_logging_shows_no_prompt_reply_or_credential() {
    no_secrets_logged("text").await;
}

#[tokio::test]
async fn json_trace_logging_shows_no_prompt_reply_or_credential() {
    no_secrets_logged("json").await;
}

async fn no_secrets_logged(log_format: &str) {
    let emulator = bedrock_emulator::spawn(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_bedrock-gateway"))
        .env_clear()
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("API_KEY", API_KEY)
        .env("LOG_FORMAT", log_format)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url())
        .env("AWS_ENDPOINT_URL_BEDROCK", emulator.url())
        .env(
            "RUST_LOG",
            "trace,aws_smithy_runtime=trace,aws_sigv4=trace,hyper=trace",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the bedrock-gateway binary starts");
    let stderr = Arc::new(Mutex::new(Vec::new()));
    collect(child.stderr.take().unwrap(), stderr.clone());
    let mut stdout_lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), stdout_lines.next_line())
        .await
        .ok()
        .and_then(|line| line.ok().flatten())
        .unwrap_or_else(|| panic!("no start line; log:\n{}", stderr.lock().unwrap().join("\n")));
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the start line names the URL")
        .to_string();
    let stdout = Arc::new(Mutex::new(vec![first]));
    let rest = stdout_lines.into_inner();
    collect(rest, stdout.clone());

    let http = crate::support::http_client();
    let text = format!("{PROMPT_WORD} then {REPLY_WORD}");
    for stream in [false, true] {
        let response = http
            .post(format!("{url}/api/v1/chat/completions"))
            .bearer_auth(API_KEY)
            .json(&json!({
                "model": crate::support::MODEL,
                "stream": stream,
                "messages": [{"role": "user", "content": text}],
            }))
            .send()
            .await
            .expect("the gateway answers");
        assert_eq!(response.status(), 200);
        let body = response.text().await.unwrap();
        let reply = if stream {
            crate::support::streamed_text(&crate::support::parse_sse(&body))
        } else {
            let json: Value = serde_json::from_str(&body).unwrap();
            json["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert!(reply.contains(REPLY_WORD), "the emulator echoes: {reply}");
    }
    let response = http
        .post(format!("{url}/api/v1/embeddings"))
        .bearer_auth(API_KEY)
        .json(&json!({"model": "amazon.titan-embed-text-v2:0", "input": [text.clone()]}))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), 200);
    for stream in [false, true] {
        let response = http
            .post(format!("{url}/api/v1/responses"))
            .bearer_auth(API_KEY)
            .json(&json!({"model": crate::support::MODEL, "stream": stream, "input": text}))
            .send()
            .await
            .expect("the gateway answers");
        assert_eq!(response.status(), 200);
        let body = response.text().await.unwrap();
        assert!(body.contains(REPLY_WORD), "the emulator echoes: {body}");
    }
    // A rejected key is not logged either.
    let response = http
        .get(format!("{url}/api/v1/models"))
        .bearer_auth("sk-wrong-SECRETKEY1234")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    child.start_kill().unwrap();
    child.wait().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = [
        stderr.lock().unwrap().join("\n"),
        stdout.lock().unwrap().join("\n"),
    ]
    .join("\n");
    // The log is not empty: trace is on and the gateway's own lines are there.
    for path in [
        "/api/v1/chat/completions",
        "/api/v1/embeddings",
        "/api/v1/responses",
    ] {
        assert!(
            log.contains(path),
            "expected a request line for {path}:\n{log}"
        );
    }
    for secret in [
        API_KEY,
        "SECRETKEY1234",
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        PROMPT_WORD,
        REPLY_WORD,
    ] {
        assert!(!log.contains(secret), "`{secret}` was logged:\n{log}");
    }
}
