//! `/pi/v1/_search` and `/funds/v1/_search` (spec A2.1): upstream's bodies and shapes,
//! pages over PIs and sanctions (never over joined rows, C.1 item 7), bounded page sizes,
//! and results limited to the tenants the caller may act at.

use crate::domain::codes;
use crate::domain::model::{PaymentInstruction, SanctionDetail};
use crate::error::IfmsError;
use crate::service::{AdapterService, Caller};
use crate::store::pi::{self as store, PiCriteria};
use crate::store::sanctions::{self, FundsCriteria};

impl AdapterService {
    /// Keeps the items whose tenant the caller may act at (`tenant` of each).
    async fn visible<T>(
        &self,
        caller: &Caller,
        items: Vec<T>,
        tenant: impl Fn(&T) -> &str,
    ) -> Result<Vec<T>, IfmsError> {
        let mut allowed: Vec<(String, bool)> = Vec::new();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let t = tenant(&item).to_owned();
            let ok = match allowed.iter().find(|(k, _)| *k == t) {
                Some((_, ok)) => *ok,
                None => {
                    let ok = match self.authorize(caller, &t).await {
                        Ok(()) => true,
                        Err(IfmsError::Forbidden(_)) => false,
                        Err(e) => return Err(e),
                    };
                    allowed.push((t, ok));
                    ok
                }
            };
            if ok {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// `/pi/v1/_search`.
    pub async fn search_pis(
        &self,
        caller: &Caller,
        criteria: &PiCriteria,
    ) -> Result<Vec<PaymentInstruction>, IfmsError> {
        if criteria.is_empty() {
            return Err(IfmsError::rule(codes::SEARCH_CRITERIA_MANDATORY));
        }
        if let Some(t) = criteria
            .tenant_id
            .as_deref()
            .filter(|t| !t.trim().is_empty())
        {
            self.authorize(caller, t.trim()).await?;
        }
        let mut conn = self.pool.acquire().await?;
        let found = store::search(
            &mut conn,
            criteria,
            self.settings.search_default_limit,
            self.settings.search_max_limit,
        )
        .await?;
        drop(conn);
        let found = self.visible(caller, found, |p| &p.row.tenantid).await?;
        let mut out = Vec::with_capacity(found.len());
        for pi in &found {
            let mut wire = pi.to_wire();
            for (b, row) in wire
                .beneficiary_details
                .iter_mut()
                .flatten()
                .zip(&pi.beneficiaries)
            {
                b.bank_account_id = Some(self.account_of(row).map(|(a, i)| format!("{a}@{i}"))?);
            }
            out.push(wire);
        }
        Ok(out)
    }

    /// `/funds/v1/_search`.
    pub async fn search_funds(
        &self,
        caller: &Caller,
        criteria: &FundsCriteria,
    ) -> Result<Vec<SanctionDetail>, IfmsError> {
        if criteria.is_empty() {
            return Err(IfmsError::rule(codes::SEARCH_CRITERIA_MANDATORY));
        }
        if let Some(t) = criteria
            .tenant_id
            .as_deref()
            .filter(|t| !t.trim().is_empty())
        {
            self.authorize(caller, t.trim()).await?;
        }
        let mut conn = self.pool.acquire().await?;
        let found = sanctions::search(
            &mut conn,
            criteria,
            self.settings.search_default_limit,
            self.settings.search_max_limit,
        )
        .await?;
        drop(conn);
        self.visible(caller, found, |s| &s.tenant_id).await
    }
}
