//! The real `bedrock-gateway` binary as a child process in front of its own emulator, for the
//! tests that need the process itself (key stores and DynamoDB reached through the standard
//! `AWS_ENDPOINT_URL_*` variables, exactly as deployed): a clean environment with dummy
//! credentials, the test's own variables on top, the address it announces, and its log.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bedrock_emulator::{EmulatorConfig, RunningEmulator};
use tokio::io::{AsyncBufReadExt, BufReader};

/// A running gateway process; killed when dropped.
pub struct GatewayProcess {
    /// `http://127.0.0.1:PORT`, as the process announced it.
    pub url: String,
    pub http: reqwest::Client,
    log: Arc<Mutex<Vec<String>>>,
    _emulator: RunningEmulator,
    _child: tokio::process::Child,
}

impl GatewayProcess {
    /// Starts the binary with `HOST`, `PORT=0`, a region, dummy credentials and the emulator's
    /// endpoints, then `env` (the key source, and anything overriding those), and waits up to 30 s
    /// for the address line. Panics with the process's log if it does not start.
    pub async fn start(env: &[(&str, &str)]) -> GatewayProcess {
        let emulator = bedrock_emulator::spawn(EmulatorConfig::default())
            .await
            .expect("emulator starts");
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_bedrock-gateway"));
        command
            .env_clear()
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url())
            .env("AWS_ENDPOINT_URL_BEDROCK", emulator.url())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the bedrock-gateway binary starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let stderr_log = log.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                stderr_log.lock().unwrap().push(line);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
            .await
            .ok()
            .and_then(|line| line.ok().flatten())
            .unwrap_or_else(|| {
                panic!(
                    "the gateway did not start; its log:\n{}",
                    log.lock().unwrap().join("\n")
                )
            });
        let url = first
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in `{first}`"))
            .to_string();
        GatewayProcess {
            url,
            http: super::http_client(),
            log,
            _emulator: emulator,
            _child: child,
        }
    }

    /// Everything the process has written to stderr so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}
