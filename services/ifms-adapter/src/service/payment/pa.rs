//! PA (spec A1.9): payments for approved bills that have none. For every tenant, page
//! through the expense service's bills without a payment status; each APPROVED one gets a
//! payment of its whole amount (its ACTIVE payable line items), which expense publishes on
//! `expense-payment-create` for the consumer to turn into a PI.

use crate::error::IfmsError;
use crate::service::AdapterService;
use serde_json::{json, Value};

/// What a PA run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaReport {
    /// Bills seen without a payment status.
    pub bills: usize,
    /// Payments created.
    pub payments: usize,
    /// Creates that failed (retried by the next run).
    pub failed: usize,
}

/// The payment of a bill (A1.9 PA).
pub fn payment_of(bill: &Value) -> Value {
    let tenant = bill.get("tenantId").cloned().unwrap_or(Value::Null);
    let total = bill.get("totalAmount").cloned().unwrap_or(json!(0));
    let details: Vec<Value> = bill
        .get("billDetails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|d| {
            let items: Vec<Value> = d
                .get("payableLineItems")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|l| l.get("status").and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case("ACTIVE")))
                .map(|l| json!({"lineItemId": l.get("id"), "paidAmount": l.get("amount"), "tenantId": tenant}))
                .collect();
            json!({"billDetailId": d.get("id"), "tenantId": tenant, "totalAmount": d.get("totalAmount"),
                "totalPaidAmount": d.get("totalAmount"), "payableLineItems": items})
        })
        .collect();
    json!({"tenantId": tenant, "netPayableAmount": total, "netPaidAmount": total,
        "bills": [{"billId": bill.get("id"), "tenantId": tenant, "totalAmount": total,
            "totalPaidAmount": total, "billDetails": details}]})
}

impl AdapterService {
    /// One PA run.
    pub async fn run_pa(&self) -> Result<PaReport, IfmsError> {
        let tenants = self.tenants().await?;
        let mut report = PaReport::default();
        for tenant in &tenants {
            let mut offset = 0;
            loop {
                let page = self.mukta.unpaid_bills(tenant, offset).await?;
                let full = i64::try_from(page.len()).unwrap_or(0) >= self.mukta.bill_search_limit;
                for bill in &page {
                    let approved = bill
                        .get("wfStatus")
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.eq_ignore_ascii_case("APPROVED"));
                    if !bill.get("paymentStatus").is_none_or(Value::is_null) || !approved {
                        continue;
                    }
                    report.bills += 1;
                    match self.mukta.create_payment(&payment_of(bill)).await {
                        Ok(_) => report.payments += 1,
                        Err(e) => {
                            report.failed += 1;
                            tracing::error!(tenant = %tenant, bill = ?bill.get("billNumber"), error = %e,
                                "PA: the payment could not be created; the next run tries again.");
                        }
                    }
                }
                if !full {
                    break;
                }
                offset += self.mukta.bill_search_limit;
            }
        }
        tracing::info!(?report, "PA ran.");
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::payment_of;
    use serde_json::json;

    #[test]
    fn a_bill_is_paid_whole_by_its_active_payable_line_items() {
        let bill = json!({"id": "B1", "tenantId": "pg.citya", "totalAmount": 1500.50, "wfStatus": "APPROVED",
            "billDetails": [{"id": "D1", "totalAmount": 1500.50, "payableLineItems": [
                {"id": "L1", "amount": 1400.50, "status": "ACTIVE"},
                {"id": "L2", "amount": 100, "status": "ACTIVE"},
                {"id": "L3", "amount": 7, "status": "INACTIVE"}]}]});
        let p = payment_of(&bill);
        assert_eq!(p["netPayableAmount"].to_string(), "1500.5");
        assert_eq!(p["bills"][0]["billId"], "B1");
        assert_eq!(
            p["bills"][0]["totalPaidAmount"],
            p["bills"][0]["totalAmount"]
        );
        let items = p["bills"][0]["billDetails"][0]["payableLineItems"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0],
            json!({"lineItemId": "L1", "paidAmount": 1400.50, "tenantId": "pg.citya"})
        );
    }
}
