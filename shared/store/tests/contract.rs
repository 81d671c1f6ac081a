//! One contract, two stores: the in-memory store and the DynamoDB store against moto's
//! DynamoDB server over HTTP (started here on a free loopback port).

use chrono::{TimeZone, Utc};
use leadscore_domain::{apply, Event, EventKind, LeadState, Model, Points};
use leadscore_store::testing::Moto;
use leadscore_store::{Alias, DynamoStore, LeadStore, MemoryStore, StoreError};
use std::sync::Arc;

fn model() -> Model {
    Model::from_toml(
        "[model]\nname='c'\n[thresholds]\nmql=1000\nmql_exit=500\n[[activity]]\nid='trial'\nkind='trial_started'\npoints=10\n",
        "contract",
    )
    .expect("valid model")
}

fn scored(lead: &str, ids: &[&str]) -> LeadState {
    let mut s = LeadState::new(lead);
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let events: Vec<Event> = ids
        .iter()
        .map(|id| Event::new(*id, at, EventKind::TrialStarted))
        .collect();
    apply(&model(), &mut s, &events, at);
    s
}

fn alias(v: &str) -> Alias {
    Alias::new("email", v)
}

async fn saves_loads_and_versions<S: LeadStore>(store: &S) {
    assert!(store.load("ana").await.unwrap().is_none());
    let s = scored("ana", &["e1", "e2"]);
    assert_eq!(store.save(&s, None, &[]).await.unwrap(), 1);
    let back = store.load("ana").await.unwrap().expect("saved");
    assert_eq!(back.version, 1);
    assert_eq!(
        back.state, s,
        "the whole state round-trips, ledger included"
    );
    assert_eq!(back.state.scores.total, Points::whole(20));
    // The next save names the version it read.
    assert_eq!(store.save(&s, Some(1), &[]).await.unwrap(), 2);
}

async fn stale_writes_conflict<S: LeadStore>(store: &S) {
    let s = scored("ben", &["e1"]);
    store.save(&s, None, &[]).await.unwrap();
    // Creating again, or writing from a stale version, is refused and changes nothing.
    assert!(matches!(
        store.save(&s, None, &[]).await,
        Err(StoreError::Conflict(_))
    ));
    store.save(&s, Some(1), &[]).await.unwrap();
    let newer = scored("ben", &["e1", "e2"]);
    assert!(matches!(
        store.save(&newer, Some(1), &[]).await,
        Err(StoreError::Conflict(_))
    ));
    let back = store.load("ben").await.unwrap().expect("saved");
    assert_eq!(
        (back.version, back.state.scores.total),
        (2, Points::whole(10))
    );
}

async fn aliases_resolve_and_are_owned<S: LeadStore>(store: &S) {
    let a = scored("carla", &["e1"]);
    store
        .save(
            &a,
            None,
            &[
                alias("carla@x.io"),
                Alias::new("hubspot", "101"),
                alias("carla@x.io"),
            ],
        )
        .await
        .unwrap();
    let got = store
        .resolve(&[
            alias("carla@x.io"),
            Alias::new("hubspot", "101"),
            alias("nobody@x.io"),
            alias("carla@x.io"),
        ])
        .await
        .unwrap();
    assert_eq!(
        got,
        [
            Some("carla".into()),
            Some("carla".into()),
            None,
            Some("carla".into())
        ]
    );
    // fetch = resolve + load, in one call.
    let (resolved, stored) = store
        .fetch("carla", &[alias("carla@x.io"), alias("zed@x.io")])
        .await
        .unwrap();
    assert_eq!(resolved, [Some("carla".into()), None]);
    assert_eq!(stored.map(|s| (s.version, s.state)), Some((1, a.clone())));
    let (resolved, stored) = store.fetch("nobody", &[]).await.unwrap();
    assert!(resolved.is_empty() && stored.is_none());
    // Re-pointing an alias at another lead is a conflict, and the lead write does not happen.
    let d = scored("dan", &["e9"]);
    assert!(matches!(
        store.save(&d, None, &[alias("carla@x.io")]).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store.load("dan").await.unwrap().is_none(),
        "nothing half-applied"
    );
    // Saving again with an alias it already owns is fine.
    assert_eq!(
        store
            .save(&a, Some(1), &[alias("carla@x.io")])
            .await
            .unwrap(),
        2
    );
}

async fn erase_removes_the_lead_and_only_its_aliases<S: LeadStore>(store: &S) {
    let e = scored("erin", &["e1"]);
    store.save(&e, None, &[alias("erin@x.io")]).await.unwrap();
    let f = scored("fred", &["e1"]);
    store.save(&f, None, &[alias("fred@x.io")]).await.unwrap();
    store
        .erase("erin", &[alias("erin@x.io"), alias("fred@x.io")])
        .await
        .unwrap();
    assert!(store.load("erin").await.unwrap().is_none());
    let got = store
        .resolve(&[alias("erin@x.io"), alias("fred@x.io")])
        .await
        .unwrap();
    assert_eq!(
        got,
        [None, Some("fred".into())],
        "fred keeps the alias he owns"
    );
    // Erasing again is not an error.
    store.erase("erin", &[alias("erin@x.io")]).await.unwrap();
}

/// 16 writers apply distinct events to one lead with optimistic concurrency: none is lost.
async fn concurrent_writers_lose_no_update<S: LeadStore + 'static>(store: Arc<S>) {
    store.save(&LeadState::new("gus"), None, &[]).await.unwrap();
    let model = Arc::new(model());
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (store, model) = (store.clone(), model.clone());
            tokio::spawn(async move {
                let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, i).unwrap();
                for _ in 0..200 {
                    let cur = store.load("gus").await.unwrap().expect("exists");
                    let mut state = cur.state;
                    apply(
                        &model,
                        &mut state,
                        &[Event::new(format!("t{i}"), at, EventKind::TrialStarted)],
                        at,
                    );
                    match store.save(&state, Some(cur.version), &[]).await {
                        Ok(_) => return,
                        Err(StoreError::Conflict(_)) => tokio::task::yield_now().await,
                        Err(e) => panic!("{e}"),
                    }
                }
                panic!("writer {i} never got through");
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let end = store.load("gus").await.unwrap().expect("exists");
    assert_eq!(end.state.scores.total, Points::whole(160));
    assert_eq!(end.state.ledger_total(), Points::whole(160));
    assert_eq!(end.version, 17);
}

async fn contract<S: LeadStore + 'static>(store: Arc<S>) {
    saves_loads_and_versions(&*store).await;
    stale_writes_conflict(&*store).await;
    aliases_resolve_and_are_owned(&*store).await;
    erase_removes_the_lead_and_only_its_aliases(&*store).await;
    concurrent_writers_lose_no_update(store).await;
}

#[tokio::test]
async fn memory_store_honours_the_contract() {
    contract(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_store_honours_the_contract_against_moto() {
    let moto = Moto::start();
    let store = DynamoStore::new(moto.dynamodb().await, "leadscore-contract");
    store.create_table().await.unwrap();
    contract(Arc::new(store)).await;
}
