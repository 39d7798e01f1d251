//! Id generation against the real Postgres (one fresh database per test).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use digit_mdms::EmbeddedMdms;
use digit_store::idgen::codes;
use digit_store::idgen::format;
use digit_store::testing::TestDb;
use digit_store::{
    mdms_masters, FixedClock, IdFormatDef, IdGenerator, IdRequest, IdgenError, IdgenMasters,
    IdgenSettings, MastersError, IDGEN_MIGRATOR,
};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;

/// The embedded MDMS over documents shaped like the MDMS files
/// (`<tenant>/common-masters/IdFormat.json`, `<tenant>/tenant/tenants.json`).
fn masters() -> Arc<dyn IdgenMasters> {
    let mdms = EmbeddedMdms::from_documents([
        json!({"tenantId": "pg", "moduleName": "common-masters", "IdFormat": [
            {"idname": "pgr.servicerequestid", "format": "PG-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]"},
            {"idname": "mp.id", "format": "MP/[CITY.CODE]/[fy:yyyy-yy]/[SEQ_EGOV_COMMON]"},
            {"idname": "ws.app", "format": "[city]-[SEQ_WS_APP_[TENANT_ID]]"},
            {"idname": "padded", "format": "P-[SEQ_PADDED]", "padding": 3},
            {"idname": "new.seq", "format": "N-[SEQ_BRAND_NEW]"}
        ]}),
        json!({"tenantId": "pb", "moduleName": "common-masters", "IdFormat": [
            {"idname": "ws.app", "format": "[city]-[SEQ_WS_APP_[TENANT_ID]]"}
        ]}),
        json!({"tenantId": "pg", "moduleName": "tenant", "tenants": [
            {"code": "pg", "name": "Punjab", "city": {"code": "PG"}},
            {"code": "pg.citya", "name": "City A", "city": {"code": "CITYA", "name": "City A"}}
        ]}),
        json!({"tenantId": "pb", "moduleName": "tenant", "tenants": [
            {"code": "pb.amritsar", "city": {"code": "AMR"}}
        ]}),
    ]);
    mdms_masters(Arc::new(mdms))
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn generator(db: &TestDb, settings: IdgenSettings, now: DateTime<Utc>) -> IdGenerator {
    IdGenerator::new(db.pool().clone(), masters(), settings).with_clock(Arc::new(FixedClock(now)))
}

async fn db() -> TestDb {
    TestDb::migrated(&[&IDGEN_MIGRATOR]).await.unwrap()
}

async fn create_sequence(db: &TestDb, name: &str) {
    sqlx::query(&format!("CREATE SEQUENCE {name}"))
        .execute(db.pool())
        .await
        .unwrap();
}

async fn sequence_exists(db: &TestDb, name: &str) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relkind = 'S' AND relname = $1)",
    )
    .bind(name)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

fn code(r: Result<Vec<String>, IdgenError>) -> &'static str {
    r.unwrap_err().code()
}

#[tokio::test]
async fn mdms_format_with_date_and_sequence() {
    let db = db().await;
    create_sequence(&db, "SEQ_EG_PGR_ID").await;
    // 20:00 UTC on 21 Aug is 01:30 IST on 22 Aug: the date comes from Asia/Kolkata.
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 21, 20, 0));
    let ids = g
        .generate(
            "pg.citya",
            Some("pgr.servicerequestid"),
            Some("IGNORED-[SEQ_X]"),
            3,
        )
        .await
        .unwrap();
    assert_eq!(
        ids,
        vec![
            "PG-PGR-2026-08-22-000001",
            "PG-PGR-2026-08-22-000002",
            "PG-PGR-2026-08-22-000003"
        ]
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn every_current_date_element() {
    let db = db().await;
    let g = generator(&db, IdgenSettings::default(), utc(2026, 1, 5, 3, 4));
    let one = |f: &'static str| {
        let g = &g;
        async move { g.generate("pg", None, Some(f), 1).await.unwrap().remove(0) }
    };
    // 03:04 UTC is 08:34 IST.
    assert_eq!(one("[cy:yyyy-MM-dd]").await, "2026-01-05");
    assert_eq!(one("[cy:yyyy]").await, "2026");
    assert_eq!(one("[cy:yy]").await, "26");
    assert_eq!(one("[cy:MM]").await, "01");
    assert_eq!(one("[cy:dd]").await, "05");
    assert_eq!(one("[cy:HH]").await, "08");
    assert_eq!(one("[cy:mm]").await, "34");
    assert_eq!(one("[cy:ss]").await, "00");
    assert_eq!(one("[CY:ddMMyyyy'T'HHmm]").await, "05012026T0834");
    assert_eq!(one("X-[cy: yyyy/MM ]-Y").await, "X-2026/01-Y");

    let utc_settings = IdgenSettings {
        timezone: chrono_tz::UTC,
        ..IdgenSettings::default()
    };
    let g = generator(&db, utc_settings, utc(2026, 1, 5, 3, 4));
    assert_eq!(
        g.generate("pg", None, Some("[cy:HH:mm]"), 1).await.unwrap(),
        vec!["03:04"]
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn financial_year_boundaries() {
    let db = db().await;
    let fy = |now: DateTime<Utc>, f: &'static str| {
        let g = generator(&db, IdgenSettings::default(), now);
        async move { g.generate("pg", None, Some(f), 1).await.unwrap().remove(0) }
    };
    // 31 March 23:30 IST (18:00 UTC): still FY 2025-26.
    assert_eq!(fy(utc(2026, 3, 31, 18, 0), "[fy:yyyy-yy]").await, "2025-26");
    // 1 April 00:30 IST (31 March 19:00 UTC): FY 2026-27.
    assert_eq!(fy(utc(2026, 3, 31, 19, 0), "[fy:yyyy-yy]").await, "2026-27");
    assert_eq!(
        fy(utc(2026, 1, 15, 0, 0), "[fy:yyyy-yyyy]").await,
        "2025-2026"
    );
    assert_eq!(fy(utc(2026, 12, 1, 0, 0), "[fy:yy-yy]").await, "26-27");
    assert_eq!(fy(utc(2026, 4, 1, 0, 0), "[FY:yyyy-yy]").await, "2026-27");
    // Upstream's quirk: a single part leaves the second at 0.
    assert_eq!(fy(utc(2026, 5, 1, 0, 0), "[fy:yyyy]").await, "2026-0");
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn city_code_and_financial_year_from_mdms() {
    let db = db().await;
    create_sequence(&db, "seq_egov_common").await;
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    assert_eq!(
        g.generate("pg.citya", Some("mp.id"), None, 2)
            .await
            .unwrap(),
        vec!["MP/CITYA/2026-27/000001", "MP/CITYA/2026-27/000002"]
    );
    assert_eq!(
        g.generate(
            "pg.citya",
            None,
            Some("[city]|[CITY.CODE]|[City_anything]"),
            1
        )
        .await
        .unwrap(),
        vec!["CITYA|CITYA|CITYA"]
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn nested_tenant_substitution_creates_the_tenant_sequence() {
    let db = db().await;
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    assert!(!sequence_exists(&db, "seq_ws_app_pb_amritsar").await);
    let ids = g
        .generate("pb.amritsar", Some("ws.app"), None, 2)
        .await
        .unwrap();
    assert_eq!(ids, vec!["AMR-000001", "AMR-000002"]);
    assert!(sequence_exists(&db, "seq_ws_app_pb_amritsar").await);

    let ids = g
        .generate(
            "pb.amritsar",
            None,
            Some("[tenantid]/[tenant_id]/[TENANT_ID]"),
            1,
        )
        .await
        .unwrap();
    assert_eq!(ids, vec!["pb.amritsar/pb_amritsar/PB_AMRITSAR"]);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn random_digits_have_the_token_length() {
    let db = db().await;
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    let ids = g
        .generate("pg", None, Some("R-[d{4}]-[abcd]-[x{7}]-[d{0}]."), 50)
        .await
        .unwrap();
    for id in &ids {
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(parts[0], "R");
        assert_eq!(parts[1].len(), 4, "{id}");
        assert_eq!(parts[2].len(), 2, "default length 2: {id}");
        assert_eq!(parts[3].len(), 7, "{id}");
        assert_eq!(parts[4], ".", "{id}");
        assert!(parts[1..4]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_digit())));
    }
    // The same random token twice in one id gets one value (upstream's replace-all).
    let ids = g
        .generate("pg", None, Some("[d{6}]=[d{6}]"), 20)
        .await
        .unwrap();
    for id in ids {
        let (a, b) = id.split_once('=').unwrap();
        assert_eq!(a, b);
    }
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn sequence_numbers_are_padded_and_keep_long_values() {
    let db = db().await;
    create_sequence(&db, "seq_long").await;
    sqlx::query("SELECT setval('seq_long', 1234566)")
        .execute(db.pool())
        .await
        .unwrap();
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    assert_eq!(
        g.generate("pg", None, Some("L-[SEQ_LONG]"), 2)
            .await
            .unwrap(),
        vec!["L-1234567", "L-1234568"]
    );
    // Padding from the MDMS entry (newer upstream's `padding`).
    assert_eq!(
        g.generate("pg", Some("padded"), None, 1).await.unwrap(),
        vec!["P-001"]
    );
    // One sequence token used twice in a format gives the same number.
    assert_eq!(
        g.generate("pg", None, Some("[SEQ_LONG]/[seq_long]/[SEQ_LONG]"), 1)
            .await
            .unwrap()
            .remove(0)
            .split('/')
            .collect::<Vec<_>>()
            .len(),
        3
    );
    assert!(g
        .generate("pg", None, Some("[SEQ_LONG]"), 0)
        .await
        .unwrap()
        .is_empty());
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn ten_thousand_ids_from_sixteen_tasks_are_unique() {
    let db = db().await;
    let g = Arc::new(generator(
        &db,
        IdgenSettings::default(),
        utc(2026, 8, 1, 0, 0),
    ));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let g = Arc::clone(&g);
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..25 {
                ids.extend(
                    g.generate("pg.citya", Some("pgr.servicerequestid"), None, 25)
                        .await
                        .unwrap(),
                );
            }
            ids
        }));
    }
    let mut all = HashSet::new();
    let mut total = 0;
    for t in tasks {
        for id in t.await.unwrap() {
            total += 1;
            all.insert(id);
        }
    }
    assert_eq!(total, 10_000);
    assert_eq!(all.len(), 10_000, "duplicate ids");
    assert!(all.contains("PG-PGR-2026-08-01-010000"));
    drop(g);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn sequence_auto_creation_on_and_off() {
    let db = db().await;
    let now = utc(2026, 8, 1, 0, 0);

    // Format from MDMS, auto-creation off → SEQ_DOES_NOT_EXIST.
    let off = IdgenSettings {
        autocreate_new_seq: false,
        ..IdgenSettings::default()
    };
    let g = generator(&db, off, now);
    let err = g
        .generate("pg", Some("new.seq"), None, 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), codes::SEQ_DOES_NOT_EXIST);
    assert_eq!(err.to_string(), "auto creation of seq is not allowed in DB");
    assert!(!sequence_exists(&db, "seq_brand_new").await);

    // Format from the request: never auto-created, even when the switch is on.
    let g = generator(&db, IdgenSettings::default(), now);
    assert_eq!(
        code(g.generate("pg", None, Some("N-[SEQ_BRAND_NEW]"), 1).await),
        codes::SEQ_DOES_NOT_EXIST
    );
    // An idName MDMS does not know falls back to the request format, still no creation.
    assert_eq!(
        code(
            g.generate("pg", Some("unknown"), Some("N-[SEQ_BRAND_NEW]"), 1)
                .await
        ),
        codes::SEQ_DOES_NOT_EXIST
    );
    assert!(!sequence_exists(&db, "seq_brand_new").await);

    // Format from MDMS, switch on → created, numbering starts at 1.
    assert_eq!(
        g.generate("pg", Some("new.seq"), None, 2).await.unwrap(),
        vec!["N-000001", "N-000002"]
    );
    assert!(sequence_exists(&db, "seq_brand_new").await);
    // Now it exists, request formats may use it too.
    assert_eq!(
        g.generate("pg", None, Some("N-[SEQ_BRAND_NEW]"), 1)
            .await
            .unwrap(),
        vec!["N-000003"]
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn concurrent_auto_creation_of_one_sequence() {
    let db = db().await;
    let g = Arc::new(generator(
        &db,
        IdgenSettings::default(),
        utc(2026, 8, 1, 0, 0),
    ));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let g = Arc::clone(&g);
        tasks.push(tokio::spawn(async move {
            g.generate("pg", Some("new.seq"), None, 5).await
        }));
    }
    let mut all = HashSet::new();
    for t in tasks {
        all.extend(t.await.unwrap().unwrap());
    }
    assert_eq!(all.len(), 40);
    drop(g);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn formats_from_the_id_generator_table() {
    let db = db().await;
    sqlx::query(
        "INSERT INTO id_generator (idname, tenantid, format, sequencenumber) VALUES \
         ('tl.num', 'pg', 'STATE-[SEQ_TL]', 1), ('tl.num', 'pg.citya', 'CITYA-[SEQ_TL]', 1), \
         ('other', 'zz', 'ANY-[SEQ_TL]', 1)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let settings = IdgenSettings {
        idformat_from_mdms: false,
        ..IdgenSettings::default()
    };
    let g = generator(&db, settings, utc(2026, 8, 1, 0, 0));
    // Exact tenant; the sequence is auto-created because the format came from the table.
    assert_eq!(
        g.generate("pg.citya", Some("tl.num"), None, 1)
            .await
            .unwrap(),
        vec!["CITYA-000001"]
    );
    // Ancestor tenant.
    assert_eq!(
        g.generate("pg.cityb", Some("tl.num"), None, 1)
            .await
            .unwrap(),
        vec!["STATE-000002"]
    );
    // Any tenant (upstream's idname-only fallback).
    assert_eq!(
        g.generate("pg.cityb", Some("other"), None, 1)
            .await
            .unwrap(),
        vec!["ANY-000003"]
    );
    // MDMS formats are not consulted in this mode.
    assert_eq!(
        code(
            g.generate("pg", Some("pgr.servicerequestid"), None, 1)
                .await
        ),
        codes::ID_NOT_FOUND
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn error_id_not_found() {
    let db = db().await;
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    let err = g
        .generate("pg", Some("unknown.name"), None, 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), codes::ID_NOT_FOUND);
    assert_eq!(
        err.to_string(),
        "No Format is available in the MDMS for the given name and tenant"
    );
    assert_eq!(
        code(g.generate("pg", None, None, 1).await),
        codes::ID_NOT_FOUND
    );
    assert_eq!(
        code(g.generate("pg", Some(""), Some(""), 1).await),
        codes::ID_NOT_FOUND
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn error_blank_format() {
    let db = db().await;
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    let err = g.generate("pg", None, Some("   "), 1).await.unwrap_err();
    assert_eq!(err.code(), codes::IDGEN_FORMAT_ERROR);
    assert_eq!(err.to_string(), "Blank format is not allowed");
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn error_invalid_format() {
    let db = db().await;
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    for f in [
        "X-[ab]",
        "X-[]",
        "[cy:yyyy-qq]",
        "[fy:yyyy-MMM]",
        "[cy:'open]",
        "[d{2,3}]",
    ] {
        assert_eq!(
            code(g.generate("pg", None, Some(f), 1).await),
            codes::INVALID_FORMAT,
            "{f}"
        );
    }
    let err = g
        .generate("pg", None, Some("[fy:yyyy-MMM]"), 1)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Error while generating financial year in provided format. Given format invalid."
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn error_invalid_regex() {
    let db = db().await;
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    let err = g
        .generate("pg", None, Some("X-[abc(]"), 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), codes::INVALID_REGEX);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn error_invalid_sequence_name_before_any_sql() {
    let db = db().await;
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    for f in [
        "[SEQ-X]",
        "[seq_x');DROP TABLE id_generator;--]",
        "[seq\"x]",
        "[seq x]",
        "[SEQ_X_[foo]]",
    ] {
        assert_eq!(
            code(g.generate("pg", None, Some(f), 1).await),
            codes::INVALID_SEQUENCE_NAME,
            "{f}"
        );
    }
    let table_still_there: bool =
        sqlx::query_scalar("SELECT to_regclass('id_generator') IS NOT NULL")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(table_still_there);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn error_seq_does_not_exist() {
    let db = db().await;
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    assert_eq!(
        code(g.generate("pg", None, Some("[SEQ_MISSING]"), 1).await),
        codes::SEQ_DOES_NOT_EXIST
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn error_creating_seq() {
    let db = db().await;
    // A session whose search_path names no existing schema: nextval finds nothing (42P01) and
    // CREATE SEQUENCE has no schema to create in.
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(
            db.connect_options()
                .options([("search_path", "no_such_schema")]),
        )
        .await
        .unwrap();
    let g = IdGenerator::new(pool.clone(), masters(), IdgenSettings::default());
    let err = g
        .generate("pg", Some("new.seq"), None, 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), codes::ERROR_CREATING_SEQ);
    assert_eq!(
        err.to_string(),
        "Error occurred while auto creating seq in DB"
    );
    pool.close().await;
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn error_seq_number() {
    let db = db().await;
    // A relation that is not a sequence.
    sqlx::query("CREATE TABLE seq_is_a_table (id int)")
        .execute(db.pool())
        .await
        .unwrap();
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    assert_eq!(
        code(g.generate("pg", None, Some("[SEQ_IS_A_TABLE]"), 1).await),
        codes::SEQ_NUMBER_ERROR
    );
    // An exhausted sequence.
    sqlx::query("CREATE SEQUENCE seq_tiny MAXVALUE 2")
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(
        code(g.generate("pg", None, Some("[SEQ_TINY]"), 3).await),
        codes::SEQ_NUMBER_ERROR
    );
    db.cleanup().await.unwrap();
}

/// Master data that cannot be read.
struct BrokenMasters;

#[async_trait]
impl IdgenMasters for BrokenMasters {
    async fn id_format(&self, _: &str, _: &str) -> Result<Option<IdFormatDef>, MastersError> {
        Err(MastersError("MDMS unreachable".into()))
    }
    async fn city_code(&self, _: &str) -> Result<Option<String>, MastersError> {
        Err(MastersError("MDMS unreachable".into()))
    }
}

#[tokio::test]
async fn error_parsing_error() {
    let db = db().await;
    let g = generator(&db, IdgenSettings::default(), utc(2026, 8, 1, 0, 0));
    // Tenant without a city in MDMS.
    let err = g
        .generate("pg.unknown", None, Some("[city]"), 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), codes::PARSING_ERROR);
    assert_eq!(err.code(), "PARSING ERROR");
    assert_eq!(err.to_string(), "Failed to get citycode from MDMS");

    // MDMS down.
    let g = IdGenerator::new(
        db.pool().clone(),
        Arc::new(BrokenMasters),
        IdgenSettings::default(),
    );
    let err = g
        .generate("pg", None, Some("[CITY.CODE]"), 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), codes::PARSING_ERROR);
    let err = g
        .generate("pg", Some("pgr.servicerequestid"), Some("X"), 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), codes::PARSING_ERROR);
    assert_eq!(err.to_string(), "Failed to get citycode/formatid from MDMS");
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn error_invalid_id_count() {
    let db = db().await;
    let settings = IdgenSettings {
        max_count: 100,
        ..IdgenSettings::default()
    };
    let g = generator(&db, settings, utc(2026, 8, 1, 0, 0));
    assert_eq!(
        code(g.generate("pg", None, Some("X"), 101).await),
        codes::INVALID_ID_COUNT
    );
    assert_eq!(
        g.generate("pg", None, Some("X"), 100).await.unwrap().len(),
        100
    );
    let request = |count| IdRequest {
        tenant_id: "pg".into(),
        id_name: None,
        format: Some("X".into()),
        count,
    };
    assert_eq!(
        g.generate_all(&[request(60), request(41)])
            .await
            .unwrap_err()
            .code(),
        codes::INVALID_ID_COUNT
    );
    assert_eq!(
        g.generate_all(&[request(60), request(40)])
            .await
            .unwrap()
            .len(),
        100
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn error_too_many_id_requests() {
    let db = db().await;
    let settings = IdgenSettings {
        max_id_requests: 3,
        ..IdgenSettings::default()
    };
    let g = generator(&db, settings, utc(2026, 8, 1, 0, 0));
    let request = IdRequest {
        tenant_id: "pg".into(),
        id_name: None,
        format: Some("X-[d{3}]".into()),
        count: 1,
    };
    let err = g.generate_all(&vec![request.clone(); 4]).await.unwrap_err();
    assert_eq!(err.code(), codes::TOO_MANY_ID_REQUESTS);
    assert_eq!(g.generate_all(&vec![request; 3]).await.unwrap().len(), 3);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn error_query_execution() {
    // No migrations: the id_generator table is missing.
    let db = TestDb::new().await.unwrap();
    let settings = IdgenSettings {
        idformat_from_mdms: false,
        ..IdgenSettings::default()
    };
    let g = generator(&db, settings, utc(2026, 8, 1, 0, 0));
    let err = g.generate("pg", Some("tl.num"), None, 1).await.unwrap_err();
    assert_eq!(err.code(), codes::QUERY_EXECUTION_ERROR);
    assert_eq!(err.to_string(), "Database operation failed");
    db.cleanup().await.unwrap();
}

#[test]
fn settings_from_environment_names() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let s = IdgenSettings::from_lookup(vars(&[])).unwrap();
    assert_eq!(s, IdgenSettings::default());
    assert!(s.idformat_from_mdms && s.autocreate_new_seq);
    assert_eq!(s.timezone, chrono_tz::Asia::Kolkata);
    assert_eq!(s.max_count, 10_000);

    let s = IdgenSettings::from_lookup(vars(&[
        ("IDFORMAT_FROM_MDMS", "false"),
        ("AUTOCREATE_NEW_SEQ", "false"),
        ("APP_TIMEZONE", "UTC"),
        ("IDGEN_MAX_COUNT", "50"),
        ("IDGEN_MAX_ID_REQUESTS", "5"),
    ]))
    .unwrap();
    assert!(!s.idformat_from_mdms && !s.autocreate_new_seq);
    assert_eq!(s.timezone, chrono_tz::UTC);
    assert_eq!((s.max_count, s.max_id_requests), (50, 5));

    // ID_TIMEZONE wins over APP_TIMEZONE; upstream's default `IST` is understood.
    let s = IdgenSettings::from_lookup(vars(&[("ID_TIMEZONE", "IST"), ("APP_TIMEZONE", "UTC")]))
        .unwrap();
    assert_eq!(s.timezone, chrono_tz::Asia::Kolkata);
    assert!(IdgenSettings::from_lookup(vars(&[("ID_TIMEZONE", "Mars/Olympus")])).is_err());
    assert!(IdgenSettings::from_lookup(vars(&[("AUTOCREATE_NEW_SEQ", "sometimes")])).is_err());
}

/// Every id format shipped in `configs/mdms` parses, and every tenant with a city has a code.
#[tokio::test]
async fn shipped_mdms_id_formats_parse() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/mdms");
    if !root.is_dir() {
        eprintln!("configs/mdms not present; nothing to check");
        return;
    }
    let embedded = EmbeddedMdms::load(&root).unwrap();
    let tenants: Vec<String> = embedded.tenants().map(str::to_owned).collect();
    let mdms: Arc<dyn digit_mdms::MdmsSource> = Arc::new(embedded);
    for tenant in tenants {
        for entry in mdms
            .master(&tenant, "common-masters", "IdFormat", None)
            .await
            .unwrap()
        {
            let f = entry["format"].as_str().unwrap_or_default();
            assert!(
                format::parse(f, &tenant).is_ok(),
                "{tenant}: IdFormat {entry} does not parse"
            );
        }
    }
}
