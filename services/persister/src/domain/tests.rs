//! Tests of the domain layer as a whole: config loading/validation, every evaluation rule,
//! the shipped configs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Number, Value};

use super::*;

// ---- helpers ------------------------------------------------------------------------------

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/persister")
}

fn inline(yaml: &str) -> Result<PersisterConfig, ConfigError> {
    PersisterConfig::from_sources([(Path::new("inline.yml"), yaml)])
}

fn inline_ok(yaml: &str) -> PersisterConfig {
    inline(yaml).unwrap_or_else(|e| panic!("config should load: {e}"))
}

fn invalid_reason(yaml: &str) -> String {
    match inline(yaml) {
        Err(ConfigError::Invalid { reason, .. }) => reason,
        Err(other) => panic!("expected Invalid, got {other}"),
        Ok(_) => panic!("config should have been rejected"),
    }
}

fn msg(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn num(text: &str) -> BindValue {
    BindValue::Number(Number::from_str(text).unwrap())
}

fn text(s: &str) -> BindValue {
    BindValue::Text(s.to_string())
}

fn clock() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_717_171_717_171).unwrap()
}

/// A one-query config on topic `t` with the given basePath and jsonMaps (YAML list items).
fn one_query(base_path: &str, json_maps: &[&str]) -> PersisterConfig {
    let placeholders = vec!["?"; json_maps.len()].join(", ");
    let maps: String = json_maps
        .iter()
        .map(|m| format!("      - {}\n", m.replace('\n', "\n      ")))
        .collect();
    let yaml = format!(
        "serviceMaps:\n  serviceName: t\n  mappings:\n  - version: 1.0\n    fromTopic: t\n    queryMaps:\n    - query: INSERT INTO x VALUES ({placeholders})\n      basePath: {base_path:?}\n      jsonMaps:\n{maps}"
    );
    inline_ok(&yaml)
}

fn rows(config: &PersisterConfig, message: &Value) -> Result<Vec<Vec<BindValue>>, EvalError> {
    let mut statements = plan(config, "t", message, clock())?;
    assert_eq!(statements.len(), 1);
    Ok(statements.remove(0).rows)
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "persister-domain-{tag}-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const MINIMAL: &str = "serviceMaps:\n  serviceName: s\n  mappings:\n  - version: 1.0\n    fromTopic: topic-a\n    queryMaps:\n    - query: INSERT INTO a(x) VALUES (?)\n      basePath: $.A\n      jsonMaps:\n      - jsonPath: $.A.x\n";

// ---- loading ------------------------------------------------------------------------------

#[test]
fn shipped_configs_load_from_the_directory() {
    let config = load_configs(shipped_dir().to_str().unwrap()).unwrap();
    let names: Vec<_> = config
        .files()
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // Every shipped YAML file, in name order (the folder grows as services land).
    let mut expected: Vec<String> = std::fs::read_dir(shipped_dir())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    assert!(names.contains(&"egov-workflow-v2-persister.yml".to_owned()));
    let topics: Vec<_> = config.topics().collect();
    for topic in [
        "persister-test-save",
        "persister-test-save-batch",
        "persister-test-update",
        "save-wf-transitions",
        "save-wf-businessservice",
        "update-wf-businessservice",
    ] {
        assert!(topics.contains(&topic), "{topic} in {topics:?}");
    }
    assert_eq!(
        config.batch_topics().collect::<Vec<_>>(),
        ["persister-test-save-batch"]
    );
    assert_eq!(config.regular_topics().count(), topics.len() - 1);
    assert_eq!(config.mappings("persister-test-save").len(), 4);
    // The only warning is the deliberate case-sensitive "Double".
    assert_eq!(config.warnings().len(), 1, "{:?}", config.warnings());
    assert!(config.warnings()[0].contains("\"Double\""));
    let wf = &config.mappings("save-wf-transitions")[0];
    assert_eq!(wf.service_name.as_deref(), Some("egov-workflow-v2"));
    assert_eq!(wf.version.as_str(), "1.0");
    assert_eq!(wf.query_maps.len(), 3);
    assert_eq!(wf.is_audit_enabled, Some(true));
    assert_eq!(wf.objec_id_json_path.as_deref(), Some("$.id"));
    assert!(wf.query_maps[0].sql.contains("VALUES ($1, $2, $3"));
    assert!(wf.query_maps[0].sql.ends_with("$18);"));
}

#[test]
fn spec_entries_file_urls_plain_paths_and_lists() {
    let dir = shipped_dir().canonicalize().unwrap();
    let wf = dir.join("egov-workflow-v2-persister.yml");
    let test = dir.join("test-persister.yml");
    let spec = format!(" file://{} , {},", test.display(), wf.display());
    let config = load_configs(&spec).unwrap();
    assert_eq!(config.files(), [test.clone(), wf]);
    // A file:// directory works too.
    let config = load_configs(&format!("file://{}/", dir.display())).unwrap();
    assert!(config.files().len() >= 2);
    assert!(config.files().contains(&test));
}

#[test]
fn directory_is_sorted_non_recursive_and_yaml_only() {
    let dir = temp_dir("dir");
    std::fs::write(dir.join("b.yaml"), MINIMAL.replace("topic-a", "topic-b")).unwrap();
    std::fs::write(dir.join("a.yml"), MINIMAL).unwrap();
    std::fs::write(dir.join("notes.txt"), "not yaml").unwrap();
    std::fs::write(dir.join("c.YML"), "{{{ not loaded").unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/z.yml"), "{{{ not loaded").unwrap();
    let config = load_configs(dir.to_str().unwrap()).unwrap();
    let names: Vec<_> = config
        .files()
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.yml", "b.yaml"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unsupported_missing_and_empty_sources_fail() {
    for spec in [
        "classpath:persister.yml",
        "https://raw.githubusercontent.com/x/y/z.yml",
        "http://host/z.yml",
        "ftp://host/z.yml",
    ] {
        let err = load_configs(spec).unwrap_err();
        assert!(
            matches!(err, ConfigError::Unsupported { .. }),
            "{spec}: {err}"
        );
        assert!(err.to_string().contains("not supported"));
    }
    let dir = temp_dir("empty");
    assert!(matches!(
        load_configs(dir.to_str().unwrap()),
        Err(ConfigError::NoFiles { .. })
    ));
    assert!(matches!(
        load_configs(" , "),
        Err(ConfigError::NoFiles { .. })
    ));
    let missing = dir.join("nope");
    assert!(matches!(
        load_configs(missing.to_str().unwrap()),
        Err(ConfigError::Io { .. })
    ));
    assert!(matches!(
        load_configs(dir.join("nope.yml").to_str().unwrap()),
        Err(ConfigError::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn yaml_errors_name_the_file() {
    let dir = temp_dir("bad");
    let file = dir.join("broken.yml");
    std::fs::write(&file, "serviceMaps:\n  mappings: [\n").unwrap();
    let err = load_configs(file.to_str().unwrap()).unwrap_err();
    assert!(matches!(err, ConfigError::Yaml { .. }));
    assert!(err.to_string().contains("broken.yml"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();

    for (yaml, expect) in [
        ("", "serviceMaps"),
        ("foo: 1\n", "serviceMaps"),
        ("serviceMaps:\n  serviceName: x\n", "mappings"),
        ("- 1\n- 2\n", "invalid type"),
        ("serviceMaps:\n  mappings:\n  - fromTopic: [a]\n", "scalar"),
    ] {
        let err = inline(yaml).expect_err(yaml);
        assert!(err.to_string().contains(expect), "{yaml:?}: {err}");
    }
}

#[test]
fn unknown_keys_are_ignored_and_scalars_are_lenient() {
    let config = inline_ok(
        "someTopLevel: 1\nserviceMaps:\n  serviceName: s\n  extra: [1, 2]\n  mappings:\n  - version: 1\n    fromTopic: a\n    isTransaction: 'true'\n    isBatch: false\n    whatever: {x: 1}\n    queryMaps:\n    - query: INSERT INTO a(x) VALUES (?)\n      basePath: $.A\n      unknown: 1\n      jsonMaps:\n      - jsonPath: $.A.x\n        type: json\n        dbType: JSONB\n        parentPath: p\n        format: f\n        other: 3\n",
    );
    let m = &config.mappings("a")[0];
    assert_eq!(m.version.as_str(), "1");
    assert_eq!(m.is_transaction, Some(true));
    assert_eq!(m.is_batch, Some(false));
    let jm = &m.query_maps[0].json_maps[0];
    assert_eq!(jm.type_raw.as_deref(), Some("json"));
    assert_eq!(jm.type_, None);
    assert_eq!(jm.effective_type(), TypeEnum::String);
    assert_eq!(jm.db_type, Some(TypeEnum::Jsonb));
    assert_eq!(jm.parent_path.as_deref(), Some("p"));
    assert_eq!(jm.format.as_deref(), Some("f"));
    assert!(config.warnings().iter().any(|w| w.contains("\"json\"")));
    // Lower-case type → STRING → raw value, not jsonb.
    let out = plan(&config, "a", &json!({"A": {"x": {"k": 1}}}), clock()).unwrap();
    assert_eq!(out[0].rows, [[text("{\"k\":1}")]]);
}

#[test]
fn numeric_yaml_versions_keep_their_text() {
    let config = inline_ok(MINIMAL);
    assert_eq!(config.mappings("topic-a")[0].version.as_str(), "1.0");
    // A YAML float loses trailing zeros (Jackson would keep the text "1.10"); quote it.
    let config = inline_ok(&MINIMAL.replace("version: 1.0", "version: 1.10"));
    assert_eq!(config.mappings("topic-a")[0].version.as_str(), "1.1");
    let config = inline_ok(&MINIMAL.replace("version: 1.0", "version: '1.0.0'"));
    assert_eq!(config.mappings("topic-a")[0].version.as_str(), "1.0.0");
}

#[test]
fn several_files_may_map_one_topic_in_load_order() {
    let second = MINIMAL.replace("INSERT INTO a(x)", "INSERT INTO b(x)");
    let config = PersisterConfig::from_sources([
        (Path::new("one.yml"), MINIMAL),
        (Path::new("two.yml"), second.as_str()),
    ])
    .unwrap();
    let maps = config.mappings("topic-a");
    assert_eq!(maps.len(), 2);
    assert_eq!(&*maps[0].file, Path::new("one.yml"));
    assert!(maps[1].query_maps[0].query.contains("INSERT INTO b"));
    let out = plan(&config, "topic-a", &json!({"A": {"x": 1}}), clock()).unwrap();
    assert_eq!(out.len(), 2);
    assert!(out[1].sql.contains("INSERT INTO b(x) VALUES ($1)"));
}

#[test]
fn placeholder_count_must_match_json_maps() {
    let yaml = MINIMAL.replace("VALUES (?)", "VALUES (?, ?)");
    let err = inline(&yaml).err().unwrap();
    let message = err.to_string();
    assert!(message.contains("inline.yml"), "{message}");
    assert!(message.contains("fromTopic \"topic-a\""), "{message}");
    assert!(message.contains("queryMaps[0]"), "{message}");
    assert!(
        message.contains("2 `?` placeholder(s) but 1 jsonMaps"),
        "{message}"
    );
    // A "?" inside a literal does not count.
    inline_ok(&MINIMAL.replace("VALUES (?)", "VALUES (?) -- really?"));
    // Native $n parameters are refused.
    let reason = invalid_reason(&MINIMAL.replace("VALUES (?)", "VALUES ($1)").replace(
        "      jsonMaps:\n      - jsonPath: $.A.x\n",
        "      jsonMaps: []\n",
    ));
    assert!(reason.contains("$n"), "{reason}");
    // Zero placeholders and no jsonMaps is fine.
    inline_ok(
        &MINIMAL
            .replace("VALUES (?)", "VALUES (1)")
            .replace("      jsonMaps:\n      - jsonPath: $.A.x\n", ""),
    );
}

#[test]
fn names_the_mapping_by_name_when_present() {
    let yaml = MINIMAL
        .replace("VALUES (?)", "VALUES (?, ?)")
        .replace("fromTopic: topic-a", "name: my-map\n    fromTopic: topic-a");
    let message = inline(&yaml).err().unwrap().to_string();
    assert!(message.contains("name \"my-map\""), "{message}");
}

#[test]
fn paths_must_parse() {
    let reason = invalid_reason(&MINIMAL.replace("jsonPath: $.A.x", "jsonPath: $.A[?(@.x ==]"));
    assert!(reason.contains("jsonMaps[0]"), "{reason}");
    let reason = invalid_reason(&MINIMAL.replace("basePath: $.A", "basePath: $.A[?("));
    assert!(reason.contains("basePath"), "{reason}");
    // The `{attr}` form is validated with a dummy literal.
    inline_ok(&MINIMAL.replace(
        "jsonPath: $.A.x",
        "jsonPath: $.A[*][?({id} in @.documents[*].id)].id",
    ));
    let reason = invalid_reason(&MINIMAL.replace(
        "jsonPath: $.A.x",
        "jsonPath: $.A[*][?({id} in @.documents[*].id]",
    ));
    assert!(reason.contains("jsonPath"), "{reason}");
}

#[test]
fn required_keys_are_checked() {
    assert!(invalid_reason(&MINIMAL.replace("    fromTopic: topic-a\n", "")).contains("fromTopic"));
    assert!(invalid_reason(&MINIMAL.replace(
        "    - query: INSERT INTO a(x) VALUES (?)\n      basePath",
        "    - basePath"
    ))
    .contains("query"));
    assert!(invalid_reason(&MINIMAL.replace("      basePath: $.A\n", "")).contains("basePath"));
    assert!(invalid_reason(
        &MINIMAL.replace("      - jsonPath: $.A.x\n", "      - type: STRING\n")
    )
    .contains("jsonPath"));
}

#[test]
fn column_shifting_type_combinations_are_refused() {
    for (ty, db) in [("LONG", "LONG"), ("LONG", "DOUBLE"), ("LONG", "STRING")] {
        let reason = invalid_reason(&MINIMAL.replace(
            "jsonPath: $.A.x\n",
            &format!("jsonPath: $.A.x\n        type: {ty}\n        dbType: {db}\n"),
        ));
        assert!(reason.contains("`type: LONG`"), "{reason}");
    }
    for extra in ["", "\n        dbType: STRING"] {
        let reason = invalid_reason(&MINIMAL.replace(
            "jsonPath: $.A.x\n",
            &format!("jsonPath: $.A.x\n        type: CURRENTDATE{extra}\n"),
        ));
        assert!(reason.contains("CURRENTDATE"), "{reason}");
    }
    // LONG alone, LONG+DATE and an unknown dbType (→ none) are fine.
    for extra in [
        "type: LONG",
        "type: LONG\n        dbType: DATE",
        "type: LONG\n        dbType: Date",
    ] {
        inline_ok(&MINIMAL.replace(
            "jsonPath: $.A.x\n",
            &format!("jsonPath: $.A.x\n        {extra}\n"),
        ));
    }
}

#[test]
fn json_or_array_without_db_type_warns_and_binds_raw() {
    let config =
        inline_ok(&MINIMAL.replace("jsonPath: $.A.x\n", "jsonPath: $.A.x\n        type: JSON\n"));
    assert!(config
        .warnings()
        .iter()
        .any(|w| w.contains("without dbType")));
    let out = plan(&config, "topic-a", &json!({"A": {"x": [1]}}), clock()).unwrap();
    assert_eq!(out[0].rows, [[text("[1]")]]);
}

#[test]
fn versions_are_validated_and_optional() {
    let reason = invalid_reason(&MINIMAL.replace("version: 1.0", "version: one"));
    assert!(reason.contains("invalid version expression"), "{reason}");
    let config = inline_ok(&MINIMAL.replace("  - version: 1.0\n    fromTopic", "  - fromTopic"));
    assert!(config.warnings().iter().any(|w| w.contains("no `version`")));
    let m = &config.mappings("topic-a")[0];
    assert!(m.version.matches(&semver::Version::new(9, 9, 9)));
}

#[test]
fn missing_query_maps_warns() {
    let config = inline_ok("serviceMaps:\n  mappings:\n  - version: 1.0\n    fromTopic: a\n");
    assert!(config
        .warnings()
        .iter()
        .any(|w| w.contains("no `queryMaps`")));
    assert!(plan(&config, "a", &json!({}), clock()).unwrap().is_empty());
}

#[test]
fn only_the_first_yaml_document_is_read() {
    let yaml = format!(
        "{MINIMAL}---\nserviceMaps:\n  mappings:\n  - version: 1.0\n    fromTopic: other\n"
    );
    let config = inline_ok(&yaml);
    assert_eq!(config.topics().collect::<Vec<_>>(), ["topic-a"]);
    assert!(config
        .warnings()
        .iter()
        .any(|w| w.contains("more than one YAML document")));
}

#[test]
fn type_enum_is_case_sensitive() {
    assert_eq!("JSONB".parse::<TypeEnum>(), Ok(TypeEnum::Jsonb));
    assert_eq!("CURRENTDATE".parse::<TypeEnum>(), Ok(TypeEnum::CurrentDate));
    assert!("Double".parse::<TypeEnum>().is_err());
    assert!("INTEGER".parse::<TypeEnum>().is_err());
    for t in [
        TypeEnum::Array,
        TypeEnum::String,
        TypeEnum::Int,
        TypeEnum::Double,
        TypeEnum::Float,
        TypeEnum::Date,
        TypeEnum::Long,
        TypeEnum::BigDecimal,
        TypeEnum::Boolean,
        TypeEnum::CurrentDate,
        TypeEnum::Json,
        TypeEnum::Jsonb,
    ] {
        assert_eq!(t.as_str().parse::<TypeEnum>(), Ok(t));
    }
}

#[test]
fn batch_topics_are_named_with_dash_batch() {
    assert!(is_batch_topic("save-pgr-request-batch"));
    assert!(is_batch_topic("save-wf-transitions-batch"));
    assert!(!is_batch_topic("save-pgr-request"));
    assert!(!is_batch_topic("batchsave"));
}

// ---- evaluation: basePath -----------------------------------------------------------------

#[test]
fn base_without_star_is_one_record() {
    let c = one_query("$.service", &["jsonPath: $.service.id"]);
    assert_eq!(
        rows(&c, &json!({"service": {"id": "s1"}})).unwrap(),
        [[text("s1")]]
    );
    // Present with null: no row.
    assert!(rows(&c, &json!({"service": null})).unwrap().is_empty());
    // Absent: the message fails.
    let err = rows(&c, &json!({"other": 1})).unwrap_err();
    assert!(
        matches!(err, EvalError::PathNotFound { ref path, .. } if path == "$.service"),
        "{err}"
    );
    assert!(err.to_string().contains("INSERT INTO x"), "{err}");
}

#[test]
fn base_without_dollar_prefix_is_rooted() {
    let c = one_query("service.address", &["jsonPath: $.service.address.city"]);
    assert_eq!(
        rows(&c, &json!({"service": {"address": {"city": "X"}}})).unwrap(),
        [[text("X")]]
    );
    let c = one_query("events.*", &["jsonPath: $.events.*.id"]);
    assert_eq!(
        rows(&c, &json!({"events": [{"id": 1}, {"id": 2}]})).unwrap(),
        [[num("1")], [num("2")]]
    );
}

#[test]
fn base_with_star_iterates_and_skips_null_records() {
    let c = one_query("$.items.*", &["jsonPath: $.items.*.id"]);
    let out = rows(&c, &json!({"items": [{"id": "a"}, null, {"id": "b"}]})).unwrap();
    assert_eq!(out, [[text("a")], [text("b")]]);
    assert!(rows(&c, &json!({"items": []})).unwrap().is_empty());
    // A wildcard over an object iterates its values.
    let out = rows(
        &c,
        &json!({"items": {"k1": {"id": "a"}, "k2": {"id": "b"}}}),
    )
    .unwrap();
    assert_eq!(out, [[text("a")], [text("b")]]);
}

#[test]
fn missing_array_for_star_base_fails_like_jayway() {
    // `$.items.*` with no `items` key: Jayway throws "Missing property" for the definite
    // prefix, so the message fails.
    let c = one_query("$.items.*", &["jsonPath: $.items.*.id"]);
    let err = rows(&c, &json!({})).unwrap_err();
    assert!(matches!(err, EvalError::PathNotFound { .. }), "{err}");
    // …but a null array is simply empty.
    assert!(rows(&c, &json!({"items": null})).unwrap().is_empty());
    assert!(rows(&c, &json!({"items": "scalar"})).unwrap().is_empty());
}

#[test]
fn nested_stars_flatten() {
    let c = one_query(
        "$.BusinessServices.*.states.*.actions.*",
        &["jsonPath: $.BusinessServices.*.states.*.actions.*.action"],
    );
    let m = json!({"BusinessServices": [
        {"states": [{"actions": [{"action": "A"}, {"action": "B"}]}, {"actions": []}]},
        {"states": [{"actions": [{"action": "C"}]}]}
    ]});
    assert_eq!(
        rows(&c, &m).unwrap(),
        [[text("A")], [text("B")], [text("C")]]
    );
}

#[test]
fn base_ending_after_star_skips_missing_children() {
    let c = one_query(
        "$.properties.*.address",
        &[
            "jsonPath: $.properties.*.id",
            "jsonPath: $.properties.*.address.city",
        ],
    );
    let m = json!({"properties": [
        {"id": "p1", "address": {"city": "X"}},
        {"id": "p2", "address": null},
        {"id": "p3"},
        {"id": "p4", "address": {"city": null}}
    ]});
    // Records are the properties (p1, p4), not the addresses.
    assert_eq!(
        rows(&c, &m).unwrap(),
        [[text("p1"), text("X")], [text("p4"), BindValue::Null]]
    );
    // Deeper rest: every key must be non-null.
    let c = one_query("$.p.*.a.b", &["jsonPath: $.p.*.id"]);
    let m =
        json!({"p": [{"id": 1, "a": {"b": {}}}, {"id": 2, "a": {"b": null}}, {"id": 3, "a": 5}]});
    assert_eq!(rows(&c, &m).unwrap(), [[num("1")]]);
}

#[test]
fn bracket_star_base_is_supported() {
    let c = one_query("$.items[*]", &["jsonPath: $.items[*].id"]);
    // `[*].` is not `*.`: upstream evaluates it as an absolute path (the list of all ids).
    assert_eq!(
        rows(&c, &json!({"items": [{"id": 1}, {"id": 2}]})).unwrap(),
        [[text("[1,2]")], [text("[1,2]")]]
    );
}

// ---- evaluation: jsonPath rules -----------------------------------------------------------

#[test]
fn relative_paths_use_the_part_after_the_last_star() {
    let c = one_query(
        "$.a.*.docs.*",
        &[
            "jsonPath: $.a.*.docs.*.id",
            "jsonPath: $.a.docs.*.id",
            "jsonPath: $.a.*.docs.*.meta.k",
            "jsonPath: $.a.*.docs.*.nothere",
            "jsonPath: $.a.*.docs.*.meta.none.deeper",
            "jsonPath: $.a.*.docs.*.scalar.deeper",
        ],
    );
    let m = json!({"a": [{"docs": [{"id": "d1", "meta": {"k": true}, "scalar": 3}]}]});
    assert_eq!(
        rows(&c, &m).unwrap(),
        [[
            text("d1"),
            text("d1"),
            BindValue::Bool(true),
            BindValue::Null,
            BindValue::Null,
            BindValue::Null
        ]]
    );
}

#[test]
fn relative_path_with_a_base_without_star_reads_the_record() {
    // Upstream quirk kept: `*.` paths are relative even when the base has no `*`.
    let c = one_query("$.service", &["jsonPath: $.service.documents.*.id"]);
    assert_eq!(
        rows(
            &c,
            &json!({"service": {"id": "S", "documents": [{"id": "D"}]}})
        )
        .unwrap(),
        [[text("S")]]
    );
}

#[test]
fn absolute_paths_read_the_whole_document() {
    let c = one_query(
        "$.service.documents.*",
        &[
            "jsonPath: $.service.documents.*.id",
            "jsonPath: $.service.auditDetails.createdBy",
            "jsonPath: $.service.nullable",
            "jsonPath: $.service.documents[*].id",
        ],
    );
    let m = json!({"service": {"auditDetails": {"createdBy": "u"}, "nullable": null,
                  "documents": [{"id": "d1"}, {"id": "d2"}]}});
    assert_eq!(
        rows(&c, &m).unwrap(),
        [
            [
                text("d1"),
                text("u"),
                BindValue::Null,
                text("[\"d1\",\"d2\"]")
            ],
            [
                text("d2"),
                text("u"),
                BindValue::Null,
                text("[\"d1\",\"d2\"]")
            ]
        ]
    );
    // Definite path, absent key → the message fails, naming the path and the query.
    let m = json!({"service": {"auditDetails": {}, "nullable": null, "documents": [{"id": "d1"}]}});
    let err = rows(&c, &m).unwrap_err();
    match &err {
        EvalError::PathNotFound { path, at, .. } => {
            assert_eq!(path, "$.service.auditDetails.createdBy");
            assert!(at.query.starts_with("INSERT INTO x"));
            assert_eq!(at.query_index, 0);
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn parent_references_bind_the_first_match() {
    let c = one_query(
        "$.ProcessInstances.*.documents.*",
        &["jsonPath: $.ProcessInstances[*][?({id} in @.documents[*].id)].id"],
    );
    let m = json!({"ProcessInstances": [
        {"id": "pi1", "documents": [{"id": "d1"}, {"id": "d2"}]},
        {"id": "pi2", "documents": [{"id": "d3"}]}
    ]});
    assert_eq!(
        rows(&c, &m).unwrap(),
        [[text("pi1")], [text("pi1")], [text("pi2")]]
    );
    // No match → error.
    let c = one_query("$.A.*", &["jsonPath: $.B[?(@.ref == {id})].id"]);
    let err = rows(
        &c,
        &json!({"A": [{"id": "x"}], "B": [{"ref": "y", "id": 1}]}),
    )
    .unwrap_err();
    assert!(
        matches!(err, EvalError::ParentRefEmpty { ref path, .. } if path == "$.B[?(@.ref == \"x\")].id"),
        "{err}"
    );
    // Found → raw scalar (a number stays a number).
    assert_eq!(
        rows(
            &c,
            &json!({"A": [{"id": "y"}], "B": [{"ref": "y", "id": 1}]})
        )
        .unwrap(),
        [[num("1")]]
    );
    // The record lacks the attribute (or holds null) → error.
    for rec in [json!({"other": 1}), json!({"id": null})] {
        let err = rows(&c, &json!({"A": [rec], "B": []})).unwrap_err();
        assert!(
            matches!(err, EvalError::ParentRefMissing { ref attr, .. } if attr == "id"),
            "{err}"
        );
    }
}

#[test]
fn parent_reference_values_are_escaped() {
    let c = one_query("$.A.*", &["jsonPath: $.B[?(@.ref == {id})].v"]);
    let m = json!({"A": [{"id": "a\"b\\c"}], "B": [{"ref": "a\"b\\c", "v": "ok"}]});
    assert_eq!(rows(&c, &m).unwrap(), [[text("ok")]]);
    // Non-string values are quoted like upstream's toString: 5 → "5".
    let m = json!({"A": [{"id": 5}], "B": [{"ref": "5", "v": "five"}]});
    assert_eq!(rows(&c, &m).unwrap(), [[text("five")]]);
}

#[test]
fn parent_references_ignore_type_conversions() {
    let c = one_query(
        "$.A.*",
        &["jsonPath: $.B[?(@.ref == {id})].v\n  type: JSON\n  dbType: JSONB"],
    );
    let m = json!({"A": [{"id": "x"}], "B": [{"ref": "x", "v": "plain"}]});
    assert_eq!(rows(&c, &m).unwrap(), [[text("plain")]]);
}

#[test]
fn array_string_renders_element_i() {
    let c = one_query(
        "$.actions.*",
        &[
            "jsonPath: $.actions.*.action",
            "jsonPath: $.actions.*.roles\n  type: ARRAY\n  dbType: STRING",
        ],
    );
    let m = json!({"actions": [
        {"action": "A", "roles": ["GRO", "CSR"]},
        {"action": "B", "roles": ["*"]},
        {"action": "C", "roles": []},
        {"action": "D", "roles": null},
        {"action": "E", "roles": [1, true, null]}
    ]});
    assert_eq!(
        rows(&c, &m).unwrap(),
        [
            [text("A"), text("GRO,CSR")],
            [text("B"), text("*")],
            [text("C"), BindValue::Null],
            [text("D"), BindValue::Null],
            [text("E"), text("1,true,null")]
        ]
    );
    // Nothing at all → NULL.
    let c = one_query(
        "$.actions.*",
        &["jsonPath: $.actions.*.nothere\n  type: ARRAY\n  dbType: STRING"],
    );
    assert_eq!(
        rows(&c, &json!({"actions": [{}]})).unwrap(),
        [[BindValue::Null]]
    );
}

#[test]
fn array_string_index_counts_skipped_records() {
    let c = one_query(
        "$.a.*",
        &["jsonPath: $.b.*\n  type: ARRAY\n  dbType: STRING"],
    );
    // Record 0 is null (skipped), record 1 takes element 1.
    let m = json!({"a": [null, {"x": 1}], "b": [["p"], ["q", "r"]]});
    assert_eq!(rows(&c, &m).unwrap(), [[text("q,r")]]);
    // Shapes differ: element 1 does not exist.
    let m = json!({"a": [{"x": 0}, {"x": 1}], "b": [["p"]]});
    let err = rows(&c, &m).unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::ArrayIndexOutOfRange {
                index: 1,
                len: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn default_paths_bind_null() {
    let c = one_query(
        "$.A",
        &[
            "jsonPath: default",
            "jsonPath: defaultValue\n  type: JSON\n  dbType: JSONB",
            "jsonPath: default\n  type: ARRAY\n  dbType: STRING",
        ],
    );
    assert_eq!(
        rows(&c, &json!({"A": {}})).unwrap(),
        [[BindValue::Null, BindValue::Null, BindValue::Null]]
    );
}

// ---- evaluation: type conversions ---------------------------------------------------------

#[test]
fn current_date_uses_the_injected_clock() {
    let c = one_query(
        "$.A",
        &[
            "jsonPath: $.whatever\n  type: CURRENTDATE\n  dbType: DATE",
            "jsonPath: $.whatever\n  type: CURRENTDATE\n  dbType: LONG",
        ],
    );
    assert_eq!(
        rows(&c, &json!({"A": {}})).unwrap(),
        [[
            BindValue::Timestamp(clock().naive_utc()),
            BindValue::Long(1_717_171_717_171)
        ]]
    );
}

#[test]
fn json_conversions() {
    let c = one_query(
        "$.A",
        &[
            "jsonPath: $.A.obj\n  type: JSON\n  dbType: STRING",
            "jsonPath: $.A.obj\n  type: JSON\n  dbType: JSONB",
            "jsonPath: $.A.nil\n  type: JSON\n  dbType: STRING",
            "jsonPath: $.A.nil\n  type: JSON\n  dbType: JSONB",
            "jsonPath: $.A.str\n  type: JSON\n  dbType: JSONB",
            "jsonPath: $.A.obj",
        ],
    );
    let m = msg(r#"{"A": {"obj": {"b": 1.10, "a": [true]}, "nil": null, "str": "s"}}"#);
    assert_eq!(
        rows(&c, &m).unwrap(),
        [[
            text(r#"{"b":1.10,"a":[true]}"#),
            BindValue::Json(msg(r#"{"b": 1.10, "a": [true]}"#)),
            text("null"),
            BindValue::Json(Value::Null),
            BindValue::Json(json!("s")),
            text(r#"{"b":1.10,"a":[true]}"#),
        ]]
    );
}

#[test]
fn long_conversions() {
    let c = one_query(
        "$.A",
        &[
            "jsonPath: $.A.ms\n  type: LONG",
            "jsonPath: $.A.ms\n  type: LONG\n  dbType: DATE",
            "jsonPath: $.A.text\n  type: LONG\n  dbType: DATE",
            "jsonPath: $.A.nil\n  type: LONG\n  dbType: DATE",
        ],
    );
    let m = json!({"A": {"ms": 1_700_000_000_000_i64, "text": "86400000", "nil": null}});
    assert_eq!(
        rows(&c, &m).unwrap(),
        [[
            num("1700000000000"),
            BindValue::Date(NaiveDate::from_ymd_opt(2023, 11, 14).unwrap()),
            BindValue::Date(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()),
            BindValue::Null,
        ]]
    );
    for bad in [json!(1.5), json!("soon"), json!({"x": 1}), json!(true)] {
        let err = rows(&c, &json!({"A": {"ms": bad, "text": "1", "nil": null}})).unwrap_err();
        assert!(matches!(err, EvalError::InvalidDate { .. }), "{err}");
    }
}

#[test]
fn date_conversions_parse_day_month_year() {
    let c = one_query("$.A", &["jsonPath: $.A.d\n  type: DATE"]);
    let day = |y, m, d| {
        BindValue::Timestamp(
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        )
    };
    for (input, expect) in [
        (json!("15/08/2023"), day(2023, 8, 15)),
        (json!("1/2/2020"), day(2020, 2, 1)),
        (json!("31/02/2021"), day(2021, 3, 3)),
        (json!("00/01/2021"), day(2020, 12, 31)),
        (json!("01/13/2021"), day(2022, 1, 1)),
        (json!("15/08/2023 10:30"), day(2023, 8, 15)),
        (json!("2023-08-15"), BindValue::Null),
        (json!("garbage"), BindValue::Null),
        (json!(12), BindValue::Null),
        (Value::Null, BindValue::Null),
    ] {
        assert_eq!(
            rows(&c, &json!({"A": {"d": input.clone()}})).unwrap(),
            [[expect]],
            "{input}"
        );
    }
}

#[test]
fn raw_values_stay_faithful() {
    let c = one_query(
        "$.A",
        &[
            "jsonPath: $.A.big\n  type: BIGDECIMAL",
            "jsonPath: $.A.int\n  type: INT",
            "jsonPath: $.A.f\n  type: DOUBLE",
            "jsonPath: $.A.b\n  type: BOOLEAN",
            "jsonPath: $.A.s\n  type: FLOAT",
            "jsonPath: $.A.list",
        ],
    );
    let m = msg(
        r#"{"A": {"big": 12345678901234567890.123456789, "int": 7, "f": 0.1, "b": false, "s": "3.5", "list": ["x"]}}"#,
    );
    assert_eq!(
        rows(&c, &m).unwrap(),
        [[
            num("12345678901234567890.123456789"),
            num("7"),
            num("0.1"),
            BindValue::Bool(false),
            text("3.5"),
            text("[\"x\"]"),
        ]]
    );
}

#[test]
fn parse_day_month_year_is_lenient_like_simple_date_format() {
    assert_eq!(
        parse_day_month_year("29/02/2024").map(|t| t.date()),
        NaiveDate::from_ymd_opt(2024, 2, 29)
    );
    assert_eq!(
        parse_day_month_year("29/02/2023").map(|t| t.date()),
        NaiveDate::from_ymd_opt(2023, 3, 1)
    );
    assert!(parse_day_month_year("").is_none());
    assert!(parse_day_month_year("12/05").is_none());
    assert!(parse_day_month_year(" 12/05/2020").is_none());
    assert!(parse_day_month_year("1234567890/1/2020").is_none());
}

// ---- evaluation: versions and planning ----------------------------------------------------

fn shipped() -> PersisterConfig {
    load_configs(shipped_dir().to_str().unwrap()).unwrap()
}

fn test_message(ver: Option<&str>) -> Value {
    let mut m = msg(r#"{
  "RequestInfo": {"apiId": "test", "ver": null},
  "Parent": {
    "id": "P-1",
    "tenantId": "pg.citya",
    "name": "first",
    "count": 42,
    "amount": 12345678901234567890.123456789,
    "ratio": 0.1,
    "active": true,
    "details": {"colour": "red", "sizes": [1, 2]},
    "nothing": null,
    "startDate": "15/08/2023",
    "epochMs": 1700000000000,
    "auditDetails": {"createdBy": "u-1", "createdTime": 1700000000000,
                     "lastModifiedBy": "u-2", "lastModifiedTime": 1700000000001},
    "address": {"city": "Springfield", "geo": {"lat": 12.50}},
    "children": [
      {"id": "C-1", "code": "A", "roles": ["GRO", "CSR"], "meta": {"k": "v"},
       "info": {"x": 1, "note": "n1"},
       "items": [{"id": "I-1", "qty": 1}, {"id": "I-2", "qty": 2}]},
      {"id": "C-2", "code": "B", "roles": [], "meta": null, "info": null,
       "items": [{"id": "I-3", "qty": 3}]},
      {"id": "C-3", "code": "C", "roles": ["EMPLOYEE"], "meta": [1, "two"], "items": []}
    ]
  }
}"#);
    if let Some(v) = ver {
        m["RequestInfo"]["ver"] = json!(v);
    }
    m
}

fn labels(statements: &[Statement]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in statements {
        let name = s.mapping.name.clone().unwrap_or_default();
        if out.last() != Some(&name) {
            out.push(name);
        }
    }
    out
}

#[test]
fn mappings_are_filtered_by_request_version() {
    let config = shipped();
    let run = |ver: Option<&str>| {
        labels(&plan(&config, "persister-test-save", &test_message(ver), clock()).unwrap())
    };
    let default = ["save-parent", "version-1.0", "version-1-or-2"];
    assert_eq!(run(None), default);
    assert_eq!(run(Some("1.0.0")), default);
    assert_eq!(run(Some(".01")), default);
    assert_eq!(run(Some("")), default);
    assert_eq!(run(Some("1.0.7")), default);
    assert_eq!(run(Some("1.2.0")), ["version-1-or-2"]);
    assert_eq!(run(Some("2.1.0")), ["version-2", "version-1-or-2"]);
    assert!(run(Some("3.0.0")).is_empty());
    let with_default = config
        .clone()
        .with_default_version(semver::Version::new(2, 0, 0));
    assert_eq!(
        labels(
            &plan(
                &with_default,
                "persister-test-save",
                &test_message(None),
                clock()
            )
            .unwrap()
        ),
        ["version-2", "version-1-or-2"]
    );
}

#[test]
fn unknown_topic_plans_nothing() {
    assert!(plan(&shipped(), "no-such-topic", &json!({}), clock())
        .unwrap()
        .is_empty());
}

#[test]
fn test_config_plans_every_rule() {
    let config = shipped();
    let out = plan(&config, "persister-test-save", &test_message(None), clock()).unwrap();
    // save-parent: 5 queries; 2 version mappings: 1 query each.
    assert_eq!(out.len(), 7);
    assert!(out
        .iter()
        .all(|s| !s.sql.contains('?') || s.sql.contains("'v1.0 (1.0.x?)'")));
    assert_eq!(out[0].query_index, 0);
    assert_eq!(out[4].query_index, 4);
    assert!(out[0].query_map().is_some());

    // Parent.
    assert_eq!(
        out[0].rows,
        [vec![
            text("P-1"),
            text("pg.citya"),
            text("first"),
            num("42"),
            num("12345678901234567890.123456789"),
            num("0.1"),
            BindValue::Bool(true),
            text(r#"{"colour":"red","sizes":[1,2]}"#),
            BindValue::Json(json!({"colour": "red", "sizes": [1, 2]})),
            BindValue::Json(Value::Null),
            BindValue::Null,
            BindValue::Timestamp(
                NaiveDate::from_ymd_opt(2023, 8, 15)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
            ),
            num("1700000000000"),
            BindValue::Date(NaiveDate::from_ymd_opt(2023, 11, 14).unwrap()),
            BindValue::Timestamp(clock().naive_utc()),
            BindValue::Long(clock().timestamp_millis()),
            BindValue::Null,
            text("u-2"),
            text("u-1"),
            num("1700000000000"),
            num("1700000000001"),
        ]]
    );
    assert!(out[0].sql.contains("VALUES ($1, $2"));
    assert!(out[0].sql.ends_with("$21)"));

    // Address (no "$.", no "*").
    assert_eq!(
        out[1].rows,
        [[text("P-1"), text("Springfield"), num("12.50")]]
    );

    // Children.
    assert_eq!(
        out[2].rows,
        [
            vec![
                text("C-1"),
                text("P-1"),
                text("A"),
                text("GRO,CSR"),
                BindValue::Json(json!({"k": "v"})),
                text("n1"),
                BindValue::Null
            ],
            vec![
                text("C-2"),
                text("P-1"),
                text("B"),
                BindValue::Null,
                BindValue::Json(Value::Null),
                BindValue::Null,
                BindValue::Null
            ],
            vec![
                text("C-3"),
                text("P-1"),
                text("C"),
                text("EMPLOYEE"),
                BindValue::Json(json!([1, "two"])),
                BindValue::Null,
                BindValue::Null
            ],
        ]
    );

    // Optional child: only C-1 has info.
    assert_eq!(out[3].rows, [[text("C-1"), num("1"), text("n1")]]);

    // Items, flattened, with the {id} parent reference.
    assert_eq!(
        out[4].rows,
        [
            [text("I-1"), text("C-1"), text("pg.citya"), num("1")],
            [text("I-2"), text("C-1"), text("pg.citya"), num("2")],
            [text("I-3"), text("C-2"), text("pg.citya"), num("3")],
        ]
    );

    // Version mappings.
    assert_eq!(out[5].rows, [[text("P-1")]]);
    assert!(out[5].sql.contains("VALUES ($1, 'v1.0 (1.0.x?)')"));
    assert_eq!(out[6].rows, [[text("P-1")]]);
    assert!(out[6].sql.contains("'v1-or-v2'"));

    // Without an address the address query has no rows; everything else still runs.
    let mut m = test_message(None);
    m["Parent"]["address"] = Value::Null;
    let out = plan(&config, "persister-test-save", &m, clock()).unwrap();
    assert_eq!(out[0].rows.len(), 1);
    assert!(out[1].rows.is_empty());
    // An absolute definite path *through* a null fails the message (Jayway).
    let c = one_query("$.A", &["jsonPath: $.A.address.city"]);
    let err = rows(&c, &json!({"A": {"address": null}})).unwrap_err();
    assert!(matches!(err, EvalError::PathNotFound { .. }), "{err}");
}

#[test]
fn test_config_update_and_batch_topics() {
    let config = shipped();
    let out = plan(
        &config,
        "persister-test-update",
        &test_message(None),
        clock(),
    )
    .unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        &*out[0].sql,
        "UPDATE persister_test_parent SET name = $1, details = $2, last_modified_time = $3 WHERE id = $4;"
    );
    assert_eq!(
        out[0].rows,
        [[
            text("first"),
            BindValue::Json(json!({"colour": "red", "sizes": [1, 2]})),
            num("1700000000001"),
            text("P-1")
        ]]
    );

    let batch = json!({"RequestInfo": {}, "Items": [
        {"id": "B-1", "tenantId": "pg", "payload": {"n": 1}},
        {"id": "B-2", "tenantId": "pg"}
    ]});
    let out = plan(&config, "persister-test-save-batch", &batch, clock()).unwrap();
    assert_eq!(
        out[0].rows,
        [
            [text("B-1"), text("pg"), BindValue::Json(json!({"n": 1}))],
            [text("B-2"), text("pg"), BindValue::Json(Value::Null)],
        ]
    );
    assert_eq!(out[0].mapping.is_batch, Some(true));
}

#[test]
fn test_config_poison_messages() {
    let config = shipped();
    // A missing definite key in the parent.
    let mut m = test_message(None);
    m["Parent"]["auditDetails"]
        .as_object_mut()
        .unwrap()
        .remove("createdBy");
    let err = plan(&config, "persister-test-save", &m, clock()).unwrap_err();
    assert!(
        matches!(err, EvalError::PathNotFound { ref path, .. } if path == "$.Parent.auditDetails.createdBy"),
        "{err}"
    );
    assert!(err.to_string().contains("save-parent"), "{err}");
    assert!(err.to_string().contains("test-persister.yml"), "{err}");
    // No Parent at all.
    let err = plan(
        &config,
        "persister-test-save",
        &json!({"RequestInfo": {}}),
        clock(),
    )
    .unwrap_err();
    assert!(matches!(err, EvalError::PathNotFound { .. }), "{err}");
    // An unparseable LONG→DATE value.
    let mut m = test_message(None);
    m["Parent"]["epochMs"] = json!("yesterday");
    let err = plan(&config, "persister-test-save", &m, clock()).unwrap_err();
    assert!(matches!(err, EvalError::InvalidDate { .. }), "{err}");
}

// ---- the workflow config ------------------------------------------------------------------

fn workflow_message() -> Value {
    msg(r#"{
  "RequestInfo": {"apiId": "Rainmaker", "ver": ".01", "ts": null, "action": "_transition",
                  "msgId": "m-1", "authToken": "t", "userInfo": {"uuid": "emp-1", "type": "EMPLOYEE"}},
  "ProcessInstances": [
    {
      "id": "pi-1",
      "tenantId": "pg.citya",
      "businessService": "PGR",
      "businessId": "PG-PGR-2024-01-01-000001",
      "action": "ASSIGN",
      "moduleName": "pgr-services",
      "state": {"uuid": "st-assigned", "tenantId": "pg", "businessServiceId": "bs-1", "sla": 36000000,
                "state": "PENDINGATLME", "applicationStatus": "PENDINGATLME", "docUploadRequired": false,
                "isStartState": false, "isTerminateState": false, "isStateUpdatable": true,
                "actions": null, "auditDetails": null},
      "comment": "Please look into this",
      "documents": [
        {"id": "doc-1", "tenantId": "pg.citya", "documentType": "PHOTO", "fileStoreId": "fs-1",
         "documentUid": null,
         "auditDetails": {"createdBy": "emp-1", "lastModifiedBy": "emp-1",
                          "createdTime": 1717171717000, "lastModifiedTime": 1717171717000}},
        {"id": "doc-2", "tenantId": "pg.citya", "documentType": "PDF", "fileStoreId": "fs-2",
         "documentUid": "uid-2", "auditDetails": null}
      ],
      "assigner": {"uuid": "emp-1", "name": "Employee", "type": "EMPLOYEE", "roles": []},
      "assignes": [{"uuid": "lme-1"}, {"uuid": "lme-2", "name": "Second"}],
      "nextActions": [],
      "stateSla": 36000000,
      "businesssServiceSla": 432000000,
      "previousStatus": "st-pending",
      "entity": null,
      "auditDetails": {"createdBy": "emp-1", "lastModifiedBy": "emp-1",
                       "createdTime": 1717171717000, "lastModifiedTime": 1717171718000},
      "rating": null,
      "escalated": false
    },
    {
      "id": "pi-2",
      "tenantId": "pg.citya",
      "businessService": "PGR",
      "businessId": "PG-PGR-2024-01-01-000002",
      "action": "APPLY",
      "moduleName": "pgr-services",
      "state": {"uuid": "st-pending"},
      "comment": null,
      "documents": null,
      "assigner": {"uuid": "cit-1"},
      "assignes": null,
      "stateSla": null,
      "businesssServiceSla": 432000000,
      "previousStatus": null,
      "auditDetails": {"createdBy": "cit-1", "lastModifiedBy": "cit-1",
                       "createdTime": 1717171719000, "lastModifiedTime": 1717171719000},
      "rating": 5,
      "escalated": true
    }
  ]
}"#)
}

#[test]
fn workflow_config_plans_a_realistic_transition() {
    let config = shipped();
    let out = plan(&config, "save-wf-transitions", &workflow_message(), clock()).unwrap();
    assert_eq!(out.len(), 3);
    assert!(out[0]
        .sql
        .starts_with("INSERT INTO eg_wf_processinstance_v2"));
    assert_eq!(
        out[0].rows,
        [
            vec![
                text("pi-1"),
                text("pg.citya"),
                text("PGR"),
                text("PG-PGR-2024-01-01-000001"),
                text("ASSIGN"),
                text("st-assigned"),
                text("Please look into this"),
                text("emp-1"),
                num("36000000"),
                num("432000000"),
                text("st-pending"),
                text("pgr-services"),
                BindValue::Null,
                BindValue::Bool(false),
                text("emp-1"),
                text("emp-1"),
                num("1717171717000"),
                num("1717171718000"),
            ],
            vec![
                text("pi-2"),
                text("pg.citya"),
                text("PGR"),
                text("PG-PGR-2024-01-01-000002"),
                text("APPLY"),
                text("st-pending"),
                BindValue::Null,
                text("cit-1"),
                BindValue::Null,
                num("432000000"),
                BindValue::Null,
                text("pgr-services"),
                num("5"),
                BindValue::Bool(true),
                text("cit-1"),
                text("cit-1"),
                num("1717171719000"),
                num("1717171719000"),
            ],
        ]
    );
    assert!(out[1].sql.starts_with("INSERT INTO eg_wf_document_v2"));
    assert_eq!(
        out[1].rows,
        [
            vec![
                text("doc-1"),
                text("pg.citya"),
                text("pi-1"),
                text("PHOTO"),
                text("fs-1"),
                BindValue::Null,
                text("emp-1"),
                text("emp-1"),
                num("1717171717000"),
                num("1717171717000"),
            ],
            vec![
                text("doc-2"),
                text("pg.citya"),
                text("pi-1"),
                text("PDF"),
                text("fs-2"),
                text("uid-2"),
                BindValue::Null,
                BindValue::Null,
                BindValue::Null,
                BindValue::Null,
            ],
        ]
    );
    assert!(out[2].sql.starts_with("INSERT INTO eg_wf_assignee_v2"));
    assert_eq!(
        out[2].rows,
        [
            vec![
                text("pi-1"),
                text("pg.citya"),
                text("lme-1"),
                text("emp-1"),
                text("emp-1"),
                num("1717171717000"),
                num("1717171718000"),
            ],
            vec![
                text("pi-1"),
                text("pg.citya"),
                text("lme-2"),
                text("emp-1"),
                text("emp-1"),
                num("1717171717000"),
                num("1717171718000"),
            ],
        ]
    );
}

#[test]
fn workflow_config_without_documents_or_assignees() {
    let mut m = workflow_message();
    m["ProcessInstances"] = json!([m["ProcessInstances"][1].clone()]);
    let out = plan(&shipped(), "save-wf-transitions", &m, clock()).unwrap();
    assert_eq!(out[0].rows.len(), 1);
    assert!(out[1].rows.is_empty());
    assert!(out[2].rows.is_empty());
    // Empty ProcessInstances: nothing to write.
    let out = plan(
        &shipped(),
        "save-wf-transitions",
        &json!({"ProcessInstances": []}),
        clock(),
    )
    .unwrap();
    assert!(out.iter().all(|s| s.rows.is_empty()));
}

#[test]
fn bind_value_from_json() {
    assert_eq!(BindValue::from_json(&Value::Null), BindValue::Null);
    assert!(BindValue::from_json(&Value::Null).is_null());
    assert_eq!(BindValue::from_json(&json!(true)), BindValue::Bool(true));
    assert_eq!(BindValue::from_json(&json!("s")), text("s"));
    assert_eq!(
        BindValue::from_json(&json!({"a": [1]})),
        text("{\"a\":[1]}")
    );
    assert_eq!(BindValue::from_json(&msg("1.000")), num("1.000"));
}
