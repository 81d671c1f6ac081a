//! Re-evaluation of activity points (caps, lifetimes), fit points and the floor, each as a
//! diff against what the ledger already holds, so the ledger stays append-only.

use super::state::{post, LeadState};
use crate::ledger::{Cause, Dimension, Ledger, LedgerEntry, Source};
use crate::model::matching::attribute;
use crate::model::{ActivityRule, Lifetime, Model, MAX_CAPS};
use crate::points::Points;
use crate::Name;
use chrono::{DateTime, NaiveDate, Utc};

/// What a rule's awarded points are worth on `as_of`, given the day the activity happened.
pub(crate) fn lifetime_value(
    lifetime: Lifetime,
    awarded: Points,
    occurred: DateTime<Utc>,
    as_of: Option<NaiveDate>,
) -> Points {
    let Some(as_of) = as_of.filter(|_| lifetime != Lifetime::Forever) else {
        return awarded;
    };
    let age = (as_of - occurred.date_naive()).num_days().max(0);
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

/// Points a rule awards at `at` (epoch milliseconds), given its earlier awards (`prior`:
/// times and points, at or before `at`). One pass over the window serves all the rule's
/// caps, with integer times: this runs for every capped match.
fn capped(rule: &ActivityRule, at: i64, prior: impl Iterator<Item = (i64, Points)>) -> Points {
    let caps = &rule.caps[..rule.caps.len().min(MAX_CAPS)];
    let mut since = [i64::MAX; MAX_CAPS];
    for (s, cap) in since.iter_mut().zip(caps) {
        *s = at - cap.window.num_milliseconds();
    }
    let (mut count, mut used) = ([0u32; MAX_CAPS], [Points::ZERO; MAX_CAPS]);
    for (t, p) in prior {
        for k in 0..caps.len() {
            if t > since[k] {
                count[k] += 1;
                used[k] += p.abs();
            }
        }
    }
    let mut allowed = rule.points.abs();
    for (k, cap) in caps.iter().enumerate() {
        if cap.max_count.is_some_and(|max| count[k] >= max) {
            return Points::ZERO;
        }
        if let Some(max) = cap.max_points {
            allowed = allowed.min((max - used[k]).max(Points::ZERO));
        }
    }
    if rule.points.0 < 0 {
        -allowed
    } else {
        allowed
    }
}

fn activity_entry(
    now: DateTime<Utc>,
    (activity, occurred_at): (&Name, DateTime<Utc>),
    rule: Name,
    product: Option<Name>,
    points: Points,
    cause: Cause,
) -> LedgerEntry {
    LedgerEntry {
        seq: 0,
        recorded_at: now,
        points,
        dimension: Dimension::Activity,
        product,
        source: Source::Activity {
            rule,
            activity: activity.clone(),
            occurred_at,
        },
        cause,
    }
}

/// Re-scores every activity from `history[from]` on, with caps seeded by the awards before it.
pub(crate) fn activities(model: &Model, state: &mut LeadState, from: usize, now: DateTime<Utc>) {
    let rules = &model.activity_rules;
    let LeadState {
        history,
        ledger,
        scores,
        decayed_through,
        ..
    } = state;
    // Per capped rule, its awards inside the longest cap window, in time order: (epoch ms,
    // points). Seeded from the activities just before the re-scored range.
    let mut windows: Vec<Vec<(i64, Points)>> = Vec::new();
    windows.resize_with(rules.len(), Vec::new);
    if let Some(start) = history.get(from) {
        let horizon = start
            .at
            .checked_sub_signed(model.longest_cap_window())
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        for r in history[..from].iter().rev().take_while(|r| r.at > horizon) {
            for m in &r.matches {
                let capped_rule = rules
                    .get(m.idx.0 as usize)
                    .is_some_and(|rule| !rule.caps.is_empty());
                if capped_rule && !m.awarded.is_zero() {
                    windows[m.idx.0 as usize].push((r.at.timestamp_millis(), m.awarded));
                }
            }
        }
        windows.iter_mut().for_each(|w| w.reverse());
    }
    for r in &mut history[from..] {
        for m in &mut r.matches {
            let Some(rule) = rules.get(m.idx.0 as usize) else {
                // The rule left the model: its points go with it.
                if !m.current.is_zero() {
                    let product = former_product(ledger, "activity", &m.rule);
                    let e = activity_entry(
                        now,
                        (&r.id, r.at),
                        m.rule.clone(),
                        product,
                        -m.current,
                        Cause::Withdrawn,
                    );
                    post(ledger, scores, e);
                    m.awarded = Points::ZERO;
                    m.current = Points::ZERO;
                }
                continue;
            };
            let awarded = if rule.caps.is_empty() {
                rule.points
            } else {
                let at = r.at.timestamp_millis();
                let w = &mut windows[m.idx.0 as usize];
                let longest = rule
                    .caps
                    .iter()
                    .map(|c| c.window.num_milliseconds())
                    .max()
                    .unwrap_or(0);
                let first = w.partition_point(|(t, _)| *t <= at - longest);
                let a = capped(rule, at, w[first..].iter().copied());
                if !a.is_zero() {
                    w.push((at, a));
                }
                a
            };
            let current = lifetime_value(rule.lifetime, awarded, r.at, *decayed_through);
            let diff = current - m.current;
            if !diff.is_zero() {
                let cause = match (m.fresh.0, awarded == rule.points) {
                    (true, true) => Cause::Scored,
                    (true, false) => Cause::Capped,
                    (false, _) => Cause::Rescored,
                };
                let e = activity_entry(
                    now,
                    (&r.id, r.at),
                    m.rule.clone(),
                    rule.product.clone(),
                    diff,
                    cause,
                );
                post(ledger, scores, e);
            }
            m.awarded = awarded;
            m.current = current;
            m.fresh.0 = false;
        }
    }
}

/// Re-evaluates expiring and half-life rules as of `day`. What they take is held to the
/// decay floor: inactivity decay may already have taken those points once.
pub(crate) fn lifetimes(model: &Model, state: &mut LeadState, day: NaiveDate, now: DateTime<Utc>) {
    let floor = model.decay.map_or(Points::ZERO, |d| d.floor);
    let LeadState {
        history,
        ledger,
        scores,
        ..
    } = state;
    for r in history.iter_mut() {
        for m in &mut r.matches {
            let Some(rule) = model.activity_rules.get(m.idx.0 as usize) else {
                continue;
            };
            if rule.lifetime == Lifetime::Forever {
                continue;
            }
            let current = lifetime_value(rule.lifetime, m.awarded, r.at, Some(day));
            let mut diff = current - m.current;
            m.current = current;
            if diff.0 < 0 {
                diff = diff.max(-(scores.activity - floor).max(Points::ZERO));
            }
            if !diff.is_zero() {
                let cause = match rule.lifetime {
                    Lifetime::HalfLifeDays(_) => Cause::HalfLife,
                    _ => Cause::Expired,
                };
                let e = activity_entry(
                    now,
                    (&r.id, r.at),
                    m.rule.clone(),
                    rule.product.clone(),
                    diff,
                    cause,
                );
                post(ledger, scores, e);
            }
        }
    }
}

/// The product a rule's entries were tagged with, for a rule that has left the model.
fn former_product(ledger: &Ledger, kind: &str, rule: &str) -> Option<Name> {
    ledger.product_of(kind, rule)
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
        let product = former_product(&state.ledger, "fit", &id);
        entries.push((id, product, -p, Cause::Withdrawn));
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
    let diff = floor_diff(model, state);
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

/// The adjustment entry [`floor`] would post now (zero: the floor holds as it is).
pub(crate) fn floor_diff(model: &Model, state: &LeadState) -> Points {
    let raw = state.scores.total - state.scores.adjustment;
    let desired = (model.thresholds.floor - raw).max(Points::ZERO);
    desired - state.scores.adjustment
}
