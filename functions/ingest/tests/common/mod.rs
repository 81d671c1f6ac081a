//! Shared by the integration tests: the test model and configuration, fixtures, signing.
#![allow(dead_code)]

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use leadscore_domain::{LeadState, Points};
use leadscore_ingest::Config;
use leadscore_store::{Alias, LeadStore};
use serde_json::Value;
use sha2::Digest;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const EVENTS_SECRET: &str = "events-secret";
pub const MARKETO_TOKEN: &str = "marketo-shared-token";

pub const MODEL: &str = r#"
[model]
name = "ingest-lambda-test"
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
[[activity]]
id = "demo-form"
kind = "form_submit"
target = "demo request*"
points = 40
"#;

/// Writes `text` to a file of its own under Cargo's scratch directory for integration tests
/// (one per call: tests run in parallel and must not see each other's half-written files).
pub fn write_model(name: &str, text: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let file = format!("ingest-{name}-{}-{n}.toml", std::process::id());
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(file);
    std::fs::write(&path, text).unwrap();
    path
}

/// A lookup over fixed variables, the way `Config::from_env` sees the environment.
pub fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| vars.get(k).cloned()
}

/// The configuration the Lambda would read with these variables set.
pub fn config() -> Config {
    let model = write_model("handler", MODEL);
    let model = model.to_str().unwrap();
    Config::from_lookup(lookup(&[
        ("LEADSCORE_TABLE", "leads"),
        ("LEADSCORE_MODEL", model),
        ("LEADSCORE_EVENTS_SECRET", EVENTS_SECRET),
        ("LEADSCORE_MARKETO_TOKEN", MARKETO_TOKEN),
    ]))
    .unwrap()
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

/// A fixture event as JSON, to adjust before it becomes an `ApiGatewayV2httpRequest`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Deserializes like the runtime does.
pub fn event(v: Value) -> ApiGatewayV2httpRequest {
    serde_json::from_value(v).unwrap()
}

pub fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Adds `x-leadscore-signature: sha256=<hex HMAC-SHA256 of the body>`, as a sender would.
pub fn sign(mut v: Value, secret: &str) -> Value {
    let body = v["body"].as_str().unwrap().to_owned();
    v["headers"]["x-leadscore-signature"] =
        Value::String(format!("sha256={}", hmac_hex(secret, body.as_bytes())));
    v
}

pub fn signed_events() -> ApiGatewayV2httpRequest {
    event(sign(fixture("events-signed.json"), EVENTS_SECRET))
}

pub async fn score<S: LeadStore>(store: &S, email: &str) -> Option<Points> {
    let ids = store.resolve(&[Alias::new("email", email)]).await.unwrap();
    let id = ids[0].clone()?;
    Some(store.load(&id).await.unwrap()?.state.scores.total)
}

/// The response's status, `content-type` and parsed JSON body.
pub fn parts(r: &ApiGatewayV2httpResponse) -> (i64, &str, Value) {
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let body = match &r.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("expected a text body, got {other:?}"),
    };
    (r.status_code, ct, body)
}

/// The lead an alias resolves to, if any: its id, state and version.
pub async fn lead<S: LeadStore>(store: &S, alias: Alias) -> Option<(String, LeadState, u64)> {
    let ids = store.resolve(std::slice::from_ref(&alias)).await.unwrap();
    let id = ids[0].clone()?;
    let stored = store.load(&id).await.unwrap()?;
    Some((id, stored.state, stored.version))
}

// ---------------------------------------------------------------------------------------------
// HubSpot and SendGrid

pub const HUBSPOT_SECRET: &str = "hubspot-client-secret";
/// The URL the senders are configured with (`LEADSCORE_PUBLIC_BASE_URL`): a custom domain in
/// front of the HTTP API, the `requestContext.domainName` of the fixtures.
pub const PUBLIC_BASE_URL: &str = "https://hooks.leadscore.example";

/// The public key of the P-256 test key whose private scalar is 32 bytes of `0x07` (the key
/// `shared/app`'s tests sign with), as SendGrid shows a key: base64 SubjectPublicKeyInfo DER.
/// `fixtures/sendgrid-events.json` is signed with it; this crate has no ECDSA signer, so the
/// signature was made once with OpenSSL:
///
/// ```text
/// printf '30310201010420%s a00a06082a8648ce3d030107' $(printf '07%.0s' $(seq 32)) | xxd -r -p > key.der
/// openssl ec -inform DER -in key.der -out key.pem
/// { printf 1772452770; cat shared/sources/tests/fixtures/sendgrid.json; } \
///   | openssl dgst -sha256 -sign key.pem | base64 -w0
/// ```
pub const SENDGRID_TEST_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEHhhTL9R1TALzBB2cdc6zO4P/2BrHzk/ogsyxyYvFiW6kbDEcTi/0DdlqNlPm5FRF0y3+SG7O11x6kMahiIHAow==";

/// SendGrid's published verification vector (shared/reference/webhooks.md): its key, and
/// `fixtures/sendgrid-vector.json` carries its timestamp, body and signature.
pub const SENDGRID_VECTOR_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
pub const SENDGRID_VECTOR_TIMESTAMP: i64 = 1_588_788_367;

/// The model of the HubSpot and SendGrid tests: email engagement, and fit rules on the job
/// titles the HubSpot fixtures carry ("VP Engineering", "Director of Engineering").
pub const SOURCES_MODEL: &str = r#"
[model]
name = "ingest-lambda-sources-test"
[thresholds]
mql = 100
mql_exit = 50
[[activity]]
id = "email-open"
kind = "email_open"
points = 2
[[activity]]
id = "email-click"
kind = "email_click"
points = 5
[[fit]]
id = "title-vp"
attribute = "job_title"
contains = "vp"
points = 20
[[fit]]
id = "title-director"
attribute = "job_title"
contains = "director"
points = 10
"#;

/// The configuration with HubSpot (v3 only) and SendGrid (`sendgrid_key`) set up, plus
/// `extra` variables, over [`SOURCES_MODEL`].
pub fn sources_config(sendgrid_key: &str, extra: &[(&str, &str)]) -> Config {
    let model = write_model("sources", SOURCES_MODEL);
    let model = model.to_str().unwrap();
    let mut vars = vec![
        ("LEADSCORE_TABLE", "leads"),
        ("LEADSCORE_MODEL", model),
        ("LEADSCORE_HUBSPOT_CLIENT_SECRET", HUBSPOT_SECRET),
        ("LEADSCORE_PUBLIC_BASE_URL", PUBLIC_BASE_URL),
        ("LEADSCORE_SENDGRID_PUBLIC_KEY", sendgrid_key),
    ];
    vars.extend_from_slice(extra);
    Config::from_lookup(lookup(&vars)).unwrap()
}

/// The URL the sender called, as HubSpot signs it: the public base URL, the event's
/// `rawPath`, and its query if any.
fn called_url(v: &Value) -> String {
    let path = v["rawPath"].as_str().unwrap();
    match v["rawQueryString"].as_str().unwrap_or("") {
        "" => format!("{PUBLIC_BASE_URL}{path}"),
        q => format!("{PUBLIC_BASE_URL}{path}?{q}"),
    }
}

/// HubSpot v3 of an event's method, URL and body at `timestamp_ms`:
/// base64(HMAC-SHA256(client secret, method + URL + body + timestamp)).
pub fn hubspot_v3_signature(v: &Value, secret: &str, timestamp_ms: i64) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(
        v["requestContext"]["http"]["method"]
            .as_str()
            .unwrap()
            .as_bytes(),
    );
    mac.update(called_url(v).as_bytes());
    mac.update(v["body"].as_str().unwrap().as_bytes());
    mac.update(timestamp_ms.to_string().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Sets `x-hubspot-request-timestamp` and `x-hubspot-signature-v3` as HubSpot would send the
/// event at `at`.
pub fn sign_hubspot_v3(mut v: Value, secret: &str, at: DateTime<Utc>) -> Value {
    let ts = at.timestamp_millis();
    v["headers"]["x-hubspot-signature-v3"] = Value::String(hubspot_v3_signature(&v, secret, ts));
    v["headers"]["x-hubspot-request-timestamp"] = Value::String(ts.to_string());
    v
}

/// HubSpot v2 (workflow webhooks): hex(SHA-256(client secret + method + URL + body)).
pub fn hubspot_v2_signature(v: &Value, secret: &str) -> String {
    let mut h = sha2::Sha256::new();
    h.update(secret.as_bytes());
    h.update(
        v["requestContext"]["http"]["method"]
            .as_str()
            .unwrap()
            .as_bytes(),
    );
    h.update(called_url(v).as_bytes());
    h.update(v["body"].as_str().unwrap().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Sets `x-hubspot-signature` (v2) and `x-hubspot-signature-version: v2`.
pub fn sign_hubspot_v2(mut v: Value, secret: &str) -> Value {
    v["headers"]["x-hubspot-signature"] = Value::String(hubspot_v2_signature(&v, secret));
    v["headers"]["x-hubspot-signature-version"] = Value::String("v2".into());
    v
}

/// The event with one byte of its body changed: the first `from` in the body becomes `to`,
/// which must differ from it in exactly one byte. The signature headers are left as they were.
pub fn tamper(mut v: Value, from: &str, to: &str) -> Value {
    let differing = from.bytes().zip(to.bytes()).filter(|(a, b)| a != b).count();
    assert!(
        from.len() == to.len() && differing == 1,
        "`{from}` -> `{to}`"
    );
    let body = v["body"].as_str().unwrap();
    let at = body
        .find(from)
        .unwrap_or_else(|| panic!("`{from}` in the body"));
    let mut changed = body.to_owned();
    changed.replace_range(at..at + from.len(), to);
    v["body"] = Value::String(changed);
    v
}
