//! HubSpot and SendGrid through the Lambda handler: API Gateway payload 2.0 events whose
//! bodies are the sources crate's real-format fixtures, signed the way each sender signs
//! (HubSpot v3 and v2 computed here at a fixed `now`; SendGrid's ECDSA signatures carried by
//! the fixtures), down to what the store holds.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use leadscore_domain::{AttrValue, Points, Stage};
use leadscore_ingest::handler;
use leadscore_store::testing::Moto;
use leadscore_store::{Alias, DynamoStore, LeadStore, MemoryStore};
use serde_json::{json, Value};

/// The bodies the fixtures carry, byte for byte.
const HUBSPOT_BATCH: &str = include_str!("../../../shared/sources/tests/fixtures/hubspot.json");
const HUBSPOT_WORKFLOW: &str =
    include_str!("../../../shared/sources/tests/fixtures/hubspot-workflow-contact.json");
const SENDGRID_BATCH: &str = include_str!("../../../shared/sources/tests/fixtures/sendgrid.json");

fn text(s: &str) -> Option<AttrValue> {
    Some(AttrValue::Text(s.into()))
}

fn hubspot(id: &str) -> Alias {
    Alias::new("hubspot", id)
}

fn email(address: &str) -> Alias {
    Alias::new("email", address)
}

/// The indexes of a summary's ignored items.
fn ignored_indexes(body: &Value) -> Vec<u64> {
    body["ignored"]
        .as_array()
        .expect("ignored is a list")
        .iter()
        .map(|i| i["index"].as_u64().expect("index"))
        .collect()
}

/// `(accepted, duplicates, leads)` of a summary.
fn counts(body: &Value) -> (&Value, &Value, &Value) {
    (&body["accepted"], &body["duplicates"], &body["leads"])
}

async fn exists<S: LeadStore>(store: &S, alias: Alias) -> bool {
    store.resolve(&[alias]).await.unwrap()[0].is_some()
}

/// The HubSpot app-webhook batch as HubSpot posts it at `now()`.
fn hubspot_batch() -> Value {
    let v = fixture("hubspot-webhooks.json");
    assert_eq!(v["body"].as_str(), Some(HUBSPOT_BATCH));
    let signed = sign_hubspot_v3(v.clone(), HUBSPOT_SECRET, now());
    // The fixture carries what HubSpot would send at now(): the signature is recomputed here.
    assert_eq!(v["headers"], signed["headers"]);
    signed
}

// ---------------------------------------------------------------------------------------------
// HubSpot

/// The batch's four events about contact 5101 (creation, primary company association, job
/// title, lifecycle stage SQL) and four about 5102 (email, website, an emptied persona, lead
/// status BAD_TIMING) are applied; the retried job-title event, a company event and lead
/// status NEW are reported as ignored. The privacy deletion and the merge (5099 into 5101)
/// find no second lead, so nothing is erased or folded. A redelivery applies nothing again.
async fn a_signed_hubspot_batch_is_scored_and_stored<S: LeadStore>(store: &S) {
    let cfg = sources_config(SENDGRID_TEST_KEY, &[]);
    let r = handler(store, &cfg.ingest, event(hubspot_batch()), now())
        .await
        .unwrap();
    let (status, ct, body) = parts(&r);
    assert_eq!((status, ct), (200, "application/json"), "{body}");
    assert_eq!(counts(&body), (&json!(8), &json!(0), &json!(2)), "{body}");
    assert_eq!((&body["erased"], &body["merged"]), (&json!(0), &json!(0)));
    assert_eq!(ignored_indexes(&body), [3, 8, 9], "{body}");
    let reason = |i: usize| body["ignored"][i]["reason"].as_str().unwrap().to_owned();
    assert!(reason(0).starts_with("duplicate of [1]"), "{body}");
    assert!(reason(1).starts_with("company.propertyChange"), "{body}");
    assert_eq!(reason(2), "hs_lead_status `NEW` is not a sales decision");
    // The sales feedback moved both leads, and the summary says so.
    let mut moves: Vec<(String, String)> = body["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["lead"].as_str().unwrap().to_owned(),
                t["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    moves.sort();
    assert_eq!(
        moves,
        [
            ("hubspot:5101".to_owned(), "sql".to_owned()),
            ("hubspot:5102".to_owned(), "recycled".to_owned())
        ],
        "{body}"
    );

    // Contact 5101: its job title (fit "vp"), its primary company, sales accepted it.
    let (id, vp, _) = lead(store, hubspot("5101")).await.expect("5101 is stored");
    assert_eq!(id, "hubspot:5101");
    assert_eq!(
        vp.attributes.get("job_title").cloned(),
        text("VP Engineering")
    );
    assert_eq!(
        vp.account.as_ref().map(|a| a.key.as_str()),
        Some("hubspot:company:901")
    );
    assert_eq!(vp.stage, Stage::Sql);
    assert_eq!(
        (vp.scores.fit, vp.scores.total),
        (Points::whole(20), Points::whole(20))
    );
    assert_eq!(vp.seen.len(), 4);

    // Contact 5102: its email became an alias of the same lead; the website is kept as a
    // domain, the emptied persona is no attribute; BAD_TIMING recycled it.
    let (id, dana, dana_version) = lead(store, hubspot("5102")).await.expect("5102 is stored");
    assert_eq!(id, "hubspot:5102");
    let (by_email, _, _) = lead(store, email("dana.lee@globex.com")).await.unwrap();
    assert_eq!(by_email, id);
    let attr = |k: &str| dana.attributes.get(k).cloned();
    assert_eq!(attr("email"), text("dana.lee@globex.com"));
    assert_eq!(attr("company_domain"), text("globex.com"));
    assert_eq!(attr("custom.hs_persona"), None);
    assert_eq!(dana.stage, Stage::Recycled);
    assert_eq!(dana.scores.total, Points::ZERO);
    assert_eq!(dana.seen.len(), 4);

    // The privacy deletion names a contact that was never a lead here.
    assert!(!exists(store, hubspot("4800")).await);

    // HubSpot retries the delivery: new timestamp and signature, same body.
    let later = now() + TimeDelta::minutes(2);
    let retry = sign_hubspot_v3(fixture("hubspot-webhooks.json"), HUBSPOT_SECRET, later);
    let r = handler(store, &cfg.ingest, event(retry), later)
        .await
        .unwrap();
    let (status, _, body) = parts(&r);
    assert_eq!(status, 200, "{body}");
    assert_eq!(counts(&body), (&json!(0), &json!(8), &json!(2)), "{body}");
    let (_, again, version) = lead(store, hubspot("5102")).await.unwrap();
    assert_eq!(version, dana_version, "a redelivery writes nothing");
    assert_eq!((again.stage, again.seen), (Stage::Recycled, dana.seen));
    // 5101's version is not compared: the ingest handler runs a batch's merges before its
    // events, so the first delivery's merge found no lead 5101 yet and the retry's merge gives
    // 5101 the alias hubspot:5099 (a write). Its score and stage are unchanged.
    let (_, again, _) = lead(store, hubspot("5101")).await.unwrap();
    assert_eq!(again.seen, vp.seen);
    assert_eq!(
        (again.stage, again.scores.total),
        (Stage::Sql, Points::whole(20))
    );
}

#[tokio::test]
async fn a_v3_signed_hubspot_batch_is_scored_and_stored() {
    a_signed_hubspot_batch_is_scored_and_stored(&MemoryStore::new()).await;
}

#[tokio::test]
async fn a_v3_signed_hubspot_batch_is_stored_in_dynamodb_on_moto() {
    let moto = Moto::start();
    let store = DynamoStore::new(moto.dynamodb().await, "ingest-lambda-hubspot");
    store.create_table().await.unwrap();
    a_signed_hubspot_batch_is_scored_and_stored(&store).await;
}

/// A 401 with the JSON error body, for `v` handled at `at`.
async fn refused<S: LeadStore>(
    store: &S,
    cfg: &leadscore_ingest::Config,
    v: Value,
    at: DateTime<Utc>,
) -> String {
    let r = handler(store, &cfg.ingest, event(v), at).await.unwrap();
    let (status, ct, body) = parts(&r);
    assert_eq!((status, ct), (401, "application/json"), "{body}");
    assert_eq!(body["error"], json!("unauthorized"), "{body}");
    body["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_stale_or_tampered_hubspot_batch_is_a_401_and_stores_nothing() {
    let (cfg, store) = (sources_config(SENDGRID_TEST_KEY, &[]), MemoryStore::new());
    let v = fixture("hubspot-webhooks.json");

    // Correctly signed, but sent more than 5 minutes ago (or as far ahead: a skewed clock).
    for (sent, age) in [
        (now() - TimeDelta::seconds(301), 301),
        (now() + TimeDelta::seconds(301), -301),
    ] {
        let stale = sign_hubspot_v3(v.clone(), HUBSPOT_SECRET, sent);
        assert_eq!(
            refused(&store, &cfg, stale, now()).await,
            format!("timestamp is {age} s away from now (at most 300 s allowed)")
        );
    }
    // Just inside the window is fine: the boundary is 5 minutes, not less.
    let edge = sign_hubspot_v3(v.clone(), HUBSPOT_SECRET, now() - TimeDelta::seconds(299));
    let (store_edge, cfg_edge) = (MemoryStore::new(), sources_config(SENDGRID_TEST_KEY, &[]));
    let r = handler(&store_edge, &cfg_edge.ingest, event(edge), now())
        .await
        .unwrap();
    assert_eq!(parts(&r).0, 200);

    // One byte of the body changed after signing: the first event now names contact 5109.
    let signed = sign_hubspot_v3(v.clone(), HUBSPOT_SECRET, now());
    let tampered = tamper(signed, "\"objectId\": 5101", "\"objectId\": 5109");
    assert_eq!(
        refused(&store, &cfg, tampered, now()).await,
        "signature does not match"
    );
    // Signed with another app's client secret.
    let foreign = sign_hubspot_v3(v, "another-apps-secret", now());
    assert_eq!(
        refused(&store, &cfg, foreign, now()).await,
        "signature does not match"
    );

    for alias in [
        hubspot("5101"),
        hubspot("5102"),
        hubspot("5109"),
        email("dana.lee@globex.com"),
    ] {
        assert!(!exists(&store, alias.clone()).await, "{alias:?}");
    }
}

/// A contact-based workflow's "Send a webhook" action (all properties), signed with v2 over
/// the URL it calls: refused until v1/v2 are enabled, then the contact's attributes, fit,
/// company and sales status land on its lead.
#[tokio::test]
async fn a_v2_signed_hubspot_workflow_webhook_is_scored_when_v1_v2_are_enabled() {
    let v = fixture("hubspot-workflow.json");
    assert_eq!(v["body"].as_str(), Some(HUBSPOT_WORKFLOW));
    let signed = sign_hubspot_v2(v.clone(), HUBSPOT_SECRET);
    assert_eq!(
        v["headers"], signed["headers"],
        "the fixture's v2 signature"
    );

    let store = MemoryStore::new();
    let v3_only = sources_config(SENDGRID_TEST_KEY, &[]);
    assert_eq!(
        refused(&store, &v3_only, signed.clone(), now()).await,
        "signature version v2 is not accepted"
    );
    assert!(!exists(&store, hubspot("5101")).await);

    let cfg = sources_config(
        SENDGRID_TEST_KEY,
        &[("LEADSCORE_HUBSPOT_ACCEPT_V1_V2", "true")],
    );
    let r = handler(&store, &cfg.ingest, event(signed.clone()), now())
        .await
        .unwrap();
    let (status, ct, body) = parts(&r);
    assert_eq!((status, ct), (200, "application/json"), "{body}");
    // The identify and the hs_lead_status CONNECTED feedback; lifecyclestage MQL is reported.
    assert_eq!(counts(&body), (&json!(2), &json!(0), &json!(1)), "{body}");
    assert_eq!(ignored_indexes(&body), [0], "{body}");
    assert_eq!(
        body["ignored"][0]["reason"],
        json!("lifecyclestage `marketingqualifiedlead` is not a sales decision")
    );
    assert_eq!(body["transitions"][0]["to"], json!("sql"), "{body}");

    let (id, state, _) = lead(&store, hubspot("5101")).await.expect("stored");
    assert_eq!(id, "hubspot:5101");
    let (by_email, _, _) = lead(&store, email("priya.nair@globex.com")).await.unwrap();
    assert_eq!(by_email, id);
    let attr = |k: &str| state.attributes.get(k).cloned();
    assert_eq!(attr("job_title"), text("Director of Engineering"));
    assert_eq!(attr("company_domain"), text("globex.com"));
    assert_eq!(attr("company_size"), text("450"));
    assert_eq!(
        state.account.as_ref().map(|a| a.key.as_str()),
        Some("hubspot:company:901")
    );
    assert_eq!(state.scores.fit, Points::whole(10), "fit: director");
    assert_eq!(state.stage, Stage::Sql);

    // Even with v2 enabled, a body changed after signing is refused.
    let other = MemoryStore::new();
    let tampered = tamper(signed, "\"450\"", "\"950\"");
    assert_eq!(
        refused(&other, &cfg, tampered, now()).await,
        "signature does not match"
    );
    assert!(!exists(&other, hubspot("5101")).await);
}

// ---------------------------------------------------------------------------------------------
// SendGrid

/// The sources crate's SendGrid fixture (every event type, CRLF-terminated), posted 30 s
/// after SendGrid signed it.
#[tokio::test]
async fn a_signed_sendgrid_batch_is_scored() {
    let (cfg, store) = (sources_config(SENDGRID_TEST_KEY, &[]), MemoryStore::new());
    let v = fixture("sendgrid-events.json");
    assert_eq!(v["body"].as_str(), Some(SENDGRID_BATCH));
    assert!(SENDGRID_BATCH.ends_with("]\r\n"));
    assert_eq!(
        v["headers"]["x-twilio-email-event-webhook-timestamp"],
        json!((now() - TimeDelta::seconds(30)).timestamp().to_string())
    );

    let r = handler(&store, &cfg.ingest, event(v.clone()), now())
        .await
        .unwrap();
    let (status, ct, body) = parts(&r);
    assert_eq!((status, ct), (200, "application/json"), "{body}");
    // Applied: ana's open and click, bo's machine open, cy's group unsubscribe, dee's spam
    // report, ed's bounce. Ignored: processed, delivered, a blocked bounce, deferred.
    assert_eq!(counts(&body), (&json!(6), &json!(0), &json!(5)), "{body}");
    assert_eq!(ignored_indexes(&body), [0, 1, 8, 9], "{body}");

    // Ana (the open's mixed-case address is the same lead): open 2 + click 5.
    let (id, ana, version) = lead(&store, email("ana@acme.io")).await.expect("ana");
    assert_eq!(id, "email:ana@acme.io");
    assert_eq!(ana.scores.activity, Points::whole(7));
    assert_eq!(ana.scores.total, Points::whole(7));
    assert!(
        ana.seen.contains("sendgrid:FOTFFO0ecsBE-zxFXfs6WA=="),
        "the open"
    );
    assert!(
        ana.seen.contains("sendgrid:AQeNkE_4QPqQlcRfr3SNDw=="),
        "the click"
    );
    assert_eq!(ana.seen.len(), 2);
    // A machine open (Gmail's image proxy) is recorded but not scored; the other kinds
    // have no rule in this model.
    assert_eq!(score(&store, "bo@gmail.com").await, Some(Points::ZERO));
    for other in ["cy@initech.com", "dee@umbrella.com", "ed@nowhere-corp.com"] {
        assert_eq!(score(&store, other).await, Some(Points::ZERO), "{other}");
    }
    assert!(
        !exists(&store, email("fay@bigbank.com")).await,
        "a blocked bounce creates no lead"
    );

    // SendGrid retries with the same bytes and signature: duplicates, nothing written.
    let r = handler(&store, &cfg.ingest, event(v), now() + TimeDelta::hours(1))
        .await
        .unwrap();
    let (status, _, body) = parts(&r);
    assert_eq!(status, 200, "{body}");
    assert_eq!(counts(&body), (&json!(0), &json!(6), &json!(5)), "{body}");
    let (_, _, after) = lead(&store, email("ana@acme.io")).await.unwrap();
    assert_eq!(after, version);
}

#[tokio::test]
async fn a_one_byte_change_to_a_sendgrid_batch_is_a_401_and_stores_nothing() {
    let (cfg, store) = (sources_config(SENDGRID_TEST_KEY, &[]), MemoryStore::new());
    let v = fixture("sendgrid-events.json");
    for (what, changed) in [
        ("the click's url", tamper(v.clone(), "/pricing", "/Pricing")),
        // JSON that means the same but is not the bytes SendGrid signed.
        ("the trailing CRLF", tamper(v.clone(), "]\r\n", "]\n\n")),
    ] {
        assert_eq!(
            refused(&store, &cfg, changed, now()).await,
            "signature does not match",
            "{what}"
        );
    }
    // The configured key is another one (here, the published vector's).
    let vector_key = sources_config(SENDGRID_VECTOR_KEY, &[]);
    assert_eq!(
        refused(&store, &vector_key, v, now()).await,
        "signature does not match"
    );
    for address in ["ana@acme.io", "bo@gmail.com", "cy@initech.com"] {
        assert!(!exists(&store, email(address)).await, "{address}");
    }
}

/// SendGrid's published vector (shared/reference/webhooks.md) through the Lambda: its
/// signature verifies with its key, so the request gets past the 401 to the parser, which
/// refuses the body, a single test object rather than an array of events, with a 400.
/// A one-byte change to that body, and the same request 25 hours later, are 401s.
#[tokio::test]
async fn sendgrids_published_vector_verifies_and_a_one_byte_change_does_not() {
    let (cfg, store) = (sources_config(SENDGRID_VECTOR_KEY, &[]), MemoryStore::new());
    let v = fixture("sendgrid-vector.json");
    assert_eq!(
        v["body"],
        json!(r#"{"category":"example_payload","event":"test_event","message_id":"message_id"}"#)
    );
    let sent = DateTime::from_timestamp(SENDGRID_VECTOR_TIMESTAMP, 0).unwrap();
    let at = sent + TimeDelta::seconds(60);

    let r = handler(&store, &cfg.ingest, event(v.clone()), at)
        .await
        .unwrap();
    let (status, ct, body) = parts(&r);
    assert_eq!((status, ct), (400, "application/json"), "{body}");
    assert_eq!(
        (&body["error"], &body["field"]),
        (&json!("invalid_field"), &json!("$")),
        "{body}"
    );
    assert!(
        body["problem"]
            .as_str()
            .unwrap()
            .contains("expected a JSON array of SendGrid events"),
        "{body}"
    );

    let changed = tamper(v.clone(), "test_event", "test_Event");
    assert_eq!(
        refused(&store, &cfg, changed, at).await,
        "signature does not match"
    );

    // The default window is 25 hours (SendGrid retries for 24).
    let late = sent + TimeDelta::hours(25) + TimeDelta::seconds(1);
    assert_eq!(
        refused(&store, &cfg, v, late).await,
        "timestamp is 90001 s away from now (at most 90000 s allowed)"
    );
}
