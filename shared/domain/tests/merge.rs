//! Merging leads (a CRM's contact merge): the survivor ends as if it had received the
//! absorbed lead's events itself. Example-based tests, then a property over random event
//! splits against one lead that received both streams.

mod common;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use common::*;
use leadscore_domain::{
    apply, decay, merge, AttrValue, Cause, Event, EventKind, FeedbackOutcome, LeadState,
    MergeOutcome, Model, Reason, Stage, Transition,
};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use std::sync::LazyLock;

/// A capped rule, a combination that needs two rules, an instant-MQL rule and a fit rule.
const RULES: &str = r#"
[[fit]]
id = "country-us"
attribute = "country"
equals = "US"
points = 5

[[fit]]
id = "title-vp"
attribute = "job_title"
contains = "vp"
points = 20

[[activity]]
id = "pricing"
kind = "page_view"
url = "*/pricing*"
points = 10
caps = [{ count = 2, window = "7d" }]

[[activity]]
id = "webinar"
kind = "webinar_attended"
points = 15

[[activity]]
id = "form"
kind = "form_submit"
points = 40

[[activity]]
id = "demo"
kind = "demo_request"
points = 5
instant_mql = true

[[combination]]
id = "streak"
requires = ["pricing", "webinar"]
within = "3d"
points = 25
"#;

fn rules() -> Model {
    model_with(RULES)
}

fn pricing(id: &str, t: DateTime<Utc>) -> Event {
    page(id, t, "https://x.io/pricing")
}

/// A lead with this id that received `events` in one batch at `now`.
fn lead(m: &Model, id: &str, events: &[Event], now: DateTime<Utc>) -> LeadState {
    let mut s = LeadState::new(id);
    run(m, &mut s, events, now);
    s
}

/// `merge`, then the ledger invariants.
fn merged(
    m: &Model,
    into: &mut LeadState,
    absorbed: &LeadState,
    now: DateTime<Utc>,
) -> MergeOutcome {
    let before = into.ledger.len();
    let out = merge(m, into, absorbed, now);
    check(into);
    assert_eq!(out.new_entries, into.ledger.len() - before, "new_entries");
    out
}

fn moves(ts: &[Transition]) -> Vec<(Stage, Stage, DateTime<Utc>, Reason)> {
    ts.iter()
        .map(|t| (t.from, t.to, t.at, t.reason.clone()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Scores
// ---------------------------------------------------------------------------------------

#[test]
fn merged_score_is_the_score_of_one_lead_with_both_streams() {
    let m = rules();
    let a_events = [pricing("p1", at(0, 9)), pricing("p4", at(3, 9))];
    let b_events = [
        pricing("p2", at(1, 9)),
        ev("w1", at(2, 9), EventKind::WebinarAttended),
    ];
    let mut a = lead(&m, "lead-1", &a_events, rec(0));
    let b = lead(&m, "lead-2", &b_events, rec(1));
    // Apart: 10 + 10, and 10 + 15 + 25 (the combination): 70 if simply added.
    assert_eq!(a.scores.total, p(20));
    assert_eq!(b.scores.total, p(50));

    let out = merged(&m, &mut a, &b, rec(5));
    // Together the 2-per-7-days cap takes p4 (the third pricing view) back.
    assert_eq!(a.scores.total, p(10 + 10 + 15 + 25));
    assert_eq!(out.activities_added, 2);
    assert_eq!(out.events_added, 2);
    assert_eq!(
        activity_entries(&a, "pricing"),
        vec![
            ("p1".into(), p(10), Cause::Scored),
            ("p4".into(), p(10), Cause::Scored),
            ("p2".into(), p(10), Cause::Scored),
            ("p4".into(), p(-10), Cause::Rescored),
        ]
    );
    assert_eq!(
        combo_entries(&a, "streak"),
        vec![("w1".into(), p(25), Cause::Scored)]
    );
    assert_eq!(a.lead_id, "lead-1");

    // The very state of a lead that got A's events, then B's as a late batch at the merge time...
    let mut late = lead(&m, "lead-1", &a_events, rec(0));
    run(&m, &mut late, &b_events, rec(5));
    assert_same_state(&a, &late);
    // ...and the scores of one that got both streams in one batch.
    let all: Vec<Event> = a_events.iter().chain(&b_events).cloned().collect();
    let one = lead(&m, "lead-1", &all, rec(0));
    assert_eq!(a.scores, one.scores);
    assert_eq!(a.history, one.history);
    assert_eq!(a.combos.len(), one.combos.len());
}

#[test]
fn the_combination_completes_across_the_two_leads() {
    let m = rules();
    let mut a = lead(&m, "lead-1", &[pricing("p1", at(0, 9))], rec(0));
    let b = lead(
        &m,
        "lead-2",
        &[ev("w1", at(1, 9), EventKind::WebinarAttended)],
        rec(1),
    );
    merged(&m, &mut a, &b, rec(2));
    assert_eq!(
        combo_entries(&a, "streak"),
        vec![("w1".into(), p(25), Cause::Scored)]
    );
    assert_eq!(a.scores.total, p(10 + 15 + 25));
}

#[test]
fn an_event_both_leads_received_counts_once() {
    let m = rules();
    let shared = pricing("p1", at(0, 9));
    let mut a = lead(&m, "lead-1", std::slice::from_ref(&shared), rec(0));
    let b = lead(&m, "lead-2", &[shared, pricing("p2", at(0, 10))], rec(0));
    let out = merged(&m, &mut a, &b, rec(1));
    assert_eq!(out.activities_added, 1);
    assert_eq!(a.scores.total, p(20));
    assert_eq!(a.history.len(), 2);
}

#[test]
fn the_ledger_stays_the_sum_of_the_scores_and_only_grows() {
    let m = rules();
    let mut a = lead(
        &m,
        "lead-1",
        &[
            pricing("p1", at(0, 9)),
            pricing("p2", at(2, 9)),
            identify("i1", at(0, 8), &[("country", text("US"))]),
        ],
        rec(2),
    );
    let b = lead(
        &m,
        "lead-2",
        &[
            pricing("p0", at(0, 7)),
            ev("w1", at(1, 9), EventKind::WebinarAttended),
            identify("i2", at(1, 8), &[("job_title", text("VP Sales"))]),
        ],
        rec(2),
    );
    let before = a.ledger.clone();
    let out = merged(&m, &mut a, &b, rec(3));
    assert_eq!(a.scores.total, a.ledger_total());
    assert_eq!(&a.ledger[..before.len()], &before[..], "append-only");
    assert_eq!(out.new_entries, a.ledger.len() - before.len());
    // p0 and p1 score, p2 is capped away; the webinar, the streak and both fit rules.
    assert_eq!(a.scores.total, p(10 + 10 + 15 + 25 + 5 + 20));
    assert_eq!(a.scores.fit, p(25));
    assert_eq!(out.attributes_taken, vec!["job_title".to_owned()]);
}

// ---------------------------------------------------------------------------------------
// Idempotence
// ---------------------------------------------------------------------------------------

#[test]
fn merging_the_same_lead_twice_changes_nothing_the_second_time() {
    let m = rules();
    let mut a = lead(
        &m,
        "lead-1",
        &[
            pricing("p1", at(0, 9)),
            identify("i1", at(0, 8), &[("country", text("US"))]),
        ],
        rec(0),
    );
    let b = lead(
        &m,
        "lead-2",
        &[
            pricing("p2", at(1, 9)),
            ev("w1", at(1, 10), EventKind::WebinarAttended),
            ev("d1", at(1, 11), EventKind::DemoRequest),
            identify("i2", at(1, 8), &[("job_title", text("VP"))]),
            feedback("f1", at(1, 12), FeedbackOutcome::Accepted),
        ],
        rec(1),
    );
    let first = merged(&m, &mut a, &b, rec(2));
    assert!(first.changed());
    let once = a.clone();
    let second = merged(&m, &mut a, &b, rec(3));
    assert_eq!(second, MergeOutcome::default());
    assert!(!second.changed());
    assert_same_state(&a, &once);
}

#[test]
fn redeliveries_to_either_lead_stay_duplicates() {
    let m = rules();
    let a_events = [pricing("p1", at(0, 9))];
    let b_events = [
        pricing("p2", at(1, 9)),
        page("x1", at(1, 10), "https://x.io/blog"),
        feedback("f1", at(1, 12), FeedbackOutcome::Disqualified),
    ];
    let mut a = lead(&m, "lead-1", &a_events, rec(0));
    let b = lead(&m, "lead-2", &b_events, rec(1));
    merged(&m, &mut a, &b, rec(2));
    let before = a.clone();
    let all: Vec<Event> = a_events.iter().chain(&b_events).cloned().collect();
    let out = run(&m, &mut a, &all, rec(3));
    assert_eq!((out.accepted, out.duplicates), (0, all.len()));
    assert_same_state(&a, &before);
}

// ---------------------------------------------------------------------------------------
// Attributes and times
// ---------------------------------------------------------------------------------------

#[test]
fn attributes_last_writer_wins_and_fill_gaps() {
    let m = rules();
    let mut a = lead(
        &m,
        "lead-1",
        &[
            identify("a1", at(1, 9), &[("country", text("US"))]),
            identify("a2", at(1, 9), &[("company", text("Acme"))]),
            identify("a3", at(5, 9), &[("phone", text("555"))]),
        ],
        rec(5),
    );
    let b = lead(
        &m,
        "lead-2",
        &[
            // Older than the survivor's: the survivor's stands.
            identify("b1", at(0, 9), &[("country", text("DE"))]),
            // The survivor has none: taken.
            identify("b2", at(0, 9), &[("job_title", text("VP Marketing"))]),
            // Newer than the survivor's: wins.
            identify("b3", at(2, 9), &[("company", text("Acme Inc"))]),
            // A newer clearing wins too.
            identify("b4", at(6, 9), &[("phone", AttrValue::Null)]),
        ],
        rec(6),
    );
    let out = merged(&m, &mut a, &b, rec(7));
    assert_eq!(a.attributes.get("country"), Some(&text("US")));
    assert_eq!(a.attributes.get("job_title"), Some(&text("VP Marketing")));
    assert_eq!(a.attributes.get("company"), Some(&text("Acme Inc")));
    assert_eq!(a.attributes.get("phone"), None);
    assert_eq!(
        out.attributes_taken,
        vec!["company".to_owned(), "job_title".into(), "phone".into()]
    );
    assert_eq!(&*a.attribute_stamps["phone"].event, "b4");
    assert_eq!(a.scores.fit, p(5 + 20));
    assert_eq!(fit_entries(&a, "title-vp"), vec![(p(20), Cause::Scored)]);

    // Exactly what the survivor would hold had it received B's identify events.
    let mut late = lead(
        &m,
        "lead-1",
        &[
            identify("a1", at(1, 9), &[("country", text("US"))]),
            identify("a2", at(1, 9), &[("company", text("Acme"))]),
            identify("a3", at(5, 9), &[("phone", text("555"))]),
        ],
        rec(5),
    );
    let b_events = [
        identify("b1", at(0, 9), &[("country", text("DE"))]),
        identify("b2", at(0, 9), &[("job_title", text("VP Marketing"))]),
        identify("b3", at(2, 9), &[("company", text("Acme Inc"))]),
        identify("b4", at(6, 9), &[("phone", AttrValue::Null)]),
    ];
    run(&m, &mut late, &b_events, rec(7));
    assert_same_state(&a, &late);
}

#[test]
fn an_attribute_without_a_stamp_only_fills_a_gap() {
    let m = rules();
    let mut a = lead(
        &m,
        "lead-1",
        &[identify("a1", at(0, 9), &[("company", text("Acme"))])],
        rec(0),
    );
    // A state without stamps (written before stamps existed): its values are of unknown age.
    let mut b = LeadState::new("lead-2");
    b.attributes.insert("company".into(), text("Other"));
    b.attributes.insert("country".into(), text("US"));
    let out = merged(&m, &mut a, &b, rec(1));
    assert_eq!(a.attributes.get("company"), Some(&text("Acme")));
    assert_eq!(a.attributes.get("country"), Some(&text("US")));
    assert_eq!(out.attributes_taken, vec!["country".to_owned()]);
    assert_eq!(a.scores.fit, p(5));
    assert!(!merged(&m, &mut a, &b, rec(2)).changed());
}

#[test]
fn first_seen_is_the_earlier_and_last_engaged_the_later() {
    let m = rules();
    let mut a = lead(&m, "lead-1", &[pricing("p1", at(3, 9))], rec(3));
    let b = lead(
        &m,
        "lead-2",
        &[
            pricing("p0", at(1, 9)),
            ev("w1", at(5, 9), EventKind::WebinarAttended),
        ],
        rec(5),
    );
    merged(&m, &mut a, &b, rec(6));
    assert_eq!(a.first_seen_at, Some(at(1, 9)));
    assert_eq!(a.last_engaged_at, Some(at(5, 9)));
}

// ---------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------

#[test]
fn a_merge_over_the_threshold_qualifies_the_survivor() {
    let m = rules();
    let mut a = lead(
        &m,
        "lead-1",
        &[
            ev("f1", at(0, 9), EventKind::FormSubmit),
            pricing("p1", at(0, 10)),
        ],
        rec(0),
    );
    let b = lead(
        &m,
        "lead-2",
        &[
            ev("f2", at(1, 9), EventKind::FormSubmit),
            pricing("p2", at(1, 10)),
        ],
        rec(1),
    );
    assert_eq!((a.stage, b.stage), (Stage::Lead, Stage::Lead));
    let out = merged(&m, &mut a, &b, rec(2));
    assert_eq!(a.scores.total, p(40 + 10 + 40 + 10));
    assert_eq!(a.stage, Stage::Mql);
    assert_eq!(
        moves(&out.transitions),
        vec![(
            Stage::Lead,
            Stage::Mql,
            rec(2),
            Reason::ScoreReached {
                score: p(100),
                threshold: p(100)
            }
        )]
    );
    assert_eq!(a.transitions, out.transitions);
}

#[test]
fn an_absorbed_hand_raiser_qualifies_the_survivor_instantly() {
    let m = rules();
    let mut a = lead(&m, "lead-1", &[pricing("p1", at(0, 9))], rec(0));
    let b = lead(
        &m,
        "lead-2",
        &[ev("d1", at(1, 9), EventKind::DemoRequest)],
        rec(1),
    );
    assert_eq!(b.stage, Stage::Mql);
    let out = merged(&m, &mut a, &b, rec(2));
    assert_eq!(a.scores.total, p(15));
    assert_eq!(a.stage, Stage::Mql);
    assert!(a.mql_via_instant);
    assert_eq!(
        moves(&out.transitions),
        vec![(
            Stage::Lead,
            Stage::Mql,
            at(1, 9),
            Reason::InstantMql {
                rule: "demo".into(),
                activity: "d1".into()
            }
        )]
    );
}

#[test]
fn the_more_advanced_sales_stage_is_carried_over() {
    let m = rules();
    let mut a = lead(
        &m,
        "lead-1",
        &[ev("f1", at(0, 9), EventKind::FormSubmit)],
        rec(0),
    );
    let b = lead(
        &m,
        "lead-2",
        &[
            pricing("p1", at(0, 9)),
            feedback("s1", at(1, 9), FeedbackOutcome::Accepted),
        ],
        rec(1),
    );
    assert_eq!(b.stage, Stage::Sql);
    let out = merged(&m, &mut a, &b, rec(2));
    assert_eq!(a.stage, Stage::Sql);
    assert_eq!(a.stage_since, Some(rec(2)));
    assert_eq!(
        moves(&out.transitions),
        vec![(
            Stage::Lead,
            Stage::Sql,
            rec(2),
            Reason::Merged {
                absorbed: "lead-2".into()
            }
        )]
    );
    assert_eq!(a.scores.total, p(50));
    // Sales feedback redelivered to the survivor is a duplicate.
    let again = run(
        &m,
        &mut a,
        &[feedback("s1", at(1, 9), FeedbackOutcome::Accepted)],
        rec(3),
    );
    assert_eq!(again.duplicates, 1);

    // Customer outranks SQL...
    let c = lead(
        &m,
        "lead-3",
        &[feedback("w1", at(2, 9), FeedbackOutcome::Won)],
        rec(2),
    );
    let out = merged(&m, &mut a, &c, rec(4));
    assert_eq!(
        moves(&out.transitions),
        vec![(
            Stage::Sql,
            Stage::Customer,
            rec(4),
            Reason::Merged {
                absorbed: "lead-3".into()
            }
        )]
    );
    // ...and a customer is not taken back to SQL.
    let out = merged(&m, &mut a, &b, rec(5));
    assert!(out.transitions.is_empty());
    assert_eq!(a.stage, Stage::Customer);
}

#[test]
fn disqualified_or_recycled_absorbed_leads_do_not_move_the_survivor() {
    let m = rules();
    for outcome in [FeedbackOutcome::Disqualified, FeedbackOutcome::Recycled] {
        let mut a = lead(&m, "lead-1", &[pricing("p1", at(0, 9))], rec(0));
        let b = lead(&m, "lead-2", &[feedback("s1", at(1, 9), outcome)], rec(1));
        let out = merged(&m, &mut a, &b, rec(2));
        assert!(out.transitions.is_empty(), "{outcome:?}");
        assert_eq!(a.stage, Stage::Lead);
    }
    // An open opportunity outranks a disqualification of the surviving record.
    let mut a = lead(
        &m,
        "lead-1",
        &[feedback("s0", at(0, 9), FeedbackOutcome::Disqualified)],
        rec(0),
    );
    let b = lead(
        &m,
        "lead-2",
        &[feedback("s1", at(1, 9), FeedbackOutcome::Accepted)],
        rec(1),
    );
    merged(&m, &mut a, &b, rec(2));
    assert_eq!(a.stage, Stage::Sql);
}

#[test]
fn an_sql_survivor_is_not_requalified_by_the_merged_score() {
    let m = rules();
    let mut a = lead(
        &m,
        "lead-1",
        &[feedback("s0", at(0, 9), FeedbackOutcome::Accepted)],
        rec(0),
    );
    let b = lead(
        &m,
        "lead-2",
        &[
            ev("f1", at(0, 9), EventKind::FormSubmit),
            ev("f2", at(0, 10), EventKind::FormSubmit),
            ev("f3", at(0, 11), EventKind::FormSubmit),
        ],
        rec(0),
    );
    assert_eq!(b.stage, Stage::Mql);
    let out = merged(&m, &mut a, &b, rec(1));
    assert_eq!(a.scores.total, p(120));
    assert!(out.transitions.is_empty());
    assert_eq!(a.stage, Stage::Sql);
}

// ---------------------------------------------------------------------------------------
// Decay
// ---------------------------------------------------------------------------------------

#[test]
fn the_absorbed_leads_decay_is_not_carried_over() {
    let m = model_with(
        r#"
[decay]
idle_days = 1
every = "day"
points = 1

[[activity]]
id = "form"
kind = "form_submit"
points = 40

[[activity]]
id = "visit"
kind = "page_view"
points = 10
expires_after = "5d"
"#,
    );
    let mut a = lead(
        &m,
        "lead-1",
        &[ev("f1", at(8, 9), EventKind::FormSubmit)],
        rec(8),
    );
    run_decay(&m, &mut a, day(8), rec(8));
    let mut b = lead(
        &m,
        "lead-2",
        &[
            ev("f2", at(0, 9), EventKind::FormSubmit),
            page("v1", at(0, 10), "https://x.io/"),
            page("v2", at(6, 10), "https://x.io/"),
        ],
        rec(0),
    );
    run_decay(&m, &mut b, day(8), rec(8));
    assert!(b.scores.total < p(60), "B decayed: {}", b.scores.total);
    let survivor = a.clone();

    let out = merged(&m, &mut a, &b, rec(9));
    // Both forms count in full (no inactivity decay from B), v1 has expired as of the
    // survivor's last decayed day (day 8), v2 has not.
    assert_eq!(a.scores.total, p(40 + 40 + 10));
    assert!(entries_with(&a, Cause::Decayed).is_empty());
    assert_eq!(out.activities_added, 3);
    assert_eq!(a.decayed_through, Some(day(8)));
    // As if the survivor had received B's events late, at the merge.
    let mut late = survivor;
    run(
        &m,
        &mut late,
        &[
            ev("f2", at(0, 9), EventKind::FormSubmit),
            page("v1", at(0, 10), "https://x.io/"),
            page("v2", at(6, 10), "https://x.io/"),
        ],
        rec(9),
    );
    assert_same_state(&a, &late);
}

// ---------------------------------------------------------------------------------------
// Property: a merge is one lead that received both streams
// ---------------------------------------------------------------------------------------

static EXAMPLE: LazyLock<Model> = LazyLock::new(|| {
    Model::from_toml(
        include_str!("../../../models/example.toml"),
        "models/example.toml",
    )
    .unwrap_or_else(|e| panic!("the example model must compile:\n{e}"))
});

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
}

fn pday(offset: i64) -> NaiveDate {
    base().date_naive() + TimeDelta::days(offset)
}

/// The clock of every call, so that ledgers can be compared entry for entry.
fn pnow() -> DateTime<Utc> {
    base() + TimeDelta::days(100)
}

const URLS: &[&str] = &[
    "https://northwind.io/pricing",
    "https://northwind.io/product/x",
    "https://northwind.io/automation",
    "https://northwind.io/careers/jobs",
    "https://northwind.io/blog/a",
];

const ATTRS: &[(&str, &str)] = &[
    ("job_title", "VP Marketing"),
    ("job_title", "Student"),
    ("job_title", ""),
    ("role", "marketing"),
    ("role", "sales"),
    ("company_size", "250"),
    ("country", "US"),
    ("email", "ann@gmail.com"),
    ("email", "bob@acme-corp.com"),
];

/// An event body (id and time set later); `true` when it is sales feedback.
fn body() -> impl Strategy<Value = Event> {
    use EventKind::*;
    let bare = |k| Event::new("", base(), k);
    prop_oneof![
        8 => select(URLS).prop_map(move |u| bare(PageView).with_url(u)),
        2 => Just(bare(EmailOpen)),
        2 => select(URLS).prop_map(move |u| bare(EmailClick).with_url(u)),
        1 => Just(bare(EmailReply)),
        1 => Just(bare(EmailUnsubscribe)),
        1 => Just(bare(FormSubmit).with_target("contact-sales")),
        2 => Just(bare(ContentDownload).with_target("ebook-x")),
        2 => Just(bare(WebinarAttended).with_target("webinar-1")),
        1 => Just(bare(DemoRequest)),
        1 => Just(bare(TrialStarted)),
        2 => Just(bare(Custom).with_name("workflow_created")),
        3 => prop::collection::vec(select(ATTRS), 1..3).prop_map(move |kv| {
            kv.into_iter().fold(bare(Identify), |e, (k, v)| {
                let v = if v.is_empty() { AttrValue::Null } else { text(v) };
                e.with_property(k, v)
            })
        }),
        1 => select(&[FeedbackOutcome::Accepted, FeedbackOutcome::Recycled, FeedbackOutcome::Won][..])
            .prop_map(move |o| bare(SalesFeedback).with_outcome(o)),
    ]
}

/// Whose event it is: the survivor's, the absorbed lead's, or both (delivered to each).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Owner {
    Survivor,
    Absorbed,
    Both,
}

#[derive(Clone, Debug)]
struct Item {
    event: Event,
    owner: Owner,
    day: i64,
    second: i64,
    arrival: u8,
    cut: bool,
    decay: Option<i64>,
}

fn item() -> impl Strategy<Value = Item> {
    (
        body(),
        prop_oneof![
            4 => Just(Owner::Survivor),
            4 => Just(Owner::Absorbed),
            1 => Just(Owner::Both)
        ],
        prop_oneof![3 => 0i64..5, 1 => 0i64..40],
        0i64..86_400,
        any::<u8>(),
        prop::bool::weighted(0.3),
        prop::option::weighted(0.2, 0i64..60),
    )
        .prop_map(|(event, owner, day, second, arrival, cut, decay)| Item {
            event,
            owner,
            day,
            second,
            arrival,
            cut,
            decay,
        })
}

#[derive(Clone, Debug)]
enum Op {
    Apply(Vec<Event>),
    Decay(NaiveDate),
}

/// Each lead's calls: its events shuffled into batches, with decay sweeps after some.
#[derive(Clone, Debug)]
struct Split {
    survivor: Vec<Op>,
    absorbed: Vec<Op>,
    /// The absorbed lead's events, in generation order.
    absorbed_events: Vec<Event>,
}

fn split(max: usize) -> impl Strategy<Value = Split> {
    prop::collection::vec(item(), 1..=max).prop_map(|mut items| {
        for (i, it) in items.iter_mut().enumerate() {
            it.event.id = format!("ev-{i}");
            it.event.occurred_at = base()
                + TimeDelta::seconds(it.day * 86_400 + it.second)
                + TimeDelta::milliseconds(i as i64);
            // Sales feedback on the absorbed lead would carry its stage: tested above.
            if it.event.kind == EventKind::SalesFeedback {
                it.owner = Owner::Survivor;
            }
        }
        let ops = |keep: &dyn Fn(Owner) -> bool| {
            let mut mine: Vec<&Item> = items.iter().filter(|it| keep(it.owner)).collect();
            mine.sort_by_key(|it| it.arrival);
            let mut ops = Vec::new();
            let mut batch = Vec::new();
            for (k, it) in mine.iter().enumerate() {
                batch.push(it.event.clone());
                if it.cut || k + 1 == mine.len() {
                    ops.push(Op::Apply(std::mem::take(&mut batch)));
                    if let Some(d) = it.decay {
                        ops.push(Op::Decay(pday(d)));
                    }
                }
            }
            ops
        };
        Split {
            survivor: ops(&|o| o != Owner::Absorbed),
            absorbed: ops(&|o| o != Owner::Survivor),
            absorbed_events: items
                .iter()
                .filter(|it| it.owner != Owner::Survivor)
                .map(|it| it.event.clone())
                .collect(),
        }
    })
}

fn play(id: &str, ops: &[Op]) -> LeadState {
    let mut s = LeadState::new(id);
    for op in ops {
        match op {
            Op::Apply(batch) => apply(&EXAMPLE, &mut s, batch, pnow()),
            Op::Decay(d) => decay(&EXAMPLE, &mut s, *d, pnow()),
        };
    }
    s
}

/// The first field where two states differ (the states are too long to print whole).
fn first_difference(a: &LeadState, b: &LeadState) -> Option<String> {
    macro_rules! fields {
        ($($f:ident),*) => {
            $(if a.$f != b.$f {
                return Some(format!("{}: {:?}\n   vs {:?}", stringify!($f), a.$f, b.$f));
            })*
        };
    }
    fields!(
        attributes,
        attribute_stamps,
        stage,
        stage_since,
        mql_via_instant,
        scores,
        history,
        combos,
        fit,
        seen,
        first_seen_at,
        last_engaged_at,
        decayed_through,
        transitions
    );
    if a.ledger != b.ledger {
        let i = a
            .ledger
            .iter()
            .zip(&b.ledger)
            .take_while(|(x, y)| x == y)
            .count();
        return Some(format!(
            "ledger ({} vs {} entries), first difference at #{i}: {:?}\n   vs {:?}",
            a.ledger.len(),
            b.ledger.len(),
            a.ledger.get(i),
            b.ledger.get(i)
        ));
    }
    (a != b).then(|| "another field".to_owned())
}

/// A state as read back from a store: the ledger comes back as its count only.
fn stored(s: &LeadState) -> LeadState {
    let json = serde_json::to_string(s).expect("state serializes");
    serde_json::from_str(&json).expect("state parses")
}

fn check_merge(sp: &Split) -> Result<(), TestCaseError> {
    let m = &*EXAMPLE;
    let survivor = play("lead-1", &sp.survivor);
    let absorbed = play("lead-2", &sp.absorbed);

    let mut merged = survivor.clone();
    let out = merge(m, &mut merged, &absorbed, pnow());
    prop_assert_eq!(merged.scores.total, merged.ledger_total());
    prop_assert_eq!(out.new_entries, merged.ledger.len() - survivor.ledger.len());
    prop_assert_eq!(
        &merged.ledger[..survivor.ledger.len()],
        &survivor.ledger[..]
    );

    // One lead that received the survivor's calls, then the absorbed lead's events in one
    // late batch at the same clock: the very same state, ledger entry for entry.
    let mut one = survivor.clone();
    let batch = apply(m, &mut one, &sp.absorbed_events, pnow());
    if let Some(d) = first_difference(&merged, &one) {
        prop_assert!(false, "merged vs one lead:\n{}", d);
    }
    prop_assert_eq!(&out.transitions, &batch.transitions);
    prop_assert_eq!(out.new_entries, batch.new_entries);

    // The same on states as a store holds them (the ledger's entries stored apart, rule
    // indices not serialized): the same new entries, numbered on from the stored ones.
    let mut loaded = stored(&survivor);
    let out_loaded = merge(m, &mut loaded, &stored(&absorbed), pnow());
    prop_assert_eq!(&out_loaded, &out);
    prop_assert_eq!(&loaded.scores, &merged.scores);
    prop_assert_eq!(&loaded.history, &merged.history);
    prop_assert_eq!(&loaded.ledger[..], &merged.ledger[survivor.ledger.len()..]);

    // Merging again changes nothing.
    let once = merged.clone();
    let again = merge(m, &mut merged, &absorbed, pnow());
    prop_assert_eq!(&again, &MergeOutcome::default());
    if let Some(d) = first_difference(&once, &merged) {
        prop_assert!(false, "second merge changed the state:\n{}", d);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Merging equals one lead that received both leads' events (the absorbed lead's last,
    /// as one late batch), whatever the split, the batches and the decay sweeps of either
    /// lead; and a second merge changes nothing.
    #[test]
    fn a_merge_is_one_lead_with_both_event_streams(sp in split(30)) {
        check_merge(&sp)?;
    }
}
