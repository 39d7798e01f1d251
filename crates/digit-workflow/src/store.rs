//! SQL: business services, process instances (written by the persister, read here) and the
//! engine's own head table (`eg_wf_transition_head_v2`). Every value is a bound parameter.

use crate::model::{Action, BusinessService, Document, ProcessInstance, State, StatusCount};
use digit_core::{AuditDetails, UserInfo};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use std::collections::HashMap;

/// Business services with these codes stored for exactly `tenant`, with states and active
/// actions in creation order.
pub async fn business_services(
    pool: &PgPool,
    tenant: &str,
    codes: &[String],
) -> Result<Vec<BusinessService>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT uuid, tenantid, businessservice, business, geturi, posturi, businessservicesla,
                createdby, createdtime, lastmodifiedby, lastmodifiedtime
         FROM eg_wf_businessservice_v2
         WHERE tenantid = $1 AND (cardinality($2::text[]) = 0 OR businessservice = ANY($2))
         ORDER BY businessservice",
    )
    .bind(tenant)
    .bind(codes)
    .fetch_all(pool)
    .await?;
    let mut services: Vec<BusinessService> = rows
        .iter()
        .map(|r| {
            Ok(BusinessService {
                tenant_id: r.try_get("tenantid")?,
                uuid: r.try_get("uuid")?,
                business_service: r.try_get("businessservice")?,
                business: r.try_get("business")?,
                get_uri: r.try_get("geturi")?,
                post_uri: r.try_get("posturi")?,
                business_service_sla: r.try_get("businessservicesla")?,
                states: Vec::new(),
                audit_details: Some(audit(r)?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    if services.is_empty() {
        return Ok(services);
    }
    let ids: Vec<String> = services.iter().filter_map(|s| s.uuid.clone()).collect();
    let state_rows = sqlx::query(
        "SELECT uuid, tenantid, businessserviceid, state, applicationstatus, sla, docuploadrequired,
                isstartstate, isterminatestate, isstateupdatable, createdby, createdtime, lastmodifiedby, lastmodifiedtime
         FROM eg_wf_state_v2 WHERE businessserviceid = ANY($1) ORDER BY seq",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let state_ids: Vec<String> = state_rows
        .iter()
        .map(|r| r.try_get("uuid"))
        .collect::<Result<_, _>>()?;
    let action_rows = sqlx::query(
        "SELECT uuid, tenantid, currentstate, action, nextstate, roles, active,
                createdby, createdtime, lastmodifiedby, lastmodifiedtime
         FROM eg_wf_action_v2 WHERE currentstate = ANY($1) AND active ORDER BY seq",
    )
    .bind(&state_ids)
    .fetch_all(pool)
    .await?;
    let mut actions: HashMap<String, Vec<Action>> = HashMap::new();
    for r in &action_rows {
        let roles: String = r.try_get("roles")?;
        let current: String = r.try_get("currentstate")?;
        actions.entry(current.clone()).or_default().push(Action {
            uuid: r.try_get("uuid")?,
            tenant_id: r.try_get("tenantid")?,
            current_state: Some(current),
            action: r.try_get("action")?,
            next_state: r.try_get("nextstate")?,
            roles: roles
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            active: r.try_get("active")?,
            audit_details: Some(audit(r)?),
        });
    }
    for r in &state_rows {
        let uuid: String = r.try_get("uuid")?;
        let owner: String = r.try_get("businessserviceid")?;
        let state = State {
            actions: actions.remove(&uuid),
            uuid: Some(uuid),
            tenant_id: r.try_get("tenantid")?,
            business_service_id: Some(owner.clone()),
            sla: r.try_get("sla")?,
            state: r.try_get("state")?,
            application_status: r.try_get("applicationstatus")?,
            doc_upload_required: r.try_get("docuploadrequired")?,
            is_start_state: r.try_get("isstartstate")?,
            is_terminate_state: r.try_get("isterminatestate")?,
            is_state_updatable: r.try_get("isstateupdatable")?,
            audit_details: Some(audit(r)?),
        };
        if let Some(bs) = services
            .iter_mut()
            .find(|s| s.uuid.as_deref() == Some(owner.as_str()))
        {
            bs.states.push(state);
        }
    }
    Ok(services)
}

fn audit(r: &sqlx::postgres::PgRow) -> Result<AuditDetails, sqlx::Error> {
    Ok(AuditDetails {
        created_by: r.try_get("createdby")?,
        last_modified_by: r.try_get("lastmodifiedby")?,
        created_time: r.try_get("createdtime")?,
        last_modified_time: r.try_get("lastmodifiedtime")?,
    })
}

const INSTANCE_COLUMNS: &str = "pi.id, pi.tenantid, pi.businessservice, pi.businessid, pi.action, pi.status, pi.comment,
    pi.assigner, pi.statesla, pi.businessservicesla, pi.previousstatus, pi.modulename, pi.rating, pi.escalated,
    pi.createdby, pi.lastmodifiedby, pi.createdtime, pi.lastmodifiedtime";

/// Instances with these ids, in the given order, with documents and assignees (users hold
/// only their uuid; `state` holds only the uuid — the caller fills both in).
pub async fn instances_by_ids(
    pool: &PgPool,
    ids: &[String],
) -> Result<Vec<ProcessInstance>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT {INSTANCE_COLUMNS} FROM eg_wf_processinstance_v2 pi WHERE pi.id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let mut by_id: HashMap<String, ProcessInstance> = rows
        .iter()
        .map(|r| {
            let pi = instance_from_row(r)?;
            Ok((pi.id.clone().unwrap_or_default(), pi))
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let docs = sqlx::query(
        "SELECT id, tenantid, processinstanceid, documenttype, filestoreid, documentuid,
                createdby, lastmodifiedby, createdtime, lastmodifiedtime
         FROM eg_wf_document_v2 WHERE processinstanceid = ANY($1) ORDER BY createdtime, id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    for r in &docs {
        let owner: String = r.try_get("processinstanceid")?;
        if let Some(pi) = by_id.get_mut(&owner) {
            pi.documents.get_or_insert_with(Vec::new).push(Document {
                id: r.try_get("id")?,
                tenant_id: r.try_get("tenantid")?,
                document_type: r.try_get("documenttype")?,
                file_store_id: r.try_get("filestoreid")?,
                document_uid: r.try_get("documentuid")?,
                additional_details: None,
                audit_details: Some(audit(r)?),
            });
        }
    }
    let assignees = sqlx::query(
        "SELECT processinstanceid, assignee FROM eg_wf_assignee_v2 WHERE processinstanceid = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    for r in &assignees {
        let owner: String = r.try_get("processinstanceid")?;
        let uuid: Option<String> = r.try_get("assignee")?;
        if let (Some(pi), Some(uuid)) = (by_id.get_mut(&owner), uuid) {
            pi.assignes.get_or_insert_with(Vec::new).push(UserInfo {
                uuid: Some(uuid),
                ..UserInfo::default()
            });
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

fn instance_from_row(r: &sqlx::postgres::PgRow) -> Result<ProcessInstance, sqlx::Error> {
    let assigner: Option<String> = r.try_get("assigner")?;
    let status: Option<String> = r.try_get("status")?;
    Ok(ProcessInstance {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenantid")?,
        business_service: r.try_get("businessservice")?,
        business_id: r.try_get("businessid")?,
        action: r.try_get("action")?,
        module_name: r.try_get("modulename")?,
        state: status.map(|uuid| State {
            uuid: Some(uuid),
            ..State::default()
        }),
        comment: r.try_get("comment")?,
        documents: None,
        assigner: assigner.map(|uuid| UserInfo {
            uuid: Some(uuid),
            ..UserInfo::default()
        }),
        assignes: None,
        next_actions: None,
        state_sla: r.try_get("statesla")?,
        businesss_service_sla: r.try_get("businessservicesla")?,
        previous_status: r.try_get("previousstatus")?,
        entity: None,
        audit_details: Some(audit(r)?),
        rating: r.try_get("rating")?,
        escalated: r.try_get("escalated")?,
    })
}

/// The latest persisted instance id of an application (by `lastmodifiedtime`, then id).
pub async fn latest_instance_id(
    pool: &PgPool,
    tenant: &str,
    business_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM eg_wf_processinstance_v2 WHERE tenantid = $1 AND businessid = $2
         ORDER BY lastmodifiedtime DESC, createdtime DESC, id DESC LIMIT 1",
    )
    .bind(tenant)
    .bind(business_id)
    .fetch_optional(pool)
    .await
}

/// True when this instance row exists.
pub async fn instance_exists(pool: &PgPool, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM eg_wf_processinstance_v2 WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

/// The head row of an application: the version it is at and the last accepted instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Accepted transitions so far.
    pub version: i64,
    /// The last accepted instance.
    pub instance_id: String,
    /// Where that instance was published.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

/// Reads the head row.
pub async fn head(
    pool: &PgPool,
    tenant: &str,
    business_id: &str,
) -> Result<Option<Head>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT version, instanceid, topic, kafkapartition, kafkaoffset FROM eg_wf_transition_head_v2
         WHERE tenantid = $1 AND businessid = $2",
    )
    .bind(tenant)
    .bind(business_id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(Head {
            version: r.try_get("version")?,
            instance_id: r.try_get("instanceid")?,
            topic: r.try_get("topic")?,
            partition: r.try_get("kafkapartition")?,
            offset: r.try_get("kafkaoffset")?,
        })
    })
    .transpose()
}

/// Claims version `expected + 1` for an application inside `tx`: true when no other
/// transition claimed it first. The row stays locked until `tx` ends, so a concurrent claim
/// waits and then fails the version check.
pub async fn claim(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    tenant: &str,
    business_id: &str,
    expected: Option<i64>,
    instance_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = match expected {
        Some(version) => {
            sqlx::query(
                "UPDATE eg_wf_transition_head_v2 SET version = version + 1, instanceid = $4,
                   topic = '', kafkapartition = -1, kafkaoffset = -1, lastmodifiedtime = $5
                 WHERE tenantid = $1 AND businessid = $2 AND version = $3",
            )
            .bind(tenant)
            .bind(business_id)
            .bind(version)
            .bind(instance_id)
            .bind(now)
            .execute(&mut **tx)
            .await?
        }
        None => {
            sqlx::query(
                "INSERT INTO eg_wf_transition_head_v2
                   (tenantid, businessid, version, instanceid, topic, kafkapartition, kafkaoffset, lastmodifiedtime)
                 VALUES ($1, $2, 1, $3, '', -1, -1, $4) ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(business_id)
            .bind(instance_id)
            .bind(now)
            .execute(&mut **tx)
            .await?
        }
    };
    Ok(result.rows_affected() == 1)
}

/// Records where the claimed instance was published.
pub async fn record_delivery(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    tenant: &str,
    business_id: &str,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE eg_wf_transition_head_v2 SET topic = $3, kafkapartition = $4, kafkaoffset = $5
         WHERE tenantid = $1 AND businessid = $2",
    )
    .bind(tenant)
    .bind(business_id)
    .bind(topic)
    .bind(partition)
    .bind(offset)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Process-instance search filters (already validated and bounded).
#[derive(Debug, Clone, Default)]
pub struct InstanceFilter {
    /// Tenant (mandatory).
    pub tenant_id: String,
    /// Instance ids.
    pub ids: Vec<String>,
    /// Business ids (substring match when `fuzzy`).
    pub business_ids: Vec<String>,
    /// Substring match on business ids (upstream default).
    pub fuzzy: bool,
    /// State uuids.
    pub status: Vec<String>,
    /// Instances assigned to this user uuid.
    pub assignee: Option<String>,
    /// All instances instead of the latest per application.
    pub history: bool,
    /// Business service code.
    pub business_service: Option<String>,
    /// Module name.
    pub module_name: Option<String>,
    /// Inbox mode: `(tenant, state uuid)` pairs and tenant-independent state uuids the user
    /// can act on; matches are OR-ed with "assigned to `assignee`".
    pub inbox: Option<Inbox>,
    /// Only instances whose last transition is at most this old (ms) — `_nearingslacount`.
    pub max_age_ms: Option<(i64, i64)>,
    /// Offset.
    pub offset: i64,
    /// Limit.
    pub limit: i64,
}

/// Inbox-mode status sets.
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    /// `tenant:stateuuid` entries.
    pub tenant_statuses: Vec<String>,
    /// State uuids valid for any tenant (state-level roles).
    pub statuses: Vec<String>,
}

fn push_filter(q: &mut QueryBuilder<'_, Postgres>, f: &InstanceFilter) {
    q.push(" FROM eg_wf_processinstance_v2 pi WHERE pi.tenantid = ");
    q.push_bind(f.tenant_id.clone());
    if !f.history {
        // Latest instance per application within the tenant.
        q.push(
            " AND pi.id = (SELECT p2.id FROM eg_wf_processinstance_v2 p2 WHERE p2.tenantid = pi.tenantid
               AND p2.businessid = pi.businessid ORDER BY p2.lastmodifiedtime DESC, p2.createdtime DESC, p2.id DESC LIMIT 1)",
        );
    }
    if !f.ids.is_empty() {
        q.push(" AND pi.id = ANY(")
            .push_bind(f.ids.clone())
            .push(")");
    }
    if !f.business_ids.is_empty() {
        if f.fuzzy {
            let patterns: Vec<String> = f
                .business_ids
                .iter()
                .map(|id| format!("%{}%", escape_like(id)))
                .collect();
            q.push(" AND pi.businessid LIKE ANY(")
                .push_bind(patterns)
                .push(")");
        } else {
            q.push(" AND pi.businessid = ANY(")
                .push_bind(f.business_ids.clone())
                .push(")");
        }
    }
    if !f.status.is_empty() && f.inbox.is_none() {
        q.push(" AND pi.status = ANY(")
            .push_bind(f.status.clone())
            .push(")");
    }
    match (&f.inbox, &f.assignee) {
        (Some(inbox), assignee) => {
            q.push(
                " AND (pi.id IN (SELECT processinstanceid FROM eg_wf_assignee_v2 WHERE assignee = ",
            )
            .push_bind(assignee.clone().unwrap_or_default())
            .push(") OR (pi.tenantid || ':' || pi.status) = ANY(")
            .push_bind(inbox.tenant_statuses.clone())
            .push(") OR pi.status = ANY(")
            .push_bind(inbox.statuses.clone())
            .push("))");
        }
        (None, Some(assignee)) => {
            q.push(
                " AND pi.id IN (SELECT processinstanceid FROM eg_wf_assignee_v2 WHERE assignee = ",
            )
            .push_bind(assignee.clone())
            .push(")");
        }
        (None, None) => {}
    }
    if let Some(bs) = &f.business_service {
        q.push(" AND pi.businessservice = ").push_bind(bs.clone());
    }
    if let Some(m) = &f.module_name {
        q.push(" AND pi.modulename = ").push_bind(m.clone());
    }
    if let Some((now, max_age)) = f.max_age_ms {
        q.push(" AND (")
            .push_bind(now)
            .push(" - pi.lastmodifiedtime) BETWEEN 0 AND ")
            .push_bind(max_age);
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Ids of the matching instances, newest first, paginated.
pub async fn search_ids(pool: &PgPool, f: &InstanceFilter) -> Result<Vec<String>, sqlx::Error> {
    let mut q = QueryBuilder::new("SELECT pi.id");
    push_filter(&mut q, f);
    q.push(" ORDER BY pi.lastmodifiedtime DESC, pi.id DESC OFFSET ")
        .push_bind(f.offset)
        .push(" LIMIT ")
        .push_bind(f.limit);
    q.build_query_scalar().fetch_all(pool).await
}

/// Number of matching instances (no pagination).
pub async fn count(pool: &PgPool, f: &InstanceFilter) -> Result<i64, sqlx::Error> {
    // pi.id is the key and the filter joins nothing: count(*) counts distinct instances.
    let mut q = QueryBuilder::new("SELECT count(*)");
    push_filter(&mut q, f);
    q.build_query_scalar().fetch_one(pool).await
}

/// Matching instances grouped by status (`_statuscount`).
pub async fn status_count(
    pool: &PgPool,
    f: &InstanceFilter,
) -> Result<Vec<StatusCount>, sqlx::Error> {
    let mut q = QueryBuilder::new(
        "SELECT count(DISTINCT cq.id) AS count, st.applicationstatus, cq.businessservice, cq.status AS statusid
         FROM (SELECT pi.id, pi.businessservice, pi.status",
    );
    push_filter(&mut q, f);
    q.push(
        ") cq JOIN eg_wf_state_v2 st ON st.uuid = cq.status
         GROUP BY st.applicationstatus, cq.businessservice, cq.status ORDER BY st.applicationstatus",
    );
    let rows = q.build().fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            Ok(StatusCount {
                count: r.try_get("count")?,
                applicationstatus: r.try_get("applicationstatus")?,
                businessservice: r.try_get("businessservice")?,
                statusid: r.try_get("statusid")?,
            })
        })
        .collect()
}

/// Applications whose latest instance is escalated and whose previous instance was assigned
/// to `user` (upstream's `escalate/_search` rule), newest first.
pub async fn escalated_business_ids(
    pool: &PgPool,
    tenant: &str,
    business_ids: &[String],
    business_service: Option<&str>,
    user: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH ranked AS (
           SELECT pi.id, pi.businessid, pi.escalated, pi.lastmodifiedtime,
                  row_number() OVER (PARTITION BY pi.businessid ORDER BY pi.lastmodifiedtime DESC, pi.createdtime DESC, pi.id DESC) AS rn
           FROM eg_wf_processinstance_v2 pi
           WHERE pi.tenantid = $1
             AND (cardinality($2::text[]) = 0 OR pi.businessid = ANY($2))
             AND ($3::text IS NULL OR pi.businessservice = $3))
         SELECT latest.businessid FROM ranked latest
         JOIN ranked prev ON prev.businessid = latest.businessid AND prev.rn = 2
         WHERE latest.rn = 1 AND latest.escalated
           AND EXISTS (SELECT 1 FROM eg_wf_assignee_v2 a WHERE a.processinstanceid = prev.id AND a.assignee = $4)
         ORDER BY latest.lastmodifiedtime DESC",
    )
    .bind(tenant)
    .bind(business_ids)
    .bind(business_service)
    .bind(user)
    .fetch_all(pool)
    .await
}

/// Applications of `business_service` in `tenant` whose latest instance is in `state_uuid`
/// and has overstayed: `now − lastmodifiedtime − stateSla > state_exceeded_by` and/or the same
/// with the business SLA (§4.6; upstream measures from `createdtime` of the latest row, which
/// is the time of the last transition except after non-state-changing actions).
pub async fn overdue_business_ids(
    pool: &PgPool,
    tenant: &str,
    business_service: &str,
    state_uuid: &str,
    now: i64,
    state_exceeded_by: Option<i64>,
    business_exceeded_by: Option<i64>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT wf.businessid FROM (
           SELECT pi.*, row_number() OVER (PARTITION BY pi.businessid ORDER BY pi.lastmodifiedtime DESC, pi.createdtime DESC, pi.id DESC) AS rn
           FROM eg_wf_processinstance_v2 pi WHERE pi.businessservice = $1 AND pi.tenantid = $2) wf
         WHERE wf.rn = 1 AND wf.status = $3
           AND ($5::bigint IS NULL OR $4 - wf.lastmodifiedtime - wf.statesla > $5)
           AND ($6::bigint IS NULL OR $4 - wf.lastmodifiedtime - wf.businessservicesla > $6)
         ORDER BY wf.businessid",
    )
    .bind(business_service)
    .bind(tenant)
    .bind(state_uuid)
    .bind(now)
    .bind(state_exceeded_by)
    .bind(business_exceeded_by)
    .fetch_all(pool)
    .await
}
