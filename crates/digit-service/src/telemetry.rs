//! Structured logs: JSON (deployments) or pretty (local), filtered by `RUST_LOG`.

use crate::config::LogFormat;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Default filter: warn, info for our crates.
/// Calling it twice is harmless (the second call is ignored).
pub fn init(service: &str, format: LogFormat) {
    let crate_name = service.replace('-', "_");
    let default = format!(
        "warn,{crate_name}=info,digit_service=info,digit_kafka=info,digit_store=info,digit_mdms=info,tower_http=warn"
    );
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => {
            // Colours only on a terminal, so log files stay plain text.
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
            registry
                .with(tracing_subscriber::fmt::layer().with_ansi(ansi))
                .try_init()
        }
    };
    // Already initialised (tests, or a second call): keep the first subscriber.
    drop(result);
}
