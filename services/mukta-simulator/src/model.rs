//! The wire shapes of the MUKTA services, with upstream's JSON names.
//!
//! Sources (see `configs/mukta/README.md` for what was confirmed and what was assumed):
//! expense `Bill`, `BillDetail`, `Party`, `LineItem` as served in the saved responses of the
//! iFIX V2.2 Flow collection; expense `Payment`, `PaymentBill`, `PaymentBillDetail`,
//! `PaymentLineItem` (DIGIT-Works `backend/expense/.../web/models`); bankaccount-service
//! `BankAccount`, `BankAccountDetails`, `BankBranchIdentifier`; org-services `Organisation`,
//! `Address`, `ContactDetails`; individual `Individual`; audit-service `AuditLog`.
//!
//! Every optional field serialises as an explicit `null` (no `skip_serializing_if`), as the
//! Spring services do; unknown keys are ignored on input. Amounts are [`Money`]: exact
//! decimals that are JSON numbers on the wire.

use digit_core::{AuditDetails, Money};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A bill party (payer or payee): `{id, parentId, tenantId, type, identifier, status, ...}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Party {
    /// Party row id.
    pub id: Option<String>,
    /// The bill (payer) or bill id (payee) it belongs to.
    pub parent_id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// `INDIVIDUAL`, `ORG`, a department code, …
    #[serde(rename = "type")]
    pub party_type: Option<String>,
    /// Individual id, organisation id or department code.
    pub identifier: Option<String>,
    /// `ACTIVE` / `INACTIVE`.
    pub status: Option<String>,
    /// Free-form.
    pub additional_details: Option<Value>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// A bill line item (`lineItems[]` and `payableLineItems[]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LineItem {
    /// Line item id (payments reference it as `lineItemId`).
    pub id: Option<String>,
    /// Owning bill detail.
    pub bill_detail_id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// MDMS `expense.HeadCodes` code (`WEG`, `MC`, `LC` …).
    pub head_code: Option<String>,
    /// Amount.
    pub amount: Money,
    /// `PAYABLE` / `DEDUCTION`.
    #[serde(rename = "type")]
    pub line_type: Option<String>,
    /// Paid so far.
    pub paid_amount: Money,
    /// `ACTIVE` / `INACTIVE`.
    pub status: Option<String>,
    /// Payment status of the line item (upstream leaves it null).
    pub payment_status: Option<String>,
    /// Free-form.
    pub additional_details: Option<Value>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// One payee's part of a bill.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BillDetail {
    /// Bill detail id.
    pub id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Owning bill.
    pub bill_id: Option<String>,
    /// Σ payable line items.
    pub total_amount: Money,
    /// Paid so far.
    pub total_paid_amount: Money,
    /// E.g. the muster roll number.
    pub reference_id: Option<String>,
    /// Payment status (null until a payment is created).
    pub payment_status: Option<String>,
    /// `ACTIVE` / `INACTIVE`.
    pub status: Option<String>,
    /// Period start, epoch ms.
    pub from_period: Option<i64>,
    /// Period end, epoch ms.
    pub to_period: Option<i64>,
    /// Who is paid.
    pub payee: Option<Party>,
    /// All line items (payable and deductions).
    pub line_items: Vec<LineItem>,
    /// What the payment pays.
    pub payable_line_items: Vec<LineItem>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
    /// Free-form.
    pub additional_details: Option<Value>,
}

/// An expense bill.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Bill {
    /// Bill id.
    pub id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Bill date, epoch ms.
    pub bill_date: Option<i64>,
    /// Due date, epoch ms.
    pub due_date: Option<i64>,
    /// Σ bill details.
    pub total_amount: Money,
    /// Paid so far.
    pub total_paid_amount: Money,
    /// `EXPENSE.WAGES`, `EXPENSE.PURCHASE`, `EXPENSE.SUPERVISION`.
    pub business_service: Option<String>,
    /// Work order / muster roll reference.
    pub reference_id: Option<String>,
    /// Period start, epoch ms.
    pub from_period: Option<i64>,
    /// Period end, epoch ms.
    pub to_period: Option<i64>,
    /// Null until a payment is created, then the payment's status.
    pub payment_status: Option<String>,
    /// `ACTIVE` / `INACTIVE`.
    pub status: Option<String>,
    /// Bill number.
    pub bill_number: Option<String>,
    /// The department paying.
    pub payer: Option<Party>,
    /// One per payee.
    pub bill_details: Vec<BillDetail>,
    /// Free-form.
    pub additional_details: Option<Value>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
    /// Workflow state (`APPROVED` for bills PA pays).
    pub wf_status: Option<String>,
}

/// `payment.bills[].billDetails[].payableLineItems[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PaymentLineItem {
    /// Assigned on create.
    pub id: Option<String>,
    /// The bill's payable line item.
    pub line_item_id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Amount paid.
    pub paid_amount: Money,
    /// `INITIATED`, `SUCCESSFUL`, `FAILED`, `PARTIAL`, `CANCELLED`.
    pub status: Option<String>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// `payment.bills[].billDetails[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PaymentBillDetail {
    /// Assigned on create.
    pub id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// The bill detail.
    pub bill_detail_id: Option<String>,
    /// Defaults to the bill detail's pending amount.
    pub total_amount: Option<Money>,
    /// Amount paid.
    pub total_paid_amount: Money,
    /// Status.
    pub status: Option<String>,
    /// Line items paid.
    pub payable_line_items: Vec<PaymentLineItem>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// `payment.bills[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PaymentBill {
    /// Assigned on create.
    pub id: Option<String>,
    /// The bill.
    pub bill_id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Defaults to the bill's pending amount.
    pub total_amount: Option<Money>,
    /// Amount paid.
    pub total_paid_amount: Money,
    /// Status.
    pub status: Option<String>,
    /// Bill details paid.
    pub bill_details: Vec<PaymentBillDetail>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// An expense payment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Payment {
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Assigned on create.
    pub id: Option<String>,
    /// Σ pending amounts of the bills.
    pub net_payable_amount: Money,
    /// Σ paid.
    pub net_paid_amount: Money,
    /// The bills paid.
    pub bills: Vec<PaymentBill>,
    /// `EP/<city>/<fy>/<MM>/<dd>/<seq 6>`, assigned on create.
    pub payment_number: Option<String>,
    /// `INITIATED` on create.
    pub status: Option<String>,
    /// `PAYMENT_INITIATED` on create; the adapter sets `PAYMENT_FAILED`,
    /// `PAYMENT_INSUFFICIENT_FUNDS`, `PAYMENT_SERVER_UNREACHABLE` ….
    pub reference_status: Option<String>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
    /// Free-form.
    pub additional_details: Option<Value>,
}

/// `bankBranchIdentifier`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BankBranchIdentifier {
    /// Row id.
    pub id: Option<String>,
    /// `IFSC`.
    #[serde(rename = "type")]
    pub identifier_type: Option<String>,
    /// The IFSC.
    pub code: Option<String>,
    /// Free-form.
    pub additional_details: Option<Value>,
}

/// One account of a bank-account record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BankAccountDetails {
    /// Row id.
    pub id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Holder.
    pub account_holder_name: Option<String>,
    /// Account number (plain text here; upstream stores it encrypted).
    pub account_number: Option<String>,
    /// `SAVINGS`, `CURRENT` ….
    pub account_type: Option<String>,
    /// Primary account.
    pub is_primary: Option<bool>,
    /// Branch.
    pub bank_branch_identifier: Option<BankBranchIdentifier>,
    /// Active.
    pub is_active: Option<bool>,
    /// Documents.
    pub documents: Option<Value>,
    /// Free-form.
    pub additional_fields: Option<Value>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// A bank-account record of a payee (`referenceId` = individual/organisation id, or the
/// synthetic `Deduction_<tenant>_<headCode>` beneficiary).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BankAccount {
    /// Record id (the audit log's `objectId`).
    pub id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// `IND`, `ORG`, `DEPT`.
    pub service_code: Option<String>,
    /// The payee.
    pub reference_id: Option<String>,
    /// The accounts; the adapter uses the first.
    pub bank_account_details: Vec<BankAccountDetails>,
    /// Free-form.
    pub additional_fields: Option<Value>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// `name` of an individual.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IndividualName {
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Other names.
    pub other_names: Option<String>,
}

/// A boundary reference (`ward`, `locality`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Boundary {
    /// Boundary code.
    pub code: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Label (`Ward`, `Locality`).
    pub label: Option<String>,
}

/// An individual's address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IndividualAddress {
    /// Row id.
    pub id: Option<String>,
    /// Owner.
    pub individual_id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// `PERMANENT`, `CORRESPONDENCE` ….
    #[serde(rename = "type")]
    pub address_type: Option<String>,
    /// Door.
    pub door_no: Option<String>,
    /// Line 1.
    pub address_line1: Option<String>,
    /// Line 2.
    pub address_line2: Option<String>,
    /// Landmark.
    pub landmark: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Pincode.
    pub pincode: Option<String>,
    /// Building.
    pub building_name: Option<String>,
    /// Street.
    pub street: Option<String>,
    /// Locality boundary.
    pub locality: Option<Boundary>,
    /// Ward boundary.
    pub ward: Option<Boundary>,
    /// Soft delete.
    pub is_deleted: Option<bool>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// An identifier of an individual (Aadhaar …).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IndividualIdentifier {
    /// Row id.
    pub id: Option<String>,
    /// Owner.
    pub individual_id: Option<String>,
    /// `AADHAAR` ….
    pub identifier_type: Option<String>,
    /// Value.
    pub identifier_id: Option<String>,
    /// Soft delete.
    pub is_deleted: Option<bool>,
}

/// A wage seeker (individual registry).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Individual {
    /// Id (the bill payee's `identifier`).
    pub id: Option<String>,
    /// Human id (`IND-2024-…`).
    pub individual_id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Client reference.
    pub client_reference_id: Option<String>,
    /// Linked user id.
    pub user_id: Option<String>,
    /// Linked user uuid.
    pub user_uuid: Option<String>,
    /// Name.
    pub name: Option<IndividualName>,
    /// `dd/MM/yyyy`.
    pub date_of_birth: Option<String>,
    /// `MALE`, `FEMALE` ….
    pub gender: Option<String>,
    /// Mobile.
    pub mobile_number: Option<String>,
    /// Alternative number.
    pub alt_contact_number: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Addresses (the adapter reads `address[0].ward.code` and `.locality.code`).
    pub address: Vec<IndividualAddress>,
    /// Father's name.
    pub father_name: Option<String>,
    /// Husband's name.
    pub husband_name: Option<String>,
    /// Relationship.
    pub relationship: Option<String>,
    /// Identifiers.
    pub identifiers: Vec<IndividualIdentifier>,
    /// Skills.
    pub skills: Option<Value>,
    /// Photo.
    pub photo: Option<String>,
    /// Free-form.
    pub additional_fields: Option<Value>,
    /// Soft delete.
    pub is_deleted: Option<bool>,
    /// Row version.
    pub row_version: Option<i64>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// `orgAddress[]` of an organisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrgAddress {
    /// Row id.
    pub id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Owner.
    pub org_id: Option<String>,
    /// Door.
    pub door_no: Option<String>,
    /// Plot.
    pub plot_no: Option<String>,
    /// Landmark.
    pub landmark: Option<String>,
    /// City (the adapter appends it to the boundary code).
    pub city: Option<String>,
    /// Pincode.
    pub pincode: Option<String>,
    /// District.
    pub district: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Upstream's spelling.
    pub addition_details: Option<Value>,
    /// Building.
    pub building_name: Option<String>,
    /// Street.
    pub street: Option<String>,
    /// `Ward` ….
    pub boundary_type: Option<String>,
    /// Boundary code.
    pub boundary_code: Option<String>,
    /// Geo location.
    pub geo_location: Option<Value>,
}

/// `contactDetails[]` of an organisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContactDetails {
    /// Row id.
    pub id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Owner.
    pub org_id: Option<String>,
    /// Name.
    pub contact_name: Option<String>,
    /// Mobile (the adapter uses the first contact's).
    pub contact_mobile_number: Option<String>,
    /// Email.
    pub contact_email: Option<String>,
    /// Active.
    pub active: Option<bool>,
}

/// A community-based organisation or vendor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Organisation {
    /// Id (the bill payee's `identifier`).
    pub id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Application number.
    pub application_number: Option<String>,
    /// `ORG-…`.
    pub org_number: Option<String>,
    /// Workflow status.
    pub application_status: Option<String>,
    /// External reference.
    pub external_ref_number: Option<String>,
    /// Epoch ms.
    pub date_of_incorporation: Option<i64>,
    /// Addresses.
    pub org_address: Vec<OrgAddress>,
    /// Contacts.
    pub contact_details: Vec<ContactDetails>,
    /// Identifiers.
    pub identifiers: Option<Value>,
    /// Functions.
    pub functions: Option<Value>,
    /// Jurisdiction.
    pub jurisdiction: Option<Value>,
    /// Active.
    pub is_active: Option<bool>,
    /// Documents.
    pub documents: Option<Value>,
    /// Free-form.
    pub additional_details: Option<Value>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// One audit-service entry: a snapshot of a row's values as written at `changeDate`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuditLog {
    /// Entry id.
    pub id: Option<String>,
    /// Who changed it.
    #[serde(rename = "userUUID")]
    pub user_uuid: Option<String>,
    /// `bankaccount-service`.
    pub module: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Transaction code.
    pub transaction_code: Option<String>,
    /// Epoch ms.
    pub change_date: Option<i64>,
    /// `eg_bank_account`, `eg_bank_account_detail`, `eg_bank_branch_identifier`.
    pub entity_name: Option<String>,
    /// The bank-account record id.
    pub object_id: Option<String>,
    /// Correlation id.
    pub audit_correlation_id: Option<String>,
    /// Column → value (`accountNumber`, `code` …).
    pub key_value_map: serde_json::Map<String, Value>,
    /// `CREATE` / `UPDATE` / `DELETE`.
    pub operation_type: Option<String>,
    /// Integrity hash.
    pub integrity_hash: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_keep_their_digits_and_nulls_stay_explicit() {
        let item: LineItem =
            serde_json::from_str(r#"{"amount": 949.50, "headCode": "WEG"}"#).unwrap();
        let out = serde_json::to_value(&item).unwrap();
        assert_eq!(out["amount"].to_string(), "949.50");
        assert_eq!(out["paidAmount"], json!(0));
        assert!(out.get("paymentStatus").unwrap().is_null());
        assert_eq!(out["type"], Value::Null);
    }

    #[test]
    fn audit_log_uses_upstream_key_spellings() {
        let log = AuditLog {
            user_uuid: Some("u".into()),
            ..AuditLog::default()
        };
        let out = serde_json::to_value(&log).unwrap();
        assert_eq!(out["userUUID"], json!("u"));
        assert!(out.get("keyValueMap").unwrap().is_object());
        assert!(out.get("operationType").unwrap().is_null());
    }
}
