//! Day-by-day decay: rule lifetimes (expiry, half-life) and inactivity decay.
//! Idempotent per day: decaying through day D twice equals once, and missed days are caught
//! up one by one, so a late sweep ends where nightly sweeps would have.

use super::state::LeadState;
use super::{rescore, transitions, Outcome};
use crate::ledger::{Cause, Dimension, LedgerEntry, Source};
use crate::model::{Decay, DecayStep, Every, Model};
use crate::points::Points;
use crate::Name;
use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

/// The most days one call catches up; older gaps start from here (ten years).
const MAX_CATCH_UP_DAYS: i64 = 3660;

/// The end of a day (23:59:59 UTC): when a replay runs that day's sweep, and the time
/// recorded for a decay transition on a day caught up later.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default())
        .and_utc()
}

/// Applies decay for every day after the last decayed one, through `through`. Each day does
/// what a nightly sweep would: lifetimes, the inactivity step, the floor, then lifecycle
/// moves (recorded at the end of that day, or `now` if earlier).
pub fn decay(
    model: &Model,
    state: &mut LeadState,
    through: NaiveDate,
    now: DateTime<Utc>,
) -> Outcome {
    state.link(model);
    let ledger_start = state.ledger.len();
    let mut transitions = Vec::new();
    let first = match state.decayed_through {
        Some(d) => d.succ_opt(),
        None => state.first_seen_at.map(|t| t.date_naive()),
    };
    if let Some(first) = first {
        let oldest = through.checked_sub_signed(chrono::TimeDelta::days(MAX_CATCH_UP_DAYS));
        let first = first.max(oldest.unwrap_or(NaiveDate::MIN));
        let lifetimes = model.has_lifetimes();
        for day in first.iter_days().take_while(|d| *d <= through) {
            if lifetimes {
                rescore::lifetimes(model, state, day, now);
            }
            inactivity_step(model, state, day, now);
            rescore::floor(model, state, now);
            let at = end_of_day(day).min(now);
            transitions.extend(transitions::after_decay_day(model, state, day, at));
            state.decayed_through = Some(day);
        }
    }
    if state.decayed_through.is_none_or(|d| d < through) {
        state.decayed_through = Some(through);
    }
    state.next_due = super::next_due(model, state);
    Outcome {
        accepted: 0,
        duplicates: 0,
        new_entries: state.ledger.len() - ledger_start,
        transitions,
    }
}

/// Whether inactivity decay steps on `day` for a lead last engaged on `engaged`: from
/// `idle_days` after it, every day or every 7th day.
pub(crate) fn is_step_day(decay: &Decay, engaged: NaiveDate, day: NaiveDate) -> bool {
    let past = (day - engaged).num_days() - i64::from(decay.idle_days);
    past >= 0 && (decay.every == Every::Day || past % 7 == 0)
}

/// The first day on or after `from` on which [`is_step_day`] holds.
pub(crate) fn next_step_day(
    decay: &Decay,
    engaged: NaiveDate,
    from: NaiveDate,
) -> Option<NaiveDate> {
    let start = engaged.checked_add_days(Days::new(u64::from(decay.idle_days)))?;
    if from <= start {
        return Some(start);
    }
    let wait = match decay.every {
        Every::Day => 0,
        Every::Week => (7 - (from - start).num_days() % 7) % 7,
    };
    from.checked_add_days(Days::new(wait.unsigned_abs()))
}

/// What one inactivity step takes from an activity score of `activity`: the step, held to
/// the decay floor (zero: nothing to take).
pub(crate) fn step_amount(decay: &Decay, activity: Points) -> Points {
    let room = activity - decay.floor;
    if room <= Points::ZERO {
        return Points::ZERO;
    }
    match decay.step {
        DecayStep::Points(p) => p,
        DecayStep::Percent(pct) => activity.percent(pct),
    }
    .min(room)
    .max(Points::ZERO)
}

fn inactivity_step(model: &Model, state: &mut LeadState, day: NaiveDate, now: DateTime<Utc>) {
    let (Some(decay), Some(engaged)) = (model.decay, state.last_engaged_at) else {
        return;
    };
    if !is_step_day(&decay, engaged.date_naive(), day) {
        return;
    }
    let activity = state.scores.activity;
    let amount = step_amount(&decay, activity);
    if amount <= Points::ZERO {
        return;
    }
    // Split the step across product lines in proportion to their activity points, so each
    // product score decays like the whole; the untagged part takes the rest.
    let tagged: Points = state.scores.activity_by_product.values().copied().sum();
    let untagged = activity - tagged;
    let positive: i128 = state
        .scores
        .activity_by_product
        .values()
        .chain(std::iter::once(&untagged))
        .filter(|p| p.0 > 0)
        .map(|p| i128::from(p.0))
        .sum();
    let mut parts: Vec<(Option<Name>, Points)> = Vec::new();
    let mut given = Points::ZERO;
    if positive > 0 {
        for (product, p) in &state.scores.activity_by_product {
            if p.0 > 0 {
                let share = Points((i128::from(amount.0) * i128::from(p.0) / positive) as i64);
                given += share;
                parts.push((Some(product.clone()), share));
            }
        }
    }
    parts.push((None, amount - given));
    for (product, share) in parts {
        if share.is_zero() {
            continue;
        }
        state.post(LedgerEntry {
            seq: 0,
            recorded_at: now,
            points: -share,
            dimension: Dimension::Activity,
            product,
            source: Source::Inactivity { day },
            cause: Cause::Decayed,
        });
    }
}
