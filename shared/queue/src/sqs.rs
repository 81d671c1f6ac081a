//! Amazon SQS: `SendMessageBatch`, 10 messages per request. On a FIFO queue (its URL ends in
//! `.fifo`) each message carries its group and a deduplication id.

use crate::{Message, Queue, QueueError};
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;
use sha2::{Digest, Sha256};

/// SendMessageBatch's limit.
const BATCH_MAX: usize = 10;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
        }
    }

    fn fifo(&self) -> bool {
        self.url.ends_with(".fifo")
    }
}

/// SQS ids allow 80 (batch entry) or 128 (deduplication) characters of a limited set: use a
/// hash of the id, which is also stable across retries.
fn sqs_id(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

impl Queue for SqsQueue {
    async fn send(&self, messages: &[Message]) -> Result<(), QueueError> {
        let unavailable = |e: String| QueueError::Unavailable(e);
        for chunk in messages.chunks(BATCH_MAX) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, m) in chunk.iter().enumerate() {
                let mut e = SendMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .message_body(&m.body);
                if self.fifo() {
                    e = e
                        .message_group_id(sqs_id(&m.group))
                        .message_deduplication_id(sqs_id(&m.id));
                }
                entries.push(e.build().map_err(|e| unavailable(e.to_string()))?);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    unavailable(format!("SendMessageBatch: {}", DisplayErrorContext(&e)))
                })?;
            if let Some(f) = out.failed().first() {
                return Err(unavailable(format!(
                    "SendMessageBatch refused {} of {} messages (first: {} {})",
                    out.failed().len(),
                    chunk.len(),
                    f.code(),
                    f.message().unwrap_or("")
                )));
            }
        }
        Ok(())
    }
}
