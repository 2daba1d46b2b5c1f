//! The `bedrock-gateway` binary: reads the configuration, builds the router, and serves it on
//! Lambda (when `AWS_LAMBDA_RUNTIME_API` is set) or as a local HTTP server on `HOST:PORT`.

use std::process::ExitCode;

use bedrock_gateway::{app, config::Config, lambda, server, state::AppState};

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let state = match Config::from_env() {
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

/// Logs to stderr; `RUST_LOG` sets the level (default info). CloudWatch adds timestamps on
/// Lambda, so none are printed there.
fn init_tracing() {
    // The AWS SDK's own info lines are noise in a gateway's log; `RUST_LOG` overrides.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    if lambda::in_lambda() {
        builder.without_time().init();
    } else {
        builder.init();
    }
}
