//! The `ifms-adapter` binary: settings → platform → routes → serve. See the library for the service.

use std::process::ExitCode;

fn main() -> ExitCode {
    digit_runtime::run(
        &ifms_adapter::INFO,
        ifms_adapter::NEEDS,
        ifms_adapter::routes,
    )
}
