//! Shared by the integration tests: the test model and configuration, fixtures, signing.
#![allow(dead_code)]

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use leadscore_domain::Points;
use leadscore_ingest::Config;
use leadscore_store::{Alias, LeadStore};
use serde_json::Value;
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
