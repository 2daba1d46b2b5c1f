//! The `bedrock-gateway` binary: reads the configuration, builds the router, and serves it on
//! Lambda (when `AWS_LAMBDA_RUNTIME_API` is set) or as a local HTTP server on `HOST:PORT`.

use std::process::ExitCode;

use bedrock_gateway::telemetry::LogFormat;
use bedrock_gateway::telemetry::json_format::JsonLines;
use bedrock_gateway::{app, config::Config, lambda, server, state::AppState};

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::from_env();
    init_tracing(
        config
            .as_ref()
            .map_or(LogFormat::Text, |c| c.telemetry.log_format),
    );
    bedrock_gateway::memory::spawn_trimmer();
    let state = match config {
        Ok(config) => AppState::from_config(config).await,
        Err(err) => Err(err),
    };
    let state = match state {
        Ok(state) => state,
        Err(err) => {
            eprintln!("bedrock-gateway: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    let (host, port) = (state.config.host.clone(), state.config.port);
    let settings = server::ServerSettings::from_config(&state.config);
    let router = app::router(state);
    let result = if lambda::in_lambda() {
        lambda::run(router).await.map_err(|e| e.to_string())
    } else {
        serve_locally(&host, port, router, settings).await
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bedrock-gateway: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_locally(
    host: &str,
    port: u16,
    router: axum::Router,
    settings: server::ServerSettings,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .map_err(|e| listen_error(host, port, &e))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("bedrock-gateway listening on http://{addr} (OpenAI base URL http://{addr}/api/v1)");
    server::serve_with(listener, router, settings, server::shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// Why the server cannot listen, and which setting changes it.
fn listen_error(host: &str, port: u16, err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "cannot listen on {host}:{port}: the port is already in use (is another gateway running?). Choose another port with PORT, for example `PORT=8081 make run`"
        ),
        std::io::ErrorKind::AddrNotAvailable => format!(
            "cannot listen on {host}:{port}: {err}. HOST must be an address of this machine, such as 127.0.0.1 or 0.0.0.0"
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "cannot listen on {host}:{port}: {err}. Ports below 1024 need privileges; choose another with PORT, for example `PORT=8081 make run`"
        ),
        _ => format!("cannot listen on {host}:{port}: {err} (HOST and PORT set the address)"),
    }
}

/// Logs to stderr; `RUST_LOG` sets the level (default info). `LOG_FORMAT=json` writes one JSON
/// object per line (`telemetry/json_format.rs`; the per-request line carries the EMF metrics);
/// text lines have no timestamp on Lambda, where CloudWatch adds one.
///
/// Whatever `RUST_LOG` says, other crates log at most warnings: at debug and trace the AWS SDK,
/// hyper, h2, rustls, reqwest and lambda_runtime log credentials (the access key id), signed
/// requests and whole request and response bodies, that is prompts and replies. The cap is a
/// second filter after the user's, so no `RUST_LOG` value can lift it. `aws_config` is capped
/// at errors: its warnings repeat, at length, why each credential or region source failed,
/// which the gateway reports itself in one line.
fn init_tracing(format: LogFormat) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let cap = Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target("aws_config", LevelFilter::ERROR)
        .with_target("bedrock_gateway", LevelFilter::TRACE);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let fmt = match format {
        LogFormat::Json => fmt.event_format(JsonLines).boxed(),
        LogFormat::Text if lambda::in_lambda() => fmt.without_time().boxed(),
        LogFormat::Text => fmt.boxed(),
    };
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter).with_filter(cap))
        .init();
}
