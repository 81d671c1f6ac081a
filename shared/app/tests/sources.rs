//! The ingest handler's SendGrid, Marketo and HubSpot workflow routes end to end:
//! ECDSA-signed SendGrid batches (signed here with a deterministic P-256 key), Marketo's
//! shared-token header, both Marketo body encodings, v2-signed HubSpot workflow webhooks, and
//! the refusals, down to the scores and attributes stored.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{TimeDelta, TimeZone, Utc};
use leadscore_app::config::{ConfigError, IngestConfig};
use leadscore_app::http::{Request, Response};
use leadscore_app::ingest::handle;
use leadscore_domain::{AttrValue, Points, Stage};
use leadscore_store::{Alias, LeadStore, MemoryStore};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::EncodePublicKey;
use serde_json::Value;

mod common;
use common::{error_of, lead, now, request, score};
use std::collections::HashMap;

const MARKETO_TOKEN: &str = "marketo-shared-token";

/// Activity rules for the kinds both sources produce, and one fit rule so that Marketo's lead
/// attributes visibly reach the score. The floor is lowered so an unsubscribe shows its points.
const MODEL: &str = r#"
[model]
name = "sources-test"
[thresholds]
mql = 100
mql_exit = 50
floor = -100
[[activity]]
id = "email-open"
kind = "email_open"
points = 1
[[activity]]
id = "email-click"
kind = "email_click"
points = 4
[[activity]]
id = "email-unsubscribe"
kind = "email_unsubscribe"
points = -25
[[activity]]
id = "page-view"
kind = "page_view"
points = 1
[[activity]]
id = "form-submit"
kind = "form_submit"
points = 5
[[fit]]
id = "title-leader"
attribute = "job_title"
contains = ["director", "head of"]
points = 10
"#;

/// The real-format payloads of the sources crate's parser tests.
const SENDGRID_FIXTURE: &[u8] = include_bytes!("../../sources/tests/fixtures/sendgrid.json");
const MARKETO_JSON: &[u8] = include_bytes!("../../sources/tests/fixtures/marketo.json");
const MARKETO_FORM: &[u8] = include_bytes!("../../sources/tests/fixtures/marketo.form");
/// A contact-based workflow's "Send a webhook" body with all properties (the classic contact
/// record; the parser tests cite where the shape comes from).
const HUBSPOT_WORKFLOW: &[u8] =
    include_bytes!("../../sources/tests/fixtures/hubspot-workflow-contact.json");

const HUBSPOT_SECRET: &str = "hubspot-client-secret";
const BASE: &str = "https://hooks.example.com";

fn sendgrid_key() -> SigningKey {
    SigningKey::from_slice(&[7u8; 32]).expect("a valid P-256 scalar")
}

/// The verification key as SendGrid shows it: base64 of the SubjectPublicKeyInfo DER.
fn public_key_b64(key: &SigningKey) -> String {
    let der = p256::PublicKey::from(VerifyingKey::from(key))
        .to_public_key_der()
        .expect("encodable public key");
    BASE64.encode(der.as_bytes())
}

fn config() -> IngestConfig {
    config_with(&[]).expect("valid config")
}

/// The test configuration with `extra` variables added (or replaced).
fn config_with(extra: &[(&str, &str)]) -> Result<IngestConfig, ConfigError> {
    let sendgrid_public_key = public_key_b64(&sendgrid_key());
    let mut vars: HashMap<&str, &str> = HashMap::from([
        (
            "LEADSCORE_SENDGRID_PUBLIC_KEY",
            sendgrid_public_key.as_str(),
        ),
        ("LEADSCORE_SENDGRID_MAX_AGE_SECONDS", "300"),
        ("LEADSCORE_MARKETO_TOKEN", MARKETO_TOKEN),
    ]);
    vars.extend(extra.iter().copied());
    IngestConfig::from_lookup(|k| vars.get(k).map(|v| v.to_string()), MODEL, "test.toml")
}

/// A SendGrid delivery: `key` signs `timestamp + body` (ECDSA P-256, SHA-256), the signature
/// travels as base64 DER.
fn sendgrid_request(key: &SigningKey, timestamp: i64, body: &[u8]) -> Request {
    let ts = timestamp.to_string();
    let mut message = ts.as_bytes().to_vec();
    message.extend_from_slice(body);
    let signature: Signature = key.sign(&message);
    let signature = BASE64.encode(signature.to_der().as_bytes());
    request(
        "/webhooks/sendgrid",
        &[
            ("Content-Type", "application/json"),
            ("X-Twilio-Email-Event-Webhook-Signature", &signature),
            ("X-Twilio-Email-Event-Webhook-Timestamp", &ts),
        ],
        body,
    )
}

/// A HubSpot workflow delivery signed with v2, as the "Send a webhook" action signs:
/// hex(SHA-256(client secret + method + the URL as called + body)), no timestamp.
fn hubspot_v2_request(body: &[u8]) -> Request {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(HUBSPOT_SECRET.as_bytes());
    h.update(b"POST");
    h.update(format!("{BASE}/webhooks/hubspot").as_bytes());
    h.update(body);
    let signature: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    request(
        "/webhooks/hubspot",
        &[
            ("Content-Type", "application/json"),
            ("X-HubSpot-Signature", &signature),
            ("X-HubSpot-Signature-Version", "v2"),
        ],
        body,
    )
}

/// The HubSpot variables, with v1/v2 signatures accepted or not.
fn hubspot_config(accept_v1_v2: bool) -> IngestConfig {
    let mut vars = vec![
        ("LEADSCORE_HUBSPOT_CLIENT_SECRET", HUBSPOT_SECRET),
        ("LEADSCORE_PUBLIC_BASE_URL", BASE),
    ];
    if accept_v1_v2 {
        vars.push(("LEADSCORE_HUBSPOT_ACCEPT_V1_V2", "true"));
    }
    config_with(&vars).expect("valid config")
}

fn marketo_request(content_type: &str, token: Option<&str>, body: &[u8]) -> Request {
    let mut headers = vec![("Content-Type", content_type)];
    if let Some(t) = token {
        headers.push(("X-Leadscore-Token", t));
    }
    request("/webhooks/marketo", &headers, body)
}

async fn exists<S: LeadStore>(store: &S, alias: Alias) -> bool {
    store.resolve(&[alias]).await.unwrap()[0].is_some()
}

fn message_of(r: &Response) -> &str {
    r.body["message"].as_str().unwrap_or("")
}

/// `(accepted, duplicates, leads)` of a 200 summary.
fn counts(r: &Response) -> (Option<u64>, Option<u64>, Option<u64>) {
    (
        r.body["accepted"].as_u64(),
        r.body["duplicates"].as_u64(),
        r.body["leads"].as_u64(),
    )
}

fn ignored_indexes(r: &Response) -> Vec<u64> {
    r.body["ignored"]
        .as_array()
        .expect("ignored is a list")
        .iter()
        .map(|i| i["index"].as_u64().expect("index"))
        .collect()
}

fn text(s: &str) -> Option<AttrValue> {
    Some(AttrValue::Text(s.into()))
}

/// One recipient's events as SendGrid posts them: a delivery receipt, a human open, an Apple
/// Mail Privacy Protection open, a click and an unsubscribe; the body ends in CRLF.
fn sendgrid_batch() -> Vec<u8> {
    let mut body = concat!(
        r#"[{"email":"ana@acme.io","timestamp":1772445605,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"delivered","category":"q1-launch","sg_event_id":"ZGVsaXZlcmVkLWFuYQ==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","response":"250 OK"},"#,
        r#"{"email":"Ana@Acme.io","timestamp":1772445900,"event":"open","sg_machine_open":false,"category":["q1-launch","newsletter"],"sg_event_id":"b3Blbi1odW1hbi1hbmE=","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","useragent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)","ip":"203.0.113.9"},"#,
        r#"{"email":"ana@acme.io","timestamp":1772445660,"event":"open","sg_machine_open":true,"category":"q1-launch","sg_event_id":"b3Blbi1tYWNoaW5lLWFuYQ==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","useragent":"Mozilla/5.0","ip":"17.58.0.1"},"#,
        r#"{"email":"ana@acme.io","timestamp":1772446200,"event":"click","category":"q1-launch","sg_event_id":"Y2xpY2stYW5h","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","url":"https://acme-saas.example/pricing?utm_source=email","url_offset":{"index":0,"type":"html"},"useragent":"Mozilla/5.0","ip":"203.0.113.9"},"#,
        r#"{"email":"ana@acme.io","timestamp":1772446800,"event":"unsubscribe","category":"q1-launch","sg_event_id":"dW5zdWItYW5h","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","useragent":"Mozilla/5.0","ip":"203.0.113.9"}]"#,
    )
    .as_bytes()
    .to_vec();
    body.extend_from_slice(b"\r\n");
    body
}

#[tokio::test]
async fn a_signed_sendgrid_batch_is_scored_and_its_redelivery_changes_nothing() {
    let (cfg, store) = (config(), MemoryStore::new());
    let body = sendgrid_batch();
    let req = sendgrid_request(&sendgrid_key(), now().timestamp() - 30, &body);
    let r = handle(&cfg, &store, &req, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Both opens, the click and the unsubscribe are applied; the delivery receipt is not.
    assert_eq!(counts(&r), (Some(4), Some(0), Some(1)), "{}", r.body);
    assert_eq!(ignored_indexes(&r), [0], "{}", r.body);
    assert!(
        r.body["ignored"][0]["reason"]
            .as_str()
            .unwrap_or("")
            .starts_with("delivered"),
        "{}",
        r.body
    );
    assert_eq!(r.body["transitions"], Value::Array(vec![]));
    // Human open 1 + machine open 0 (not scored by default) + click 4 + unsubscribe -25.
    assert_eq!(score(&store, "ana@acme.io").await, Points::whole(-20));
    let (id, state, version) = lead(&store, Alias::new("email", "ana@acme.io")).await;
    assert_eq!(
        id, "email:ana@acme.io",
        "the mixed-case email is the same lead"
    );
    assert!(
        state.seen.contains("sendgrid:b3Blbi1tYWNoaW5lLWFuYQ=="),
        "the machine open is recorded as seen"
    );
    assert_eq!(state.seen.len(), 4);

    // SendGrid retries a delivery it thinks failed: same bytes, same signature.
    let r = handle(&cfg, &store, &req, now() + TimeDelta::seconds(60)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(counts(&r), (Some(0), Some(4), Some(1)), "{}", r.body);
    assert_eq!(ignored_indexes(&r), [0]);
    assert_eq!(score(&store, "ana@acme.io").await, Points::whole(-20));
    let (_, _, after) = lead(&store, Alias::new("email", "ana@acme.io")).await;
    assert_eq!(version, after, "a redelivery writes nothing");
}

/// The sources crate's real-format SendGrid fixture (every event type, CRLF-terminated),
/// signed and posted as is.
#[tokio::test]
async fn the_real_format_sendgrid_fixture_is_routed_per_recipient() {
    let (cfg, store) = (config(), MemoryStore::new());
    assert!(SENDGRID_FIXTURE.ends_with(b"]\r\n"));
    let req = sendgrid_request(&sendgrid_key(), now().timestamp(), SENDGRID_FIXTURE);
    let r = handle(&cfg, &store, &req, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Applied: ana's open and click, bo's machine open, cy's group unsubscribe, dee's spam
    // report, ed's bounce. Ignored: processed, delivered, a blocked bounce, deferred.
    assert_eq!(counts(&r), (Some(6), Some(0), Some(5)), "{}", r.body);
    assert_eq!(ignored_indexes(&r), [0, 1, 8, 9], "{}", r.body);
    assert_eq!(score(&store, "ana@acme.io").await, Points::whole(5));
    assert_eq!(score(&store, "bo@gmail.com").await, Points::ZERO);
    assert_eq!(score(&store, "cy@initech.com").await, Points::whole(-25));
    assert_eq!(score(&store, "dee@umbrella.com").await, Points::ZERO);
    assert_eq!(score(&store, "ed@nowhere-corp.com").await, Points::ZERO);
    assert!(
        !exists(&store, Alias::new("email", "fay@bigbank.com")).await,
        "a blocked bounce creates no lead"
    );
}

#[tokio::test]
async fn sendgrid_refuses_tampered_stale_and_foreign_signatures() {
    let (cfg, store) = (config(), MemoryStore::new());
    let body = sendgrid_batch();
    let key = sendgrid_key();
    let ts = now().timestamp() - 30;

    // The body changed after signing: the click now points elsewhere.
    let mut tampered = sendgrid_request(&key, ts, &body);
    let at = tampered
        .body
        .windows(7)
        .position(|w| w == b"pricing")
        .expect("the click url");
    tampered.body[at..at + 7].copy_from_slice(b"careers");
    // Re-serialized JSON (the trailing CRLF lost) is not what was signed either.
    let mut trimmed = sendgrid_request(&key, ts, &body);
    trimmed.body.truncate(trimmed.body.len() - 2);
    // A timestamp header changed after signing.
    let mut retimed = sendgrid_request(&key, ts, &body);
    retimed.headers.insert(
        "x-twilio-email-event-webhook-timestamp".into(),
        (ts + 1).to_string(),
    );
    // Validly signed, by a key other than the configured one.
    let other = SigningKey::from_slice(&[8u8; 32]).unwrap();
    let foreign = sendgrid_request(&other, ts, &body);
    for (name, req) in [
        ("tampered body", tampered),
        ("trailing CRLF dropped", trimmed),
        ("timestamp changed", retimed),
        ("other key", foreign),
    ] {
        let r = handle(&cfg, &store, &req, now()).await;
        assert_eq!((r.status, error_of(&r)), (401, "unauthorized"), "{name}");
        assert_eq!(message_of(&r), "signature does not match", "{name}");
    }

    // Correctly signed, but older or newer than the 300 s window.
    for (name, sent, age) in [
        ("stale", now().timestamp() - 301, 301),
        ("from the future", now().timestamp() + 301, -301),
    ] {
        let r = handle(&cfg, &store, &sendgrid_request(&key, sent, &body), now()).await;
        assert_eq!((r.status, error_of(&r)), (401, "unauthorized"), "{name}");
        assert_eq!(
            message_of(&r),
            format!("timestamp is {age} s away from now (at most 300 s allowed)"),
            "{name}"
        );
    }

    // No signature headers at all.
    let r = handle(
        &cfg,
        &store,
        &request(
            "/webhooks/sendgrid",
            &[("content-type", "application/json")],
            &body,
        ),
        now(),
    )
    .await;
    assert_eq!((r.status, error_of(&r)), (401, "unauthorized"));
    assert_eq!(
        message_of(&r),
        "missing header X-Twilio-Email-Event-Webhook-Signature"
    );

    assert!(
        !exists(&store, Alias::new("email", "ana@acme.io")).await,
        "nothing refused was stored"
    );

    // The window's edge is inclusive: exactly 300 s old still verifies.
    let r = handle(
        &cfg,
        &store,
        &sendgrid_request(&key, now().timestamp() - 300, &body),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(score(&store, "ana@acme.io").await, Points::whole(-20));
}

/// Unset, the SendGrid age limit is 25 hours: SendGrid retries for up to 24 hours after the
/// event, so a day-old signature must still verify; `0` turns the limit off.
#[tokio::test]
async fn sendgrid_accepts_day_old_retries_by_default() {
    let body = sendgrid_batch();
    let key = sendgrid_key();
    let unset = config_with(&[("LEADSCORE_SENDGRID_MAX_AGE_SECONDS", "")]).unwrap();
    assert_eq!(
        unset.sendgrid_max_age,
        Some(std::time::Duration::from_secs(25 * 3600))
    );
    let store = MemoryStore::new();
    // A retry 24 hours after the first attempt, carrying that attempt's signature.
    let day_old = sendgrid_request(&key, now().timestamp() - 24 * 3600, &body);
    let r = handle(&unset, &store, &day_old, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(counts(&r), (Some(4), Some(0), Some(1)), "{}", r.body);
    // Past 25 hours it is refused, and so is a timestamp as far in the future.
    for (sent, age) in [(-90_001, 90_001), (90_001, -90_001)] {
        let req = sendgrid_request(&key, now().timestamp() + sent, &body);
        let r = handle(&unset, &store, &req, now()).await;
        assert_eq!((r.status, error_of(&r)), (401, "unauthorized"), "{sent}");
        assert_eq!(
            message_of(&r),
            format!("timestamp is {age} s away from now (at most 90000 s allowed)")
        );
    }
    // `0`: no limit, a week-old signature still verifies (and changes nothing here).
    let off = config_with(&[("LEADSCORE_SENDGRID_MAX_AGE_SECONDS", "0")]).unwrap();
    assert_eq!(off.sendgrid_max_age, None);
    let week_old = sendgrid_request(&key, now().timestamp() - 7 * 24 * 3600, &body);
    let r = handle(&off, &store, &week_old, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(counts(&r), (Some(0), Some(4), Some(1)), "{}", r.body);
}

#[tokio::test]
async fn a_marketo_json_template_payload_scores_and_identifies_the_lead() {
    let (cfg, store) = (config(), MemoryStore::new());
    let req = marketo_request("application/json", Some(MARKETO_TOKEN), MARKETO_JSON);
    let r = handle(&cfg, &store, &req, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The page view, and the identify event carrying the lead tokens.
    assert_eq!(counts(&r), (Some(2), Some(0), Some(1)), "{}", r.body);
    assert_eq!(ignored_indexes(&r), Vec::<u64>::new());
    // Page view 1 + fit "Director of IT" 10.
    assert_eq!(
        score(&store, "gus.ortiz@hooli.com").await,
        Points::whole(11)
    );
    let (id, state, version) = lead(&store, Alias::new("marketo", "318224")).await;
    assert_eq!(
        id, "marketo:318224",
        "the Marketo lead id and the email are one lead"
    );
    assert_eq!(state.scores.fit, Points::whole(10));
    assert_eq!(state.scores.activity, Points::whole(1));
    let attr = |k: &str| state.attributes.get(k).cloned();
    assert_eq!(attr("email"), text("gus.ortiz@hooli.com"));
    assert_eq!(attr("job_title"), text("Director of IT"));
    assert_eq!(attr("first_name"), text("Gus"));
    assert_eq!(attr("last_name"), text("Ortiz"));
    assert_eq!(attr("company"), text("Hooli"));
    assert_eq!(attr("company_domain"), text("hooli.com"));
    assert_eq!(attr("company_size"), text("1200"));
    assert_eq!(
        attr("annual_revenue"),
        Some(AttrValue::Number(250_000_000.0))
    );
    assert_eq!(attr("country"), text("United States"));
    // Unfilled tokens and blanks are absent, and unknown fields are not attributes.
    for absent in ["industry", "lead_source", "phone", "campaign"] {
        assert_eq!(attr(absent), None, "{absent}");
    }
    assert!(state.seen.contains("marketo:visit_webpage:88451201"));
    assert!(state
        .seen
        .contains("marketo:visit_webpage:88451201:identify"));

    // Marketo retries: duplicates only, nothing written.
    let r = handle(&cfg, &store, &req, now()).await;
    assert_eq!(counts(&r), (Some(0), Some(2), Some(1)), "{}", r.body);
    assert_eq!(
        score(&store, "gus.ortiz@hooli.com").await,
        Points::whole(11)
    );
    let (_, _, after) = lead(&store, Alias::new("marketo", "318224")).await;
    assert_eq!(version, after);
}

/// Marketo labels a JSON template body form-encoded unless the admin adds a Content-Type
/// header: the body is still read as JSON.
#[tokio::test]
async fn a_marketo_json_body_labelled_form_encoded_is_read_as_json() {
    let (cfg, store) = (config(), MemoryStore::new());
    let req = marketo_request(
        "application/x-www-form-urlencoded; charset=UTF-8",
        Some(MARKETO_TOKEN),
        MARKETO_JSON,
    );
    let r = handle(&cfg, &store, &req, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(counts(&r), (Some(2), Some(0), Some(1)), "{}", r.body);
    assert_eq!(
        score(&store, "gus.ortiz@hooli.com").await,
        Points::whole(11)
    );
}

#[tokio::test]
async fn a_marketo_form_encoded_payload_scores_and_identifies_the_lead() {
    let (cfg, store) = (config(), MemoryStore::new());
    let req = marketo_request(
        "application/x-www-form-urlencoded",
        Some(MARKETO_TOKEN),
        MARKETO_FORM,
    );
    let r = handle(&cfg, &store, &req, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(counts(&r), (Some(2), Some(0), Some(1)), "{}", r.body);
    // Form submit 5 + fit "Head of Data" 10.
    assert_eq!(score(&store, "ines@initrode.com").await, Points::whole(15));
    let (id, state, _) = lead(&store, Alias::new("marketo", "318225")).await;
    assert_eq!(id, "marketo:318225");
    let attr = |k: &str| state.attributes.get(k).cloned();
    assert_eq!(attr("email"), text("ines@initrode.com"));
    assert_eq!(attr("job_title"), text("Head of Data"));
    assert_eq!(attr("first_name"), text("Inès"));
    assert_eq!(attr("custom.preferred_language"), text("fr"));
    assert_eq!(attr("company"), None, "an unfilled token is absent");
    assert!(state.seen.contains("marketo:fill_out_form:88451302"));
    // 10:20 at +01:00.
    assert_eq!(
        state.history[0].at,
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 20, 0).unwrap()
    );
}

/// `{{system.dateTime}}` prints the instance's wall clock: with LEADSCORE_MARKETO_TIMEZONE the
/// fixture's `2026-03-02 10:05:00` is 10:05 in Chicago (UTC-6), and a written offset stays.
#[tokio::test]
async fn marketo_times_without_an_offset_use_the_configured_time_zone() {
    let store = MemoryStore::new();
    let cfg = config_with(&[("LEADSCORE_MARKETO_TIMEZONE", " America/Chicago ")]).unwrap();
    let req = marketo_request("application/json", Some(MARKETO_TOKEN), MARKETO_JSON);
    let r = handle(&cfg, &store, &req, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, state, _) = lead(&store, Alias::new("marketo", "318224")).await;
    assert_eq!(
        state.history[0].at,
        Utc.with_ymd_and_hms(2026, 3, 2, 16, 5, 0).unwrap()
    );
    // The form fixture's `10:20:00+01:00` has its own offset.
    let req = marketo_request(
        "application/x-www-form-urlencoded",
        Some(MARKETO_TOKEN),
        MARKETO_FORM,
    );
    let r = handle(&cfg, &store, &req, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, state, _) = lead(&store, Alias::new("marketo", "318225")).await;
    assert_eq!(
        state.history[0].at,
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 20, 0).unwrap()
    );
    // Unset, the same wall clock is UTC.
    let store = MemoryStore::new();
    let req = marketo_request("application/json", Some(MARKETO_TOKEN), MARKETO_JSON);
    let r = handle(&config(), &store, &req, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, state, _) = lead(&store, Alias::new("marketo", "318224")).await;
    assert_eq!(
        state.history[0].at,
        Utc.with_ymd_and_hms(2026, 3, 2, 10, 5, 0).unwrap()
    );
}

#[test]
fn an_unknown_marketo_time_zone_is_a_config_error_naming_the_variable() {
    for bad in ["Chicago", "america/chicago", "CST6CDT7", "+02:00"] {
        match config_with(&[("LEADSCORE_MARKETO_TIMEZONE", bad)]) {
            Err(e @ ConfigError::Invalid { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with("LEADSCORE_MARKETO_TIMEZONE: `"),
                    "{bad}: {msg}"
                );
                assert!(msg.contains("not an IANA time zone name"), "{bad}: {msg}");
            }
            Err(other) => panic!("{bad}: {other}"),
            Ok(_) => panic!("{bad} was accepted"),
        }
    }
    // Empty counts as unset, like every variable.
    assert!(config_with(&[("LEADSCORE_MARKETO_TIMEZONE", "  ")]).is_ok());
    assert!(config_with(&[("LEADSCORE_MARKETO_TIMEZONE", "UTC")]).is_ok());
}

#[tokio::test]
async fn marketo_refuses_a_wrong_or_missing_token_and_other_content_types() {
    let (cfg, store) = (config(), MemoryStore::new());
    let r = handle(
        &cfg,
        &store,
        &marketo_request("application/json", Some("not-the-token"), MARKETO_JSON),
        now(),
    )
    .await;
    assert_eq!(
        (r.status, error_of(&r)),
        (401, "unauthorized"),
        "{}",
        r.body
    );
    assert_eq!(message_of(&r), "signature does not match");

    let r = handle(
        &cfg,
        &store,
        &marketo_request("application/json", None, MARKETO_JSON),
        now(),
    )
    .await;
    assert_eq!(
        (r.status, error_of(&r)),
        (401, "unauthorized"),
        "{}",
        r.body
    );
    assert_eq!(message_of(&r), "missing header X-Leadscore-Token");

    // The right token does not make XML acceptable.
    let xml = b"<lead><id>318224</id><activity>visit_webpage</activity></lead>";
    let r = handle(
        &cfg,
        &store,
        &marketo_request("text/xml", Some(MARKETO_TOKEN), xml),
        now(),
    )
    .await;
    assert_eq!(
        (r.status, error_of(&r)),
        (415, "unsupported_media_type"),
        "{}",
        r.body
    );
    assert_eq!(
        message_of(&r),
        "content type `text/xml` is not accepted here \
         (send application/json or application/x-www-form-urlencoded)"
    );

    for alias in [
        Alias::new("marketo", "318224"),
        Alias::new("email", "gus.ortiz@hooli.com"),
    ] {
        assert!(!exists(&store, alias).await, "nothing refused was stored");
    }
}

/// Marketo encodes a webhook as JSON or Form/Url and nothing shows it labelling one
/// `text/plain`: such a request is refused with 415, before its token or body is looked at,
/// JSON-looking body or not, and the parser agrees.
#[tokio::test]
async fn marketo_refuses_text_plain_like_any_other_type() {
    let (cfg, store) = (config(), MemoryStore::new());
    for (content_type, body) in [
        ("text/plain", MARKETO_JSON),
        ("text/plain; charset=UTF-8", MARKETO_JSON),
        ("text/plain", MARKETO_FORM),
    ] {
        let r = handle(
            &cfg,
            &store,
            &marketo_request(content_type, Some(MARKETO_TOKEN), body),
            now(),
        )
        .await;
        assert_eq!(
            (r.status, error_of(&r)),
            (415, "unsupported_media_type"),
            "{content_type}: {}",
            r.body
        );
        assert_eq!(
            message_of(&r),
            "content type `text/plain` is not accepted here \
             (send application/json or application/x-www-form-urlencoded)"
        );
        assert!(leadscore_sources::marketo::parse(body, content_type).is_err());
    }
    assert!(!exists(&store, Alias::new("marketo", "318224")).await);
    assert!(!exists(&store, Alias::new("marketo", "318225")).await);
}

/// A SendGrid recipient and a Marketo lead with the same email address are one lead, in
/// either order of arrival.
#[tokio::test]
async fn sendgrid_and_marketo_meet_on_the_email_address() {
    let click = || {
        let mut body = br#"[{"email":"gus.ortiz@hooli.com","timestamp":1772445000,"event":"click","sg_event_id":"c-1","sg_message_id":"abc.def","url":"https://acme-saas.example/docs"}]"#.to_vec();
        body.extend_from_slice(b"\r\n");
        sendgrid_request(&sendgrid_key(), now().timestamp(), &body)
    };
    let marketo = marketo_request("application/json", Some(MARKETO_TOKEN), MARKETO_JSON);
    for sendgrid_first in [true, false] {
        let (cfg, store) = (config(), MemoryStore::new());
        let order = if sendgrid_first {
            [click(), marketo.clone()]
        } else {
            [marketo.clone(), click()]
        };
        for req in &order {
            let r = handle(&cfg, &store, req, now()).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        // Click 4 + page view 1 + fit 10.
        assert_eq!(
            score(&store, "gus.ortiz@hooli.com").await,
            Points::whole(15),
            "sendgrid first: {sendgrid_first}"
        );
        let (by_email, _, _) = lead(&store, Alias::new("email", "gus.ortiz@hooli.com")).await;
        let (by_marketo, _, _) = lead(&store, Alias::new("marketo", "318224")).await;
        assert_eq!(by_email, by_marketo, "sendgrid first: {sendgrid_first}");
    }
}

/// A contact-based workflow's webhook (all properties), signed with v2: the contact's fit
/// attributes, account and sales status land on its lead, and HubSpot's retries, which
/// resend the same body for up to three days, are duplicates that write nothing.
#[tokio::test]
async fn a_v2_signed_hubspot_workflow_webhook_scores_fit_and_its_retries_are_duplicates() {
    let (cfg, store) = (hubspot_config(true), MemoryStore::new());
    let req = hubspot_v2_request(HUBSPOT_WORKFLOW);
    let r = handle(&cfg, &store, &req, now()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The identify and the hs_lead_status CONNECTED feedback; lifecyclestage MQL is reported.
    assert_eq!(counts(&r), (Some(2), Some(0), Some(1)), "{}", r.body);
    assert_eq!(ignored_indexes(&r), [0], "{}", r.body);
    assert_eq!(
        r.body["ignored"][0]["reason"],
        "lifecyclestage `marketingqualifiedlead` is not a sales decision"
    );
    // Fit "Director of Engineering" 10, and the contact's email resolves to the same lead.
    assert_eq!(
        score(&store, "priya.nair@globex.com").await,
        Points::whole(10)
    );
    let (id, state, version) = lead(&store, Alias::new("hubspot", "5101")).await;
    assert_eq!(id, "hubspot:5101");
    assert_eq!(state.scores.fit, Points::whole(10));
    let attr = |k: &str| state.attributes.get(k).cloned();
    assert_eq!(attr("email"), text("priya.nair@globex.com"));
    assert_eq!(attr("job_title"), text("Director of Engineering"));
    assert_eq!(attr("company_domain"), text("globex.com"));
    assert_eq!(attr("company_size"), text("450"));
    assert_eq!(attr("annual_revenue"), text("85000000"));
    assert_eq!(attr("lead_source"), text("ORGANIC_SEARCH"));
    assert_eq!(attr("hs_object_id"), None);
    assert_eq!(
        state.account.as_ref().map(|a| a.key.as_str()),
        Some("hubspot:company:901")
    );
    assert_eq!(state.seen.len(), 2);
    // hs_lead_status CONNECTED: sales is working the lead.
    assert_eq!(state.stage, Stage::Sql, "{}", r.body);
    assert_eq!(r.body["transitions"][0]["to"], "sql", "{}", r.body);

    // HubSpot retries the same delivery (same bytes, same signature) hours and days later.
    for later in [TimeDelta::hours(1), TimeDelta::days(3)] {
        let r = handle(&cfg, &store, &req, now() + later).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(counts(&r), (Some(0), Some(2), Some(1)), "{}", r.body);
        let (_, again, after) = lead(&store, Alias::new("hubspot", "5101")).await;
        assert_eq!(after, version, "a redelivery writes nothing");
        assert_eq!(again.scores, state.scores);
    }
}

/// Workflow webhooks are signed with v2 only: refused (401) until v1/v2 are enabled, and a
/// body that does not match its signature is refused even then.
#[tokio::test]
async fn a_v2_signed_hubspot_request_is_refused_unless_v1_v2_are_enabled() {
    let store = MemoryStore::new();
    let req = hubspot_v2_request(HUBSPOT_WORKFLOW);
    let r = handle(&hubspot_config(false), &store, &req, now()).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(error_of(&r), "unauthorized");
    assert_eq!(message_of(&r), "signature version v2 is not accepted");
    assert!(!exists(&store, Alias::new("hubspot", "5101")).await);

    let cfg = hubspot_config(true);
    let mut tampered = req.clone();
    if let Some(at) = tampered.body.iter().position(|&b| b == b'4') {
        tampered.body[at] = b'9'; // 450 employees becomes 950, or the like
    }
    let r = handle(&cfg, &store, &tampered, now()).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(message_of(&r), "signature does not match");
    assert!(!exists(&store, Alias::new("hubspot", "5101")).await);

    // Signed, but neither HubSpot shape: a 400 naming the field, and nothing stored.
    let r = handle(
        &cfg,
        &store,
        &hubspot_v2_request(br#"{"jobtitle": "CTO"}"#),
        now(),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["field"], "hs_object_id");
}
