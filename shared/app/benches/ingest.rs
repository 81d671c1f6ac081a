//! Ingestion against DynamoDB on moto (started here on a free loopback port):
//! - DynamoDB requests per accepted activity for a 100-event HubSpot batch touching 10
//!   leads (new leads, then known leads), and what a redelivery of the same batch costs;
//! - handler latency p50/p99 as a ratio to one bare PutItem round trip, measured in the
//!   same run (moto's speed varies from run to run; the ratio much less).
//!
//!     cargo bench -p leadscore-app --bench ingest

use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use leadscore_app::config::IngestConfig;
use leadscore_app::http::Request;
use leadscore_app::ingest::handle;
use leadscore_domain::{LeadState, LedgerEntry};
use leadscore_store::testing::Moto;
use leadscore_store::{Alias, DynamoStore, LeadStore, StoreError, Stored};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECRET: &str = "bench-secret";
const BASE: &str = "https://hooks.example.com";

/// Counts the DynamoDB requests a `DynamoStore` makes: one per call, one per 100 keys for
/// batch reads, one per alias for erasure (see `shared/store/src/dynamo.rs`).
struct Counting<S> {
    inner: S,
    requests: AtomicUsize,
    /// Time spent in fetch and save calls (microseconds), to split the handler's latency.
    fetch_us: AtomicUsize,
    save_us: AtomicUsize,
}

impl<S> Counting<S> {
    fn add(&self, n: usize) {
        self.requests.fetch_add(n, Ordering::Relaxed);
    }
    fn take(&self) -> usize {
        self.requests.swap(0, Ordering::Relaxed)
    }
}

impl<S: LeadStore> LeadStore for Counting<S> {
    async fn resolve(&self, aliases: &[Alias]) -> Result<Vec<Option<String>>, StoreError> {
        self.add(aliases.len().div_ceil(100));
        self.inner.resolve(aliases).await
    }
    async fn load(&self, lead_id: &str) -> Result<Option<Stored>, StoreError> {
        self.add(1);
        self.inner.load(lead_id).await
    }
    async fn fetch(
        &self,
        candidate: &str,
        aliases: &[Alias],
    ) -> Result<(Vec<Option<String>>, Option<Stored>), StoreError> {
        self.add((aliases.len() + 1).div_ceil(100));
        let t = Instant::now();
        let out = self.inner.fetch(candidate, aliases).await;
        self.fetch_us
            .fetch_add(t.elapsed().as_micros() as usize, Ordering::Relaxed);
        out
    }
    async fn save(
        &self,
        state: &LeadState,
        expected: Option<u64>,
        aliases: &[Alias],
    ) -> Result<u64, StoreError> {
        self.add(1);
        let t = Instant::now();
        let out = self.inner.save(state, expected, aliases).await;
        self.save_us
            .fetch_add(t.elapsed().as_micros() as usize, Ordering::Relaxed);
        out
    }
    async fn save_merged(
        &self,
        state: &LeadState,
        expected: u64,
        aliases: &[Alias],
        absorbed: &str,
        absorbed_version: u64,
    ) -> Result<u64, StoreError> {
        self.add(2);
        self.inner
            .save_merged(state, expected, aliases, absorbed, absorbed_version)
            .await
    }
    async fn ledger(&self, lead_id: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        self.add(1);
        self.inner.ledger(lead_id).await
    }
    async fn aliases(&self, lead_id: &str) -> Result<Vec<Alias>, StoreError> {
        self.add(1);
        self.inner.aliases(lead_id).await
    }
    async fn erase(&self, lead_id: &str, aliases: &[Alias]) -> Result<(), StoreError> {
        self.add(1 + aliases.len());
        self.inner.erase(lead_id, aliases).await
    }
}

const MODEL: &str = include_str!("../../../models/example.toml");

fn config() -> IngestConfig {
    let vars = HashMap::from([
        ("LEADSCORE_HUBSPOT_CLIENT_SECRET", SECRET),
        ("LEADSCORE_PUBLIC_BASE_URL", BASE),
    ]);
    IngestConfig::from_lookup(
        |k| vars.get(k).map(|v| v.to_string()),
        MODEL,
        "example.toml",
    )
    .expect("config")
}

/// A HubSpot batch: `per_lead` property changes for each of `leads` contacts.
fn hubspot_batch(round: u64, leads: u64, per_lead: u64, t0: i64) -> Vec<Value> {
    let props = [
        ("jobtitle", "VP Growth"),
        ("industry", "Software"),
        ("numberofemployees", "250"),
        ("country", "US"),
        ("hs_seniority", "vp"),
        ("annualrevenue", "25000000"),
        ("company", "Acme"),
        ("phone", "+1 555 0100"),
        ("hs_role", "marketing"),
        ("city", "Boston"),
    ];
    let mut out = Vec::new();
    for lead in 0..leads {
        for i in 0..per_lead {
            let (name, value) = props[(i % props.len() as u64) as usize];
            out.push(json!({
                "eventId": round * 1_000_000 + lead * 1000 + i, "subscriptionId": 1, "portalId": 62515, "appId": 1,
                "occurredAt": t0 + (i as i64) * 1000, "subscriptionType": "contact.propertyChange",
                "attemptNumber": 0, "objectId": 9000 + lead, "propertyName": name,
                "propertyValue": format!("{value} {round}"), "changeSource": "CRM"
            }));
        }
    }
    out
}

fn signed(body: &[Value], now: DateTime<Utc>) -> Request {
    let bytes = serde_json::to_vec(body).expect("json");
    let ts = now.timestamp_millis().to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("POST{BASE}/webhooks/hubspot").as_bytes());
    mac.update(&bytes);
    mac.update(ts.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    Request {
        method: "POST".into(),
        path: "/webhooks/hubspot".into(),
        query: String::new(),
        headers: HashMap::from([
            ("content-type".into(), "application/json".into()),
            ("x-hubspot-signature-v3".into(), sig),
            ("x-hubspot-request-timestamp".into(), ts),
        ]),
        body: bytes,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with("--") && !"ingest".contains(a.as_str()))
    {
        return;
    }
    let moto = Moto::start();
    let client = moto.dynamodb().await;
    let dynamo = DynamoStore::new(client.clone(), "bench");
    dynamo.create_table().await.expect("table");
    let store = Counting {
        inner: dynamo,
        requests: AtomicUsize::new(0),
        fetch_us: AtomicUsize::new(0),
        save_us: AtomicUsize::new(0),
    };
    let cfg = config();
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
    let t0 = now.timestamp_millis() - 3_600_000;

    println!("== DynamoDB requests per accepted activity (100-event HubSpot batch, 10 leads)");
    for (label, round) in [("new leads", 1), ("known leads", 2)] {
        let req = signed(&hubspot_batch(round, 10, 10, t0), now);
        store.take();
        let r = handle(&cfg, &store, &req, now).await;
        let accepted = r.body["accepted"].as_u64().unwrap_or(0);
        let n = store.take();
        println!(
            "{label}: status {}, accepted {accepted}, requests {n}, requests/activity {:.2}",
            r.status,
            n as f64 / accepted.max(1) as f64
        );
        let r = handle(&cfg, &store, &req, now).await;
        let n = store.take();
        println!(
            "{label}, redelivered: status {}, accepted {}, duplicates {}, requests {n} (reads only)",
            r.status, r.body["accepted"], r.body["duplicates"]
        );
    }

    println!("== latency against moto: handler vs one bare PutItem (same run)");
    const N: usize = 1000;
    let item = |i: usize| {
        HashMap::from([
            (
                "pk".to_string(),
                aws_sdk_dynamodb::types::AttributeValue::S(format!("bench#{i}")),
            ),
            (
                "sk".to_string(),
                aws_sdk_dynamodb::types::AttributeValue::S("S".into()),
            ),
            (
                "state".to_string(),
                aws_sdk_dynamodb::types::AttributeValue::S("x".repeat(2000)),
            ),
        ])
    };
    // The baseline writes to a table of its own: moto deep-copies a table on every
    // TransactWriteItems (its rollback), so 200 baseline items in the leads' table would
    // slow the handler's transactions with a cost real DynamoDB does not have.
    DynamoStore::new(client.clone(), "baseline")
        .create_table()
        .await
        .expect("baseline table");
    store.fetch_us.store(0, Ordering::Relaxed);
    store.save_us.store(0, Ordering::Relaxed);
    let (mut put, mut handler) = (Vec::new(), Vec::new());
    for i in 0..N {
        // Interleaved, so both see the same moto at the same time.
        let t = Instant::now();
        client
            .put_item()
            .table_name("baseline")
            .set_item(Some(item(i)))
            .send()
            .await
            .expect("put");
        put.push(t.elapsed());
        // One event for a known lead: what HubSpot's steady stream looks like.
        let mut batch = hubspot_batch(10 + i as u64, 1, 1, t0 + i as i64);
        batch[0]["objectId"] = json!(9000 + (i % 10));
        let req = signed(&batch, now);
        let t = Instant::now();
        let r = handle(&cfg, &store, &req, now).await;
        handler.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let total: Duration = handler.iter().sum();
    let (fetch, save) = (
        store.fetch_us.load(Ordering::Relaxed) as f64 / 1e3,
        store.save_us.load(Ordering::Relaxed) as f64 / 1e3,
    );
    println!(
        "handler time split: read {:.0}%, write {:.0}%, the rest (verify, parse, score, serialize) {:.0}%",
        100.0 * fetch / (total.as_secs_f64() * 1e3),
        100.0 * save / (total.as_secs_f64() * 1e3),
        100.0 * (1.0 - (fetch + save) / (total.as_secs_f64() * 1e3))
    );
    put.sort();
    handler.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (p50, p99) = (percentile(&put, 0.5), percentile(&put, 0.99));
    let (h50, h99) = (percentile(&handler, 0.5), percentile(&handler, 0.99));
    println!("PutItem: p50 {:.2} ms, p99 {:.2} ms", ms(p50), ms(p99));
    println!("handler: p50 {:.2} ms, p99 {:.2} ms", ms(h50), ms(h99));
    println!(
        "ratio handler/PutItem: p50 {:.2}x, p99 {:.2}x ({N} interleaved requests each)",
        ms(h50) / ms(p50),
        ms(h99) / ms(p99)
    );
    let _ = LeadState::default();
}
