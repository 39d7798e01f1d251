//! The embedded user table on a real Postgres: seeding from `configs/users` and lookups.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_core::{RequestInfo, UserType};
use digit_store::TestDb;
use digit_user::{EmbeddedUsers, UserDirectory, USER_MIGRATOR};
use std::path::Path;

#[tokio::test]
async fn seeded_users_are_found_by_uuid_with_type_and_roles() {
    let db = TestDb::migrated(&[&USER_MIGRATOR]).await.unwrap();
    let users = EmbeddedUsers::new(db.pool().clone());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/users");
    let n = users.seed_from_dir(&dir).await.unwrap();
    assert!(n >= 10, "{n}");
    // Seeding twice is an upsert, not a duplicate.
    assert_eq!(users.seed_from_dir(&dir).await.unwrap(), n);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM eg_user")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(usize::try_from(count).unwrap(), n);

    let found = users
        .search_by_uuids(
            &RequestInfo::default(),
            &[
                "11111111-1111-4111-8111-000000000002".into(),
                "22222222-2222-4222-8222-000000000001".into(),
                "unknown".into(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    let lme = found
        .iter()
        .find(|u| u.user_name.as_deref() == Some("LME_CITYA"))
        .unwrap();
    assert_eq!(lme.user_type, Some(UserType::Employee));
    assert_eq!(lme.roles[0].code, "PGR_LME");
    assert_eq!(lme.roles[0].tenant_id.as_deref(), Some("pg.citya"));
    let citizen = found
        .iter()
        .find(|u| u.user_type == Some(UserType::Citizen))
        .unwrap();
    assert_eq!(citizen.mobile_number.as_deref(), Some("9999900001"));
    assert!(users
        .search_by_uuids(&RequestInfo::default(), &[])
        .await
        .unwrap()
        .is_empty());
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_malformed_seed_file_is_an_error_naming_the_file() {
    let db = TestDb::migrated(&[&USER_MIGRATOR]).await.unwrap();
    let users = EmbeddedUsers::new(db.pool().clone());
    let dir = std::env::temp_dir().join(format!("users-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.json"), "{\"users\": [{\"uuid\": 5}]}").unwrap();
    let err = users.seed_from_dir(&dir).await.unwrap_err();
    assert!(err.to_string().contains("bad.json"), "{err}");
    // A missing folder is nothing to seed.
    assert_eq!(users.seed_from_dir(&dir.join("nope")).await.unwrap(), 0);
    db.cleanup().await.unwrap();
}
