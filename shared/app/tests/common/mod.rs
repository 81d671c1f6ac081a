//! Helpers shared by the handler tests.
#![allow(dead_code)] // each test file uses its own subset

use chrono::{DateTime, TimeZone, Utc};
use leadscore_app::http::{Request, Response};
use leadscore_domain::{LeadState, Points};
use leadscore_store::{Alias, LeadStore};

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

/// A POST with the given headers (names lower-cased, as API Gateway delivers them).
pub fn request(path: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
    Request {
        method: "POST".into(),
        path: path.into(),
        query: String::new(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect(),
        body: body.to_vec(),
    }
}

pub fn error_of(r: &Response) -> &str {
    r.body["error"].as_str().unwrap_or("")
}

/// The lead an alias resolves to: its id, state and version.
pub async fn lead<S: LeadStore>(store: &S, alias: Alias) -> (String, LeadState, u64) {
    let ids = store.resolve(std::slice::from_ref(&alias)).await.unwrap();
    let id = ids[0]
        .clone()
        .unwrap_or_else(|| panic!("{} resolves", alias.0));
    let stored = store.load(&id).await.unwrap().expect("stored");
    (id, stored.state, stored.version)
}

/// The total of the lead an email resolves to, checked against its ledger.
pub async fn score<S: LeadStore>(store: &S, email: &str) -> Points {
    let (id, state, _) = lead(store, Alias::new("email", email)).await;
    assert_eq!(
        ledger_sum(store, &id).await,
        state.scores.total,
        "ledger agrees"
    );
    state.scores.total
}

/// The sum of a lead's stored ledger entries, checked to be numbered without a gap.
pub async fn ledger_sum<S: LeadStore>(store: &S, lead_id: &str) -> Points {
    let entries = store.ledger(lead_id).await.unwrap();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as u64, "ledger numbering");
    }
    entries.iter().map(|e| e.points).sum()
}
