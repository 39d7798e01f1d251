//! What the answer of a JIT post does to the PI (posted, refused, or unknown), the PI a
//! correction or replacement completes, and the outbox writes.

use crate::domain::status::{status_log, BeneficiaryStatus, LogOutcome, PiStatus};
use crate::error::IfmsError;
use crate::service::pollers::Change;
use crate::service::treasury::CallFailure;
use crate::service::{field, AdapterService, Caller};
use crate::store::pi::{self as store, Pi};
use digit_jit::{JitResponse, ServiceId};
use digit_outbox::OutboxMessage;
use serde_json::{json, Value};
impl AdapterService {
    /// Records the answer of a post on the PI (unless a re-post already did: the PI is
    /// locked and must still be INITIATED and unacknowledged); `notify` also tells the
    /// program service or the expense service.
    pub(crate) async fn record_post(
        &self,
        caller: &Caller,
        pi_id: &str,
        service: ServiceId,
        answer: Result<JitResponse, CallFailure>,
        notify: bool,
    ) -> Result<bool, IfmsError> {
        self.change(
            caller,
            pi_id,
            service,
            &[PiStatus::Initiated],
            notify,
            |p, by, now| {
                if p.row.jitposted {
                    return Change::unchanged(status_log(service.as_str(), LogOutcome::Success));
                }
                let (log, details) = self.apply_post(p, answer, by, now);
                Change {
                    log: Some(log),
                    details,
                    changed: true,
                }
            },
        )
        .await
    }

    /// Applies a post's outcome to the PI in memory; returns the status log and its details.
    pub fn apply_post(
        &self,
        pi: &mut Pi,
        answer: Result<JitResponse, CallFailure>,
        by: &str,
        now: i64,
    ) -> (String, Option<Value>) {
        let service = if pi.row.is_revised() { "COR" } else { "PI" };
        pi.row.audit.touch(by, now);
        let refused = |pi: &mut Pi, text: String| {
            pi.row.set_status(PiStatus::Failed);
            pi.row.pierrorresp = Some(text.clone());
            for b in &mut pi.beneficiaries {
                b.set_status(BeneficiaryStatus::Failed);
                b.paymentstatusmessage = Some(text.clone());
                b.audit.touch(by, now);
            }
        };
        match answer {
            Ok(r) if r.succeeded() => {
                let first = r.data.first().cloned().unwrap_or(Value::Null);
                pi.row.jitposted = true;
                pi.row.pisuccesscode = field(&first, "successCode");
                pi.row.pisuccessdesc =
                    field(&first, "sucessDescrp").or_else(|| field(&first, "successDescrp"));
                (status_log(service, LogOutcome::Success), None)
            }
            Ok(r)
                if r.error_text()
                    .is_some_and(|t| t.to_ascii_lowercase().contains("duplicate")) =>
            {
                // A re-post of a bill JIT already has: it is booked.
                pi.row.jitposted = true;
                (
                    status_log(service, LogOutcome::Success),
                    Some(json!({"error": r.error_text()})),
                )
            }
            Ok(r) => {
                let text = r
                    .error_text()
                    .unwrap_or_else(|| "JIT returned no data".to_owned());
                refused(pi, text.clone());
                (
                    status_log(service, LogOutcome::Error),
                    Some(json!({"error": text})),
                )
            }
            Err(CallFailure::NotBooked(m)) => {
                refused(pi, format!("PAYMENT_SERVER_UNREACHABLE {m}"));
                (
                    status_log(service, LogOutcome::Error),
                    Some(json!({"error": m})),
                )
            }
            Err(CallFailure::Unknown(m)) => (
                status_log(service, LogOutcome::NoResponse),
                Some(json!({"error": m})),
            ),
        }
    }

    /// Marks a superseded PI COMPLETED (its on-disburse and index copy returned).
    pub async fn complete(
        &self,
        tx: &mut sqlx::PgConnection,
        caller: &Caller,
        pi_id: &str,
        now: i64,
    ) -> Result<Vec<OutboxMessage>, IfmsError> {
        let mut out = Vec::new();
        for mut p in store::load(tx, &[pi_id.to_owned()], true).await? {
            p.row.set_status(PiStatus::Completed);
            p.row.audit.touch(&caller.uuid(), now);
            store::update(tx, &p).await?;
            out.extend(self.on_disburse(caller, &p)?);
            out.push(self.index_copy(&p)?);
        }
        Ok(out)
    }

    /// Enqueues outbox messages in `tx`.
    pub async fn enqueue(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        messages: Vec<OutboxMessage>,
    ) -> Result<(), IfmsError> {
        for m in messages {
            digit_outbox::enqueue(tx, &m).await?;
        }
        Ok(())
    }
}
