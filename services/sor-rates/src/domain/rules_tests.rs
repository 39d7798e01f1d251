//! Unit tests of the SOR and rate rules.

#![allow(clippy::unwrap_used)]
use super::*;
use crate::domain::model::AmountDetail;

fn masters() -> Masters {
    Masters {
        types: ["M", "L", "E", "W"].iter().map(|s| (*s).into()).collect(),
        sub_types: vec![("EW".into(), "W".into()), ("CEM".into(), "M".into())],
        variants: ["FN", "NA"].iter().map(|s| (*s).into()).collect(),
        uoms: ["KG", "CUM"].iter().map(|s| (*s).into()).collect(),
        heads: ["LA.1", "MA.2", "LC.7"]
            .iter()
            .map(|s| (*s).into())
            .collect(),
        overheads: vec![
            ("LA.1".into(), "LA".into(), "Labour".into()),
            ("MA.2".into(), "MA".into(), "Material".into()),
            ("LC.7".into(), "LC".into(), "Labour cess".into()),
        ],
    }
}

fn sor(t: &str, sub: Option<&str>) -> Sor {
    Sor {
        tenant_id: Some("pg".into()),
        sor_type: Some(t.into()),
        sor_sub_type: sub.map(Into::into),
        sor_variant: sub.map(|_| "FN".into()),
        uom: Some("KG".into()),
        uom_value: Some(Money::parse("1").unwrap()),
        description: Some("  Cement OPC 53  ".into()),
        ..Sor::default()
    }
}

#[test]
fn sor_masters_and_defaults() {
    let mut m = sor("M", None);
    validate_new_sor(&mut m, &masters()).unwrap();
    assert_eq!(m.sor_sub_type.as_deref(), Some("NA"));
    assert_eq!(m.description.as_deref(), Some("Cement OPC 53"));
    let mut w = sor("W", Some("EW"));
    validate_new_sor(&mut w, &masters()).unwrap();
    let mut wrong = sor("W", Some("CEM"));
    let e = validate_new_sor(&mut wrong, &masters()).unwrap_err();
    assert_eq!(e.code(), codes::INVALID_SOR_SUBTYPE);
    let mut bad = Sor {
        sor_type: Some("X".into()),
        uom: Some("GALLON".into()),
        uom_value: Some(Money::parse("0").unwrap()),
        description: Some("x".into()),
        sor_number: Some("LD-1".into()),
        ..Sor::default()
    };
    let codes: Vec<String> = match validate_new_sor(&mut bad, &masters()).unwrap_err() {
        SorError::Invalid(e) => e.into_iter().map(|e| e.code).collect(),
        other => panic!("{other}"),
    };
    assert_eq!(
        codes,
        [
            "INVALID_TENANT",
            "SOR_NUMBER_NOT_ALLOWED",
            "INVALID_SOR_TYPE",
            "INVALID_UOM",
            "INVALID_UOM_VALUE",
            "INVALID_DESCRIPTION"
        ]
    );
}

#[test]
fn only_description_status_and_details_change() {
    let stored = Sor {
        sor_number: Some("LD-00001".into()),
        sor_type: Some("M".into()),
        description: Some("Old".into()),
        is_active: Some(true),
        ..Sor::default()
    };
    let ok = apply_sor_update(
        &stored,
        &Sor {
            description: Some("New text".into()),
            is_active: Some(false),
            ..Sor::default()
        },
    )
    .unwrap();
    assert_eq!(
        (ok.description.as_deref(), ok.is_active),
        (Some("New text"), Some(false))
    );
    let e = apply_sor_update(
        &stored,
        &Sor {
            sor_number: Some("LD-9".into()),
            ..Sor::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), codes::SOR_FIELD_IMMUTABLE);
}

#[test]
fn start_of_day_in_ist() {
    // 2026-11-25T10:00:00+05:30 → 2026-11-25T00:00:00+05:30 = 2026-11-24T18:30:00Z.
    let t = 1_795_584_600_000; // 2026-11-25T04:30:00Z
    assert_eq!(start_of_day(t, chrono_tz::Asia::Kolkata), 1_795_545_000_000);
    // Just after local midnight stays on the same day.
    assert_eq!(
        start_of_day(1_795_545_000_001, chrono_tz::Asia::Kolkata),
        1_795_545_000_000
    );
}

#[test]
fn amounts_are_exact_and_checked() {
    let amount = |h: &str, a: &str| AmountDetail {
        heads: Some(h.into()),
        amount: Some(Money::parse(a).unwrap()),
        ..AmountDetail::default()
    };
    let r = RateDetails {
        amount_detail: vec![amount("LA.1", "0.1"), amount("MA.2", "0.2")],
        ..RateDetails::default()
    };
    assert_eq!(
        validate_amounts(&r, &masters()).unwrap(),
        Money::parse("0.3").unwrap()
    );
    let dup = RateDetails {
        amount_detail: vec![amount("LA.1", "1"), amount("LA.1", "2")],
        ..RateDetails::default()
    };
    assert_eq!(
        validate_amounts(&dup, &masters()).unwrap_err().code(),
        codes::DUPLICATE_HEAD
    );
    let cents = RateDetails {
        amount_detail: vec![amount("LA.1", "0.125")],
        ..RateDetails::default()
    };
    assert_eq!(
        validate_amounts(&cents, &masters()).unwrap_err().code(),
        codes::INVALID_AMOUNT
    );
    let neg = RateDetails {
        amount_detail: vec![amount("LA.1", "-1")],
        ..RateDetails::default()
    };
    assert_eq!(
        validate_amounts(&neg, &masters()).unwrap_err().code(),
        codes::INVALID_AMOUNT
    );
    let head = RateDetails {
        amount_detail: vec![amount("XX.1", "1")],
        ..RateDetails::default()
    };
    assert_eq!(
        validate_amounts(&head, &masters()).unwrap_err().code(),
        codes::INVALID_HEAD
    );
    assert_eq!(
        validate_amounts(&RateDetails::default(), &masters())
            .unwrap_err()
            .code(),
        codes::AMOUNT_DETAIL_REQUIRED
    );
}

#[test]
fn predecessors() {
    let rate = |id: &str, from: i64, to: Option<i64>| RateDetails {
        id: Some(id.into()),
        valid_from: Some(from),
        valid_to: to,
        ..RateDetails::default()
    };
    assert_eq!(predecessor(&[], 10).unwrap(), Predecessor::None);
    let open = [rate("a", 0, Some(100)), rate("b", 100, None)];
    assert_eq!(
        predecessor(&open, 200).unwrap(),
        Predecessor::Close("b".into())
    );
    assert_eq!(
        predecessor(&open, 100).unwrap(),
        Predecessor::Replace("b".into())
    );
    assert_eq!(
        predecessor(&open, 50).unwrap_err().code(),
        codes::BACKDATED_RATE
    );
    assert_eq!(
        predecessor(&[rate("c", 0, Some(50))], 60).unwrap(),
        Predecessor::None
    );
    assert_eq!(
        predecessor(&[rate("c", 0, Some(80))], 60).unwrap(),
        Predecessor::Close("c".into())
    );
}

#[test]
fn v1_type_names_the_charge_when_heads_is_absent() {
    let item = |t: Option<&str>, h: Option<&str>| AmountDetail {
        amount_type: t.map(Into::into),
        heads: h.map(Into::into),
        amount: Some(Money::parse("1").unwrap()),
        ..AmountDetail::default()
    };
    let mut amounts = vec![
        item(Some("labour"), None),
        item(Some("MA"), None),
        item(Some("lc.7"), Some("")),
        item(Some("fixed"), Some("LA.1")),
        item(Some("percentage"), None),
        item(Some("Gst"), None),
        item(None, None),
    ];
    resolve_heads(&mut amounts, &masters());
    let heads: Vec<Option<&str>> = amounts.iter().map(|a| a.heads.as_deref()).collect();
    assert_eq!(
        heads,
        [
            Some("LA.1"),
            Some("MA.2"),
            Some("LC.7"),
            Some("LA.1"),
            None,
            None,
            None
        ]
    );
    // The client's type is kept.
    assert_eq!(amounts[0].amount_type.as_deref(), Some("labour"));
    let e = validate_amounts(
        &RateDetails {
            amount_detail: vec![amounts[5].clone()],
            ..RateDetails::default()
        },
        &masters(),
    )
    .unwrap_err();
    assert_eq!(e.code(), codes::INVALID_HEAD);
    assert!(e.to_string().contains("\"Gst\""), "{e}");
}

#[test]
fn a_request_chains_its_own_items() {
    let rate = |id: &str, from: i64, to: Option<i64>| RateDetails {
        id: Some(id.into()),
        valid_from: Some(from),
        valid_to: to,
        ..RateDetails::default()
    };
    let stored = [rate("s", 0, None)];
    // 10 closes the stored rate, 20 closes 10, 20 again replaces the first 20.
    let c = chain(
        &stored,
        &[
            rate("a", 10, None),
            rate("b", 20, None),
            rate("c", 20, None),
        ],
    )
    .unwrap();
    assert_eq!(c.stored, vec![("s".to_owned(), Some(10))]);
    assert_eq!(c.new, vec![(Some(20), true), (None, false), (None, true)]);
    // Replacing the stored rate, then back-dating within the request.
    let c = chain(&stored, &[rate("a", 0, None)]).unwrap();
    assert_eq!(c.stored, vec![("s".to_owned(), None)]);
    assert_eq!(
        chain(&stored, &[rate("a", 10, None), rate("b", 5, None)])
            .unwrap_err()
            .code(),
        codes::BACKDATED_RATE
    );
}
