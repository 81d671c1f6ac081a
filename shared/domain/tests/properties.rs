//! Property tests of the engine's invariants, run with the example model against generated
//! event histories (every scorable kind, identify and sales feedback), split into random
//! batches that arrive in random order, with decay sweeps in between.

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use leadscore_domain::engine::Scores;
use leadscore_domain::model::Model;
use leadscore_domain::{
    apply, decay, explain, AttrValue, Dimension, Event, EventKind, FeedbackOutcome, LeadState,
    Outcome, Points,
};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

static MODEL: LazyLock<Model> = LazyLock::new(|| {
    Model::from_toml(
        include_str!("../../../models/example.toml"),
        "models/example.toml",
    )
    .unwrap_or_else(|e| panic!("the example model must compile:\n{e}"))
});

fn model() -> &'static Model {
    &MODEL
}

/// Midnight of the first day of every generated history.
fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
}

fn day(offset: i64) -> NaiveDate {
    base().date_naive() + TimeDelta::days(offset)
}

/// The clock passed to every call: one fixed instant, so runs that take different paths to
/// the same result can be compared entry for entry.
fn now() -> DateTime<Utc> {
    base() + TimeDelta::days(200)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Keep the test tree clean: failures are printed, not persisted.
        failure_persistence: None,
        max_shrink_iters: 20_000,
        ..ProptestConfig::default()
    }
}

// ------------------------------------------------------------------------------------------
// Generators
// ------------------------------------------------------------------------------------------

/// Pages that hit (and miss) the example's url globs and regexes.
const URLS: &[&str] = &[
    "https://northwind.io/pricing",
    "https://northwind.io/pricing?plan=team",
    "https://northwind.io/product/x",
    "https://northwind.io/features",
    "https://northwind.io/automation",
    "https://northwind.io/careers/jobs",
    "https://northwind.io/blog/a",
];

#[derive(Clone, Copy, Debug)]
enum Val {
    Text(&'static str),
    Num(f64),
    Null,
}

impl Val {
    fn attr(self) -> AttrValue {
        match self {
            Val::Text(s) => AttrValue::Text(s.to_owned()),
            Val::Num(n) => AttrValue::Number(n),
            Val::Null => AttrValue::Null,
        }
    }
}

/// Attribute updates an `identify` event may carry: values that match, miss and clear the
/// example's fit rules.
const ATTRS: &[(&str, Val)] = &[
    ("job_title", Val::Text("VP Marketing")),
    ("job_title", Val::Text("Director of Growth")),
    ("job_title", Val::Text("Product Manager")),
    ("job_title", Val::Text("Chief Data Officer")),
    ("job_title", Val::Text("Student")),
    ("job_title", Val::Text("Engineer")),
    ("job_title", Val::Text("   ")),
    ("job_title", Val::Null),
    ("seniority", Val::Text("executive")),
    ("seniority", Val::Text("individual")),
    ("role", Val::Text("marketing")),
    ("role", Val::Text("product")),
    ("role", Val::Text("sales")),
    ("role", Val::Null),
    ("industry", Val::Text("SaaS")),
    ("industry", Val::Text("retail")),
    ("company_size", Val::Num(5.0)),
    ("company_size", Val::Num(250.0)),
    ("company_size", Val::Text("1,200")),
    ("company_size", Val::Num(20_000.0)),
    ("annual_revenue", Val::Num(25_000_000.0)),
    ("annual_revenue", Val::Num(1_000_000.0)),
    ("country", Val::Text("US")),
    ("country", Val::Text("br")),
    ("phone", Val::Text("+1 555 0100")),
    ("phone", Val::Null),
    ("email", Val::Text("Ann@Gmail.com")),
    ("email", Val::Text("bob@acme-corp.com")),
    ("email", Val::Text("carl@eu.rivalytics.com")),
    ("email", Val::Text("dee@mailinator.com")),
];

const OUTCOMES: &[FeedbackOutcome] = &[
    FeedbackOutcome::Accepted,
    FeedbackOutcome::Disqualified,
    FeedbackOutcome::Recycled,
    FeedbackOutcome::Won,
    FeedbackOutcome::Reopened,
];

/// An event without its id and time (set by `history`).
fn bare(kind: EventKind) -> Event {
    Event::new("", base(), kind)
}

fn simple(kind: EventKind) -> BoxedStrategy<Event> {
    Just(bare(kind)).boxed()
}

/// One event of any kind, weighted towards the kinds with caps and combinations; `identify`
/// weighs attribute updates (the other kinds weigh 38 in all, 40 with feedback).
fn body(feedback: bool, identify: u32) -> BoxedStrategy<Event> {
    use EventKind::*;
    let mut arms: Vec<(u32, BoxedStrategy<Event>)> = vec![
        (
            10,
            select(URLS)
                .prop_map(|u| bare(PageView).with_url(u))
                .boxed(),
        ),
        (
            3,
            any::<bool>()
                .prop_map(|m| {
                    if m {
                        bare(EmailOpen).machine()
                    } else {
                        bare(EmailOpen)
                    }
                })
                .boxed(),
        ),
        (
            2,
            select(URLS)
                .prop_map(|u| bare(EmailClick).with_url(u))
                .boxed(),
        ),
        (2, simple(EmailReply)),
        (1, simple(EmailBounce)),
        (1, simple(EmailUnsubscribe)),
        (1, simple(EmailSpamReport)),
        (
            2,
            select(&["newsletter-q1", "contact-sales", "other"][..])
                .prop_map(|t| bare(FormSubmit).with_target(t))
                .boxed(),
        ),
        (
            2,
            select(&["ebook-x", "case-study-y"][..])
                .prop_map(|t| bare(ContentDownload).with_target(t))
                .boxed(),
        ),
        (
            1,
            Just(bare(WebinarRegistered).with_target("webinar-1")).boxed(),
        ),
        (
            2,
            Just(bare(WebinarAttended).with_target("webinar-1")).boxed(),
        ),
        (1, simple(TrialStarted)),
        (2, simple(DemoRequest)),
        (
            2,
            (0u32..=100)
                .prop_map(|p| {
                    bare(VideoWatched)
                        .with_target("tour")
                        .with_percent(f64::from(p))
                })
                .boxed(),
        ),
        (1, Just(bare(Social).with_target("linkedin")).boxed()),
        (
            1,
            any::<bool>()
                .prop_map(|c| {
                    let outcome = if c { "connected" } else { "no_answer" };
                    bare(PhoneCall).with_property("outcome", outcome.into())
                })
                .boxed(),
        ),
        (1, simple(Purchase)),
        (
            3,
            (
                select(&["workflow_created", "report_shared", "dashboard_viewed"][..]),
                select(&["trial", "paid", ""][..]),
            )
                .prop_map(|(name, plan)| {
                    let e = bare(Custom).with_name(name);
                    if plan.is_empty() {
                        e
                    } else {
                        e.with_property("plan", plan.into())
                    }
                })
                .boxed(),
        ),
        (
            identify,
            prop::collection::vec(select(ATTRS), 1..4)
                .prop_map(|attrs| {
                    attrs
                        .into_iter()
                        .fold(bare(Identify), |e, (k, v)| e.with_property(k, v.attr()))
                })
                .boxed(),
        ),
    ];
    if feedback {
        arms.push((
            2,
            select(OUTCOMES)
                .prop_map(|o| bare(SalesFeedback).with_outcome(o))
                .boxed(),
        ));
    }
    Union::new_weighted(arms).boxed()
}

/// One generated event with where it lands: its time (day and second after `base()`), its
/// arrival key (events arrive sorted by it), whether its batch ends after it, and a decay
/// sweep after that batch. Flat on purpose, so that failures shrink well.
#[derive(Clone, Debug)]
struct Item {
    event: Event,
    day: i64,
    second: i64,
    arrival: u8,
    cut: bool,
    decay: Option<i64>,
}

fn item(feedback: bool, identify: u32) -> impl Strategy<Value = Item> {
    // Mostly clustered in the first days (so caps and combinations bite), else over 60 days.
    let day = prop_oneof![3 => 0i64..5, 2 => 0i64..60];
    let decay = prop::option::weighted(0.3, 0i64..130);
    (
        body(feedback, identify),
        day,
        0i64..86_400,
        any::<u8>(),
        prop::bool::weighted(0.3),
        decay,
    )
        .prop_map(|(event, day, second, arrival, cut, decay)| Item {
            event,
            day,
            second,
            arrival,
            cut,
            decay,
        })
}

#[derive(Clone)]
enum Op {
    Apply(Vec<Event>),
    /// Decay through this day.
    Decay(NaiveDate),
}

/// A history (`events`, in generation order) and the calls that deliver it: the events
/// shuffled, split into batches, optionally with decay sweeps (through days within ~130 days
/// of the start, not necessarily increasing) after some batches.
#[derive(Clone)]
struct Scenario {
    events: Vec<Event>,
    ops: Vec<Op>,
}

/// Up to `max` events with distinct times (the generation index breaks ties, as
/// milliseconds) and unique ids.
fn scenario(max: usize, feedback: bool, decays: bool) -> impl Strategy<Value = Scenario> {
    scenario_with(max, feedback, decays, 4)
}

fn scenario_with(
    max: usize,
    feedback: bool,
    decays: bool,
    identify: u32,
) -> impl Strategy<Value = Scenario> {
    prop::collection::vec(item(feedback, identify), 1..=max).prop_map(move |items| {
        let mut events = Vec::with_capacity(items.len());
        for (i, it) in items.iter().enumerate() {
            let mut e = it.event.clone();
            e.id = format!("ev-{i}");
            e.occurred_at = base()
                + TimeDelta::seconds(it.day * 86_400 + it.second)
                + TimeDelta::milliseconds(i as i64);
            events.push(e);
        }
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&i| (items[i].arrival, i));
        let mut ops = Vec::new();
        let mut batch = Vec::new();
        for (k, &i) in order.iter().enumerate() {
            batch.push(events[i].clone());
            if items[i].cut || k + 1 == order.len() {
                ops.push(Op::Apply(std::mem::take(&mut batch)));
                if let Some(d) = items[i].decay.filter(|_| decays) {
                    ops.push(Op::Decay(day(d)));
                }
            }
        }
        Scenario { events, ops }
    })
}

/// One line per event, then the calls: the shrunk failing case stays readable.
fn describe(e: &Event) -> String {
    let mut s = format!(
        "{} {} {}",
        e.id,
        e.occurred_at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        e.kind
    );
    if let Some(u) = &e.url {
        s += &format!(" url={u}");
    }
    if let Some(t) = &e.target {
        s += &format!(" target={t}");
    }
    if let Some(p) = e.percent {
        s += &format!(" percent={p}");
    }
    if e.machine {
        s += " machine";
    }
    if let Some(n) = &e.name {
        s += &format!(" name={n}");
    }
    for (k, v) in &e.properties {
        s += &format!(" {k}={v:?}");
    }
    if let Some(o) = e.outcome {
        s += &format!(" outcome={o:?}");
    }
    s
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Apply(batch) => {
                let ids: Vec<&str> = batch.iter().map(|e| e.id.as_str()).collect();
                write!(f, "apply [{}]", ids.join(", "))
            }
            Op::Decay(d) => write!(f, "decay through {d}"),
        }
    }
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Scenario {{ events:")?;
        for e in &self.events {
            writeln!(f, "    {}", describe(e))?;
        }
        writeln!(f, "  calls (now = {}):", now())?;
        for op in &self.ops {
            writeln!(f, "    {op:?}")?;
        }
        write!(f, "}}")
    }
}

fn run(
    ops: &[Op],
    mut check: impl FnMut(&Op, &LeadState, &LeadState, &Outcome) -> Result<(), TestCaseError>,
) -> Result<LeadState, TestCaseError> {
    let m = model();
    let mut state = LeadState::new("lead-1");
    for op in ops {
        let before = state.clone();
        let out = match op {
            Op::Apply(batch) => apply(m, &mut state, batch, now()),
            Op::Decay(d) => decay(m, &mut state, *d, now()),
        };
        check(op, &before, &state, &out)?;
    }
    Ok(state)
}

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

fn sum_where(state: &LeadState, keep: impl Fn(&leadscore_domain::LedgerEntry) -> bool) -> Points {
    state
        .ledger
        .iter()
        .filter(|e| keep(e))
        .map(|e| e.points)
        .sum()
}

/// A points map without its zero entries (a product that netted to zero).
fn nonzero<K: Ord + Clone>(m: &BTreeMap<K, Points>) -> BTreeMap<K, Points> {
    m.iter()
        .filter(|(_, p)| !p.is_zero())
        .map(|(k, p)| (k.clone(), *p))
        .collect()
}

fn normalized(s: &Scores) -> Scores {
    Scores {
        products: nonzero(&s.products),
        activity_by_product: nonzero(&s.activity_by_product),
        ..s.clone()
    }
}

/// Property 1: every score is the sum of its ledger entries.
fn check_sums(state: &LeadState) -> Result<(), TestCaseError> {
    let s = &state.scores;
    prop_assert_eq!(s.total, state.ledger_total(), "total vs ledger");
    prop_assert_eq!(
        s.fit,
        sum_where(state, |e| e.dimension == Dimension::Fit),
        "fit vs ledger"
    );
    prop_assert_eq!(
        s.activity,
        sum_where(state, |e| e.dimension == Dimension::Activity),
        "activity vs ledger"
    );
    prop_assert_eq!(
        s.adjustment,
        sum_where(state, |e| e.dimension == Dimension::Adjustment),
        "adjustment vs ledger"
    );
    prop_assert_eq!(
        s.total,
        s.fit + s.activity + s.adjustment,
        "total vs dimensions"
    );
    let mut products: BTreeMap<String, Points> = BTreeMap::new();
    let mut activity_by_product: BTreeMap<String, Points> = BTreeMap::new();
    for e in &state.ledger {
        if let Some(p) = &e.product {
            *products.entry(p.to_string()).or_default() += e.points;
            if e.dimension == Dimension::Activity {
                *activity_by_product.entry(p.to_string()).or_default() += e.points;
            }
        }
    }
    let as_strings = |m: &BTreeMap<leadscore_domain::Name, Points>| {
        m.iter().map(|(k, p)| (k.to_string(), *p)).collect()
    };
    prop_assert_eq!(
        nonzero(&as_strings(&s.products)),
        nonzero(&products),
        "products vs ledger"
    );
    prop_assert_eq!(
        nonzero(&as_strings(&s.activity_by_product)),
        nonzero(&activity_by_product),
        "activity_by_product vs ledger"
    );
    for (i, e) in state.ledger.iter().enumerate() {
        prop_assert_eq!(e.seq, i as u64, "ledger seq");
    }
    Ok(())
}

type Awards = BTreeSet<(String, String, i64)>;

/// (rule, activity, awarded) of every match in the history.
fn awards(state: &LeadState) -> Awards {
    state
        .history
        .iter()
        .flat_map(|r| {
            r.matches
                .iter()
                .map(move |m| (m.rule.to_string(), r.id.to_string(), m.awarded.0))
        })
        .collect()
}

fn combo_awards(state: &LeadState) -> BTreeSet<(String, String, DateTime<Utc>, i64)> {
    state
        .combos
        .iter()
        .map(|a| {
            (
                a.combination.to_string(),
                a.activity.to_string(),
                a.at,
                a.points.0,
            )
        })
        .collect()
}

fn dimension_sums(state: &LeadState) -> [Points; 3] {
    [Dimension::Fit, Dimension::Activity, Dimension::Adjustment]
        .map(|d| sum_where(state, |e| e.dimension == d))
}

/// Where two lead states differ, field by field (the first differing ledger entry, not the
/// whole ledger), or `None` when they are equal.
fn state_diff(a: &LeadState, b: &LeadState) -> Option<String> {
    if a == b {
        return None;
    }
    let mut out = Vec::new();
    macro_rules! field {
        ($f:ident) => {
            if a.$f != b.$f {
                out.push(format!("{}: {:?}\n   vs {:?}", stringify!($f), a.$f, b.$f));
            }
        };
    }
    field!(attributes);
    field!(attribute_stamps);
    field!(stage);
    field!(stage_since);
    field!(mql_via_instant);
    field!(scores);
    field!(history);
    field!(combos);
    field!(fit);
    field!(seen);
    field!(first_seen_at);
    field!(last_engaged_at);
    field!(decayed_through);
    field!(transitions);
    if a.ledger != b.ledger {
        let i = a
            .ledger
            .iter()
            .zip(&b.ledger)
            .take_while(|(x, y)| x == y)
            .count();
        out.push(format!(
            "ledger ({} vs {} entries), first difference at #{i}: {:?}\n   vs {:?}",
            a.ledger.len(),
            b.ledger.len(),
            a.ledger.get(i),
            b.ledger.get(i)
        ));
    }
    if out.is_empty() {
        out.push("(a field not compared above)".into());
    }
    Some(out.join("\n"))
}

/// Property 2: applies the scenario, then the picked events again.
fn check_duplicates(sc: &Scenario, picks: &[prop::sample::Index]) -> Result<(), TestCaseError> {
    let mut state = run(&sc.ops, |_, _, _, _| Ok(()))?;
    let before = state.clone();
    let again: Vec<Event> = picks.iter().map(|i| i.get(&sc.events).clone()).collect();
    let out = apply(model(), &mut state, &again, now());
    prop_assert_eq!(out.duplicates, again.len());
    prop_assert_eq!(out.accepted, 0);
    prop_assert_eq!(out.new_entries, 0);
    prop_assert!(
        out.transitions.is_empty(),
        "re-applying {} duplicate(s) moved the lead: {:?}",
        again.len(),
        out.transitions
    );
    prop_assert_eq!(&state.scores, &before.scores);
    prop_assert_eq!(state.ledger.len(), before.ledger.len());
    prop_assert_eq!(state.stage, before.stage);
    if let Some(d) = state_diff(&before, &state) {
        prop_assert!(false, "re-applying duplicates changed the state:\n{}", d);
    }
    Ok(())
}

/// Decays `state` one day at a time from where it stands through `through`.
fn decay_daily(state: &mut LeadState, through: NaiveDate) {
    let start = state
        .decayed_through
        .map_or(day(-1), |d| d + TimeDelta::days(1));
    for d in start.iter_days().take_while(|d| *d <= through) {
        decay(model(), state, d, now());
    }
}

// ------------------------------------------------------------------------------------------
// Properties
// ------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(128))]

    /// 1. After any batches and decay sweeps, every score equals the sum of its ledger entries.
    #[test]
    fn scores_are_the_sums_of_the_ledger(sc in scenario(40, true, true)) {
        run(&sc.ops, |_, before, after, out| {
            prop_assert_eq!(out.new_entries, after.ledger.len() - before.ledger.len());
            check_sums(after)
        })?;
    }

    /// 2. Re-applying already-applied events (same ids) changes nothing at all.
    #[test]
    fn duplicates_change_nothing(
        sc in scenario(40, true, false),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        check_duplicates(&sc, &picks)?;
    }

    /// 2'. The same when decay sweeps ran in between (a lead may have gone cold).
    #[test]
    fn duplicates_change_nothing_after_decay(
        sc in scenario(40, true, true),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        check_duplicates(&sc, &picks)?;
    }

    /// 3. Decay never raises a score, never takes the activity score under the decay floor
    /// when it was at or above it, and no call leaves the total under the score floor.
    #[test]
    fn decay_only_lowers_and_floors_hold(sc in scenario(40, true, true)) {
        let m = model();
        let decay_floor = m.decay.expect("the example decays").floor;
        let floor = m.thresholds.floor;
        run(&sc.ops, |op, before, after, _| {
            prop_assert!(after.scores.total >= floor, "total {} under the floor after {:?}", after.scores.total, op);
            if let Op::Decay(d) = op {
                let (b, a) = (&before.scores, &after.scores);
                prop_assert!(a.total <= b.total, "decay through {} raised the total {} -> {}", d, b.total, a.total);
                prop_assert!(a.activity <= b.activity, "decay through {} raised activity {} -> {}", d, b.activity, a.activity);
                prop_assert_eq!(a.fit, b.fit, "decay changed fit");
                for (p, v) in &a.products {
                    let was = b.products.get(p).copied().unwrap_or_default();
                    prop_assert!(*v <= was, "decay through {} raised product {} {} -> {}", d, p, was, v);
                }
                if b.activity >= decay_floor {
                    prop_assert!(
                        a.activity >= decay_floor,
                        "decay through {} took activity from {} to {}, under the decay floor {}",
                        d, b.activity, a.activity, decay_floor
                    );
                }
            }
            Ok(())
        })?;
    }

    /// 4. No capped rule ever awards more than its caps allow in any window, and (the other
    /// way round) caps take away no more than they must: the awards are exactly the greedy
    /// cap computation over the final history in (time, id) order.
    #[test]
    fn caps_are_never_exceeded(sc in scenario(40, true, true)) {
        let m = model();
        let state = run(&sc.ops, |_, _, _, _| Ok(()))?;
        for w in state.history.windows(2) {
            prop_assert!((w[0].at, &*w[0].id) < (w[1].at, &*w[1].id), "history out of order");
        }
        for rule in &m.activity_rules {
            let awarded: Vec<(DateTime<Utc>, Points)> = state
                .history
                .iter()
                .flat_map(|r| r.matches.iter().filter(|x| x.rule == rule.id).map(move |x| (r.at, x.awarded)))
                .collect();
            for &(_, a) in &awarded {
                prop_assert!(a.abs() <= rule.points.abs() && a.0 * rule.points.0 >= 0,
                    "rule {} awarded {} (points {})", rule.id, a, rule.points);
            }
            for cap in &rule.caps {
                for &(t, _) in &awarded {
                    let inside: Vec<Points> = awarded
                        .iter()
                        .filter(|(u, a)| *u > t - cap.window && *u <= t && !a.is_zero())
                        .map(|(_, a)| *a)
                        .collect();
                    if let Some(max) = cap.max_count {
                        prop_assert!(inside.len() <= max as usize,
                            "rule {}: {} awards in the {:?} window ending {}, cap {}", rule.id, inside.len(), cap.window, t, max);
                    }
                    if let Some(max) = cap.max_points {
                        let used: Points = inside.iter().map(|p| p.abs()).sum();
                        prop_assert!(used <= max,
                            "rule {}: {} points in the {:?} window ending {}, cap {}", rule.id, used, cap.window, t, max);
                    }
                }
            }
            // The reference: greedy caps in history order.
            let mut prior: Vec<(DateTime<Utc>, Points)> = Vec::new();
            for &(t, a) in &awarded {
                let mut allowed = rule.points.abs();
                for cap in &rule.caps {
                    let inside = prior.iter().filter(|(u, _)| *u > t - cap.window);
                    if cap.max_count.is_some_and(|max| inside.clone().count() >= max as usize) {
                        allowed = Points::ZERO;
                    }
                    if let Some(max) = cap.max_points {
                        let used: Points = inside.map(|(_, p)| p.abs()).sum();
                        allowed = allowed.min((max - used).max(Points::ZERO));
                    }
                }
                let expected = if rule.points.0 < 0 { -allowed } else { allowed };
                prop_assert_eq!(a, expected, "rule {} at {}", rule.id, t);
                if !a.is_zero() {
                    prior.push((t, a));
                }
            }
        }
    }

    /// 5. Without decay, the order events arrive in (and how they are batched) does not
    /// change the scores, attributes, awards or combination bonuses. (Up to products that net
    /// to zero: see `order_independence_exact_scores` for the whole `Scores` struct.)
    #[test]
    fn order_independence(
        sc in prop_oneof![scenario(40, false, false), scenario_with(12, false, false, 40)],
    ) {
        let m = model();
        let mut one = LeadState::new("lead-1");
        apply(m, &mut one, &sc.events, now());
        let split = run(&sc.ops, |_, _, _, _| Ok(()))?;
        prop_assert_eq!(normalized(&one.scores), normalized(&split.scores));
        prop_assert_eq!(&one.attributes, &split.attributes);
        prop_assert_eq!(awards(&one), awards(&split));
        prop_assert_eq!(combo_awards(&one), combo_awards(&split));
        prop_assert_eq!(nonzero(&one.fit), nonzero(&split.fit));
        prop_assert_eq!(one.first_seen_at, split.first_seen_at);
        prop_assert_eq!(one.last_engaged_at, split.last_engaged_at);
    }

    /// 6. Decaying through D twice changes nothing the second time (scores and ledger).
    #[test]
    fn decay_is_idempotent(sc in scenario(30, true, true), through in 0i64..160) {
        let mut state = run(&sc.ops, |_, _, _, _| Ok(()))?;
        decay(model(), &mut state, day(through), now());
        let once = state.clone();
        let out = decay(model(), &mut state, day(through), now());
        prop_assert_eq!(out.new_entries, 0);
        prop_assert_eq!(&state.scores, &once.scores);
        prop_assert_eq!(&state.ledger, &once.ledger);
        prop_assert_eq!(state.decayed_through, once.decayed_through);
    }

    /// 6'. ...and leaves the whole lead state (stage, transitions) as it was.
    #[test]
    fn decay_is_idempotent_whole_state(sc in scenario(30, true, true), through in 0i64..160) {
        let mut state = run(&sc.ops, |_, _, _, _| Ok(()))?;
        decay(model(), &mut state, day(through), now());
        let once = state.clone();
        let out = decay(model(), &mut state, day(through), now());
        prop_assert!(out.transitions.is_empty(), "second sweep moved the lead: {:?}", out.transitions);
        if let Some(d) = state_diff(&once, &state) {
            prop_assert!(false, "once vs twice:\n{}", d);
        }
    }

    /// 6''. A late sweep straight to D ends with the scores and ledger sums that nightly
    /// sweeps through D reach.
    #[test]
    fn decay_catch_up_equals_daily(sc in scenario(30, true, true), through in 0i64..160) {
        let start = run(&sc.ops, |_, _, _, _| Ok(()))?;
        let mut daily = start.clone();
        decay_daily(&mut daily, day(through));
        let mut straight = start;
        decay(model(), &mut straight, day(through), now());
        prop_assert_eq!(&daily.scores, &straight.scores);
        prop_assert_eq!(dimension_sums(&daily), dimension_sums(&straight));
        prop_assert_eq!(daily.decayed_through, straight.decayed_through);
        prop_assert_eq!(awards(&daily), awards(&straight));
    }

    /// 6'''. ...with the very same ledger, entry for entry (the clock is the same).
    #[test]
    fn decay_catch_up_equals_daily_ledger(sc in scenario(30, true, true), through in 0i64..160) {
        let start = run(&sc.ops, |_, _, _, _| Ok(()))?;
        let mut daily = start.clone();
        decay_daily(&mut daily, day(through));
        let mut straight = start;
        decay(model(), &mut straight, day(through), now());
        if daily.ledger != straight.ledger {
            let mut a = daily.clone();
            a.transitions.clone_from(&straight.transitions);
            a.stage_since = straight.stage_since;
            let d = state_diff(&a, &straight).unwrap_or_default();
            prop_assert!(false, "daily vs straight:\n{}", d);
        }
    }

    /// 6''''. ...and (with the same clock) the very same lead state: ledger, stage, transitions.
    #[test]
    fn decay_catch_up_equals_daily_whole_state(sc in scenario(30, true, true), through in 0i64..160) {
        let start = run(&sc.ops, |_, _, _, _| Ok(()))?;
        let mut daily = start.clone();
        decay_daily(&mut daily, day(through));
        let mut straight = start;
        decay(model(), &mut straight, day(through), now());
        if let Some(d) = state_diff(&daily, &straight) {
            prop_assert!(false, "daily vs straight:\n{}", d);
        }
    }

    /// 7. The contributors of an explanation add up to the total.
    #[test]
    fn explanation_adds_up(sc in scenario(40, true, true)) {
        run(&sc.ops, |_, _, after, _| {
            let all = explain(&after.ledger, usize::MAX);
            let sum: Points = all.iter().map(|c| c.points).sum();
            prop_assert_eq!(sum, after.scores.total);
            prop_assert!(all.iter().all(|c| !c.points.is_zero()));
            let entries: usize = all.iter().map(|c| c.entries).sum();
            prop_assert!(entries <= after.ledger.len());
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// 5'. The same, comparing the whole `Scores` struct (zero-valued product entries included),
    /// on short histories rich in attribute updates, where a product can net to zero.
    #[test]
    fn order_independence_exact_scores(sc in scenario_with(10, false, false, 60)) {
        let mut one = LeadState::new("lead-1");
        apply(model(), &mut one, &sc.events, now());
        let split = run(&sc.ops, |_, _, _, _| Ok(()))?;
        prop_assert_eq!(&one.scores, &split.scores);
    }
}
