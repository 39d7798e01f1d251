//! Pool, database creation, migrations and the test harness against the real Postgres.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::str::FromStr;
use std::time::Duration;

use digit_store::error::codes;
use digit_store::testing::TestDb;
use digit_store::{connect, ensure_database_exists, run_migrations, DbSettings, IDGEN_MIGRATOR};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| ADMIN_URL.to_owned())
}

async fn database_exists(name: &str) -> bool {
    let mut conn = PgConnection::connect(&admin_url()).await.unwrap();
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn connect_with_settings_from_the_environment_names() {
    let db = TestDb::new().await.unwrap();
    let url = db.url().to_owned();
    let settings = DbSettings::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "DB_MAX_CONNECTIONS" => Some("3".into()),
        _ => None,
    })
    .unwrap();
    let pool = connect(&settings).await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    assert_eq!(pool.options().get_max_connections(), 3);
    pool.close().await;
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn connect_through_a_jdbc_url_with_separate_credentials() {
    let db = TestDb::new().await.unwrap();
    let name = db.name().to_owned();
    let settings = DbSettings::from_lookup(|var| match var {
        "SPRING_DATASOURCE_URL" => Some(format!("jdbc:postgresql://127.0.0.1:5432/{name}")),
        "SPRING_DATASOURCE_USERNAME" => Some("postgres".into()),
        "SPRING_DATASOURCE_PASSWORD" => Some("unused-with-trust-auth".into()),
        _ => None,
    })
    .unwrap();
    let pool = connect(&settings).await.unwrap();
    let current: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(current, name);
    pool.close().await;
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn connection_failure_is_bounded_and_coded() {
    let settings = DbSettings {
        url: "postgres://postgres@127.0.0.1:1/nothing".into(),
        connect_timeout: Duration::from_secs(2),
        ..DbSettings::default()
    };
    let err = connect(&settings).await.unwrap_err();
    assert_eq!(err.code(), codes::DB_CONNECTION_ERROR);
    let bad = DbSettings {
        url: "postgres://[::1".into(),
        ..DbSettings::default()
    };
    assert_eq!(
        connect(&bad).await.unwrap_err().code(),
        codes::DB_CONFIG_ERROR
    );
}

#[tokio::test]
async fn ensure_database_exists_creates_once() {
    let name = format!("ensure_{}", uuid::Uuid::new_v4().simple());
    let base = PgConnectOptions::from_str(&admin_url()).unwrap();
    let url = format!(
        "postgres://{}@{}:{}/{name}",
        base.get_username(),
        base.get_host(),
        base.get_port()
    );
    assert!(!database_exists(&name).await);
    assert!(ensure_database_exists(&url).await.unwrap());
    assert!(database_exists(&name).await);
    assert!(
        !ensure_database_exists(&url).await.unwrap(),
        "second call finds it"
    );

    let mut conn = PgConnection::connect(&admin_url()).await.unwrap();
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(!database_exists(&name).await);
}

/// Writes a migration set to a temporary folder (a stand-in for another service's set).
async fn other_service_migrator(files: &[(&str, &str)]) -> Migrator {
    let dir =
        std::env::temp_dir().join(format!("digit-store-mig-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, sql) in files {
        std::fs::write(dir.join(name), sql).unwrap();
    }
    let migrator = Migrator::new(dir.as_path()).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    migrator
}

#[tokio::test]
async fn migration_sets_share_one_database() {
    let db = TestDb::new().await.unwrap();
    let other = other_service_migrator(&[(
        "20240101000000_other_service.sql",
        "CREATE TABLE other_service_table (id int PRIMARY KEY);",
    )])
    .await;

    run_migrations(db.pool(), &[&other, &IDGEN_MIGRATOR])
        .await
        .unwrap();
    // Again, in the other order, as a second service starting later would.
    run_migrations(db.pool(), &[&IDGEN_MIGRATOR, &other])
        .await
        .unwrap();

    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(
        versions,
        vec![20170614121459, 20181030123635, 20240101000000]
    );

    // Why ignore_missing: a plain sqlx run refuses versions it does not know.
    let plain = IDGEN_MIGRATOR.run(db.pool()).await.unwrap_err();
    assert!(matches!(
        plain,
        MigrateError::VersionMissing(20240101000000)
    ));
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn failing_migration_is_coded() {
    let db = TestDb::new().await.unwrap();
    let broken = other_service_migrator(&[(
        "20240202000000_broken.sql",
        "CREATE TABLE broken (id int REFERENCES no_such_table(id));",
    )])
    .await;
    let err = run_migrations(db.pool(), &[&broken]).await.unwrap_err();
    assert_eq!(err.code(), codes::DB_MIGRATION_ERROR);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn idgen_migrations_create_the_upstream_table() {
    let db = TestDb::migrated(&[&IDGEN_MIGRATOR]).await.unwrap();
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_name = 'id_generator' ORDER BY ordinal_position",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec!["id", "idname", "tenantid", "format", "sequencenumber"]
    );
    let pk: Vec<String> = sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_index i \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
         WHERE i.indrelid = 'id_generator'::regclass AND i.indisprimary ORDER BY a.attname",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(pk, vec!["idname", "tenantid"]);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn test_databases_are_removed_by_cleanup_and_by_drop() {
    let db = TestDb::new().await.unwrap();
    let name = db.name().to_owned();
    assert!(name.starts_with("test_"));
    assert!(database_exists(&name).await);
    db.cleanup().await.unwrap();
    assert!(!database_exists(&name).await);

    let db = TestDb::new().await.unwrap();
    let name = db.name().to_owned();
    // An open connection does not keep it alive (DROP … WITH (FORCE)).
    let _held = db.pool().acquire().await.unwrap();
    drop(_held);
    drop(db);
    assert!(!database_exists(&name).await);
}
