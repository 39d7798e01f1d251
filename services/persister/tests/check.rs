//! `persister check`: validates configs offline; a broken config names file, mapping and query.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use std::process::Command;

#[test]
fn check_accepts_the_shipped_configs_and_names_what_is_wrong() {
    let configs = common::repo_root().join("configs/persister");
    let ok = Command::new(env!("CARGO_BIN_EXE_persister"))
        .arg("check")
        .arg(&configs)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let out = String::from_utf8(ok.stdout).unwrap();
    assert!(out.contains("save-wf-transitions"), "{out}");

    let dir = std::env::temp_dir().join(format!("persister-check-{}", common::tag()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yml");
    std::fs::write(
        &bad,
        "serviceMaps:\n  serviceName: x\n  mappings:\n  - version: 1.0\n    name: broken\n    fromTopic: t\n    queryMaps:\n    - query: INSERT INTO t(a, b) VALUES (?, ?);\n      basePath: $.A\n      jsonMaps:\n      - jsonPath: $.A.a\n",
    )
    .unwrap();
    let failed = Command::new(env!("CARGO_BIN_EXE_persister"))
        .arg("check")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let err = String::from_utf8(failed.stderr).unwrap();
    assert!(
        err.contains("bad.yml") && err.contains("broken") && err.contains("INSERT INTO t"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
