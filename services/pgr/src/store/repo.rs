//! Complaint reads (`eg_pgr_service_v2` ⋈ `eg_pgr_address_v2`, documents) — the rows the
//! persister wrote. Every criterion is a bound parameter; sort columns come from an enum.

use crate::domain::model::{
    Address, Boundary, Document, GeoLocation, SearchCriteria, Service, SortBy, SortOrder,
};
use digit_core::AuditDetails;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use std::collections::HashMap;

/// Filters after scoping (what the SQL sees).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The criteria from the query string.
    pub criteria: SearchCriteria,
    /// `tenantId` is state level (prefix match, as upstream).
    pub state_level: bool,
    /// Complainant uuids (citizen self-scope, or mobile-number lookup).
    pub user_ids: Option<Vec<String>>,
    /// Request ids from the workflow assignee search.
    pub service_request_ids: Option<Vec<String>>,
    /// Plain search tenants.
    pub tenant_ids: Vec<String>,
    /// Now (ms) for the age filters.
    pub now: i64,
    /// Page.
    pub limit: i64,
    /// Offset.
    pub offset: i64,
}

const COLUMNS: &str = "ser.id, ser.tenantid, ser.servicecode, ser.servicerequestid, ser.description, ser.accountid,
    ser.additionaldetails, ser.applicationstatus, ser.rating, ser.source, ser.active, ser.createdby, ser.createdtime,
    ser.lastmodifiedby, ser.lastmodifiedtime, ser.extended_attributes,
    ads.id AS ads_id, ads.tenantid AS ads_tenantid, ads.doorno, ads.plotno, ads.buildingname, ads.street, ads.landmark,
    ads.city, ads.pincode, ads.locality, ads.district, ads.region, ads.state, ads.country,
    ads.latitude::float8 AS latitude, ads.longitude::float8 AS longitude, ads.additionaldetails AS ads_additionaldetails";

fn push_where(q: &mut QueryBuilder<'_, Postgres>, f: &Filter) {
    let c = &f.criteria;
    q.push(" FROM eg_pgr_service_v2 ser JOIN eg_pgr_address_v2 ads ON ads.parentid = ser.id WHERE true");
    if let Some(t) = &c.tenant_id {
        if f.state_level {
            q.push(" AND ser.tenantid LIKE ").push_bind(format!("{t}%"));
        } else {
            q.push(" AND ser.tenantid = ").push_bind(t.clone());
        }
    }
    if !f.tenant_ids.is_empty() {
        q.push(" AND ser.tenantid = ANY(")
            .push_bind(f.tenant_ids.clone())
            .push(")");
    }
    if !c.service_code.is_empty() {
        q.push(" AND ser.servicecode = ANY(")
            .push_bind(c.service_code.clone())
            .push(")");
    }
    if !c.application_status.is_empty() {
        q.push(" AND ser.applicationstatus = ANY(")
            .push_bind(c.application_status.clone())
            .push(")");
    }
    if let Some(id) = &c.service_request_id {
        q.push(" AND ser.servicerequestid = ").push_bind(id.clone());
    }
    if !c.ids.is_empty() {
        q.push(" AND ser.id = ANY(")
            .push_bind(c.ids.clone())
            .push(")");
    }
    match (c.sla_delta_max_limit, c.sla_delta_min_limit) {
        (Some(max), None) => {
            q.push(" AND (")
                .push_bind(f.now)
                .push(" - ser.createdtime) > ")
                .push_bind(max);
        }
        (Some(max), Some(min)) => {
            q.push(" AND (")
                .push_bind(f.now)
                .push(" - ser.createdtime) > ")
                .push_bind(min);
            q.push(" AND (")
                .push_bind(f.now)
                .push(" - ser.createdtime) < ")
                .push_bind(max);
        }
        _ => {}
    }
    if let Some(users) = &f.user_ids {
        q.push(" AND ser.accountid = ANY(")
            .push_bind(users.clone())
            .push(")");
    }
    if let Some(ids) = &f.service_request_ids {
        q.push(" AND ser.servicerequestid = ANY(")
            .push_bind(ids.clone())
            .push(")");
    }
    if !c.locality.is_empty() {
        q.push(" AND ads.locality = ANY(")
            .push_bind(c.locality.clone())
            .push(")");
    }
    if let Some(from) = c.from_date {
        q.push(" AND ser.createdtime BETWEEN ")
            .push_bind(from)
            .push(" AND ")
            .push_bind(c.to_date.unwrap_or(f.now));
    }
}

/// One page of complaints with their documents.
pub async fn search(pool: &PgPool, f: &Filter) -> Result<Vec<Service>, sqlx::Error> {
    let mut q = QueryBuilder::new(format!("SELECT {COLUMNS}"));
    push_where(&mut q, f);
    let c = &f.criteria;
    let order = match c.sort_by {
        Some(SortBy::Locality) => "ads.locality",
        Some(SortBy::ApplicationStatus) => "ser.applicationstatus",
        Some(SortBy::ServiceRequestId) => "ser.servicerequestid",
        // Remaining SLA is budget − age: ordering by it is ordering by createdtime.
        Some(SortBy::CreatedTime) | Some(SortBy::Sla) | None => "ser.createdtime",
    };
    let direction = match (c.sort_by, c.sort_order) {
        (Some(SortBy::Sla), Some(SortOrder::Asc)) => "DESC",
        (Some(SortBy::Sla), _) => "ASC",
        (_, Some(SortOrder::Asc)) => "ASC",
        _ => "DESC",
    };
    q.push(format!(" ORDER BY {order} {direction}, ser.id"));
    q.push(" OFFSET ").push_bind(f.offset.max(0));
    q.push(" LIMIT ").push_bind(f.limit.max(0));
    let rows = q.build().fetch_all(pool).await?;
    let mut services = rows
        .iter()
        .map(service_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach_documents(pool, &mut services).await?;
    Ok(services)
}

/// Matching complaints (no paging).
pub async fn count(pool: &PgPool, f: &Filter) -> Result<i64, sqlx::Error> {
    let mut q = QueryBuilder::new("SELECT count(*)");
    push_where(&mut q, f);
    q.build_query_scalar().fetch_one(pool).await
}

/// The stored complaint with this id in this tenant.
pub async fn by_id(pool: &PgPool, tenant: &str, id: &str) -> Result<Option<Service>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM eg_pgr_service_v2 ser JOIN eg_pgr_address_v2 ads ON ads.parentid = ser.id
         WHERE ser.id = $1 AND ser.tenantid = $2"
    ))
    .bind(id)
    .bind(tenant)
    .fetch_optional(pool)
    .await?;
    let mut services = row
        .iter()
        .map(service_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach_documents(pool, &mut services).await?;
    Ok(services.pop())
}

/// Search-response dashboard numbers for a tenant: resolved in the last 30 days and their
/// average resolution time in days (§5.7).
pub async fn dashboard(pool: &PgPool, tenant: &str, now: i64) -> Result<(i64, i64), sqlx::Error> {
    let since = now - 30 * 86_400_000;
    let row = sqlx::query(
        "SELECT count(*) FILTER (WHERE lastmodifiedtime > $2) AS resolved,
                coalesce(round(avg(lastmodifiedtime - createdtime) / 86400000.0), 0)::bigint AS avg_days
         FROM eg_pgr_service_v2 WHERE applicationstatus = $3 AND tenantid = $1",
    )
    .bind(tenant)
    .bind(since)
    .bind(crate::domain::rules::CLOSED_AFTER_RESOLUTION)
    .fetch_one(pool)
    .await?;
    Ok((row.try_get("resolved")?, row.try_get("avg_days")?))
}

async fn attach_documents(pool: &PgPool, services: &mut [Service]) -> Result<(), sqlx::Error> {
    let ids: Vec<String> = services.iter().filter_map(|s| s.id.clone()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query(
        "SELECT id, document_type, filestore_id, document_uid, service_id, additional_details
         FROM eg_pgr_document_v2 WHERE service_id = ANY($1) ORDER BY created_time, id",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let mut by_service: HashMap<String, Vec<Document>> = HashMap::new();
    for r in &rows {
        let owner: String = r.try_get("service_id")?;
        by_service.entry(owner).or_default().push(Document {
            id: r.try_get("id")?,
            document_type: r.try_get("document_type")?,
            file_store_id: r.try_get("filestore_id")?,
            document_uid: r.try_get("document_uid")?,
            additional_details: r.try_get("additional_details")?,
        });
    }
    for s in services {
        if let Some(docs) = s.id.as_ref().and_then(|id| by_service.remove(id)) {
            s.documents = Some(docs);
        }
    }
    Ok(())
}

fn service_from_row(r: &PgRow) -> Result<Service, sqlx::Error> {
    Ok(Service {
        active: r.try_get::<Option<bool>, _>("active")?.unwrap_or(true),
        citizen: None,
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenantid")?,
        service_code: r.try_get("servicecode")?,
        service_request_id: r.try_get("servicerequestid")?,
        description: r.try_get("description")?,
        account_id: r.try_get("accountid")?,
        rating: r.try_get::<Option<i16>, _>("rating")?.map(i64::from),
        additional_detail: r.try_get("additionaldetails")?,
        application_status: r.try_get("applicationstatus")?,
        source: r.try_get("source")?,
        address: Some(Address {
            tenant_id: r.try_get("ads_tenantid")?,
            id: r.try_get("ads_id")?,
            door_no: r.try_get("doorno")?,
            plot_no: r.try_get("plotno")?,
            building_name: r.try_get("buildingname")?,
            street: r.try_get("street")?,
            landmark: r.try_get("landmark")?,
            city: r.try_get("city")?,
            district: r.try_get("district")?,
            region: r.try_get("region")?,
            state: r.try_get("state")?,
            country: r.try_get("country")?,
            pincode: r.try_get("pincode")?,
            addition_details: r.try_get("ads_additionaldetails")?,
            locality: Some(Boundary {
                code: r.try_get("locality")?,
                ..Boundary::default()
            }),
            geo_location: Some(GeoLocation {
                latitude: r.try_get("latitude")?,
                longitude: r.try_get("longitude")?,
                additional_details: None,
            }),
        }),
        documents: None,
        audit_details: Some(AuditDetails {
            created_by: r.try_get("createdby")?,
            last_modified_by: r.try_get("lastmodifiedby")?,
            created_time: r.try_get("createdtime")?,
            last_modified_time: r.try_get("lastmodifiedtime")?,
        }),
        process_instance: None,
        extended_attributes: r.try_get("extended_attributes")?,
    })
}
