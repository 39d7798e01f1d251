//! The `mukta-simulator` binary: settings → listener → [`mukta_simulator::serve`] until SIGTERM/SIGINT.

use digit_service::config::{vars, Env, LogFormat};
use std::process::ExitCode;

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("--help" | "-h" | "help") => {
            print_out(&mukta_simulator::settings::help_text());
            return ExitCode::SUCCESS;
        }
        Some("--version" | "-V") => {
            print_out(&format!("mukta-simulator {}\n", env!("CARGO_PKG_VERSION")));
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("unknown argument '{other}'; see --help");
            return ExitCode::from(2);
        }
    }
    let env = Env::process();
    let format = match env.get_or_default(&vars::LOG_FORMAT).as_str() {
        "pretty" => LogFormat::Pretty,
        _ => LogFormat::Json,
    };
    digit_service::telemetry::init("mukta-simulator", format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(&env))
}

fn print_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(text.as_bytes());
}

async fn run(env: &Env) -> ExitCode {
    let settings = match mukta_simulator::settings::Settings::from_env(env) {
        Ok(s) => s,
        Err(error) => {
            tracing::error!(%error, "Invalid settings.");
            eprintln!("mukta-simulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&settings.bind).await {
        Ok(l) => l,
        Err(error) => {
            tracing::error!(%error, bind = %settings.bind, "Cannot bind.");
            eprintln!("mukta-simulator: cannot bind {}: {error}", settings.bind);
            return ExitCode::FAILURE;
        }
    };
    let handle = match mukta_simulator::serve(listener, settings.config).await {
        Ok(h) => h,
        Err(error) => {
            tracing::error!(%error, "Cannot start.");
            eprintln!("mukta-simulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(url = %handle.base_url(), "MUKTA simulator listening.");
    digit_service::Shutdown::new().on_os_signals().wait().await;
    handle.shutdown().await;
    ExitCode::SUCCESS
}
