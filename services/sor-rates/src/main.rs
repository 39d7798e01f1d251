//! The `sor-rates` binary: settings → platform → routes → serve. See the library for the service.

use std::process::ExitCode;

fn main() -> ExitCode {
    digit_runtime::run(&sor_rates::INFO, sor_rates::NEEDS, sor_rates::routes)
}
