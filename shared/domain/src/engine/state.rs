//! A lead's state: attributes, stage, scores, the activities that scored and the ledger.

use crate::event::Attributes;
use crate::grade::Grade;
use crate::ledger::{Dimension, Ledger, LedgerEntry};
use crate::lifecycle::{Stage, Transition};
use crate::model::Model;
use crate::points::Points;
use crate::Name;
use chrono::{DateTime, NaiveDate, Utc};
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::collections::BTreeMap;

/// Scores by dimension. Each is the sum of the ledger entries of its dimension (products:
/// of the entries tagged with the product); `total` is the sum of all entries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scores {
    pub total: Points,
    pub fit: Points,
    pub activity: Points,
    /// What the score floor added.
    pub adjustment: Points,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub products: BTreeMap<Name, Points>,
    /// The activity part of each product score (decay splits along it).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub activity_by_product: BTreeMap<Name, Points>,
}

impl Scores {
    pub(crate) fn post(&mut self, e: &LedgerEntry) {
        self.total += e.points;
        match e.dimension {
            Dimension::Fit => self.fit += e.points,
            Dimension::Activity => self.activity += e.points,
            Dimension::Adjustment => self.adjustment += e.points,
        }
        if let Some(p) = &e.product {
            add(&mut self.products, p, e.points);
            if e.dimension == Dimension::Activity {
                add(&mut self.activity_by_product, p, e.points);
            }
        }
    }
}

/// Adds to a product's points; a product back at zero is dropped, so the maps do not depend
/// on the order points came and went.
fn add(map: &mut BTreeMap<Name, Points>, product: &Name, points: Points) {
    let v = map.entry(product.clone()).or_default();
    *v += points;
    if v.is_zero() {
        map.remove(product);
    }
}

/// Appends an entry and adds it to the scores: the one place both change, so the scores
/// always equal the ledger's sums. Free-standing so callers can hold other fields mutably.
pub(crate) fn post(ledger: &mut Ledger, scores: &mut Scores, e: LedgerEntry) {
    scores.post(ledger.push(e));
}

/// One activity rule an activity matched, and what it earns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMatch {
    pub rule: Name,
    /// The rule's points after caps.
    pub awarded: Points,
    /// What it counts now, after expiry or half-life (equal to `awarded` otherwise).
    pub current: Points,
    /// Index of the rule in the linked model; `u32::MAX` when the rule is gone.
    #[serde(skip, default = "unlinked")]
    pub(crate) idx: Transient<u32>,
    /// Set on arrival, cleared once scored: tells "scored" from "rescored" in the ledger.
    #[serde(skip)]
    pub(crate) fresh: Transient<bool>,
}

fn unlinked() -> Transient<u32> {
    Transient(u32::MAX)
}

/// A cache derived from other fields: never stored, and ignored by `==`, so a state read
/// back from a store equals the one written.
#[derive(Clone, Copy, Debug, Default)]
pub struct Transient<T>(pub T);

impl<T> PartialEq for Transient<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for Transient<T> {}

/// An activity that matched at least one rule. Kept so caps, combinations and late
/// arrivals can be re-evaluated exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRecord {
    pub id: Name,
    pub at: DateTime<Utc>,
    /// Inline: almost every activity matches one or two rules.
    pub matches: SmallVec<[RuleMatch; 2]>,
}

impl ActivityRecord {
    pub(crate) fn key(&self) -> (DateTime<Utc>, &str) {
        (self.at, &self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComboAward {
    pub combination: Name,
    /// The activity that completed it.
    pub activity: Name,
    pub at: DateTime<Utc>,
    pub points: Points,
}

/// When an attribute was last set, so an older update arriving late does not win.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub at: DateTime<Utc>,
    pub event: Name,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadState {
    pub lead_id: String,
    pub attributes: Attributes,
    #[serde(default)]
    pub attribute_stamps: BTreeMap<String, Stamp>,
    pub stage: Stage,
    pub stage_since: Option<DateTime<Utc>>,
    /// Qualified by an instant-MQL rule: the score does not take it out of MQL.
    #[serde(default)]
    pub mql_via_instant: bool,
    pub scores: Scores,
    /// Scoring activities, sorted by (occurred time, id).
    #[serde(default)]
    pub history: Vec<ActivityRecord>,
    #[serde(default)]
    pub combos: Vec<ComboAward>,
    /// Current points of each fit rule.
    #[serde(default)]
    pub fit: BTreeMap<Name, Points>,
    /// The company the lead belongs to (see [`crate::account`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<crate::account::Account>,
    /// Every event id applied, scoring or not.
    #[serde(default)]
    pub seen: FxHashSet<Name>,
    pub first_seen_at: Option<DateTime<Utc>>,
    /// Latest activity that matched a rule with positive points.
    pub last_engaged_at: Option<DateTime<Utc>>,
    /// Decay (and expiry, half-life) has been applied through this day.
    pub decayed_through: Option<NaiveDate>,
    /// The first day decay has something to do for this lead (a ledger entry or a move),
    /// `None` if never without new events: see [`crate::engine::next_due`]. Set at the end of
    /// `apply`, `decay` and `merge`, for the model they ran with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due: Option<NaiveDate>,
    /// The entries appended since the state was loaded; the earlier ones are stored apart.
    #[serde(default)]
    pub ledger: Ledger,
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// Transitions to hand to other systems (the nurture program), kept until the
    /// application confirms them sent: written in the same save as the transition, so none
    /// is lost if sending fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<Transition>,
    /// The model instance the cached rule indices point into.
    #[serde(skip)]
    pub(crate) linked: Transient<u64>,
    /// When the lead moved into MQL since this state was loaded (or created), if it is still
    /// there. Not stored: the store marks the write that made the move, so the notifier's
    /// stream filter wakes for entries into MQL only.
    #[serde(skip)]
    pub entered_mql: Transient<Option<DateTime<Utc>>>,
}

impl LeadState {
    pub fn new(lead_id: impl Into<String>) -> LeadState {
        LeadState {
            lead_id: lead_id.into(),
            ..LeadState::default()
        }
    }

    /// The move into MQL made since this state was loaded, while the lead is still an MQL:
    /// the transition a notifier announces. `None` for a state read back from a store.
    pub fn mql_entry_since_load(&self) -> Option<&Transition> {
        let at = self.entered_mql.0?;
        if self.stage != Stage::Mql {
            return None;
        }
        self.transitions
            .iter()
            .rfind(|t| t.to == Stage::Mql && t.at == at)
    }

    pub fn grade(&self, model: &Model) -> Grade {
        Grade::of(&model.grades, self.scores.fit, self.scores.activity)
    }

    /// The sum of the entries held. Equal to `scores.total` by construction when the whole
    /// ledger is held (`ledger.base() == 0`: a new lead, a replay); a loaded lead holds
    /// only what was appended since, and its stored entries are read from the store.
    pub fn ledger_total(&self) -> Points {
        self.ledger.iter().map(|e| e.points).sum()
    }

    pub(crate) fn post(&mut self, e: LedgerEntry) {
        post(&mut self.ledger, &mut self.scores, e);
    }

    /// Points the cached rule indices at `model`'s rules (after a load or a model change).
    pub(crate) fn link(&mut self, model: &Model) {
        if self.linked.0 == model.instance() {
            return;
        }
        for r in &mut self.history {
            for m in &mut r.matches {
                m.idx.0 = model
                    .activity_rule_index(&m.rule)
                    .and_then(|i| u32::try_from(i).ok())
                    .unwrap_or(u32::MAX);
            }
        }
        self.linked.0 = model.instance();
    }
}
