//! One contract, two stores: the in-memory store and the DynamoDB store against moto's
//! DynamoDB server over HTTP (started here on a free loopback port).

use chrono::{TimeZone, Utc};
use leadscore_domain::{apply, Event, EventKind, LeadState, Model, Points};
use leadscore_store::testing::Moto;
use leadscore_store::{
    Alias, Claim, DynamoStore, LeadStore, MemoryStore, NoticeKey, SentLog, StoreError,
};
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

/// A state as a store gives it back: its ledger entries held apart.
fn as_stored(s: &LeadState) -> LeadState {
    let mut s = s.clone();
    s.ledger.take_new();
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
    // The state round-trips; its ledger entries are stored apart, and it keeps their count.
    let entries = s.ledger.to_vec();
    assert_eq!(back.state, as_stored(&s), "the whole state round-trips");
    assert_eq!((back.state.ledger.base(), back.state.ledger.len()), (2, 0));
    assert_eq!(store.ledger("ana").await.unwrap(), entries);
    assert_eq!(back.state.scores.total, Points::whole(20));
    // The next save names the version it read; saving the same entries again adds none.
    assert_eq!(store.save(&s, Some(1), &[]).await.unwrap(), 2);
    assert_eq!(store.ledger("ana").await.unwrap(), entries);
}

fn trial(id: &str, minute: u32) -> Event {
    let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, minute % 60, 0).unwrap();
    Event::new(id, at, EventKind::TrialStarted)
}

/// Entries appended after a load continue the numbering, and the stored ledger always sums
/// to the score, however many entries one save carries.
async fn the_ledger_accumulates_across_saves<S: LeadStore>(store: &S) {
    assert!(store.ledger("hana").await.unwrap().is_empty());
    let s = scored("hana", &["e1"]);
    store.save(&s, None, &[]).await.unwrap();
    let cur = store.load("hana").await.unwrap().expect("saved");
    let mut state = cur.state;
    // 450 entries in one save: more than one ledger item's worth.
    let events: Vec<Event> = (0..450).map(|i| trial(&format!("b{i}"), i)).collect();
    let at = Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap();
    apply(&model(), &mut state, &events, at);
    store
        .save(&state, Some(cur.version), &[alias("hana@x.io")])
        .await
        .unwrap();
    let ledger = store.ledger("hana").await.unwrap();
    let seqs: Vec<u64> = ledger.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (0..451).collect::<Vec<u64>>());
    let back = store.load("hana").await.unwrap().expect("saved");
    assert_eq!(back.state.ledger.base(), 451);
    assert_eq!(
        ledger.iter().map(|e| e.points).sum::<Points>(),
        back.state.scores.total
    );
    assert_eq!(back.state.scores.total, Points::whole(4510));
    // A conflicting save writes no entries either.
    let mut stale = back.state.clone();
    apply(&model(), &mut stale, &[trial("late", 1)], at);
    assert!(matches!(
        store.save(&stale, Some(cur.version), &[]).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.ledger("hana").await.unwrap().len(), 451);
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
    assert_eq!(
        stored.map(|s| (s.version, s.state)),
        Some((1, as_stored(&a)))
    );
    let (resolved, stored) = store.fetch("nobody", &[]).await.unwrap();
    assert!(resolved.is_empty() && stored.is_none());
    // The aliases a lead owns, sorted, once each (the notifier's CRM links come from them).
    assert_eq!(
        store.aliases("carla").await.unwrap(),
        [
            Alias::new("email", "carla@x.io"),
            Alias::new("hubspot", "101")
        ]
    );
    assert!(store.aliases("nobody").await.unwrap().is_empty());
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

async fn erase_removes_the_lead_and_only_its_aliases<S: LeadStore + SentLog>(store: &S) {
    let e = scored("erin", &["e1"]);
    store.save(&e, None, &[alias("erin@x.io")]).await.unwrap();
    let f = scored("fred", &["e1"]);
    store.save(&f, None, &[alias("fred@x.io")]).await.unwrap();
    // Notifications about both, one of each failed and listed for a re-drive.
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let lease = chrono::Duration::seconds(60);
    let notice = |lead: &str, route: &str| NoticeKey {
        lead: lead.to_owned(),
        transition_at: now,
        route: route.to_owned(),
    };
    for key in [
        notice("erin", "a"),
        notice("erin", "b"),
        notice("fred", "a"),
    ] {
        assert_eq!(
            store.claim(&key, now, lease, false).await.unwrap(),
            Claim::Claimed
        );
        if key.route == "a" {
            store.mark_failed(&key, "404", now).await.unwrap();
        } else {
            store.mark_sent(&key).await.unwrap();
        }
    }
    // An alias added by a later save, and not named at erasure, goes too.
    let cur = store.load("erin").await.unwrap().expect("saved");
    store
        .save(
            &cur.state,
            Some(cur.version),
            &[Alias::new("marketo", "77")],
        )
        .await
        .unwrap();
    store
        .erase("erin", &[alias("erin@x.io"), alias("fred@x.io")])
        .await
        .unwrap();
    assert_eq!(
        store.resolve(&[Alias::new("marketo", "77")]).await.unwrap(),
        [None],
        "every alias of the lead is erased"
    );
    assert!(store.load("erin").await.unwrap().is_none());
    assert!(
        store.ledger("erin").await.unwrap().is_empty(),
        "the ledger goes with the lead"
    );
    assert_eq!(store.ledger("fred").await.unwrap().len(), 1);
    let got = store
        .resolve(&[alias("erin@x.io"), alias("fred@x.io")])
        .await
        .unwrap();
    assert_eq!(
        got,
        [None, Some("fred".into())],
        "fred keeps the alias he owns"
    );
    // The notification log forgets her too (it names her), and keeps fred's failure.
    let listed: Vec<String> = (store.failed().await.unwrap().into_iter())
        .map(|f| f.key.lead)
        .filter(|l| l == "erin" || l == "fred")
        .collect();
    assert_eq!(listed, ["fred"]);
    assert_eq!(
        store
            .claim(&notice("erin", "b"), now, lease, false)
            .await
            .unwrap(),
        Claim::Claimed,
        "no record of the sent notice is left"
    );
    store.erase("erin", &[]).await.unwrap();
    // Erasing again is not an error.
    store.erase("erin", &[alias("erin@x.io")]).await.unwrap();
}

/// A merge moves every alias of the absorbed lead to the survivor and deletes the absorbed
/// lead, all or nothing.
async fn merges_move_aliases_and_delete_the_absorbed_lead<S: LeadStore>(store: &S) {
    let k = scored("kim", &["k1"]);
    store
        .save(&k, None, &[alias("kim@x.io"), Alias::new("hubspot", "1")])
        .await
        .unwrap();
    let l = scored("lou", &["l1"]);
    store
        .save(&l, None, &[alias("lou@x.io"), Alias::new("hubspot", "2")])
        .await
        .unwrap();
    let m = scored("max", &["m1"]);
    store.save(&m, None, &[alias("max@x.io")]).await.unwrap();
    let kim = store.load("kim").await.unwrap().expect("kim");
    let lou = store.load("lou").await.unwrap().expect("lou");
    let mut merged = kim.state.clone();
    let at = Utc.with_ymd_and_hms(2026, 3, 4, 9, 0, 0).unwrap();
    apply(&model(), &mut merged, &[trial("l1", 5)], at);
    // A stale absorbed version, or an alias owned by a third lead, refuses the whole merge.
    assert!(matches!(
        store
            .save_merged(&merged, kim.version, &[], "lou", lou.version + 1)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .save_merged(
                &merged,
                kim.version,
                &[alias("max@x.io")],
                "lou",
                lou.version
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .save_merged(&merged, kim.version + 1, &[], "lou", lou.version)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store.load("lou").await.unwrap().is_some(),
        "nothing half-applied"
    );
    assert_eq!(
        store.resolve(&[Alias::new("hubspot", "2")]).await.unwrap(),
        [Some("lou".into())]
    );
    let v = store
        .save_merged(&merged, kim.version, &[], "lou", lou.version)
        .await
        .unwrap();
    assert_eq!(v, kim.version + 1);
    assert!(store.load("lou").await.unwrap().is_none());
    assert!(store.ledger("lou").await.unwrap().is_empty());
    let got = store
        .resolve(&[
            alias("lou@x.io"),
            Alias::new("hubspot", "2"),
            alias("kim@x.io"),
            alias("max@x.io"),
        ])
        .await
        .unwrap();
    assert_eq!(
        got,
        [
            Some("kim".into()),
            Some("kim".into()),
            Some("kim".into()),
            Some("max".into())
        ]
    );
    assert_eq!(store.ledger("kim").await.unwrap().len(), 2);
    // The survivor now owns the absorbed lead's aliases: erasing it takes them all.
    store.erase("kim", &[]).await.unwrap();
    assert_eq!(
        store
            .resolve(&[
                alias("lou@x.io"),
                Alias::new("hubspot", "2"),
                alias("kim@x.io")
            ])
            .await
            .unwrap(),
        [None, None, None]
    );
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
    let ledger = store.ledger("gus").await.unwrap();
    assert_eq!(ledger.len(), 16);
    assert_eq!(
        ledger.iter().map(|e| e.points).sum::<Points>(),
        Points::whole(160)
    );
    assert_eq!(end.version, 17);
}

/// Each notification is claimed once: a second claim sees it in flight, then sent; a released
/// claim can be taken again; a stale claim is taken over; a permanent failure is listed until
/// re-driven; of 16 concurrent claims exactly one wins.
async fn notifications_are_claimed_once<S: SentLog + 'static>(store: Arc<S>) {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 5, 9, 0, 0).unwrap();
    let lease = chrono::Duration::minutes(5);
    let key = |route: &str| NoticeKey {
        lead: "email:ana@x.io".into(),
        transition_at: t0,
        route: route.into(),
    };
    let slack = key("slack:sales");
    assert_eq!(
        store.claim(&slack, t0, lease, false).await.unwrap(),
        Claim::Claimed
    );
    assert_eq!(
        store.claim(&slack, t0, lease, false).await.unwrap(),
        Claim::InFlight
    );
    store.mark_sent(&slack).await.unwrap();
    let later = t0 + chrono::Duration::hours(1);
    assert_eq!(
        store.claim(&slack, later, lease, true).await.unwrap(),
        Claim::Sent
    );
    // Released after a retryable failure: claimable again at once.
    let mail = key("email:sales");
    assert_eq!(
        store.claim(&mail, t0, lease, false).await.unwrap(),
        Claim::Claimed
    );
    store.release(&mail).await.unwrap();
    assert_eq!(
        store.claim(&mail, t0, lease, false).await.unwrap(),
        Claim::Claimed
    );
    // Left by a crashed invocation: taken over once the lease has run out.
    let soon = t0 + chrono::Duration::minutes(1);
    assert_eq!(
        store.claim(&mail, soon, lease, false).await.unwrap(),
        Claim::InFlight
    );
    let after_lease = t0 + lease;
    assert_eq!(
        store.claim(&mail, after_lease, lease, false).await.unwrap(),
        Claim::Claimed
    );
    // A permanent failure stays failed until a re-drive claims it.
    store
        .mark_failed(&mail, "404 channel_not_found", soon)
        .await
        .unwrap();
    assert_eq!(
        store.claim(&mail, later, lease, false).await.unwrap(),
        Claim::Failed
    );
    let failed = store.failed().await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].key.clone(), failed[0].error.as_str()),
        (mail.clone(), "404 channel_not_found")
    );
    assert_eq!(
        store.claim(&mail, later, lease, true).await.unwrap(),
        Claim::Claimed
    );
    store.mark_sent(&mail).await.unwrap();
    assert!(
        store.failed().await.unwrap().is_empty(),
        "re-driven: no longer listed"
    );
    // A new MQL transition of the same lead is a new notification.
    let again = NoticeKey {
        transition_at: later,
        ..slack.clone()
    };
    assert_eq!(
        store.claim(&again, later, lease, false).await.unwrap(),
        Claim::Claimed
    );
    // Concurrent invocations: one claim wins.
    let contested = key("slack:contested");
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (store, k) = (store.clone(), contested.clone());
            tokio::spawn(async move { store.claim(&k, t0, lease, false).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap() == Claim::Claimed);
    }
    assert_eq!(won, 1);
}

async fn contract<S: LeadStore + SentLog + 'static>(store: Arc<S>) {
    notifications_are_claimed_once(store.clone()).await;
    saves_loads_and_versions(&*store).await;
    stale_writes_conflict(&*store).await;
    aliases_resolve_and_are_owned(&*store).await;
    the_ledger_accumulates_across_saves(&*store).await;
    merges_move_aliases_and_delete_the_absorbed_lead(&*store).await;
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

/// DynamoDB only: ledger items carry the TTL attribute when one is configured.
#[tokio::test]
async fn ledger_items_expire_after_the_configured_ttl() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use std::collections::HashMap;
    let moto = Moto::start();
    let client = moto.dynamodb().await;
    let kept = DynamoStore::new(client.clone(), "leadscore-ttl");
    kept.create_table().await.unwrap();
    let expiring = kept
        .clone()
        .with_ledger_ttl(Some(chrono::Duration::days(30)));
    let s = scored("ivy", &["e1"]);
    expiring.save(&s, None, &[]).await.unwrap();
    let mut s = scored("jon", &["e1"]);
    s.observe_account(
        "hubspot:company:5",
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
    );
    kept.save(&s, None, &[]).await.unwrap();
    // The lead item projects its account (for roll-ups) and keeps no TTL.
    let lead = client
        .get_item()
        .table_name("leadscore-ttl")
        .key("pk", AttributeValue::S("L#jon".into()))
        .key("sk", AttributeValue::S("S".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("lead item");
    assert_eq!(
        lead.get("account"),
        Some(&AttributeValue::S("hubspot:company:5".into()))
    );
    assert_eq!(lead.get(leadscore_store::TTL_ATTRIBUTE), None);
    let get = |lead: &str| {
        let key = HashMap::from([
            ("pk".to_owned(), AttributeValue::S(format!("L#{lead}"))),
            ("sk".to_owned(), AttributeValue::S("E#0000000000".into())),
        ]);
        client
            .get_item()
            .table_name("leadscore-ttl")
            .set_key(Some(key))
            .send()
    };
    let item = get("ivy").await.unwrap().item.expect("ledger item");
    let recorded = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let expected = (recorded + chrono::Duration::days(30)).timestamp();
    assert_eq!(
        item.get(leadscore_store::TTL_ATTRIBUTE),
        Some(&AttributeValue::N(expected.to_string()))
    );
    let item = get("jon").await.unwrap().item.expect("ledger item");
    assert_eq!(
        item.get(leadscore_store::TTL_ATTRIBUTE),
        None,
        "kept for ever"
    );
    let ttl = client
        .describe_time_to_live()
        .table_name("leadscore-ttl")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some(leadscore_store::TTL_ATTRIBUTE)
    );
}

/// DynamoDB only: the write that moves a lead into MQL, and no other, carries
/// `mql_entered_at` (the notifier's stream filter wakes on it).
#[tokio::test]
async fn only_the_write_that_makes_an_mql_is_marked() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let moto = Moto::start();
    let client = moto.dynamodb().await;
    let store = DynamoStore::new(client.clone(), "leadscore-mark");
    store.create_table().await.unwrap();
    let mql_model = Model::from_toml(
        "[model]\nname='m'\n[thresholds]\nmql=20\nmql_exit=10\n[[activity]]\nid='trial'\nkind='trial_started'\npoints=10\n",
        "mark",
    )
    .expect("valid model");
    let mark = || async {
        let item = client
            .get_item()
            .table_name("leadscore-mark")
            .key("pk", AttributeValue::S("L#kim".into()))
            .key("sk", AttributeValue::S("S".into()))
            .send()
            .await
            .unwrap()
            .item
            .expect("lead item");
        item.get(leadscore_store::MQL_ENTERED_AT).cloned()
    };
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let mut s = LeadState::new("kim");
    apply(&mql_model, &mut s, &[trial("t1", 1)], at);
    store.save(&s, None, &[]).await.unwrap();
    assert_eq!(mark().await, None, "a lead, not an MQL yet");

    let mut s = store.load("kim").await.unwrap().unwrap().state;
    apply(&mql_model, &mut s, &[trial("t2", 2)], at);
    assert_eq!(s.stage, leadscore_domain::Stage::Mql);
    store.save(&s, Some(1), &[]).await.unwrap();
    assert_eq!(
        mark().await,
        Some(AttributeValue::S("2026-03-01T09:00:00.000Z".into()))
    );

    // The next write of the same MQL drops the mark.
    let mut s = store.load("kim").await.unwrap().unwrap().state;
    apply(&mql_model, &mut s, &[trial("t3", 3)], at);
    store.save(&s, Some(2), &[]).await.unwrap();
    assert_eq!(mark().await, None);
}
