//! The in-memory store's snapshots: what a restored store gives back, byte-identical
//! re-snapshots, the file round trip, and every way a snapshot can be refused.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use leadscore_domain::{
    apply, decay, merge, AttrValue, Event, EventKind, LeadState, LedgerEntry, Model,
};
use leadscore_store::{
    Alias, Claim, DueIndex, FailedNotice, LeadStore, MemoryStore, NoticeKey, SentLog, StoreError,
    Stored, DUE_SHARDS,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const MODEL: &str = r#"
[model]
name = "snapshot"
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
[[fit]]
id = "de"
attribute = "country"
equals = "de"
points = 20
"#;

fn model() -> Model {
    Model::from_toml(MODEL, "snapshot.toml").expect("valid model")
}

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + Duration::days(n)
}

fn at(n: i64) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day(n).and_hms_opt(10, 0, 0).unwrap())
}

fn email(v: &str) -> Alias {
    Alias::new("email", v)
}

fn form(id: &str, n: i64) -> Event {
    Event::new(id, at(n), EventKind::FormSubmit)
}

fn trial(id: &str, n: i64) -> Event {
    Event::new(id, at(n), EventKind::TrialStarted)
}

fn identify(id: &str, n: i64) -> Event {
    Event::new(id, at(n), EventKind::Identify)
        .with_property("country", AttrValue::Text("de".into()))
        .with_property("employees", AttrValue::Number(250.5))
        .with_property("customer", AttrValue::Bool(false))
}

/// Loads `lead`, runs `f` on its state and saves it back with `aliases`.
async fn update(
    store: &MemoryStore,
    lead: &str,
    aliases: &[Alias],
    f: impl FnOnce(&mut LeadState),
) -> u64 {
    let cur = store.load(lead).await.unwrap().expect("stored");
    let mut state = cur.state;
    f(&mut state);
    store
        .save(&state, Some(cur.version), aliases)
        .await
        .unwrap()
}

async fn create(store: &MemoryStore, lead: &str, events: &[Event], aliases: &[Alias]) {
    let mut s = LeadState::new(lead);
    apply(&model(), &mut s, events, at(0));
    store.save(&s, None, aliases).await.unwrap();
}

fn notice(lead: &str, n: i64, route: &str) -> NoticeKey {
    NoticeKey {
        lead: lead.into(),
        transition_at: at(n),
        route: route.into(),
    }
}

const LEASE: i64 = 300;

/// A store after a bit of everything: several saves per lead, attributes, decay, an MQL with
/// a hand-off waiting in its outbox, a merge, an erasure, and notices in every state.
async fn busy_store() -> MemoryStore {
    let m = model();
    let store = MemoryStore::new();
    // Ana: fit and activity, 120 events (a large `seen` set), decayed, an MQL.
    let mut events = vec![identify("ana-id", 0), trial("ana-t", 0)];
    events.extend((0..118).map(|i| form(&format!("ana-f{i}"), 1)));
    create(&store, "ana", &events, &[email("ana@x.io")]).await;
    update(&store, "ana", &[Alias::new("hubspot", "1")], |s| {
        decay(&m, s, day(20), at(20));
    })
    .await;
    update(&store, "ana", &[], |s| {
        apply(&m, s, &[form("ana-late", 21)], at(21));
    })
    .await;
    // Ben: an MQL whose hand-off waits in the outbox (due at once).
    create(&store, "ben", &[trial("ben-t", 2)], &[email("ben@x.io")]).await;
    update(&store, "ben", &[], |s| {
        let handoff = s.transitions.last().cloned().expect("a transition");
        s.outbox.push(handoff);
    })
    .await;
    // Kim absorbs Lou (the CRM merged them); Lou's aliases move to Kim.
    create(&store, "kim", &[form("kim-f", 3)], &[email("kim@x.io")]).await;
    create(
        &store,
        "lou",
        &[trial("lou-t", 3), form("lou-f", 3)],
        &[email("lou@x.io"), Alias::new("hubspot", "2")],
    )
    .await;
    let kim = store.load("kim").await.unwrap().expect("kim");
    let lou = store.load("lou").await.unwrap().expect("lou");
    let mut merged = kim.state.clone();
    merge(&m, &mut merged, &lou.state, at(4));
    store
        .save_merged(
            &merged,
            kim.version,
            &[Alias::new("marketo", "9")],
            "lou",
            lou.version,
        )
        .await
        .unwrap();
    // Erin comes and goes, with her notices.
    create(&store, "erin", &[trial("erin-t", 5)], &[email("erin@x.io")]).await;
    let lease = Duration::seconds(LEASE);
    store
        .claim(&notice("erin", 5, "slack"), at(5), lease, false)
        .await
        .unwrap();
    store.erase("erin", &[]).await.unwrap();
    // Notices: sending (claimed, not sent), sent, two failed, one released (gone), and one
    // about a lead merged away.
    for (key, then) in [
        (notice("ana", 0, "slack:sales"), "claim"),
        (notice("ben", 2, "slack:sales"), "sent"),
        (notice("ben", 2, "email:sales"), "failed"),
        (notice("kim", 4, "slack:sales"), "failed"),
        (notice("kim", 4, "email:sales"), "release"),
        (notice("lou", 3, "slack:sales"), "sent"),
    ] {
        assert_eq!(
            store.claim(&key, at(6), lease, false).await.unwrap(),
            Claim::Claimed
        );
        match then {
            "sent" => store.mark_sent(&key).await.unwrap(),
            "failed" => {
                let when = at(6) + Duration::minutes(key.route.len() as i64);
                store
                    .mark_failed(&key, "404 not_found", when)
                    .await
                    .unwrap()
            }
            "release" => store.release(&key).await.unwrap(),
            _ => {}
        }
    }
    store
}

const LEADS: [&str; 6] = ["ana", "ben", "kim", "lou", "erin", "nobody"];

fn all_aliases() -> Vec<Alias> {
    vec![
        email("ana@x.io"),
        Alias::new("hubspot", "1"),
        email("ben@x.io"),
        email("kim@x.io"),
        email("lou@x.io"),
        Alias::new("hubspot", "2"),
        Alias::new("marketo", "9"),
        email("erin@x.io"),
        email("nobody@x.io"),
    ]
}

/// Everything the store answers through its ports.
#[derive(Debug, PartialEq)]
struct Observed {
    leads: Vec<(Option<Stored>, Vec<LedgerEntry>, Vec<Alias>)>,
    resolved: Vec<Option<String>>,
    failed: Vec<FailedNotice>,
    /// Per shard, paged two at a time: (leads, items read, more to come).
    due: Vec<(u16, Vec<Stored>, usize, bool)>,
}

async fn observe(store: &MemoryStore) -> Observed {
    let mut leads = Vec::new();
    for id in LEADS {
        leads.push((
            store.load(id).await.unwrap(),
            store.ledger(id).await.unwrap(),
            store.aliases(id).await.unwrap(),
        ));
    }
    let mut due = Vec::new();
    for shard in 0..DUE_SHARDS {
        let mut after = None;
        loop {
            let page = store.due(shard, day(60), 2, after.as_ref()).await.unwrap();
            due.push((shard, page.leads, page.items_read, page.next.is_some()));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Observed {
        leads,
        resolved: store.resolve(&all_aliases()).await.unwrap(),
        failed: store.failed().await.unwrap(),
        due,
    }
}

#[tokio::test]
async fn a_restored_store_gives_back_what_the_store_gave() {
    let store = busy_store().await;
    let before = observe(&store).await;
    // The activity is all there to compare.
    let ana = before.leads[0].0.as_ref().expect("ana");
    assert_eq!(ana.version, 3);
    assert!(ana.state.ledger.base() > 100 && ana.state.seen.len() == 121);
    assert!(!ana.state.attributes.is_empty() && !ana.state.transitions.is_empty());
    assert!(before.leads[3].0.is_none() && before.leads[4].0.is_none());
    assert_eq!(
        before.leads[2].2,
        [
            Alias::new("email", "kim@x.io"),
            Alias::new("email", "lou@x.io"),
            Alias::new("hubspot", "2"),
            Alias::new("marketo", "9"),
        ]
    );
    assert_eq!(before.failed.len(), 2);
    assert!(before.due.iter().any(|d| !d.1.is_empty()));

    let bytes = store.snapshot().unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["format"], 1);
    assert_eq!(
        doc["leads"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["ana", "ben", "kim"]
    );
    let restored = MemoryStore::restore(&bytes).unwrap();
    assert_eq!(observe(&restored).await, before);

    // The notification log keeps each state with its time: in flight until the lease runs
    // out, sent, failed until a re-drive.
    let lease = Duration::seconds(LEASE);
    for (key, now, expected) in [
        (notice("ana", 0, "slack:sales"), at(6), Claim::InFlight),
        (notice("ben", 2, "slack:sales"), at(7), Claim::Sent),
        (notice("lou", 3, "slack:sales"), at(7), Claim::Sent),
        (notice("ben", 2, "email:sales"), at(7), Claim::Failed),
        (notice("kim", 4, "email:sales"), at(7), Claim::Claimed),
        (notice("erin", 5, "slack"), at(7), Claim::Claimed),
        (
            notice("ana", 0, "slack:sales"),
            at(6) + lease,
            Claim::Claimed,
        ),
    ] {
        assert_eq!(
            restored.claim(&key, now, lease, false).await.unwrap(),
            expected,
            "{key:?}"
        );
    }
}

#[tokio::test]
async fn a_restored_store_carries_on_where_it_stopped() {
    let store = MemoryStore::restore(&busy_store().await.snapshot().unwrap()).unwrap();
    let cur = store.load("ana").await.unwrap().expect("ana");
    let base = cur.state.ledger.base();
    // A stale version is still refused; the current one goes through, and the ledger
    // numbering continues.
    assert!(matches!(
        store.save(&cur.state, Some(cur.version - 1), &[]).await,
        Err(StoreError::Conflict(_))
    ));
    let v = update(&store, "ana", &[email("ana@y.io")], |s| {
        apply(&model(), s, &[trial("ana-t2", 22)], at(22));
    })
    .await;
    assert_eq!(v, cur.version + 1);
    let ledger = store.ledger("ana").await.unwrap();
    assert!(ledger.len() as u64 > base);
    assert!(ledger.iter().enumerate().all(|(i, e)| e.seq == i as u64));
    // An alias of another lead is still owned.
    assert!(matches!(
        store
            .save(&LeadState::new("zed"), None, &[email("ben@x.io")])
            .await,
        Err(StoreError::Conflict(_))
    ));
    // And it snapshots again.
    MemoryStore::restore(&store.snapshot().unwrap()).unwrap();
}

/// Snapshots as text, so a difference shows as one.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

#[tokio::test]
async fn snapshots_of_the_same_content_are_byte_identical() {
    let store = busy_store().await;
    let bytes = text(store.snapshot().unwrap());
    assert_eq!(text(store.snapshot().unwrap()), bytes);
    let restored = MemoryStore::restore(bytes.as_bytes()).unwrap();
    assert_eq!(text(restored.snapshot().unwrap()), bytes);
    // A lead's event ids are a hash set: written sorted, whatever order the set holds them in.
    let doc: Value = serde_json::from_str(&bytes).unwrap();
    for (id, lead) in doc["leads"].as_object().unwrap() {
        let seen: Vec<&str> = (lead["state"]["seen"].as_array().unwrap().iter())
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(seen.is_sorted(), "{id}: {seen:?}");
    }
    let twice = MemoryStore::restore(&restored.snapshot().unwrap()).unwrap();
    assert_eq!(text(twice.snapshot().unwrap()), bytes);
    // Built in another order, with the same events in another order: the same bytes.
    let m = model();
    let events: Vec<Event> = (0..200).map(|i| form(&format!("f{i}"), 1)).collect();
    let build = |forward: bool| {
        let m = &m;
        let events = &events;
        async move {
            let store = MemoryStore::new();
            let mut ids = ["a", "b", "c"];
            let mut events = events.clone();
            if !forward {
                ids.reverse();
                events.reverse();
            }
            for id in ids {
                let mut s = LeadState::new(id);
                apply(m, &mut s, &events, at(2));
                store
                    .save(&s, None, &[email(&format!("{id}@x.io"))])
                    .await
                    .unwrap();
                store
                    .claim(&notice(id, 1, "slack"), at(2), Duration::seconds(1), false)
                    .await
                    .unwrap();
            }
            text(store.snapshot().unwrap())
        }
    };
    assert_eq!(build(true).await, build(false).await);
}

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "leadscore-snapshot-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_store_round_trips_through_a_file() {
    let tmp = TempDir::new("file");
    // The parent directories are created.
    let path = tmp.0.join("state").join("local").join("store.json");
    let store = busy_store().await;
    store.save_to(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), store.snapshot().unwrap());
    let dir = path.parent().unwrap();
    assert_eq!(files_in(dir), ["store.json"], "no temp file left behind");
    let opened = MemoryStore::open(&path).unwrap();
    assert_eq!(observe(&opened).await, observe(&store).await);

    // The next run changes it and saves over the file.
    update(&opened, "ben", &[], |s| s.outbox.clear()).await;
    opened.save_to(&path).unwrap();
    assert_eq!(files_in(dir), ["store.json"]);
    let again = MemoryStore::open(&path).unwrap();
    assert_eq!(observe(&again).await, observe(&opened).await);
    assert!(again
        .load("ben")
        .await
        .unwrap()
        .expect("ben")
        .state
        .outbox
        .is_empty());

    // A path that names no file is refused.
    assert!(matches!(
        store.save_to(Path::new("/")),
        Err(StoreError::Unavailable(e)) if e.contains("does not name a file")
    ));
}

#[tokio::test]
async fn a_missing_file_is_an_empty_store() {
    let tmp = TempDir::new("missing");
    let path = tmp.0.join("nothing-yet").join("store.json");
    let store = MemoryStore::open(&path).unwrap();
    assert!(store.load("ana").await.unwrap().is_none());
    assert!(store.failed().await.unwrap().is_empty());
    assert_eq!(
        store.snapshot().unwrap(),
        MemoryStore::new().snapshot().unwrap()
    );
    assert!(!path.exists(), "opening writes nothing");
    // An empty store round-trips too.
    store.save_to(&path).unwrap();
    let back = MemoryStore::open(&path).unwrap();
    assert_eq!(back.snapshot().unwrap(), store.snapshot().unwrap());
}

#[tokio::test]
async fn unreadable_and_corrupt_files_are_errors_naming_the_path() {
    let tmp = TempDir::new("bad");
    // A directory where the file should be: cannot be read.
    let err = MemoryStore::open(&tmp.0).err().expect("an error");
    let shown = err.to_string();
    assert!(matches!(err, StoreError::Unavailable(_)), "{shown}");
    assert!(shown.contains(&tmp.0.display().to_string()), "{shown}");
    // Half a snapshot (a crash of a non-atomic writer): corrupt, with the path.
    let path = tmp.0.join("store.json");
    let bytes = busy_store().await.snapshot().unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = MemoryStore::open(&path).err().expect("an error");
    let shown = err.to_string();
    match &err {
        StoreError::Corrupt { key, problem } => {
            assert_eq!(key, &path.display().to_string());
            assert!(
                problem.starts_with("snapshot: is not a JSON object"),
                "{problem}"
            );
        }
        other => panic!("{other}"),
    }
    assert!(shown.contains("store.json"), "{shown}");
    // A store that breaks its own invariants is refused before it is written, so the file
    // keeps what it had.
    std::fs::write(&path, &bytes).unwrap();
    let broken = MemoryStore::new();
    let mut s = LeadState::new("ana");
    apply(&model(), &mut s, &[trial("t", 0)], at(0));
    broken.save(&s, None, &[]).await.unwrap();
    // Saved over with a state that never read the stored ledger.
    broken
        .save(&LeadState::new("ana"), Some(1), &[])
        .await
        .unwrap();
    let err = broken.save_to(&path).expect_err("refused");
    assert!(
        err.to_string()
            .contains("lead ana: the ledger holds 1 entries but the state counts 0"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(files_in(&tmp.0), ["store.json"]);
}

/// A small store's snapshot as JSON, to tamper with.
async fn small_snapshot() -> Value {
    let store = MemoryStore::new();
    create(
        &store,
        "ana",
        &[identify("i", 0), trial("t", 0), form("f", 0)],
        &[email("ana@x.io")],
    )
    .await;
    create(&store, "ben", &[form("g", 0)], &[email("ben@x.io")]).await;
    store
        .claim(
            &notice("ana", 0, "slack"),
            at(1),
            Duration::seconds(1),
            false,
        )
        .await
        .unwrap();
    store
        .mark_failed(&notice("ana", 0, "slack"), "404", at(1))
        .await
        .unwrap();
    let doc: Value = serde_json::from_slice(&store.snapshot().unwrap()).unwrap();
    assert_eq!(doc["leads"]["ana"]["ledger"].as_array().unwrap().len(), 3);
    doc
}

/// What restoring `bytes` says is wrong.
fn refusal(bytes: &[u8]) -> String {
    match MemoryStore::restore(bytes) {
        Ok(_) => panic!("restored: {}", String::from_utf8_lossy(bytes)),
        Err(e @ StoreError::Corrupt { .. }) => e.to_string(),
        Err(e) => panic!("not a corrupt item: {e}"),
    }
}

fn tampered(doc: &Value, f: impl FnOnce(&mut Value)) -> String {
    let mut doc = doc.clone();
    f(&mut doc);
    refusal(&serde_json::to_vec(&doc).unwrap())
}

fn assert_says(got: &str, expected: &str) {
    assert!(got.contains(expected), "{got:?} does not say {expected:?}");
}

#[tokio::test]
async fn each_corruption_is_refused_with_what_is_wrong() {
    let doc = small_snapshot().await;
    let good = serde_json::to_vec(&doc).unwrap();
    MemoryStore::restore(&good).unwrap();

    // The document.
    assert_says(
        &refusal(b"{not json"),
        "corrupt item snapshot: is not a JSON object",
    );
    assert_says(&refusal(b""), "snapshot: is not a JSON object");
    assert_says(&refusal(b"42"), "snapshot: is not a JSON object");
    assert_says(
        &refusal(&good[..good.len() - 1]),
        "snapshot: is not a JSON object",
    );
    assert_says(
        &tampered(&doc, |d| {
            d.as_object_mut().unwrap().remove("format");
        }),
        "snapshot: has no format version",
    );
    assert_says(
        &tampered(&doc, |d| d["format"] = json!(2)),
        "snapshot: is in format 2, and this build reads format 1",
    );
    assert_says(
        &tampered(&doc, |d| d["format"] = json!("1")),
        "snapshot: is in format \"1\"",
    );
    assert_says(
        &tampered(&doc, |d| d["extra"] = json!(true)),
        "snapshot: does not read as a format 1 snapshot: unknown field `extra`",
    );
    assert_says(
        &tampered(&doc, |d| {
            d.as_object_mut().unwrap().remove("aliases");
        }),
        "missing field `aliases`",
    );
    assert_says(
        &tampered(&doc, |d| {
            d["leads"]["ana"]["state"]["scores"] = json!("high")
        }),
        "does not read as a format 1 snapshot: invalid type",
    );
    assert_says(
        &tampered(&doc, |d| {
            d["notices"][0]["status"] = json!({"state": "lost"});
        }),
        "unknown variant `lost`",
    );
    // A key twice (serde would silently keep the last).
    let text = String::from_utf8(good.clone()).unwrap();
    let ben = serde_json::to_string(&doc["leads"]["ben"]).unwrap();
    let twice = text.replacen("\"leads\":{", &format!("\"leads\":{{\"ben\":{ben},"), 1);
    assert_says(&refusal(twice.as_bytes()), "key \"ben\" appears twice");

    // Leads.
    assert_says(
        &tampered(&doc, |d| {
            let ana = d["leads"]["ana"].take();
            let leads = d["leads"].as_object_mut().unwrap();
            leads.remove("ana");
            leads.insert("cat".into(), ana);
            d["aliases"]["email:ana@x.io"] = json!("cat");
            d["notices"][0]["key"]["lead"] = json!("cat");
        }),
        "corrupt item lead cat: holds the state of lead \"ana\"",
    );
    assert_says(
        &tampered(&doc, |d| d["leads"]["ben"]["version"] = json!(0)),
        "lead ben: is at version 0",
    );
    assert_says(
        &tampered(&doc, |d| d["leads"]["ben"]["version"] = json!(-1)),
        "does not read as a format 1 snapshot: invalid value: integer `-1`",
    );

    // Ledgers.
    assert_says(
        &tampered(&doc, |d| {
            d["leads"]["ana"]["ledger"].as_array_mut().unwrap().pop();
        }),
        "lead ana: the ledger holds 2 entries but the state counts 3",
    );
    assert_says(
        &tampered(&doc, |d| {
            d["leads"]["ana"]["state"]["ledger"]["len"] = json!(4)
        }),
        "lead ana: the ledger holds 3 entries but the state counts 4",
    );
    assert_says(
        &tampered(&doc, |d| {
            d["leads"]["ana"]["ledger"]
                .as_array_mut()
                .unwrap()
                .remove(0);
        }),
        "lead ana: ledger entry 0 is numbered 1 (entries run 0, 1, 2... without gaps)",
    );
    assert_says(
        &tampered(&doc, |d| {
            let ledger = d["leads"]["ana"]["ledger"].as_array_mut().unwrap();
            ledger[2] = ledger[1].clone();
        }),
        "lead ana: ledger entry 1 appears twice",
    );
    assert_says(
        &tampered(&doc, |d| {
            let e = &mut d["leads"]["ana"]["ledger"][1];
            let points = e["points"].as_f64().unwrap();
            e["points"] = json!(points + 1.0);
        }),
        "lead ana: its total score is",
    );
    assert_says(
        &tampered(&doc, |d| {
            d["leads"]["ben"]["state"]["scores"]["fit"] = json!(5);
            d["leads"]["ben"]["state"]["scores"]["activity"] = json!(5);
        }),
        "lead ben: its fit score is 500 hundredths but its ledger entries sum to 0",
    );

    // Aliases.
    assert_says(
        &tampered(&doc, |d| d["aliases"]["email:ghost@x.io"] = json!("ghost")),
        "corrupt item alias email:ghost@x.io: points at lead \"ghost\", which is not stored",
    );
    assert_says(
        &tampered(&doc, |d| {
            d["leads"].as_object_mut().unwrap().remove("ben");
        }),
        "alias email:ben@x.io: points at lead \"ben\"",
    );

    // Notices: one listed twice. One about a lead that is gone is fine (a merge keeps it).
    assert_says(
        &tampered(&doc, |d| {
            let notices = d["notices"].as_array_mut().unwrap();
            notices.push(notices[0].clone());
        }),
        "corrupt item notice ana/2026-03-01T10:00:00.000Z#slack: is listed twice",
    );
    let mut gone = doc.clone();
    gone["notices"][0]["key"]["lead"] = json!("ghost");
    MemoryStore::restore(&serde_json::to_vec(&gone).unwrap()).unwrap();
}

/// Whatever the damage, restoring answers; it never panics.
#[tokio::test]
async fn damaged_snapshots_never_panic() {
    let good = serde_json::to_vec(&small_snapshot().await).unwrap();
    for end in 0..good.len() {
        assert!(MemoryStore::restore(&good[..end]).is_err(), "cut at {end}");
    }
    for i in 0..good.len() {
        for b in [b'0', b'9', b'"', b'{', b']', b'-', b'x', 0xff] {
            let mut bad = good.clone();
            bad[i] = b;
            let _ = MemoryStore::restore(&bad);
        }
    }
}
