//! The nightly sweep against both stores; the large and concurrent cases against DynamoDB on
//! moto (started on a free loopback port).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use leadscore_app::sweep::{sweep_shard, ShardJob, ShardReport, SweepConfig};
use leadscore_domain::{apply, Event, EventKind, LeadState, Model, Points, Reason, Source, Stage};
use leadscore_queue::{MemoryQueue, Queue};
use leadscore_store::testing::Moto;
use leadscore_store::{DueIndex, DynamoStore, LeadStore, MemoryStore, DUE_SHARDS};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const MODEL: &str = r#"
[model]
name = "sweep"
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

fn config() -> SweepConfig {
    SweepConfig {
        model: Model::from_toml(MODEL, "sweep.toml").expect("valid model"),
        page_size: 100,
    }
}

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + Duration::days(n)
}

fn at(n: i64) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day(n).and_hms_opt(10, 0, 0).unwrap())
}

/// A lead whose only activity is `kind` on day `n`.
fn lead(cfg: &SweepConfig, id: &str, kind: EventKind, n: i64) -> LeadState {
    let mut s = LeadState::new(id);
    s.attributes.insert(
        "email".into(),
        leadscore_domain::AttrValue::Text(format!("{id}@x.io")),
    );
    apply(
        &cfg.model,
        &mut s,
        &[Event::new(format!("{id}-e"), at(n), kind)],
        at(n),
    );
    s
}

/// Runs every shard's job to the end (as the fan-out would), summing the reports.
async fn sweep_all<S: DueIndex, Q: Queue>(
    cfg: &SweepConfig,
    store: &S,
    queue: &Q,
    through: NaiveDate,
) -> ShardReport {
    let mut total = ShardReport::default();
    for job in ShardJob::plan(through) {
        let r = sweep_shard(cfg, store, queue, job, at(99), || false)
            .await
            .expect("sweep");
        assert!(r.done);
        total.leads += r.leads;
        total.entries += r.entries;
        total.to_nurture += r.to_nurture;
        total.recycled += r.recycled;
        total.handoffs += r.handoffs;
        total.conflicts += r.conflicts;
        total.items_read += r.items_read;
    }
    total
}

async fn stage_of<S: LeadStore>(store: &S, id: &str) -> (Stage, Points) {
    let s = store.load(id).await.unwrap().expect("lead").state;
    (s.stage, s.scores.total)
}

/// An MQL decays below the exit threshold and is recycled; a quiet lead goes cold to nurture;
/// each is handed off once, with its reason; a second run the same night changes nothing.
async fn recycles_nurtures_and_hands_off_once<S: DueIndex>(store: &S) {
    let cfg = config();
    let queue = MemoryQueue::new();
    store
        .save(&lead(&cfg, "mia", EventKind::TrialStarted, 0), None, &[])
        .await
        .unwrap();
    store
        .save(&lead(&cfg, "ned", EventKind::FormSubmit, 0), None, &[])
        .await
        .unwrap();
    assert_eq!(stage_of(store, "mia").await.0, Stage::Mql);
    // Day 11: mia has lost 5 points a day since day 7 (60 -> 35 < 40): recycled.
    let r = sweep_all(&cfg, store, &queue, day(11)).await;
    assert_eq!((r.leads, r.recycled, r.to_nurture), (2, 1, 0), "{r:?}");
    assert_eq!(
        stage_of(store, "mia").await,
        (Stage::Recycled, Points::whole(35))
    );
    let sent = queue.sent();
    assert_eq!(sent.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body["lead"], "mia");
    assert_eq!(body["to"], "recycled");
    assert_eq!(body["email"], "mia@x.io");
    assert_eq!(body["reason"]["type"], "below_exit_threshold");
    // The same night again: nothing is due, nothing is read or written.
    let version = store.load("mia").await.unwrap().unwrap().version;
    let again = sweep_all(&cfg, store, &queue, day(11)).await;
    assert_eq!((again.leads, again.items_read, again.handoffs), (0, 0, 0));
    assert_eq!(store.load("mia").await.unwrap().unwrap().version, version);
    // Day 31: ned has been idle 31 days: cold, to nurture. A missed night (20 of them) is
    // caught up in one run.
    let r = sweep_all(&cfg, store, &queue, day(31)).await;
    assert!(r.to_nurture >= 1, "{r:?}");
    let (stage, _) = stage_of(store, "ned").await;
    assert_eq!(stage, Stage::Nurture);
    let ned = store.load("ned").await.unwrap().unwrap().state;
    assert!(matches!(
        ned.transitions.last().map(|t| &t.reason),
        Some(Reason::Cold { .. })
    ));
    assert!(ned.outbox.is_empty(), "sent hand-offs leave the outbox");
    let to_ned: Vec<_> = queue
        .sent()
        .into_iter()
        .filter(|m| m.group == "ned")
        .collect();
    assert_eq!(to_ned.len(), 1, "one hand-off per lead");
    // Decay is exact: the stored ledger sums to the score.
    let ledger: Points = store
        .ledger("ned")
        .await
        .unwrap()
        .iter()
        .map(|e| e.points)
        .sum();
    assert_eq!(ledger, ned.scores.total);
}

#[tokio::test]
async fn memory_sweep_recycles_nurtures_and_hands_off_once() {
    recycles_nurtures_and_hands_off_once(&MemoryStore::new()).await;
}

#[tokio::test]
async fn dynamodb_sweep_recycles_nurtures_and_hands_off_once() {
    let moto = Moto::start();
    let store = DynamoStore::new(moto.dynamodb().await, "sweep-basic");
    store.create_table().await.unwrap();
    recycles_nurtures_and_hands_off_once(&store).await;
}

/// 20,000 leads, 2% due: the sweep reads at most 1.5 items per due lead, decays exactly the
/// due ones, and a second run reads and writes nothing.
#[tokio::test]
async fn twenty_thousand_leads_two_percent_due() {
    let moto = Moto::start();
    let store = DynamoStore::new(moto.dynamodb().await, "sweep-large");
    store.create_table().await.unwrap();
    let cfg = config();
    // Due on day 10: engaged on day 0 (idle from day 7). Not due: engaged on day 8.
    let due_template = lead(&cfg, "t", EventKind::FormSubmit, 0);
    let quiet_template = lead(&cfg, "t", EventKind::FormSubmit, 8);
    let states: Vec<LeadState> = (0..20_000)
        .map(|i| {
            let mut s = if i % 50 == 0 {
                due_template.clone()
            } else {
                quiet_template.clone()
            };
            s.lead_id = format!("lead-{i:05}");
            s
        })
        .collect();
    store.seed(&states).await.unwrap();
    let queue = MemoryQueue::new();
    let r = sweep_all(&cfg, &store, &queue, day(10)).await;
    assert_eq!(r.leads, 400, "{r:?}");
    assert!(
        r.items_read as f64 <= 1.5 * 400.0,
        "{} items read for 400 due leads",
        r.items_read
    );
    // Exactly the due ones were written (version 2), with 4 days of decay (days 7..=10).
    // Every due lead, and one in a hundred of the others.
    for (i, s) in states
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 50 == 0 || i % 100 == 1)
    {
        let got = store.load(&s.lead_id).await.unwrap().unwrap();
        if i % 50 == 0 {
            assert_eq!(got.version, 2, "{}", s.lead_id);
            assert_eq!(
                got.state.scores.total,
                Points::whole(0),
                "10 - 4 x 5, floored"
            );
        } else {
            assert_eq!(got.version, 1, "{} was not due", s.lead_id);
        }
    }
    let again = sweep_all(&cfg, &store, &queue, day(10)).await;
    assert_eq!((again.leads, again.items_read), (0, 0), "{again:?}");
}

/// A run cut off by its deadline, then resumed, ends where an uninterrupted run ends.
#[tokio::test]
async fn a_cut_off_run_resumes_to_the_same_state() {
    let cfg = config();
    let (cut, straight) = (MemoryStore::new(), MemoryStore::new());
    for i in 0..300 {
        let kind = if i % 3 == 0 {
            EventKind::TrialStarted
        } else {
            EventKind::FormSubmit
        };
        let s = lead(&cfg, &format!("l{i:03}"), kind, i % 5);
        cut.save(&s, None, &[]).await.unwrap();
        straight.save(&s, None, &[]).await.unwrap();
    }
    let queue = MemoryQueue::new();
    sweep_all(&cfg, &straight, &queue, day(40)).await;
    // Each run may sweep 7 leads before its deadline.
    let (cut_queue, mut runs) = (MemoryQueue::new(), 0);
    for job in ShardJob::plan(day(40)) {
        loop {
            runs += 1;
            let budget = AtomicUsize::new(0);
            let r = sweep_shard(&cfg, &cut, &cut_queue, job, at(99), || {
                budget.fetch_add(1, Ordering::Relaxed) >= 8
            })
            .await
            .unwrap();
            if r.done {
                break;
            }
        }
    }
    assert!(runs > DUE_SHARDS as usize * 2, "runs were cut: {runs}");
    for i in 0..300 {
        let id = format!("l{i:03}");
        let a = cut.load(&id).await.unwrap().unwrap();
        let b = straight.load(&id).await.unwrap().unwrap();
        assert_eq!(a.state, b.state, "{id}");
        assert_eq!(
            cut.ledger(&id).await.unwrap(),
            straight.ledger(&id).await.unwrap()
        );
    }
    assert_eq!(cut_queue.sent(), queue.sent());
}

/// Webhooks for the same leads while the sweep runs, on DynamoDB: every event is counted
/// once and every day's decay is applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_during_a_sweep_lose_nothing() {
    let moto = Moto::start();
    let store = Arc::new(DynamoStore::new(moto.dynamodb().await, "sweep-live"));
    store.create_table().await.unwrap();
    let cfg = Arc::new(config());
    let ids: Vec<String> = (0..40).map(|i| format!("w{i:02}")).collect();
    for id in &ids {
        store
            .save(&lead(&cfg, id, EventKind::TrialStarted, 0), None, &[])
            .await
            .unwrap();
    }
    // Webhooks: each lead gets 3 late form submissions (dated day 1, so they do not reset
    // the idle clock past the sweep's night), applied with the ingest's retry loop.
    let writers: Vec<_> = ids
        .iter()
        .cloned()
        .map(|id| {
            let (store, cfg) = (store.clone(), cfg.clone());
            tokio::spawn(async move {
                for k in 0..3 {
                    loop {
                        let cur = store.load(&id).await.unwrap().unwrap();
                        let mut s = cur.state;
                        let e = Event::new(format!("{id}-f{k}"), at(1), EventKind::FormSubmit);
                        apply(&cfg.model, &mut s, &[e], at(12));
                        if store.save(&s, Some(cur.version), &[]).await.is_ok() {
                            break;
                        }
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    let queue = MemoryQueue::new();
    let sweeper = {
        let (store, cfg) = (store.clone(), cfg.clone());
        tokio::spawn(async move { sweep_all(&cfg, &*store, &queue, day(12)).await })
    };
    for w in writers {
        w.await.unwrap();
    }
    let report = sweeper.await.unwrap();
    // Whatever the interleaving: every event counted once, each night's decay applied once,
    // and the ledger sums to the score.
    for id in &ids {
        let s = store.load(id).await.unwrap().unwrap().state;
        assert_eq!(s.seen.len(), 4, "{id}: every event once");
        assert_eq!(s.decayed_through, Some(day(12)), "{id}");
        let ledger = store.ledger(id).await.unwrap();
        let forms = ledger
            .iter()
            .filter(|e| matches!(&e.source, Source::Activity { rule, .. } if rule == "form"))
            .map(|e| e.points)
            .sum::<Points>();
        assert_eq!(forms, Points::whole(30), "{id}: no form point lost");
        let mut days: Vec<NaiveDate> = ledger
            .iter()
            .filter_map(|e| match e.source {
                Source::Inactivity { day } => Some(day),
                _ => None,
            })
            .collect();
        let n = days.len();
        days.sort();
        days.dedup();
        assert_eq!(days.len(), n, "{id}: a day's decay applied twice: {days:?}");
        assert!(n > 0, "{id}: decayed");
        let sum: Points = ledger.iter().map(|e| e.points).sum();
        assert_eq!(
            sum, s.scores.total,
            "{id}: ledger (conflicts: {})",
            report.conflicts
        );
    }
}
