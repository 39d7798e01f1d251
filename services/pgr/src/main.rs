//! The `pgr` binary: settings → platform → routes → serve. See the library for the service.

use std::process::ExitCode;

fn main() -> ExitCode {
    digit_runtime::run(&pgr::INFO, pgr::NEEDS, pgr::routes)
}
