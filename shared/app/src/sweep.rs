//! The nightly decay sweep, one shard at a time: read the leads the due index says are due,
//! apply decay through the night's date, write each with its version checked, and hand the
//! leads that went cold (or were recycled out of MQL) to the nurture program.
//!
//! - **Idempotent.** Decay is applied per day through `through`; a lead decayed through it is
//!   no longer due, so a second run the same night reads nothing and writes nothing.
//! - **Resumable.** A run stops when `out_of_time` says so and reports `done: false`; running
//!   the same job again continues, since the leads already swept are no longer due.
//! - **Beside live webhooks.** Every write names the version it read; on a conflict the lead is
//!   read again and decay applied to what is there now, so neither side loses an update.
//! - **Hand-offs are never lost.** A transition to hand off is written into the lead's outbox
//!   in the same save as the transition; it is sent (deduplicated by its id) and only then
//!   removed. A lead with a waiting outbox stays due, so a failed send is retried.

use chrono::{DateTime, NaiveDate, Utc};
use leadscore_domain::{decay, LeadState, Model, Stage, Transition};
use leadscore_queue::{Message, Queue, QueueError};
use leadscore_store::{DueCursor, DueIndex, StoreError, DUE_SHARDS};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How many times one lead's write is attempted against concurrent webhooks.
const MAX_ATTEMPTS: u32 = 16;

pub struct SweepConfig {
    pub model: Model,
    /// Leads read per index query.
    pub page_size: usize,
}

/// One shard's work for one night: what a Scheduler run fans out, and what a cut-off run
/// re-queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardJob {
    pub shard: u16,
    /// Decay is applied through this day (inclusive).
    pub through: NaiveDate,
}

impl ShardJob {
    /// The night's jobs: one per shard.
    pub fn plan(through: NaiveDate) -> Vec<ShardJob> {
        (0..DUE_SHARDS)
            .map(|shard| ShardJob { shard, through })
            .collect()
    }

    pub fn message(&self) -> Message {
        Message {
            id: format!("sweep:{}:{}", self.through, self.shard),
            group: format!("sweep:{}", self.shard),
            body: json!(self).to_string(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShardReport {
    pub shard: u16,
    /// Leads read from the index and swept.
    pub leads: usize,
    /// Ledger entries decay wrote.
    pub entries: usize,
    /// Leads moved to nurture (cold) or recycled out of MQL.
    pub to_nurture: usize,
    pub recycled: usize,
    /// Hand-offs sent to the nurture program.
    pub handoffs: usize,
    /// Writes that lost to a concurrent one and were redone.
    pub conflicts: usize,
    /// Items read from the store: index pages plus re-reads after conflicts.
    pub items_read: usize,
    /// False when the run stopped for time: run the job again to continue.
    pub done: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("nurture hand-off: {0}")]
    Queue(#[from] QueueError),
}

/// A transition the nurture program must hear about.
fn is_handoff(t: &Transition) -> bool {
    matches!(t.to, Stage::Nurture | Stage::Recycled)
}

/// The hand-off message: who, why, when; its id is stable so a resend is recognised.
pub fn handoff_message(state: &LeadState, t: &Transition) -> Message {
    let at = t.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let id = handoff_id(&state.lead_id, t);
    let email = state.attributes.get("email").and_then(|v| v.as_text());
    let body = json!({
        "type": "leadscore.nurture",
        "id": id,
        "lead": state.lead_id,
        "email": email,
        "account": state.account.as_ref().map(|a| &a.key),
        "from": t.from,
        "to": t.to,
        "at": at,
        "reason": t.reason,
        "reason_text": t.reason.to_string(),
        "score": state.scores.total,
    });
    Message {
        id,
        group: state.lead_id.clone(),
        body: body.to_string(),
    }
}

/// Sweeps one shard for one night until it is done or `out_of_time()` says stop.
pub async fn sweep_shard<S: DueIndex, Q: Queue>(
    cfg: &SweepConfig,
    store: &S,
    nurture: &Q,
    job: ShardJob,
    now: DateTime<Utc>,
    out_of_time: impl Fn() -> bool,
) -> Result<ShardReport, SweepError> {
    let mut report = ShardReport {
        shard: job.shard,
        ..ShardReport::default()
    };
    let mut cursor: Option<DueCursor> = None;
    loop {
        if out_of_time() {
            return Ok(report);
        }
        let page = store
            .due(job.shard, job.through, cfg.page_size, cursor.as_ref())
            .await?;
        report.items_read += page.items_read;
        for lead in page.leads {
            if out_of_time() {
                return Ok(report);
            }
            report.leads += 1;
            sweep_lead(cfg, store, nurture, lead, job.through, now, &mut report).await?;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => {
                report.done = true;
                return Ok(report);
            }
        }
    }
}

async fn sweep_lead<S: DueIndex, Q: Queue>(
    cfg: &SweepConfig,
    store: &S,
    nurture: &Q,
    mut current: leadscore_store::Stored,
    through: NaiveDate,
    now: DateTime<Utc>,
    report: &mut ShardReport,
) -> Result<(), SweepError> {
    let lead_id = current.state.lead_id.clone();
    // 1. Decay, and record the hand-offs in the outbox, in one conditional write.
    let mut attempt = 0;
    let (mut state, mut version) = loop {
        attempt += 1;
        let mut state = current.state;
        let out = decay(&cfg.model, &mut state, through, now);
        let handoffs: Vec<Transition> = out
            .transitions
            .iter()
            .filter(|t| is_handoff(t))
            .cloned()
            .collect();
        state.outbox.extend(handoffs.iter().cloned());
        match store.save(&state, Some(current.version), &[]).await {
            Ok(v) => {
                report.entries += out.new_entries;
                report.to_nurture += handoffs.iter().filter(|t| t.to == Stage::Nurture).count();
                report.recycled += handoffs.iter().filter(|t| t.to == Stage::Recycled).count();
                break (state, v);
            }
            Err(StoreError::Conflict(_)) if attempt < MAX_ATTEMPTS => {
                // A webhook wrote first: decay what is there now.
                report.conflicts += 1;
                report.items_read += 1;
                match store.load(&lead_id).await? {
                    Some(s) => current = s,
                    None => return Ok(()), // erased meanwhile
                }
            }
            Err(e) => return Err(e.into()),
        }
    };
    // 2. Send what the outbox holds (this run's and any a failed run left), then remove it.
    if state.outbox.is_empty() {
        return Ok(());
    }
    let messages: Vec<Message> = state
        .outbox
        .iter()
        .map(|t| handoff_message(&state, t))
        .collect();
    nurture.send(&messages).await?;
    report.handoffs += messages.len();
    let sent: Vec<String> = messages.into_iter().map(|m| m.id).collect();
    for _ in 0..MAX_ATTEMPTS {
        state
            .outbox
            .retain(|t| !sent.contains(&handoff_id(&state.lead_id, t)));
        match store.save(&state, Some(version), &[]).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict(_)) => {
                report.conflicts += 1;
                report.items_read += 1;
                let Some(fresh) = store.load(&lead_id).await? else {
                    return Ok(());
                };
                (state, version) = (fresh.state, fresh.version);
            }
            Err(e) => return Err(e.into()),
        }
    }
    // Still losing: the lead stays due, and the next run resends (deduplicated by id).
    Ok(())
}

/// A hand-off's id: the lead, where it went and when; the same on every resend.
fn handoff_id(lead_id: &str, t: &Transition) -> String {
    let at = t.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!("{lead_id}:{}:{at}", t.to.as_str())
}
