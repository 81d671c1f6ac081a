//! The MQL notifier's handler against both stores: a lead made MQL by the real engine is
//! notified once per MQL transition and route, under redelivery, concurrent invocations,
//! retryable and permanent failures, and requalification.

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadscore_app::notify::{notify_lead, redrive, RedriveResult, RouteResult};
use leadscore_domain::{
    apply, AttrValue, Event, EventKind, FeedbackOutcome, LeadState, Model, Stage, Transition,
};
use leadscore_notify::testing::{Reply, TestServer};
use leadscore_notify::{
    Channel, Delivery, Failure, MqlNotice, NotifyError, SendFuture, SlackWebhook,
};
use leadscore_store::testing::Moto;
use leadscore_store::{DynamoStore, LeadStore, MemoryStore, SentLog};
use std::sync::{Arc, Mutex};

const MODEL: &str = r#"
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

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
}

fn model() -> Model {
    Model::from_toml(MODEL, "notifier-test").unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Deliver,
    Retryable,
    Permanent,
}

/// A channel that records what it delivered, and fails when told to.
#[derive(Clone)]
struct Recording {
    sent: Arc<Mutex<Vec<MqlNotice>>>,
    mode: Arc<Mutex<Mode>>,
    delay: std::time::Duration,
}

impl Recording {
    fn new() -> Recording {
        Recording {
            sent: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Deliver)),
            delay: std::time::Duration::from_millis(20),
        }
    }
    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
    fn count(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

impl Channel for Recording {
    fn name(&self) -> &str {
        "recording"
    }

    fn send<'a>(&'a self, notice: &'a MqlNotice) -> SendFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            let mode = *self.mode.lock().unwrap();
            match mode {
                Mode::Deliver => {
                    self.sent.lock().unwrap().push(notice.clone());
                    Ok(Delivery {
                        attempts: 1,
                        message_id: None,
                    })
                }
                Mode::Retryable => Err(NotifyError::Retryable {
                    channel: "recording".into(),
                    attempts: 3,
                    last: Failure::Http {
                        status: 503,
                        body: "busy".into(),
                    },
                }),
                Mode::Permanent => Err(NotifyError::Permanent {
                    channel: "recording".into(),
                    failure: Failure::Http {
                        status: 404,
                        body: "channel_not_found".into(),
                    },
                }),
            }
        })
    }
}

fn route(name: &str, channel: &Recording) -> Vec<(String, Vec<Box<dyn Channel>>)> {
    vec![(
        name.to_owned(),
        vec![Box::new(channel.clone()) as Box<dyn Channel>],
    )]
}

/// Saves a lead the engine makes MQL by score; returns its state and the MQL transition.
async fn qualified<S: LeadStore>(store: &S, model: &Model, id: &str) -> (LeadState, Transition) {
    let mut lead = LeadState::new(id);
    let events = vec![
        Event::new("id-1", at(1, 8), EventKind::Identify)
            .with_property("job_title", AttrValue::Text("VP Sales".into()))
            .with_property("first_name", AttrValue::Text("Ana".into())),
        Event::new("pv-1", at(2, 10), EventKind::PageView).with_url("https://x.io/pricing"),
        Event::new("pv-2", at(3, 10), EventKind::PageView).with_url("https://x.io/pricing"),
    ];
    apply(model, &mut lead, &events, at(3, 12));
    assert_eq!(lead.stage, Stage::Mql);
    store.save(&lead, None, &[]).await.unwrap();
    let t = lead.mql_entry_since_load().cloned().unwrap();
    (lead, t)
}

const LEASE: i64 = 60;

async fn run<S: LeadStore + SentLog>(
    store: &S,
    routes: &[(String, Vec<Box<dyn Channel>>)],
    model: &Model,
    lead: &LeadState,
    t: &Transition,
    now: DateTime<Utc>,
) -> Vec<RouteResult> {
    notify_lead(
        store,
        routes,
        model,
        lead,
        t,
        None,
        now,
        Duration::seconds(LEASE),
    )
    .await
    .unwrap()
    .routes
    .into_iter()
    .map(|r| r.result)
    .collect()
}

async fn contract<S: LeadStore + SentLog>(store: &S) {
    let model = model();
    let now = at(3, 12);

    // Sent once, with the notice built from the state and the stored ledger; then a
    // redelivery sends nothing.
    let (lead, t) = qualified(store, &model, "hubspot:1").await;
    let ch = Recording::new();
    let routes = route("sales", &ch);
    assert_eq!(
        run(store, &routes, &model, &lead, &t, now).await,
        [RouteResult::Sent]
    );
    assert_eq!(ch.count(), 1);
    {
        let sent = ch.sent.lock().unwrap();
        assert_eq!(sent[0].lead_id, "hubspot:1");
        assert!(!sent[0].reasons.is_empty(), "reasons from the ledger");
    }
    assert_eq!(
        run(store, &routes, &model, &lead, &t, now).await,
        [RouteResult::AlreadySent]
    );
    assert_eq!(ch.count(), 1);

    // Two routes are independent.
    let other = Recording::new();
    let mut both = route("sales", &ch);
    both.extend(route("emea", &other));
    assert_eq!(
        run(store, &both, &model, &lead, &t, now).await,
        [RouteResult::AlreadySent, RouteResult::Sent]
    );
    assert_eq!((ch.count(), other.count()), (1, 1));

    // Two concurrent invocations send once.
    let (lead2, t2) = qualified(store, &model, "hubspot:2").await;
    let ch2 = Recording::new();
    let routes2 = route("sales", &ch2);
    let (a, b) = tokio::join!(
        run(store, &routes2, &model, &lead2, &t2, now),
        run(store, &routes2, &model, &lead2, &t2, now),
    );
    let mut results = vec![a[0].clone(), b[0].clone()];
    results.sort_by_key(|r| format!("{r:?}"));
    assert!(
        results.contains(&RouteResult::Sent)
            && (results.contains(&RouteResult::InFlight)
                || results.contains(&RouteResult::AlreadySent)),
        "{results:?}"
    );
    assert_eq!(ch2.count(), 1);

    // A retryable failure releases the claim; the next delivery sends.
    let (lead3, t3) = qualified(store, &model, "hubspot:3").await;
    let ch3 = Recording::new();
    let routes3 = route("sales", &ch3);
    ch3.set(Mode::Retryable);
    let first = run(store, &routes3, &model, &lead3, &t3, now).await;
    assert!(
        matches!(&first[..], [RouteResult::Retryable(e)] if e.contains("503")),
        "{first:?}"
    );
    assert_eq!(ch3.count(), 0);
    ch3.set(Mode::Deliver);
    assert_eq!(
        run(store, &routes3, &model, &lead3, &t3, now).await,
        [RouteResult::Sent]
    );
    assert_eq!(ch3.count(), 1);

    // A permanent failure is recorded and listed for re-driving; redelivery does not send.
    let (lead4, t4) = qualified(store, &model, "hubspot:4").await;
    let ch4 = Recording::new();
    let routes4 = route("sales", &ch4);
    ch4.set(Mode::Permanent);
    let first = run(store, &routes4, &model, &lead4, &t4, now).await;
    assert!(
        matches!(&first[..], [RouteResult::Permanent(e)] if e.contains("channel_not_found")),
        "{first:?}"
    );
    let failed = store.failed().await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].key.lead, "hubspot:4");
    assert_eq!(failed[0].key.route, "sales");
    assert_eq!(failed[0].key.transition_at, t4.at);
    assert!(failed[0].error.contains("channel_not_found"));
    ch4.set(Mode::Deliver);
    assert_eq!(
        run(store, &routes4, &model, &lead4, &t4, now).await,
        [RouteResult::FailedBefore]
    );
    assert_eq!(ch4.count(), 0);

    // A re-drive: a route no longer configured is skipped and stays listed; a retryable
    // failure stays listed; a delivery clears the list, and the stream then finds it sent.
    let lease = Duration::seconds(LEASE);
    let none = redrive(store, |_| None, &model, None, now, lease, 10)
        .await
        .unwrap();
    assert!(
        matches!(&none[..], [r] if matches!(&r.result, RedriveResult::Skipped(why) if why.contains("route"))),
        "{none:?}"
    );
    let channels_of = |r: &str| (r == "sales").then_some(routes4[0].1.as_slice());
    ch4.set(Mode::Retryable);
    let again = redrive(store, channels_of, &model, None, now, lease, 10)
        .await
        .unwrap();
    assert!(
        matches!(&again[..], [r] if matches!(&r.result, RedriveResult::Failed(e) if e.contains("503"))),
        "{again:?}"
    );
    assert_eq!(store.failed().await.unwrap().len(), 1, "still listed");
    ch4.set(Mode::Deliver);
    let sent = redrive(store, channels_of, &model, None, now, lease, 10)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].result, RedriveResult::Sent);
    assert_eq!(sent[0].key.lead, "hubspot:4");
    assert_eq!(ch4.count(), 1);
    assert!(store.failed().await.unwrap().is_empty());
    assert!(redrive(store, channels_of, &model, None, now, lease, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        run(store, &routes4, &model, &lead4, &t4, now).await,
        [RouteResult::AlreadySent]
    );
    assert_eq!(ch4.count(), 1);

    // The lead leaves MQL (sales recycles it) and qualifies again (a demo request): a new
    // transition, notified again.
    let stored = store.load("hubspot:1").await.unwrap().unwrap();
    let mut again = stored.state;
    apply(
        &model,
        &mut again,
        &[Event::new("fb-1", at(5, 9), EventKind::SalesFeedback)
            .with_outcome(FeedbackOutcome::Recycled)],
        at(5, 9),
    );
    assert_eq!(again.stage, Stage::Recycled);
    assert_eq!(again.mql_entry_since_load(), None);
    apply(
        &model,
        &mut again,
        &[Event::new("demo-1", at(8, 9), EventKind::DemoRequest)],
        at(8, 9),
    );
    assert_eq!(again.stage, Stage::Mql);
    store.save(&again, Some(stored.version), &[]).await.unwrap();
    let t_again = again.mql_entry_since_load().cloned().unwrap();
    assert_ne!(t_again.at, t.at);
    assert_eq!(
        run(store, &routes, &model, &again, &t_again, at(8, 10)).await,
        [RouteResult::Sent]
    );
    assert_eq!(ch.count(), 2);
    assert_eq!(
        run(store, &routes, &model, &again, &t_again, at(8, 10)).await,
        [RouteResult::AlreadySent]
    );
    assert_eq!(ch.count(), 2);
}

#[tokio::test]
async fn exactly_once_per_transition_and_route_on_the_memory_store() {
    contract(&MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_once_per_transition_and_route_on_dynamodb() {
    let moto = Moto::start();
    let store = DynamoStore::new(moto.dynamodb().await, "t");
    store.create_table().await.unwrap();
    contract(&store).await;
}

#[tokio::test]
async fn the_real_slack_webhook_is_posted_once() {
    let server = TestServer::start_with_fallback(Vec::new(), Reply::ok());
    let url = server.url("/services/T/B/secret");
    let store = MemoryStore::new();
    let model = model();
    let (lead, t) = qualified(&store, &model, "hubspot:77").await;
    let hook = SlackWebhook::new(&url, std::time::Duration::from_secs(5)).unwrap();
    let routes: Vec<(String, Vec<Box<dyn Channel>>)> =
        vec![("sales".into(), vec![Box::new(hook) as Box<dyn Channel>])];
    assert_eq!(
        run(&store, &routes, &model, &lead, &t, at(3, 12)).await,
        [RouteResult::Sent]
    );
    assert_eq!(
        run(&store, &routes, &model, &lead, &t, at(3, 12)).await,
        [RouteResult::AlreadySent]
    );
    let posts = server.requests();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].path, "/services/T/B/secret");
    let message = posts[0].json();
    assert!(message.get("blocks").is_some(), "{message}");
    assert!(message.to_string().contains("Ana"), "{message}");
}
