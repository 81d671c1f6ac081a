//! Day-by-day decay: inactivity decay (points, percent), its floor, rule lifetimes
//! (expiry, half-life), product splits, idempotence and catch-up.

mod common;

use common::*;
use leadscore_domain::{Cause, EventKind, LeadState, Model, Points, Source};

fn decay_model(decay: &str, rules: &str) -> Model {
    model_with(&format!("[decay]\n{decay}\n{rules}"))
}

const FORM_10: &str = r#"
[[activity]]
id = "form"
kind = "form_submit"
points = 10
"#;

/// (day, points) of the inactivity entries.
fn decay_steps(s: &LeadState) -> Vec<(chrono::NaiveDate, Points)> {
    s.ledger
        .iter()
        .filter_map(|e| match e.source {
            Source::Inactivity { day } => {
                assert_eq!(e.cause, Cause::Decayed);
                Some((day, e.points))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn points_per_day_after_idle_days() {
    let m = decay_model("idle_days = 3\nevery = \"day\"\npoints = 2", FORM_10);
    let mut s = lead_with(&m, &[form("f1", at(0, 9))]);
    run_decay(&m, &mut s, day(2), rec(2));
    assert_eq!(s.scores.activity, p(10));
    assert!(decay_steps(&s).is_empty());
    run_decay(&m, &mut s, day(3), rec(3));
    assert_eq!(s.scores.activity, p(8));
    run_decay(&m, &mut s, day(5), rec(5));
    assert_eq!(s.scores.activity, p(4));
    assert_eq!(
        decay_steps(&s),
        vec![(day(3), p(-2)), (day(4), p(-2)), (day(5), p(-2))]
    );
    assert_eq!(s.decayed_through, Some(day(5)));
}

#[test]
fn percent_per_week_first_step_at_idle_days_then_weekly() {
    let m = decay_model(
        "idle_days = 14\nevery = \"week\"\npercent = 10",
        "[[activity]]\nid = \"big\"\nkind = \"trial_started\"\npoints = 100\n",
    );
    let mut s = lead_with(&m, &[ev("t1", at(0, 9), EventKind::TrialStarted)]);
    run_decay(&m, &mut s, day(13), rec(13));
    assert_eq!(s.scores.activity, p(100));
    run_decay(&m, &mut s, day(14), rec(14));
    assert_eq!(s.scores.activity, p(90));
    run_decay(&m, &mut s, day(20), rec(20));
    assert_eq!(s.scores.activity, p(90));
    run_decay(&m, &mut s, day(21), rec(21));
    assert_eq!(s.scores.activity, p(81));
    run_decay(&m, &mut s, day(28), rec(28));
    assert_eq!(s.scores.activity, Points(7290));
    assert_eq!(
        decay_steps(&s),
        vec![
            (day(14), p(-10)),
            (day(21), Points(-900)),
            (day(28), Points(-810))
        ]
    );
}

#[test]
fn decay_stops_at_its_floor() {
    let m = decay_model(
        "idle_days = 1\nevery = \"day\"\npoints = 5\nfloor = 8",
        "[[activity]]\nid = \"form\"\nkind = \"form_submit\"\npoints = 20\n",
    );
    let mut s = lead_with(&m, &[form("f1", at(0, 9))]);
    run_decay(&m, &mut s, day(10), rec(10));
    assert_eq!(s.scores.activity, p(8));
    assert_eq!(
        decay_steps(&s),
        vec![(day(1), p(-5)), (day(2), p(-5)), (day(3), p(-2))]
    );
}

#[test]
fn decay_never_raises_a_score() {
    let rules = r#"
[[activity]]
id = "form"
kind = "form_submit"
points = 10

[[activity]]
id = "unsubscribe"
kind = "email_unsubscribe"
points = -25

[[fit]]
id = "de"
attribute = "country"
equals = "de"
points = 50
"#;
    for d in [
        "idle_days = 1\nevery = \"day\"\npoints = 5",
        "idle_days = 1\nevery = \"day\"\npercent = 50",
    ] {
        let m = decay_model(d, rules);
        // Activity is negative (10 - 25): decay has nothing to take and must not add.
        let mut s = lead_with(
            &m,
            &[
                identify("i", at(0, 8), &[("country", text("de"))]),
                form("f1", at(0, 9)),
                ev("u1", at(0, 10), EventKind::EmailUnsubscribe),
            ],
        );
        let before = s.scores.clone();
        run_decay(&m, &mut s, day(60), rec(60));
        assert_eq!(s.scores, before, "{d}");
        assert_eq!((s.scores.fit, s.scores.activity), (p(50), p(-15)));
        assert!(decay_steps(&s).is_empty());
    }
    // Activity below the decay floor stays where it is.
    let m = decay_model(
        "idle_days = 1\nevery = \"day\"\npoints = 5\nfloor = 20",
        FORM_10,
    );
    let mut s = lead_with(&m, &[form("f1", at(0, 9))]);
    run_decay(&m, &mut s, day(30), rec(30));
    assert_eq!(s.scores.activity, p(10));
    assert!(decay_steps(&s).is_empty());
}

#[test]
fn fit_points_do_not_decay() {
    let m = decay_model(
        "idle_days = 1\nevery = \"day\"\npoints = 100",
        &format!("{FORM_10}\n[[fit]]\nid = \"de\"\nattribute = \"country\"\nequals = \"de\"\npoints = 50\n"),
    );
    let mut s = lead_with(
        &m,
        &[
            identify("i", at(0, 8), &[("country", text("de"))]),
            form("f1", at(0, 9)),
        ],
    );
    run_decay(&m, &mut s, day(5), rec(5));
    assert_eq!(
        (s.scores.fit, s.scores.activity, s.scores.total),
        (p(50), p(0), p(50))
    );
    assert_eq!(decay_steps(&s), vec![(day(1), p(-10))]);
}

/// A model with every kind of decay at once: weekly percent, an expiring rule, a half-life
/// rule, product tags and going cold. The MQL threshold is out of reach so that only
/// scoring is compared (lifecycle moves during catch-up have their own test).
fn everything_model() -> Model {
    model(
        r#"
[model]
name = "everything"
products = ["alpha", "beta"]

[thresholds]
mql = 1000
mql_exit = 700

[decay]
idle_days = 7
every = "week"
percent = 15
cold_after_days = 40

[[activity]]
id = "form"
kind = "form_submit"
points = 33
product = "alpha"

[[activity]]
id = "visit"
kind = "page_view"
points = 7
expires_after = "10d"

[[activity]]
id = "webinar"
kind = "webinar_attended"
points = 25
half_life = "9d"
product = "beta"

[[activity]]
id = "reply"
kind = "email_reply"
points = 41
"#,
    )
}

fn everything_events() -> Vec<leadscore_domain::Event> {
    vec![
        form("f1", at(0, 9)),
        page("v1", at(0, 10), "u"),
        ev("w1", at(2, 9), EventKind::WebinarAttended),
        ev("r1", at(3, 9), EventKind::EmailReply),
        page("v2", at(5, 9), "u"),
    ]
}

#[test]
fn decay_is_idempotent() {
    let m = everything_model();
    let mut s = lead_with(&m, &everything_events());
    run_decay(&m, &mut s, day(50), rec(50));
    assert_eq!(s.stage, leadscore_domain::Stage::Nurture, "went cold");
    let once = s.clone();
    let out = run_decay(&m, &mut s, day(50), rec(51));
    assert_eq!(out.new_entries, 0);
    assert!(out.transitions.is_empty());
    assert_eq!(s, once);
    // An earlier day than already decayed changes nothing either.
    run_decay(&m, &mut s, day(30), rec(52));
    assert_eq!(s, once);
}

#[test]
fn catch_up_equals_day_by_day() {
    let m = everything_model();
    let mut direct = lead_with(&m, &everything_events());
    let mut daily = direct.clone();
    run_decay(&m, &mut direct, day(35), rec(35));
    for d in 0..=35 {
        run_decay(&m, &mut daily, day(d), rec(35));
    }
    assert_same_state(&direct, &daily);
    // Something did happen: expiry, half-life and inactivity decay.
    for cause in [Cause::Expired, Cause::HalfLife, Cause::Decayed] {
        assert!(!entries_with(&direct, cause).is_empty(), "{cause:?}");
    }
    assert!(direct.scores.total < p(50));
}

#[test]
fn catch_up_from_a_partly_decayed_state_equals_day_by_day() {
    let m = everything_model();
    let mut direct = lead_with(&m, &everything_events());
    run_decay(&m, &mut direct, day(4), rec(4));
    let mut daily = direct.clone();
    run_decay(&m, &mut direct, day(33), rec(40));
    for d in 5..=33 {
        run_decay(&m, &mut daily, day(d), rec(40));
    }
    assert_same_state(&direct, &daily);
}

#[test]
fn catch_up_records_the_same_lifecycle_moves_as_nightly_sweeps() {
    // 120 points lose 2 a day from day 1; cold after 20 idle days. Nightly sweeps find the
    // lead cold on day 20 with 80 points (still above the exit threshold of 70).
    let m = model_with(
        r#"
[decay]
idle_days = 1
every = "day"
points = 2
cold_after_days = 20

[[activity]]
id = "trial"
kind = "trial_started"
points = 120
"#,
    );
    let mut direct = lead_with(&m, &[ev("t1", at(0, 9), EventKind::TrialStarted)]);
    assert_eq!(direct.stage, leadscore_domain::Stage::Mql);
    let mut daily = direct.clone();
    for d in 0..=30 {
        run_decay(&m, &mut daily, day(d), rec(30));
    }
    run_decay(&m, &mut direct, day(30), rec(30));
    assert_eq!(direct.scores, daily.scores);
    let moves = |s: &LeadState| {
        s.transitions
            .iter()
            .map(|t| (t.from, t.to, t.reason.clone()))
            .collect::<Vec<_>>()
    };
    use leadscore_domain::{Reason, Stage};
    assert_eq!(
        moves(&daily),
        vec![
            (
                Stage::Lead,
                Stage::Mql,
                Reason::ScoreReached {
                    score: p(120),
                    threshold: p(100)
                }
            ),
            (Stage::Mql, Stage::Nurture, Reason::Cold { idle_days: 20 }),
        ]
    );
    // "missed days are caught up one by one, so a late sweep ends where nightly sweeps
    // would have" (engine/decay.rs).
    assert_eq!(moves(&direct), moves(&daily));
}

#[test]
fn catch_up_with_score_floor_adjustments_equals_day_by_day() {
    // A negative fit keeps the total near the score floor (0) while activity decays.
    let m = model(
        r#"
[model]
name = "floor"

[thresholds]
mql = 100
mql_exit = 70
floor = 0

[decay]
idle_days = 1
every = "day"
points = 3

[[fit]]
id = "free-mail"
attribute = "email_domain"
in_list = "free_mail"
points = -10

[[activity]]
id = "form"
kind = "form_submit"
points = 20
"#,
    );
    let mut direct = lead_with(
        &m,
        &[
            identify("i", at(0, 8), &[("email", text("a@gmail.com"))]),
            form("f1", at(0, 9)),
        ],
    );
    let mut daily = direct.clone();
    run_decay(&m, &mut direct, day(10), rec(10));
    for d in 0..=10 {
        run_decay(&m, &mut daily, day(d), rec(10));
    }
    assert_eq!(
        (
            direct.scores.activity,
            direct.scores.adjustment,
            direct.scores.total
        ),
        (p(0), p(10), p(0))
    );
    assert_eq!(direct.scores, daily.scores);
    assert_same_state(&direct, &daily);
}

#[test]
fn expiry_removes_points_at_expires_after_days() {
    let m = model_with(
        r#"
[[activity]]
id = "visit"
kind = "page_view"
points = 10
expires_after = "30d"

[[activity]]
id = "form"
kind = "form_submit"
points = 5
"#,
    );
    let mut s = lead_with(&m, &[page("v1", at(0, 9), "u"), form("f1", at(0, 9))]);
    run_decay(&m, &mut s, day(29), rec(29));
    assert_eq!(s.scores.total, p(15));
    run_decay(&m, &mut s, day(30), rec(30));
    assert_eq!(s.scores.total, p(5));
    assert_eq!(
        activity_entries(&s, "visit"),
        vec![
            ("v1".into(), p(10), Cause::Scored),
            ("v1".into(), p(-10), Cause::Expired)
        ]
    );
    assert_eq!(s.history[1].matches[0].current, p(0));
    assert_eq!(s.history[1].matches[0].awarded, p(10));
    run_decay(&m, &mut s, day(90), rec(90));
    assert_eq!(activity_entries(&s, "visit").len(), 2);
}

#[test]
fn activity_arriving_after_it_expired_scores_nothing() {
    let m = model_with(
        r#"
[[activity]]
id = "visit"
kind = "page_view"
points = 10
expires_after = "30d"
"#,
    );
    let mut s = lead_with(&m, &[page("v2", at(35, 9), "u")]);
    run_decay(&m, &mut s, day(40), rec(40));
    run(&m, &mut s, &[page("v1", at(5, 9), "u")], rec(40));
    assert_eq!(s.scores.total, p(10));
    assert_eq!(
        activity_entries(&s, "visit"),
        vec![("v2".into(), p(10), Cause::Scored)]
    );
}

#[test]
fn half_life_halves_points_after_half_life_days() {
    let m = model_with(
        r#"
[[activity]]
id = "webinar"
kind = "webinar_attended"
points = 8
half_life = "10d"
"#,
    );
    let mut s = lead_with(&m, &[ev("w1", at(0, 9), EventKind::WebinarAttended)]);
    run_decay(&m, &mut s, day(5), rec(5));
    // 8 * 0.5^(5/10) = 5.657
    assert_eq!(s.scores.total, Points(566));
    run_decay(&m, &mut s, day(10), rec(10));
    assert_eq!(s.scores.total, p(4));
    run_decay(&m, &mut s, day(20), rec(20));
    assert_eq!(s.scores.total, p(2));
    let entries = activity_entries(&s, "webinar");
    assert_eq!(entries[0], ("w1".into(), p(8), Cause::Scored));
    assert!(entries[1..]
        .iter()
        .all(|(_, pts, c)| *c == Cause::HalfLife && pts.0 < 0));
    assert_eq!(entries.len(), 21, "one entry a day for 20 days");
    assert_eq!(s.history[0].matches[0].current, p(2));
}

#[test]
fn product_tagged_points_decay_proportionally() {
    let m = decay_model(
        "idle_days = 1\nevery = \"day\"\npercent = 10",
        r#"
[[activity]]
id = "a"
kind = "form_submit"
points = 30
product = "alpha"

[[activity]]
id = "b"
kind = "webinar_attended"
points = 10
product = "beta"

[[activity]]
id = "u"
kind = "email_reply"
points = 20

[[fit]]
id = "fit-alpha"
attribute = "country"
equals = "de"
points = 5
product = "alpha"
"#,
    );
    let mut s = lead_with(
        &m,
        &[
            identify("i", at(0, 8), &[("country", text("de"))]),
            form("f1", at(0, 9)),
            ev("w1", at(0, 9), EventKind::WebinarAttended),
            ev("r1", at(0, 9), EventKind::EmailReply),
        ],
    );
    run_decay(&m, &mut s, day(1), rec(1));
    // 10% of 60 = 6: alpha 3, beta 1, untagged 2.
    assert_eq!(s.scores.activity, p(54));
    assert_eq!(
        s.scores.activity_by_product.get("alpha").copied(),
        Some(p(27))
    );
    assert_eq!(
        s.scores.activity_by_product.get("beta").copied(),
        Some(p(9))
    );
    assert_eq!(s.scores.products.get("alpha").copied(), Some(p(32)));
    assert_eq!(s.scores.products.get("beta").copied(), Some(p(9)));
    run_decay(&m, &mut s, day(2), rec(2));
    // 10% of 54 = 5.4: alpha 2.7, beta 0.9, untagged 1.8.
    assert_eq!(s.scores.activity, Points(4860));
    assert_eq!(
        s.scores.activity_by_product.get("alpha").copied(),
        Some(Points(2430))
    );
    assert_eq!(
        s.scores.activity_by_product.get("beta").copied(),
        Some(Points(810))
    );
    assert_eq!(s.scores.products.get("alpha").copied(), Some(Points(2930)));
    assert_eq!(s.scores.total, Points(4860 + 500));
    let tagged: Vec<_> = s
        .ledger
        .iter()
        .filter(|e| e.cause == Cause::Decayed)
        .map(|e| (e.product.as_deref().map(str::to_owned), e.points))
        .collect();
    assert_eq!(
        tagged,
        vec![
            (Some("alpha".into()), p(-3)),
            (Some("beta".into()), p(-1)),
            (None, p(-2)),
            (Some("alpha".into()), Points(-270)),
            (Some("beta".into()), Points(-90)),
            (None, Points(-180)),
        ]
    );
}

#[test]
fn product_shares_never_exceed_the_step_when_all_activity_is_tagged() {
    let m = decay_model(
        "idle_days = 1\nevery = \"day\"\npercent = 10",
        r#"
[[activity]]
id = "a"
kind = "form_submit"
points = 10
product = "alpha"

[[activity]]
id = "b"
kind = "webinar_attended"
points = 20
product = "beta"
"#,
    );
    let mut s = lead_with(
        &m,
        &[
            form("f1", at(0, 9)),
            ev("w1", at(0, 9), EventKind::WebinarAttended),
        ],
    );
    run_decay(&m, &mut s, day(1), rec(1));
    assert_eq!(s.scores.activity, p(27));
    assert_eq!(s.scores.products.get("alpha").copied(), Some(p(9)));
    assert_eq!(s.scores.products.get("beta").copied(), Some(p(18)));
    let tagged: Points = s.scores.activity_by_product.values().copied().sum();
    assert_eq!(tagged, s.scores.activity, "no untagged remainder appears");
}

#[test]
fn recent_activity_resets_idleness() {
    let m = decay_model(
        "idle_days = 3\nevery = \"day\"\npoints = 2",
        &format!(
            "{FORM_10}\n[[activity]]\nid = \"unsub\"\nkind = \"email_unsubscribe\"\npoints = -1\n"
        ),
    );
    let mut s = lead_with(&m, &[form("f1", at(0, 9)), form("f2", at(2, 9))]);
    run_decay(&m, &mut s, day(4), rec(4));
    assert_eq!(s.scores.activity, p(20));
    run_decay(&m, &mut s, day(5), rec(5));
    assert_eq!(s.scores.activity, p(18));
    assert_eq!(decay_steps(&s), vec![(day(5), p(-2))]);
    // A negative activity does not reset it; a non-scoring event neither.
    run(
        &m,
        &mut s,
        &[
            ev("u1", at(6, 9), EventKind::EmailUnsubscribe),
            ev("x1", at(6, 9), EventKind::Social),
        ],
        rec(6),
    );
    run_decay(&m, &mut s, day(6), rec(6));
    assert_eq!(decay_steps(&s), vec![(day(5), p(-2)), (day(6), p(-2))]);
    // New positive activity does.
    run(&m, &mut s, &[form("f3", at(7, 9))], rec(7));
    run_decay(&m, &mut s, day(9), rec(9));
    assert_eq!(decay_steps(&s).len(), 2);
    run_decay(&m, &mut s, day(10), rec(10));
    assert_eq!(decay_steps(&s).last(), Some(&(day(10), p(-2))));
}
