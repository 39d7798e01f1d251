//! `PERSISTER_NOT_CONFIRMED`: a write the broker accepted but no persister confirms within
//! the await timeout is a 503 in the DIGIT envelope (the change is in Kafka; reads later).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_e2e::*;
use digit_kafka::Producer;
use digit_mdms::{EmbeddedMdms, MdmsSource};
use digit_store::commit::CommitWatcher;
use digit_store::TestDb;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_no_persister_confirms_is_persister_not_confirmed() {
    let db = TestDb::migrated(&[
        &persister::MIGRATOR,
        &sor_rates::MIGRATOR,
        &digit_store::IDGEN_MIGRATOR,
    ])
    .await
    .unwrap();
    let tag = tag();
    let kafka = kafka();
    let settings = sor_rates::service::SorSettings {
        save_sor_topic: format!("save-sor-{tag}"),
        await_timeout: Duration::from_millis(300),
        ..sor_rates::service::SorSettings::default()
    };
    digit_kafka::create_topics(&kafka, &[(settings.save_sor_topic.as_str(), 1)])
        .await
        .unwrap();
    let mdms: Arc<dyn MdmsSource> =
        Arc::new(EmbeddedMdms::load(repo_root().join("configs/mdms")).unwrap());
    // Watching the commits of a persister group that is not running.
    let watcher = CommitWatcher::start(db.pool().clone(), format!("e2e-sor-{tag}"))
        .await
        .unwrap();
    let service = sor_rates::service::SorService {
        pool: db.pool().clone(),
        mdms: mdms.clone(),
        idgen: Arc::new(digit_store::IdGenerator::new(
            db.pool().clone(),
            digit_store::mdms_masters(mdms.clone()),
            digit_store::IdgenSettings::from_lookup(|_| None).unwrap(),
        )),
        producer: Producer::new(&kafka).unwrap(),
        commits: watcher,
        settings,
    };
    let app = sor_rates::api::router("/sor-rates", service).layer(
        axum::middleware::from_fn_with_state(gate(mdms), digit_service::gate::authenticate),
    );
    let (status, body) = post_as(
        &app,
        "/sor-rates/sor/v1/_create",
        Some(&sor_admin()),
        json!({"requestInfo": {"apiId": "works"}, "sors": [
            {"tenantId": "pg", "sorType": "M", "uom": "BAG", "uomValue": 1, "description": "Cement"}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["Errors"][0]["code"],
        sor_rates::error::codes::PERSISTER_NOT_CONFIRMED
    );
}
