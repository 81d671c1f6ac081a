//! Lifecycle moves driven by the engine: sales feedback, instant-MQL rules, the MQL
//! threshold with hysteresis, and going cold.

use super::state::LeadState;
use crate::event::Event;
use crate::lifecycle::{Reason, Stage, Transition};
use crate::model::Model;
use crate::Name;
use chrono::{DateTime, NaiveDate, Utc};

pub(crate) fn move_to(
    state: &mut LeadState,
    out: &mut Vec<Transition>,
    to: Stage,
    at: DateTime<Utc>,
    reason: Reason,
) {
    if state.stage == to {
        return;
    }
    let t = Transition {
        from: state.stage,
        to,
        at,
        reason,
    };
    if to != Stage::Mql {
        state.mql_via_instant = false;
    }
    state.stage = to;
    state.stage_since = Some(at);
    state.entered_mql.0 = (to == Stage::Mql).then_some(at);
    state.transitions.push(t.clone());
    out.push(t);
}

/// Whether something that happened at `activity_at` may qualify the lead. A new lead may
/// always be; a nurtured or recycled one only by activity after it got there, so going cold
/// or being recycled by sales is not undone by the points it already had.
fn may_qualify(state: &LeadState, activity_at: Option<DateTime<Utc>>) -> bool {
    match state.stage {
        Stage::Lead => true,
        Stage::Nurture | Stage::Recycled => match (activity_at, state.stage_since) {
            (Some(a), Some(since)) => a > since,
            (Some(_), None) => true,
            (None, _) => false,
        },
        _ => false,
    }
}

/// Score-driven moves: into MQL at the entry threshold, out (recycled) below the exit
/// threshold. Leads qualified by an instant rule are held in MQL until sales or coldness
/// moves them: a hand-raiser is owed a follow-up whatever the score.
fn by_score(model: &Model, state: &mut LeadState, out: &mut Vec<Transition>, at: DateTime<Utc>) {
    if let Some((to, reason)) = score_move(model, state) {
        move_to(state, out, to, at, reason);
    }
}

/// The move [`by_score`] makes on the state as it is, if any. Always a real move: a lead
/// qualifies only from a stage other than MQL.
pub(crate) fn score_move(model: &Model, state: &LeadState) -> Option<(Stage, Reason)> {
    let score = state.scores.total;
    let t = &model.thresholds;
    if score >= t.mql && may_qualify(state, state.last_engaged_at) {
        let reason = Reason::ScoreReached {
            score,
            threshold: t.mql,
        };
        Some((Stage::Mql, reason))
    } else if state.stage == Stage::Mql && !state.mql_via_instant && score < t.mql_exit {
        let reason = Reason::BelowExitThreshold {
            score,
            threshold: t.mql_exit,
        };
        Some((Stage::Recycled, reason))
    } else {
        None
    }
}

pub(crate) fn after_events(
    model: &Model,
    state: &mut LeadState,
    feedback: &[&Event],
    instant: Option<&(DateTime<Utc>, Name, Name)>,
    now: DateTime<Utc>,
) -> Vec<Transition> {
    let mut out = Vec::new();
    for e in feedback {
        let Some(outcome) = e.outcome else { continue };
        let reason = Reason::SalesFeedback {
            outcome,
            event: Name::from(e.id.as_str()),
        };
        move_to(state, &mut out, outcome.target(), e.occurred_at, reason);
    }
    if let Some((at, rule, activity)) = instant {
        if may_qualify(state, Some(*at)) {
            let reason = Reason::InstantMql {
                rule: rule.clone(),
                activity: activity.clone(),
            };
            move_to(state, &mut out, Stage::Mql, *at, reason);
            state.mql_via_instant = true;
        }
    }
    by_score(model, state, &mut out, now);
    out
}

/// The first day on which [`after_decay_day`] finds the lead cold, as its stage and
/// engagement are now (`None`: it cannot go cold).
pub(crate) fn cold_on(model: &Model, state: &LeadState) -> Option<NaiveDate> {
    let cold_days = model.cold_after_days?;
    if !state.stage.may_go_cold() {
        return None;
    }
    let since = state.last_engaged_at.or(state.first_seen_at)?;
    since
        .date_naive()
        .checked_add_days(chrono::Days::new(u64::from(cold_days)))
}

/// The moves at the end of a decayed `day`: recycled below the exit threshold, nurture when cold.
pub(crate) fn after_decay_day(
    model: &Model,
    state: &mut LeadState,
    day: NaiveDate,
    at: DateTime<Utc>,
) -> Vec<Transition> {
    let mut out = Vec::new();
    by_score(model, state, &mut out, at);
    if let Some(cold_days) = model.cold_after_days {
        if let Some(since) = state.last_engaged_at.or(state.first_seen_at) {
            let idle_days = (day - since.date_naive()).num_days();
            if idle_days >= i64::from(cold_days) && state.stage.may_go_cold() {
                move_to(
                    state,
                    &mut out,
                    Stage::Nurture,
                    at,
                    Reason::Cold { idle_days },
                );
            }
        }
    }
    out
}
