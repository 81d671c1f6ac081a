//! The sweep Lambda's adapter around [`leadscore_app::sweep`]. One function, two triggers,
//! told apart by the payload (an SQS event has `Records`):
//!
//! - **EventBridge Scheduler**, nightly: `{}` or `{"through": "YYYY-MM-DD"}`. Fans out one
//!   [`ShardJob`] per shard to the jobs queue and returns a [`FanOut`] summary.
//! - **SQS**, from that jobs queue: runs each record's job with [`sweep_shard`] until it is done
//!   or the invocation's deadline nears; a job cut off for time is sent to the jobs queue again
//!   (it resumes where it stopped), and a job that fails is returned in `batchItemFailures` so
//!   SQS retries it.
//!
//! Everything here takes its ports as arguments, so the tests drive the code the Lambda runs
//! with `MemoryQueue`, moto and real `SqsEvent` JSON.

mod config;

pub use config::*;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, NaiveDate, Utc};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use leadscore_app::sweep::{sweep_shard, ShardJob, ShardReport, SweepConfig, SweepError};
use leadscore_queue::{Message, Queue, QueueError};
use leadscore_store::{DueIndex, DUE_SHARDS};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The handler's ports and settings, built once per cold start; every invocation borrows it.
pub struct Sweeper<S, J, N> {
    pub cfg: SweepConfig,
    pub store: S,
    /// The queue of shard jobs (fan-out and continuations).
    pub jobs: J,
    /// Where hand-offs to the nurture program go.
    pub nurture: N,
    /// Stop a job when less than this remains before the deadline.
    pub reserve: Duration,
}

/// The Scheduler's payload.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// Decay through this day; default: the last complete UTC day.
    #[serde(default)]
    pub through: Option<NaiveDate>,
}

/// What a Scheduler invocation returns.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FanOut {
    pub through: NaiveDate,
    /// Shard jobs sent to the jobs queue.
    pub jobs: usize,
}

/// An invocation's payload, by shape.
#[derive(Debug)]
pub enum Payload {
    Schedule(ScheduleRequest),
    Jobs(SqsEvent),
}

impl Payload {
    pub fn parse(v: Value) -> Result<Payload, HandlerError> {
        if v.get("Records").is_some() {
            return serde_json::from_value(v).map(Payload::Jobs).map_err(|e| {
                HandlerError::Payload(format!("an SQS event that does not parse: {e}"))
            });
        }
        if v.is_null() {
            return Ok(Payload::Schedule(ScheduleRequest::default()));
        }
        serde_json::from_value(v)
            .map(Payload::Schedule)
            .map_err(|e| HandlerError::Payload(e.to_string()))
    }
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Response {
    FanOut(FanOut),
    Batch(SqsBatchResponse),
}

/// Fails the invocation: the Scheduler retries it per its retry policy.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(
        "unrecognised payload: {0} (expected {{}} or {{\"through\": \"YYYY-MM-DD\"}} from the \
         Scheduler, or an SQS event with Records)"
    )]
    Payload(String),
    #[error("{through} is not over yet: the last complete UTC day is {last_complete}")]
    NotOver {
        through: NaiveDate,
        last_complete: NaiveDate,
    },
    #[error("sending the shard jobs to the jobs queue: {0}")]
    FanOut(#[from] QueueError),
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Diagnostic {
        let kind = match e {
            HandlerError::Payload(_) => "InvalidPayload",
            HandlerError::NotOver { .. } => "DayNotOver",
            HandlerError::FanOut(_) => "QueueUnavailable",
        };
        Diagnostic {
            error_type: kind.into(),
            error_message: e.to_string(),
        }
    }
}

/// Why one job failed; SQS retries it (jobs are idempotent and resumable).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("the record has no body")]
    NoBody,
    #[error(
        "the body is not a shard job ({{\"shard\": 0-{last}, \"through\": \"YYYY-MM-DD\"}}): \
         {problem}",
        last = DUE_SHARDS - 1
    )]
    BadBody { problem: String },
    #[error("shard {shard} does not exist (shards are 0 to {last})", last = DUE_SHARDS - 1)]
    NoSuchShard { shard: u16 },
    #[error("shard {shard}: {source}")]
    Sweep { shard: u16, source: SweepError },
    #[error("shard {shard}: re-queueing the rest of the job: {source}")]
    Requeue { shard: u16, source: QueueError },
    #[error(
        "less than the reserve ({reserve:?}) remained when the invocation started: the \
         function's timeout must be longer than {RESERVE_SECONDS}"
    )]
    NoTime { reserve: Duration },
}

/// The job a record carries.
pub fn parse_job(record: &SqsMessage) -> Result<ShardJob, JobError> {
    let body = record.body.as_deref().ok_or(JobError::NoBody)?;
    let job: ShardJob = serde_json::from_str(body).map_err(|e| JobError::BadBody {
        problem: e.to_string(),
    })?;
    if job.shard >= DUE_SHARDS {
        return Err(JobError::NoSuchShard { shard: job.shard });
    }
    Ok(job)
}

/// The message that continues `job` after the run of record `after` was cut off for time.
/// Its id differs from the fan-out's (a FIFO queue would drop a repeat within 5 minutes) and
/// is stable for that record, so a redelivered record's continuation is deduplicated.
pub fn continuation(job: &ShardJob, after: &str) -> Message {
    let m = job.message();
    Message {
        id: format!("{}:after:{after}", m.id),
        ..m
    }
}

/// The last complete UTC day at `now`: yesterday.
pub fn last_complete_day(now: DateTime<Utc>) -> NaiveDate {
    // Only the first representable day has no day before it.
    now.date_naive().pred_opt().unwrap_or(NaiveDate::MIN)
}

/// Time left before `deadline_ms` (epoch milliseconds, as in [`Context::deadline`]).
fn remaining(deadline_ms: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_millis(deadline_ms).saturating_sub(now)
}

impl<S: DueIndex, J: Queue, N: Queue> Sweeper<S, J, N> {
    /// One invocation, whichever the trigger. `now` is the invocation's clock (tests pin
    /// it); the time left comes from the context's deadline.
    pub async fn handle(
        &self,
        event: LambdaEvent<Value>,
        now: DateTime<Utc>,
    ) -> Result<Response, HandlerError> {
        match Payload::parse(event.payload)? {
            Payload::Schedule(request) => self.fan_out(request, now).await.map(Response::FanOut),
            Payload::Jobs(jobs) => Ok(Response::Batch(
                self.run_batch(jobs, &event.context, now).await,
            )),
        }
    }

    /// The Scheduler run: one job per shard to the jobs queue. The messages' ids are the
    /// night's and the shard's, so a retried run is deduplicated by a FIFO queue (and is
    /// harmless on a standard one: a second run of a job finds nothing due).
    pub async fn fan_out(
        &self,
        request: ScheduleRequest,
        now: DateTime<Utc>,
    ) -> Result<FanOut, HandlerError> {
        let last_complete = last_complete_day(now);
        let through = request.through.unwrap_or(last_complete);
        if through > last_complete {
            // Decay through a day not over yet would charge inactivity that may not happen.
            return Err(HandlerError::NotOver {
                through,
                last_complete,
            });
        }
        let messages: Vec<Message> = ShardJob::plan(through)
            .iter()
            .map(|j| j.message())
            .collect();
        self.jobs.send(&messages).await?;
        tracing::info!(%through, jobs = messages.len(), "sweep fanned out");
        Ok(FanOut {
            through,
            jobs: messages.len(),
        })
    }

    /// An SQS batch with the invocation's deadline: each job stops when less than the reserve
    /// remains.
    pub async fn run_batch(
        &self,
        event: SqsEvent,
        context: &Context,
        now: DateTime<Utc>,
    ) -> SqsBatchResponse {
        let deadline = context.deadline;
        if remaining(deadline) <= self.reserve {
            // Every job would stop before its first lead and re-queue itself, for ever.
            let mut response = SqsBatchResponse::default();
            for record in &event.records {
                let id = record.message_id.clone().unwrap_or_default();
                let e = JobError::NoTime {
                    reserve: self.reserve,
                };
                tracing::error!(message_id = %id, error = %e, "job not started");
                response.add_failure(id);
            }
            return response;
        }
        self.run_jobs(event, now, || remaining(deadline) < self.reserve)
            .await
    }

    /// Runs each record's job in turn until `out_of_time()`. A job cut off is re-queued; a
    /// job that fails (a malformed body, the store or the nurture queue failing, a failed
    /// re-queue) is returned as a batch item failure, and the others still succeed.
    pub async fn run_jobs(
        &self,
        event: SqsEvent,
        now: DateTime<Utc>,
        out_of_time: impl Fn() -> bool,
    ) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for record in &event.records {
            // An empty identifier makes Lambda retry the whole batch: safe, jobs are idempotent.
            let id = record.message_id.clone().unwrap_or_default();
            if let Err(e) = self.run_job(record, &id, now, &out_of_time).await {
                let body = record.body.as_deref().unwrap_or("");
                let body: String = body.chars().take(200).collect();
                tracing::error!(message_id = %id, error = %e, body, "job failed; SQS will retry it");
                response.add_failure(id);
            }
        }
        response
    }

    async fn run_job(
        &self,
        record: &SqsMessage,
        id: &str,
        now: DateTime<Utc>,
        out_of_time: impl Fn() -> bool,
    ) -> Result<ShardReport, JobError> {
        let job = parse_job(record)?;
        let report = sweep_shard(&self.cfg, &self.store, &self.nurture, job, now, out_of_time)
            .await
            .map_err(|source| JobError::Sweep {
                shard: job.shard,
                source,
            })?;
        log_report(&job, &report);
        if !report.done {
            self.jobs
                .send(&[continuation(&job, id)])
                .await
                .map_err(|source| JobError::Requeue {
                    shard: job.shard,
                    source,
                })?;
        }
        Ok(report)
    }
}

fn log_report(job: &ShardJob, r: &ShardReport) {
    tracing::info!(
        shard = r.shard,
        through = %job.through,
        leads = r.leads,
        entries = r.entries,
        to_nurture = r.to_nurture,
        recycled = r.recycled,
        handoffs = r.handoffs,
        conflicts = r.conflicts,
        items_read = r.items_read,
        done = r.done,
        "{}",
        if r.done { "shard swept" } else { "shard cut off for time" }
    );
}
