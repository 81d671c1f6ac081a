//! The notification log: which MQL notifications went out, so each MQL transition is
//! notified exactly once per route under stream redelivery and concurrent invocations.
//!
//! A notifier first **claims** a (lead, transition, route) key with a conditional write, sends,
//! then marks it **sent**. A retryable failure **releases** the claim (the stream retries and
//! claims again); a permanent one marks it **failed** and lists it for re-driving. A claim
//! left by a crashed invocation expires after a lease, so a later delivery takes it over.

use crate::StoreError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// One notification: a lead's MQL transition (by its time) to one route.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NoticeKey {
    pub lead: String,
    pub transition_at: DateTime<Utc>,
    pub route: String,
}

impl NoticeKey {
    /// The sort key: transition time (RFC 3339, milliseconds, UTC) then route.
    pub(crate) fn sort_key(&self) -> String {
        format!(
            "{}#{}",
            self.transition_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            self.route
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Ours to send.
    Claimed,
    /// Already sent: nothing to do.
    Sent,
    /// Another invocation is sending it now (its lease has not run out).
    InFlight,
    /// It failed permanently before; only a re-drive sends it again.
    Failed,
}

/// A notification that failed permanently, for re-driving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedNotice {
    pub key: NoticeKey,
    pub error: String,
    pub failed_at: DateTime<Utc>,
}

pub trait SentLog: Send + Sync {
    /// Claims `key` at `now`. A claim older than `lease` is taken over; with `redrive`, a
    /// failed notification may be claimed again.
    fn claim(
        &self,
        key: &NoticeKey,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        redrive: bool,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// The notification went out.
    fn mark_sent(&self, key: &NoticeKey) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sending failed in a way worth retrying: give the claim back.
    fn release(&self, key: &NoticeKey) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sending failed for good: record why, and list it for re-driving.
    fn mark_failed(
        &self,
        key: &NoticeKey,
        error: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every notification that failed for good and was not re-driven since, oldest first.
    fn failed(&self) -> impl Future<Output = Result<Vec<FailedNotice>, StoreError>> + Send;
}
