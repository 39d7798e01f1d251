//! The `gateway` binary: settings → routes → serve until SIGTERM/SIGINT.

use digit_service::config::{Env, ServiceSettings};
use digit_service::{server, Metrics, Shutdown};
use std::process::ExitCode;

fn main() -> ExitCode {
    if let Some(code) = server::handle_cli(&gateway::INFO) {
        return code;
    }
    let env = Env::process();
    let settings = match ServiceSettings::from_env(&gateway::INFO, &env) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    digit_service::telemetry::init("gateway", settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gateway: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(&env, &settings))
}

async fn run(env: &Env, settings: &ServiceSettings) -> ExitCode {
    let routes = gateway::GatewaySettings::from_env(env).and_then(|gw| {
        let metrics = Metrics::new("gateway");
        gateway::router(&gw, &metrics).map(|r| (r, metrics, gw.routes.len()))
    });
    let (routes, metrics, count) = match routes {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "Invalid gateway settings.");
            eprintln!("gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(routes = count, "Gateway routes loaded.");
    let app = server::app(settings, &metrics, routes);
    match server::serve(settings, app, Shutdown::new().on_os_signals(), async {}).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "Gateway stopped with an error.");
            eprintln!("gateway: {e}");
            ExitCode::FAILURE
        }
    }
}
