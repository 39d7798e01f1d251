//! The iFIX disbursement the treasury-side program service sends to `/v1/disburse/_create`
//! (spec A1.7): its rules (`DisbursementValidator`), the grouping of its lines into JIT
//! beneficiaries, and the status it is answered with. The message is kept as JSON (so the
//! reply echoes every field, exact numbers included) and read through [`Line`].

use crate::domain::codes::{self, Rule};
use digit_core::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The payee of a line.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct Individual {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Mobile number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Address.
    #[serde(default)]
    pub address: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
}

/// A status.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "DisbursementStatus")]
pub struct Status {
    /// Code.
    #[serde(default)]
    pub status_code: Option<String>,
}

/// The fields of a disbursement (parent or child) the adapter reads; any other field is
/// kept and echoed.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Disbursement")]
pub struct Line {
    /// Id.
    #[serde(default)]
    pub id: Option<String>,
    /// Payment number (parent) or line-item id (child).
    #[serde(default)]
    pub target_id: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub location_code: Option<String>,
    /// Program.
    #[serde(default)]
    pub program_code: Option<String>,
    /// The sanction to pay from (parent).
    #[serde(default)]
    pub sanction_id: Option<String>,
    /// `account@IFSC` (children).
    #[serde(default)]
    pub account_code: Option<String>,
    /// Net.
    #[serde(default)]
    pub net_amount: Option<Money>,
    /// Gross.
    #[serde(default)]
    pub gross_amount: Option<Money>,
    /// Status.
    #[serde(default)]
    pub status: Option<Status>,
    /// Payee (children).
    #[serde(default)]
    pub individual: Option<Individual>,
    /// Additional details (`beneficiaryId`, `beneficiaryType`, `accountType`).
    #[serde(default)]
    pub additional_details: Option<Value>,
    /// Lines (parent).
    #[serde(default)]
    pub children: Option<Vec<Line>>,
}

/// The body of `/v1/disburse/_create` as [`crate::service::AdapterService::disburse_create`]
/// reads it (schema only: the body is kept as JSON so that the answer echoes every field).
#[derive(Debug, Clone, Copy)]
pub struct DisbursementRequest;

impl schemars::JsonSchema for DisbursementRequest {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DisbursementRequest".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let line = generator.subschema_for::<Line>();
        schemars::json_schema!({
            "type": "object",
            "description": "An iFIX disbursement in the exchange envelope, from the treasury-side \
                program service (directly, or delivered by the exchange with `message` as JSON \
                text).",
            "required": ["header", "message"],
            "properties": {
                "signature": {
                    "type": ["string", "null"],
                    "description": "Echoed in the answer (the exchange verified it)."
                },
                "header": {
                    "type": "object",
                    "description": "The iFIX message header, echoed; `sender_id` and \
                        `receiver_id` must differ.",
                    "properties": {
                        "sender_id": { "type": "string" },
                        "receiver_id": { "type": "string" }
                    }
                },
                "message": {
                    "description": "The disbursement (parent, its lines in `children`), or its \
                        JSON text.",
                    "anyOf": [
                        line,
                        { "type": "string", "contentMediaType": "application/json" }
                    ]
                }
            }
        })
    }
}

/// The answer of `/v1/disburse/_create`: the request's envelope with the disbursement's
/// state written in (see `service::callbacks::disbursement_status`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct DisbursementReply(pub Value);

impl schemars::JsonSchema for DisbursementReply {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DisbursementReply".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let line = generator.subschema_for::<Line>();
        let status = schemars::json_schema!({
            "type": "object",
            "properties": {
                "status_code": {
                    "type": "string",
                    "enum": ["INITIATED", "INPROCESS", "SUCCESSFUL", "PARTIAL", "COMPLETED", "FAILED"]
                },
                "status_message": { "type": ["string", "null"] }
            }
        });
        schemars::json_schema!({
            "type": "object",
            "description": "The request's envelope, its disbursement (and each line in \
                `children`) with the payment instruction's state: `status`, `transaction_id` \
                (the PI number; a line's beneficiary number) and `additional_details` \
                (`piStatus`, `numBeneficiaries`, `parentPiNumber`, `hoaCode`; a line's \
                `beneficiaryStatus`).",
            "required": ["signature", "header", "message"],
            "properties": {
                "signature": { "description": "As sent." },
                "header": { "type": "object", "description": "As sent." },
                "message": {
                    "allOf": [line],
                    "properties": {
                        "id": { "type": "string" },
                        "status": status,
                        "transaction_id": { "type": "string" }
                    },
                    "required": ["id", "status", "transaction_id", "additional_details"]
                }
            }
        })
    }
}

/// A disbursement that passed the rules.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Its id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Payment number.
    pub target_id: String,
    /// Program.
    pub program_code: String,
    /// Sanction.
    pub sanction_id: String,
    /// Gross = net.
    pub amount: Decimal,
    /// Its lines (ids filled).
    pub lines: Vec<CheckedLine>,
}

/// A line that passed the rules.
#[derive(Debug, Clone)]
pub struct CheckedLine {
    /// Its id.
    pub id: String,
    /// Line item id (`target_id`).
    pub line_item_id: String,
    /// Account number.
    pub account: String,
    /// IFSC.
    pub ifsc: String,
    /// `account@IFSC`, as stored.
    pub account_code: String,
    /// Amount.
    pub amount: Decimal,
    /// Name, cleaned for JIT.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Address, cleaned for JIT.
    pub address: String,
    /// E-mail.
    pub email: String,
    /// `additional_details.beneficiaryId`.
    pub beneficiary_id: Option<String>,
    /// `additional_details.beneficiaryType`.
    pub beneficiary_type: Option<String>,
    /// `additional_details.accountType`.
    pub account_type: Option<String>,
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn detail(v: &Option<Value>, key: &str) -> Option<String> {
    v.as_ref()
        .and_then(|d| d.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Letters, digits and single spaces (JIT refuses other characters in names and addresses).
pub fn clean(s: &str) -> String {
    let kept: String = s
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// True when `location_code` has a tenant id's form (its program is looked up by it).
pub fn is_tenant_id(location_code: &str) -> bool {
    digit_core::TenantId::parse(location_code.trim()).is_ok()
}

/// Checks a disbursement (`DisbursementValidator`, in its order) against the SSU's program
/// code; fills missing child ids with `new_id`. `program` is `None` when the tenant has no
/// SSU in MDMS.
pub fn check(
    sender_id: &str,
    receiver_id: &str,
    message: &Line,
    program: Option<&str>,
    mut new_id: impl FnMut() -> String,
) -> Result<Checked, Rule> {
    if sender_id.trim() == receiver_id.trim() {
        return Err(codes::rule(codes::INVALID_SENDER_RECEIVER_ID));
    }
    let tenant_id = text(&message.location_code)
        .ok_or_else(|| codes::rule(codes::INVALID_LOCATION_CODE))?
        .to_owned();
    if !is_tenant_id(&tenant_id) {
        return Err(codes::rule_with(
            codes::INVALID_LOCATION_CODE,
            "Location code should be a tenant id (for example pg.citya).",
        ));
    }
    let program_code = text(&message.program_code).unwrap_or_default().to_owned();
    if program != Some(program_code.as_str()) || program_code.is_empty() {
        return Err(codes::rule(codes::INVALID_PROGRAM_CODE));
    }
    let sanction_id = text(&message.sanction_id)
        .ok_or_else(|| codes::rule(codes::INVALID_SANCTION_ID))?
        .to_owned();
    let target_id = text(&message.target_id)
        .ok_or_else(|| codes::rule(codes::INVALID_TARGET_ID))?
        .to_owned();
    let children = message
        .children
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| codes::rule(codes::INVALID_CHILD_DISBURSEMENTS))?;
    let amount = same_amounts(message)?;
    check_status(message)?;
    let mut lines = Vec::with_capacity(children.len());
    let (mut net, mut gross) = (Decimal::ZERO, Decimal::ZERO);
    for child in children {
        let amount = same_amounts(child)?;
        check_status(child)?;
        if amount <= Decimal::ZERO {
            return Err(codes::rule(codes::INVALID_AMOUNT));
        }
        net += child.net_amount.map(Money::decimal).unwrap_or_default();
        gross += child.gross_amount.map(Money::decimal).unwrap_or_default();
        let account_code = text(&child.account_code)
            .ok_or_else(|| codes::rule(codes::INVALID_ACCOUNT_CODE))?
            .to_owned();
        let (account, ifsc) = account_code
            .split_once('@')
            .map(|(a, i)| (a.trim().to_owned(), i.trim().to_owned()))
            .filter(|(a, i)| !a.is_empty() && !i.is_empty())
            .ok_or_else(|| codes::rule(codes::INVALID_ACCOUNT_CODE))?;
        let individual = child
            .individual
            .as_ref()
            .ok_or_else(|| codes::rule(codes::INVALID_INDIVIDUAL))?;
        let name = text(&individual.name).ok_or_else(|| codes::rule(codes::INVALID_NAME))?;
        let phone = text(&individual.phone).ok_or_else(|| codes::rule(codes::INVALID_PHONE))?;
        let address =
            text(&individual.address).ok_or_else(|| codes::rule(codes::INVALID_ADDRESS))?;
        let id = text(&child.id).map_or_else(&mut new_id, str::to_owned);
        lines.push(CheckedLine {
            line_item_id: text(&child.target_id).unwrap_or(&id).to_owned(),
            id,
            account,
            ifsc,
            account_code,
            amount,
            name: clean(name),
            phone: phone.to_owned(),
            address: clean(address),
            email: text(&individual.email).unwrap_or_default().to_owned(),
            beneficiary_id: detail(&child.additional_details, "beneficiaryId"),
            beneficiary_type: detail(&child.additional_details, "beneficiaryType"),
            account_type: detail(&child.additional_details, "accountType"),
        });
    }
    if net != amount || gross != amount {
        return Err(codes::rule(codes::INVALID_AMOUNT));
    }
    let id = text(&message.id).map_or_else(&mut new_id, str::to_owned);
    Ok(Checked {
        id,
        tenant_id,
        target_id,
        program_code,
        sanction_id,
        amount,
        lines,
    })
}

fn same_amounts(line: &Line) -> Result<Decimal, Rule> {
    match (line.net_amount, line.gross_amount) {
        (Some(n), Some(g)) if n.decimal() == g.decimal() && !n.is_negative() => Ok(n.decimal()),
        _ => Err(codes::rule(codes::INVALID_AMOUNT)),
    }
}

fn check_status(line: &Line) -> Result<(), Rule> {
    let status = line
        .status
        .as_ref()
        .ok_or_else(|| codes::rule(codes::INVALID_STATUS))?;
    if text(&status.status_code).is_none() {
        return Err(codes::rule(codes::INVALID_STATUS_CODE));
    }
    Ok(())
}

/// One JIT beneficiary: the lines with the same account and IFSC (JIT refuses a repeated
/// account in one PI), amounts summed.
#[derive(Debug, Clone)]
pub struct Payee {
    /// The first line's payee details.
    pub first: CheckedLine,
    /// Σ amounts.
    pub amount: Decimal,
    /// The lines (ids and line item ids).
    pub lines: Vec<CheckedLine>,
}

/// Groups lines by account code, in first-seen order.
pub fn group_by_account(lines: &[CheckedLine]) -> Vec<Payee> {
    let mut payees: Vec<Payee> = Vec::new();
    for line in lines {
        let key = (
            line.account.to_ascii_uppercase(),
            line.ifsc.to_ascii_uppercase(),
        );
        match payees.iter_mut().find(|p| {
            (
                p.first.account.to_ascii_uppercase(),
                p.first.ifsc.to_ascii_uppercase(),
            ) == key
        }) {
            Some(p) => {
                p.amount += line.amount;
                p.lines.push(line.clone());
            }
            None => payees.push(Payee {
                first: line.clone(),
                amount: line.amount,
                lines: vec![line.clone()],
            }),
        }
    }
    payees
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message() -> Value {
        let child = |id: &str, acct: &str, amount: f64| {
            json!({"id": id, "target_id": format!("L-{id}"), "location_code": "pg.citya",
                "account_code": acct, "net_amount": amount, "gross_amount": amount,
                "status": {"status_code": "INITIATED"},
                "individual": {"name": "Asha  Devi.", "phone": "9999999999", "address": "12, Temple Rd"}})
        };
        json!({"id": "D1", "target_id": "EP/1", "location_code": "pg.citya", "program_code": "PG/1",
            "sanction_id": "S1", "net_amount": 300.5, "gross_amount": 300.5,
            "status": {"status_code": "INITIATED"},
            "children": [child("c1", "111@SBIN0001", 100.25), child("c2", "222@SBIN0001", 100.0),
                child("c3", "111@sbin0001", 100.25)]})
    }

    fn line(v: &Value) -> Line {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    fn checked(v: &Value) -> Result<Checked, Rule> {
        check("a@x", "b@y", &line(v), Some("PG/1"), || "new".into())
    }

    #[test]
    fn a_valid_disbursement_groups_by_account() {
        let c = checked(&message()).unwrap_or_else(|r| panic!("{}", r.code));
        assert_eq!(c.amount.to_string(), "300.5");
        assert_eq!(c.lines[0].name, "Asha Devi");
        assert_eq!(c.lines[0].address, "12 Temple Rd");
        let payees = group_by_account(&c.lines);
        assert_eq!(payees.len(), 2);
        assert_eq!(payees[0].amount.to_string(), "200.50");
        assert_eq!(payees[0].lines.len(), 2);
    }

    #[test]
    fn every_rule_has_its_code() {
        type Change = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "INVALID_PROGRAM_CODE",
                Box::new(|m| m["program_code"] = json!("X")),
            ),
            (
                "INVALID_SANCTION_ID",
                Box::new(|m| m["sanction_id"] = Value::Null),
            ),
            (
                "INVALID_CHILD_DISBURSEMENTS",
                Box::new(|m| m["children"] = json!([])),
            ),
            ("INVALID_AMOUNT", Box::new(|m| m["net_amount"] = json!(1))),
            (
                "INVALID_AMOUNT",
                Box::new(|m| m["children"][0]["gross_amount"] = json!(1)),
            ),
            ("INVALID_STATUS", Box::new(|m| m["status"] = Value::Null)),
            (
                "INVALID_STATUS_CODE",
                Box::new(|m| m["children"][1]["status"] = json!({})),
            ),
            (
                "INVALID_ACCOUNT_CODE",
                Box::new(|m| m["children"][0]["account_code"] = json!("111")),
            ),
            (
                "INVALID_INDIVIDUAL",
                Box::new(|m| m["children"][0]["individual"] = Value::Null),
            ),
            (
                "INVALID_NAME",
                Box::new(|m| m["children"][0]["individual"]["name"] = json!(" ")),
            ),
            (
                "INVALID_PHONE",
                Box::new(|m| m["children"][0]["individual"]["phone"] = Value::Null),
            ),
            (
                "INVALID_ADDRESS",
                Box::new(|m| m["children"][0]["individual"]["address"] = json!("")),
            ),
            (
                "INVALID_TARGET_ID",
                Box::new(|m| m["target_id"] = Value::Null),
            ),
            (
                "INVALID_LOCATION_CODE",
                Box::new(|m| m["location_code"] = Value::Null),
            ),
            // Not a tenant id (the fuzzer's control characters): refused before any lookup.
            (
                "INVALID_LOCATION_CODE",
                Box::new(|m| m["location_code"] = json!("\u{c}pg.\u{1}citya")),
            ),
        ];
        for (code, change) in cases {
            let mut m = message();
            change(&mut m);
            match checked(&m) {
                Err(r) => assert_eq!(r.code, code),
                Ok(_) => panic!("{code}: accepted"),
            }
        }
        let same = check("a@x", "a@x", &line(&message()), Some("PG/1"), String::new);
        assert_eq!(
            same.err().map(|r| r.code),
            Some("INVALID_SENDER_RECEIVER_ID")
        );
        let no_ssu = check("a@x", "b@y", &line(&message()), None, String::new);
        assert_eq!(no_ssu.err().map(|r| r.code), Some("INVALID_PROGRAM_CODE"));
    }
}
