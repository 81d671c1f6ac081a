//! The engine: applies a batch of normalized events to a lead, and decays it day by day.
//! Pure: the clock is an argument and nothing here does I/O.
//!
//! Determinism: activities are kept sorted by (occurred time, id), and caps and combinations
//! only ever look backwards in that order. So a batch only re-evaluates from its earliest
//! activity onwards, and the final scores do not depend on the order batches arrived in:
//! a late activity produces `rescored` entries that correct later awards.

pub(crate) mod combos;
mod decay;
mod due;
pub(crate) mod rescore;
pub mod state;
pub(crate) mod transitions;

pub use decay::{decay, end_of_day};
pub use due::next_due;
pub use state::{ActivityRecord, ComboAward, LeadState, RuleMatch, Scores, Stamp};

use crate::event::{Event, EventKind};
use crate::lifecycle::Transition;
use crate::model::Model;
use crate::Name;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What one call changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Outcome {
    /// Events applied for the first time.
    pub accepted: usize,
    /// Events whose id had been applied before: they changed nothing.
    pub duplicates: usize,
    /// How many entries were appended to the ledger (the last ones).
    pub new_entries: usize,
    pub transitions: Vec<Transition>,
}

/// Applies a batch of events (any order, duplicates allowed, older than what was applied
/// before or not) to `state`.
pub fn apply(
    model: &Model,
    state: &mut LeadState,
    events: &[Event],
    now: DateTime<Utc>,
) -> Outcome {
    state.link(model);
    let ledger_start = state.ledger.len();
    let mut out = Outcome::default();
    let mut feedback: Vec<&Event> = Vec::new();
    let mut instant: Vec<(DateTime<Utc>, Name, Name)> = Vec::new();
    let mut attributes_changed = false;
    let mut new_records = Vec::with_capacity(events.len());
    let mut matched: smallvec::SmallVec<[usize; 8]> = smallvec::SmallVec::new();

    for e in events {
        // One hash per event: building an id is cheap (short ids are inline).
        let id = Name::from(e.id.as_str());
        if !state.seen.insert(id.clone()) {
            out.duplicates += 1;
            continue;
        }
        out.accepted += 1;
        if let Some(account) = &e.account {
            state.observe_account(account, e.occurred_at);
        }
        match e.kind {
            EventKind::Identify => attributes_changed |= merge_attributes(state, e, &id),
            EventKind::SalesFeedback => feedback.push(e),
            _ => {
                state.first_seen_at = Some(
                    state
                        .first_seen_at
                        .map_or(e.occurred_at, |t| t.min(e.occurred_at)),
                );
                matched.clear();
                model.match_event(e, &mut matched);
                if matched.is_empty() {
                    continue;
                }
                let mut engaged = false;
                let mut matches = smallvec::SmallVec::new();
                for &i in &matched {
                    let rule = &model.activity_rules[i];
                    engaged |= rule.points.0 > 0;
                    if rule.instant_mql {
                        instant.push((e.occurred_at, rule.id.clone(), id.clone()));
                    }
                    matches.push(RuleMatch {
                        rule: rule.id.clone(),
                        awarded: Default::default(),
                        current: Default::default(),
                        idx: state::Transient(i as u32),
                        fresh: state::Transient(true),
                    });
                }
                if engaged {
                    state.last_engaged_at = Some(
                        state
                            .last_engaged_at
                            .map_or(e.occurred_at, |t| t.max(e.occurred_at)),
                    );
                }
                new_records.push(ActivityRecord {
                    id,
                    at: e.occurred_at,
                    matches,
                });
            }
        }
    }

    if !new_records.is_empty() {
        let from = insert_sorted(&mut state.history, new_records);
        rescore::activities(model, state, from, now);
        combos::rescore(model, state, from, now);
    }
    if attributes_changed {
        rescore::fit(model, state, now);
    }
    rescore::floor(model, state, now);

    feedback.sort_by(|a, b| (a.occurred_at, &a.id).cmp(&(b.occurred_at, &b.id)));
    instant.sort();
    out.transitions = transitions::after_events(model, state, &feedback, instant.first(), now);
    out.new_entries = state.ledger.len() - ledger_start;
    state.next_due = next_due(model, state);
    out
}

/// Merges an `identify` event's properties into the attributes; an attribute keeps the
/// value of its latest event (by occurred time, then id). Returns whether anything changed.
fn merge_attributes(state: &mut LeadState, e: &Event, id: &Name) -> bool {
    let mut changed = false;
    for (k, v) in &e.properties {
        let newer = state
            .attribute_stamps
            .get(k)
            .is_none_or(|s| (s.at, &*s.event) < (e.occurred_at, &**id));
        if !newer {
            continue;
        }
        state.attribute_stamps.insert(
            k.clone(),
            state::Stamp {
                at: e.occurred_at,
                event: id.clone(),
            },
        );
        let value = match v {
            crate::event::AttrValue::Text(s) if k == "email" || k == "email_domain" => {
                crate::event::AttrValue::Text(s.trim().to_lowercase())
            }
            other => other.clone(),
        };
        let old = if value.is_present() {
            state.attributes.insert(k.clone(), value.clone())
        } else {
            state.attributes.remove(k)
        };
        changed |= old.as_ref() != Some(&value).filter(|v| v.is_present());
    }
    changed
}

/// Inserts records into the sorted history; returns the index of the earliest new one.
pub(crate) fn insert_sorted(
    history: &mut Vec<ActivityRecord>,
    mut new: Vec<ActivityRecord>,
) -> usize {
    if !new.is_sorted_by(|a, b| a.key() <= b.key()) {
        new.sort_by(|a, b| a.key().cmp(&b.key()));
    }
    let Some(first) = new.first() else {
        return history.len();
    };
    let first_key = (first.at, first.id.clone());
    let in_order = history
        .last()
        .is_none_or(|last| last.key() < (first_key.0, &*first_key.1));
    history.extend(new);
    if !in_order {
        history.sort_by(|a, b| a.key().cmp(&b.key()));
    }
    history.partition_point(|r| r.key() < (first_key.0, &*first_key.1))
}
