//! Shared by the notifier's tests: a model that qualifies leads, leads written to a real
//! DynamoDB table (moto) so its stream carries real records, and an EventBridge-pattern
//! matcher for the subset the event source filter uses.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use lambda_runtime::{Context, LambdaEvent};
use leadscore_domain::{apply, AttrValue, Event, EventKind, LeadState, Model};
use leadscore_store::{Alias, DynamoStore, LeadStore};
use serde_json::Value;

pub const MODEL: &str = r#"
[model]
name = "notifier-test"
products = ["analytics"]

[thresholds]
mql = 50
mql_exit = 30

[grades]
fit = { A = 30, B = 20, C = 10 }
activity = { 1 = 40, 2 = 20, 3 = 10 }

[[fit]]
id = "title-executive"
attribute = "job_title"
contains = ["vp", "chief"]
points = 30

[[activity]]
id = "pricing-page"
description = "Looked at pricing"
kind = "page_view"
url = "*/pricing*"
points = 15
product = "analytics"

[[activity]]
id = "demo-request"
description = "Asked for a demo"
kind = "demo_request"
points = 20
instant_mql = true
"#;

pub const SENDER: &str = "mql@leadscore.test";
pub const PORTAL: u64 = 4242;

pub fn model() -> Model {
    Model::from_toml(MODEL, "notifier-test").expect("valid model")
}

pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
}

pub fn identify(id: &str, when: DateTime<Utc>, name: &str, country: &str) -> Event {
    Event::new(id, when, EventKind::Identify)
        .with_property("first_name", AttrValue::Text(name.into()))
        .with_property("job_title", AttrValue::Text("VP Sales".into()))
        .with_property("country", AttrValue::Text(country.into()))
        .with_property("company", AttrValue::Text("Acme".into()))
}

pub fn pricing(id: &str, when: DateTime<Utc>) -> Event {
    Event::new(id, when, EventKind::PageView).with_url("https://acme.test/pricing")
}

pub fn demo(id: &str, when: DateTime<Utc>) -> Event {
    Event::new(id, when, EventKind::DemoRequest)
}

/// Loads the lead (or starts it), applies `events` at `now` and saves it with `aliases`, as
/// ingestion does: one conditional write per batch.
pub async fn write(
    store: &DynamoStore,
    model: &Model,
    lead: &str,
    aliases: &[Alias],
    events: &[Event],
    now: DateTime<Utc>,
) -> LeadState {
    let stored = store.load(lead).await.unwrap();
    let version = stored.as_ref().map(|s| s.version);
    let mut state = stored.map_or_else(|| LeadState::new(lead), |s| s.state);
    apply(model, &mut state, events, now);
    store.save(&state, version, aliases).await.unwrap();
    state
}

pub fn invocation(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

/// The sequence numbers a stream response reports as failed.
pub fn failures(response: &Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .expect("a batch response")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_owned())
        .collect()
}

pub fn seq(record: &Value) -> String {
    record["dynamodb"]["SequenceNumber"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn lead_of(record: &Value) -> String {
    record["dynamodb"]["Keys"]["pk"]["S"]
        .as_str()
        .unwrap()
        .trim_start_matches("L#")
        .to_owned()
}

/// Whether an EventBridge pattern matches an event, for what `FilterCriteria` patterns on
/// DynamoDB streams use: nested objects, lists of allowed strings, and `{"exists": bool}`.
/// Anything else in the pattern fails the test rather than match by accident.
pub fn pattern_matches(pattern: &Value, event: &Value) -> bool {
    let Value::Object(fields) = pattern else {
        panic!("a pattern is an object: {pattern}")
    };
    fields.iter().all(|(key, want)| {
        let got = event.get(key);
        match want {
            Value::Object(_) => got.is_some_and(|g| pattern_matches(want, g)),
            Value::Array(options) => options.iter().any(|o| match o {
                Value::String(s) => got.and_then(Value::as_str) == Some(s),
                Value::Object(op) => match op.get("exists") {
                    Some(Value::Bool(e)) if op.len() == 1 => got.is_some() == *e,
                    _ => panic!("unsupported operator {o}"),
                },
                other => panic!("unsupported value {other}"),
            }),
            other => panic!("unsupported pattern value {other}"),
        }
    })
}
