//! The nightly sweep against moto's DynamoDB: leads swept per second per shard, items read per
//! due lead, and a bare PutItem rate measured in the same run as the baseline.
//! `cargo bench -p leadscore-app --bench sweep` (figures in docs/benchmarks.md).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use leadscore_app::sweep::{sweep_shard, ShardJob, SweepConfig};
use leadscore_domain::{apply, Event, EventKind, LeadState, Model};
use leadscore_queue::MemoryQueue;
use leadscore_store::testing::Moto;
use leadscore_store::{shard_of, DynamoStore, DUE_SHARDS};
use std::collections::HashMap;
use std::time::Instant;

/// 10,000 leads, one in five due: 2,000 due leads, about 125 per shard.
const LEADS: usize = 10_000;
const DUE_EVERY: usize = 5;

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + Duration::days(n)
}

fn at(n: i64) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day(n).and_hms_opt(10, 0, 0).unwrap())
}

/// A lead with 6 page views under `path` and a form on day `n`.
fn lead(model: &Model, n: i64, path: &str) -> LeadState {
    let mut s = LeadState::new("template");
    let events: Vec<Event> = (0..6)
        .map(|i| {
            Event::new(
                format!("pv{i}"),
                at(n) - Duration::hours(i),
                EventKind::PageView,
            )
            .with_url(format!("https://acme.io/{path}/{i}"))
        })
        .chain([Event::new("form", at(n), EventKind::FormSubmit)])
        .collect();
    apply(model, &mut s, &events, at(n));
    s
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with("--") && !"sweep".contains(a.as_str()))
    {
        return;
    }
    let text = include_str!("../../../models/example.toml");
    let model = Model::from_toml(text, "models/example.toml").expect("example model");
    let moto = Moto::start();
    let client = moto.dynamodb().await;
    let store = DynamoStore::new(client.clone(), "bench-sweep");
    store.create_table().await.expect("table");
    // Due on day 30: pricing views (half-life: re-evaluated daily) on day 0. The others read
    // the blog on day 29: nothing for decay to do before day 43.
    let (due, quiet) = (lead(&model, 0, "pricing"), lead(&model, 29, "blog"));
    let states: Vec<LeadState> = (0..LEADS)
        .map(|i| {
            let mut s = if i % DUE_EVERY == 0 {
                due.clone()
            } else {
                quiet.clone()
            };
            s.lead_id = format!("email:lead{i:05}@acme.io");
            s
        })
        .collect();
    let due_count = states
        .iter()
        .filter(|s| s.next_due.is_some_and(|d| d <= day(30)))
        .count();
    store.seed(&states).await.expect("seed");
    let cfg = SweepConfig {
        model,
        page_size: 100,
    };
    let queue = MemoryQueue::new();
    println!("== sweep: {LEADS} leads, {due_count} due, {DUE_SHARDS} shards, one after another");
    let (mut leads, mut items, mut secs) = (0usize, 0usize, 0f64);
    let mut per_shard = Vec::new();
    for job in ShardJob::plan(day(30)) {
        let t = Instant::now();
        let r = sweep_shard(&cfg, &store, &queue, job, at(31), || false)
            .await
            .expect("sweep");
        let s = t.elapsed().as_secs_f64();
        per_shard.push(r.leads as f64 / s);
        (leads, items, secs) = (leads + r.leads, items + r.items_read, secs + s);
    }
    per_shard.sort_by(f64::total_cmp);
    let rate = leads as f64 / secs;
    println!(
        "swept {leads} leads in {secs:.1} s: {rate:.0} leads/s per shard (median shard {:.0}/s); {:.2} items read per due lead",
        per_shard[per_shard.len() / 2],
        items as f64 / leads.max(1) as f64
    );
    // Baseline: bare PutItems of a 4 KB item into a table of its own, same moto, same run.
    DynamoStore::new(client.clone(), "bench-baseline")
        .create_table()
        .await
        .expect("baseline table");
    let value = "x".repeat(4096);
    let t = Instant::now();
    const PUTS: usize = 500;
    for i in 0..PUTS {
        let item = HashMap::from([
            (
                "pk".to_owned(),
                aws_sdk_dynamodb::types::AttributeValue::S(format!("b#{i}")),
            ),
            (
                "sk".to_owned(),
                aws_sdk_dynamodb::types::AttributeValue::S("S".into()),
            ),
            (
                "v".to_owned(),
                aws_sdk_dynamodb::types::AttributeValue::S(value.clone()),
            ),
        ]);
        client
            .put_item()
            .table_name("bench-baseline")
            .set_item(Some(item))
            .send()
            .await
            .expect("put");
    }
    let put_rate = PUTS as f64 / t.elapsed().as_secs_f64();
    println!(
        "baseline: {put_rate:.0} bare PutItems/s; sweep rate / PutItem rate = {:.2}",
        rate / put_rate
    );
    let shards: std::collections::BTreeSet<u16> =
        states.iter().map(|s| shard_of(&s.lead_id)).collect();
    println!("leads spread over {} shards", shards.len());
}
