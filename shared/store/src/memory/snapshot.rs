//! Snapshots of the in-memory store: the whole store as one JSON document, so a local run
//! (the CLI's embedded store) keeps its leads between processes.
//!
//! Format 1. Maps are sorted by key, notices by key, a lead's event ids (a hash set) sorted,
//! so the same content always gives the same bytes:
//!
//! ```json
//! {
//!   "format": 1,
//!   "leads": {
//!     "ana": { "version": 3, "state": { ...as the DynamoDB store writes it... },
//!              "ledger": [ { "seq": 0, ... }, { "seq": 1, ... } ] }
//!   },
//!   "aliases": { "email:ana@x.io": "ana" },
//!   "notices": [ { "key": { "lead": "ana", "transition_at": "...", "route": "slack:sales" },
//!                  "status": { "state": "failed", "error": "404", "at": "..." } } ]
//! }
//! ```
//!
//! A stored state holds no ledger entries (its ledger serializes as its count), so each lead
//! carries its entries beside it. Restoring checks what the store itself guarantees (see
//! [`check`]); anything off is a [`StoreError::Corrupt`], never a panic. Snapshotting runs the
//! same check first, so a file this module writes always opens again.

use super::{Inner, MemoryStore, SentStatus};
use crate::sent::NoticeKey;
use crate::{Alias, StoreError, Stored};
use leadscore_domain::{Dimension, LeadState, LedgerEntry};
use serde::de::{Deserializer, Error as _, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The key of errors about the document as a whole (not JSON, wrong format).
const DOCUMENT: &str = "snapshot";

#[derive(Serialize)]
struct SnapshotOut<'a> {
    format: u32,
    leads: BTreeMap<&'a str, LeadOut<'a>>,
    aliases: BTreeMap<&'a str, &'a str>,
    notices: Vec<NoticeOut<'a>>,
}

#[derive(Serialize)]
struct LeadOut<'a> {
    version: u64,
    /// As a JSON value: its `seen` set is sorted there (see [`canonical_state`]).
    state: serde_json::Value,
    ledger: Vec<&'a LedgerEntry>,
}

#[derive(Serialize)]
struct NoticeOut<'a> {
    key: &'a NoticeKey,
    status: &'a SentStatus,
}

/// Read first, to tell a snapshot of another format from a damaged one.
#[derive(Deserialize)]
struct Header {
    format: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotIn {
    /// Checked from the header.
    #[serde(rename = "format")]
    _format: u32,
    #[serde(deserialize_with = "unique_keys")]
    leads: BTreeMap<String, LeadIn>,
    #[serde(deserialize_with = "unique_keys")]
    aliases: BTreeMap<String, String>,
    notices: Vec<NoticeIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeadIn {
    version: u64,
    state: LeadState,
    ledger: Vec<LedgerEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeIn {
    key: NoticeKey,
    status: SentStatus,
}

/// A JSON object into a map, refusing a key that appears twice (serde would keep the last).
fn unique_keys<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                match out.entry(key) {
                    Entry::Occupied(e) => {
                        return Err(A::Error::custom(format_args!(
                            "key {:?} appears twice",
                            e.key()
                        )))
                    }
                    Entry::Vacant(e) => {
                        e.insert(map.next_value()?);
                    }
                }
            }
            Ok(out)
        }
    }
    d.deserialize_map(Unique(PhantomData))
}

fn corrupt(key: impl Into<String>, problem: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        key: key.into(),
        problem: problem.into(),
    }
}

fn lead_key(id: &str) -> String {
    format!("lead {id}")
}

fn notice_key(k: &NoticeKey) -> String {
    format!("notice {}/{}", k.lead, k.sort_key())
}

/// The state as a JSON value with its `seen` event ids sorted: a hash set's order depends on
/// how it was built, so two equal states could otherwise serialize differently.
fn canonical_state(state: &LeadState) -> Result<serde_json::Value, StoreError> {
    let mut value = serde_json::to_value(state)
        .map_err(|e| corrupt(lead_key(&state.lead_id), format!("cannot serialize: {e}")))?;
    if let Some(serde_json::Value::Array(seen)) = value.get_mut("seen") {
        seen.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    Ok(value)
}

/// What the store guarantees of its own content, checked on the way in and out:
///
/// - a lead is filed under its own id, at version 1 or later, and holds no unsaved ledger
///   entries;
/// - its stored ledger numbers its entries 0, 1, 2... without gaps (this store keeps them
///   all), as many as the state counts (`ledger.base()`), and they sum to its scores (total,
///   fit, activity, adjustment);
/// - every ledger belongs to a stored lead, and every alias points at one.
///
/// The notification log names leads that may be gone (a merged-away lead keeps its record),
/// so it is not checked against them; its keys are unique by construction.
fn check(inner: &Inner) -> Result<(), StoreError> {
    let ids: BTreeMap<&str, &Stored> = inner.leads.iter().map(|(k, v)| (k.as_str(), v)).collect();
    for (id, stored) in &ids {
        let key = || lead_key(id);
        let state = &stored.state;
        if state.lead_id != *id {
            return Err(corrupt(
                key(),
                format!("holds the state of lead {:?}", state.lead_id),
            ));
        }
        if stored.version == 0 {
            return Err(corrupt(
                key(),
                "is at version 0 (a saved lead is at version 1 or later)",
            ));
        }
        if !state.ledger.is_empty() {
            return Err(corrupt(
                key(),
                format!(
                    "its state holds {} unsaved ledger entries",
                    state.ledger.len()
                ),
            ));
        }
        let entries: Vec<&LedgerEntry> = inner
            .ledgers
            .get(*id)
            .map(|l| l.values().collect())
            .unwrap_or_default();
        for (i, e) in entries.iter().enumerate() {
            if e.seq != i as u64 {
                return Err(corrupt(
                    key(),
                    format!(
                        "ledger entry {i} is numbered {} (entries run 0, 1, 2... without gaps)",
                        e.seq
                    ),
                ));
            }
        }
        if entries.len() as u64 != state.ledger.base() {
            return Err(corrupt(
                key(),
                format!(
                    "the ledger holds {} entries but the state counts {}",
                    entries.len(),
                    state.ledger.base()
                ),
            ));
        }
        check_sums(state, &entries).map_err(|problem| corrupt(key(), problem))?;
    }
    let mut orphans: Vec<&String> = (inner.ledgers.keys())
        .filter(|l| !ids.contains_key(l.as_str()))
        .collect();
    orphans.sort();
    if let Some(lead) = orphans.first() {
        return Err(corrupt(
            lead_key(lead),
            "has ledger entries but no stored state",
        ));
    }
    let mut dangling: Vec<(&Alias, &String)> = (inner.aliases.iter())
        .filter(|(_, lead)| !ids.contains_key(lead.as_str()))
        .collect();
    dangling.sort();
    if let Some((alias, lead)) = dangling.first() {
        return Err(corrupt(
            format!("alias {}", alias.0),
            format!("points at lead {lead:?}, which is not stored"),
        ));
    }
    Ok(())
}

/// The scores are the sums of the ledger entries (summed wide: a damaged file must not
/// overflow).
fn check_sums(state: &LeadState, entries: &[&LedgerEntry]) -> Result<(), String> {
    let mut sums = [0i128; 4];
    for e in entries {
        let p = i128::from(e.points.0);
        sums[0] += p;
        sums[match e.dimension {
            Dimension::Fit => 1,
            Dimension::Activity => 2,
            Dimension::Adjustment => 3,
        }] += p;
    }
    let s = &state.scores;
    let scores = [s.total, s.fit, s.activity, s.adjustment];
    let names = ["total", "fit", "activity", "adjustment"];
    for ((name, score), sum) in names.iter().zip(scores).zip(sums) {
        if i128::from(score.0) != sum {
            return Err(format!(
                "its {name} score is {} hundredths but its ledger entries sum to {sum}",
                score.0
            ));
        }
    }
    Ok(())
}

/// Builds the store a parsed snapshot describes, refusing what the JSON shape cannot.
fn rebuild(snap: SnapshotIn) -> Result<Inner, StoreError> {
    let mut inner = Inner::default();
    for (id, lead) in snap.leads {
        let mut ledger = BTreeMap::new();
        for e in lead.ledger {
            let seq = e.seq;
            if ledger.insert(seq, e).is_some() {
                return Err(corrupt(
                    lead_key(&id),
                    format!("ledger entry {seq} appears twice"),
                ));
            }
        }
        inner.ledgers.insert(id.clone(), ledger);
        inner.leads.insert(
            id,
            Stored {
                state: lead.state,
                version: lead.version,
            },
        );
    }
    inner.aliases = (snap.aliases.into_iter())
        .map(|(alias, lead)| (Alias(alias), lead))
        .collect();
    let mut sent = HashMap::with_capacity(snap.notices.len());
    for n in snap.notices {
        let key = notice_key(&n.key);
        if sent.insert(n.key, n.status).is_some() {
            return Err(corrupt(key, "is listed twice"));
        }
    }
    inner.sent = sent;
    check(&inner)?;
    Ok(inner)
}

/// Temp files of concurrent saves in one process stay apart.
static SAVES: AtomicU64 = AtomicU64::new(0);

fn io_error(path: &Path, what: &str, e: &std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{what} {}: {e}", path.display()))
}

impl MemoryStore {
    /// The snapshot format [`MemoryStore::snapshot`] writes and [`MemoryStore::restore`] reads.
    pub const SNAPSHOT_FORMAT: u32 = 1;

    /// The whole store (leads with their versions and ledgers, aliases, the notification log
    /// with its failures) as JSON. Keys are sorted, so the same content gives the same bytes.
    /// A store that breaks its own invariants (see [`MemoryStore::restore`]) is refused with
    /// [`StoreError::Corrupt`] rather than written where it could not be read back.
    pub fn snapshot(&self) -> Result<Vec<u8>, StoreError> {
        let inner = self.lock()?;
        check(&inner)?;
        let mut leads = BTreeMap::new();
        for (id, stored) in &inner.leads {
            let ledger = inner
                .ledgers
                .get(id)
                .map(|l| l.values().collect())
                .unwrap_or_default();
            leads.insert(
                id.as_str(),
                LeadOut {
                    version: stored.version,
                    state: canonical_state(&stored.state)?,
                    ledger,
                },
            );
        }
        let mut notices: Vec<NoticeOut<'_>> = (inner.sent.iter())
            .map(|(key, status)| NoticeOut { key, status })
            .collect();
        notices.sort_by(|a, b| a.key.cmp(b.key));
        let snapshot = SnapshotOut {
            format: Self::SNAPSHOT_FORMAT,
            leads,
            aliases: (inner.aliases.iter())
                .map(|(a, l)| (a.0.as_str(), l.as_str()))
                .collect(),
            notices,
        };
        let mut bytes = serde_json::to_vec_pretty(&snapshot)
            .map_err(|e| corrupt(DOCUMENT, format!("cannot serialize: {e}")))?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// The store a [`MemoryStore::snapshot`] describes. Anything else is a
    /// [`StoreError::Corrupt`] saying what is wrong: not JSON, another format version, a
    /// missing or unknown field, a key listed twice, or content this store could not have
    /// held:
    ///
    /// - a lead filed under another id than its state's, or at version 0;
    /// - a ledger whose entries are not numbered 0, 1, 2... without gaps or repeats, whose
    ///   count is not the state's `ledger.base()`, or whose entries do not sum to the scores;
    /// - an alias pointing at a lead that is not stored;
    /// - a notification listed twice.
    pub fn restore(bytes: &[u8]) -> Result<MemoryStore, StoreError> {
        let header: Header = serde_json::from_slice(bytes)
            .map_err(|e| corrupt(DOCUMENT, format!("is not a JSON object: {e}")))?;
        match header.format {
            None => {
                return Err(corrupt(
                    DOCUMENT,
                    "has no format version (a \"format\" field)",
                ))
            }
            Some(v) if v.as_u64() != Some(u64::from(Self::SNAPSHOT_FORMAT)) => {
                return Err(corrupt(
                    DOCUMENT,
                    format!(
                        "is in format {v}, and this build reads format {}",
                        Self::SNAPSHOT_FORMAT
                    ),
                ))
            }
            Some(_) => {}
        }
        let snap: SnapshotIn = serde_json::from_slice(bytes).map_err(|e| {
            corrupt(
                DOCUMENT,
                format!("does not read as a format 1 snapshot: {e}"),
            )
        })?;
        Ok(MemoryStore {
            inner: std::sync::Mutex::new(rebuild(snap)?),
        })
    }

    /// Writes [`MemoryStore::snapshot`] to `path` atomically: to a temporary file in the same
    /// directory (created if missing), synced, then renamed over `path`, so a reader or a
    /// crash sees the old snapshot or the new one, never half of one. A file system error is
    /// [`StoreError::Unavailable`] naming the path.
    pub fn save_to(&self, path: &Path) -> Result<(), StoreError> {
        let bytes = self.snapshot()?;
        let name = path.file_name().ok_or_else(|| {
            StoreError::Unavailable(format!("{} does not name a file", path.display()))
        })?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, "cannot create", &e))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(
            ".{}.{}.tmp",
            std::process::id(),
            SAVES.fetch_add(1, Ordering::Relaxed)
        ));
        let tmp = dir.join(tmp_name);
        let written = write_synced(&tmp, &bytes)
            .map_err(|e| io_error(&tmp, "cannot write", &e))
            .and_then(|()| {
                std::fs::rename(&tmp, path).map_err(|e| io_error(path, "cannot replace", &e))
            });
        if written.is_err() {
            // Best effort: the error that matters is the one returned.
            let _ = std::fs::remove_file(&tmp);
        }
        written?;
        sync_dir(&dir);
        Ok(())
    }

    /// The store saved at `path` by [`MemoryStore::save_to`]; an empty store when there is
    /// no file yet. A file that cannot be read is [`StoreError::Unavailable`], one that does
    /// not restore a [`StoreError::Corrupt`]; both name the path.
    pub fn open(path: &Path) -> Result<MemoryStore, StoreError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(MemoryStore::new()),
            Err(e) => return Err(io_error(path, "cannot read", &e)),
        };
        MemoryStore::restore(&bytes).map_err(|e| match e {
            StoreError::Corrupt { key, problem } => StoreError::Corrupt {
                key: path.display().to_string(),
                problem: format!("{key}: {problem}"),
            },
            other => other,
        })
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes the rename durable where a directory can be synced (Unix); best effort.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
