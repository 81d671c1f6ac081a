//! The lead store: the port the application needs, and its adapters.
//!
//! - [`LeadStore`]: load a lead by id, resolve aliases (email, CRM ids) to a lead id, save with
//!   optimistic concurrency on a version, erase.
//! - [`MemoryStore`]: in-process, for unit tests and local runs; it snapshots to a JSON file
//!   ([`MemoryStore::save_to`], [`MemoryStore::open`]) for a store that outlives the process.
//! - [`DynamoStore`]: DynamoDB (see `docs/storage.md` for the table design).
//!
//! Both pass the same contract suite (`tests/contract.rs`), the DynamoDB one against moto.

mod due;
mod dynamo;
mod error;
mod memory;
mod sent;
mod sent_dynamo;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;

pub use due::{due_on, shard_of, DueCursor, DueIndex, DuePage, DUE_SHARDS};
pub use dynamo::{decode_state, DynamoStore, DUE_INDEX, MQL_ENTERED_AT, TTL_ATTRIBUTE};
pub use error::StoreError;
pub use memory::MemoryStore;
pub use sent::{Claim, FailedNotice, NoticeKey, SentLog};

use leadscore_domain::{LeadState, LedgerEntry};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// A name a lead is known by: `email:ana@x.io`, `hubspot:12345`, `marketo:987`. Serialized
/// as the bare string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Alias(pub String);

impl Alias {
    pub fn new(kind: &str, value: &str) -> Alias {
        Alias(format!("{kind}:{value}"))
    }
}

/// A lead as stored: its state and the version the next save must name. The state holds no
/// ledger entries (`state.ledger.base()` counts those stored); [`LeadStore::ledger`] reads them.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub state: LeadState,
    pub version: u64,
}

/// What the application needs from storage. Implementations must make `save` atomic: the
/// lead and its new aliases are written together, and only if the lead's version is still
/// `expected` (`None`: the lead must not exist yet).
pub trait LeadStore: Send + Sync {
    /// The lead id each alias points to (same order; `None` when unknown).
    fn resolve(
        &self,
        aliases: &[Alias],
    ) -> impl Future<Output = Result<Vec<Option<String>>, StoreError>> + Send;

    fn load(
        &self,
        lead_id: &str,
    ) -> impl Future<Output = Result<Option<Stored>, StoreError>> + Send;

    /// `resolve(aliases)` and `load(candidate)` together; the DynamoDB store does both in one
    /// request. Ingestion uses it with the lead's first alias as the candidate id (a lead's id
    /// is the alias it was created under), so a known lead costs one read.
    fn fetch(
        &self,
        candidate: &str,
        aliases: &[Alias],
    ) -> impl Future<Output = Result<(Vec<Option<String>>, Option<Stored>), StoreError>> + Send
    {
        async move {
            let resolved = self.resolve(aliases).await?;
            let stored = self.load(candidate).await?;
            Ok((resolved, stored))
        }
    }

    /// Writes the state, the ledger entries it holds (appended since it was loaded) and points
    /// `aliases` at it, all or nothing; returns the new version. An alias that already points
    /// at another lead, or a version that moved, is a [`StoreError::Conflict`].
    fn save(
        &self,
        state: &LeadState,
        expected: Option<u64>,
        aliases: &[Alias],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Folds lead `absorbed` (read at `absorbed_version`) into the lead of `state` (read at
    /// `expected`), all or nothing: writes `state` as [`LeadStore::save`] does, points
    /// `aliases` and every alias of the absorbed lead at it, and deletes the absorbed lead.
    /// Either version having moved is a [`StoreError::Conflict`]. The absorbed lead's ledger
    /// entries are dropped: `state` carries the merged scores and its own entries for them.
    fn save_merged(
        &self,
        state: &LeadState,
        expected: u64,
        aliases: &[Alias],
        absorbed: &str,
        absorbed_version: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The lead's stored ledger entries, in order. Entries past the store's retention (a TTL)
    /// are gone: the first entry's `seq` says how many.
    fn ledger(
        &self,
        lead_id: &str,
    ) -> impl Future<Output = Result<Vec<LedgerEntry>, StoreError>> + Send;

    /// The aliases that point at the lead (its CRM ids, email), sorted.
    fn aliases(&self, lead_id: &str)
        -> impl Future<Output = Result<Vec<Alias>, StoreError>> + Send;

    /// Deletes the lead, its ledger and every alias pointing at it (GDPR erasure), the given
    /// `aliases` included even if the store has no record of them. Erasing what is not there
    /// is fine; an alias now owned by another lead is left alone.
    fn erase(
        &self,
        lead_id: &str,
        aliases: &[Alias],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
