//! The `program` binary: settings → platform → routes → serve. See the library for the service.

use std::process::ExitCode;

fn main() -> ExitCode {
    digit_runtime::run(&program::INFO, program::NEEDS, program::routes)
}
