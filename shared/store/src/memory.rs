//! An in-process store with the same semantics as the DynamoDB one, which can snapshot itself
//! to JSON (see [`snapshot`]) so a local run's store outlives the process.

mod snapshot;

use crate::due::{day_key, due_on, shard_of, DueCursor, DueIndex, DuePage};
use crate::sent::{Claim, FailedNotice, NoticeKey, SentLog};
use crate::{Alias, LeadStore, StoreError, Stored};
use chrono::{DateTime, NaiveDate, Utc};
use leadscore_domain::{LeadState, LedgerEntry};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Default)]
struct Inner {
    leads: HashMap<String, Stored>,
    aliases: HashMap<Alias, String>,
    /// Keyed by `seq`: saving the same entries again overwrites them, as in DynamoDB.
    ledgers: HashMap<String, BTreeMap<u64, LedgerEntry>>,
    sent: HashMap<NoticeKey, SentStatus>,
}

/// Where a notification stands. Snapshots write it as `{"state": "sending", "since": ...}`,
/// `{"state": "sent"}` or `{"state": "failed", "error": ..., "at": ...}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
enum SentStatus {
    /// Claimed at `since`, not sent yet.
    Sending {
        since: DateTime<Utc>,
    },
    Sent,
    Failed {
        error: String,
        at: DateTime<Utc>,
    },
}

#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl Inner {
    /// A save under the lock: checks first, then writes. Aliases owned by `absorbed` (a
    /// merge) may be taken over.
    fn save(
        &mut self,
        state: &LeadState,
        expected: Option<u64>,
        aliases: &[Alias],
        absorbed: Option<&str>,
    ) -> Result<u64, StoreError> {
        let current = self.leads.get(&state.lead_id).map(|s| s.version);
        if current != expected {
            return Err(StoreError::Conflict(format!(
                "lead {} is at version {current:?}, expected {expected:?}",
                state.lead_id
            )));
        }
        for a in aliases {
            let owner = self.aliases.get(a);
            if let Some(other) =
                owner.filter(|l| **l != state.lead_id && Some(l.as_str()) != absorbed)
            {
                return Err(StoreError::Conflict(format!(
                    "alias {} points at lead {other}",
                    a.0
                )));
            }
        }
        let version = expected.map_or(1, |v| v + 1);
        for a in aliases {
            self.aliases.insert(a.clone(), state.lead_id.clone());
        }
        // Stored like the DynamoDB store does: the entries apart from the state.
        let mut state = state.clone();
        // As read back from DynamoDB: the move into MQL is history once saved.
        state.entered_mql.0 = None;
        let entries = state.ledger.take_new();
        self.ledgers
            .entry(state.lead_id.clone())
            .or_default()
            .extend(entries.into_iter().map(|e| (e.seq, e)));
        self.leads
            .insert(state.lead_id.clone(), Stored { state, version });
        Ok(version)
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored lead's state, by lead id (reports; the DynamoDB store would scan).
    pub fn leads(&self) -> Result<Vec<LeadState>, StoreError> {
        let inner = self.lock()?;
        let mut leads: Vec<(&String, &Stored)> = inner.leads.iter().collect();
        leads.sort_by_key(|(id, _)| *id);
        Ok(leads.into_iter().map(|(_, s)| s.state.clone()).collect())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        // A poisoned lock means a panic elsewhere mid-write: report, do not propagate the panic.
        self.inner
            .lock()
            .map_err(|_| StoreError::Unavailable("memory store lock poisoned".into()))
    }
}

impl LeadStore for MemoryStore {
    async fn resolve(&self, aliases: &[Alias]) -> Result<Vec<Option<String>>, StoreError> {
        let inner = self.lock()?;
        Ok(aliases
            .iter()
            .map(|a| inner.aliases.get(a).cloned())
            .collect())
    }

    async fn load(&self, lead_id: &str) -> Result<Option<Stored>, StoreError> {
        Ok(self.lock()?.leads.get(lead_id).cloned())
    }

    async fn save(
        &self,
        state: &LeadState,
        expected: Option<u64>,
        aliases: &[Alias],
    ) -> Result<u64, StoreError> {
        self.lock()?.save(state, expected, aliases, None)
    }

    async fn aliases(&self, lead_id: &str) -> Result<Vec<Alias>, StoreError> {
        let mut owned: Vec<Alias> = (self.lock()?.aliases.iter())
            .filter(|(_, lead)| *lead == lead_id)
            .map(|(a, _)| a.clone())
            .collect();
        owned.sort();
        Ok(owned)
    }

    async fn save_merged(
        &self,
        state: &LeadState,
        expected: u64,
        aliases: &[Alias],
        absorbed: &str,
        absorbed_version: u64,
    ) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        let current = inner.leads.get(absorbed).map(|s| s.version);
        if current != Some(absorbed_version) {
            return Err(StoreError::Conflict(format!(
                "absorbed lead {absorbed} is at version {current:?}, expected {absorbed_version}"
            )));
        }
        // Checked before anything changes, so a refusal leaves the store as it was.
        let version = inner.save(state, Some(expected), aliases, Some(absorbed))?;
        for owner in inner.aliases.values_mut() {
            if owner == absorbed {
                owner.clone_from(&state.lead_id);
            }
        }
        inner.leads.remove(absorbed);
        inner.ledgers.remove(absorbed);
        Ok(version)
    }

    async fn ledger(&self, lead_id: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        Ok(self
            .lock()?
            .ledgers
            .get(lead_id)
            .map(|l| l.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn erase(&self, lead_id: &str, _aliases: &[Alias]) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        inner.leads.remove(lead_id);
        inner.ledgers.remove(lead_id);
        // Every alias of the lead, named or not (the DynamoDB store finds them in the lead's
        // partition); never another lead's.
        inner.aliases.retain(|_, l| l != lead_id);
        inner.sent.retain(|k, _| k.lead != lead_id);
        Ok(())
    }
}

impl DueIndex for MemoryStore {
    async fn due(
        &self,
        shard: u16,
        through: NaiveDate,
        limit: usize,
        after: Option<&DueCursor>,
    ) -> Result<DuePage, StoreError> {
        let inner = self.lock()?;
        // Ordered like the GSI: by due day, then (here) lead id; the cursor is that pair.
        let mut due: Vec<(String, &Stored)> = inner
            .leads
            .values()
            .filter(|s| shard_of(&s.state.lead_id) == shard)
            .filter_map(|s| {
                let day = due_on(&s.state).filter(|d| *d <= through)?;
                Some((format!("{}|{}", day_key(day), s.state.lead_id), s))
            })
            .filter(|(k, _)| after.is_none_or(|c| *k > c.0))
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0));
        let more = due.len() > limit;
        due.truncate(limit.max(1));
        let next = more.then(|| DueCursor(due.last().map(|d| d.0.clone()).unwrap_or_default()));
        Ok(DuePage {
            items_read: due.len(),
            leads: due.into_iter().map(|(_, s)| s.clone()).collect(),
            next,
        })
    }
}

impl SentLog for MemoryStore {
    async fn claim(
        &self,
        key: &NoticeKey,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        redrive: bool,
    ) -> Result<Claim, StoreError> {
        let mut inner = self.lock()?;
        let outcome = match inner.sent.get(key) {
            None => Claim::Claimed,
            Some(SentStatus::Sending { since }) if now - *since >= lease => Claim::Claimed,
            Some(SentStatus::Sending { .. }) => Claim::InFlight,
            Some(SentStatus::Sent) => Claim::Sent,
            Some(SentStatus::Failed { .. }) if redrive => Claim::Claimed,
            Some(SentStatus::Failed { .. }) => Claim::Failed,
        };
        if outcome == Claim::Claimed {
            inner
                .sent
                .insert(key.clone(), SentStatus::Sending { since: now });
        }
        Ok(outcome)
    }

    async fn mark_sent(&self, key: &NoticeKey) -> Result<(), StoreError> {
        self.lock()?.sent.insert(key.clone(), SentStatus::Sent);
        Ok(())
    }

    async fn release(&self, key: &NoticeKey) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        if matches!(inner.sent.get(key), Some(SentStatus::Sending { .. })) {
            inner.sent.remove(key);
        }
        Ok(())
    }

    async fn mark_failed(
        &self,
        key: &NoticeKey,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.lock()?.sent.insert(
            key.clone(),
            SentStatus::Failed {
                error: error.to_owned(),
                at: now,
            },
        );
        Ok(())
    }

    async fn failed(&self) -> Result<Vec<FailedNotice>, StoreError> {
        let inner = self.lock()?;
        let mut out: Vec<FailedNotice> = inner
            .sent
            .iter()
            .filter_map(|(k, v)| match v {
                SentStatus::Failed { error, at } => Some(FailedNotice {
                    key: k.clone(),
                    error: error.clone(),
                    failed_at: *at,
                }),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| (a.failed_at, &a.key).cmp(&(b.failed_at, &b.key)));
        Ok(out)
    }
}
