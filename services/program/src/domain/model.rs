//! The iFIX wire models (spec §§1.4–1.6): the `{signature, header, message}` envelope, the
//! four entities with their exchange codes, statuses and search criteria. Field names and
//! order are upstream's (snake_case entities, camelCase `audit_details` content); every
//! `Option` is emitted as `null`, amounts are exact decimals written as JSON numbers.

use digit_core::AuditDetails;
use digit_core::Money;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::search::{
    AllocationSearch, DisburseSearch, Pagination, ProgramSearch, SanctionSearch, SearchItems,
    SearchResponse, SortOrder,
};

/// `header.message_type` (§1.6) and `header.action`: the definitions the exchange uses
/// too (`digit_core::participant`); case-insensitive on input, lower-case on output.
pub use digit_core::participant::{Action, MessageType};

/// The message header (§1.4). Parsed by `api::envelope` (upstream's coercions), written
/// back as received apart from what the pipelines change (`message_id`, `message_ts`,
/// `updateUri`).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RequestHeader {
    /// Sender's message id (upstream overwrites it with the entity id in answers).
    pub message_id: String,
    /// Epoch ms (upstream: `0` when missing).
    pub message_ts: i64,
    /// What the message is.
    pub message_type: MessageType,
    /// What to do.
    pub action: Action,
    /// `<service>@<exchange base URL>` of the sender.
    pub sender_id: String,
    /// Never used for routing.
    pub sender_uri: Option<String>,
    /// `<service>@<exchange base URL>` of the receiver.
    pub receiver_id: String,
    /// Passed through, ignored.
    pub is_msg_encrypted: bool,
}

/// `{status_code, status_message}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Status {
    /// The status; `None` when the client sent none.
    pub status_code: Option<StatusCode>,
    /// Free text; `"<CODE> <message>"` on business errors.
    pub status_message: Option<String>,
}

impl Status {
    /// A status without message.
    pub fn of(code: StatusCode) -> Self {
        Self {
            status_code: Some(code),
            status_message: None,
        }
    }

    /// `ERROR` with `"<CODE> <message>"` (upstream's `ErrorHandler`).
    pub fn error(code: &str, message: &str) -> Self {
        Self {
            status_code: Some(StatusCode::Error),
            status_message: Some(format!("{code} {message}")),
        }
    }

    /// The code, when present.
    pub fn code(&self) -> Option<StatusCode> {
        self.status_code
    }
}

/// `status_code` values (§1.6), exact case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatusCode {
    /// RECEIVED
    Received,
    /// APPROVED
    Approved,
    /// REJECTED
    Rejected,
    /// INPROCESS
    Inprocess,
    /// INITIATED
    Initiated,
    /// ERROR
    Error,
    /// SUCCESSFUL
    Successful,
    /// FAILED
    Failed,
    /// PARTIAL
    Partial,
    /// ACTIVE
    Active,
    /// INACTIVE
    Inactive,
    /// COMPLETED
    Completed,
}

impl StatusCode {
    /// The wire (and database) value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "RECEIVED",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Inprocess => "INPROCESS",
            Self::Initiated => "INITIATED",
            Self::Error => "ERROR",
            Self::Successful => "SUCCESSFUL",
            Self::Failed => "FAILED",
            Self::Partial => "PARTIAL",
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Completed => "COMPLETED",
        }
    }

    /// Exact-case parse of a stored value.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }
}

/// `allocation_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum AllocationType {
    /// Adds to the sanction's allocated and available amounts.
    #[serde(rename = "ALLOCATION")]
    Allocation,
    /// Withdraws from both.
    #[serde(rename = "DEDUCTION")]
    Deduction,
}

impl AllocationType {
    /// The wire (and database) value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allocation => "ALLOCATION",
            Self::Deduction => "DEDUCTION",
        }
    }
}

/// The eight exchange codes every entity carries (`ExchangeCode`, §1.5.1), after `id` and
/// `type` and before `status` on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExchangeCodes {
    /// Function segment.
    #[serde(default)]
    pub function_code: Option<String>,
    /// Administration segment.
    #[serde(default)]
    pub administration_code: Option<String>,
    /// Recipient segment.
    #[serde(default)]
    pub recipient_segment_code: Option<String>,
    /// Economic segment.
    #[serde(default)]
    pub economic_segment_code: Option<String>,
    /// Source of fund.
    #[serde(default)]
    pub source_of_fund_code: Option<String>,
    /// Target segment.
    #[serde(default)]
    pub target_segment_code: Option<String>,
    /// Currency, e.g. `INR`.
    #[serde(default)]
    pub currency_code: Option<String>,
    /// Locale / geo code.
    #[serde(default)]
    pub locale_code: Option<String>,
}

/// A program (§1.5.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(transform = with_codes)]
pub struct Program {
    /// UUID (client may supply).
    #[serde(default)]
    pub id: Option<String>,
    /// Always `program` on output.
    #[serde(default, rename = "type")]
    pub entity_type: Option<String>,
    /// Exchange codes (filled from the same JSON object by [`fill_codes`]: serde's
    /// `flatten` cannot read exact numbers).
    #[serde(flatten, skip_deserializing)]
    pub codes: ExchangeCodes,
    /// Status.
    #[serde(default)]
    pub status: Option<Status>,
    /// Tenant (e.g. `pg.citya`).
    #[serde(default)]
    pub location_code: Option<String>,
    /// Generated by idgen on the owning side.
    #[serde(default)]
    pub program_code: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// An existing program's id.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Start (≥ 1).
    #[serde(default, deserialize_with = "java_long")]
    #[schemars(with = "Option<JavaLong>")]
    pub start_date: i64,
    /// End (0 = none).
    #[serde(default, deserialize_with = "java_long")]
    #[schemars(with = "Option<JavaLong>")]
    pub end_date: i64,
    /// Free JSON.
    #[serde(default)]
    pub additional_details: Option<Value>,
    /// Server-managed.
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
    /// Always null.
    #[serde(default)]
    pub children: Option<Vec<Value>>,
}

/// A sanction (§1.5.3): the parent envelope carries the children, only children are stored.
/// Unlike upstream, the balances are visible (§5 item 18); they are never read from input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(transform = with_codes, transform = with_balances)]
pub struct Sanction {
    /// UUID.
    #[serde(default)]
    pub id: Option<String>,
    /// Always `sanction` on output.
    #[serde(default, rename = "type")]
    pub entity_type: Option<String>,
    /// Exchange codes (filled from the same JSON object by [`fill_codes`]: serde's
    /// `flatten` cannot read exact numbers).
    #[serde(flatten, skip_deserializing)]
    pub codes: ExchangeCodes,
    /// Status.
    #[serde(default)]
    pub status: Option<Status>,
    /// Tenant.
    #[serde(default)]
    pub location_code: Option<String>,
    /// The program's code.
    #[serde(default)]
    pub program_code: Option<String>,
    /// Net sanctioned amount.
    #[serde(default)]
    pub net_amount: Option<Money>,
    /// Gross sanctioned amount (the allocation ceiling).
    #[serde(default)]
    pub gross_amount: Option<Money>,
    /// Σ allocations − Σ deductions (output only).
    #[serde(default, skip_deserializing)]
    pub allocated_amount: Option<Money>,
    /// Allocated − disbursed + refunds (output only).
    #[serde(default, skip_deserializing)]
    pub available_amount: Option<Money>,
    /// Free JSON.
    #[serde(default)]
    pub additional_details: Option<Value>,
    /// Server-managed.
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
    /// The sanctions of this message.
    #[serde(default)]
    pub children: Option<Vec<Sanction>>,
}

/// An allocation or deduction (§1.5.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(transform = with_codes)]
pub struct Allocation {
    /// UUID.
    #[serde(default)]
    pub id: Option<String>,
    /// Always `allocation` on output.
    #[serde(default, rename = "type")]
    pub entity_type: Option<String>,
    /// Exchange codes (filled from the same JSON object by [`fill_codes`]: serde's
    /// `flatten` cannot read exact numbers).
    #[serde(flatten, skip_deserializing)]
    pub codes: ExchangeCodes,
    /// Status.
    #[serde(default)]
    pub status: Option<Status>,
    /// Tenant.
    #[serde(default)]
    pub location_code: Option<String>,
    /// The program's code.
    #[serde(default)]
    pub program_code: Option<String>,
    /// The sanction it adds to or withdraws from.
    #[serde(default)]
    pub sanction_id: Option<String>,
    /// Net amount.
    #[serde(default)]
    pub net_amount: Option<Money>,
    /// Gross amount (what moves the sanction's balances).
    #[serde(default)]
    pub gross_amount: Option<Money>,
    /// ALLOCATION or DEDUCTION.
    #[serde(default)]
    pub allocation_type: Option<AllocationType>,
    /// Free JSON.
    #[serde(default)]
    pub additional_details: Option<Value>,
    /// Server-managed.
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
    /// The allocations of this message.
    #[serde(default)]
    pub children: Option<Vec<Allocation>>,
}

/// A payee (§1.5.5). Name, phone and address are encrypted at rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Individual {
    /// Name (required, ≥ 2).
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone (required, ≥ 2).
    #[serde(default)]
    pub phone: Option<String>,
    /// PIN code.
    #[serde(default)]
    pub pin: Option<String>,
    /// Address (required, ≥ 2).
    #[serde(default)]
    pub address: Option<String>,
}

/// A disbursement (§1.5.5): a parent (one payment) with one child per payee line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(transform = with_codes)]
pub struct Disbursement {
    /// UUID.
    #[serde(default)]
    pub id: Option<String>,
    /// Always `disburse` on output.
    #[serde(default, rename = "type")]
    pub entity_type: Option<String>,
    /// Exchange codes (filled from the same JSON object by [`fill_codes`]: serde's
    /// `flatten` cannot read exact numbers).
    #[serde(flatten, skip_deserializing)]
    pub codes: ExchangeCodes,
    /// Status.
    #[serde(default)]
    pub status: Option<Status>,
    /// Tenant.
    #[serde(default)]
    pub location_code: Option<String>,
    /// The program's code.
    #[serde(default)]
    pub program_code: Option<String>,
    /// Payment number (parent) or line-item id (child).
    #[serde(default)]
    pub target_id: Option<String>,
    /// The parent's id (children, set by the server).
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The sanction debited (auto-picked when absent).
    #[serde(default)]
    pub sanction_id: Option<String>,
    /// Treasury's PI / beneficiary number.
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// `ACCOUNT_NO@IFSC` (children; encrypted at rest).
    #[serde(default)]
    pub account_code: Option<String>,
    /// Net amount.
    #[serde(default)]
    pub net_amount: Option<Money>,
    /// Gross amount (what is debited).
    #[serde(default)]
    pub gross_amount: Option<Money>,
    /// Payee (children).
    #[serde(default)]
    pub individual: Option<Individual>,
    /// Free JSON.
    #[serde(default)]
    pub additional_details: Option<Value>,
    /// Server-managed.
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
    /// The payee lines (parent); must be null on a child.
    #[serde(default)]
    pub children: Option<Vec<Disbursement>>,
}

/// The envelope of every create/update/reply (§1.4): `message` is a JSON object here.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Envelope<T> {
    /// Opaque, passed through.
    pub signature: Option<String>,
    /// The header.
    pub header: RequestHeader,
    /// The entity.
    pub message: T,
}

/// Adds the exchange codes to an entity's schema, after `type` as on the wire: they are
/// read from the same object by [`fill_codes`] (the field skips deserializing, so the
/// derived schema leaves them out).
fn with_codes(schema: &mut schemars::Schema) {
    let codes = schemars::schema_for!(ExchangeCodes);
    let Some(code_props) = codes.get("properties").and_then(Value::as_object) else {
        return;
    };
    let Some(props) = schema
        .as_object_mut()
        .and_then(|o| o.get_mut("properties"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let mut with = serde_json::Map::new();
    for (k, v) in std::mem::take(props) {
        let after_type = k == "type";
        with.insert(k, v);
        if after_type {
            with.extend(code_props.clone());
        }
    }
    for (k, v) in code_props {
        with.entry(k.clone()).or_insert_with(|| v.clone());
    }
    *props = with;
}

/// Adds a sanction's balances (answered, never read) to its schema.
fn with_balances(schema: &mut schemars::Schema) {
    let Some(props) = schema
        .as_object_mut()
        .and_then(|o| o.get_mut("properties"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (key, description) in [
        (
            "allocated_amount",
            "Σ allocations − Σ deductions (answered, never read).",
        ),
        (
            "available_amount",
            "Allocated − disbursed + refunds (answered, never read).",
        ),
    ] {
        props.insert(
            key.to_owned(),
            serde_json::json!({
                "description": description,
                "type": ["number", "null"],
                "readOnly": true
            }),
        );
    }
}

/// The wire form of a `java_long` field: an integer or a string holding one (missing,
/// null or blank: 0); answers carry the integer. Only describes the schema.
pub struct JavaLong;

impl schemars::JsonSchema for JavaLong {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "JavaLong".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An integer, or a string holding one (missing, null or blank: 0)",
            "anyOf": [
                { "type": "integer", "format": "int64" },
                { "type": "string", "pattern": "^\\s*([+-]?[0-9]+)?\\s*$" }
            ]
        })
    }
}

/// A Java `long`: a number or a numeric string; null is 0.
fn java_long<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(digit_core::lenient::opt_i64(d)?.unwrap_or(0))
}

/// An entity carrying exchange codes and, possibly, children of its own kind.
pub trait Coded {
    /// The codes.
    fn codes_mut(&mut self) -> &mut ExchangeCodes;
    /// The children, if any.
    fn children_mut(&mut self) -> Option<&mut Vec<Self>>
    where
        Self: Sized;
}

macro_rules! coded {
    ($t:ty) => {
        impl Coded for $t {
            fn codes_mut(&mut self) -> &mut ExchangeCodes {
                &mut self.codes
            }
            fn children_mut(&mut self) -> Option<&mut Vec<Self>> {
                self.children.as_mut()
            }
        }
    };
}
coded!(Sanction);
coded!(Allocation);
coded!(Disbursement);

impl Coded for Program {
    fn codes_mut(&mut self) -> &mut ExchangeCodes {
        &mut self.codes
    }
    fn children_mut(&mut self) -> Option<&mut Vec<Self>> {
        None
    }
}

/// Reads the exchange codes of `entity` (and of its children, recursively) from `json`,
/// the object it was parsed from. Codes that are not strings were rejected before.
pub fn fill_codes<T: Coded>(entity: &mut T, json: &Value) {
    if let Ok(codes) = ExchangeCodes::deserialize(json) {
        *entity.codes_mut() = codes;
    }
    let child_json = json.get("children").and_then(Value::as_array);
    if let (Some(children), Some(values)) = (entity.children_mut(), child_json) {
        for (child, value) in children.iter_mut().zip(values) {
            fill_codes(child, value);
        }
    }
}
