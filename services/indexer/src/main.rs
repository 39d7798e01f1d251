//! The `indexer` binary: `indexer` runs the service; `indexer check <configs…>` validates
//! indexer YAML offline.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("check") {
        return match indexer::check(&args[1..]) {
            Ok(summary) => {
                let _ = std::io::stdout().write_all(summary.as_bytes());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("indexer check: {e}");
                ExitCode::FAILURE
            }
        };
    }
    digit_runtime::run(&indexer::INFO, indexer::NEEDS, indexer::routes)
}
