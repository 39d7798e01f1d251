//! Master data loaded from DIGIT v1 files at start-up, searched with upstream's tenant
//! fallback and JSONPath filters.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use digit_core::tenant::lineage_of;
use digit_core::RequestInfo;
use digit_jsonpath::JsonPath;
use digit_service::config::{Env, EnvVar};
use serde_json::{Map, Value};

use crate::error::MdmsError;
use crate::model::{MdmsCriteria, MdmsRes};
use crate::MdmsSource;

/// The embedded data directory.
pub const MDMS_CONFIG_PATH: EnvVar = EnvVar {
    name: "MDMS_CONFIG_PATH",
    aliases: &[],
    default: DEFAULT_MDMS_CONFIG_PATH,
    help: "Embedded MDMS data folder",
};
/// Data directory used when [`MDMS_CONFIG_PATH`] is unset.
pub const DEFAULT_MDMS_CONFIG_PATH: &str = "configs/mdms";

/// module → master → JSON array.
type TenantData = HashMap<String, HashMap<String, Value>>;

/// Master data held in memory.
///
/// Files are DIGIT v1 master files: JSON objects
/// `{"tenantId": "pg", "moduleName": "common-masters", "<Master>": [...], ...}`. Every other
/// top-level key whose value is an array is a master (one file may carry several). The
/// directory layout does not matter (by convention `<tenant>/<module>/<master>.json`); the
/// tenant and module come from the file. Several files holding the same (tenant, module,
/// master) are **merged by appending** their entries, in path order. JSON objects without a
/// `tenantId` or `moduleName` string are skipped with a warning; unreadable or invalid JSON
/// fails the load.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedMdms {
    tenants: HashMap<String, TenantData>,
}

impl EmbeddedMdms {
    /// Loads every `*.json` file under `path`, recursively.
    pub fn load(path: impl AsRef<Path>) -> Result<EmbeddedMdms, MdmsError> {
        let root = path.as_ref();
        let mut files = Vec::new();
        collect_json_files(root, 0, &mut files)?;
        files.sort();
        let mut mdms = EmbeddedMdms::default();
        for file in files {
            let load_err = |reason: String| MdmsError::Load {
                path: file.display().to_string(),
                reason,
            };
            let text = fs::read_to_string(&file).map_err(|e| load_err(e.to_string()))?;
            let doc: Value = serde_json::from_str(&text).map_err(|e| load_err(e.to_string()))?;
            mdms.ingest(doc, &file.display().to_string());
        }
        tracing::info!(
            path = %root.display(),
            tenants = mdms.tenants.len(),
            "Loaded master data."
        );
        Ok(mdms)
    }

    /// Loads from [`MDMS_CONFIG_PATH`] (default `configs/mdms`).
    pub fn from_env(env: &Env) -> Result<EmbeddedMdms, MdmsError> {
        EmbeddedMdms::load(env.get_or_default(&MDMS_CONFIG_PATH))
    }

    /// Builds from in-memory v1 documents (same rules as files).
    pub fn from_documents(docs: impl IntoIterator<Item = Value>) -> EmbeddedMdms {
        let mut mdms = EmbeddedMdms::default();
        for (i, doc) in docs.into_iter().enumerate() {
            mdms.ingest(doc, &format!("document #{i}"));
        }
        mdms
    }

    /// Tenants that have data, in no particular order.
    pub fn tenants(&self) -> impl Iterator<Item = &str> {
        self.tenants.keys().map(String::as_str)
    }

    fn ingest(&mut self, doc: Value, origin: &str) {
        let Value::Object(obj) = doc else {
            tracing::warn!(origin, "Skipping master data: not a JSON object.");
            return;
        };
        let tenant = obj.get("tenantId").and_then(Value::as_str).map(str::trim);
        let module = obj.get("moduleName").and_then(Value::as_str).map(str::trim);
        let (Some(tenant), Some(module)) = (tenant, module) else {
            tracing::warn!(
                origin,
                "Skipping master data: tenantId or moduleName missing."
            );
            return;
        };
        if tenant.is_empty() || module.is_empty() {
            tracing::warn!(
                origin,
                "Skipping master data: empty tenantId or moduleName."
            );
            return;
        }
        let (tenant, module) = (tenant.to_string(), module.to_string());
        let masters = self
            .tenants
            .entry(tenant)
            .or_default()
            .entry(module)
            .or_default();
        for (key, value) in obj {
            if key == "tenantId" || key == "moduleName" {
                continue;
            }
            let Value::Array(items) = value else {
                continue;
            };
            match masters
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(existing) => existing.extend(items),
                other => *other = Value::Array(items),
            }
        }
    }

    /// The search, synchronously (see [`MdmsSource::search`] for the semantics).
    pub fn search_now(&self, criteria: &MdmsCriteria) -> Result<MdmsRes, MdmsError> {
        let lineage: Vec<&str> = lineage_of(criteria.tenant_id.trim()).collect();
        let Some(first) = lineage.iter().position(|t| self.tenants.contains_key(*t)) else {
            return Ok(Map::new());
        };
        let chain = &lineage[first..];
        let mut res = Map::new();
        for module in &criteria.module_details {
            let name = &module.module_name;
            if !res.contains_key(name) {
                res.insert(name.clone(), Value::Object(Map::new()));
            }
            for master in &module.master_details {
                let found = chain
                    .iter()
                    .find_map(|tenant| self.tenants.get(*tenant)?.get(name)?.get(&master.name));
                let Some(entries) = found else {
                    continue;
                };
                let value = match master.filter.as_deref().map(str::trim) {
                    Some(filter) if !filter.is_empty() => {
                        apply_filter(entries, filter, name, &master.name)?
                    }
                    _ => entries.clone(),
                };
                if let Some(Value::Object(masters)) = res.get_mut(name) {
                    masters.insert(master.name.clone(), value);
                }
            }
        }
        Ok(res)
    }
}

/// Applies a master filter with the master's array as root. An indefinite path yields the
/// list of its matches; a definite one its value (an array as is, anything else wrapped).
pub(crate) fn apply_filter(
    entries: &Value,
    filter: &str,
    module: &str,
    master: &str,
) -> Result<Value, MdmsError> {
    let invalid = |reason: String| MdmsError::InvalidFilter {
        module: module.to_string(),
        master: master.to_string(),
        reason,
    };
    let path = JsonPath::parse(filter).map_err(|e| invalid(e.to_string()))?;
    let found = path.read(entries).map_err(|e| invalid(e.to_string()))?;
    if path.is_definite() {
        return Ok(match found.into_iter().next().map(|v| v.into_owned()) {
            Some(Value::Array(items)) => Value::Array(items),
            Some(other) => Value::Array(vec![other]),
            None => Value::Array(Vec::new()),
        });
    }
    Ok(Value::Array(
        found.into_iter().map(|v| v.into_owned()).collect(),
    ))
}

/// Deepest directory nesting followed (guards against symlink loops).
const MAX_DIR_DEPTH: usize = 16;

fn collect_json_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), MdmsError> {
    let load_err = |path: &Path, reason: String| MdmsError::Load {
        path: path.display().to_string(),
        reason,
    };
    if depth > MAX_DIR_DEPTH {
        return Err(load_err(
            dir,
            format!("directories nested deeper than {MAX_DIR_DEPTH}"),
        ));
    }
    let entries = fs::read_dir(dir).map_err(|e| load_err(dir, e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| load_err(dir, e.to_string()))?;
        let path = entry.path();
        let meta = fs::metadata(&path).map_err(|e| load_err(&path, e.to_string()))?;
        if meta.is_dir() {
            collect_json_files(&path, depth + 1, out)?;
        } else if meta.is_file()
            && path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MdmsSource for EmbeddedMdms {
    async fn search_with(
        &self,
        _request_info: &RequestInfo,
        criteria: &MdmsCriteria,
    ) -> Result<MdmsRes, MdmsError> {
        self.search_now(criteria)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MasterDetail, ModuleDetail};
    use serde_json::json;

    fn mdms() -> EmbeddedMdms {
        EmbeddedMdms::from_documents([
            json!({"tenantId": "pg", "moduleName": "common-masters",
                "Department": [{"code": "D1", "active": true}, {"code": "D2", "active": false}],
                "Designation": [{"code": "DES1"}],
                "note": "not a master"}),
            json!({"tenantId": "pg", "moduleName": "RAINMAKER-PGR",
                "ServiceDefs": [{"serviceCode": "S1", "active": true}]}),
            json!({"tenantId": "pg.citya", "moduleName": "common-masters",
                "Department": [{"code": "CITY_D1", "active": true}]}),
            json!({"tenantId": "pg.citya", "moduleName": "egov-location",
                "TenantBoundary": [{"boundary": {"code": "pg.citya"}}]}),
        ])
    }

    /// (module, [(master, filter)]).
    type Wanted<'a> = (&'a str, &'a [(&'a str, Option<&'a str>)]);

    fn criteria(tenant: &str, modules: &[Wanted<'_>]) -> MdmsCriteria {
        MdmsCriteria {
            tenant_id: tenant.to_string(),
            module_details: modules
                .iter()
                .map(|(m, masters)| ModuleDetail {
                    module_name: (*m).to_string(),
                    master_details: masters
                        .iter()
                        .map(|(n, f)| MasterDetail {
                            name: (*n).to_string(),
                            filter: f.map(str::to_string),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn search(c: &MdmsCriteria) -> Value {
        Value::Object(mdms().search_now(c).expect("search succeeds"))
    }

    #[test]
    fn city_master_overrides_state_master() {
        let res = search(&criteria(
            "pg.citya",
            &[(
                "common-masters",
                &[("Department", None), ("Designation", None)],
            )],
        ));
        assert_eq!(
            res,
            json!({"common-masters": {
                "Department": [{"code": "CITY_D1", "active": true}],
                "Designation": [{"code": "DES1"}]
            }})
        );
    }

    #[test]
    fn city_without_data_falls_back_to_state() {
        let res = search(&criteria(
            "pg.cityb",
            &[("common-masters", &[("Department", None)])],
        ));
        assert_eq!(
            res["common-masters"]["Department"],
            json!([{"code": "D1", "active": true}, {"code": "D2", "active": false}])
        );
        // Deeper tenants walk up as well.
        let res = search(&criteria(
            "pg.citya.ward1",
            &[("egov-location", &[("TenantBoundary", None)])],
        ));
        assert_eq!(
            res["egov-location"]["TenantBoundary"],
            json!([{"boundary": {"code": "pg.citya"}}])
        );
    }

    #[test]
    fn missing_masters_are_omitted_and_modules_kept() {
        let res = search(&criteria(
            "pg",
            &[
                ("common-masters", &[("Nope", None), ("Designation", None)]),
                ("NO-SUCH-MODULE", &[("X", None)]),
                ("egov-location", &[("TenantBoundary", None)]),
            ],
        ));
        assert_eq!(
            res,
            json!({
                "common-masters": {"Designation": [{"code": "DES1"}]},
                "NO-SUCH-MODULE": {},
                "egov-location": {}
            })
        );
    }

    #[test]
    fn unknown_tenant_root_yields_empty_result() {
        let res = search(&criteria(
            "xx.citya",
            &[("common-masters", &[("Department", None)])],
        ));
        assert_eq!(res, json!({}));
    }

    #[test]
    fn filters_apply_to_the_master_array() {
        let res = search(&criteria(
            "pg",
            &[(
                "common-masters",
                &[("Department", Some("[?(@.active==true)]"))],
            )],
        ));
        assert_eq!(
            res["common-masters"]["Department"],
            json!([{"code": "D1", "active": true}])
        );
        let res = search(&criteria(
            "pg",
            &[(
                "common-masters",
                &[("Department", Some("[?(@.code IN ['D2','D9'])]"))],
            )],
        ));
        assert_eq!(
            res["common-masters"]["Department"],
            json!([{"code": "D2", "active": false}])
        );
        let res = search(&criteria(
            "pg",
            &[("common-masters", &[("Department", Some("$.*.code"))])],
        ));
        assert_eq!(res["common-masters"]["Department"], json!(["D1", "D2"]));
        let res = search(&criteria(
            "pg",
            &[("common-masters", &[("Department", Some("[*]['code']"))])],
        ));
        assert_eq!(res["common-masters"]["Department"], json!(["D1", "D2"]));
        // A definite filter's single value is wrapped in a list; blank filters are ignored.
        let res = search(&criteria(
            "pg",
            &[(
                "common-masters",
                &[("Department", Some("$[1]")), ("Designation", Some("  "))],
            )],
        ));
        assert_eq!(
            res["common-masters"],
            json!({"Department": [{"code": "D2", "active": false}], "Designation": [{"code": "DES1"}]})
        );
    }

    #[test]
    fn invalid_filters_are_errors() {
        for bad in ["[?(@.active ==)]", "$.missing"] {
            let err = mdms()
                .search_now(&criteria(
                    "pg",
                    &[("common-masters", &[("Department", Some(bad))])],
                ))
                .expect_err(bad);
            assert!(
                matches!(&err, MdmsError::InvalidFilter { master, .. } if master == "Department"),
                "{err:?}"
            );
        }
    }

    #[test]
    fn documents_for_the_same_master_are_appended() {
        let m = EmbeddedMdms::from_documents([
            json!({"tenantId": "pg", "moduleName": "m", "A": [1], "B": [10]}),
            json!({"tenantId": "pg", "moduleName": "m", "A": [2, 3]}),
            json!({"moduleName": "m", "A": [99]}),
            json!([1, 2]),
        ]);
        let res = m
            .search_now(&criteria("pg", &[("m", &[("A", None), ("B", None)])]))
            .expect("search succeeds");
        assert_eq!(
            Value::Object(res),
            json!({"m": {"A": [1, 2, 3], "B": [10]}})
        );
        assert_eq!(m.tenants().collect::<Vec<_>>(), ["pg"]);
    }

    #[test]
    fn load_walks_directories_and_merges_files() {
        let dir = std::env::temp_dir().join(format!("digit-mdms-{}", uuid::Uuid::new_v4()));
        let nested = dir.join("pg").join("m");
        fs::create_dir_all(&nested).expect("mkdir");
        fs::write(
            nested.join("a.json"),
            r#"{"tenantId":"pg","moduleName":"m","X":[{"n":1}]}"#,
        )
        .expect("write");
        fs::write(
            nested.join("b.json"),
            r#"{"tenantId":"pg","moduleName":"m","X":[{"n":2}],"Y":[true]}"#,
        )
        .expect("write");
        fs::write(dir.join("notes.txt"), "ignored").expect("write");
        let m = EmbeddedMdms::load(&dir).expect("loads");
        let res = m
            .search_now(&criteria("pg.any", &[("m", &[("X", None), ("Y", None)])]))
            .expect("search succeeds");
        assert_eq!(
            Value::Object(res),
            json!({"m": {"X": [{"n": 1}, {"n": 2}], "Y": [true]}})
        );
        fs::write(nested.join("c.json"), "{not json").expect("write");
        assert!(matches!(
            EmbeddedMdms::load(&dir),
            Err(MdmsError::Load { .. })
        ));
        fs::remove_dir_all(&dir).expect("cleanup");
        assert!(matches!(
            EmbeddedMdms::load(&dir),
            Err(MdmsError::Load { .. })
        ));
    }
}
