//! The ingest handler end to end: routing, checks, signatures, parsing, the engine and the
//! store (in memory, and DynamoDB on moto for concurrency).

use base64::Engine;
use hmac::{Hmac, Mac};
use leadscore_app::config::IngestConfig;
use leadscore_app::http::Request;
use leadscore_app::ingest::handle;
use leadscore_domain::Points;
use leadscore_store::testing::Moto;
use leadscore_store::{Alias, DynamoStore, LeadStore, MemoryStore};
use serde_json::{json, Value};
use std::collections::HashMap;

mod common;
use common::{error_of, now, request, score};
use std::sync::Arc;

const EVENTS_SECRET: &str = "events-secret";
const HUBSPOT_SECRET: &str = "hubspot-client-secret";
const BASE: &str = "https://hooks.example.com";

const MODEL: &str = r#"
[model]
name = "ingest-test"
[thresholds]
mql = 100
mql_exit = 50
[[activity]]
id = "tick"
kind = "custom"
event = "tick"
points = 1
[[activity]]
id = "demo"
kind = "demo_request"
points = 30
instant_mql = true
[[fit]]
id = "vp"
attribute = "job_title"
contains = "vp"
points = 20
"#;

fn config() -> IngestConfig {
    let vars: HashMap<&str, &str> = HashMap::from([
        ("LEADSCORE_EVENTS_SECRET", EVENTS_SECRET),
        ("LEADSCORE_HUBSPOT_CLIENT_SECRET", HUBSPOT_SECRET),
        ("LEADSCORE_PUBLIC_BASE_URL", BASE),
        ("LEADSCORE_MAX_BODY_BYTES", "4096"),
    ]);
    IngestConfig::from_lookup(|k| vars.get(k).map(|v| v.to_string()), MODEL, "test.toml")
        .expect("valid config")
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn signed_events(body: &Value) -> Request {
    let bytes = serde_json::to_vec(body).unwrap();
    let sig = format!("sha256={}", hmac_hex(EVENTS_SECRET, &bytes));
    request(
        "/webhooks/events",
        &[
            ("content-type", "application/json"),
            ("x-leadscore-signature", &sig),
        ],
        &bytes,
    )
}

fn tick(id: &str, email: &str, second: u32) -> Value {
    json!({"id": id, "type": "custom", "name": "tick", "email": email,
           "timestamp": format!("2026-03-02T10:00:{second:02}Z")})
}

#[tokio::test]
async fn a_signed_batch_is_scored_and_its_redelivery_changes_nothing() {
    let (cfg, store) = (config(), MemoryStore::new());
    let body = json!([
        tick("a1", "Ana@Acme.io", 1),
        tick("a2", "ana@acme.io", 2),
        tick("b1", "ben@beta.io", 3)
    ]);
    let r = handle(&cfg, &store, &signed_events(&body), now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (
            r.body["accepted"].as_u64(),
            r.body["duplicates"].as_u64(),
            r.body["leads"].as_u64()
        ),
        (Some(3), Some(0), Some(2))
    );
    assert_eq!(score(&store, "ana@acme.io").await, Points::whole(2));
    let before = store
        .load("email:ana@acme.io")
        .await
        .unwrap()
        .unwrap()
        .version;
    let r = handle(&cfg, &store, &signed_events(&body), now()).await;
    assert_eq!(
        (
            r.status,
            r.body["accepted"].as_u64(),
            r.body["duplicates"].as_u64()
        ),
        (200, Some(0), Some(3))
    );
    assert_eq!(score(&store, "ana@acme.io").await, Points::whole(2));
    let after = store
        .load("email:ana@acme.io")
        .await
        .unwrap()
        .unwrap()
        .version;
    assert_eq!(before, after, "a redelivery writes nothing");
}

#[tokio::test]
async fn an_instant_mql_is_reported_in_the_summary() {
    let (cfg, store) = (config(), MemoryStore::new());
    let body = json!({"id": "d1", "type": "demo_request", "email": "cy@corp.io", "timestamp": "2026-03-02T10:00:00Z"});
    let r = handle(&cfg, &store, &signed_events(&body), now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = &r.body["transitions"][0];
    assert_eq!(
        (t["lead"].as_str(), t["to"].as_str()),
        (Some("email:cy@corp.io"), Some("mql"))
    );
    assert_eq!(t["reason"]["type"], "instant_mql");
}

#[tokio::test]
async fn signatures_are_required_and_checked() {
    let (cfg, store) = (config(), MemoryStore::new());
    let body = serde_json::to_vec(&tick("x", "a@b.io", 1)).unwrap();
    let ct = ("content-type", "application/json");
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![], "missing header"),
        (
            vec![("x-leadscore-signature", hmac_hex("wrong", &body))],
            "does not match",
        ),
        (
            vec![("x-leadscore-signature", "sha256=zz".into())],
            "malformed",
        ),
    ];
    for (extra, says) in cases {
        let mut headers = vec![ct];
        headers.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
        let r = handle(
            &cfg,
            &store,
            &request("/webhooks/events", &headers, &body),
            now(),
        )
        .await;
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(error_of(&r), "unauthorized");
        assert!(
            r.body["message"].as_str().unwrap_or("").contains(says),
            "{}",
            r.body
        );
    }
    // A tampered body no longer matches its signature.
    let mut req = signed_events(&tick("x", "a@b.io", 1));
    req.body.extend_from_slice(b" ");
    assert_eq!(handle(&cfg, &store, &req, now()).await.status, 401);
    // A source with no secret configured is refused.
    let r = handle(
        &cfg,
        &store,
        &request("/webhooks/marketo", &[ct], b"{}"),
        now(),
    )
    .await;
    assert_eq!((r.status, error_of(&r)), (401, "source_not_configured"));
    assert!(
        store
            .resolve(&[Alias::new("email", "a@b.io")])
            .await
            .unwrap()[0]
            .is_none(),
        "nothing stored"
    );
}

#[tokio::test]
async fn client_mistakes_get_the_right_status_and_a_message() {
    let (cfg, store) = (config(), MemoryStore::new());
    let r = handle(&cfg, &store, &request("/nope", &[], b""), now()).await;
    assert_eq!((r.status, error_of(&r)), (404, "not_found"));
    let mut get = signed_events(&tick("x", "a@b.io", 1));
    get.method = "GET".into();
    let r = handle(&cfg, &store, &get, now()).await;
    assert_eq!((r.status, error_of(&r)), (405, "method_not_allowed"));
    assert_eq!(r.headers, [("allow".to_string(), "POST".to_string())]);
    let mut xml = signed_events(&tick("x", "a@b.io", 1));
    xml.headers.insert("content-type".into(), "text/xml".into());
    assert_eq!(handle(&cfg, &store, &xml, now()).await.status, 415);
    let big = json!({"id": "x", "type": "custom", "name": "tick", "email": "a@b.io",
                     "timestamp": "2026-03-02T10:00:00Z", "properties": {"pad": "x".repeat(5000)}});
    let r = handle(&cfg, &store, &signed_events(&big), now()).await;
    assert_eq!((r.status, error_of(&r)), (413, "payload_too_large"));
    // Signed but not JSON: 400 with the position.
    let bytes = b"{\"id\": ".to_vec();
    let sig = hmac_hex(EVENTS_SECRET, &bytes);
    let r = handle(
        &cfg,
        &store,
        &request(
            "/webhooks/events",
            &[
                ("content-type", "application/json"),
                ("x-leadscore-signature", &sig),
            ],
            &bytes,
        ),
        now(),
    )
    .await;
    assert_eq!(
        (r.status, error_of(&r)),
        (400, "invalid_body"),
        "{}",
        r.body
    );
    // Signed JSON with a bad field: 400 naming the field.
    let r = handle(&cfg, &store, &signed_events(&json!([{"id": "x", "type": "custom", "name": "tick", "email": "a@b.io", "timestamp": "yesterday"}])), now()).await;
    assert_eq!(
        (r.status, error_of(&r)),
        (400, "invalid_field"),
        "{}",
        r.body
    );
    assert!(
        r.body["field"].as_str().unwrap_or("").contains("timestamp"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn unknown_event_types_are_ignored_and_reported_not_failed() {
    let (cfg, store) = (config(), MemoryStore::new());
    let body = json!([tick("k1", "a@b.io", 1), {"id": "k2", "type": "teleport", "email": "a@b.io", "timestamp": "2026-03-02T10:00:00Z"}]);
    let r = handle(&cfg, &store, &signed_events(&body), now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["accepted"], 1);
    assert_eq!(r.body["ignored"][0]["index"], 1);
}

/// HubSpot v3 over the URL rebuilt from the public base, a contact's email learned from a
/// property change, then an email-keyed event landing on the same lead.
#[tokio::test]
async fn hubspot_v3_contacts_and_emails_resolve_to_one_lead() {
    let (cfg, store) = (config(), MemoryStore::new());
    let body = json!([
        {"eventId": 1, "subscriptionId": 9, "portalId": 62515, "appId": 1, "occurredAt": 1772445600000i64,
         "subscriptionType": "contact.propertyChange", "attemptNumber": 0, "objectId": 501,
         "propertyName": "email", "propertyValue": "dora@delta.io", "changeSource": "CRM"},
        {"eventId": 2, "subscriptionId": 9, "portalId": 62515, "appId": 1, "occurredAt": 1772445601000i64,
         "subscriptionType": "contact.propertyChange", "attemptNumber": 0, "objectId": 501,
         "propertyName": "jobtitle", "propertyValue": "VP Marketing", "changeSource": "CRM"}
    ]);
    // API Gateway may add a stage prefix to the path: routing and signing do not care.
    let req = hubspot_request("/prod/webhooks/hubspot", &body);
    let r = handle(&cfg, &store, &req, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["accepted"], 2);
    assert_eq!(
        score(&store, "dora@delta.io").await,
        Points::whole(20),
        "fit: VP"
    );
    let ids = store
        .resolve(&[
            Alias::new("hubspot", "501"),
            Alias::new("email", "dora@delta.io"),
        ])
        .await
        .unwrap();
    assert_eq!(ids[0], ids[1]);
    // A stale timestamp is refused.
    let old = (now() - chrono::TimeDelta::minutes(6))
        .timestamp_millis()
        .to_string();
    let mut stale = req.clone();
    stale
        .headers
        .insert("x-hubspot-request-timestamp".into(), old);
    assert_eq!(handle(&cfg, &store, &stale, now()).await.status, 401);
}

/// 64 concurrent deliveries for one lead, a quarter of them duplicates, against DynamoDB on
/// moto: the score is exactly the sum of the distinct events, and the ledger agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_for_one_lead_lose_nothing_and_count_nothing_twice() {
    let moto = Moto::start();
    let store = DynamoStore::new(moto.dynamodb().await, "ingest-concurrency");
    store.create_table().await.unwrap();
    let (cfg, store) = (Arc::new(config()), Arc::new(store));
    let tasks: Vec<_> = (0..64u32)
        .map(|i| {
            let (cfg, store) = (cfg.clone(), store.clone());
            // Deliveries 48..64 repeat 0..16.
            let id = format!("c{}", i % 48);
            tokio::spawn(async move {
                let body = json!([tick(&id, "eve@epsilon.io", (i % 48) % 60)]);
                handle(&cfg, &*store, &signed_events(&body), now()).await
            })
        })
        .collect();
    let mut accepted = 0;
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        accepted += r.body["accepted"].as_u64().unwrap_or(0);
    }
    assert_eq!(accepted, 48);
    let id = store
        .resolve(&[Alias::new("email", "eve@epsilon.io")])
        .await
        .unwrap()[0]
        .clone()
        .unwrap();
    let s = store.load(&id).await.unwrap().unwrap().state;
    assert_eq!(s.scores.total, Points::whole(48));
    assert_eq!(common::ledger_sum(&*store, &id).await, Points::whole(48));
    assert_eq!(s.seen.len(), 48);
}

/// A HubSpot privacy deletion erases the lead (GDPR) on DynamoDB: its state, every ledger
/// item and every alias, including the email that only a website event named.
#[tokio::test]
async fn a_hubspot_privacy_deletion_erases_the_lead_its_ledger_and_aliases() {
    let moto = Moto::start();
    let store = DynamoStore::new(moto.dynamodb().await, "ingest-erasure");
    store.create_table().await.unwrap();
    let cfg = config();
    let body = json!([property_change(1, 601, "email", "gil@gamma.io")]);
    let r = handle(
        &cfg,
        &store,
        &hubspot_request("/webhooks/hubspot", &body),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = handle(
        &cfg,
        &store,
        &signed_events(&json!([tick("w1", "gil@gamma.io", 1)])),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (id, _, _) = common::lead(&store, Alias::new("hubspot", "601")).await;
    assert!(!store.ledger(&id).await.unwrap().is_empty());
    let deletion = json!([{"eventId": 2, "subscriptionId": 9, "portalId": 62515, "appId": 1,
        "occurredAt": 1772445700000i64, "subscriptionType": "contact.privacyDeletion",
        "attemptNumber": 0, "objectId": 601, "changeSource": "GDPR"}]);
    let r = handle(
        &cfg,
        &store,
        &hubspot_request("/webhooks/hubspot", &deletion),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["erased"], 1, "{}", r.body);
    assert!(store.load(&id).await.unwrap().is_none());
    assert!(store.ledger(&id).await.unwrap().is_empty(), "ledger erased");
    let left = store
        .resolve(&[
            Alias::new("hubspot", "601"),
            Alias::new("email", "gil@gamma.io"),
        ])
        .await
        .unwrap();
    assert_eq!(left, [None, None], "aliases erased");
}

/// A HubSpot merge folds the absorbed contact into the survivor: one lead, both histories,
/// every alias; a redelivered merge changes nothing, and later events for the absorbed
/// contact land on the survivor.
async fn merges_fold_two_scored_contacts_into_one<S: LeadStore>(store: &S) {
    let cfg = config();
    let hubspot = |body: Value| hubspot_request("/webhooks/hubspot", &body);
    for (object, email) in [(701, "hal@eta.io"), (702, "hal.b@eta.io")] {
        let body = json!([property_change(object, object, "email", email)]);
        let r = handle(&cfg, store, &hubspot(body), now()).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let body = json!([
        tick("h1", "hal@eta.io", 1),
        tick("h2", "hal.b@eta.io", 2),
        tick("h3", "hal.b@eta.io", 3)
    ]);
    let r = handle(&cfg, store, &signed_events(&body), now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (a, b) = (
        score(store, "hal@eta.io").await,
        score(store, "hal.b@eta.io").await,
    );
    assert!(a > Points::ZERO && b > Points::ZERO);
    let merge = json!([{"eventId": 9, "subscriptionId": 9, "portalId": 62515, "appId": 1,
        "occurredAt": 1772446800000i64, "subscriptionType": "contact.merge", "attemptNumber": 0,
        "objectId": 701, "primaryObjectId": 701, "mergedObjectIds": [702], "newObjectId": 701,
        "changeSource": "CRM_UI"}]);
    let r = handle(&cfg, store, &hubspot(merge.clone()), now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["merged"], 1, "{}", r.body);
    let ids = store
        .resolve(&[
            Alias::new("hubspot", "701"),
            Alias::new("hubspot", "702"),
            Alias::new("email", "hal@eta.io"),
            Alias::new("email", "hal.b@eta.io"),
        ])
        .await
        .unwrap();
    assert!(ids.iter().all(|i| i.is_some() && *i == ids[0]), "{ids:?}");
    assert_eq!(score(store, "hal.b@eta.io").await, a + b, "both histories");
    // Redelivered: already one lead.
    let r = handle(&cfg, store, &hubspot(merge), now()).await;
    assert_eq!(r.body["merged"], 0, "{}", r.body);
    assert_eq!(score(store, "hal@eta.io").await, a + b);
    // The absorbed contact's later events, and redeliveries of its old ones, find the survivor.
    let body = json!([tick("h3", "hal.b@eta.io", 3), tick("h4", "hal.b@eta.io", 4)]);
    let r = handle(&cfg, store, &signed_events(&body), now()).await;
    assert_eq!(
        (r.body["accepted"].as_u64(), r.body["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(score(store, "hal@eta.io").await > a + b);
}

#[tokio::test]
async fn a_hubspot_merge_folds_two_leads_in_memory() {
    merges_fold_two_scored_contacts_into_one(&MemoryStore::new()).await;
}

#[tokio::test]
async fn a_hubspot_merge_folds_two_leads_on_dynamodb() {
    let moto = Moto::start();
    let store = DynamoStore::new(moto.dynamodb().await, "ingest-merge");
    store.create_table().await.unwrap();
    merges_fold_two_scored_contacts_into_one(&store).await;
}

/// The lead's account comes from its events: a company domain from the website, then the
/// CRM company HubSpot associates, which wins over the domain; a stale domain does not undo it.
#[tokio::test]
async fn the_account_is_the_crm_company_else_the_domain() {
    let (cfg, store) = (config(), MemoryStore::new());
    let account = |store: MemoryStore| async move {
        let (_, state, _) = common::lead(&store, Alias::new("email", "ivo@iota.io")).await;
        (state.account.map(|a| a.key), store)
    };
    let r = handle(
        &cfg,
        &store,
        &signed_events(&json!([tick("i1", "ivo@iota.io", 1)])),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (got, store) = account(store).await;
    assert_eq!(got.as_deref(), Some("iota.io"));
    let body = json!([
        property_change(1, 801, "email", "ivo@iota.io"),
        property_change(2, 801, "associatedcompanyid", "9001")
    ]);
    let r = handle(
        &cfg,
        &store,
        &hubspot_request("/webhooks/hubspot", &body),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (got, store) = account(store).await;
    assert_eq!(got.as_deref(), Some("hubspot:company:9001"));
    let r = handle(
        &cfg,
        &store,
        &signed_events(&json!([tick("i2", "ivo@iota.io", 9)])),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (got, _) = account(store).await;
    assert_eq!(got.as_deref(), Some("hubspot:company:9001"));
}

/// An erase or a merge follows the events before it in the same batch: a contact created and
/// then privacy-deleted in one batch is gone, and a merge finds the leads the batch created.
#[tokio::test]
async fn erases_and_merges_follow_the_events_before_them_in_a_batch() {
    let (cfg, store) = (config(), MemoryStore::new());
    let deletion = json!({"eventId": 3, "subscriptionId": 9, "portalId": 62515, "appId": 1,
        "occurredAt": 1772445700000i64, "subscriptionType": "contact.privacyDeletion",
        "attemptNumber": 0, "objectId": 4800, "changeSource": "GDPR"});
    let merge = json!({"eventId": 4, "subscriptionId": 9, "portalId": 62515, "appId": 1,
        "occurredAt": 1772445800000i64, "subscriptionType": "contact.merge", "attemptNumber": 0,
        "objectId": 4901, "primaryObjectId": 4901, "mergedObjectIds": [4902], "newObjectId": 4901,
        "changeSource": "CRM_UI"});
    let body = json!([
        property_change(1, 4800, "email", "zoe@zeta.io"),
        deletion,
        property_change(5, 4901, "email", "yan@ypsilon.io"),
        property_change(6, 4902, "jobtitle", "VP Sales"),
        merge
    ]);
    let r = handle(
        &cfg,
        &store,
        &hubspot_request("/webhooks/hubspot", &body),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["erased"].as_u64(), r.body["merged"].as_u64()),
        (Some(1), Some(1)),
        "{}",
        r.body
    );
    let gone = store
        .resolve(&[
            Alias::new("hubspot", "4800"),
            Alias::new("email", "zoe@zeta.io"),
        ])
        .await
        .unwrap();
    assert_eq!(gone, [None, None]);
    let ids = store
        .resolve(&[Alias::new("hubspot", "4901"), Alias::new("hubspot", "4902")])
        .await
        .unwrap();
    assert!(ids[0].is_some() && ids[0] == ids[1], "{ids:?}");
}

fn hubspot_request(path: &str, events: &Value) -> Request {
    let bytes = serde_json::to_vec(events).unwrap();
    let ts = now().timestamp_millis().to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(HUBSPOT_SECRET.as_bytes()).unwrap();
    mac.update(format!("POST{BASE}/webhooks/hubspot").as_bytes());
    mac.update(&bytes);
    mac.update(ts.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    request(
        path,
        &[
            ("content-type", "application/json"),
            ("x-hubspot-signature-v3", &sig),
            ("x-hubspot-request-timestamp", &ts),
        ],
        &bytes,
    )
}

fn property_change(event_id: u64, object_id: u64, name: &str, value: &str) -> Value {
    json!({"eventId": event_id, "subscriptionId": 9, "portalId": 62515, "appId": 1,
        "occurredAt": 1772445600000i64 + event_id as i64, "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0, "objectId": object_id, "propertyName": name, "propertyValue": value,
        "changeSource": "CRM"})
}

/// A HubSpot contact whose email is already a known lead (say, from the website) is that lead:
/// the contact id joins it, and all the contact's events of the batch land on it in one write.
#[tokio::test]
async fn a_contact_with_a_known_email_joins_that_lead() {
    let (cfg, store) = (config(), MemoryStore::new());
    let r = handle(
        &cfg,
        &store,
        &signed_events(&json!([tick("w1", "fay@phi.io", 1)])),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let batch = json!([
        property_change(7, 777, "jobtitle", "VP Sales"),
        property_change(8, 777, "email", "fay@phi.io")
    ]);
    let r = handle(
        &cfg,
        &store,
        &hubspot_request("/webhooks/hubspot", &batch),
        now(),
    )
    .await;
    assert_eq!(
        (r.status, r.body["leads"].as_u64()),
        (200, Some(1)),
        "{}",
        r.body
    );
    let ids = store
        .resolve(&[
            Alias::new("email", "fay@phi.io"),
            Alias::new("hubspot", "777"),
        ])
        .await
        .unwrap();
    assert_eq!(
        ids,
        [
            Some("email:fay@phi.io".into()),
            Some("email:fay@phi.io".into())
        ]
    );
    let lead = store.load("email:fay@phi.io").await.unwrap().unwrap();
    assert_eq!(lead.version, 2, "one write for the contact's two events");
    assert_eq!(
        lead.state.scores.total,
        Points::whole(21),
        "the tick and the VP title"
    );
    assert!(
        store.load("hubspot:777").await.unwrap().is_none(),
        "no second lead"
    );
}

/// When the contact is already a lead of its own, an email owned by another lead does not pull
/// the contact's events over (merging two scored leads is not automatic).
#[tokio::test]
async fn a_known_contact_keeps_its_events_when_its_email_belongs_to_another_lead() {
    let (cfg, store) = (config(), MemoryStore::new());
    let r = handle(
        &cfg,
        &store,
        &hubspot_request(
            "/webhooks/hubspot",
            &json!([property_change(1, 888, "jobtitle", "VP Ops")]),
        ),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = handle(
        &cfg,
        &store,
        &signed_events(&json!([tick("w2", "gus@chi.io", 2)])),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = handle(
        &cfg,
        &store,
        &hubspot_request(
            "/webhooks/hubspot",
            &json!([property_change(2, 888, "email", "gus@chi.io")]),
        ),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ids = store
        .resolve(&[
            Alias::new("email", "gus@chi.io"),
            Alias::new("hubspot", "888"),
        ])
        .await
        .unwrap();
    assert_eq!(
        ids,
        [Some("email:gus@chi.io".into()), Some("hubspot:888".into())]
    );
    let contact = store.load("hubspot:888").await.unwrap().unwrap().state;
    assert_eq!(contact.attributes["email"].as_text(), Some("gus@chi.io"));
    assert_eq!(contact.scores.total, Points::whole(20));
    let other = store.load("email:gus@chi.io").await.unwrap().unwrap().state;
    assert!(
        other.attributes.is_empty() && other.scores.total == Points::whole(1),
        "{other:?}"
    );
}
