//! Boundary search over MDMS `egov-location.TenantBoundary` (the data egov-location and
//! boundary-service answer from): pure tree walking and matching, no I/O.
//!
//! A `TenantBoundary` entry is one hierarchy: `{"hierarchyType": {"code", "name"},
//! "boundary": <root node>}`, each node carrying `id, boundaryNum, name, localname,
//! latitude, longitude, label, code, area, children` (the egov-location master format).
//! The search picks the hierarchies whose `hierarchyType.code` matches, then the nodes whose
//! `label` (the boundary type) and `code` match, in tree order (pre-order).

use serde::Serialize;
use serde_json::{Map, Value};

use digit_core::ResponseInfo;

use crate::error::MdmsError;

/// The MDMS module holding boundary trees.
pub const BOUNDARY_MODULE: &str = "egov-location";
/// The master holding boundary trees (one entry per hierarchy).
pub const BOUNDARY_MASTER: &str = "TenantBoundary";
/// Most `codes` one boundary search may carry.
pub const MAX_BOUNDARY_CODES: usize = 100;
/// Deepest node nesting followed (a tree deeper than this is cut there, never a stack
/// overflow: the data may come from a remote MDMS).
const MAX_DEPTH: usize = 64;

/// What to look for in the boundary trees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoundaryQuery {
    /// `hierarchyType.code` to match, case-insensitively (`ADMIN`); `None` = every hierarchy.
    pub hierarchy_type: Option<String>,
    /// Node `label` to match, case-insensitively (`Locality` or `locality`); `None` = any
    /// type when `codes` are given, else only the roots.
    pub boundary_type: Option<String>,
    /// Node codes to match exactly; empty = every node of `boundary_type`.
    pub codes: Vec<String>,
    /// Matching nodes keep their stored `children` (else `children` is `[]`).
    pub include_children: bool,
    /// Answer the path from each root down to the matching nodes instead of the nodes
    /// alone: the roots come back with `children` cut to the branches that lead to a match.
    pub include_parents: bool,
}

impl BoundaryQuery {
    /// Checks the request bounds ([`MAX_BOUNDARY_CODES`]).
    pub fn check_limits(&self) -> Result<(), MdmsError> {
        if self.codes.len() > MAX_BOUNDARY_CODES {
            return Err(MdmsError::TooLarge(format!(
                "At most {MAX_BOUNDARY_CODES} codes are allowed per boundary search"
            )));
        }
        Ok(())
    }

    fn wants(&self, node: &Value, is_root: bool) -> bool {
        if !node.is_object() {
            return false;
        }
        let type_ok = match self.boundary_type.as_deref() {
            Some(wanted) => text(node, "label").is_some_and(|l| l.eq_ignore_ascii_case(wanted)),
            None => is_root || !self.codes.is_empty(),
        };
        let code_ok = self.codes.is_empty()
            || text(node, "code").is_some_and(|c| self.codes.iter().any(|w| w == c));
        type_ok && code_ok
    }
}

/// The matching nodes of one hierarchy.
#[derive(Debug, Clone, PartialEq)]
pub struct HierarchyBoundaries {
    /// The hierarchy's `hierarchyType` as stored (`{"code": "ADMIN", "name": "ADMIN"}`).
    pub hierarchy_type: Value,
    /// The matching nodes (or, with `include_parents`, the cut roots), in tree order.
    pub boundary: Vec<Value>,
}

impl HierarchyBoundaries {
    /// `hierarchyType.code` (or `hierarchyType` itself when stored as a string).
    pub fn hierarchy_code(&self) -> Option<&str> {
        hierarchy_code(&self.hierarchy_type)
    }
}

/// Searches `trees` (the `TenantBoundary` entries of one tenant). Hierarchies without a
/// matching node are left out, so nothing found is an empty list.
pub fn search_boundaries(trees: &[Value], query: &BoundaryQuery) -> Vec<HierarchyBoundaries> {
    let wanted_hierarchy = query
        .hierarchy_type
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty());
    trees
        .iter()
        .filter_map(|tree| {
            let hierarchy_type = tree.get("hierarchyType").cloned().unwrap_or(Value::Null);
            if let Some(wanted) = wanted_hierarchy {
                if !hierarchy_code(&hierarchy_type)
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case(wanted))
                {
                    return None;
                }
            }
            let roots: &[Value] = match tree.get("boundary") {
                Some(Value::Array(roots)) => roots,
                Some(root @ Value::Object(_)) => std::slice::from_ref(root),
                _ => &[],
            };
            let boundary: Vec<Value> = if query.include_parents {
                roots.iter().filter_map(|r| cut(r, query, 0)).collect()
            } else {
                let mut found = Vec::new();
                for root in roots {
                    collect(root, query, 0, &mut found);
                }
                found
            };
            (!boundary.is_empty()).then_some(HierarchyBoundaries {
                hierarchy_type,
                boundary,
            })
        })
        .collect()
}

/// Gives every node (and its children) a `boundaryType` equal to its `label` when it has
/// none: the field boundary-service clients read, beside egov-location's `label`.
pub fn add_boundary_type(nodes: &mut [Value]) {
    for node in nodes {
        add_boundary_type_at(node, 0);
    }
}

fn add_boundary_type_at(node: &mut Value, depth: usize) {
    let Value::Object(object) = node else {
        return;
    };
    if !object.contains_key("boundaryType") {
        if let Some(label) = object.get("label").cloned() {
            object.insert("boundaryType".into(), label);
        }
    }
    if depth < MAX_DEPTH {
        if let Some(Value::Array(children)) = object.get_mut("children") {
            for child in children {
                add_boundary_type_at(child, depth + 1);
            }
        }
    }
}

/// One level of a hierarchy definition (boundary-service's `boundaryHierarchy` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BoundaryLevel {
    /// The level's type (the nodes' `label`).
    pub boundary_type: String,
    /// The type of the level above (none at the root).
    pub parent_boundary_type: Option<String>,
    /// Always true (the embedded data has no inactive levels).
    pub active: bool,
}

/// The level chain of each hierarchy in `trees`: each node label in the order first met
/// walking the tree breadth first, with the label of the node's parent. `(hierarchy code,
/// levels)`, in the trees' order; a hierarchy without labels is left out.
pub fn hierarchy_definitions(trees: &[Value]) -> Vec<(String, Vec<BoundaryLevel>)> {
    let mut out = Vec::new();
    for tree in trees {
        let Some(code) = tree.get("hierarchyType").and_then(hierarchy_code) else {
            continue;
        };
        let mut levels: Vec<BoundaryLevel> = Vec::new();
        let mut queue: std::collections::VecDeque<(&Value, Option<String>)> =
            match tree.get("boundary") {
                Some(Value::Array(roots)) => roots.iter().map(|r| (r, None)).collect(),
                Some(root @ Value::Object(_)) => std::iter::once((root, None)).collect(),
                _ => Default::default(),
            };
        // Bounded: every node is visited once (the data is a tree of files we ship).
        while let Some((node, parent)) = queue.pop_front() {
            let label = text(node, "label").map(str::to_owned);
            if let Some(l) = &label {
                if !levels.iter().any(|x| &x.boundary_type == l) {
                    levels.push(BoundaryLevel {
                        boundary_type: l.clone(),
                        parent_boundary_type: parent.clone(),
                        active: true,
                    });
                }
            }
            if let Some(Value::Array(children)) = node.get("children") {
                queue.extend(
                    children
                        .iter()
                        .map(|c| (c, label.clone().or_else(|| parent.clone()))),
                );
            }
        }
        if !levels.is_empty() {
            out.push((code.to_owned(), levels));
        }
    }
    out
}

fn hierarchy_code(hierarchy_type: &Value) -> Option<&str> {
    match hierarchy_type {
        Value::String(code) => Some(code),
        other => other.get("code").and_then(Value::as_str),
    }
}

fn text<'v>(node: &'v Value, key: &str) -> Option<&'v str> {
    node.get(key).and_then(Value::as_str).map(str::trim)
}

fn children(node: &Value) -> &[Value] {
    node.get("children")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `node` with `children` replaced.
fn with_children(node: &Value, children: Vec<Value>) -> Value {
    let mut object = node.as_object().cloned().unwrap_or_else(Map::new);
    object.insert("children".into(), Value::Array(children));
    Value::Object(object)
}

/// A matching node as answered: stored children with `include_children`, else none.
fn render(node: &Value, query: &BoundaryQuery) -> Value {
    let kept = if query.include_children {
        children(node).to_vec()
    } else {
        Vec::new()
    };
    with_children(node, kept)
}

/// Pre-order walk pushing every matching node.
fn collect(node: &Value, query: &BoundaryQuery, depth: usize, out: &mut Vec<Value>) {
    if query.wants(node, depth == 0) {
        out.push(render(node, query));
    }
    if depth < MAX_DEPTH {
        for child in children(node) {
            collect(child, query, depth + 1, out);
        }
    }
}

/// The subtree of `node` that leads to matching nodes, or `None` when it holds none. A
/// matching node keeps its stored children with `include_children`; otherwise nodes keep
/// only the children that lead to a match.
fn cut(node: &Value, query: &BoundaryQuery, depth: usize) -> Option<Value> {
    let is_match = query.wants(node, depth == 0);
    if is_match && query.include_children {
        return Some(render(node, query));
    }
    let kept: Vec<Value> = if depth < MAX_DEPTH {
        children(node)
            .iter()
            .filter_map(|child| cut(child, query, depth + 1))
            .collect()
    } else {
        Vec::new()
    };
    (is_match || !kept.is_empty()).then(|| with_children(node, kept))
}

// ----------------------------------------------------------------------------- wire models

/// boundary-service's answer to `boundary-relationships/_search`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BoundaryRelationshipResponse {
    /// Built from the request's `RequestInfo`.
    #[serde(rename = "ResponseInfo")]
    pub response_info: ResponseInfo,
    /// One entry per matching hierarchy; empty when nothing matched.
    #[serde(rename = "TenantBoundary")]
    pub tenant_boundary: Vec<HierarchyRelation>,
}

/// boundary-service's `HierarchyRelation`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HierarchyRelation {
    /// The tenant searched.
    pub tenant_id: String,
    /// The hierarchy's code (boundary-service carries it as a string).
    pub hierarchy_type: Option<String>,
    /// The matching nodes.
    pub boundary: Vec<Value>,
}

/// egov-location's answer to `location/v11/boundarys/_search`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LocationBoundaryResponse {
    /// Built from the request's `RequestInfo`.
    #[serde(rename = "ResponseInfo")]
    pub response_info: ResponseInfo,
    /// One entry per matching hierarchy; empty when nothing matched.
    #[serde(rename = "TenantBoundary")]
    pub tenant_boundary: Vec<LocationTenantBoundary>,
}

/// egov-location's `TenantBoundary`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationTenantBoundary {
    /// The hierarchy as stored (`{"code", "name"}`).
    pub hierarchy_type: Value,
    /// The matching nodes.
    pub boundary: Vec<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(code: &str, label: &str, children: Vec<Value>) -> Value {
        json!({"id": code, "name": format!("{code} name"), "label": label, "code": code,
               "children": children})
    }

    /// City → Zone Z1 → Block B1 → Localities L1, L2; Zone Z2 → Locality L3; plus an
    /// ELECTION hierarchy with a ward W1 → locality L1.
    fn trees() -> Vec<Value> {
        vec![
            json!({"hierarchyType": {"code": "ADMIN", "name": "ADMIN"},
            "boundary": node("city", "City", vec![
                node("Z1", "Zone", vec![
                    node("B1", "Block", vec![
                        node("L1", "Locality", vec![]),
                        node("L2", "Locality", vec![]),
                    ]),
                ]),
                node("Z2", "Zone", vec![node("L3", "locality", vec![])]),
            ])}),
            json!({"hierarchyType": {"code": "ELECTION", "name": "ELECTION"},
            "boundary": node("city", "City", vec![
                node("W1", "Ward", vec![node("L1", "Locality", vec![])]),
            ])}),
        ]
    }

    fn query(hierarchy: Option<&str>, kind: Option<&str>, codes: &[&str]) -> BoundaryQuery {
        BoundaryQuery {
            hierarchy_type: hierarchy.map(str::to_string),
            boundary_type: kind.map(str::to_string),
            codes: codes.iter().map(|c| (*c).to_string()).collect(),
            ..BoundaryQuery::default()
        }
    }

    fn codes_of(found: &[HierarchyBoundaries]) -> Vec<(String, Vec<String>)> {
        found
            .iter()
            .map(|h| {
                (
                    h.hierarchy_code().unwrap_or_default().to_string(),
                    h.boundary
                        .iter()
                        .map(|n| n["code"].as_str().unwrap_or_default().to_string())
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn codes_pick_nodes_of_the_type_in_tree_order() {
        let found = search_boundaries(
            &trees(),
            &query(Some("ADMIN"), Some("Locality"), &["L3", "L1"]),
        );
        assert_eq!(
            codes_of(&found),
            [(
                "ADMIN".to_string(),
                vec!["L1".to_string(), "L3".to_string()]
            )]
        );
        // Each node as stored, without its children.
        assert_eq!(
            found[0].boundary[0],
            json!({"id": "L1", "name": "L1 name", "label": "Locality", "code": "L1", "children": []})
        );
        assert_eq!(
            found[0].hierarchy_type,
            json!({"code": "ADMIN", "name": "ADMIN"})
        );
    }

    #[test]
    fn hierarchy_and_type_match_case_insensitively() {
        for (hierarchy, kind) in [
            ("admin", "locality"),
            ("ADMIN", "LOCALITY"),
            ("Admin", "Locality"),
        ] {
            let found = search_boundaries(&trees(), &query(Some(hierarchy), Some(kind), &[]));
            assert_eq!(
                codes_of(&found),
                [(
                    "ADMIN".to_string(),
                    vec!["L1".to_string(), "L2".to_string(), "L3".to_string()]
                )],
                "{hierarchy} {kind}"
            );
        }
    }

    #[test]
    fn without_a_hierarchy_every_hierarchy_answers() {
        let found = search_boundaries(&trees(), &query(None, Some("Locality"), &["L1"]));
        assert_eq!(
            codes_of(&found),
            [
                ("ADMIN".to_string(), vec!["L1".to_string()]),
                ("ELECTION".to_string(), vec!["L1".to_string()]),
            ]
        );
    }

    #[test]
    fn codes_without_a_type_match_any_node_and_no_criteria_give_the_roots() {
        let found = search_boundaries(&trees(), &query(Some("ADMIN"), None, &["Z2", "B1"]));
        assert_eq!(
            codes_of(&found),
            [(
                "ADMIN".to_string(),
                vec!["B1".to_string(), "Z2".to_string()]
            )]
        );
        let found = search_boundaries(&trees(), &query(Some("ADMIN"), None, &[]));
        assert_eq!(
            codes_of(&found),
            [("ADMIN".to_string(), vec!["city".to_string()])]
        );
        assert_eq!(found[0].boundary[0]["children"], json!([]));
    }

    #[test]
    fn nothing_found_is_an_empty_list() {
        let t = trees();
        assert!(
            search_boundaries(&t, &query(Some("ADMIN"), Some("Locality"), &["NOPE"])).is_empty()
        );
        assert!(search_boundaries(&t, &query(Some("REVENUE"), None, &[])).is_empty());
        // A code of another type does not match.
        assert!(search_boundaries(&t, &query(Some("ADMIN"), Some("Locality"), &["Z1"])).is_empty());
        // Codes match exactly.
        assert!(search_boundaries(&t, &query(Some("ADMIN"), Some("Locality"), &["l1"])).is_empty());
        assert!(search_boundaries(&[], &query(None, None, &[])).is_empty());
        // Entries that are not hierarchies are skipped.
        assert!(
            search_boundaries(&[json!(1), json!({"boundary": 2})], &query(None, None, &[]))
                .is_empty()
        );
    }

    #[test]
    fn include_children_keeps_the_stored_subtree() {
        let mut q = query(Some("ADMIN"), Some("Zone"), &["Z1"]);
        q.include_children = true;
        let found = search_boundaries(&trees(), &q);
        let z1 = &found[0].boundary[0];
        assert_eq!(z1["code"], "Z1");
        assert_eq!(z1["children"][0]["code"], "B1");
        assert_eq!(z1["children"][0]["children"][1]["code"], "L2");
    }

    #[test]
    fn include_parents_answers_the_paths_from_the_root() {
        let mut q = query(Some("ADMIN"), Some("Locality"), &["L2", "L3"]);
        q.include_parents = true;
        let found = search_boundaries(&trees(), &q);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].boundary.len(), 1);
        let city = &found[0].boundary[0];
        assert_eq!(city["code"], "city");
        let zones: Vec<&Value> = city["children"].as_array().unwrap().iter().collect();
        assert_eq!(zones.len(), 2);
        assert_eq!(zones[0]["code"], "Z1");
        // Only the branch to L2 is kept under B1.
        assert_eq!(
            zones[0]["children"][0]["children"],
            json!([{"id": "L2", "name": "L2 name", "label": "Locality", "code": "L2", "children": []}])
        );
        assert_eq!(zones[1]["children"][0]["code"], "L3");

        // With children too, a matching node keeps its whole subtree.
        let mut q = query(Some("ADMIN"), Some("Zone"), &["Z1"]);
        q.include_parents = true;
        q.include_children = true;
        let found = search_boundaries(&trees(), &q);
        let city = &found[0].boundary[0];
        assert_eq!(city["children"].as_array().unwrap().len(), 1);
        assert_eq!(
            city["children"][0]["children"][0]["children"][0]["code"],
            "L1"
        );
    }

    #[test]
    fn a_boundary_list_of_roots_is_read_too() {
        let t = [json!({"hierarchyType": "ADMIN",
                        "boundary": [node("a", "City", vec![]), node("b", "City", vec![])]})];
        let found = search_boundaries(&t, &query(Some("admin"), None, &[]));
        assert_eq!(
            codes_of(&found),
            [("ADMIN".to_string(), vec!["a".to_string(), "b".to_string()])]
        );
    }

    #[test]
    fn deep_trees_are_cut_not_overflowed() {
        let mut deep = node("leaf", "Locality", vec![]);
        for i in 0..(MAX_DEPTH * 4) {
            deep = node(&format!("n{i}"), "Level", vec![deep]);
        }
        let t = [json!({"hierarchyType": {"code": "ADMIN"}, "boundary": deep})];
        assert!(search_boundaries(&t, &query(None, Some("Locality"), &[])).is_empty());
        let found = search_boundaries(&t, &query(None, Some("Level"), &[]));
        assert_eq!(found[0].boundary.len(), MAX_DEPTH + 1);
    }

    #[test]
    fn boundary_type_is_added_from_the_label() {
        let mut nodes = vec![
            node("Z1", "Zone", vec![node("L1", "Locality", vec![])]),
            json!({"code": "X", "label": "Ward", "boundaryType": "Kept"}),
            json!("not a node"),
        ];
        add_boundary_type(&mut nodes);
        assert_eq!(nodes[0]["boundaryType"], "Zone");
        assert_eq!(nodes[0]["children"][0]["boundaryType"], "Locality");
        assert_eq!(nodes[1]["boundaryType"], "Kept");
    }

    #[test]
    fn codes_are_bounded() {
        let mut q = BoundaryQuery {
            codes: (0..MAX_BOUNDARY_CODES).map(|i| i.to_string()).collect(),
            ..BoundaryQuery::default()
        };
        assert!(q.check_limits().is_ok());
        q.codes.push("one more".into());
        assert!(matches!(q.check_limits(), Err(MdmsError::TooLarge(_))));
    }
}
