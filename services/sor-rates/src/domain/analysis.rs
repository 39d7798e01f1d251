//! Rate analysis (upstream-ifms-sor B1.5, with C.2's fixes): a works SOR's rate at a date
//! from its composition and the basic SORs' rates valid then.
//!
//! For a works SOR with "rate defined for quantity" `Q_w`, a composition making `Q_c` units
//! from basic SORs `b` (quantity `q_b`, each rated for `Q_b` units with amounts `a_h`):
//!
//! * analysis amount per head: `A_h = Σ_b a_h(b) × q_b / Q_b` (plus fixed extra charges on
//!   their head, and percentage charges as `figure% × A_head`);
//! * works SOR amount per head: `W_h = A_h × Q_w / Q_c` (upstream drops the `× Q_w`);
//! * labour cess: `W_cess = cess% × Σ_{h ≠ cess head} W_h`;
//! * every head is rounded **once**, at the end, to 2 decimals half away from zero; the rate
//!   is the sum of the rounded heads (so it always equals Σ amountDetail).

use crate::domain::model::{AmountDetail, Composition, LineItem, RateDetails};
use crate::error::{codes, SorError};
use digit_core::Money;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;

/// Labour cess head (`labour.cess.head.code`).
pub const LABOUR_CESS_HEAD: &str = "LC.7";

/// A basic SOR as the analysis needs it.
#[derive(Debug, Clone)]
pub struct BasicInput {
    /// Id.
    pub sor_id: String,
    /// Its "rate defined for quantity".
    pub uom_value: Decimal,
    /// Its rate valid at the date (amounts by head), if any.
    pub rate: Option<RateDetails>,
}

/// The outcome before rounding: lines and works-SOR heads.
#[derive(Debug, Clone)]
pub struct Computed {
    /// Lines for the analysis quantity.
    pub lines: Vec<LineItem>,
    /// Amounts by head for `Q_w` units of the works SOR, rounded to 2 dp.
    pub heads: BTreeMap<String, Decimal>,
    /// Σ heads.
    pub rate: Decimal,
}

fn too_large() -> SorError {
    SorError::invalid(
        codes::INVALID_COMPOSITION,
        "amounts or quantities are too large to compute",
    )
}

/// `a × b / c`, refusing overflow (decimal arithmetic would otherwise panic).
fn mul_div(a: Decimal, b: Decimal, c: Decimal) -> Result<Decimal, SorError> {
    a.checked_mul(b)
        .and_then(|p| p.checked_div(c))
        .ok_or_else(too_large)
}

fn add(total: &mut Decimal, v: Decimal) -> Result<(), SorError> {
    *total = total.checked_add(v).ok_or_else(too_large)?;
    Ok(())
}

fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Computes the analysis. `cess_percent` is the labour cess rate (1 upstream).
pub fn compute(
    composition: &Composition,
    works_uom_value: Decimal,
    basics: &[BasicInput],
    cess_percent: Decimal,
) -> Result<Computed, SorError> {
    let q_c = composition.quantity.map(Money::decimal).unwrap_or_default();
    if q_c <= Decimal::ZERO || works_uom_value <= Decimal::ZERO {
        return Err(SorError::invalid(
            codes::INVALID_COMPOSITION,
            "quantities must be positive",
        ));
    }
    let mut analysis: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut lines = Vec::new();
    for item in &composition.basic_sor_details {
        let id = item.sor_id.clone().unwrap_or_default();
        let q_b = item.quantity.map(Money::decimal).unwrap_or_default();
        let basic = basics.iter().find(|b| b.sor_id == id).ok_or_else(|| {
            SorError::invalid(codes::SOR_NOT_FOUND, format!("SOR not found: {id}"))
        })?;
        let rate = basic.rate.as_ref().ok_or_else(|| {
            SorError::invalid(
                codes::NO_RATES_FOUND,
                format!("Rate not found for the sor id :: {id}"),
            )
        })?;
        let mut amounts = Vec::new();
        for a in &rate.amount_detail {
            let head = a.heads.clone().unwrap_or_default();
            let value = mul_div(
                a.amount.map(Money::decimal).unwrap_or_default(),
                q_b,
                basic.uom_value,
            )?;
            add(analysis.entry(head.clone()).or_default(), value)?;
            amounts.push(AmountDetail {
                heads: Some(head),
                amount_type: a.amount_type.clone(),
                amount: Some(Money(value)),
                ..AmountDetail::default()
            });
        }
        lines.push(LineItem {
            line_type: "SOR".into(),
            target_id: Some(id),
            quantity: item.quantity,
            amount_details: amounts,
        });
    }
    let mut extra = Vec::new();
    for charge in &composition.additional_charges {
        let head = charge.applicable_on.clone().unwrap_or_default();
        let figure = charge.figure.map(Money::decimal).unwrap_or_default();
        let value = match charge.calculation_type.as_deref().unwrap_or("fixed") {
            "percentage" => mul_div(
                analysis.get(&head).copied().unwrap_or_default(),
                figure,
                Decimal::ONE_HUNDRED,
            )?,
            _ => figure,
        };
        add(analysis.entry(head.clone()).or_default(), value)?;
        extra.push(AmountDetail {
            heads: Some(head),
            amount_type: charge.calculation_type.clone(),
            amount: Some(Money(value)),
            ..AmountDetail::default()
        });
    }
    if !extra.is_empty() {
        lines.push(LineItem {
            line_type: "EXTRACHARGES".into(),
            target_id: None,
            quantity: None,
            amount_details: extra,
        });
    }
    let mut works: BTreeMap<String, Decimal> = BTreeMap::new();
    for (h, v) in analysis {
        works.insert(h, mul_div(v, works_uom_value, q_c)?);
    }
    let mut base = Decimal::ZERO;
    for (h, v) in &works {
        if h.as_str() != LABOUR_CESS_HEAD {
            add(&mut base, *v)?;
        }
    }
    let cess = mul_div(base, cess_percent, Decimal::ONE_HUNDRED)?;
    add(works.entry(LABOUR_CESS_HEAD.into()).or_default(), cess)?;
    let heads: BTreeMap<String, Decimal> = works.into_iter().map(|(h, v)| (h, round2(v))).collect();
    let mut rate = Decimal::ZERO;
    for v in heads.values() {
        add(&mut rate, *v)?;
    }
    Ok(Computed { lines, heads, rate })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::model::{AdditionalCharge, BasicSorDetail};

    fn d(s: &str) -> Decimal {
        Money::parse(s).unwrap().decimal()
    }

    fn rate(amounts: &[(&str, &str)]) -> Option<RateDetails> {
        Some(RateDetails {
            amount_detail: amounts
                .iter()
                .map(|(h, a)| AmountDetail {
                    heads: Some((*h).into()),
                    amount: Some(Money::parse(a).unwrap()),
                    ..AmountDetail::default()
                })
                .collect(),
            ..RateDetails::default()
        })
    }

    /// Brick masonry, rated per 10 CUM, analysed for 1 CUM (hand-computed in the README).
    #[test]
    fn worked_example_to_the_paisa() {
        let composition = Composition {
            quantity: Some(Money::parse("1").unwrap()),
            basic_sor_details: vec![
                BasicSorDetail {
                    sor_id: Some("bricks".into()),
                    quantity: Some(Money::parse("500").unwrap()),
                },
                BasicSorDetail {
                    sor_id: Some("mason".into()),
                    quantity: Some(Money::parse("1.5").unwrap()),
                },
                BasicSorDetail {
                    sor_id: Some("cement".into()),
                    quantity: Some(Money::parse("1.25").unwrap()),
                },
            ],
            additional_charges: vec![AdditionalCharge {
                description: Some("Scaffolding".into()),
                applicable_on: Some("ADC.4".into()),
                calculation_type: Some("fixed".into()),
                figure: Some(Money::parse("100").unwrap()),
            }],
            ..Composition::default()
        };
        let basics = vec![
            BasicInput {
                sor_id: "bricks".into(),
                uom_value: d("1000"),
                rate: rate(&[("MA.2", "8000")]),
            },
            BasicInput {
                sor_id: "mason".into(),
                uom_value: d("1"),
                rate: rate(&[("LA.1", "850.50")]),
            },
            BasicInput {
                sor_id: "cement".into(),
                uom_value: d("1"),
                rate: rate(&[("MA.2", "410.50"), ("CA.9", "12.25")]),
            },
        ];
        let out = compute(&composition, d("10"), &basics, d("1")).unwrap();
        // A: MA.2 = 4000 + 513.125, LA.1 = 1275.75, CA.9 = 15.3125, ADC.4 = 100; × 10.
        assert_eq!(out.heads["MA.2"], d("45131.25"));
        assert_eq!(out.heads["LA.1"], d("12757.50"));
        assert_eq!(
            out.heads["CA.9"],
            d("153.13"),
            "153.125 rounds half away from zero"
        );
        assert_eq!(out.heads["ADC.4"], d("1000"));
        // Cess: 1 % of 59041.875 = 590.41875.
        assert_eq!(out.heads["LC.7"], d("590.42"));
        assert_eq!(out.rate, d("59632.30"));
        assert_eq!(out.lines.len(), 4);
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let composition = Composition {
            quantity: Some(Money::parse("0.0001").unwrap()),
            basic_sor_details: vec![BasicSorDetail {
                sor_id: Some("a".into()),
                quantity: Some(Money::parse("1000000000").unwrap()),
            }],
            ..Composition::default()
        };
        let basics = vec![BasicInput {
            sor_id: "a".into(),
            uom_value: d("0.0001"),
            rate: rate(&[("LA.1", "70000000000000000")]),
        }];
        let e = compute(&composition, d("1000000000"), &basics, d("1")).unwrap_err();
        assert_eq!(e.code(), codes::INVALID_COMPOSITION);
    }

    #[test]
    fn percentage_charges_and_missing_rates() {
        let composition = Composition {
            quantity: Some(Money::parse("2").unwrap()),
            basic_sor_details: vec![BasicSorDetail {
                sor_id: Some("a".into()),
                quantity: Some(Money::parse("2").unwrap()),
            }],
            additional_charges: vec![AdditionalCharge {
                applicable_on: Some("LA.1".into()),
                calculation_type: Some("percentage".into()),
                figure: Some(Money::parse("10").unwrap()),
                ..AdditionalCharge::default()
            }],
            ..Composition::default()
        };
        let basics = vec![BasicInput {
            sor_id: "a".into(),
            uom_value: d("1"),
            rate: rate(&[("LA.1", "100")]),
        }];
        // A_LA = 200 + 10 % = 220, per 1 unit (Q_w = 1, Q_c = 2) → 110; cess 1.10.
        let out = compute(&composition, d("1"), &basics, d("1")).unwrap();
        assert_eq!(out.heads["LA.1"], d("110"));
        assert_eq!(out.rate, d("111.10"));
        let none = vec![BasicInput {
            sor_id: "a".into(),
            uom_value: d("1"),
            rate: None,
        }];
        assert_eq!(
            compute(&composition, d("1"), &none, d("1"))
                .unwrap_err()
                .code(),
            codes::NO_RATES_FOUND
        );
    }
}
