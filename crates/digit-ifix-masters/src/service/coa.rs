//! Chart of accounts: create (coaCode unique per tenant) and search.

use super::{lock, now_ms, Caller, Masters};
use crate::domain::coa::{self, codes, ChartOfAccount, CoaCriteria};
use crate::domain::header::RequestHeader;
use crate::error::MastersError;
use crate::store;
use digit_core::AuditDetails;
use digit_store::commit::Confirmation;
use serde_json::{json, Value};

fn duplicate() -> MastersError {
    MastersError::invalid(
        codes::DUPLICATE_COA_CODE,
        "This coa code exists in the system",
    )
}

impl Masters {
    /// `chartOfAccount/v1/_create`: the enriched chart of account, after the persister
    /// stored it.
    pub async fn create_coa(
        &self,
        caller: &Caller,
        header: &RequestHeader,
        mut coa: ChartOfAccount,
    ) -> Result<ChartOfAccount, MastersError> {
        let user = self.require_user(caller)?.to_owned();
        coa::validate_new(&coa)?;
        let tenant = coa.tenant_id.clone().unwrap_or_default();
        if !self.tenant_exists(&tenant).await? {
            return Err(MastersError::invalid(
                codes::TENANT_ID,
                "Tenant id doesn't exist in the system",
            ));
        }
        let code = coa::coa_code(&coa);
        // Held until the persister committed: a racing create of the code waits, then sees it.
        let mut tx = lock(&self.pool, vec![format!("ifix-coa:{tenant}:{code}")]).await?;
        if store::coa::id_by_code(&mut *tx, &tenant, &code)
            .await?
            .is_some()
        {
            return Err(duplicate());
        }
        let id = uuid::Uuid::new_v4().to_string();
        coa.id = Some(id.clone());
        coa.coa_code = Some(code.clone());
        coa.audit_details = Some(AuditDetails::for_create(&user, now_ms()));
        let mut payload =
            json!({"requestHeader": caller.trusted_header(header), "chartOfAccount": coa});
        // The persister maps every column, attributes included (the answer leaves them out
        // when there are none).
        payload["chartOfAccount"]["attributes"] = coa.attributes.clone().unwrap_or(Value::Null);
        let confirmation = self
            .publish(
                caller,
                &self.settings.topics.coa,
                &format!("{tenant}:{code}"),
                &payload,
            )
            .await?;
        tx.commit().await?;
        if confirmation == Confirmation::Persisted {
            match store::coa::id_by_code(&self.pool, &tenant, &code).await? {
                Some(stored) if stored == id => {}
                // The constraint refused it: someone else's row has the code.
                Some(_) => return Err(duplicate()),
                None => return Err(MastersError::NotStored(format!("chart of account {id}"))),
            }
        }
        Ok(coa)
    }

    /// `chartOfAccount/v1/_search`.
    pub async fn search_coa(
        &self,
        criteria: &CoaCriteria,
    ) -> Result<Vec<ChartOfAccount>, MastersError> {
        coa::validate_criteria(criteria)?;
        Ok(store::coa::search(&self.pool, criteria, self.settings.search_limit).await?)
    }
}
