//! A lead's state: attributes, stage, scores, the activities that scored and the ledger.

use crate::event::Attributes;
use crate::grade::Grade;
use crate::ledger::{Dimension, LedgerEntry};
use crate::lifecycle::{Stage, Transition};
use crate::model::Model;
use crate::points::Points;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

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
    pub products: BTreeMap<Arc<str>, Points>,
    /// The activity part of each product score (decay splits along it).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub activity_by_product: BTreeMap<Arc<str>, Points>,
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
            *self.products.entry(p.clone()).or_default() += e.points;
            if e.dimension == Dimension::Activity {
                *self.activity_by_product.entry(p.clone()).or_default() += e.points;
            }
        }
    }
}

/// One activity rule an activity matched, and what it earns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMatch {
    pub rule: Arc<str>,
    /// The rule's points after caps.
    pub awarded: Points,
    /// What it counts now, after expiry or half-life (equal to `awarded` otherwise).
    pub current: Points,
    /// Index of the rule in the linked model; `u32::MAX` when the rule is gone.
    #[serde(skip, default = "unlinked")]
    pub(crate) idx: u32,
    /// Set on arrival, cleared once scored: tells "scored" from "rescored" in the ledger.
    #[serde(skip)]
    pub(crate) fresh: bool,
}

fn unlinked() -> u32 {
    u32::MAX
}

/// An activity that matched at least one rule. Kept so caps, combinations and late
/// arrivals can be re-evaluated exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRecord {
    pub id: Arc<str>,
    pub at: DateTime<Utc>,
    pub matches: Vec<RuleMatch>,
}

impl ActivityRecord {
    pub(crate) fn key(&self) -> (DateTime<Utc>, &str) {
        (self.at, &self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComboAward {
    pub combination: Arc<str>,
    /// The activity that completed it.
    pub activity: Arc<str>,
    pub at: DateTime<Utc>,
    pub points: Points,
}

/// When an attribute was last set, so an older update arriving late does not win.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub at: DateTime<Utc>,
    pub event: Arc<str>,
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
    pub fit: BTreeMap<Arc<str>, Points>,
    /// Every event id applied, scoring or not.
    #[serde(default)]
    pub seen: HashSet<Arc<str>>,
    pub first_seen_at: Option<DateTime<Utc>>,
    /// Latest activity that matched a rule with positive points.
    pub last_engaged_at: Option<DateTime<Utc>>,
    /// Decay (and expiry, half-life) has been applied through this day.
    pub decayed_through: Option<NaiveDate>,
    #[serde(default)]
    pub ledger: Vec<LedgerEntry>,
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// The model instance the cached rule indices point into.
    #[serde(skip)]
    pub(crate) linked: u64,
}

impl LeadState {
    pub fn new(lead_id: impl Into<String>) -> LeadState {
        LeadState {
            lead_id: lead_id.into(),
            ..LeadState::default()
        }
    }

    pub fn grade(&self, model: &Model) -> Grade {
        Grade::of(&model.grades, self.scores.fit, self.scores.activity)
    }

    /// The sum of the whole ledger; equal to `scores.total` by construction.
    pub fn ledger_total(&self) -> Points {
        self.ledger.iter().map(|e| e.points).sum()
    }

    pub(crate) fn post(&mut self, mut e: LedgerEntry) {
        e.seq = self.ledger.len() as u64;
        self.scores.post(&e);
        self.ledger.push(e);
    }

    /// Points the cached rule indices at `model`'s rules (after a load or a model change).
    pub(crate) fn link(&mut self, model: &Model) {
        if self.linked == model.instance() {
            return;
        }
        for r in &mut self.history {
            for m in &mut r.matches {
                m.idx = model
                    .activity_rule_index(&m.rule)
                    .and_then(|i| u32::try_from(i).ok())
                    .unwrap_or(u32::MAX);
            }
        }
        self.linked = model.instance();
    }
}
