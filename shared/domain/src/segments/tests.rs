//! Rule validation paths, evaluation semantics and segment inputs.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;
use crate::deals::Violations;

fn paths(violations: &Violations) -> Vec<&str> {
    violations.0.iter().map(|v| v.path.as_str()).collect()
}

fn contact(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn matches(rules: Value, who: Value) -> bool {
    parse_rules(&rules).unwrap().matches(&contact(who))
}

#[test]
fn the_issue_example_parses_and_round_trips() {
    let raw = json!({"all": [
        {"field": "lead_score", "op": "gte", "value": 70},
        {"any": [
            {"field": "tags", "op": "contains", "value": "vip"},
            {"field": "custom.plan", "op": "in", "value": ["pro", "team"]},
            {"field": "email", "op": "is_set"}
        ]}
    ]});
    let rule = parse_rules(&raw).unwrap();
    assert_eq!(rule.to_json(), raw);
    let stored = serde_json::to_string(&rule).unwrap();
    assert_eq!(serde_json::from_str::<Rule>(&stored).unwrap(), rule);
}

#[test]
fn a_bad_operator_deep_in_the_tree_is_reported_at_its_path() {
    let raw = json!({"all": [
        {"field": "lead_score", "op": "gte", "value": 70},
        {"any": [{"field": "lead_score", "op": "starts_with", "value": "7"}]}
    ]});
    let error = parse_rules(&raw).unwrap_err();
    assert_eq!(paths(&error), ["rules.all[1].any[0].op"]);
    assert!(error.0[0].message.contains("gte"), "{}", error.0[0].message);
}

#[test]
fn every_problem_is_reported_at_its_own_path() {
    let raw = json!({"any": [
        {"field": "nope", "op": "eq", "value": 1},
        {"field": "lead_score", "op": "gte", "value": "high"},
        {"field": "email", "op": "is_set", "value": "x"},
        {"field": "tags", "op": "contains_any", "value": []},
        {"field": "marketing_consent", "op": "eq", "value": "yes"},
        {"field": "email", "op": "in", "value": ["a", 2]},
        {"op": "whatever"},
        {"all": [], "extra": 1},
        "text",
        {"field": "custom.bad key", "op": "eq", "value": 1},
    ]});
    let error = parse_rules(&raw).unwrap_err();
    assert_eq!(
        paths(&error),
        [
            "rules.any[0].field",
            "rules.any[1].value",
            "rules.any[2].value",
            "rules.any[3].value",
            "rules.any[4].value",
            "rules.any[5].value[1]",
            "rules.any[6].field",
            "rules.any[6].op",
            "rules.any[7].extra",
            "rules.any[7].all",
            "rules.any[8]",
            "rules.any[9].field",
        ]
    );
}

#[test]
fn groups_nest_at_most_five_deep() {
    let leaf = json!({"field": "lead_score", "op": "gt", "value": 1});
    let nest = |depth: usize| (0..depth).fold(leaf.clone(), |inner, _| json!({"all": [inner]}));
    assert!(parse_rules(&nest(5)).is_ok());
    let error = parse_rules(&nest(6)).unwrap_err();
    assert_eq!(
        paths(&error),
        ["rules.all[0].all[0].all[0].all[0].all[0].all"]
    );
}

#[test]
fn conditions_compare_texts_case_insensitively_and_numbers_exactly() {
    let jane = json!({
        "email": "Jane@Example.com", "lead_score": 72.5, "tags": ["VIP", "beta"],
        "marketing_consent": true, "custom_fields": {"plan": "Pro", "seats": 12}
    });
    assert!(matches(
        json!({"field": "email", "op": "ends_with", "value": "@example.COM"}),
        jane.clone()
    ));
    assert!(matches(
        json!({"field": "lead_score", "op": "gte", "value": 70}),
        jane.clone()
    ));
    assert!(!matches(
        json!({"field": "lead_score", "op": "lt", "value": 72.5}),
        jane.clone()
    ));
    assert!(matches(
        json!({"field": "tags", "op": "contains", "value": "vip"}),
        jane.clone()
    ));
    assert!(matches(
        json!({"field": "tags", "op": "contains_all", "value": ["vip", "beta"]}),
        jane.clone()
    ));
    assert!(!matches(
        json!({"field": "tags", "op": "contains_all", "value": ["vip", "x"]}),
        jane.clone()
    ));
    assert!(matches(
        json!({"field": "custom.plan", "op": "in", "value": ["pro"]}),
        jane.clone()
    ));
    assert!(matches(
        json!({"field": "custom.seats", "op": "gt", "value": 10}),
        jane.clone()
    ));
    assert!(matches(
        json!({"field": "marketing_consent", "op": "eq", "value": true}),
        jane.clone()
    ));
    assert!(matches(
        json!({"all": [
            {"field": "lead_score", "op": "gte", "value": 70},
            {"any": [{"field": "company", "op": "eq", "value": "Acme"}, {"field": "tags", "op": "contains", "value": "beta"}]}
        ]}),
        jane
    ));
}

#[test]
fn a_missing_field_matches_only_negative_conditions() {
    let nobody = json!({"email": "", "tags": []});
    assert!(!matches(
        json!({"field": "company", "op": "eq", "value": "Acme"}),
        nobody.clone()
    ));
    assert!(matches(
        json!({"field": "company", "op": "neq", "value": "Acme"}),
        nobody.clone()
    ));
    assert!(matches(
        json!({"field": "company", "op": "not_in", "value": ["Acme"]}),
        nobody.clone()
    ));
    assert!(!matches(
        json!({"field": "lead_score", "op": "lt", "value": 10}),
        nobody.clone()
    ));
    assert!(matches(
        json!({"field": "email", "op": "is_not_set"}),
        nobody.clone()
    ));
    assert!(matches(
        json!({"field": "tags", "op": "is_not_set"}),
        nobody.clone()
    ));
    assert!(!matches(
        json!({"field": "custom.plan", "op": "is_set"}),
        nobody
    ));
}

#[test]
fn segment_inputs_need_a_kind_and_rules_only_when_dynamic() {
    let ok: SegmentInput = serde_json::from_value(json!({
        "name": "Hot leads", "kind": "dynamic",
        "rules": {"all": [{"field": "lead_score", "op": "gte", "value": 70}]}
    }))
    .unwrap();
    let segment = ok.validate("g1".to_owned()).unwrap();
    assert_eq!(segment.kind, SegmentKind::Dynamic);

    let bad: SegmentInput = serde_json::from_value(json!({
        "name": "", "kind": "dynamic", "rules": {"all": [{"field": "lead_score", "op": "gte"}]}
    }))
    .unwrap();
    let error = bad.validate("g".to_owned()).unwrap_err();
    assert_eq!(paths(&error), ["name", "rules.all[0].value"]);

    let static_with_rules: SegmentInput =
        serde_json::from_value(json!({"name": "x", "kind": "static", "rules": {}})).unwrap();
    assert_eq!(
        paths(&static_with_rules.validate("g".to_owned()).unwrap_err()),
        ["rules"]
    );

    let error = validate_member_ids(&["c1".to_owned(), "a#b".to_owned()]).unwrap_err();
    assert_eq!(paths(&error), ["contact_ids[1]"]);

    let repeated = ["c1", "c2", "c1", "c1"].map(str::to_owned);
    let error = validate_member_ids(&repeated).unwrap_err();
    assert_eq!(paths(&error), ["contact_ids[2]", "contact_ids[3]"]);
}

// --- property tests -------------------------------------------------------------------------

fn condition() -> impl Strategy<Value = Value> {
    prop_oneof![
        (
            0_i64..100,
            prop::sample::select(vec!["eq", "neq", "gt", "gte", "lt", "lte"])
        )
            .prop_map(|(n, op)| json!({"field": "lead_score", "op": op, "value": n})),
        (
            "[a-z]{1,8}",
            prop::sample::select(vec!["eq", "contains", "starts_with", "not_contains"])
        )
            .prop_map(|(text, op)| json!({"field": "company", "op": op, "value": text})),
        prop::collection::vec("[a-z]{1,5}", 1..4)
            .prop_map(|tags| json!({"field": "tags", "op": "contains_any", "value": tags})),
        any::<bool>().prop_map(|b| json!({"field": "marketing_consent", "op": "eq", "value": b})),
        Just(json!({"field": "custom.plan", "op": "is_set"})),
    ]
}

fn rule_tree() -> impl Strategy<Value = Value> {
    condition().prop_recursive(4, 40, 5, |inner| {
        (any::<bool>(), prop::collection::vec(inner, 1..5)).prop_map(|(all, rules)| {
            if all {
                json!({"all": rules})
            } else {
                json!({"any": rules})
            }
        })
    })
}

/// Paths of every condition in a tree, as the parser names them.
fn condition_paths(value: &Value, path: String, out: &mut Vec<String>) {
    for group in ["all", "any"] {
        if let Some(items) = value.get(group).and_then(Value::as_array) {
            for (i, item) in items.iter().enumerate() {
                condition_paths(item, format!("{path}.{group}[{i}]"), out);
            }
            return;
        }
    }
    out.push(path);
}

fn set_at(value: &mut Value, path: &str, op: &str) {
    let mut node = value;
    for step in path
        .trim_start_matches("rules")
        .split('.')
        .filter(|s| !s.is_empty())
    {
        let (group, index) = step.trim_end_matches(']').split_once('[').unwrap();
        node = &mut node[group][index.parse::<usize>().unwrap()];
    }
    node["op"] = json!(op);
}

proptest! {
    #[test]
    fn valid_trees_parse_and_write_back_unchanged(tree in rule_tree()) {
        let rule = parse_rules(&tree).unwrap();
        prop_assert_eq!(rule.to_json(), tree);
    }

    #[test]
    fn one_bad_operator_is_reported_at_exactly_its_path(tree in rule_tree(), pick in any::<prop::sample::Index>()) {
        let mut paths_found = Vec::new();
        condition_paths(&tree, "rules".to_owned(), &mut paths_found);
        let target = pick.get(&paths_found).clone();
        let mut broken = tree;
        set_at(&mut broken, &target, "approximately");
        let error = parse_rules(&broken).unwrap_err();
        prop_assert_eq!(paths(&error), vec![format!("{target}.op")]);
    }

    #[test]
    fn arbitrary_json_never_panics_the_parser(value in any_json()) {
        let _ = parse_rules(&json!({"all": [value.clone()]}));
        let _ = parse_rules(&value);
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "all",
            "any",
            "field",
            "op",
            "value",
            "lead_score",
            "tags",
            "in",
            "eq",
            "custom.x"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        let keys = prop::sample::select(vec!["all", "any", "field", "op", "value", "x"]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(keys.prop_map(str::to_owned), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}
