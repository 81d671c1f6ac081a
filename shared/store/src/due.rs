//! The due index: which leads the nightly sweep must look at, without scanning the table.
//!
//! A lead is indexed under the day decay next has something to do for it (the engine keeps
//! that day in `LeadState::next_due`), or at once while it has hand-offs not yet confirmed
//! sent. The index is sharded by a stable hash of the lead id into [`DUE_SHARDS`] shards that
//! sweep in parallel. In DynamoDB it is a sparse GSI (`due`: `due_shard`, `due_on`) that
//! projects the state, so a due lead costs one item read.

use crate::{LeadStore, StoreError, Stored};
use chrono::NaiveDate;
use leadscore_domain::LeadState;
use std::future::Future;
use std::hash::Hasher;

/// Shards of the due index. Fixed: a lead's shard is written on its item, so changing this
/// needs every lead rewritten. 16 shards sweep 10 million leads in one night (see
/// `docs/benchmarks.md`).
pub const DUE_SHARDS: u16 = 16;

/// The shard of a lead: FNV-1a of its id, stable across versions and platforms.
pub fn shard_of(lead_id: &str) -> u16 {
    let mut h = fnv::FnvHasher::default();
    h.write(lead_id.as_bytes());
    (h.finish() % u64::from(DUE_SHARDS)) as u16
}

/// The day the sweep should next read the lead: at once (the earliest date) while hand-offs
/// wait to be confirmed, else the engine's next due day; `None` keeps it out of the index.
pub fn due_on(state: &LeadState) -> Option<NaiveDate> {
    if state.outbox.is_empty() {
        state.next_due
    } else {
        Some(NaiveDate::MIN)
    }
}

/// Where a due query stopped: pass it back to continue. Opaque.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueCursor(pub(crate) String);

/// One page of due leads.
#[derive(Debug)]
pub struct DuePage {
    pub leads: Vec<Stored>,
    /// Items the store read for this page (what DynamoDB bills): for the sweep's
    /// "items read per due lead".
    pub items_read: usize,
    /// `None` when the shard has no more due leads.
    pub next: Option<DueCursor>,
}

pub trait DueIndex: LeadStore {
    /// Up to `limit` leads of `shard` due on or before `through`, in due order, after `after`.
    /// The index may lag a write by a moment (a GSI is eventually consistent): the version
    /// a page returns is checked by the save that follows.
    fn due(
        &self,
        shard: u16,
        through: NaiveDate,
        limit: usize,
        after: Option<&DueCursor>,
    ) -> impl Future<Output = Result<DuePage, StoreError>> + Send;
}

/// The index key of a due day (`YYYY-MM-DD`, zero-padded so strings sort as dates).
pub(crate) fn day_key(d: NaiveDate) -> String {
    if d == NaiveDate::MIN {
        // Sorts before every real date.
        "0000-00-00".into()
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

pub(crate) fn shard_key(shard: u16) -> String {
    format!("{shard:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_spread() {
        // Pinned: a change here would strand every indexed lead in its old shard.
        assert_eq!(shard_of("email:ana@acme.io"), shard_of("email:ana@acme.io"));
        let pinned: Vec<u16> = ["email:ana@acme.io", "hubspot:501", "marketo:987"]
            .iter()
            .map(|id| shard_of(id))
            .collect();
        assert_eq!(pinned, PINNED);
        let mut counts = [0usize; DUE_SHARDS as usize];
        for i in 0..16_000 {
            counts[shard_of(&format!("email:lead{i}@x.io")) as usize] += 1;
        }
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
    }

    const PINNED: [u16; 3] = [11, 2, 10];

    #[test]
    fn day_keys_sort_as_dates() {
        let a = day_key(NaiveDate::MIN);
        let b = day_key(NaiveDate::from_ymd_opt(999, 1, 2).unwrap_or_default());
        let c = day_key(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default());
        assert!(a < b && b < c, "{a} {b} {c}");
    }
}
