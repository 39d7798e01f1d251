//! Fixture files: bills, individuals, organisations, bank accounts and audit logs.
//!
//! A fixture source is either one JSON file (`configs/mukta/fixtures.json`) or a folder
//! whose `*.json` files are read in name order and merged; every file has the shape of
//! [`Fixtures`], any key may be missing.

use crate::model::{AuditLog, BankAccount, Bill, Individual, Organisation};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The shipped fixtures `configs/mukta/fixtures.json`.
pub const DEV_FIXTURES_JSON: &str = include_str!("../../../configs/mukta/fixtures.json");

/// What the simulator serves until told otherwise.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Fixtures {
    /// Expense bills.
    pub bills: Vec<Bill>,
    /// Individual registry.
    pub individuals: Vec<Individual>,
    /// Organisation registry.
    pub organisations: Vec<Organisation>,
    /// Bank-account records.
    pub bank_accounts: Vec<BankAccount>,
    /// Audit-service entries.
    pub audit_logs: Vec<AuditLog>,
    /// City code per tenant for payment numbers (`pg.citya` → `CITYA`); a tenant not
    /// listed uses the upper-cased part after the first dot.
    pub city_codes: BTreeMap<String, String>,
}

/// A fixture file that cannot be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// I/O.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// JSON.
    #[error("invalid fixtures in {path}: {source}")]
    Json {
        /// The file.
        path: String,
        /// Cause.
        source: serde_json::Error,
    },
}

impl Fixtures {
    /// Parses one fixtures document.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The shipped fixtures.
    pub fn dev() -> Result<Self, serde_json::Error> {
        Self::from_json(DEV_FIXTURES_JSON)
    }

    /// Reads a file, or every `*.json` file of a folder in name order (merged with
    /// [`Fixtures::merge`]).
    pub fn from_path(path: &Path) -> Result<Self, FixtureError> {
        let io = |source| FixtureError::Io {
            path: path.display().to_string(),
            source,
        };
        if path.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            let mut all = Self::default();
            for file in files {
                all.merge(Self::from_file(&file)?);
            }
            Ok(all)
        } else {
            Self::from_file(path)
        }
    }

    fn from_file(path: &Path) -> Result<Self, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text).map_err(|source| FixtureError::Json {
            path: path.display().to_string(),
            source,
        })
    }

    /// Adds `other`'s records; a record whose `id` is already present replaces the old one
    /// (audit logs are appended unless the id repeats).
    pub fn merge(&mut self, other: Self) {
        upsert(&mut self.bills, other.bills, |b| b.id.clone());
        upsert(&mut self.individuals, other.individuals, |i| i.id.clone());
        upsert(&mut self.organisations, other.organisations, |o| {
            o.id.clone()
        });
        upsert(&mut self.bank_accounts, other.bank_accounts, |a| {
            a.id.clone()
        });
        upsert(&mut self.audit_logs, other.audit_logs, |l| l.id.clone());
        self.city_codes.extend(other.city_codes);
    }
}

fn upsert<T>(into: &mut Vec<T>, items: Vec<T>, id: impl Fn(&T) -> Option<String>) {
    for item in items {
        match id(&item).and_then(|k| into.iter().position(|x| id(x).as_deref() == Some(&k))) {
            Some(pos) => into[pos] = item,
            None => into.push(item),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn shipped_fixtures_parse_and_are_consistent() {
        let f = Fixtures::dev().unwrap();
        assert_eq!(f.bills.len(), 2);
        // Every payee, and the deduction beneficiary, has a bank account and audit entries.
        let mut refs: Vec<String> = f
            .bills
            .iter()
            .flat_map(|b| &b.bill_details)
            .filter_map(|d| d.payee.as_ref()?.identifier.clone())
            .collect();
        refs.push("Deduction_pg.citya_LC".to_owned());
        for r in refs {
            let account = f
                .bank_accounts
                .iter()
                .find(|a| a.reference_id.as_deref() == Some(r.as_str()))
                .unwrap_or_else(|| panic!("no bank account for {r}"));
            assert!(f.audit_logs.iter().any(|l| l.object_id == account.id
                && l.entity_name.as_deref() == Some("eg_bank_account_detail")));
        }
        // Totals add up.
        for bill in &f.bills {
            let details: rust_decimal::Decimal =
                bill.bill_details.iter().map(|d| d.total_amount.0).sum();
            assert_eq!(details, bill.total_amount.0);
            for d in &bill.bill_details {
                let items: rust_decimal::Decimal =
                    d.payable_line_items.iter().map(|l| l.amount.0).sum();
                assert_eq!(items, d.total_amount.0);
            }
        }
    }

    #[test]
    fn merge_replaces_by_id_and_appends_new() {
        let mut a = Fixtures::dev().unwrap();
        let mut b = Fixtures::default();
        let mut bill = a.bills[0].clone();
        bill.bill_number = Some("X".into());
        b.bills.push(bill);
        let mut new = a.bills[1].clone();
        new.id = Some("new".into());
        b.bills.push(new);
        a.merge(b);
        assert_eq!(a.bills.len(), 3);
        assert_eq!(a.bills[0].bill_number.as_deref(), Some("X"));
    }
}
