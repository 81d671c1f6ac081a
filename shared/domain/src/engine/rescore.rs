//! Re-evaluation of activity points (caps, lifetimes), fit points and the floor, each as a
//! diff against what the ledger already holds, so the ledger stays append-only.

use super::state::LeadState;
use crate::ledger::{Cause, Dimension, LedgerEntry, Source};
use crate::model::matching::attribute;
use crate::model::{ActivityRule, Lifetime, Model};
use crate::points::Points;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use std::collections::VecDeque;

/// What a rule's awarded points are worth on `as_of`, given the day the activity happened.
pub(crate) fn lifetime_value(
    lifetime: Lifetime,
    awarded: Points,
    occurred: NaiveDate,
    as_of: Option<NaiveDate>,
) -> Points {
    let Some(as_of) = as_of else { return awarded };
    let age = (as_of - occurred).num_days().max(0);
    match lifetime {
        Lifetime::Forever => awarded,
        Lifetime::ExpiresAfterDays(n) => {
            if age >= i64::from(n) {
                Points::ZERO
            } else {
                awarded
            }
        }
        Lifetime::HalfLifeDays(h) => awarded.scale(0.5f64.powf(age as f64 / f64::from(h))),
    }
}

/// Points a rule awards at `at`, given what it awarded before inside its cap windows.
fn capped(
    rule: &ActivityRule,
    at: DateTime<Utc>,
    prior: &VecDeque<(DateTime<Utc>, Points)>,
) -> Points {
    let base = rule.points;
    let mut allowed = base.abs();
    for cap in &rule.caps {
        let since = at - cap.window;
        let in_window = prior.iter().filter(|(t, _)| *t > since);
        if let Some(max) = cap.max_count {
            if in_window.clone().count() >= max as usize {
                return Points::ZERO;
            }
        }
        if let Some(max) = cap.max_points {
            let used: Points = in_window.map(|(_, p)| p.abs()).sum();
            allowed = allowed.min((max - used).max(Points::ZERO));
        }
    }
    if base.0 < 0 {
        -allowed
    } else {
        allowed
    }
}

/// Re-scores every activity from `history[from]` on, with caps seeded by the awards before it.
pub(crate) fn activities(model: &Model, state: &mut LeadState, from: usize, now: DateTime<Utc>) {
    let rules = &model.activity_rules;
    let mut windows: Vec<VecDeque<(DateTime<Utc>, Points)>> = vec![VecDeque::new(); rules.len()];
    if let Some(start) = state.history.get(from) {
        // Seed each capped rule's window with the awards just before the first re-scored one.
        let horizon = start.at - longest_cap(model);
        for r in state.history[..from]
            .iter()
            .rev()
            .take_while(|r| r.at > horizon)
        {
            for m in &r.matches {
                let i = m.idx as usize;
                if rules.get(i).is_some_and(|rule| !rule.caps.is_empty()) && !m.awarded.is_zero() {
                    windows[i].push_front((r.at, m.awarded));
                }
            }
        }
    }
    let as_of = state.decayed_through;
    let mut entries = Vec::new();
    for r in &mut state.history[from..] {
        for m in &mut r.matches {
            let Some(rule) = rules.get(m.idx as usize) else {
                // The rule left the model: its points go with it.
                if !m.current.is_zero() {
                    entries.push((
                        r.id.clone(),
                        r.at,
                        m.rule.clone(),
                        None,
                        -m.current,
                        Cause::Withdrawn,
                    ));
                    m.awarded = Points::ZERO;
                    m.current = Points::ZERO;
                }
                continue;
            };
            let awarded = if rule.caps.is_empty() {
                rule.points
            } else {
                let w = &mut windows[m.idx as usize];
                let keep = r.at - model.max_cap_window(m.idx as usize);
                while w.front().is_some_and(|(t, _)| *t <= keep) {
                    w.pop_front();
                }
                let a = capped(rule, r.at, w);
                if !a.is_zero() {
                    w.push_back((r.at, a));
                }
                a
            };
            let current = lifetime_value(rule.lifetime, awarded, r.at.date_naive(), as_of);
            let diff = current - m.current;
            if !diff.is_zero() {
                let cause = match (m.fresh, awarded == rule.points) {
                    (true, true) => Cause::Scored,
                    (true, false) => Cause::Capped,
                    (false, _) => Cause::Rescored,
                };
                entries.push((
                    r.id.clone(),
                    r.at,
                    m.rule.clone(),
                    rule.product.clone(),
                    diff,
                    cause,
                ));
            }
            m.awarded = awarded;
            m.current = current;
            m.fresh = false;
        }
    }
    for (activity, occurred_at, rule, product, points, cause) in entries {
        state.post(LedgerEntry {
            seq: 0,
            recorded_at: now,
            points,
            dimension: Dimension::Activity,
            product,
            source: Source::Activity {
                rule,
                activity,
                occurred_at,
            },
            cause,
        });
    }
}

fn longest_cap(model: &Model) -> TimeDelta {
    model
        .activity_rules
        .iter()
        .flat_map(|r| r.caps.iter().map(|c| c.window))
        .max()
        .unwrap_or(TimeDelta::zero())
}

/// Re-evaluates expiring and half-life rules as of `day`.
pub(crate) fn lifetimes(model: &Model, state: &mut LeadState, day: NaiveDate, now: DateTime<Utc>) {
    let mut entries = Vec::new();
    for r in &mut state.history {
        for m in &mut r.matches {
            let Some(rule) = model.activity_rules.get(m.idx as usize) else {
                continue;
            };
            if rule.lifetime == Lifetime::Forever {
                continue;
            }
            let current = lifetime_value(rule.lifetime, m.awarded, r.at.date_naive(), Some(day));
            let diff = current - m.current;
            if !diff.is_zero() {
                let cause = match rule.lifetime {
                    Lifetime::HalfLifeDays(_) => Cause::HalfLife,
                    _ => Cause::Expired,
                };
                entries.push((
                    r.id.clone(),
                    r.at,
                    m.rule.clone(),
                    rule.product.clone(),
                    diff,
                    cause,
                ));
                m.current = current;
            }
        }
    }
    for (activity, occurred_at, rule, product, points, cause) in entries {
        state.post(LedgerEntry {
            seq: 0,
            recorded_at: now,
            points,
            dimension: Dimension::Activity,
            product,
            source: Source::Activity {
                rule,
                activity,
                occurred_at,
            },
            cause,
        });
    }
}

/// Re-evaluates every fit rule against the current attributes.
pub(crate) fn fit(model: &Model, state: &mut LeadState, now: DateTime<Utc>) {
    let mut entries = Vec::new();
    for rule in &model.fit_rules {
        let value = attribute(&state.attributes, &rule.attribute);
        let desired = if rule.condition.matches(value.as_deref(), &model.lists) {
            rule.points
        } else {
            Points::ZERO
        };
        let current = state.fit.get(&rule.id).copied().unwrap_or_default();
        if desired != current {
            let cause = match (current.is_zero(), desired.is_zero()) {
                (_, true) => crate::ledger::Cause::Withdrawn,
                (true, false) => Cause::Scored,
                (false, false) => Cause::Rescored,
            };
            entries.push((
                rule.id.clone(),
                rule.product.clone(),
                desired - current,
                cause,
            ));
            state.fit.insert(rule.id.clone(), desired);
        }
    }
    // Rules dropped from the model take their points with them.
    let gone: Vec<_> = state
        .fit
        .iter()
        .filter(|(id, p)| !p.is_zero() && !model.fit_rules.iter().any(|r| r.id == **id))
        .map(|(id, p)| (id.clone(), *p))
        .collect();
    for (id, p) in gone {
        state.fit.insert(id.clone(), Points::ZERO);
        entries.push((id, None, -p, Cause::Withdrawn));
    }
    for (rule, product, points, cause) in entries {
        state.post(LedgerEntry {
            seq: 0,
            recorded_at: now,
            points,
            dimension: Dimension::Fit,
            product,
            source: Source::Fit { rule },
            cause,
        });
    }
}

/// Keeps the total at or above the model's floor with an adjustment entry (and takes the
/// adjustment back as the score recovers).
pub(crate) fn floor(model: &Model, state: &mut LeadState, now: DateTime<Utc>) {
    let raw = state.scores.total - state.scores.adjustment;
    let desired = (model.thresholds.floor - raw).max(Points::ZERO);
    let diff = desired - state.scores.adjustment;
    if !diff.is_zero() {
        state.post(LedgerEntry {
            seq: 0,
            recorded_at: now,
            points: diff,
            dimension: Dimension::Adjustment,
            product: None,
            source: Source::Floor,
            cause: Cause::Floor,
        });
    }
}
