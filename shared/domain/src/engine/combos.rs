//! Combination bonuses: a set of activities (optionally in order) within a window.
//! Re-evaluated over the whole history whenever a batch touches one of their rules, and
//! diffed against the awards already in the ledger.

use super::state::{ActivityRecord, ComboAward, LeadState};
use crate::ledger::{Cause, Dimension, LedgerEntry, Source};
use crate::model::{Combination, Model};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Where a combination is completed: (activity id, time), in history order.
pub(crate) fn awards(
    combo: &Combination,
    history: &[ActivityRecord],
) -> Vec<(Arc<str>, DateTime<Utc>)> {
    let n = combo.requires.len();
    let step_of = |idx: u32| combo.requires.iter().position(|&r| r as u32 == idx);
    let mut out = Vec::new();
    if combo.ordered {
        // chain[k]: the latest start time of a chain that has done steps 0..=k, in order.
        let mut chain: Vec<Option<DateTime<Utc>>> = vec![None; n];
        for r in history {
            let mut steps: Vec<usize> = r.matches.iter().filter_map(|m| step_of(m.idx)).collect();
            // Highest step first, so one activity never advances two steps.
            steps.sort_unstable_by(|a, b| b.cmp(a));
            for k in steps {
                if k == 0 {
                    chain[0] = Some(r.at);
                } else if let Some(start) = chain[k - 1] {
                    if r.at - start <= combo.within {
                        chain[k] = Some(chain[k].map_or(start, |s| s.max(start)));
                    }
                }
            }
            if chain[n - 1].is_some() {
                out.push((r.id.clone(), r.at));
                if out.len() as u32 >= combo.max_awards {
                    break;
                }
                chain.iter_mut().for_each(|c| *c = None);
            }
        }
    } else {
        // last[k]: the latest time step k happened since the last award.
        let mut last: Vec<Option<DateTime<Utc>>> = vec![None; n];
        for r in history {
            let mut touched = false;
            for m in &r.matches {
                if let Some(k) = step_of(m.idx) {
                    last[k] = Some(r.at);
                    touched = true;
                }
            }
            if touched
                && last
                    .iter()
                    .all(|t| t.is_some_and(|t| r.at - t <= combo.within))
            {
                out.push((r.id.clone(), r.at));
                if out.len() as u32 >= combo.max_awards {
                    break;
                }
                last.iter_mut().for_each(|t| *t = None);
            }
        }
    }
    out
}

/// Re-evaluates the combinations that use a rule matched by `history[from..]`.
pub(crate) fn rescore(model: &Model, state: &mut LeadState, from: usize, now: DateTime<Utc>) {
    for combo in &model.combinations {
        let touched = state.history[from..].iter().any(|r| {
            r.matches
                .iter()
                .any(|m| combo.requires.iter().any(|&q| q as u32 == m.idx))
        });
        if !touched {
            continue;
        }
        let desired = awards(combo, &state.history);
        let mut entries = Vec::new();
        // Awards that no longer hold are taken back...
        state.combos.retain(|a| {
            if *a.combination != *combo.id || desired.iter().any(|(id, _)| *id == a.activity) {
                return true;
            }
            entries.push((a.activity.clone(), a.at, -a.points, Cause::Withdrawn));
            false
        });
        // ...and new ones are added.
        for (activity, at) in desired {
            let known = state
                .combos
                .iter()
                .any(|a| *a.combination == *combo.id && a.activity == activity);
            if !known {
                state.combos.push(ComboAward {
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
            state.post(LedgerEntry {
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
            });
        }
    }
}
