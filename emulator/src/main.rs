//! The `bedrock-emulator` binary: serves the emulator on a TCP port for
//! `make run` and manual testing.
//!
//! Usage: `bedrock-emulator [--host 127.0.0.1] [--port 4010]
//! [--token-delay-ms 0] [--no-fragment]`; `EMULATOR_HOST`, `EMULATOR_PORT`
//! and `EMULATOR_TOKEN_DELAY_MS` set the same things, flags win.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use bedrock_emulator::EmulatorConfig;
use clap::Parser;

/// A strict local emulator of Amazon Bedrock's wire protocols (Converse, ConverseStream,
/// InvokeModel, the model listings), for tests and offline use. Flags win over the environment.
#[derive(Debug, Parser, PartialEq, Eq)]
#[command(name = "bedrock-emulator")]
struct Options {
    /// Address to listen on.
    #[arg(long, env = "EMULATOR_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one; the announced line says which).
    #[arg(long, env = "EMULATOR_PORT", default_value_t = 4010)]
    port: u16,
    /// Delay before each streamed token, in milliseconds (a slow model).
    #[arg(long, env = "EMULATOR_TOKEN_DELAY_MS", default_value_t = 0)]
    token_delay_ms: u64,
    /// Write each event-stream frame whole instead of in small pieces.
    #[arg(long)]
    no_fragment: bool,
}

impl Options {
    fn config(&self) -> EmulatorConfig {
        EmulatorConfig {
            token_delay: Duration::from_millis(self.token_delay_ms),
            fragment_frames: !self.no_fragment,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    // Usage errors exit with status 2 and the usage line; --help prints the flags.
    let options = Options::parse();

    let listener = match tokio::net::TcpListener::bind((options.host.as_str(), options.port)).await
    {
        Ok(listener) => listener,
        Err(error) => {
            let hint = if error.kind() == std::io::ErrorKind::AddrInUse {
                " (another program uses this port: pick another with EMULATOR_PORT=... or --port)"
            } else {
                ""
            };
            eprintln!(
                "bedrock-emulator: cannot listen on {}:{}: {error}{hint}",
                options.host, options.port
            );
            return ExitCode::FAILURE;
        }
    };
    let port = listener
        .local_addr()
        .map_or(options.port, |addr| addr.port());
    let mut stdout = std::io::stdout();
    // Scripts wait for this line to know the emulator is ready.
    let host = if options.host.contains(':') {
        format!("[{}]", options.host)
    } else {
        options.host.clone()
    };
    let announced = writeln!(stdout, "bedrock-emulator listening on http://{host}:{port}")
        .and_then(|()| stdout.flush());
    if announced.is_err() {
        return ExitCode::FAILURE;
    }

    let app = bedrock_emulator::router(options.config());
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match bedrock_emulator::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bedrock-emulator: server error: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `args` over an environment holding only `env` (clap reads `std::env`, so the
    /// variables are set for the duration of the parse; the tests that set any run serially).
    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Options, clap::Error> {
        static ENV: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
        const NAMES: [&str; 3] = ["EMULATOR_HOST", "EMULATOR_PORT", "EMULATOR_TOKEN_DELAY_MS"];
        // SAFETY: the lock above serialises every test that touches these variables, and
        // nothing else in this test binary reads them.
        unsafe {
            NAMES.iter().for_each(|name| std::env::remove_var(name));
            env.iter().for_each(|(k, v)| std::env::set_var(k, v));
        }
        let parsed = Options::try_parse_from(
            std::iter::once("bedrock-emulator").chain(args.iter().copied()),
        );
        unsafe { NAMES.iter().for_each(|name| std::env::remove_var(name)) };
        parsed
    }

    #[test]
    fn defaults() {
        let options = parse(&[], &[]).expect("parses");
        assert_eq!((options.host.as_str(), options.port), ("127.0.0.1", 4010));
        assert_eq!(options.config(), EmulatorConfig::default());
    }

    #[test]
    fn flags_override_environment() {
        let options = parse(
            &[
                "--port=5000",
                "--token-delay-ms",
                "7",
                "--no-fragment",
                "--host",
                "0.0.0.0",
            ],
            &[("EMULATOR_PORT", "6000"), ("EMULATOR_TOKEN_DELAY_MS", "3")],
        )
        .expect("parses");
        assert_eq!(options.port, 5000);
        assert_eq!(options.host, "0.0.0.0");
        assert_eq!(options.config().token_delay, Duration::from_millis(7));
        assert!(!options.config().fragment_frames);
    }

    #[test]
    fn environment_is_used() {
        let options = parse(
            &[],
            &[
                ("EMULATOR_PORT", "6000"),
                ("EMULATOR_HOST", "::1"),
                ("EMULATOR_TOKEN_DELAY_MS", "3"),
            ],
        )
        .expect("parses");
        assert_eq!((options.host.as_str(), options.port), ("::1", 6000));
        assert_eq!(options.config().token_delay, Duration::from_millis(3));
    }

    #[test]
    fn bad_arguments_are_reported() {
        assert!(parse(&["--port", "x"], &[]).is_err());
        assert!(parse(&["--port"], &[]).is_err());
        assert!(parse(&["--bogus"], &[]).is_err());
        assert!(parse(&[], &[("EMULATOR_PORT", "99999")]).is_err());
        assert!(parse(&["--no-fragment=1"], &[]).is_err());
        let help = parse(&["--help"], &[]).expect_err("help is an early exit");
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
    }
}
