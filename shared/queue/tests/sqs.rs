//! The queue port on both adapters; SQS against moto's server over HTTP.

use leadscore_queue::{MemoryQueue, Message, Queue, SqsQueue};
use leadscore_store::testing::Moto;

fn msg(id: &str, group: &str) -> Message {
    Message {
        id: id.into(),
        group: group.into(),
        body: format!(r#"{{"id":"{id}"}}"#),
    }
}

#[tokio::test]
async fn the_memory_queue_records_and_deduplicates() {
    let q = MemoryQueue::new();
    q.send(&[msg("a", "g"), msg("b", "g")]).await.unwrap();
    q.send(&[msg("a", "g")]).await.unwrap();
    let ids: Vec<_> = q.sent().into_iter().map(|m| m.id).collect();
    assert_eq!(ids, ["a", "b"]);
}

#[tokio::test]
async fn sqs_sends_batches_and_a_fifo_queue_deduplicates_by_id() {
    let moto = Moto::start();
    let client = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let url = client
        .create_queue()
        .queue_name("handoff.fifo")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let q = SqsQueue::new(client.clone(), &url);
    // 23 messages: three batches. Ids longer than SQS allows are hashed.
    let long = "x".repeat(300);
    let mut messages: Vec<Message> = (0..22).map(|i| msg(&format!("m{i}"), "lead-1")).collect();
    messages.push(msg(&long, "lead-2"));
    q.send(&messages).await.unwrap();
    // A retry of the same messages adds nothing.
    q.send(&messages[..5]).await.unwrap();
    let mut bodies = Vec::new();
    for _ in 0..10 {
        let out = client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        if out.messages().is_empty() {
            break;
        }
        for m in out.messages() {
            bodies.push(m.body().unwrap_or_default().to_owned());
            client
                .delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .unwrap();
        }
    }
    assert_eq!(bodies.len(), 23, "each message once");
    assert!(bodies.contains(&format!(r#"{{"id":"{long}"}}"#)));
}
