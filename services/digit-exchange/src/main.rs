//! The `digit-exchange` binary: settings → platform → routes → serve. See the library for the service.

use std::process::ExitCode;

fn main() -> ExitCode {
    digit_runtime::run(
        &digit_exchange::INFO,
        digit_exchange::NEEDS,
        digit_exchange::routes,
    )
}
