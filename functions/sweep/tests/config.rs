//! The sweep's configuration: defaults, and typed errors whose messages name the variable.

mod common;

use common::{lookup, write_model, MODEL};
use leadscore_runtime::ConfigError;
use leadscore_sweep::Config;
use std::time::Duration;

const JOBS: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/leadscore-sweep-jobs.fifo";
const NURTURE: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/leadscore-nurture.fifo";

/// A complete configuration with `extra` laid over it (an empty value unsets a variable).
fn with(extra: &[(&'static str, &str)]) -> Result<Config, ConfigError> {
    let model = write_model(MODEL);
    let mut vars = vec![
        ("LEADSCORE_TABLE", "leads"),
        ("LEADSCORE_MODEL", model.to_str().unwrap()),
        ("LEADSCORE_SWEEP_QUEUE_URL", JOBS),
        ("LEADSCORE_NURTURE_QUEUE_URL", NURTURE),
    ];
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        vars.push((k, v));
    }
    Config::from_lookup(lookup(&vars))
}

fn message(r: Result<Config, ConfigError>) -> String {
    match r {
        Ok(_) => panic!("expected a configuration error"),
        // main returns the error: its Debug output is the message.
        Err(e) => {
            assert_eq!(format!("{e:?}"), e.to_string());
            e.to_string()
        }
    }
}

#[test]
fn a_complete_configuration_has_the_defaults() {
    let cfg = with(&[("LEADSCORE_LEDGER_TTL_DAYS", "90")]).unwrap();
    assert_eq!(cfg.store.table, "leads");
    assert_eq!(cfg.store.ledger_ttl, Some(chrono::Duration::days(90)));
    assert_eq!(cfg.jobs_queue_url, JOBS);
    assert_eq!(cfg.nurture_queue_url, NURTURE);
    assert_eq!(cfg.sweep.page_size, 100);
    assert_eq!(cfg.reserve, Duration::from_secs(20));
    assert_eq!(cfg.sweep.model.name, "sweep-lambda-test");
}

#[test]
fn page_size_and_reserve_are_read() {
    let cfg = with(&[
        ("LEADSCORE_SWEEP_PAGE_SIZE", "25"),
        ("LEADSCORE_SWEEP_RESERVE_SECONDS", " 45 "),
    ])
    .unwrap();
    assert_eq!(cfg.sweep.page_size, 25);
    assert_eq!(cfg.reserve, Duration::from_secs(45));
}

#[test]
fn every_missing_variable_is_named() {
    for var in [
        "LEADSCORE_TABLE",
        "LEADSCORE_MODEL",
        "LEADSCORE_SWEEP_QUEUE_URL",
        "LEADSCORE_NURTURE_QUEUE_URL",
    ] {
        for unset in ["", "  "] {
            let msg = message(with(&[(var, unset)]));
            assert!(msg.starts_with(&format!("{var} is not set: ")), "{msg}");
        }
    }
}

#[test]
fn invalid_values_are_named_with_the_value() {
    for (var, value, wanted) in [
        (
            "LEADSCORE_SWEEP_PAGE_SIZE",
            "0",
            "is not a whole number from 1 to 1000",
        ),
        (
            "LEADSCORE_SWEEP_PAGE_SIZE",
            "lots",
            "is not a whole number from 1 to 1000",
        ),
        (
            "LEADSCORE_SWEEP_RESERVE_SECONDS",
            "901",
            "is not a whole number from 0 to 900",
        ),
        (
            "LEADSCORE_SWEEP_RESERVE_SECONDS",
            "-1",
            "is not a whole number from 0 to 900",
        ),
        (
            "LEADSCORE_SWEEP_QUEUE_URL",
            "leadscore-sweep-jobs",
            "is not a queue URL",
        ),
        (
            "LEADSCORE_NURTURE_QUEUE_URL",
            "arn:aws:sqs:us-east-1:123456789012:nurture",
            "is not a queue URL",
        ),
        (
            "LEADSCORE_LEDGER_TTL_DAYS",
            "forever",
            "must be a whole number of days",
        ),
    ] {
        let msg = message(with(&[(var, value)]));
        assert!(
            msg.starts_with(&format!("{var}: `{value}` {wanted}"))
                || msg.starts_with(&format!("{var}: {wanted}")),
            "{msg}"
        );
    }
}

#[test]
fn an_invalid_model_lists_its_problems_by_line() {
    let bad = write_model("[model]\nname = \"x\"\n[thresholds]\nmql = \"lots\"\n");
    let msg = message(with(&[("LEADSCORE_MODEL", bad.to_str().unwrap())]));
    assert!(msg.contains(&format!("{}:4:", bad.display())), "{msg}");
}

#[test]
fn the_sweep_decays_against_the_stages_thresholds() {
    // The sweep recycles leads below the exit threshold: it must use the same override as
    // ingest, or a lead would be qualified by one function and recycled by the other.
    let t = with(&[("LEADSCORE_MQL_EXIT_THRESHOLD", "20")])
        .unwrap()
        .sweep
        .model
        .thresholds;
    assert_eq!(
        (t.mql.as_f64(), t.mql_exit.as_f64()),
        (50.0, 20.0),
        "the file says 50/40"
    );
    let msg = message(with(&[("LEADSCORE_MQL_THRESHOLD", "30")]));
    assert!(
        msg.starts_with("LEADSCORE_MQL_THRESHOLD: thresholds.mql_exit (40) must be lower"),
        "{msg}"
    );
}
