//! Helpers shared by the domain's integration tests: small inline models, fixed times,
//! event builders, and an invariant check run after every engine call.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use leadscore_domain::Name;
use leadscore_domain::{
    apply, decay, AttrValue, Cause, Dimension, Event, EventKind, FeedbackOutcome, LeadState,
    LedgerEntry, Model, Outcome, Points, Source,
};
use std::collections::BTreeMap;

/// `[model]` and `[thresholds]` for tests: MQL at 100, exit below 70, and a floor far away
/// so negative totals show as they are.
pub const HEAD: &str = r#"
[model]
name = "test"
products = ["alpha", "beta"]

[thresholds]
mql = 100
mql_exit = 70
floor = -1000
"#;

pub fn model(src: &str) -> Model {
    Model::from_toml(src, "test.toml").unwrap_or_else(|e| panic!("model does not compile:\n{e}"))
}

/// `HEAD` followed by `body` (rules, lists, decay...).
pub fn model_with(body: &str) -> Model {
    model(&format!("{HEAD}\n{body}"))
}

pub fn p(n: i64) -> Points {
    Points::whole(n)
}

/// Day `day` after Monday 2026-03-02, at `hour`:00 UTC.
pub fn at(day: i64, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0).unwrap() + TimeDelta::days(day)
}

/// The calendar day `n` days after 2026-03-02.
pub fn day(n: i64) -> NaiveDate {
    at(n, 0).date_naive()
}

/// A recording time ("now") distinct from the event times.
pub fn rec(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 23, 59, 0).unwrap() + TimeDelta::days(n)
}

pub fn ev(id: &str, t: DateTime<Utc>, kind: EventKind) -> Event {
    Event::new(id, t, kind)
}

pub fn page(id: &str, t: DateTime<Utc>, url: &str) -> Event {
    Event::new(id, t, EventKind::PageView).with_url(url)
}

pub fn form(id: &str, t: DateTime<Utc>) -> Event {
    Event::new(id, t, EventKind::FormSubmit)
}

pub fn identify(id: &str, t: DateTime<Utc>, props: &[(&str, AttrValue)]) -> Event {
    let mut e = Event::new(id, t, EventKind::Identify);
    for (k, v) in props {
        e.properties.insert((*k).to_owned(), v.clone());
    }
    e
}

pub fn text(s: &str) -> AttrValue {
    AttrValue::Text(s.to_owned())
}

pub fn feedback(id: &str, t: DateTime<Utc>, outcome: FeedbackOutcome) -> Event {
    Event::new(id, t, EventKind::SalesFeedback).with_outcome(outcome)
}

/// `apply`, then the ledger invariants.
pub fn run(model: &Model, state: &mut LeadState, events: &[Event], now: DateTime<Utc>) -> Outcome {
    let before = state.ledger.len();
    let out = apply(model, state, events, now);
    check(state);
    assert_eq!(
        out.new_entries,
        state.ledger.len() - before,
        "Outcome.new_entries"
    );
    out
}

/// `decay`, then the ledger invariants.
pub fn run_decay(
    model: &Model,
    state: &mut LeadState,
    through: NaiveDate,
    now: DateTime<Utc>,
) -> Outcome {
    let before = state.ledger.len();
    let out = decay(model, state, through, now);
    check(state);
    assert_eq!(
        out.new_entries,
        state.ledger.len() - before,
        "Outcome.new_entries"
    );
    assert!(state.decayed_through >= Some(through), "decayed_through");
    out
}

/// A fresh lead with `events` applied.
pub fn lead_with(model: &Model, events: &[Event]) -> LeadState {
    let mut s = LeadState::new("lead-1");
    run(model, &mut s, events, rec(0));
    s
}

/// Every score is the sum of its ledger entries, and entries are numbered in order.
pub fn check(state: &LeadState) {
    let base = state.ledger.base();
    for (i, e) in state.ledger.iter().enumerate() {
        assert_eq!(e.seq, base + i as u64, "ledger seq");
    }
    if base > 0 {
        // Earlier entries are stored apart: the sums below need the whole ledger.
        return;
    }
    assert_eq!(
        state.scores.total,
        state.ledger_total(),
        "total != ledger sum"
    );
    let sum = |f: &dyn Fn(&LedgerEntry) -> bool| -> Points {
        state.ledger.iter().filter(|e| f(e)).map(|e| e.points).sum()
    };
    assert_eq!(
        state.scores.fit,
        sum(&|e| e.dimension == Dimension::Fit),
        "fit"
    );
    assert_eq!(
        state.scores.activity,
        sum(&|e| e.dimension == Dimension::Activity),
        "activity"
    );
    assert_eq!(
        state.scores.adjustment,
        sum(&|e| e.dimension == Dimension::Adjustment),
        "adjustment"
    );
    let mut products: BTreeMap<Name, Points> = BTreeMap::new();
    for e in &state.ledger {
        if let Some(p) = &e.product {
            *products.entry(p.clone()).or_default() += e.points;
        }
    }
    for (k, v) in &products {
        assert_eq!(
            state.scores.products.get(k).copied().unwrap_or_default(),
            *v,
            "product {k}"
        );
    }
    for (k, v) in &state.scores.products {
        assert_eq!(
            products.get(k).copied().unwrap_or_default(),
            *v,
            "product {k}"
        );
    }
}

/// Ledger entries of an activity rule: (activity id, points, cause).
pub fn activity_entries(state: &LeadState, rule_id: &str) -> Vec<(String, Points, Cause)> {
    state
        .ledger
        .iter()
        .filter_map(|e| match &e.source {
            Source::Activity { rule, activity, .. } if &**rule == rule_id => {
                Some((activity.to_string(), e.points, e.cause))
            }
            _ => None,
        })
        .collect()
}

/// Ledger entries of a fit rule: (points, cause).
pub fn fit_entries(state: &LeadState, rule_id: &str) -> Vec<(Points, Cause)> {
    state
        .ledger
        .iter()
        .filter_map(|e| match &e.source {
            Source::Fit { rule } if &**rule == rule_id => Some((e.points, e.cause)),
            _ => None,
        })
        .collect()
}

/// Ledger entries of a combination: (completing activity id, points, cause).
pub fn combo_entries(state: &LeadState, combo_id: &str) -> Vec<(String, Points, Cause)> {
    state
        .ledger
        .iter()
        .filter_map(|e| match &e.source {
            Source::Combination {
                combination,
                activity,
                ..
            } if &**combination == combo_id => Some((activity.to_string(), e.points, e.cause)),
            _ => None,
        })
        .collect()
}

/// Entries with the given cause: (points, source).
pub fn entries_with(state: &LeadState, cause: Cause) -> Vec<(Points, Source)> {
    state
        .ledger
        .iter()
        .filter(|e| e.cause == cause)
        .map(|e| (e.points, e.source.clone()))
        .collect()
}

/// Asserts two lead states are equal, naming the first field that differs (the whole
/// state is too long to read in a failure message).
pub fn assert_same_state(a: &LeadState, b: &LeadState) {
    assert_eq!(a.stage, b.stage, "stage");
    assert_eq!(a.scores, b.scores, "scores");
    assert_eq!(a.history, b.history, "history");
    assert_eq!(a.combos, b.combos, "combos");
    assert_eq!(a.fit, b.fit, "fit");
    assert_eq!(a.decayed_through, b.decayed_through, "decayed_through");
    assert_eq!(a.last_engaged_at, b.last_engaged_at, "last_engaged_at");
    assert_eq!(a.ledger.len(), b.ledger.len(), "ledger length");
    for (x, y) in a.ledger.iter().zip(&b.ledger) {
        assert_eq!(x, y, "ledger entry {}", x.seq);
    }
    assert_eq!(a.transitions, b.transitions, "transitions");
    assert_eq!(a.stage_since, b.stage_since, "stage_since");
    assert_eq!(a.mql_via_instant, b.mql_via_instant, "mql_via_instant");
    assert!(a == b, "states differ in another field");
}
