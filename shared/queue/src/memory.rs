//! An in-process queue that records what was sent, deduplicating by id like a FIFO queue.

use crate::{Message, Queue, QueueError};
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryQueue {
    sent: Mutex<Vec<Message>>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything sent so far, in order, each id once.
    pub fn sent(&self) -> Vec<Message> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Takes what was sent (a consumer draining the queue).
    pub fn drain(&self) -> Vec<Message> {
        self.sent
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

impl Queue for MemoryQueue {
    async fn send(&self, messages: &[Message]) -> Result<(), QueueError> {
        let mut sent = self
            .sent
            .lock()
            .map_err(|_| QueueError::Unavailable("memory queue lock poisoned".into()))?;
        for m in messages {
            if !sent.iter().any(|s| s.id == m.id) {
                sent.push(m.clone());
            }
        }
        Ok(())
    }
}
