//! The Lambda's configuration: typed errors with messages naming the variable, read through a
//! lookup closure (not the real environment) so tests stay independent.

mod common;

use common::{lookup, write_model, MODEL};
use leadscore_domain::Points;
use leadscore_ingest::{Config, ConfigError};

#[test]
fn a_complete_configuration_reads_the_table_model_and_secrets() {
    let path = write_model("config-ok", MODEL);
    let cfg = Config::from_lookup(lookup(&[
        ("LEADSCORE_TABLE", " leads "),
        ("LEADSCORE_MODEL", path.to_str().unwrap()),
        ("LEADSCORE_EVENTS_SECRET", "s3cret"),
        ("LEADSCORE_MAX_BODY_BYTES", "2048"),
    ]))
    .unwrap();
    assert_eq!(cfg.store.table, "leads");
    assert_eq!(cfg.model_path, path);
    assert_eq!(cfg.ingest.events_secret.as_deref(), Some("s3cret"));
    assert_eq!(cfg.ingest.max_body_bytes, 2048);
    assert!(cfg.ingest.marketo_token.is_none());
    assert_eq!(
        cfg.store.ledger_ttl,
        Some(chrono::Duration::days(400)),
        "default"
    );
}

#[test]
fn the_ledger_ttl_is_configured_in_days_and_a_bad_value_names_the_variable() {
    let path = write_model("config-ttl", MODEL);
    let with = |ttl: &str| {
        Config::from_lookup(lookup(&[
            ("LEADSCORE_TABLE", "leads"),
            ("LEADSCORE_MODEL", path.to_str().unwrap()),
            ("LEADSCORE_LEDGER_TTL_DAYS", ttl),
        ]))
    };
    assert_eq!(
        with("90").unwrap().store.ledger_ttl,
        Some(chrono::Duration::days(90))
    );
    assert_eq!(
        with("0").unwrap().store.ledger_ttl,
        None,
        "0 keeps entries for ever"
    );
    let err = with("a year").err().unwrap();
    assert!(
        err.to_string().contains("LEADSCORE_LEDGER_TTL_DAYS"),
        "{err}"
    );
}

#[test]
fn a_missing_or_empty_table_names_the_variable() {
    let path = write_model("config-no-table", MODEL);
    for table in [None, Some("  ")] {
        let mut vars = vec![("LEADSCORE_MODEL", path.to_str().unwrap())];
        if let Some(t) = table {
            vars.push(("LEADSCORE_TABLE", t));
        }
        let err = Config::from_lookup(lookup(&vars)).err().unwrap();
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    var: "LEADSCORE_TABLE",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("LEADSCORE_TABLE is not set"));
        // main returns this error: its Debug output is the same message.
        assert_eq!(format!("{err:?}"), err.to_string());
    }
}

#[test]
fn a_missing_model_variable_names_it() {
    let err = Config::from_lookup(lookup(&[("LEADSCORE_TABLE", "leads")]))
        .err()
        .unwrap();
    assert!(matches!(
        err,
        ConfigError::Missing {
            var: "LEADSCORE_MODEL",
            ..
        }
    ));
    assert!(err.to_string().contains("LEADSCORE_MODEL is not set"));
}

#[test]
fn an_unreadable_model_file_names_the_path() {
    let missing = format!("{}/no-such-model.toml", env!("CARGO_TARGET_TMPDIR"));
    let err = Config::from_lookup(lookup(&[
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
fn an_invalid_model_reports_its_file_and_line() {
    let path = write_model(
        "config-invalid",
        "[model]\nname = \"x\"\n[thresholds]\nmql = \"lots\"\n",
    );
    let err = Config::from_lookup(lookup(&[
        ("LEADSCORE_TABLE", "leads"),
        ("LEADSCORE_MODEL", path.to_str().unwrap()),
    ]))
    .err()
    .unwrap();
    assert!(matches!(err, ConfigError::InvalidModel { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(path.to_str().unwrap()), "{msg}");
    assert!(msg.contains(&format!("{}:4:", path.display())), "{msg}");
}

#[test]
fn an_invalid_ingest_variable_is_reported_by_name() {
    let path = write_model("config-bad-var", MODEL);
    let err = Config::from_lookup(lookup(&[
        ("LEADSCORE_TABLE", "leads"),
        ("LEADSCORE_MODEL", path.to_str().unwrap()),
        ("LEADSCORE_MAX_BODY_BYTES", "lots"),
    ]))
    .err()
    .unwrap();
    assert!(
        matches!(
            err,
            ConfigError::Invalid {
                var: "LEADSCORE_MAX_BODY_BYTES",
                ..
            }
        ),
        "{err}"
    );
    assert!(err
        .to_string()
        .starts_with("LEADSCORE_MAX_BODY_BYTES: `lots`"));
}

#[test]
fn a_hubspot_secret_without_the_public_url_names_the_missing_variable() {
    let path = write_model("config-no-url", MODEL);
    let err = Config::from_lookup(lookup(&[
        ("LEADSCORE_TABLE", "leads"),
        ("LEADSCORE_MODEL", path.to_str().unwrap()),
        ("LEADSCORE_HUBSPOT_CLIENT_SECRET", "s"),
    ]))
    .err()
    .unwrap();
    assert!(
        matches!(
            err,
            ConfigError::Missing {
                var: "LEADSCORE_PUBLIC_BASE_URL",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("LEADSCORE_HUBSPOT_CLIENT_SECRET"));
}

#[test]
fn the_runtime_reads_the_model_variable_the_app_documents() {
    assert_eq!(leadscore_runtime::MODEL, leadscore_app::config::MODEL);
}

#[test]
fn the_stage_may_override_the_model_thresholds_and_a_bad_override_names_its_variable() {
    let path = write_model("config-thresholds", MODEL);
    let with = |vars: &[(&'static str, &str)]| {
        let mut all = vec![
            ("LEADSCORE_TABLE", "leads"),
            ("LEADSCORE_MODEL", path.to_str().unwrap()),
        ];
        all.extend_from_slice(vars);
        Config::from_lookup(lookup(&all))
    };
    let file = with(&[]).unwrap().ingest.model.thresholds;
    assert_eq!(
        (file.mql, file.mql_exit),
        (Points::whole(100), Points::whole(50))
    );

    let lowered = with(&[
        ("LEADSCORE_MQL_THRESHOLD", "80"),
        ("LEADSCORE_MQL_EXIT_THRESHOLD", "60.5"),
    ])
    .unwrap()
    .ingest
    .model
    .thresholds;
    assert_eq!(
        (lowered.mql, lowered.mql_exit),
        (Points::whole(80), Points(6050))
    );
    assert_eq!(lowered.floor, file.floor, "the floor stays the file's");

    for (vars, var, says) in [
        (
            &[("LEADSCORE_MQL_THRESHOLD", "lots")][..],
            "LEADSCORE_MQL_THRESHOLD",
            "`lots`",
        ),
        (
            &[("LEADSCORE_MQL_THRESHOLD", "40")][..],
            "LEADSCORE_MQL_THRESHOLD",
            "thresholds.mql_exit (50) must be lower than thresholds.mql (40)",
        ),
        (
            &[("LEADSCORE_MQL_EXIT_THRESHOLD", "100")][..],
            "LEADSCORE_MQL_EXIT_THRESHOLD",
            "thresholds.mql_exit (100) must be lower",
        ),
        (
            &[("LEADSCORE_MQL_EXIT_THRESHOLD", "inf")][..],
            "LEADSCORE_MQL_EXIT_THRESHOLD",
            "not a finite number",
        ),
    ] {
        match with(vars) {
            Err(ConfigError::Invalid { var: got, problem }) => {
                assert_eq!(got, var, "{problem}");
                assert!(problem.contains(says), "{problem}");
            }
            other => panic!("{vars:?}: expected an invalid {var}, got {:?}", other.err()),
        }
    }
}
