//! Combination bonuses: a set of activities (optionally in order) within a window.
//!
//! Awards before a batch's earliest activity stand (they only depend on what came before
//! them). From there on, awards are re-evaluated with the matcher seeded from the window
//! just before, and diffed against the awards already in the ledger.

use super::state::{post, ActivityRecord, ComboAward, LeadState};
use crate::ledger::{Cause, Dimension, LedgerEntry, Source};
use crate::model::{Combination, Model};
use crate::Name;
use chrono::{DateTime, Utc};

fn has_rule(r: &ActivityRecord, rule: usize) -> bool {
    r.matches.iter().any(|m| m.idx.0 as usize == rule)
}

/// Tracks progress towards one combination, activity by activity in history order.
struct Matcher<'a> {
    combo: &'a Combination,
    /// Unordered: when each required rule last happened. Ordered: the latest start of a
    /// chain that has done steps 0..=k.
    seen: Vec<Option<DateTime<Utc>>>,
}

impl<'a> Matcher<'a> {
    fn new(combo: &'a Combination) -> Self {
        Matcher {
            combo,
            seen: vec![None; combo.requires.len()],
        }
    }

    /// Feeds one activity; true when it completes the combination.
    fn step(&mut self, r: &ActivityRecord) -> bool {
        let c = self.combo;
        if c.ordered {
            // Highest step first, so one activity never advances two steps.
            for k in (0..c.requires.len()).rev() {
                if !has_rule(r, c.requires[k]) {
                    continue;
                }
                if k == 0 {
                    self.seen[0] = Some(r.at);
                } else if let Some(start) = self.seen[k - 1] {
                    if r.at - start <= c.within {
                        self.seen[k] = Some(self.seen[k].map_or(start, |s| s.max(start)));
                    }
                }
            }
            self.seen.last().is_some_and(Option::is_some)
        } else {
            let mut touched = false;
            for (k, &rule) in c.requires.iter().enumerate() {
                if has_rule(r, rule) {
                    self.seen[k] = Some(r.at);
                    touched = true;
                }
            }
            touched
                && self
                    .seen
                    .iter()
                    .all(|t| t.is_some_and(|t| r.at - t <= c.within))
        }
    }

    /// After an award, the next one needs all-new activities.
    fn reset(&mut self) {
        self.seen.iter_mut().for_each(|t| *t = None);
    }
}

/// Awards at `history[from..]`, given the last standing award's position and how many there are.
fn awards_from(
    combo: &Combination,
    history: &[ActivityRecord],
    from: usize,
    last_award: Option<usize>,
    standing: u32,
) -> Vec<(Name, DateTime<Utc>)> {
    let mut out = Vec::new();
    let Some(start) = history.get(from) else {
        return out;
    };
    // Activities older than the window cannot complete anything at or after `from`.
    // Saturating: an event at the edge of the calendar must not overflow the arithmetic.
    let lo = start
        .at
        .checked_sub_signed(combo.within)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let window_start = history.partition_point(|r| r.at < lo);
    let seed_start = last_award.map_or(0, |p| p + 1).max(window_start);
    let mut m = Matcher::new(combo);
    let mut count = standing;
    for (pos, r) in history.iter().enumerate().skip(seed_start) {
        if count >= combo.max_awards {
            break;
        }
        if m.step(r) {
            m.reset();
            if pos >= from {
                out.push((r.id.clone(), r.at));
                count += 1;
            }
        }
    }
    out
}

/// Re-evaluates the combinations that use a rule matched by `history[from..]`.
pub(crate) fn rescore(model: &Model, state: &mut LeadState, from: usize, now: DateTime<Utc>) {
    let LeadState {
        history,
        combos,
        ledger,
        scores,
        ..
    } = state;
    let Some(first) = history.get(from) else {
        return;
    };
    let t0 = (first.at, first.id.clone());
    let before_t0 = |a: &ComboAward| (a.at, &*a.activity) < (t0.0, &*t0.1);
    for combo in &model.combinations {
        let touched = history[from..]
            .iter()
            .any(|r| combo.requires.iter().any(|&q| has_rule(r, q)));
        if !touched {
            continue;
        }
        let mine = |a: &ComboAward| *a.combination == *combo.id;
        let standing: Vec<&ComboAward> =
            combos.iter().filter(|a| mine(a) && before_t0(a)).collect();
        let last_award = standing
            .iter()
            .filter_map(|a| {
                history
                    .binary_search_by(|r| r.key().cmp(&(a.at, &*a.activity)))
                    .ok()
            })
            .max();
        let desired = awards_from(combo, history, from, last_award, standing.len() as u32);
        let mut entries = Vec::new();
        // Awards that no longer hold are taken back...
        combos.retain(|a| {
            if !mine(a) || before_t0(a) || desired.iter().any(|(id, _)| *id == a.activity) {
                return true;
            }
            entries.push((a.activity.clone(), a.at, -a.points, Cause::Withdrawn));
            false
        });
        // ...and new ones are added.
        for (activity, at) in desired {
            if !combos.iter().any(|a| mine(a) && a.activity == activity) {
                combos.push(ComboAward {
                    combination: combo.id.clone(),
                    activity: activity.clone(),
                    at,
                    points: combo.points,
                });
                entries.push((activity, at, combo.points, Cause::Scored));
            }
        }
        for (activity, occurred_at, points, cause) in entries {
            if points.is_zero() {
                continue;
            }
            let e = LedgerEntry {
                seq: 0,
                recorded_at: now,
                points,
                dimension: Dimension::Activity,
                product: combo.product.clone(),
                source: Source::Combination {
                    combination: combo.id.clone(),
                    activity,
                    occurred_at,
                },
                cause,
            };
            post(ledger, scores, e);
        }
    }
}
