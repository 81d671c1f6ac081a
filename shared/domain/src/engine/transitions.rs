//! Lifecycle moves driven by the engine: sales feedback, instant-MQL rules, the MQL
//! threshold with hysteresis, and going cold.

use super::state::LeadState;
use crate::event::Event;
use crate::lifecycle::{Reason, Stage, Transition};
use crate::model::Model;
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

fn move_to(
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
    state.transitions.push(t.clone());
    out.push(t);
}

/// Score-driven moves: into MQL at the entry threshold, out (recycled) below the exit
/// threshold. Leads qualified by an instant rule are held in MQL until sales or coldness
/// moves them: a hand-raiser is owed a follow-up whatever the score.
fn by_score(model: &Model, state: &mut LeadState, out: &mut Vec<Transition>, now: DateTime<Utc>) {
    let score = state.scores.total;
    let t = &model.thresholds;
    if state.stage.may_qualify() && score >= t.mql {
        move_to(
            state,
            out,
            Stage::Mql,
            now,
            Reason::ScoreReached {
                score,
                threshold: t.mql,
            },
        );
    } else if state.stage == Stage::Mql && !state.mql_via_instant && score < t.mql_exit {
        move_to(
            state,
            out,
            Stage::Recycled,
            now,
            Reason::BelowExitThreshold {
                score,
                threshold: t.mql_exit,
            },
        );
    }
}

pub(crate) fn after_events(
    model: &Model,
    state: &mut LeadState,
    feedback: &[&Event],
    instant: Option<&(DateTime<Utc>, Arc<str>, Arc<str>)>,
    now: DateTime<Utc>,
) -> Vec<Transition> {
    let mut out = Vec::new();
    for e in feedback {
        let Some(outcome) = e.outcome else { continue };
        let reason = Reason::SalesFeedback {
            outcome,
            event: Arc::from(e.id.as_str()),
        };
        move_to(state, &mut out, outcome.target(), e.occurred_at, reason);
    }
    if let Some((at, rule, activity)) = instant {
        if state.stage.may_qualify() {
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

pub(crate) fn after_decay(
    model: &Model,
    state: &mut LeadState,
    through: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<Transition> {
    let mut out = Vec::new();
    by_score(model, state, &mut out, now);
    if let Some(cold_days) = model.cold_after_days {
        let since = state.last_engaged_at.or(state.first_seen_at);
        if let Some(since) = since {
            let idle_days = (through - since.date_naive()).num_days();
            if idle_days >= i64::from(cold_days) && state.stage.may_go_cold() {
                move_to(
                    state,
                    &mut out,
                    Stage::Nurture,
                    now,
                    Reason::Cold { idle_days },
                );
            }
        }
    }
    out
}
