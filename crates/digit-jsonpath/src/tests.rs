//! Behaviour tests, one group per feature of the dialect.

use serde_json::{json, Value};

use crate::{JsonPath, JsonPathError, PathStep};

fn store() -> Value {
    json!({
        "store": {
            "book": [
                {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
                {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
                {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
                {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
            ],
            "bicycle": {"color": "red", "price": 19.95}
        },
        "expensive": 10
    })
}

fn read(path: &str, doc: &Value) -> Vec<Value> {
    JsonPath::parse(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .read(doc)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .into_iter()
        .map(|c| c.into_owned())
        .collect()
}

fn read_err(path: &str, doc: &Value) -> JsonPathError {
    JsonPath::parse(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .read(doc)
        .expect_err(path)
}

fn paths(path: &str, doc: &Value) -> Vec<String> {
    JsonPath::parse(path)
        .expect("valid path")
        .read_with_paths(doc)
        .expect("evaluates")
        .into_iter()
        .map(|m| m.location.to_string())
        .collect()
}

fn titles(path: &str) -> Vec<Value> {
    read(path, &store())
        .into_iter()
        .map(|b| b["title"].clone())
        .collect()
}

// ------------------------------------------------------------------ basic navigation

#[test]
fn root_and_dot_keys() {
    let doc = store();
    assert_eq!(read("$", &doc), vec![doc.clone()]);
    assert_eq!(read("$.expensive", &doc), vec![json!(10)]);
    assert_eq!(read("$.store.bicycle.color", &doc), vec![json!("red")]);
}

#[test]
fn bracket_keys_single_and_double_quoted() {
    let doc = store();
    assert_eq!(
        read("$['store']['bicycle']['color']", &doc),
        vec![json!("red")]
    );
    assert_eq!(
        read("$[\"store\"][\"bicycle\"].color", &doc),
        vec![json!("red")]
    );
    let weird = json!({"a b": {"it's": 1}});
    assert_eq!(read("$['a b']['it\\'s']", &weird), vec![json!(1)]);
}

#[test]
fn keys_with_hyphens() {
    let doc = json!({"MdmsRes": {"common-masters": {"Department": [{"code": "DEPT_1"}]}}});
    assert_eq!(
        read("$.MdmsRes.common-masters.Department", &doc),
        vec![json!([{"code": "DEPT_1"}])]
    );
    assert_eq!(
        read("$.MdmsRes.common-masters.Department[0].code", &doc),
        vec![json!("DEPT_1")]
    );
}

#[test]
fn paths_without_dollar_are_rooted() {
    let doc = json!({"ProcessInstances": [{"id": "a"}, {"id": "b"}]});
    assert_eq!(
        read("ProcessInstances.*", &doc),
        vec![json!({"id": "a"}), json!({"id": "b"})]
    );
    assert_eq!(read("ProcessInstances[1].id", &doc), vec![json!("b")]);
    assert_eq!(read("[0]", &json!([5, 6])), vec![json!(5)]);
}

#[test]
fn array_index_and_negative_index() {
    assert_eq!(
        titles("$.store.book[0]"),
        vec![json!("Sayings of the Century")]
    );
    assert_eq!(
        titles("$.store.book[-1]"),
        vec![json!("The Lord of the Rings")]
    );
    assert!(read_err("$.store.book[10]", &store()).is_path_not_found());
    assert!(read_err("$.store.book[-10]", &store()).is_path_not_found());
}

#[test]
fn multi_index() {
    assert_eq!(
        titles("$.store.book[0,2]"),
        vec![json!("Sayings of the Century"), json!("Moby Dick")]
    );
    // Out-of-range entries are skipped.
    assert_eq!(
        titles("$.store.book[3,7]"),
        vec![json!("The Lord of the Rings")]
    );
}

#[test]
fn slices() {
    assert_eq!(titles("$.store.book[1:3]").len(), 2);
    assert_eq!(titles("$.store.book[:2]").len(), 2);
    assert_eq!(titles("$.store.book[2:]").len(), 2);
    assert_eq!(
        titles("$.store.book[-1:]"),
        vec![json!("The Lord of the Rings")]
    );
    assert_eq!(
        titles("$.store.book[:-3]"),
        vec![json!("Sayings of the Century")]
    );
    assert_eq!(titles("$.store.book[1:100]").len(), 3);
    assert!(titles("$.store.book[3:1]").is_empty());
    assert!(read("$[0:2]", &json!([])).is_empty());
}

#[test]
fn wildcards_over_arrays_and_objects() {
    let doc = store();
    assert_eq!(read("$.store.book[*].author", &doc).len(), 4);
    assert_eq!(read("$.store.book.*.author", &doc).len(), 4);
    // Over object values, in document order.
    assert_eq!(
        read("$.store.bicycle.*", &doc),
        vec![json!("red"), json!(19.95)]
    );
    let tenants =
        json!({"MdmsRes": {"tenant": {"tenants": [{"code": "pg.citya"}, {"code": "pg.cityb"}]}}});
    assert_eq!(
        read("$.MdmsRes.tenant.tenants.*.code", &tenants),
        vec![json!("pg.citya"), json!("pg.cityb")]
    );
    // Wildcard on a scalar leaf yields nothing.
    assert!(read("$.expensive.*", &doc).is_empty());
}

#[test]
fn deep_scan() {
    let doc = store();
    let prices = read("$..price", &doc);
    assert_eq!(prices.len(), 5);
    assert_eq!(read("$..author", &doc).len(), 4);
    assert_eq!(read("$.store..price", &doc).len(), 5);
    assert_eq!(read("$..book[2].title", &doc), vec![json!("Moby Dick")]);
    assert_eq!(
        read("$..book[-1:].title", &doc),
        vec![json!("The Lord of the Rings")]
    );
    assert_eq!(read("$..[?(@.isbn)].title", &doc).len(), 2);
    // `..*` visits every value below the root.
    assert_eq!(read("$..*", &json!({"a": {"b": 1}, "c": [2]})).len(), 4);
    // The scan includes the node itself.
    assert_eq!(
        read("$..a", &json!({"a": {"a": 1}})),
        vec![json!({"a": 1}), json!(1)]
    );
}

#[test]
fn multi_key_projection_yields_objects() {
    let actions = json!([
        {"id": 1, "url": "/a/_search", "name": "A", "enabled": true},
        {"id": 2, "url": "/b/_create", "name": "B"},
        {"id": 3, "name": "no url"}
    ]);
    assert_eq!(
        read("$[*]['id','url']", &actions),
        vec![
            json!({"id": 1, "url": "/a/_search"}),
            json!({"id": 2, "url": "/b/_create"}),
            json!({"id": 3})
        ]
    );
    // Works without the leading `$` too (MDMS filter style).
    assert_eq!(read("[*]['id','url']", &actions).len(), 3);
    // A leaf projection on a single object is definite.
    let p = JsonPath::parse("$[0]['id','url']").expect("valid");
    assert!(p.is_definite());
    assert_eq!(
        p.read_value(&actions).expect("evaluates"),
        json!({"id": 1, "url": "/a/_search"})
    );
    // Non-leaf projection iterates the keys.
    let doc = json!({"a": {"v": 1}, "b": {"v": 2}});
    assert_eq!(read("$['a','b','c'].v", &doc), vec![json!(1), json!(2)]);
}

#[test]
fn length_function() {
    let doc = store();
    assert_eq!(read("$.store.book.length()", &doc), vec![json!(4)]);
    assert_eq!(read("$.store.bicycle.size()", &doc), vec![json!(2)]);
    assert_eq!(
        read(
            "$[?(@.book.length() > 3)]",
            &json!([{"book": [1, 2, 3, 4]}])
        )
        .len(),
        1
    );
}

// ------------------------------------------------------------------ definite vs indefinite

#[test]
fn definite_path_missing_key_is_path_not_found() {
    let doc = json!({"service": {"id": "s1", "address": null}});
    let e = read_err("$.service.auditDetails", &doc);
    assert_eq!(
        e,
        JsonPathError::PathNotFound("No results for path: $['service']['auditDetails']".into())
    );
    let e = read_err("$.service.auditDetails.createdBy", &doc);
    assert_eq!(
        e,
        JsonPathError::PathNotFound("Missing property in path $['service']['auditDetails']".into())
    );
    // Key present with null: the value is null, no error.
    assert_eq!(read("$.service.address", &doc), vec![Value::Null]);
    // Descending through null on a definite path fails.
    assert!(read_err("$.service.address.city", &doc).is_path_not_found());
    // Index on a non-array in a definite path fails.
    assert!(read_err("$.service.id[0]", &doc).is_path_not_found());
    assert!(read_err("$.service.address[0]", &doc).is_path_not_found());
}

#[test]
fn indefinite_path_skips_missing_leaves() {
    let doc = json!({"items": [{"a": {"b": 1}}, {"a": null}, {"c": 3}, 5, {"a": {"b": 2}}]});
    assert_eq!(read("$.items[*].a.b", &doc), vec![json!(1), json!(2)]);
    assert_eq!(read("$.items[*].c", &doc), vec![json!(3)]);
    assert!(read("$.items[*].zzz", &doc).is_empty());
    assert!(read("$.nothing[*]", &json!({"nothing": null})).is_empty());
}

#[test]
fn definiteness_flag() {
    assert!(JsonPath::parse("$.a.b[0]").expect("valid").is_definite());
    assert!(!JsonPath::parse("$.a[*]").expect("valid").is_definite());
    assert!(!JsonPath::parse("$..a").expect("valid").is_definite());
    assert!(!JsonPath::parse("$.a[?(@.x)]").expect("valid").is_definite());
}

#[test]
fn read_value_and_read_first() {
    let doc = store();
    let p = JsonPath::parse("$.store.book[*].price").expect("valid");
    assert_eq!(
        p.read_value(&doc).expect("evaluates"),
        json!([8.95, 12.99, 8.99, 22.99])
    );
    let p = JsonPath::parse("$.store.bicycle.color").expect("valid");
    assert_eq!(p.read_value(&doc).expect("evaluates"), json!("red"));
    let p = JsonPath::parse("$.store.car").expect("valid");
    assert!(p.read_first(&doc).expect("no hard error").is_none());
    assert!(p.read_value(&doc).expect_err("missing").is_path_not_found());
}

// ------------------------------------------------------------------ locations

#[test]
fn read_with_paths_reports_normalized_locations() {
    let doc = json!({"a": [{"b": 1}, {"c": 2}, {"b": 3}]});
    assert_eq!(
        paths("$.a[*].b", &doc),
        vec!["$['a'][0]['b']", "$['a'][2]['b']"]
    );
    assert_eq!(
        paths("$.a.*", &doc),
        vec!["$['a'][0]", "$['a'][1]", "$['a'][2]"]
    );
    assert_eq!(
        paths("$..b", &doc),
        vec!["$['a'][0]['b']", "$['a'][2]['b']"]
    );
    assert_eq!(paths("$.a[?(@.c)]", &doc), vec!["$['a'][1]"]);
    assert_eq!(paths("$", &doc), vec!["$"]);
    assert_eq!(paths("$.a[0]['b','x']", &doc), vec!["$['a'][0]['b', 'x']"]);
}

#[test]
fn locations_resolve_and_reparse() {
    let doc = json!({"BusinessServices": [{"states": [{"actions": [{"a": 1}, {"a": 2}]}, {"actions": null}]}]});
    let matches = JsonPath::parse("$.BusinessServices.*.states.*.actions.*")
        .expect("valid")
        .read_with_paths(&doc)
        .expect("evaluates");
    assert_eq!(matches.len(), 2);
    for m in &matches {
        assert_eq!(m.location.resolve(&doc), Some(m.value.as_ref()));
        let again = JsonPath::parse(&m.location.to_string()).expect("normalized path parses");
        assert!(again.is_definite());
        assert_eq!(
            again.read(&doc).expect("resolves")[0].as_ref(),
            m.value.as_ref()
        );
    }
    assert_eq!(
        matches[1].location.steps(),
        &[
            PathStep::Key("BusinessServices".into()),
            PathStep::Index(0),
            PathStep::Key("states".into()),
            PathStep::Index(0),
            PathStep::Key("actions".into()),
            PathStep::Index(1)
        ]
    );
    assert_eq!(
        matches[1]
            .location
            .parent()
            .map(|l| l.to_string())
            .as_deref(),
        Some("$['BusinessServices'][0]['states'][0]['actions']")
    );
}

// ------------------------------------------------------------------ filters

fn masters() -> Value {
    json!([
        {"code": "a", "active": true, "amount": 100, "tags": ["x", "y"], "name": "Alpha"},
        {"code": "b", "active": false, "amount": 100.50, "tags": [], "name": "beta"},
        {"code": "c", "active": true, "amount": "7", "tags": ["y"], "name": "Gamma", "extra": null},
        {"code": "d", "amount": 0.1, "name": ""}
    ])
}

fn codes(filter: &str) -> Vec<String> {
    read(filter, &masters())
        .into_iter()
        .map(|m| m["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn filter_equality_on_booleans_and_strings() {
    assert_eq!(codes("$[?(@.active==true)]"), ["a", "c"]);
    assert_eq!(codes("[?(@.active == true)]"), ["a", "c"]);
    assert_eq!(codes("$[?(@.code=='b')]"), ["b"]);
    assert_eq!(codes("$[?(@.code==\"b\")]"), ["b"]);
    assert_eq!(codes("$[?(@.active != true)]"), ["b", "d"]);
    // A missing key is undefined: never equal, always unequal.
    assert_eq!(codes("$[?(@.active == null)]"), Vec::<String>::new());
    assert_eq!(codes("$[?(@.extra == null)]"), ["c"]);
}

#[test]
fn filter_numbers_compare_exactly_across_int_and_decimal() {
    assert_eq!(codes("$[?(@.amount == 100.0)]"), ["a"]);
    assert_eq!(codes("$[?(@.amount == 100)]"), ["a"]);
    assert_eq!(codes("$[?(@.amount == 100.5)]"), ["b"]);
    assert_eq!(codes("$[?(@.amount > 100)]"), ["b", "c"]);
    assert_eq!(codes("$[?(@.amount >= 100)]"), ["a", "b", "c"]);
    assert_eq!(codes("$[?(@.amount < 1)]"), ["d"]);
    assert_eq!(codes("$[?(@.amount <= 0.1)]"), ["d"]);
    // 0.1 is not 0.10000000000000001 (they are the same f64).
    assert_eq!(
        codes("$[?(@.amount == 0.10000000000000001)]"),
        Vec::<String>::new()
    );
    let exact: Value =
        serde_json::from_str(r#"[{"v": 12345678901234567890.01}, {"v": 12345678901234567890.02}]"#)
            .expect("json");
    assert_eq!(
        read("$[?(@.v == 12345678901234567890.01)]", &exact).len(),
        1
    );
    assert_eq!(read("$[?(@.v < 12345678901234567890.02)]", &exact).len(), 1);
}

#[test]
fn filter_number_string_cross_equality() {
    // Ordering a string against a number compares texts, as Jayway does ("7" > "100").
    assert_eq!(
        read("$[?(@.v > 100)]", &json!([{"v": "7"}, {"v": "10"}])),
        vec![json!({"v": "7"})]
    );
    // Number on the left: the string is parsed as a decimal.
    assert_eq!(codes("$[?(@.amount == '100.00')]"), ["a"]);
    // String on the left: compared with the number's text.
    assert_eq!(codes("$[?(@.amount == 7)]"), ["c"]);
    assert_eq!(read("$[?('100' == @.v)]", &json!([{"v": 100}])).len(), 1);
    assert_eq!(read("$[?('100.0' == @.v)]", &json!([{"v": 100}])).len(), 0);
}

#[test]
fn filter_string_ordering() {
    assert_eq!(codes("$[?(@.code > 'b')]"), ["c", "d"]);
    assert_eq!(codes("$[?(@.code <= 'b')]"), ["a", "b"]);
}

#[test]
fn filter_logical_operators_and_parentheses() {
    assert_eq!(codes("$[?(@.active == true && @.code != 'a')]"), ["c"]);
    assert_eq!(codes("$[?(@.code == 'a' || @.code == 'd')]"), ["a", "d"]);
    // && binds tighter than ||.
    assert_eq!(
        codes("$[?(@.code == 'd' || @.active == true && @.code == 'c')]"),
        ["c", "d"]
    );
    assert_eq!(
        codes("$[?((@.code == 'd' || @.active == true) && @.code != 'a')]"),
        ["c", "d"]
    );
    assert_eq!(codes("$[?(!(@.active == true))]"), ["b", "d"]);
}

#[test]
fn filter_existence() {
    assert_eq!(codes("$[?(@.active)]"), ["a", "b", "c"]);
    assert_eq!(codes("$[?(!@.active)]"), ["d"]);
    // A key present with null exists.
    assert_eq!(codes("$[?(@.extra)]"), ["c"]);
    assert_eq!(
        read(
            "$[?(@.a.b)]",
            &json!([{"a": {"b": 1}}, {"a": {}}, {"a": 1}])
        )
        .len(),
        1
    );
}

#[test]
fn filter_in_and_nin_with_upper_case_and_double_quotes() {
    assert_eq!(codes("$[?(@.code in ['a','b'])]"), ["a", "b"]);
    assert_eq!(codes("$[?(@.code IN ['a','b'])]"), ["a", "b"]);
    assert_eq!(codes("$[?(@.code IN [\"c\", \"d\"])]"), ["c", "d"]);
    assert_eq!(codes("$[?(@.code nin ['a','b'])]"), ["c", "d"]);
    assert_eq!(codes("$[?(@.code NIN ['a','b'])]"), ["c", "d"]);
    // json-smart permissive literal: bare words are strings.
    assert_eq!(codes("$[?(@.code in [a, d])]"), ["a", "d"]);
    // Numbers in lists compare numerically.
    assert_eq!(codes("$[?(@.amount in [100.00, 0.1])]"), ["a", "d"]);
    // Right side that is not a list rejects the item.
    assert_eq!(codes("$[?(@.code in 'abc')]"), Vec::<String>::new());
    assert_eq!(codes("$[?(@.code nin 'abc')]"), Vec::<String>::new());
}

#[test]
fn filter_literal_on_left_membership() {
    let doc = json!({
        "ProcessInstances": [
            {"id": "pi-1", "documents": [{"id": "abc"}, {"id": "def"}]},
            {"id": "pi-2", "documents": [{"id": "xyz"}]},
            {"id": "pi-3", "documents": null},
            {"id": "pi-4"}
        ]
    });
    assert_eq!(
        read(
            "$.ProcessInstances[*][?(\"abc\" in @.documents[*].id)].id",
            &doc
        ),
        vec![json!("pi-1")]
    );
    assert_eq!(
        read("$.ProcessInstances[?('xyz' in @.documents[*].id)].id", &doc),
        vec![json!("pi-2")]
    );
}

#[test]
fn filter_subsetof_anyof_noneof() {
    assert_eq!(
        codes("$[?(@.tags subsetof ['x','y','z'])]"),
        ["a", "b", "c"]
    );
    assert_eq!(codes("$[?(@.tags subsetof ['y'])]"), ["b", "c"]);
    assert_eq!(codes("$[?(@.tags anyof ['x'])]"), ["a"]);
    assert_eq!(codes("$[?(@.tags anyof ['y','q'])]"), ["a", "c"]);
    assert_eq!(codes("$[?(@.tags noneof ['x'])]"), ["b", "c"]);
}

#[test]
fn filter_size_and_empty() {
    assert_eq!(codes("$[?(@.tags size 2)]"), ["a"]);
    assert_eq!(codes("$[?(@.name size 4)]"), ["b"]);
    assert_eq!(codes("$[?(@.tags empty true)]"), ["b"]);
    assert_eq!(codes("$[?(@.tags empty false)]"), ["a", "c"]);
    assert_eq!(codes("$[?(@.name empty true)]"), ["d"]);
}

#[test]
fn filter_contains_and_all() {
    assert_eq!(codes("$[?(@.tags contains 'y')]"), ["a", "c"]);
    assert_eq!(codes("$[?(@.name contains 'amm')]"), ["c"]);
    assert_eq!(codes("$[?(@.tags all ['x','y'])]"), ["a"]);
}

#[test]
fn filter_regex() {
    assert_eq!(codes("$[?(@.name =~ /alpha/i)]"), ["a"]);
    // Whole-input match, as Java's Matcher.matches().
    assert_eq!(codes("$[?(@.name =~ /lph/)]"), Vec::<String>::new());
    assert_eq!(codes("$[?(@.name =~ /.*a$/)]"), ["a", "b", "c"]);
    assert_eq!(codes("$[?(@.amount =~ /100\\.5/)]"), ["b"]);
    // Arrays match when any element matches.
    assert_eq!(codes("$[?(@.tags =~ /x/)]"), ["a"]);
    let urls = json!([{"url": "/pgr-services/v2/request/_create"}, {"url": "/egov-mdms-service/v1/_search"}]);
    assert_eq!(
        read("$[?(@.url =~ /\\/pgr-services\\/.*/)]", &urls).len(),
        1
    );
}

#[test]
fn filter_root_references() {
    let doc = json!({"wanted": "b", "items": [{"k": "a"}, {"k": "b"}], "limits": {"max": 2}});
    assert_eq!(
        read("$.items[?(@.k == $.wanted)]", &doc),
        vec![json!({"k": "b"})]
    );
    let nums = json!({"limits": {"max": 2}, "v": [1, 2, 3]});
    assert_eq!(
        read("$.v[?(@ <= $.limits.max)]", &nums),
        vec![json!(1), json!(2)]
    );
}

#[test]
fn filter_on_current_scalar_items() {
    let doc = json!({"codes": ["EMPLOYEE", "CITIZEN", "SUPERUSER"]});
    assert_eq!(
        read("$.codes[?(@ in ['CITIZEN','SUPERUSER'])]", &doc),
        vec![json!("CITIZEN"), json!("SUPERUSER")]
    );
    assert_eq!(
        read("$.codes[?(@ =~ /.*USER/)]", &doc),
        vec![json!("SUPERUSER")]
    );
}

#[test]
fn filter_on_object_tests_the_object_itself() {
    let doc = json!({"service": {"status": "ACTIVE", "id": 1}});
    assert_eq!(
        read("$.service[?(@.status == 'ACTIVE')].id", &doc),
        vec![json!(1)]
    );
    assert!(read("$.service[?(@.status == 'X')].id", &doc).is_empty());
}

#[test]
fn filter_on_primitive_with_definite_upstream_is_invalid() {
    let doc = json!({"a": "text"});
    assert!(matches!(
        read_err("$.a[?(@.x)]", &doc),
        JsonPathError::InvalidPath(_)
    ));
    // With an indefinite upstream it is skipped.
    assert!(read("$.*[?(@.x)]", &doc).is_empty());
}

#[test]
fn nested_filters() {
    let doc = json!([
        {"id": 1, "roles": [{"code": "GRO"}, {"code": "CSR"}]},
        {"id": 2, "roles": [{"code": "CITIZEN"}]}
    ]);
    assert_eq!(
        read("$[?(@.roles[?(@.code == 'GRO')] empty false)].id", &doc),
        vec![json!(1)]
    );
    // Jayway quirk kept: an existence check on an indefinite path is true even when it
    // matches nothing.
    assert_eq!(
        read("$[?(@.roles[?(@.code == 'GRO')])].id", &doc),
        vec![json!(1), json!(2)]
    );
}

#[test]
fn mdms_role_action_filter_after_substitution() {
    let roleactions = json!([
        {"rolecode": "EMPLOYEE", "actionid": 1, "actioncode": "", "tenantId": "pg"},
        {"rolecode": "CITIZEN", "actionid": 2, "actioncode": "", "tenantId": "pg"},
        {"rolecode": "SUPERUSER", "actionid": 3, "actioncode": "", "tenantId": "pg"}
    ]);
    let found = read("[?(@.rolecode IN ['EMPLOYEE','SUPERUSER'])]", &roleactions);
    assert_eq!(found.len(), 2);
    assert_eq!(
        read("$.*.actionid", &roleactions),
        vec![json!(1), json!(2), json!(3)]
    );
}

#[test]
fn parse_errors_are_reported_with_the_source() {
    match JsonPath::parse("$.a[?(@.b ===== 1)]") {
        Err(JsonPathError::Parse { path, .. }) => assert_eq!(path, "$.a[?(@.b ===== 1)]"),
        other => panic!("unexpected {other:?}"),
    }
    assert!("$.a".parse::<JsonPath>().is_ok());
    assert_eq!(JsonPath::parse(" $.a ").expect("valid").as_str(), " $.a ");
}
