//! Payment instructions: the PI row with its payment advice, beneficiaries (and their line
//! items), transactions and status logs (spec A2.5). Reads load a page of PI ids first and
//! then their children, so a page never truncates a PI (C.1 item 7).
//! `rows` holds the row types and the aggregate, `write` the statements that change a PI,
//! `read` the loads and the search.

mod read;
mod rows;
mod write;

pub use read::{by_number, load, of_payment, search, to_poll, PiCriteria};
pub use rows::{Audit, BeneficiaryRow, PaRow, Pi, PiRow};
pub use write::{insert, lock_payment, log, update};

use rust_decimal::Decimal;

/// `ORIGINAL` or `REVISED`.
pub const ORIGINAL: &str = "ORIGINAL";
/// A correction PI.
pub const REVISED: &str = "REVISED";

/// The amount as JIT wants it: two decimals (`"500.00"`).
pub fn jit_amount(amount: Decimal) -> String {
    let mut a =
        amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    a.rescale(2);
    a.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jit_amounts_have_two_decimals() {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        assert_eq!(jit_amount(d("500")), "500.00");
        assert_eq!(jit_amount(d("1500.0")), "1500.00");
        assert_eq!(jit_amount(d("0.125")), "0.13");
    }
}
