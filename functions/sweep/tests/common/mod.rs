//! Shared by the sweep's tests: the model, leads, configuration lookups and SQS events shaped
//! like the ones Lambda delivers.
#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use lambda_runtime::{Context, LambdaEvent};
use leadscore_app::sweep::SweepConfig;
use leadscore_domain::{apply, AttrValue, Event, EventKind, LeadState, Model};
use leadscore_queue::MemoryQueue;
use leadscore_store::{shard_of, LeadStore};
use leadscore_sweep::Sweeper;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Idle from 7 days: 5 points a day; cold after 30 idle days.
pub const MODEL: &str = r#"
[model]
name = "sweep-lambda-test"
[thresholds]
mql = 50
mql_exit = 40
[decay]
idle_days = 7
every = "day"
points = 5
floor = 0
cold_after_days = 30
[[activity]]
id = "trial"
kind = "trial_started"
points = 60
[[activity]]
id = "form"
kind = "form_submit"
points = 10
"#;

pub fn model() -> Model {
    Model::from_toml(MODEL, "sweep-test.toml").unwrap()
}

/// Writes `text` to a file of its own (tests run in parallel).
pub fn write_model(text: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let file = format!("sweep-{}-{n}.toml", std::process::id());
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(file);
    std::fs::write(&path, text).unwrap();
    path
}

/// A lookup over fixed variables, the way `Config::from_env` sees the environment.
pub fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| vars.get(k).cloned()
}

/// Day `n` of the test calendar (day 0 is 2026-03-01).
pub fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + Duration::days(n)
}

pub fn at(n: i64) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day(n).and_hms_opt(10, 0, 0).unwrap())
}

/// A lead whose only activity is `kind` on day `n`.
pub fn lead(model: &Model, id: &str, kind: EventKind, n: i64) -> LeadState {
    let mut s = LeadState::new(id);
    s.attributes
        .insert("email".into(), AttrValue::Text(format!("{id}@x.io")));
    apply(
        model,
        &mut s,
        &[Event::new(format!("{id}-e"), at(n), kind)],
        at(n),
    );
    s
}

pub async fn seed<S: LeadStore>(store: &S, leads: &[LeadState]) {
    for s in leads {
        store.save(s, None, &[]).await.unwrap();
    }
}

/// A sweeper over `store` with in-memory jobs and nurture queues and a 20 s reserve.
pub fn sweeper<S>(store: S) -> Sweeper<S, MemoryQueue, MemoryQueue> {
    Sweeper {
        cfg: SweepConfig {
            model: model(),
            page_size: 100,
        },
        store,
        jobs: MemoryQueue::new(),
        nurture: MemoryQueue::new(),
        reserve: std::time::Duration::from_secs(20),
    }
}

/// An SQS event as Lambda delivers it: the fixture's record, once per `(message id, body)`.
pub fn sqs_event(records: &[(&str, &str)]) -> Value {
    let path = format!(
        "{}/tests/fixtures/sqs-event.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let template = fixture["Records"][0].clone();
    let records: Vec<Value> = records
        .iter()
        .map(|(id, body)| {
            let mut r = template.clone();
            r["messageId"] = json!(id);
            r["body"] = json!(body);
            r
        })
        .collect();
    json!({ "Records": records })
}

/// The job body the fan-out sends for `shard`.
pub fn job_body(shard: u16, through: NaiveDate) -> String {
    json!({ "shard": shard, "through": through }).to_string()
}

/// An invocation whose deadline is `seconds` from now.
pub fn invocation(payload: Value, seconds: u64) -> LambdaEvent<Value> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let mut ctx = Context::default();
    ctx.request_id = "test-request".into();
    ctx.deadline = (now.as_millis() as u64) + seconds * 1000;
    LambdaEvent::new(payload, ctx)
}

/// Ids of `n` leads that all fall in one shard, and that shard.
pub fn ids_in_one_shard(n: usize) -> (u16, Vec<String>) {
    let mut by_shard: HashMap<u16, Vec<String>> = HashMap::new();
    for i in 0.. {
        let id = format!("email:lead{i:04}@x.io");
        let ids = by_shard.entry(shard_of(&id)).or_default();
        ids.push(id);
        if ids.len() == n {
            let shard = shard_of(&ids[0]);
            return (shard, ids.clone());
        }
    }
    unreachable!()
}

/// The failed message ids of a batch response, as Lambda reads them from the JSON.
pub fn failures(response: &Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}
