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

const USAGE: &str =
    "usage: bedrock-emulator [--host HOST] [--port PORT] [--token-delay-ms MS] [--no-fragment]";

/// Where and how to serve.
#[derive(Debug, PartialEq, Eq)]
struct Options {
    host: String,
    port: u16,
    config: EmulatorConfig,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Serve(Options),
    Help,
}

fn parse_number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("invalid value for {name}: {value:?}"))
}

/// Parses flags over the environment's defaults.
fn parse_command(
    args: impl IntoIterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Command, String> {
    let mut options = Options {
        host: env("EMULATOR_HOST").unwrap_or_else(|| "127.0.0.1".to_string()),
        port: match env("EMULATOR_PORT") {
            Some(port) => parse_number("EMULATOR_PORT", &port)?,
            None => 4010,
        },
        config: EmulatorConfig {
            token_delay: match env("EMULATOR_TOKEN_DELAY_MS") {
                Some(ms) => Duration::from_millis(parse_number("EMULATOR_TOKEN_DELAY_MS", &ms)?),
                None => Duration::ZERO,
            },
            fragment_frames: true,
        },
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline_value
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--host" => options.host = value()?,
            "--port" => options.port = parse_number("--port", &value()?)?,
            "--token-delay-ms" => {
                options.config.token_delay =
                    Duration::from_millis(parse_number("--token-delay-ms", &value()?)?)
            }
            "--no-fragment" if inline_value.is_none() => options.config.fragment_frames = false,
            "-h" | "--help" => return Ok(Command::Help),
            _ => return Err(format!("unknown argument: {arg}")),
        }
    }
    Ok(Command::Serve(options))
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

    let options = match parse_command(std::env::args().skip(1), |name| std::env::var(name).ok()) {
        Ok(Command::Serve(options)) => options,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("bedrock-emulator: {message} ({USAGE})");
            return ExitCode::from(2);
        }
    };

    let listener = match tokio::net::TcpListener::bind((options.host.as_str(), options.port)).await
    {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "bedrock-emulator: cannot listen on {}:{}: {error}",
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

    let app = bedrock_emulator::router(options.config);
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

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Command, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_command(args.iter().map(|a| a.to_string()), move |name| {
            env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults() {
        assert_eq!(
            parse(&[], &[]),
            Ok(Command::Serve(Options {
                host: "127.0.0.1".into(),
                port: 4010,
                config: EmulatorConfig::default(),
            }))
        );
    }

    #[test]
    fn flags_override_environment() {
        let Ok(Command::Serve(options)) = parse(
            &[
                "--port=5000",
                "--token-delay-ms",
                "7",
                "--no-fragment",
                "--host",
                "0.0.0.0",
            ],
            &[("EMULATOR_PORT", "6000"), ("EMULATOR_TOKEN_DELAY_MS", "3")],
        ) else {
            panic!("should parse");
        };
        assert_eq!(options.port, 5000);
        assert_eq!(options.host, "0.0.0.0");
        assert_eq!(options.config.token_delay, Duration::from_millis(7));
        assert!(!options.config.fragment_frames);
    }

    #[test]
    fn environment_is_used() {
        let Ok(Command::Serve(options)) =
            parse(&[], &[("EMULATOR_PORT", "6000"), ("EMULATOR_HOST", "::1")])
        else {
            panic!("should parse");
        };
        assert_eq!((options.host.as_str(), options.port), ("::1", 6000));
    }

    #[test]
    fn bad_arguments_are_reported() {
        assert!(parse(&["--port", "x"], &[]).is_err());
        assert!(parse(&["--port"], &[]).is_err());
        assert!(parse(&["--bogus"], &[]).is_err());
        assert!(parse(&[], &[("EMULATOR_PORT", "99999")]).is_err());
        assert!(parse(&["--no-fragment=1"], &[]).is_err());
        assert_eq!(parse(&["--help"], &[]), Ok(Command::Help));
    }
}
