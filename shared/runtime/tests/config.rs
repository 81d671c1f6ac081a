//! The base configuration every function reads: typed errors whose messages name the variable,
//! read through a lookup closure (not the real environment) so tests stay independent.

use leadscore_runtime::{BaseConfig, ConfigError, StoreConfig};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

const MODEL: &str = r#"
[model]
name = "runtime-test"
[thresholds]
mql = 100
mql_exit = 50
[[activity]]
id = "demo"
kind = "demo_request"
points = 30
"#;

/// Writes `text` to a file of its own (tests run in parallel).
fn write_model(text: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let file = format!("runtime-{}-{n}.toml", std::process::id());
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(file);
    std::fs::write(&path, text).unwrap();
    path
}

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| vars.get(k).cloned()
}

#[test]
fn a_complete_base_configuration_reads_the_table_ttl_and_model() {
    let path = write_model(MODEL);
    let cfg = BaseConfig::from_lookup(lookup(&[
        ("LEADSCORE_TABLE", " leads "),
        ("LEADSCORE_MODEL", path.to_str().unwrap()),
        ("LEADSCORE_LEDGER_TTL_DAYS", "30"),
    ]))
    .unwrap();
    assert_eq!(
        cfg.store,
        StoreConfig {
            table: "leads".into(),
            ledger_ttl: Some(chrono::Duration::days(30)),
        }
    );
    assert_eq!(cfg.model_path, path);
    assert_eq!(cfg.model.name, "runtime-test");
}

#[test]
fn missing_or_blank_variables_are_named() {
    let path = write_model(MODEL);
    let model = path.to_str().unwrap();
    for (vars, var) in [
        (vec![("LEADSCORE_MODEL", model)], "LEADSCORE_TABLE"),
        (
            vec![("LEADSCORE_TABLE", " "), ("LEADSCORE_MODEL", model)],
            "LEADSCORE_TABLE",
        ),
        (vec![("LEADSCORE_TABLE", "leads")], "LEADSCORE_MODEL"),
    ] {
        let err = BaseConfig::from_lookup(lookup(&vars)).err().unwrap();
        assert!(
            matches!(err, ConfigError::Missing { var: v, .. } if v == var),
            "{err}"
        );
        assert!(err.to_string().starts_with(&format!("{var} is not set: ")));
        // main returns this error: its Debug output is the same message.
        assert_eq!(format!("{err:?}"), err.to_string());
    }
}

#[test]
fn a_bad_ledger_ttl_names_the_variable_once() {
    let path = write_model(MODEL);
    let err = BaseConfig::from_lookup(lookup(&[
        ("LEADSCORE_TABLE", "leads"),
        ("LEADSCORE_MODEL", path.to_str().unwrap()),
        ("LEADSCORE_LEDGER_TTL_DAYS", "a year"),
    ]))
    .err()
    .unwrap();
    assert_eq!(
        err.to_string(),
        "LEADSCORE_LEDGER_TTL_DAYS: must be a whole number of days from 0 to 36500, not `a year`"
    );
    let ttl = |v: &str| {
        StoreConfig::from_lookup(lookup(&[
            ("LEADSCORE_TABLE", "leads"),
            ("LEADSCORE_LEDGER_TTL_DAYS", v),
        ]))
        .unwrap()
        .ledger_ttl
    };
    assert_eq!(ttl("0"), None, "0 keeps entries for ever");
    assert_eq!(ttl(""), Some(chrono::Duration::days(400)), "default");
}

#[test]
fn an_unreadable_model_names_the_path_and_the_variable() {
    let missing = format!("{}/no-such-model.toml", env!("CARGO_TARGET_TMPDIR"));
    let err = BaseConfig::from_lookup(lookup(&[
        ("LEADSCORE_TABLE", "leads"),
        ("LEADSCORE_MODEL", &missing),
    ]))
    .err()
    .unwrap();
    assert!(matches!(err, ConfigError::UnreadableModel { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&missing) && msg.contains("LEADSCORE_MODEL"),
        "{msg}"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn an_invalid_model_lists_its_problems_by_file_and_line() {
    let path = write_model("[model]\nname = \"x\"\n[thresholds]\nmql = \"lots\"\n");
    let err = BaseConfig::from_lookup(lookup(&[
        ("LEADSCORE_TABLE", "leads"),
        ("LEADSCORE_MODEL", path.to_str().unwrap()),
    ]))
    .err()
    .unwrap();
    assert!(matches!(err, ConfigError::InvalidModel { .. }), "{err}");
    let msg = format!("{err:?}");
    assert!(msg.contains(&format!("{}:4:", path.display())), "{msg}");
}
