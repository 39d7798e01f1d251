//! What the adapter tells others, always through the outbox in the transaction of the
//! change: the program service's `on-sanction/_create` and `on-allocation/_create` after VA
//! (A1.4 step 6), its `on-disburse/_update` after every PI change (A1.10, built from the
//! disbursement kept with the PI rather than searched back and overwritten), and the copy
//! of each PI on the index topic (A2.3; bank fields nulled in the copy, never in the PI).

use crate::domain::status::PiStatus;
use crate::error::IfmsError;
use crate::service::{field, new_id, now_ms, AdapterService, Caller};
use crate::store::pi::{Pi, ORIGINAL};
use digit_core::RequestInfo;
use digit_outbox::OutboxMessage;
use serde_json::{json, Map, Value};

/// The outbox source of this service's rows (other services may share the database).
pub const OUTBOX_SOURCE: &str = "ifms-adapter";

/// A sanction reported to the program service.
#[derive(Debug, Clone)]
pub struct SanctionNote {
    /// Sanction id (the program service keeps it: disbursements name it).
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Program.
    pub program_code: Option<String>,
    /// Sanctioned amount.
    pub amount: rust_decimal::Decimal,
}

/// An allotment reported to the program service.
#[derive(Debug, Clone)]
pub struct AllotmentNote {
    /// Allotment id.
    pub id: String,
    /// Its sanction.
    pub sanction_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Program.
    pub program_code: Option<String>,
    /// Amount.
    pub amount: rust_decimal::Decimal,
    /// A withdrawal (`DEDUCTION`).
    pub withdrawal: bool,
}

fn money(d: rust_decimal::Decimal) -> Value {
    serde_json::to_value(digit_core::Money(d)).unwrap_or(Value::Null)
}

impl AdapterService {
    /// `program@<hostUrl>` of the MDMS `exchange.ExchangeServers` rows IFMS and MUKTA.
    pub(crate) async fn participants(&self) -> Result<(String, String, String), IfmsError> {
        let servers = self
            .mdms
            .master(
                &self.settings.state_tenant,
                "exchange",
                "ExchangeServers",
                None,
            )
            .await?;
        let url = |code: &str| {
            servers
                .iter()
                .find(|s| s.get("code").and_then(Value::as_str) == Some(code))
                .and_then(|s| field(s, "hostUrl"))
                .ok_or_else(|| {
                    IfmsError::Corrupt(format!(
                        "MDMS exchange.ExchangeServers has no {code} row at {}",
                        self.settings.state_tenant
                    ))
                })
        };
        let ifms = url("IFMS")?;
        let mukta = url("MUKTA")?;
        Ok((format!("program@{ifms}"), ifms, format!("program@{mukta}")))
    }

    fn program_message(
        &self,
        caller: &Caller,
        endpoint: &str,
        body: &Value,
    ) -> Result<OutboxMessage, IfmsError> {
        let url = format!("{}{endpoint}", self.settings.program_base);
        let mut message = OutboxMessage::http_json("POST", url, body)?
            .with_source(OUTBOX_SOURCE)
            .with_correlation_id(&caller.correlation_id);
        if let Some(token) = &self.settings.program_token {
            message = message.with_header("Authorization", format!("Bearer {token}"));
        }
        Ok(message)
    }

    async fn header(&self, message_type: &str) -> Result<Value, IfmsError> {
        let (sender, sender_uri, receiver) = self.participants().await?;
        Ok(
            json!({"message_id": new_id(), "message_ts": now_ms(), "message_type": message_type,
            "action": "create", "sender_id": sender, "sender_uri": sender_uri,
            "receiver_id": receiver, "is_msg_encrypted": false}),
        )
    }

    /// `on-sanction/_create` for new sanctions of one tenant (A1.4 step 6).
    pub async fn on_sanction(
        &self,
        caller: &Caller,
        sanctions: &[SanctionNote],
    ) -> Result<Option<OutboxMessage>, IfmsError> {
        let Some(first) = sanctions.first() else {
            return Ok(None);
        };
        let status = json!({"status_code": "SUCCESSFUL", "status_message": null});
        let total: rust_decimal::Decimal = sanctions.iter().map(|s| s.amount).sum();
        let children: Vec<Value> = sanctions
            .iter()
            .map(|s| {
                json!({"id": s.id, "location_code": s.tenant_id, "program_code": s.program_code,
                    "net_amount": money(s.amount), "gross_amount": money(s.amount), "status": status})
            })
            .collect();
        let body = json!({"signature": null, "header": self.header("on-sanction").await?,
            "message": {"id": new_id(), "location_code": first.tenant_id, "program_code": first.program_code,
                "net_amount": money(total), "gross_amount": money(total), "status": status,
                "children": children}});
        Ok(Some(self.program_message(
            caller,
            "on-sanction/_create",
            &body,
        )?))
    }

    /// `on-allocation/_create` for new allotments of one tenant (withdrawals as
    /// `DEDUCTION`).
    pub async fn on_allocation(
        &self,
        caller: &Caller,
        allotments: &[AllotmentNote],
    ) -> Result<Option<OutboxMessage>, IfmsError> {
        let Some(first) = allotments.first() else {
            return Ok(None);
        };
        let status = json!({"status_code": "SUCCESSFUL", "status_message": null});
        let total: rust_decimal::Decimal = allotments.iter().map(|a| a.amount).sum();
        let children: Vec<Value> = allotments
            .iter()
            .map(|a| {
                json!({"id": a.id, "sanction_id": a.sanction_id, "location_code": a.tenant_id,
                    "program_code": a.program_code, "net_amount": money(a.amount),
                    "gross_amount": money(a.amount),
                    "allocation_type": if a.withdrawal { "DEDUCTION" } else { "ALLOCATION" },
                    "status": status})
            })
            .collect();
        let body = json!({"signature": null, "header": self.header("on-allocation").await?,
            "message": {"id": new_id(), "location_code": first.tenant_id, "program_code": first.program_code,
                "sanction_id": first.sanction_id, "net_amount": money(total), "gross_amount": money(total),
                "allocation_type": "ALLOCATION", "status": status, "children": children}});
        Ok(Some(self.program_message(
            caller,
            "on-allocation/_create",
            &body,
        )?))
    }

    /// `on-disburse/_update` with the PI's state (A1.10); `None` for a PI not made from a
    /// disbursement.
    pub fn on_disburse(
        &self,
        caller: &Caller,
        pi: &Pi,
    ) -> Result<Option<OutboxMessage>, IfmsError> {
        let Some(kept) = pi.row.disbursement.as_ref().map(|j| &j.0) else {
            return Ok(None);
        };
        let (Some(header), Some(message)) = (kept.get("header"), kept.get("message")) else {
            return Ok(None);
        };
        let mut message = message.clone();
        disbursement_status(pi, &mut message, None);
        let text = |k: &str| header.get(k).and_then(Value::as_str).unwrap_or_default();
        let header = json!({"message_id": new_id(), "message_ts": now_ms(),
            "message_type": "on-disburse", "action": "update",
            "sender_id": text("receiver_id"), "sender_uri": header.get("sender_uri"),
            "receiver_id": text("sender_id"), "is_msg_encrypted": false});
        let body = json!({"signature": null, "header": header, "message": message});
        Ok(Some(self.program_message(
            caller,
            "on-disburse/_update",
            &body,
        )?))
    }

    /// The PI's copy on the index topic (A2.3).
    pub fn index_copy(&self, pi: &Pi) -> Result<OutboxMessage, IfmsError> {
        let mut copy = pi.to_wire();
        copy.pa_details = None;
        copy.pi_type = Some(pi.row.pitype.clone());
        if pi.row.pitype == ORIGINAL {
            copy.parent_pi_number = Some(String::new());
        }
        copy.pi_error_resp = Some(copy.pi_error_resp.unwrap_or_default());
        for b in copy.beneficiary_details.iter_mut().flatten() {
            b.bank_account_id = None;
        }
        let body = json!({"RequestInfo": RequestInfo::default(), "paymentInstruction": copy});
        Ok(
            OutboxMessage::kafka_json(self.settings.index_topic.clone(), Some(&pi.row.id), &body)?
                .with_source(OUTBOX_SOURCE),
        )
    }
}

/// Writes the PI's state into a disbursement message (parent and children statuses and
/// transaction ids, A1.10 step 2). `message_text` overrides the parent's status message.
pub fn disbursement_status(pi: &Pi, message: &mut Value, message_text: Option<&str>) {
    let status = pi.row.status();
    let text = message_text
        .map(str::to_owned)
        .or_else(|| pi.row.pierrorresp.clone())
        .or_else(|| pi.row.pisuccessdesc.clone());
    message["status"] = json!({"status_code": status.ifix_code(), "status_message": text});
    message["transaction_id"] = json!(pi.row.pinumber);
    let mut details = match message.get("additional_details") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    details.insert("piStatus".into(), json!(status.text()));
    details.insert("numBeneficiaries".into(), json!(pi.row.numbeneficiaries));
    details.insert("parentPiNumber".into(), json!(pi.row.parentpinumber));
    details.insert("hoaCode".into(), json!(pi.row.hoacode));
    message["additional_details"] = Value::Object(details);
    let Some(children) = message.get_mut("children").and_then(Value::as_array_mut) else {
        return;
    };
    for child in children {
        let line = child
            .get("target_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let Some(b) = pi
            .beneficiaries
            .iter()
            .find(|b| b.line_items.iter().any(|(_, l)| *l == line))
        else {
            continue;
        };
        let s = b.status();
        let child_text = b
            .paymentstatusmessage
            .clone()
            .or_else(|| (status == PiStatus::Failed).then(|| text.clone()).flatten());
        child["status"] = json!({"status_code": s.ifix_code(), "status_message": child_text});
        child["transaction_id"] = json!(b.beneficiarynumber);
        let mut d = match child.get("additional_details") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        d.insert("beneficiaryStatus".into(), json!(s.text()));
        child["additional_details"] = Value::Object(d);
    }
}
