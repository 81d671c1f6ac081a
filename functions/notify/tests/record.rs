//! Reading stream records, on fixtures captured from moto's DynamoDB Streams
//! (`tests/fixtures`: two writes of one lead through the store, the second making it an MQL;
//! the same records are produced live in `stream.rs`).

mod common;

use aws_lambda_events::event::dynamodb::Event;
use chrono::{TimeZone, Utc};
use common::pattern_matches;
use leadscore_domain::Stage;
use leadscore_notifier::{mql_entry, RecordError, FILTER_PATTERN};
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn event(v: Value) -> Event {
    serde_json::from_value(v).expect("a DynamoDB stream event")
}

#[test]
fn the_mql_entry_decodes_to_the_lead_and_its_transition() {
    let e = event(fixture("stream-mql-entry.json"));
    assert_eq!(e.records.len(), 1);
    let entry = mql_entry(&e.records[0]).unwrap().expect("an entry");
    assert_eq!(entry.state.lead_id, "hubspot:101");
    assert_eq!(entry.state.stage, Stage::Mql);
    assert_eq!(
        entry.transition.at,
        Utc.with_ymd_and_hms(2026, 3, 2, 11, 0, 0).unwrap()
    );
    assert_eq!(
        (entry.transition.from, entry.transition.to),
        (Stage::Lead, Stage::Mql)
    );
    assert_eq!(entry.state.scores.total.to_string(), "60");
}

#[test]
fn of_every_record_of_the_writes_only_the_entry_is_one() {
    let all = fixture("stream-all.json");
    let pattern: Value = serde_json::from_str(FILTER_PATTERN).unwrap();
    let records = all["Records"].as_array().unwrap();
    assert_eq!(
        records.len(),
        6,
        "lead, ledger and alias items of two writes"
    );
    let passed: Vec<usize> = (0..records.len())
        .filter(|&i| pattern_matches(&pattern, &records[i]))
        .collect();
    let e = event(all.clone());
    let entries: Vec<usize> = (0..e.records.len())
        .filter(|&i| mql_entry(&e.records[i]).unwrap().is_some())
        .collect();
    // The filter and the handler's own check agree: the second write of the lead item.
    assert_eq!(passed, entries);
    assert_eq!(entries.len(), 1);
    assert_eq!(records[entries[0]]["eventName"], "MODIFY");
}

fn entry_with(change: impl FnOnce(&mut Value)) -> Result<(), RecordError> {
    let mut v = fixture("stream-mql-entry.json");
    change(&mut v["Records"][0]["dynamodb"]["NewImage"]);
    mql_entry(&event(v).records[0]).map(|_| ())
}

#[test]
fn a_marked_record_that_cannot_be_read_is_an_error() {
    assert_eq!(
        entry_with(|img| img["mql_entered_at"] = json!({"S": "yesterday"})),
        Err(RecordError::BadMark("yesterday".into()))
    );
    assert_eq!(
        entry_with(|img| {
            img.as_object_mut().unwrap().remove("state");
        }),
        Err(RecordError::NoState)
    );
    assert!(matches!(
        entry_with(|img| img["state"] = json!({"B": "AAAA"})),
        Err(RecordError::Corrupt(_))
    ));
    // The mark names a move the state does not have.
    assert!(matches!(
        entry_with(|img| img["mql_entered_at"] = json!({"S": "2026-03-09T00:00:00.000Z"})),
        Err(RecordError::NoTransition { lead, .. }) if lead == "hubspot:101"
    ));
}

#[test]
fn removals_and_unmarked_items_are_not_entries() {
    let mut v = fixture("stream-mql-entry.json");
    v["Records"][0]["eventName"] = json!("REMOVE");
    assert!(mql_entry(&event(v).records[0]).unwrap().is_none());
    // Another item kind carrying the attribute (not a lead item) is ignored.
    let mut v = fixture("stream-mql-entry.json");
    v["Records"][0]["dynamodb"]["NewImage"]["sk"] = json!({"S": "E#0000000000"});
    assert!(mql_entry(&event(v).records[0]).unwrap().is_none());
}

/// The SAM template deploys the same filter the code documents and the tests check.
#[test]
fn the_template_filters_with_the_same_pattern() {
    let path = format!("{}/../../infra/template.yaml", env!("CARGO_MANIFEST_DIR"));
    let template = std::fs::read_to_string(path).unwrap();
    assert!(
        template.contains(&format!("- Pattern: '{FILTER_PATTERN}'")),
        "infra/template.yaml's FilterCriteria differs from leadscore_notifier::FILTER_PATTERN"
    );
}
