//! Lifecycle moves: score thresholds with hysteresis, instant MQL, sales feedback, going
//! cold, and the stages the engine must leave alone. Every move records reason and time.

mod common;

use common::*;
use leadscore_domain::{
    EventKind, FeedbackOutcome, LeadState, Model, Outcome, Reason, Stage, Transition,
};

const RULES: &str = r#"
[[activity]]
id = "form"
kind = "form_submit"
points = 40

[[activity]]
id = "visit"
kind = "page_view"
points = 10

[[activity]]
id = "unsubscribe"
kind = "email_unsubscribe"
points = -25

[[activity]]
id = "demo"
kind = "demo_request"
points = 5
instant_mql = true
"#;

fn lifecycle_model() -> Model {
    model_with(RULES)
}

/// Same rules plus decay: one point a day after 14 idle days, cold after 30.
fn cold_model() -> Model {
    model_with(&format!(
        "{RULES}\n[decay]\nidle_days = 14\nevery = \"day\"\npoints = 1\ncold_after_days = 30\n"
    ))
}

/// The transitions of an outcome must be the ones appended to the state, and the stage
/// must follow the last one with `stage_since` at its time.
fn check_moves(state: &LeadState, before: usize, out: &Outcome) {
    assert_eq!(&state.transitions[before..], &out.transitions[..]);
    if let Some(last) = out.transitions.last() {
        assert_eq!(state.stage, last.to);
        assert_eq!(state.stage_since, Some(last.at));
    }
    for w in state.transitions.windows(2) {
        assert_eq!(w[0].to, w[1].from, "transitions chain");
    }
}

fn step(
    m: &Model,
    s: &mut LeadState,
    events: &[leadscore_domain::Event],
    now: chrono::DateTime<chrono::Utc>,
) -> Outcome {
    let before = s.transitions.len();
    let out = run(m, s, events, now);
    check_moves(s, before, &out);
    out
}

fn step_decay(
    m: &Model,
    s: &mut LeadState,
    through: chrono::NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Outcome {
    let before = s.transitions.len();
    let out = run_decay(m, s, through, now);
    check_moves(s, before, &out);
    out
}

fn forms(prefix: &str, n: usize, day: i64) -> Vec<leadscore_domain::Event> {
    (0..n)
        .map(|i| form(&format!("{prefix}{i}"), at(day, 9 + i as u32)))
        .collect()
}

fn unsub(id: &str, day: i64) -> leadscore_domain::Event {
    ev(id, at(day, 12), EventKind::EmailUnsubscribe)
}

/// A lead that reached MQL with 120 points (three forms on day 0).
fn mql_lead(m: &Model) -> LeadState {
    let mut s = LeadState::new("lead-1");
    step(m, &mut s, &forms("f", 3, 0), rec(0));
    assert_eq!((s.stage, s.scores.total), (Stage::Mql, p(120)));
    s
}

fn one(out: &Outcome) -> &Transition {
    assert_eq!(out.transitions.len(), 1, "{:?}", out.transitions);
    &out.transitions[0]
}

#[test]
fn lead_becomes_mql_when_score_reaches_threshold() {
    let m = lifecycle_model();
    let mut s = LeadState::new("lead-1");
    let out = step(&m, &mut s, &forms("f", 2, 0), rec(0));
    assert!(out.transitions.is_empty());
    assert_eq!((s.stage, s.scores.total), (Stage::Lead, p(80)));
    assert_eq!(s.stage_since, None);

    let out = step(
        &m,
        &mut s,
        &[page("v1", at(1, 9), "u"), page("v2", at(1, 10), "u")],
        rec(1),
    );
    let t = one(&out);
    assert_eq!((t.from, t.to, t.at), (Stage::Lead, Stage::Mql, rec(1)));
    assert_eq!(
        t.reason,
        Reason::ScoreReached {
            score: p(100),
            threshold: p(100)
        }
    );
    assert!(!s.mql_via_instant);
}

#[test]
fn mql_hysteresis_holds_between_exit_and_entry_and_recycles_below_exit() {
    let m = lifecycle_model();
    let mut s = mql_lead(&m);
    let out = step(&m, &mut s, &[unsub("u1", 1)], rec(1));
    assert!(out.transitions.is_empty());
    assert_eq!((s.stage, s.scores.total), (Stage::Mql, p(95)));
    // Exactly at the exit threshold: still MQL.
    let out = step(&m, &mut s, &[unsub("u2", 2)], rec(2));
    assert!(out.transitions.is_empty());
    assert_eq!((s.stage, s.scores.total), (Stage::Mql, p(70)));

    let out = step(&m, &mut s, &[unsub("u3", 3)], rec(3));
    let t = one(&out);
    assert_eq!((t.from, t.to, t.at), (Stage::Mql, Stage::Recycled, rec(3)));
    assert_eq!(
        t.reason,
        Reason::BelowExitThreshold {
            score: p(45),
            threshold: p(70)
        }
    );
    assert_eq!(s.transitions.len(), 2);
}

#[test]
fn instant_mql_is_held_even_with_a_low_score() {
    let m = lifecycle_model();
    let mut s = LeadState::new("lead-1");
    let out = step(
        &m,
        &mut s,
        &[ev("d1", at(0, 9), EventKind::DemoRequest)],
        rec(0),
    );
    let t = one(&out);
    assert_eq!((t.from, t.to, t.at), (Stage::Lead, Stage::Mql, at(0, 9)));
    assert_eq!(
        t.reason,
        Reason::InstantMql {
            rule: "demo".into(),
            activity: "d1".into()
        }
    );
    assert!(s.mql_via_instant);

    // Far below the exit threshold, and a sweep: still MQL.
    let out = step(&m, &mut s, &[unsub("u1", 1), unsub("u2", 1)], rec(1));
    assert!(out.transitions.is_empty());
    assert_eq!((s.stage, s.scores.total), (Stage::Mql, p(-45)));
    let out = step_decay(&m, &mut s, day(20), rec(20));
    assert!(out.transitions.is_empty());
    assert_eq!(s.stage, Stage::Mql);
}

#[test]
fn instant_mql_rule_earliest_activity_is_the_reason() {
    let m = lifecycle_model();
    let mut s = LeadState::new("lead-1");
    let out = step(
        &m,
        &mut s,
        &[
            ev("d2", at(3, 9), EventKind::DemoRequest),
            ev("d1", at(1, 9), EventKind::DemoRequest),
        ],
        rec(3),
    );
    let t = one(&out);
    assert_eq!(t.at, at(1, 9));
    assert_eq!(
        t.reason,
        Reason::InstantMql {
            rule: "demo".into(),
            activity: "d1".into()
        }
    );
}

#[test]
fn recycled_lead_requalifies_when_score_reaches_threshold_again() {
    let m = lifecycle_model();
    let mut s = mql_lead(&m);
    step(
        &m,
        &mut s,
        &[unsub("u1", 1), unsub("u2", 1), unsub("u3", 1)],
        rec(1),
    );
    assert_eq!((s.stage, s.scores.total), (Stage::Recycled, p(45)));
    // 45 + 40 = 85: between exit and entry, a recycled lead stays recycled.
    let out = step(&m, &mut s, &forms("g", 1, 2), rec(2));
    assert!(out.transitions.is_empty());
    assert_eq!(s.stage, Stage::Recycled);

    let out = step(
        &m,
        &mut s,
        &[page("v1", at(3, 9), "u"), page("v2", at(3, 10), "u")],
        rec(3),
    );
    let t = one(&out);
    assert_eq!((t.from, t.to, t.at), (Stage::Recycled, Stage::Mql, rec(3)));
    assert_eq!(
        t.reason,
        Reason::ScoreReached {
            score: p(105),
            threshold: p(100)
        }
    );
    assert_eq!(s.transitions.len(), 3);
}

#[test]
fn nurture_lead_requalifies_when_score_reaches_threshold() {
    let m = cold_model();
    let mut s = LeadState::new("lead-1");
    step(&m, &mut s, &[page("v1", at(0, 9), "u")], rec(0));
    step_decay(&m, &mut s, day(30), rec(30));
    assert_eq!(s.stage, Stage::Nurture);
    // 10 points decayed one a day from day 14: gone by day 23.
    assert_eq!(s.scores.total, p(0));

    let out = step(&m, &mut s, &forms("f", 3, 31), rec(31));
    let t = one(&out);
    assert_eq!((t.from, t.to, t.at), (Stage::Nurture, Stage::Mql, rec(31)));
    assert_eq!(
        t.reason,
        Reason::ScoreReached {
            score: p(120),
            threshold: p(100)
        }
    );
}

fn feedback_move(
    from_state: &mut LeadState,
    m: &Model,
    id: &str,
    day_n: i64,
    outcome: FeedbackOutcome,
    from: Stage,
    to: Stage,
) {
    let out = step(
        m,
        from_state,
        &[feedback(id, at(day_n, 15), outcome)],
        rec(day_n),
    );
    let t = one(&out);
    assert_eq!((t.from, t.to), (from, to));
    // Sales moves happen when sales said so, not when the event was processed.
    assert_eq!(t.at, at(day_n, 15));
    assert_eq!(
        t.reason,
        Reason::SalesFeedback {
            outcome,
            event: id.into()
        }
    );
}

#[test]
fn sales_accepted_makes_sql() {
    let m = lifecycle_model();
    let mut s = mql_lead(&m);
    feedback_move(
        &mut s,
        &m,
        "fb1",
        1,
        FeedbackOutcome::Accepted,
        Stage::Mql,
        Stage::Sql,
    );
}

#[test]
fn sales_won_makes_customer() {
    let m = lifecycle_model();
    let mut s = mql_lead(&m);
    feedback_move(
        &mut s,
        &m,
        "fb1",
        1,
        FeedbackOutcome::Accepted,
        Stage::Mql,
        Stage::Sql,
    );
    feedback_move(
        &mut s,
        &m,
        "fb2",
        2,
        FeedbackOutcome::Won,
        Stage::Sql,
        Stage::Customer,
    );
}

#[test]
fn sales_disqualified() {
    let m = lifecycle_model();
    let mut s = mql_lead(&m);
    feedback_move(
        &mut s,
        &m,
        "fb1",
        1,
        FeedbackOutcome::Disqualified,
        Stage::Mql,
        Stage::Disqualified,
    );
}

#[test]
fn sales_recycled() {
    let m = lifecycle_model();
    let mut s = mql_lead(&m);
    // Below the MQL threshold, so the score does not take it straight back.
    step(&m, &mut s, &[unsub("u1", 1)], rec(1));
    assert_eq!((s.stage, s.scores.total), (Stage::Mql, p(95)));
    feedback_move(
        &mut s,
        &m,
        "fb1",
        2,
        FeedbackOutcome::Recycled,
        Stage::Mql,
        Stage::Recycled,
    );
}

#[test]
fn sales_recycled_ends_instant_mql_hold() {
    let m = lifecycle_model();
    let mut s = LeadState::new("lead-1");
    step(
        &m,
        &mut s,
        &[ev("d1", at(0, 9), EventKind::DemoRequest)],
        rec(0),
    );
    assert!(s.mql_via_instant);
    feedback_move(
        &mut s,
        &m,
        "fb1",
        1,
        FeedbackOutcome::Recycled,
        Stage::Mql,
        Stage::Recycled,
    );
    assert!(!s.mql_via_instant);
}

#[test]
fn sales_reopened_makes_lead() {
    let m = lifecycle_model();
    let mut s = LeadState::new("lead-1");
    feedback_move(
        &mut s,
        &m,
        "fb1",
        0,
        FeedbackOutcome::Disqualified,
        Stage::Lead,
        Stage::Disqualified,
    );
    feedback_move(
        &mut s,
        &m,
        "fb2",
        1,
        FeedbackOutcome::Reopened,
        Stage::Disqualified,
        Stage::Lead,
    );
    // A reopened lead qualifies by score again.
    let out = step(&m, &mut s, &forms("f", 3, 2), rec(2));
    assert_eq!(one(&out).to, Stage::Mql);
}

#[test]
fn feedback_in_a_batch_is_applied_in_time_order() {
    let m = lifecycle_model();
    let mut s = LeadState::new("lead-1");
    let out = step(
        &m,
        &mut s,
        &[
            feedback("fb-won", at(2, 9), FeedbackOutcome::Won),
            feedback("fb-acc", at(1, 9), FeedbackOutcome::Accepted),
        ],
        rec(2),
    );
    let moves: Vec<_> = out
        .transitions
        .iter()
        .map(|t| (t.from, t.to, t.at))
        .collect();
    assert_eq!(
        moves,
        vec![
            (Stage::Lead, Stage::Sql, at(1, 9)),
            (Stage::Sql, Stage::Customer, at(2, 9))
        ]
    );
}

#[test]
fn disqualified_lead_does_not_auto_qualify() {
    let m = lifecycle_model();
    let mut s = LeadState::new("lead-1");
    feedback_move(
        &mut s,
        &m,
        "fb1",
        0,
        FeedbackOutcome::Disqualified,
        Stage::Lead,
        Stage::Disqualified,
    );
    let out = step(&m, &mut s, &forms("f", 3, 1), rec(1));
    assert!(out.transitions.is_empty());
    let out = step(
        &m,
        &mut s,
        &[ev("d1", at(2, 9), EventKind::DemoRequest)],
        rec(2),
    );
    assert!(out.transitions.is_empty());
    assert_eq!((s.stage, s.scores.total), (Stage::Disqualified, p(125)));
    assert!(!s.mql_via_instant);
    // Nor by a sweep, nor by going cold.
    let m = cold_model();
    let out = step_decay(&m, &mut s, day(60), rec(60));
    assert!(out.transitions.is_empty());
    assert_eq!(s.stage, Stage::Disqualified);
}

#[test]
fn disqualified_in_the_same_batch_as_qualifying_activity_stays_disqualified() {
    let m = lifecycle_model();
    let mut s = LeadState::new("lead-1");
    let mut events = forms("f", 3, 0);
    events.push(ev("d1", at(0, 8), EventKind::DemoRequest));
    events.push(feedback("fb1", at(0, 7), FeedbackOutcome::Disqualified));
    let out = step(&m, &mut s, &events, rec(0));
    let t = one(&out);
    assert_eq!((t.from, t.to), (Stage::Lead, Stage::Disqualified));
    assert_eq!(s.stage, Stage::Disqualified);
}

#[test]
fn cold_lead_goes_to_nurture_via_decay() {
    let m = cold_model();
    let mut s = LeadState::new("lead-1");
    step(&m, &mut s, &forms("f", 1, 0), rec(0));
    let out = step_decay(&m, &mut s, day(29), rec(29));
    assert!(out.transitions.is_empty());
    assert_eq!(s.stage, Stage::Lead);
    let out = step_decay(&m, &mut s, day(30), rec(30));
    let t = one(&out);
    assert_eq!((t.from, t.to, t.at), (Stage::Lead, Stage::Nurture, rec(30)));
    assert_eq!(t.reason, Reason::Cold { idle_days: 30 });
    // Already in nurture: no further moves.
    let out = step_decay(&m, &mut s, day(60), rec(60));
    assert!(out.transitions.is_empty());
}

#[test]
fn cold_mql_goes_to_nurture_and_negative_activity_does_not_warm_it() {
    let m = cold_model();
    let mut s = LeadState::new("lead-1");
    step(
        &m,
        &mut s,
        &[ev("d1", at(0, 9), EventKind::DemoRequest)],
        rec(0),
    );
    assert_eq!(s.stage, Stage::Mql);
    // An unsubscribe is not engagement: the lead is still idle since day 0.
    step(&m, &mut s, &[unsub("u1", 20)], rec(20));
    let out = step_decay(&m, &mut s, day(30), rec(30));
    let t = one(&out);
    assert_eq!((t.from, t.to, t.at), (Stage::Mql, Stage::Nurture, rec(30)));
    assert_eq!(t.reason, Reason::Cold { idle_days: 30 });
    assert!(!s.mql_via_instant);
}

#[test]
fn decay_below_exit_recycles_an_mql() {
    let m = model_with(&format!(
        "{RULES}\n[decay]\nidle_days = 1\nevery = \"day\"\npoints = 10\n"
    ));
    let mut s = mql_lead(&m);
    // 120 -> 110 (day 1) -> 100 -> 90 -> 80 -> 70 (day 5): still MQL.
    let out = step_decay(&m, &mut s, day(5), rec(5));
    assert!(out.transitions.is_empty());
    assert_eq!((s.stage, s.scores.total), (Stage::Mql, p(70)));
    let out = step_decay(&m, &mut s, day(6), rec(6));
    let t = one(&out);
    assert_eq!((t.from, t.to, t.at), (Stage::Mql, Stage::Recycled, rec(6)));
    assert_eq!(
        t.reason,
        Reason::BelowExitThreshold {
            score: p(60),
            threshold: p(70)
        }
    );
}

#[test]
fn sql_and_customer_are_never_moved_by_score_or_coldness() {
    let m = cold_model();
    for (outcome, stage) in [
        (FeedbackOutcome::Accepted, Stage::Sql),
        (FeedbackOutcome::Won, Stage::Customer),
    ] {
        let mut s = LeadState::new("lead-1");
        step(&m, &mut s, &[feedback("fb", at(0, 8), outcome)], rec(0));
        assert_eq!(s.stage, stage);
        // High score: no MQL.
        let out = step(&m, &mut s, &forms("f", 3, 0), rec(0));
        assert!(out.transitions.is_empty());
        // Far below the exit threshold: no recycling.
        let out = step(
            &m,
            &mut s,
            &[
                unsub("u1", 1),
                unsub("u2", 1),
                unsub("u3", 1),
                unsub("u4", 1),
                unsub("u5", 1),
                unsub("u6", 1),
            ],
            rec(1),
        );
        assert!(out.transitions.is_empty());
        assert_eq!(s.scores.total, p(120 - 150));
        // Long idle: not cold.
        let out = step_decay(&m, &mut s, day(100), rec(100));
        assert!(out.transitions.is_empty());
        assert_eq!(s.stage, stage);
        assert_eq!(s.transitions.len(), 1);
    }
}

#[test]
fn sales_recycling_a_high_scoring_mql_is_not_overridden_in_the_same_call() {
    // Sales is authoritative (lifecycle.rs): when sales sends an MQL back to marketing, the
    // score that made it an MQL must not immediately re-qualify it in the same apply.
    let m = lifecycle_model();
    let mut s = mql_lead(&m);
    let out = step(
        &m,
        &mut s,
        &[feedback("fb1", at(1, 15), FeedbackOutcome::Recycled)],
        rec(1),
    );
    assert_eq!(s.stage, Stage::Recycled, "{:#?}", out.transitions);
    let t = one(&out);
    assert_eq!(
        (t.from, t.to, t.at),
        (Stage::Mql, Stage::Recycled, at(1, 15))
    );
}

/// The notifier's stream filter relies on this: a state knows the move into MQL made since
/// it was loaded, a state read back does not, and a lead that left MQL again has none.
#[test]
fn the_mql_entry_since_load_is_the_move_made_in_memory_only() {
    let m = lifecycle_model();
    let s = mql_lead(&m);
    let entry = s.mql_entry_since_load().cloned();
    assert_eq!(entry.map(|t| (t.to, t.at)), Some((Stage::Mql, rec(0))));

    // Read back (as a store does): the move is history, not news.
    let json = serde_json::to_string(&s).unwrap();
    let mut loaded: LeadState = serde_json::from_str(&json).unwrap();
    assert_eq!(loaded.mql_entry_since_load(), None);
    // More points for an MQL are not a new entry.
    step(&m, &mut loaded, &[page("v1", at(1, 9), "u")], rec(1));
    assert_eq!(loaded.mql_entry_since_load(), None);

    // Out of MQL and back in, all before the next save: the new entry counts.
    for i in 0..4 {
        step(&m, &mut loaded, &[unsub(&format!("u{i}"), 2)], rec(2));
    }
    assert_eq!(loaded.stage, Stage::Recycled);
    assert_eq!(loaded.mql_entry_since_load(), None);
    step(&m, &mut loaded, &forms("g", 3, 3), rec(3));
    assert_eq!(loaded.stage, Stage::Mql);
    assert_eq!(loaded.mql_entry_since_load().map(|t| t.at), Some(rec(3)));
}
