//! A Postgres outage mid-stream: the persister's database server is stopped for a few
//! seconds while messages flow and then started again. Every message ends up persisted
//! exactly once and nothing is dead-lettered: transient failures pause and retry.
//!
//! The test runs its own throw-away Postgres server (initdb in a temp folder, a free port),
//! so stopping it does not disturb other tests using the machine's Postgres.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const MESSAGES: usize = 3_000;

/// A private Postgres cluster, removed on drop.
struct PrivatePostgres {
    bindir: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PrivatePostgres {
    fn bindir() -> PathBuf {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Postgres server binaries under /usr/lib/postgresql (scripts/deps.sh installs them)")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("initdb").exists())
            .collect();
        versions.sort();
        versions
            .pop()
            .expect("an initdb under /usr/lib/postgresql/*/bin")
    }

    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bindir.join(program);
        // initdb and postgres refuse to run as root.
        let status = if self.as_postgres {
            Command::new("runuser")
                .arg("-u")
                .arg("postgres")
                .arg("--")
                .arg(&exe)
                .args(args)
                .status()
        } else {
            Command::new(&exe).args(args).status()
        }
        .unwrap();
        assert!(status.success(), "{program} {args:?} failed");
    }

    fn start_new() -> Self {
        let as_postgres = String::from_utf8(Command::new("id").arg("-u").output().unwrap().stdout)
            .unwrap()
            .trim()
            == "0";
        let data = std::env::temp_dir().join(format!("digit-pg-{}", tag()));
        std::fs::create_dir_all(&data).unwrap();
        if as_postgres {
            assert!(Command::new("chown")
                .arg("postgres:")
                .arg(&data)
                .status()
                .unwrap()
                .success());
        }
        let pg = Self {
            bindir: Self::bindir(),
            data,
            port: free_port(),
            as_postgres,
        };
        let data = pg.data.to_string_lossy().into_owned();
        pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        pg.start();
        pg
    }

    fn start(&self) {
        let data = self.data.to_string_lossy().into_owned();
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port, data
        );
        let log = format!("{data}/server.log");
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-o", &opts, "-l", &log, "-w", "-t", "60", "start",
            ],
        );
    }

    fn stop(&self) {
        let data = self.data.to_string_lossy().into_owned();
        self.run(
            "pg_ctl",
            &["-D", &data, "-m", "fast", "-w", "-t", "60", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().into_owned();
        let _ = Command::new(if self.as_postgres { "runuser" } else { "true" })
            .args(if self.as_postgres {
                vec!["-u", "postgres", "--"]
            } else {
                vec![]
            })
            .arg(self.bindir.join("pg_ctl"))
            .args(["-D", &data, "-m", "immediate", "stop"])
            .status();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_mid_stream_loses_nothing_and_dead_letters_nothing() {
    let pg = PrivatePostgres::start_new();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(2))
        .connect(&pg.url())
        .await
        .unwrap();
    digit_store::run_migrations(&pool, &[&persister::MIGRATOR])
        .await
        .unwrap();
    sqlx::raw_sql(TEST_TABLES).execute(&pool).await.unwrap();

    let t = tag();
    let topic = format!("persister-load-{t}");
    let file = load_config_file(&topic);
    let config = persister::domain::load_configs(&file.to_string_lossy()).unwrap();
    create_topics(&[&topic]).await;
    let mut producer_settings = kafka();
    producer_settings
        .extra
        .push(("linger.ms".into(), "20".into())); // real record batches, as in crash.rs
    let producer = digit_kafka::Producer::new(&producer_settings).unwrap();
    publish_raw(&producer, &topic, &load_messages(MESSAGES)).await;

    let w = writer(config, pool.clone(), settings(&t));
    let metrics = w.metrics.clone();
    let (shutdown, handle) = spawn(w);
    let count_sql = "SELECT count(*) FROM persister_load";
    let before = wait_for_count(&pool, count_sql, 300, Duration::from_secs(60)).await;
    assert!(before >= 300, "no progress before the outage");

    pg.stop();
    tokio::time::sleep(Duration::from_secs(3)).await;
    pg.start();

    let done = wait_for_count(
        &pool,
        count_sql,
        i64::try_from(MESSAGES).unwrap(),
        Duration::from_secs(120),
    )
    .await;
    shutdown.trigger();
    handle.await.unwrap().unwrap();
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT id) FROM persister_load")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(done, 3_000);
    assert_eq!((rows, distinct), (3_000, 3_000));
    assert!(
        metrics.transient_errors.get() > 0,
        "the outage was noticed and retried"
    );
    assert_eq!(
        topic_size(&format!("persister-deadletter-{t}")),
        0,
        "nothing dead-lettered"
    );
    pool.close().await;
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}
