//! The model validator: every kind of error names its line and the problem.

mod common;

use leadscore_domain::{Model, ModelError};

const BASE: &str = r#"[model]
name = "v"
products = ["alpha"]

[thresholds]
mql = 100
mql_exit = 70
"#;

/// The errors of a model that must not compile.
fn errors(src: &str) -> Vec<ModelError> {
    match Model::from_toml(src, "bad.toml") {
        Ok(_) => panic!("model compiled but should not:\n{src}"),
        Err(e) => {
            assert_eq!(e.origin, "bad.toml");
            assert!(!e.errors.is_empty());
            e.errors
        }
    }
}

/// The 1-based line of the only line of `src` containing `marker`.
fn line_of(src: &str, marker: &str) -> usize {
    let lines: Vec<usize> = src
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(marker))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "marker {marker:?} must be on exactly one line"
    );
    lines[0]
}

/// `BASE` followed by `body`.
fn with(body: &str) -> String {
    format!("{BASE}{body}")
}

/// Asserts one error is on the line holding `marker` and its message contains every one of
/// `needles`; returns it.
fn expect_error(src: &str, marker: &str, needles: &[&str]) -> ModelError {
    let errs = errors(src);
    let line = line_of(src, marker);
    let found = errs
        .iter()
        .find(|e| e.line == line && needles.iter().all(|n| e.message.contains(n)));
    match found {
        Some(e) => e.clone(),
        None => panic!("no error on line {line} mentioning {needles:?}; got:\n{errs:#?}"),
    }
}

#[test]
fn base_model_compiles() {
    let m = Model::from_toml(BASE, "ok.toml").unwrap();
    assert_eq!(m.name, "v");
    assert_eq!(m.thresholds.mql, leadscore_domain::Points::whole(100));
}

#[test]
fn unknown_top_level_key() {
    let src = with("\n[colour]\nred = 1\n");
    expect_error(&src, "[colour]", &["unknown field", "colour"]);
}

#[test]
fn unknown_key_in_a_section() {
    let src = "[model]\nname = \"v\"\n\n[thresholds]\nmql = 100\nmql_exit = 70\nmql_entry = 90\n";
    expect_error(src, "mql_entry", &["unknown field", "mql_entry"]);
}

#[test]
fn unknown_key_in_a_rule() {
    let src = with(
        r#"
[[activity]]
id = "visit"
kind = "page_view"
points = 1
colour = "blue"
"#,
    );
    expect_error(&src, "colour", &["unknown field", "colour"]);
}

#[test]
fn bad_regex() {
    let src = with(
        r#"
[[fit]]
id = "t"
attribute = "job_title"
regex = 'direct(or'
points = 1
"#,
    );
    expect_error(&src, "direct(or", &["bad regex"]);
}

#[test]
fn bad_url_regex() {
    let src = with(
        r#"
[[activity]]
id = "p"
kind = "page_view"
url_regex = '/pricing['
points = 1
"#,
    );
    expect_error(&src, "url_regex", &["bad regex in url_regex"]);
}

#[test]
fn bad_glob() {
    let src = with(
        r#"
[[activity]]
id = "p"
kind = "page_view"
url = "*/pricing[*"
points = 1

[[activity]]
id = "t"
kind = "form_submit"
target = "a{b"
points = 1
"#,
    );
    expect_error(&src, "pricing[", &["bad glob in url"]);
    expect_error(&src, "a{b", &["bad glob in target"]);
}

#[test]
fn mql_exit_not_below_mql() {
    for exit in ["100", "120"] {
        let src = format!("[model]\nname = \"v\"\n\n[thresholds]\nmql = 100\nmql_exit = {exit}\n");
        expect_error(&src, "mql_exit", &["mql_exit", "lower than thresholds.mql"]);
    }
}

#[test]
fn floor_not_below_mql_exit() {
    let src = "[model]\nname = \"v\"\n\n[thresholds]\nmql = 100\nmql_exit = 70\nfloor = 70\n";
    expect_error(
        src,
        "floor",
        &["thresholds.floor", "lower than thresholds.mql_exit"],
    );
    // Without a floor the default (0) must be below mql_exit too: reported on mql_exit.
    let src = "[model]\nname = \"v\"\n\n[thresholds]\nmql = 100\nmql_exit = 0\n";
    expect_error(src, "mql_exit", &["thresholds.floor (0)"]);
}

#[test]
fn non_positive_mql() {
    let src = "[model]\nname = \"v\"\n\n[thresholds]\nmql = 0\nmql_exit = -5\nfloor = -10\n";
    expect_error(src, "mql = 0", &["thresholds.mql must be positive"]);
}

#[test]
fn non_positive_cap_count() {
    let src = with(
        r#"
[[activity]]
id = "v"
kind = "page_view"
points = 1
caps = [
  { count = 0, window = "1d" },
]
"#,
    );
    expect_error(&src, "count = 0", &["cap count must be a positive"]);
}

#[test]
fn non_positive_cap_points() {
    let src = with(
        r#"
[[activity]]
id = "v"
kind = "page_view"
points = 1
caps = [
  { points = -5, window = "1d" },
]
"#,
    );
    expect_error(&src, "points = -5", &["cap points must be positive"]);
}

#[test]
fn non_positive_or_malformed_cap_window() {
    let src = with(
        r#"
[[activity]]
id = "v"
kind = "page_view"
points = 1
caps = [
  { count = 1, window = "0s" },
  { count = 1, window = "soon" },
]
"#,
    );
    expect_error(&src, "\"0s\"", &["cap window must be positive"]);
    expect_error(&src, "\"soon\"", &["cap window", "is not a duration"]);
}

#[test]
fn cap_needs_count_or_points() {
    let src = with(
        r#"
[[activity]]
id = "v"
kind = "page_view"
points = 1
caps = [
  { window = "1d" },
]
"#,
    );
    expect_error(&src, "{ window", &["a cap needs `count`, `points` or both"]);
}

#[test]
fn non_positive_decay_idle_days() {
    for v in ["0", "-3"] {
        let src = with(&format!(
            "\n[decay]\nidle_days = {v}\nevery = \"day\"\npoints = 1\n"
        ));
        expect_error(
            &src,
            "idle_days",
            &["decay.idle_days must be a positive number of days"],
        );
    }
}

#[test]
fn decay_every_must_be_day_or_week() {
    let src = with("\n[decay]\nidle_days = 3\nevery = \"month\"\npoints = 1\n");
    expect_error(&src, "every", &["decay.every", "month"]);
}

#[test]
fn unknown_activity_kind() {
    let src = with(
        r#"
[[activity]]
id = "t"
kind = "teleport"
points = 1

[[activity]]
id = "i"
kind = "identify"
points = 1
"#,
    );
    expect_error(
        &src,
        "teleport",
        &["unknown activity kind `teleport`", "page_view"],
    );
    // Known event kinds that are not scorable are refused too.
    expect_error(&src, "\"identify\"", &["unknown activity kind `identify`"]);
}

#[test]
fn unknown_attribute() {
    let src = with(
        r#"
[[fit]]
id = "shoe"
attribute = "shoe_size"
equals = 42
points = 1

[[fit]]
id = "custom-ok"
attribute = "custom.shoe_size"
equals = 42
points = 1
"#,
    );
    let errs = errors(&src);
    assert_eq!(errs.len(), 1, "custom.<name> is fine: {errs:#?}");
    expect_error(
        &src,
        "\"shoe_size\"",
        &["unknown attribute `shoe_size`", "custom.<name>"],
    );
}

#[test]
fn unknown_list() {
    let src = with(
        r#"
[[fit]]
id = "l"
attribute = "email_domain"
in_list = "enemies"
points = -1
"#,
    );
    expect_error(&src, "enemies", &["unknown list `enemies`", "free_mail"]);
}

#[test]
fn duplicate_rule_ids_point_at_both_definitions() {
    let src = with(
        r#"
[[fit]]
id = "dup"
attribute = "country"
equals = "de"
points = 1

[[activity]]
id = "dup"  # again
kind = "page_view"
points = 1
"#,
    );
    let errs = errors(&src);
    let second = line_of(&src, "# again");
    let first = second - 6;
    assert!(
        errs.iter()
            .any(|e| e.line == second && e.message.contains("duplicate rule id `dup`")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.line == first && e.message.contains("first defined here")),
        "{errs:#?}"
    );
}

#[test]
fn duplicate_combination_id() {
    let src = with(
        r#"
[[activity]]
id = "a"
kind = "page_view"
points = 1

[[activity]]
id = "b"
kind = "form_submit"
points = 1

[[combination]]
id = "a"  # clash
requires = ["a", "b"]
within = "1d"
points = 5
"#,
    );
    expect_error(&src, "# clash", &["duplicate rule id `a`"]);
}

#[test]
fn unknown_product() {
    let src = with(
        r#"
[[activity]]
id = "a"
kind = "page_view"
points = 1
product = "gamma"
"#,
    );
    expect_error(&src, "gamma", &["unknown product `gamma`", "alpha"]);
}

#[test]
fn combination_requiring_unknown_rule() {
    let src = with(
        r#"
[[activity]]
id = "a"
kind = "page_view"
points = 1

[[combination]]
id = "c"
requires = [
  "a",
  "nope",
]
within = "1d"
points = 5
"#,
    );
    expect_error(
        &src,
        "\"nope\"",
        &["requires names `nope`", "not an activity rule id"],
    );
}

#[test]
fn combination_needs_two_rules() {
    let src = with(
        r#"
[[activity]]
id = "a"
kind = "page_view"
points = 1

[[combination]]
id = "c"
requires = ["a"]
within = "1d"
points = 5
"#,
    );
    expect_error(&src, "requires", &["at least two activity rules"]);
}

#[test]
fn two_conditions_in_a_fit_rule() {
    let src = with(
        r#"
[[fit]]
id = "two"
attribute = "job_title"
equals = "cto"
contains = "chief"
points = 1
"#,
    );
    expect_error(&src, "contains", &["exactly one condition"]);
}

#[test]
fn two_conditions_in_a_fit_rule_points_at_the_second_as_written() {
    // Same as above with the conditions written the other way round: the extra condition
    // is the one on the later line.
    let src = with(
        r#"
[[fit]]
id = "two"
attribute = "job_title"
contains = "chief"
equals = "cto"
points = 1
"#,
    );
    expect_error(&src, "equals", &["exactly one condition"]);
}

#[test]
fn fit_rule_without_condition() {
    let src = with(
        r#"
[[fit]]
id = "none"
attribute = "job_title"
points = 1
"#,
    );
    let errs = errors(&src);
    assert!(
        errs.iter()
            .any(|e| e.message.contains("a fit rule needs one condition")),
        "{errs:#?}"
    );
}

#[test]
fn url_on_a_non_url_kind() {
    let src = with(
        r#"
[[activity]]
id = "f"
kind = "form_submit"
url = "*/contact*"
points = 1

[[activity]]
id = "g"
kind = "email_open"
url_regex = "x"
points = 1
"#,
    );
    expect_error(
        &src,
        "*/contact*",
        &["`url` applies to page_view and email_click, not form_submit"],
    );
    expect_error(
        &src,
        "url_regex",
        &["`url_regex` applies to page_view and email_click"],
    );
    // email_click carries a URL: fine.
    let ok =
        with("\n[[activity]]\nid = \"c\"\nkind = \"email_click\"\nurl = \"*x*\"\npoints = 1\n");
    Model::from_toml(&ok, "ok.toml").unwrap();
}

#[test]
fn event_missing_on_custom() {
    let src = with(
        r#"
[[activity]]
id = "c"
kind = "custom"
points = 1
"#,
    );
    expect_error(&src, "\"custom\"", &["a custom rule needs `event`"]);
}

#[test]
fn event_on_a_non_custom_kind() {
    let src = with(
        r#"
[[activity]]
id = "c"
kind = "page_view"
event = "x"
points = 1
"#,
    );
    expect_error(&src, "event", &["`event` applies to custom rules only"]);
}

#[test]
fn percent_filters_only_on_video() {
    let src = with(
        r#"
[[activity]]
id = "v"
kind = "page_view"
min_percent = 50
points = 1

[[activity]]
id = "w"
kind = "video_watched"
min_percent = 120
points = 1
"#,
    );
    expect_error(
        &src,
        "= 50",
        &["`min_percent` applies to video_watched only"],
    );
    expect_error(&src, "120", &["min_percent must be between 0 and 100"]);
}

#[test]
fn expires_after_must_be_whole_days() {
    let src = with(
        r#"
[[activity]]
id = "v"
kind = "page_view"
points = 1
expires_after = "36h"
"#,
    );
    expect_error(
        &src,
        "36h",
        &["expires_after must be a whole number of days"],
    );
}

#[test]
fn every_error_is_reported_at_once_in_line_order() {
    let src = with(
        r#"
[[fit]]
id = "a"
attribute = "shoe_size"
equals = 1
points = 1

[[activity]]
id = "b"
kind = "teleport"
points = 1
"#,
    );
    let errs = errors(&src);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert_eq!(errs[0].line, line_of(&src, "shoe_size"));
    assert_eq!(errs[1].line, line_of(&src, "teleport"));
    let shown = Model::from_toml(&src, "bad.toml").unwrap_err().to_string();
    let first = shown.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("bad.toml:{}:", errs[0].line)),
        "{shown}"
    );
}

#[test]
fn column_points_at_the_value() {
    let src = with(
        "\n[[fit]]\nid = \"l\"\nattribute = \"email_domain\"\nin_list = \"enemies\"\npoints = -1\n",
    );
    let e = expect_error(&src, "enemies", &["unknown list"]);
    assert_eq!(e.column, "in_list = ".len() + 1);
}

#[test]
fn toml_syntax_error_gives_a_line() {
    let src = "[model]\nname = \"v\"\n\n[thresholds]\nmql = = 100\nmql_exit = 70\n";
    let errs = errors(src);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].line, 5, "{errs:#?}");
    assert!(!errs[0].message.is_empty());
}

#[test]
fn missing_required_section_is_reported() {
    let errs = errors("[model]\nname = \"v\"\n");
    assert!(errs[0].message.contains("thresholds"), "{errs:#?}");
}

#[test]
fn example_model_compiles() {
    let src = include_str!("../../../models/example.toml");
    let m = Model::from_toml(src, "models/example.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.name, "northwind-b2b-saas");
    assert_eq!(
        m.products.iter().map(|p| &**p).collect::<Vec<_>>(),
        vec!["analytics", "automation"]
    );
    assert_eq!(m.thresholds.mql, leadscore_domain::Points::whole(100));
    assert_eq!(m.thresholds.mql_exit, leadscore_domain::Points::whole(70));
    assert_eq!(m.fit_rules.len(), 15);
    assert_eq!(m.activity_rules.len(), 26);
    assert_eq!(m.combinations.len(), 2);
    assert_eq!(m.cold_after_days, Some(45));
    assert!(!m.score_machine_opens);
    assert!(m.lists.competitors.contains("rivalytics.com"));
    assert!(
        m.lists.free_mail.contains("mailinator.com") && m.lists.free_mail.contains("gmail.com")
    );
    let demo = m
        .activity_rule_index("demo-request")
        .map(|i| &m.activity_rules[i])
        .unwrap();
    assert!(demo.instant_mql);
}
