//! Boundary search over the embedded `egov-location.TenantBoundary` trees:
//! `/boundary-service/boundary-relationships/_search` and the older
//! `/egov-location/location/v11/boundarys/_search` (read-only; no create/update APIs).
//! The indexer's PGR config reads `$.TenantBoundary[0].boundary[0]` as the complaint's ward.

use serde_json::{json, Value};

/// Most codes one search takes.
pub const MAX_CODES: usize = 100;

/// The search criteria of both paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoundaryQuery {
    /// `hierarchyTypeCode` (case-insensitive), if given.
    pub hierarchy_type: Option<String>,
    /// `boundaryType`: a node's `label` (case-insensitive), if given.
    pub boundary_type: Option<String>,
    /// `codes`, if given.
    pub codes: Vec<String>,
    /// `includeChildren`.
    pub include_children: bool,
}

/// The `TenantBoundary` entries answering `query` over `trees` (the master's entries).
pub fn search(trees: &[Value], tenant_id: &str, query: &BoundaryQuery) -> Vec<Value> {
    let mut out = Vec::new();
    for tree in trees {
        let hierarchy = tree.get("hierarchyType").cloned().unwrap_or(Value::Null);
        if let Some(wanted) = &query.hierarchy_type {
            let code = hierarchy.get("code").and_then(Value::as_str).unwrap_or("");
            if !code.eq_ignore_ascii_case(wanted) {
                continue;
            }
        }
        let Some(root) = tree.get("boundary") else {
            continue;
        };
        let mut found = Vec::new();
        walk(root, query, &mut found);
        if !found.is_empty() {
            out.push(json!({"tenantId": tenant_id, "hierarchyType": hierarchy, "boundary": found}));
        }
    }
    out
}

fn walk(node: &Value, query: &BoundaryQuery, found: &mut Vec<Value>) {
    let label = node.get("label").and_then(Value::as_str).unwrap_or("");
    let code = node.get("code").and_then(Value::as_str).unwrap_or("");
    let type_ok = query
        .boundary_type
        .as_deref()
        .is_none_or(|t| label.eq_ignore_ascii_case(t));
    let code_ok = query.codes.is_empty() || query.codes.iter().any(|c| c == code);
    if type_ok && code_ok && (query.boundary_type.is_some() || !query.codes.is_empty()) {
        let mut copy = node.clone();
        if !query.include_children {
            copy["children"] = json!([]);
        }
        found.push(copy);
    } else if query.boundary_type.is_none() && query.codes.is_empty() {
        found.push(node.clone());
        return;
    }
    if let Some(children) = node.get("children").and_then(Value::as_array) {
        for child in children {
            walk(child, query, found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trees() -> Vec<Value> {
        vec![
            json!({"hierarchyType": {"code": "ADMIN"}, "boundary": {"code": "pg.citya", "label": "City", "name": "City A", "children": [
            {"code": "Z1", "label": "Zone", "name": "Zone 1", "children": [
                {"code": "ALOC1", "label": "Locality", "name": "Main Road", "children": []},
                {"code": "ALOC2", "label": "Locality", "name": "Market", "children": []}]}]}}),
        ]
    }

    #[test]
    fn finds_localities_by_code_and_type_case_insensitively() {
        let q = BoundaryQuery {
            hierarchy_type: Some("admin".into()),
            boundary_type: Some("locality".into()),
            codes: vec!["ALOC2".into()],
            include_children: false,
        };
        let r = search(&trees(), "pg.citya", &q);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["boundary"][0]["name"], "Market");
        assert_eq!(r[0]["tenantId"], "pg.citya");
        let all = search(
            &trees(),
            "pg.citya",
            &BoundaryQuery {
                boundary_type: Some("Locality".into()),
                ..Default::default()
            },
        );
        assert_eq!(all[0]["boundary"].as_array().map(Vec::len), Some(2));
        let zone = search(
            &trees(),
            "pg.citya",
            &BoundaryQuery {
                codes: vec!["Z1".into()],
                include_children: true,
                ..Default::default()
            },
        );
        assert_eq!(
            zone[0]["boundary"][0]["children"].as_array().map(Vec::len),
            Some(2)
        );
        let other = search(
            &trees(),
            "pg.citya",
            &BoundaryQuery {
                hierarchy_type: Some("REVENUE".into()),
                ..Default::default()
            },
        );
        assert!(other.is_empty());
        let roots = search(&trees(), "pg.citya", &BoundaryQuery::default());
        assert_eq!(roots[0]["boundary"][0]["code"], "pg.citya");
    }
}
