//! `disburse/_search` (§1.5.6): payments with their lines, PII decrypted.

use crate::domain::model::{
    Action, DisburseSearch, MessageType, Pagination, RequestHeader, SearchItems, SearchResponse,
    SortOrder,
};
use crate::error::ProgramError;
use crate::service::{Caller, ProgramService};
use crate::store::disburse::{self as store, SORT_COLUMNS};
use serde_json::Value;
use std::collections::HashMap;

impl ProgramService {
    /// `disburse/_search`: payments (parents) at `location_code` matching every given
    /// criterion, each with all its lines (in arrival order), PII decrypted.
    ///
    /// Differences from upstream (§5 items 15, 20): `ids` match a payment's id or one of
    /// its lines' (upstream: parents only); `pagination.total_count` is filled; `sort_by`
    /// is one of [`SORT_COLUMNS`] (anything else sorts by `last_modified_time`, upstream
    /// pastes it into SQL); `limit` defaults to `SEARCH_DEFAULT_LIMIT` and is capped at
    /// `SEARCH_MAX_LIMIT` as upstream, a limit below 1 is the default, a negative offset 0;
    /// empty strings and an empty `ids` list are no criterion. The answer carries the
    /// effective `pagination` (upstream sends none).
    pub async fn disburse_search(
        &self,
        caller: &Caller,
        header: RequestHeader,
        criteria: DisburseSearch,
    ) -> Result<Value, ProgramError> {
        self.validate_header(&header, MessageType::Disburse, Action::Search)?;
        let location = criteria.location_code.clone().unwrap_or_default();
        self.authorize(caller, &[&location]).await?;
        let page = criteria.pagination.clone().unwrap_or(Pagination {
            limit: None,
            offset: None,
            total_count: None,
            sort_by: None,
            sort_order: None,
        });
        let limit = match page.limit {
            Some(l) if l >= 1 => l.min(self.settings.max_limit),
            _ => self.settings.default_limit,
        };
        let offset = page.offset.unwrap_or(0).max(0);
        let (sort_by, sort_column) = page
            .sort_by
            .as_deref()
            .and_then(|s| SORT_COLUMNS.iter().find(|(name, _)| *name == s))
            .copied()
            .unwrap_or(SORT_COLUMNS[0]);
        let order = page.sort_order.unwrap_or(SortOrder::Desc);
        let text = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        let ids = criteria.ids.clone().filter(|ids| !ids.is_empty());
        let (program_code, target_id, transaction_id) = (
            text(&criteria.program_code),
            text(&criteria.target_id),
            text(&criteria.transaction_id),
        );
        let search = store::Search {
            location: &location,
            ids: ids.as_deref(),
            program_code: program_code.as_deref(),
            target_id: target_id.as_deref(),
            transaction_id: transaction_id.as_deref(),
            sort_column,
            descending: order == SortOrder::Desc,
            limit,
            offset,
        };
        let (parents, total) = store::search(&self.pool, &search).await?;
        let parent_ids: Vec<String> = parents.iter().map(|p| p.id.clone()).collect();
        let mut lines: HashMap<String, Vec<_>> = HashMap::new();
        if !parent_ids.is_empty() {
            for row in store::children(&self.pool, &location, &parent_ids).await? {
                let parent = row.parent_id.clone().unwrap_or_default();
                lines
                    .entry(parent)
                    .or_default()
                    .push(self.wire_of(row, None)?);
            }
        }
        let mut disbursements = Vec::with_capacity(parents.len());
        for parent in parents {
            let children = lines.remove(&parent.id).unwrap_or_default();
            disbursements.push(self.wire_of(parent, Some(children))?);
        }
        let response = SearchResponse {
            header,
            items: SearchItems::Disbursements(disbursements),
            pagination: Pagination {
                limit: Some(limit),
                offset: Some(offset),
                total_count: Some(total),
                sort_by: Some(sort_by.to_owned()),
                sort_order: Some(order),
            },
        };
        serde_json::to_value(&response).map_err(|e| ProgramError::Corrupt(e.to_string()))
    }
}
