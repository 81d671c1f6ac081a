//! The append-only ledger: every point change is an entry, and a lead's scores are always
//! the sums of its entries. `explain` turns it into the top reasons behind a score.

use crate::points::Points;
use crate::Name;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

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

/// A lead's ledger as the engine holds it: the entries appended since the lead was loaded,
/// after `base` entries that live in the store (one item per save, with a TTL; see
/// `docs/storage.md`). In a pure run (replay, tests) `base` is 0 and every entry is here.
///
/// Serialized as its summary only (`{"len": n, "products": {...}}`): the entries are stored
/// apart, so the lead's own item does not grow with its history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    base: u64,
    entries: Vec<LedgerEntry>,
    /// The product each rule's entries were tagged with (`kind:id` -> product), so a rule
    /// that leaves the model takes its points off the right product without the old entries.
    products: BTreeMap<Name, Name>,
}

impl Ledger {
    /// Entries ever appended, including those stored apart.
    pub fn len_total(&self) -> u64 {
        self.base + self.entries.len() as u64
    }

    /// Entries stored apart, before the first one held here.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Appends an entry, numbering it.
    pub(crate) fn push(&mut self, mut e: LedgerEntry) -> &LedgerEntry {
        e.seq = self.len_total();
        if let Some(p) = &e.product {
            let (kind, id) = e.subject();
            let mut key = Name::new(kind);
            key.push(':');
            key.push_str(id);
            if self.products.get(&key) != Some(p) {
                self.products.insert(key, p.clone());
            }
        }
        self.entries.push(e);
        let last = self.entries.len() - 1;
        &self.entries[last]
    }

    /// The product the entries of `kind:id` were last tagged with.
    pub(crate) fn product_of(&self, kind: &str, id: &str) -> Option<Name> {
        let mut key = Name::new(kind);
        key.push(':');
        key.push_str(id);
        self.products.get(&key).cloned()
    }

    /// Moves the held entries out (to be stored), keeping the count: what a store does on
    /// save.
    pub fn take_new(&mut self) -> Vec<LedgerEntry> {
        self.base += self.entries.len() as u64;
        std::mem::take(&mut self.entries)
    }
}

impl std::ops::Deref for Ledger {
    type Target = [LedgerEntry];
    fn deref(&self) -> &[LedgerEntry] {
        &self.entries
    }
}

impl<'a> IntoIterator for &'a Ledger {
    type Item = &'a LedgerEntry;
    type IntoIter = std::slice::Iter<'a, LedgerEntry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

#[derive(Deserialize)]
struct LedgerSummary {
    len: u64,
    #[serde(default)]
    products: BTreeMap<Name, Name>,
}

#[derive(Serialize)]
struct LedgerSummaryRef<'a> {
    len: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    products: &'a BTreeMap<Name, Name>,
}

impl Serialize for Ledger {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        LedgerSummaryRef {
            len: self.len_total(),
            products: &self.products,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Ledger {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let LedgerSummary { len, products } = LedgerSummary::deserialize(d)?;
        Ok(Ledger {
            base: len,
            entries: Vec::new(),
            products,
        })
    }
}
