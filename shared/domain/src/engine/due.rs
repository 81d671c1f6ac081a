//! When a lead is next due: the first day on which [`decay`](super::decay) has something to
//! do for it, so a nightly sweep can index leads by that day instead of scanning them all.
//!
//! Worked out from the mechanisms, not by simulating days (it runs after every `apply`,
//! `decay` and `merge`). The argument: until the first day decay changes something, every
//! day starts from the same state (only `decayed_through` moves, and lifetimes may lower a
//! match's `current` without posting anything, below). So that first day is the earliest of
//! the days each mechanism would act on, each evaluated on the state as it is now:
//!
//! - **owed now**: a floor adjustment or a score move (MQL at the entry threshold, recycled
//!   below the exit threshold) that the state does not have yet: due on the first day. The
//!   engine normally leaves none behind; one is owed after a model change (thresholds), by a
//!   lead decayed before it had any event (under a positive score floor), or when a decay ran
//!   with a clock earlier than the lead's activities (a nurtured lead may then requalify).
//! - **inactivity**: the first step day from `last_engaged_at + idle_days` (every day, or
//!   every 7th day from then), if a step would take anything (activity above the decay
//!   floor, and a percent step that does not round to zero).
//! - **lifetimes**: per match of an expiring or half-life rule, the first day its value as of
//!   that day differs from its `current` value in a way that posts: a rise always, a fall
//!   only while the activity score is above the decay floor (lifetimes hold what they take to
//!   it; a fall that posts nothing still lowers `current`, and every later change of that
//!   match is a fall too). Expiry: the day the activity is `expires_after` days old.
//!   Half-life: the first age at which the rounded value changes, estimated with a logarithm
//!   and checked against the engine's own arithmetic.
//! - **cold**: `cold_after_days` after the last positive activity (or the first activity),
//!   if the stage is one going cold leaves (lead, MQL, recycled).
//! - The **floor** and the **exit threshold** only move when the score does, so they add no
//!   day of their own.
//!
//! Each of these is exact for the state as it is, so the result is exactly the first day a
//! day-by-day `decay` posts a ledger entry or makes a transition: never later, and not
//! earlier either. Only fallbacks that should never run can make it earlier: the half-life
//! estimate is corrected against the exact value by at most [`MAX_CORRECTION`] days each
//! way (float error moves it by one at most); past that the earliest possible day is taken.
//! A day past the calendar's end (year 262143) counts as never.
//!
//! A lead that was never decayed and never had an activity (no `first_seen_at`) is not due:
//! decay has no day to start from, and its first call only records the day it ran through.
//!
//! The day is relative to the model: after a model change it must be recomputed (the next
//! `apply`, `decay` or `merge` does, or the sweep re-indexes every lead).

use super::decay::{next_step_day, step_amount};
use super::rescore::{floor_diff, lifetime_value};
use super::state::LeadState;
use super::transitions::{cold_on, score_move};
use crate::model::{Lifetime, Model};
use crate::points::Points;
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};

/// How far the half-life estimate is corrected against the exact value, each way. Float
/// error moves the estimate by a day at most; past this the answer is taken early.
const MAX_CORRECTION: i64 = 8;

/// The first day after `decayed_through` (from the day of `first_seen_at` when decay never
/// ran) on which `decay` would post a ledger entry (inactivity step, expiry, half-life,
/// floor adjustment) or move the lead (cold, recycled below the exit threshold, a score
/// move owed). `None`: nothing changes by decay alone, however long the lead waits (or it
/// has never had an activity to decay from). See the module documentation for the
/// mechanisms and why the day is exact.
pub fn next_due(model: &Model, state: &LeadState) -> Option<NaiveDate> {
    let first = match state.decayed_through {
        Some(d) => d.succ_opt()?,
        None => state.first_seen_at?.date_naive(),
    };
    if !floor_diff(model, state).is_zero() || score_move(model, state).is_some() {
        return Some(first);
    }
    let mut due = earliest(inactivity(model, state, first), cold(model, state, first));
    if model.has_lifetimes() {
        due = lifetimes(model, state, first, due);
    }
    due
}

fn earliest(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn inactivity(model: &Model, state: &LeadState, first: NaiveDate) -> Option<NaiveDate> {
    let decay = model.decay.as_ref()?;
    let engaged = state.last_engaged_at?.date_naive();
    if step_amount(decay, state.scores.activity) <= Points::ZERO {
        return None;
    }
    next_step_day(decay, engaged, first)
}

fn cold(model: &Model, state: &LeadState, first: NaiveDate) -> Option<NaiveDate> {
    cold_on(model, state).map(|d| d.max(first))
}

/// The earliest day a lifetime posts an entry, or `due` if that is earlier.
fn lifetimes(
    model: &Model,
    state: &LeadState,
    first: NaiveDate,
    mut due: Option<NaiveDate>,
) -> Option<NaiveDate> {
    let floor = model.decay.map_or(Points::ZERO, |d| d.floor);
    let room = state.scores.activity > floor;
    let linked = state.linked.0 == model.instance();
    // Activities are sorted by time, and one on or after the day the lead is decayed
    // through is still worth its full award (lifetimes were only ever applied as of earlier
    // days, and every lifetime is at least a day: the model checks it). Such an activity
    // keeps its award through its own day, so once activities start the day before `due`,
    // none can bring `due` forward: the scan stops there. Days are counted as numbers here
    // (most of a long history is passed over, and chrono's date arithmetic is not free).
    let first_n = day_number(first);
    let mut due_n = due.map(day_number);
    for (i, r) in state.history.iter().enumerate() {
        let at_n = day_number(r.at.naive_utc().date());
        if due_n.is_some_and(|d| at_n + 1 >= d) {
            debug_assert!(
                state.history[i..]
                    .iter()
                    .all(|r| r.matches.iter().all(|m| m.current == m.awarded)),
                "an activity after the decayed day is not at its full award"
            );
            break;
        }
        for m in &r.matches {
            let idx = if linked {
                Some(m.idx.0 as usize)
            } else {
                model.activity_rule_index(&m.rule)
            };
            let Some(rule) = idx.and_then(|i| model.activity_rules.get(i)) else {
                continue;
            };
            let (awarded, current) = (m.awarded, m.current);
            if rule.lifetime == Lifetime::Forever
                || settled(rule.lifetime, (awarded, current), at_n, first_n, due_n)
            {
                continue;
            }
            let d = posts_on(rule.lifetime, (awarded, current), r.at, first, room);
            if let Some(d) = d.filter(|d| due.is_none_or(|due| *d < due)) {
                if d == first {
                    return Some(d);
                }
                due = Some(d);
                due_n = Some(day_number(d));
            }
        }
    }
    due
}

fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

/// Whether an expiring match can be passed over without date arithmetic (`at`, `first`
/// and `due` as day numbers): at its full award, it expires on its day + n, too late to
/// bring `due` forward; at zero, it had expired by `first` and stays so.
fn settled(
    lifetime: Lifetime,
    (awarded, current): (Points, Points),
    at: i64,
    first: i64,
    due: Option<i64>,
) -> bool {
    let Lifetime::ExpiresAfterDays(n) = lifetime else {
        return false;
    };
    let n = i64::from(n);
    if current == awarded {
        due.is_some_and(|due| at + n >= due)
    } else {
        current.is_zero() && at + n <= first
    }
}

/// The first day on or after `first` on which `rescore::lifetimes` posts an entry for one
/// match (`awarded`, `current`, activity at `at`), the rest of the state as it is. `room`:
/// the activity score is above the decay floor, so a fall posts.
fn posts_on(
    lifetime: Lifetime,
    (awarded, current): (Points, Points),
    at: DateTime<Utc>,
    first: NaiveDate,
    room: bool,
) -> Option<NaiveDate> {
    let value = |d: NaiveDate| lifetime_value(lifetime, awarded, at, Some(d));
    let v = value(first);
    if v != current && (v > current || room) {
        return Some(first);
    }
    // Unchanged on `first`, or lowered without an entry: from then on the match compares
    // with `v`, and its value only moves one way (towards zero).
    let next = next_change(lifetime, awarded, v, at, first)?;
    // `>=`: a day on which the value did not change after all (a correction cut short)
    // is taken as due, early rather than never.
    (value(next) >= v || room).then_some(next)
}

/// The first day after `first` on which the lifetime value differs from `v`, its value on
/// `first`.
fn next_change(
    lifetime: Lifetime,
    awarded: Points,
    v: Points,
    at: DateTime<Utc>,
    first: NaiveDate,
) -> Option<NaiveDate> {
    let day = at.date_naive();
    let age_on_first = (first - day).num_days().max(0);
    let on_age = |age: i64| day.checked_add_days(Days::new(age.unsigned_abs()));
    match lifetime {
        Lifetime::Forever => None,
        Lifetime::ExpiresAfterDays(n) => {
            // Worth `awarded` until `n` days old, then nothing.
            let n = i64::from(n);
            if age_on_first >= n || awarded.is_zero() {
                None
            } else {
                on_age(n)
            }
        }
        Lifetime::HalfLifeDays(h) => {
            if v.is_zero() || h == 0 {
                // Zero stays zero (the value only moves towards it).
                return None;
            }
            // |awarded| * 2^(-age/h) rounds to |v| until it falls below |v| - 0.5 (hundredths,
            // half away from zero), that is once age > h * log2(|awarded| / (|v| - 0.5)).
            let ratio = awarded.0.unsigned_abs() as f64 / (v.0.unsigned_abs() as f64 - 0.5);
            let x = f64::from(h) * ratio.log2();
            let lowest = age_on_first + 1;
            let mut age = (x.floor() as i64).saturating_add(1).max(lowest);
            let differs = |age: i64| {
                on_age(age).is_none_or(|d| lifetime_value(lifetime, awarded, at, Some(d)) != v)
            };
            // The estimate against the exact value: back while the day before differs too,
            // then on while it does not. Float error moves it by a day at most.
            let mut steps = 0;
            while age > lowest && differs(age - 1) {
                age -= 1;
                steps += 1;
                if steps > MAX_CORRECTION {
                    // Far off: take the earliest day it could be (early, never late).
                    return on_age(lowest);
                }
            }
            steps = 0;
            while !differs(age) && steps < MAX_CORRECTION {
                age += 1;
                steps += 1;
            }
            on_age(age)
        }
    }
}
