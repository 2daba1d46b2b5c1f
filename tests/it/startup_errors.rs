//! A gateway that cannot work says why in one line and exits, before serving anything: the real
//! binary, started with an empty environment. The instance metadata service is pointed at a
//! closed local port, so that the SDK's attempts to reach it fail at once.

use std::process::{Command, Output, Stdio};

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Runs the gateway with only `env` (plus PATH, a fresh HOME and the closed IMDS endpoint).
fn run_gateway(env: &[(&str, &str)]) -> Output {
    let home = std::env::temp_dir().join(format!("gw-startup-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let imds = format!("http://127.0.0.1:{}", closed_port());
    let mut command = Command::new(env!("CARGO_BIN_EXE_bedrock-gateway"));
    command
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &home)
        .env("PORT", "0")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds)
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let started = tokio::time::Instant::now();
    let output = command.output().expect("the binary runs");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "start-up checks took {:?}",
        started.elapsed()
    );
    output
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn no_region_is_one_line() {
    let output = run_gateway(&[("API_KEY", "k")]);
    let lines = stderr_lines(&output);
    assert_eq!(output.status.code(), Some(2), "{lines:?}");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("set AWS_REGION"), "{}", lines[0]);
    assert!(output.stdout.is_empty());
}

#[test]
fn no_credentials_is_one_line_naming_the_sources() {
    for log in ["info", "trace"] {
        let output = run_gateway(&[
            ("API_KEY", "k"),
            ("AWS_REGION", "us-east-1"),
            ("RUST_LOG", log),
        ]);
        let lines = stderr_lines(&output);
        assert_eq!(output.status.code(), Some(2), "{lines:?}");
        let errors: Vec<_> = lines
            .iter()
            .filter(|l| !l.contains("TRACE") && !l.contains("DEBUG"))
            .collect();
        assert_eq!(errors.len(), 1, "RUST_LOG={log}: {lines:#?}");
        let line = errors[0];
        for source in [
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "web identity",
            "instance metadata",
        ] {
            assert!(line.contains(source), "{source} missing from: {line}");
        }
        assert!(!line.contains(".."), "{line}");
        assert!(output.stdout.is_empty(), "nothing is served");
    }
}

#[test]
fn credentials_in_the_environment_pass_the_check() {
    // Credentials are found, so the gateway starts and announces its address; it is then
    // stopped (the output is read up to the announcement only).
    use std::io::{BufRead, BufReader};
    let home = std::env::temp_dir().join(format!("gw-startup-home2-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bedrock-gateway"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &home)
        .env("PORT", "0")
        .env("API_KEY", "k")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("http://127.0.0.1:{}", closed_port()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(first.contains("listening on"), "{first}");
}

#[test]
fn lambda_skips_the_check() {
    // On Lambda the credentials check must not run (nor delay start-up): with no credentials
    // at all the process goes on to the runtime loop, which fails on the closed Runtime API
    // port, not on credentials.
    let runtime_api = format!("127.0.0.1:{}", closed_port());
    let output = run_gateway(&[
        ("API_KEY", "k"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_LAMBDA_RUNTIME_API", &runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", "gw"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "s"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "g"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("no AWS credentials"), "{stderr}");
}

#[tokio::test]
async fn missing_credentials_per_request_are_short() {
    // With the endpoint on loopback the start-up check is skipped (as for the emulator), so the
    // missing credentials show on each request: one short message, and no long log lines.
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    let home = std::env::temp_dir().join(format!("gw-startup-home3-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let bedrock = format!("http://127.0.0.1:{}", closed_port());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_bedrock-gateway"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &home)
        .env("PORT", "0")
        .env("API_KEY", "k")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", &bedrock)
        .env("AWS_ENDPOINT_URL_BEDROCK", &bedrock)
        .env(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("http://127.0.0.1:{}", closed_port()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = stdout.next_line().await.unwrap().unwrap_or_default();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let response = http
            .post(format!("{url}/api/v1/chat/completions"))
            .bearer_auth("k")
            .json(&serde_json::json!({"model": "us.amazon.nova-lite-v1:0",
                "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 502);
        let body: serde_json::Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert_eq!(
            body["error"]["code"], "aws_credentials_unavailable",
            "{body}"
        );
        assert!(message.contains("AWS_ACCESS_KEY_ID"), "{message}");
        assert!(message.len() < 250 && !message.contains('\n') && !message.contains(".."));
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(stderr.lines().count() >= 2, "{stderr}");
    for line in stderr.lines() {
        assert!(line.len() < 400, "a long log line: {line}");
        assert!(!line.contains("IMDS"), "{line}");
    }
}
