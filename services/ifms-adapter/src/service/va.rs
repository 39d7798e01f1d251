//! VA (spec A1.4): pulls the allotments of every tenant × SSU × head of account from JIT and
//! applies them to sanctions and funds summaries — idempotently (C.1 items 2, 3): an
//! allotment is recorded once under its `ssuAllotmentId` and changes the balances by its
//! own amount only (a relative update), the watermark moves in the same transaction, and
//! the program service's `on-sanction`/`on-allocation` go out through the outbox in that
//! transaction too. So a run repeated after any failure — JIT down, the program service
//! down, a crash — changes nothing twice. Items whose sanction is unknown are kept and
//! applied once their Initial Allotment arrives (upstream dropped them).

use crate::domain::calendar::{financial_year, ist, ist_date_time, ist_day_start};
use crate::error::IfmsError;
use crate::service::callbacks::{AllotmentNote, SanctionNote};
use crate::service::{field, new_id, now_ms, AdapterService, Caller};
use crate::store::funds::{self, NewAllotment, NewSanction};
use crate::store::{sanctions, va_log};
use digit_jit::ServiceId;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

/// One VA `data[]` item (all strings, as JIT sends them).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaItem {
    /// `Initial Allotment` / `Additional allotment` / `Allotment withdrawal`.
    pub allotment_txn_type: String,
    /// Master allotment (the sanction).
    pub mst_allotment_dist_id: String,
    /// This allotment (the idempotency key).
    pub ssu_allotment_id: String,
    /// Serial within the master.
    pub allotment_txn_sl_no: String,
    /// Amount.
    pub allotment_amount: String,
    /// JIT's unallotted sanction balance after it.
    #[serde(default)]
    pub available_balance: Option<String>,
    /// `yyyy-MM-dd`.
    pub allotment_date: String,
}

/// What a VA run did (for the scheduler answer, logs and tests).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaReport {
    /// Tenant × SSU × head combinations asked.
    pub polled: usize,
    /// Those whose call or write failed (retried by the next run).
    pub failed: usize,
    /// Sanctions created.
    pub sanctions: usize,
    /// Allotments applied.
    pub allotments: usize,
    /// Items already applied before.
    pub repeated: usize,
    /// Items kept for an unknown sanction.
    pub unmatched: usize,
}

/// The kind of an allotment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Creates the sanction.
    Initial,
    /// Adds to it.
    Additional,
    /// Takes from it.
    Withdrawal,
}

impl Kind {
    /// From JIT's text (case-insensitive, as upstream).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "initial allotment" => Some(Self::Initial),
            "additional allotment" => Some(Self::Additional),
            "allotment withdrawal" => Some(Self::Withdrawal),
            _ => None,
        }
    }
}

fn decimal(s: &str, what: &str) -> Result<Decimal, IfmsError> {
    s.trim()
        .parse::<Decimal>()
        .map_err(|_| IfmsError::Dependency(format!("JIT VA: {what} '{s}' is not a decimal")))
}

impl AdapterService {
    /// One VA run over every tenant × SSU × head of account.
    pub async fn run_va(&self) -> Result<VaReport, IfmsError> {
        let caller = Caller::job("VA");
        let tenants = self.tenants().await?;
        let hoas = self.heads_of_account().await?;
        let mut report = VaReport::default();
        for tenant in &tenants {
            let ssus = self.ssus(tenant, false).await?;
            if ssus.is_empty() {
                continue;
            }
            // Sanctions name a program the program service knows; without one VA waits
            // (nothing recorded, the watermark unmoved) rather than record sanctions whose
            // callbacks the program service must refuse.
            let program = match self.program_code(tenant).await {
                Ok(Some(p)) => p,
                Ok(None) => {
                    report.failed += 1;
                    tracing::warn!(tenant = %tenant, "VA: the tenant has no program yet (MDMS SSUDetails.programCode or the program service); skipped.");
                    continue;
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::error!(tenant = %tenant, error = %e, "VA: the tenant's program is unknown; skipped.");
                    continue;
                }
            };
            for ssu in &ssus {
                for hoa in &hoas {
                    report.polled += 1;
                    if let Err(e) = self
                        .va_for(&caller, tenant, ssu, hoa, Some(&program), &mut report)
                        .await
                    {
                        report.failed += 1;
                        tracing::error!(tenant = %tenant, hoa = ?field(hoa, "code"),
                            ddo = ?field(ssu, "ddoCode"), error = %e, "VA failed; the next run retries it.");
                    }
                }
            }
        }
        tracing::info!(?report, "VA ran.");
        Ok(report)
    }

    async fn va_for(
        &self,
        caller: &Caller,
        tenant: &str,
        ssu: &Value,
        hoa: &Value,
        program: Option<&str>,
        report: &mut VaReport,
    ) -> Result<(), IfmsError> {
        let hoa_code = field(hoa, "code").unwrap_or_default();
        let ddo = field(ssu, "ddoCode").unwrap_or_default();
        let grantee = field(ssu, "granteeAgCode").unwrap_or_default();
        let program = field(ssu, "programCode").or_else(|| program.map(str::to_owned));
        let key = (tenant, hoa_code.as_str(), ddo.as_str(), grantee.as_str());
        let mut conn = self.pool.acquire().await?;
        // From the watermark less an overlap (applying an allotment twice is impossible, so
        // asking again costs nothing, and one JIT posts late within the overlap is not lost).
        let overlap = self.settings.va_overlap_days * 86_400_000;
        let from = match va_log::va_watermark(&mut conn, key.0, key.1, key.2, key.3).await? {
            Some(mark) => mark - overlap,
            None => hoa
                .get("effectiveFrom")
                .and_then(Value::as_i64)
                .unwrap_or(0),
        };
        drop(conn);
        let params = json!({"hoa": hoa_code, "fromDate": ist_date_time(from), "ddoCode": ddo,
            "granteCode": grantee});
        let answer = self
            .treasury
            .call(Some(tenant), ServiceId::VA, params)
            .await
            .map_err(|f| IfmsError::Dependency(format!("JIT VA: {}", f.message())))?;
        if let Some(error) = &answer.error_msg {
            return Err(IfmsError::Dependency(format!("JIT VA: {error}")));
        }
        let mut items = Vec::with_capacity(answer.data.len());
        for raw in &answer.data {
            let item: VaItem = serde_json::from_value(raw.clone())
                .map_err(|e| IfmsError::Dependency(format!("JIT VA item: {e}")))?;
            items.push((item, raw.clone()));
        }
        // Masters first, each in serial order: an Initial Allotment before its additions.
        items.sort_by_key(|(i, _)| {
            (
                i.mst_allotment_dist_id.clone(),
                i.allotment_txn_sl_no
                    .trim()
                    .parse::<i64>()
                    .unwrap_or(i64::MAX),
            )
        });

        let now = now_ms();
        let by = caller.uuid();
        let mut tx = self.pool.begin().await?;
        let mut sanctions: Vec<SanctionNote> = Vec::new();
        let mut allotments: Vec<AllotmentNote> = Vec::new();
        let mut latest: Option<i64> = None;
        for (item, raw) in &items {
            latest = latest.max(ist_day_start(&item.allotment_date));
            self.apply(
                &mut tx,
                tenant,
                &hoa_code,
                &ddo,
                program.as_deref(),
                item,
                raw,
                &by,
                now,
                &mut sanctions,
                &mut allotments,
                report,
            )
            .await?;
        }
        // Items kept earlier whose sanction now exists.
        for (id, raw) in va_log::resolvable_unmatched(&mut tx, tenant, &hoa_code, &ddo).await? {
            let item: VaItem = serde_json::from_value(raw.clone())?;
            self.apply(
                &mut tx,
                tenant,
                &hoa_code,
                &ddo,
                program.as_deref(),
                &item,
                &raw,
                &by,
                now,
                &mut sanctions,
                &mut allotments,
                report,
            )
            .await?;
            va_log::drop_unmatched(&mut tx, &id).await?;
        }
        if let Some(at) = latest {
            // The start of the newest allotment's day: the next run asks again from there
            // (less the overlap; repeated items are recognised), so nothing on the boundary
            // is missed.
            va_log::advance_va_watermark(&mut tx, key, at, &by, now).await?;
        }
        let mut outbox = Vec::new();
        outbox.extend(self.on_sanction(caller, &sanctions).await?);
        outbox.extend(self.on_allocation(caller, &allotments).await?);
        self.enqueue(&mut tx, outbox).await?;
        tx.commit().await?;
        report.sanctions += sanctions.len();
        report.allotments += allotments.len();
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        tx: &mut sqlx::PgConnection,
        tenant: &str,
        hoa: &str,
        ddo: &str,
        program: Option<&str>,
        item: &VaItem,
        raw: &Value,
        by: &str,
        now: i64,
        sanctions: &mut Vec<SanctionNote>,
        allotments: &mut Vec<AllotmentNote>,
        report: &mut VaReport,
    ) -> Result<(), IfmsError> {
        let kind = Kind::parse(&item.allotment_txn_type).ok_or_else(|| {
            IfmsError::Dependency(format!(
                "JIT VA: unknown allotment type '{}'",
                item.allotment_txn_type
            ))
        })?;
        let amount = decimal(&item.allotment_amount, "allotmentAmount")?;
        let balance = item
            .available_balance
            .as_deref()
            .filter(|b| !b.trim().is_empty())
            .map(|b| decimal(b, "availableBalance"))
            .transpose()?;
        let date = ist_day_start(&item.allotment_date);
        let master = item.mst_allotment_dist_id.trim();
        if kind == Kind::Initial {
            let id = new_id();
            let fy = financial_year(ist(date.unwrap_or(now)).date_naive());
            let sanctioned = balance.unwrap_or_default() + amount;
            let created = funds::insert_sanction(
                tx,
                &NewSanction {
                    id: &id,
                    tenant_id: tenant,
                    hoa_code: hoa,
                    ddo_code: ddo,
                    master_allotment_id: master,
                    sanctioned_amount: sanctioned,
                    financial_year: &fy,
                    program_code: program,
                    by,
                    now,
                },
            )
            .await?;
            if created {
                sanctions.push(SanctionNote {
                    id,
                    tenant_id: tenant.to_owned(),
                    program_code: program.map(str::to_owned),
                    amount: sanctioned,
                });
            }
        }
        let Some((sanction_id, sanction_program)) =
            sanctions::sanction_of_master(tx, tenant, hoa, ddo, master).await?
        else {
            if va_log::keep_unmatched(
                tx,
                tenant,
                hoa,
                ddo,
                master,
                &item.ssu_allotment_id,
                raw,
                now,
            )
            .await?
            {
                report.unmatched += 1;
                tracing::warn!(tenant, hoa, ddo, master, ssu_allotment = %item.ssu_allotment_id,
                    "A VA allotment names an unknown sanction: kept until its Initial Allotment arrives.");
            }
            return Ok(());
        };
        let id = new_id();
        let program = sanction_program.as_deref().or(program);
        let applied = funds::apply_allotment(
            tx,
            &NewAllotment {
                id: &id,
                tenant_id: tenant,
                sanction_id: &sanction_id,
                serial_no: item.allotment_txn_sl_no.trim().parse().unwrap_or(0),
                ssu_allotment_id: item.ssu_allotment_id.trim(),
                amount,
                transaction_type: item.allotment_txn_type.trim(),
                sanction_balance: balance,
                date,
                program_code: program,
                delta: if kind == Kind::Withdrawal {
                    -amount
                } else {
                    amount
                },
                by,
                now,
            },
        )
        .await?;
        if applied {
            allotments.push(AllotmentNote {
                id,
                sanction_id,
                tenant_id: tenant.to_owned(),
                program_code: program.map(str::to_owned),
                amount,
                withdrawal: kind == Kind::Withdrawal,
            });
        } else {
            report.repeated += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn allotment_kinds_are_case_insensitive() {
        assert_eq!(Kind::parse("Initial Allotment"), Some(Kind::Initial));
        assert_eq!(Kind::parse("Additional allotment"), Some(Kind::Additional));
        assert_eq!(
            Kind::parse(" ALLOTMENT WITHDRAWAL "),
            Some(Kind::Withdrawal)
        );
        assert_eq!(Kind::parse("Transfer"), None);
    }
}
