//! Folding two leads into one when the CRM merges contacts (HubSpot `contact.merge`).
//!
//! `merge(model, into, absorbed, now)` folds `absorbed` into `into`, the surviving lead. The
//! rule throughout: **the survivor ends as if it had received the absorbed lead's events
//! itself**, late, in one batch at `now`.
//!
//! - **Identity and record.** The survivor keeps its id, its ledger and its transitions; the
//!   absorbed lead's ledger and transitions are not copied (they explain a score that no
//!   longer exists). The survivor's ledger only grows.
//! - **Activities.** Every scoring activity of the absorbed lead whose event id the survivor
//!   has not seen joins the survivor's history as a fresh arrival (points not yet awarded),
//!   exactly as `apply` would add it. Ids the survivor has seen are duplicates and are skipped,
//!   so an event delivered to both leads counts once. Matches are kept by rule id, as in any
//!   lead's history; a rule the model no longer has scores nothing.
//! - **Seen event ids** are the union of both leads', so a redelivery of an event of either
//!   lead to the survivor is a duplicate.
//! - **Attributes** are last-writer-wins by (occurred time, event id), the order `apply` uses:
//!   for each attribute of the absorbed lead, its value (or its clearing) replaces the
//!   survivor's only when both have a stamp and the absorbed stamp is later. Without stamps to
//!   compare, the survivor's attribute wins, and an attribute the survivor lacks (no value,
//!   no stamp) is taken with its stamp. So the survivor's attributes win unless the absorbed
//!   lead is known to have heard of a newer value, which is what the survivor would hold had
//!   it received the absorbed lead's `identify` events.
//! - **Times.** `first_seen_at` is the earlier of the two, `last_engaged_at` the later.
//! - **Account.** The absorbed lead's account is observed like any other (a CRM company
//!   beats a domain, then the newer wins).
//! - **Re-evaluation** goes through the engine's own steps, as after a batch: activities from
//!   the earliest added one onwards (caps apply across both leads' activities, and lifetimes,
//!   expiry and half-life, as of the survivor's `decayed_through`), combinations, fit rules
//!   (when an attribute changed), the score floor. The ledger entries carry the causes a late
//!   batch would: `scored`/`capped` for the absorbed activities, `rescored` for the survivor's
//!   awards that caps now reduce, `scored`/`withdrawn` for combinations and fit rules, `floor`.
//!   So the scores stay the sums of the (whole) ledger, which only grows.
//! - **Decay.** The absorbed lead's inactivity decay is not carried over: its `decayed`
//!   entries stay with it, and its activities count at what they are worth on the survivor's
//!   `decayed_through` day (lifetimes only). From then on the survivor decays as one lead,
//!   idle since the later `last_engaged_at`.
//! - **Stage.** If sales had moved the absorbed lead further than the survivor, the survivor
//!   takes that stage: `customer` outranks `sql`, which outranks every other stage (lead,
//!   mql, nurture, recycled and disqualified alike: an open opportunity or a customer outweighs
//!   a disqualification of the other record). The move is a transition at `now` with reason
//!   `merged`. A disqualified, recycled or nurtured absorbed lead does not move the survivor.
//!   Then the usual moves after a batch run: an absorbed activity that matches an instant-MQL
//!   rule qualifies the survivor (`instant_mql`, dated by the activity), and the merged score
//!   may qualify it (`score_reached`) or, below the exit threshold, recycle an MQL, with the
//!   same rules as `apply` (a nurtured or recycled survivor requalifies only on activity after
//!   it got there).
//! - **Idempotent.** Merging the same absorbed state again adds nothing: its activities and
//!   events are seen, its attributes' stamps are no longer newer, the stage is reached, and
//!   the re-run moves and floor are no-ops.

use crate::engine::state::{ActivityRecord, LeadState, RuleMatch, Transient};
use crate::engine::{combos, insert_sorted, rescore, transitions};
use crate::lifecycle::{Reason, Stage, Transition};
use crate::model::Model;
use crate::points::Points;
use crate::Name;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// What a merge changed in the surviving lead.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MergeOutcome {
    /// Scoring activities of the absorbed lead added to the survivor's history.
    pub activities_added: usize,
    /// Event ids (scoring or not) the survivor had not seen.
    pub events_added: usize,
    /// Attributes whose value (or clearing) came from the absorbed lead.
    pub attributes_taken: Vec<String>,
    /// How many entries were appended to the survivor's ledger (the last ones).
    pub new_entries: usize,
    /// The survivor's lifecycle moves, in order.
    pub transitions: Vec<Transition>,
}

impl MergeOutcome {
    /// Whether the survivor changed at all (false when the absorbed lead was merged before).
    pub fn changed(&self) -> bool {
        self.activities_added > 0
            || self.events_added > 0
            || !self.attributes_taken.is_empty()
            || self.new_entries > 0
            || !self.transitions.is_empty()
    }
}

/// Folds `absorbed` into `into` (the surviving lead), then re-evaluates the survivor. See
/// the module documentation for the rules.
pub fn merge(
    model: &Model,
    into: &mut LeadState,
    absorbed: &LeadState,
    now: DateTime<Utc>,
) -> MergeOutcome {
    into.link(model);
    let ledger_start = into.ledger.len();
    let mut out = MergeOutcome::default();

    // Absorbed activities the survivor has not seen, as fresh arrivals.
    let mut instant: Vec<(DateTime<Utc>, Name, Name)> = Vec::new();
    let mut new_records = Vec::new();
    for r in &absorbed.history {
        if into.seen.contains(&r.id) {
            continue;
        }
        let matches = r
            .matches
            .iter()
            .map(|m| {
                let idx = model.activity_rule_index(&m.rule);
                if let Some(rule) = idx.and_then(|i| model.activity_rules.get(i)) {
                    if rule.instant_mql {
                        instant.push((r.at, rule.id.clone(), r.id.clone()));
                    }
                }
                RuleMatch {
                    rule: m.rule.clone(),
                    awarded: Points::ZERO,
                    current: Points::ZERO,
                    idx: Transient(idx.and_then(|i| u32::try_from(i).ok()).unwrap_or(u32::MAX)),
                    fresh: Transient(true),
                }
            })
            .collect();
        new_records.push(ActivityRecord {
            id: r.id.clone(),
            at: r.at,
            matches,
        });
    }

    let seen_before = into.seen.len();
    into.seen.extend(absorbed.seen.iter().cloned());
    into.seen.extend(new_records.iter().map(|r| r.id.clone()));
    out.events_added = into.seen.len() - seen_before;

    let attributes_changed = take_attributes(into, absorbed, &mut out.attributes_taken);

    into.first_seen_at = match (into.first_seen_at, absorbed.first_seen_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    into.last_engaged_at = into.last_engaged_at.max(absorbed.last_engaged_at);
    if let Some(a) = &absorbed.account {
        into.observe_account(&a.key, a.at);
    }

    // Re-evaluation, in the order `apply` runs it after a batch.
    if !new_records.is_empty() {
        out.activities_added = new_records.len();
        let from = insert_sorted(&mut into.history, new_records);
        rescore::activities(model, into, from, now);
        combos::rescore(model, into, from, now);
    }
    if attributes_changed {
        rescore::fit(model, into, now);
    }
    rescore::floor(model, into, now);

    // Sales' stage of the absorbed lead first (as feedback comes first in a batch), then the
    // instant-MQL and score moves.
    if sales_rank(absorbed.stage) > sales_rank(into.stage) {
        let reason = Reason::Merged {
            absorbed: absorbed.lead_id.clone(),
        };
        transitions::move_to(into, &mut out.transitions, absorbed.stage, now, reason);
    }
    instant.sort();
    let moves = transitions::after_events(model, into, &[], instant.first(), now);
    out.transitions.extend(moves);

    out.new_entries = into.ledger.len() - ledger_start;
    into.next_due = crate::engine::next_due(model, into);
    out
}

/// How far sales has taken a lead: customer, then SQL, then every other stage alike.
fn sales_rank(stage: Stage) -> u8 {
    match stage {
        Stage::Customer => 2,
        Stage::Sql => 1,
        _ => 0,
    }
}

/// Takes the absorbed lead's attributes by the rule in the module documentation; records
/// the keys taken. Returns whether an attribute value changed.
fn take_attributes(into: &mut LeadState, absorbed: &LeadState, taken: &mut Vec<String>) -> bool {
    let keys: BTreeSet<&String> = absorbed
        .attributes
        .keys()
        .chain(absorbed.attribute_stamps.keys())
        .collect();
    let mut changed = false;
    for key in keys {
        let theirs = absorbed.attribute_stamps.get(key);
        let take = match (into.attribute_stamps.get(key), theirs) {
            (Some(ours), Some(theirs)) => (ours.at, &*ours.event) < (theirs.at, &*theirs.event),
            (None, _) => !into.attributes.contains_key(key),
            (Some(_), None) => false,
        };
        if !take {
            continue;
        }
        if let Some(stamp) = theirs {
            into.attribute_stamps.insert(key.clone(), stamp.clone());
        }
        let value = absorbed.attributes.get(key).filter(|v| v.is_present());
        let old = match value {
            Some(v) => into.attributes.insert(key.clone(), v.clone()),
            None => into.attributes.remove(key),
        };
        changed |= old.as_ref() != value;
        taken.push(key.clone());
    }
    changed
}
