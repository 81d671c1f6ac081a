//! The append-only ledger: every point change is an entry, and a lead's scores are always
//! the sums of its entries. `explain` turns it into the top reasons behind a score.

use crate::points::Points;
use crate::Name;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Who the lead is.
    Fit,
    /// What the lead does (including combination bonuses and decay).
    Activity,
    /// The score floor: what keeps the total from going under it.
    Adjustment,
}

/// What an entry is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    Activity {
        rule: Name,
        activity: Name,
        occurred_at: DateTime<Utc>,
    },
    Fit {
        rule: Name,
    },
    Combination {
        combination: Name,
        /// The activity that completed the combination.
        activity: Name,
        occurred_at: DateTime<Utc>,
    },
    Inactivity {
        day: NaiveDate,
    },
    Floor,
}

/// Why the entry was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Points earned in full.
    Scored,
    /// Points earned, reduced by a cap.
    Capped,
    /// An earlier award corrected, because an older activity arrived late or the model changed.
    Rescored,
    /// A fit rule that no longer matches, or a combination that no longer holds.
    Withdrawn,
    /// The rule's points expired with age.
    Expired,
    /// The rule's points halved with age.
    HalfLife,
    /// Inactivity decay.
    Decayed,
    /// The score floor.
    Floor,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Position in the lead's ledger, from 0.
    pub seq: u64,
    pub recorded_at: DateTime<Utc>,
    pub points: Points,
    pub dimension: Dimension,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<Name>,
    pub source: Source,
    pub cause: Cause,
}

impl LedgerEntry {
    /// What the entry is attributed to in an explanation: a rule, a combination, decay or the floor.
    pub fn subject(&self) -> (&'static str, &str) {
        match &self.source {
            Source::Activity { rule, .. } => ("activity", rule),
            Source::Fit { rule } => ("fit", rule),
            Source::Combination { combination, .. } => ("combination", combination),
            Source::Inactivity { .. } => ("decay", "inactivity"),
            Source::Floor => ("floor", "score floor"),
        }
    }

    /// When the thing scored happened (activities and combinations), else when it was recorded.
    pub fn occurred_at(&self) -> DateTime<Utc> {
        match &self.source {
            Source::Activity { occurred_at, .. } | Source::Combination { occurred_at, .. } => {
                *occurred_at
            }
            _ => self.recorded_at,
        }
    }
}

/// One line of an explanation: the net points a rule (or decay, or the floor) contributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contributor {
    /// `activity`, `fit`, `combination`, `decay` or `floor`.
    pub kind: String,
    /// The rule or combination id (`inactivity` for decay).
    pub id: String,
    pub points: Points,
    /// How many ledger entries make it up.
    pub entries: usize,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<Name>,
}

/// The `n` largest contributors by absolute net points (ties by id), skipping those that net
/// to zero. Their sum plus the rest always equals the score.
pub fn explain(ledger: &[LedgerEntry], n: usize) -> Vec<Contributor> {
    let mut by: HashMap<(&'static str, &str), Contributor> = HashMap::new();
    for e in ledger {
        let (kind, id) = e.subject();
        let at = e.occurred_at();
        let c = by.entry((kind, id)).or_insert_with(|| Contributor {
            kind: kind.to_owned(),
            id: id.to_owned(),
            points: Points::ZERO,
            entries: 0,
            first_at: at,
            last_at: at,
            product: e.product.clone(),
        });
        c.points += e.points;
        c.entries += 1;
        c.first_at = c.first_at.min(at);
        c.last_at = c.last_at.max(at);
    }
    let mut out: Vec<Contributor> = by.into_values().filter(|c| !c.points.is_zero()).collect();
    out.sort_by(|a, b| {
        b.points
            .abs()
            .cmp(&a.points.abs())
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.id.cmp(&b.id))
    });
    out.truncate(n);
    out
}
