//! The queue port: messages the functions hand to each other or to other systems (the
//! nurture hand-off, the sweep's shard jobs), and its adapters.
//!
//! - [`Queue`]: send messages, each with an id that deduplicates it (on a FIFO queue).
//! - [`MemoryQueue`]: in-process, records what was sent (tests, local runs).
//! - [`SqsQueue`]: Amazon SQS, standard or FIFO.

mod memory;
mod sqs;

pub use memory::MemoryQueue;
pub use sqs::SqsQueue;

use std::future::Future;

/// One message: `id` deduplicates it on a FIFO queue (and names it in logs); `group` orders
/// it among others of the same group (FIFO); `body` is JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub group: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue could not be reached or refused the message: the caller retries later.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

pub trait Queue: Send + Sync {
    /// Sends every message or fails; a retry after a failure may send some twice, which a
    /// FIFO queue deduplicates by id within its window (5 minutes on SQS).
    fn send(&self, messages: &[Message]) -> impl Future<Output = Result<(), QueueError>> + Send;
}
