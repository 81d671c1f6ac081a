//! The sweep Lambda's handler end to end: Scheduler payloads and real `SqsEvent` JSON, through
//! the fan-out, the shard sweep and the continuation, against in-memory ports and against
//! moto's DynamoDB and SQS.

mod common;

use aws_sdk_sqs::types::QueueAttributeName;
use common::*;
use lambda_runtime::Diagnostic;
use leadscore_app::sweep::{ShardJob, SweepConfig};
use leadscore_domain::{EventKind, Stage};
use leadscore_queue::{MemoryQueue, SqsQueue};
use leadscore_store::testing::Moto;
use leadscore_store::{shard_of, DynamoStore, LeadStore, MemoryStore, DUE_SHARDS};
use leadscore_sweep::{continuation, HandlerError, Response, Sweeper};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The response as the Lambda runtime serializes it.
fn to_json(r: Response) -> Value {
    serde_json::to_value(r).unwrap()
}

#[tokio::test]
async fn the_scheduler_payload_fans_out_one_job_per_shard() {
    let sweeper = sweeper(MemoryStore::new());
    // `{}`: through the last complete UTC day, the day before the invocation.
    let r = sweeper
        .handle(invocation(json!({}), 60), at(12))
        .await
        .unwrap();
    assert_eq!(to_json(r), json!({ "through": "2026-03-12", "jobs": 16 }));
    let sent = sweeper.jobs.drain();
    assert_eq!(sent.len(), DUE_SHARDS as usize);
    let mut shards: Vec<u16> = sent
        .iter()
        .map(|m| {
            let job: ShardJob = serde_json::from_str(&m.body).unwrap();
            assert_eq!(job.through, day(11));
            assert_eq!(m.id, format!("sweep:2026-03-12:{}", job.shard));
            job.shard
        })
        .collect();
    shards.sort();
    assert_eq!(shards, (0..DUE_SHARDS).collect::<Vec<_>>());
    assert!(sweeper.nurture.sent().is_empty());

    // An explicit day (a re-run); a null payload is `{}`.
    let r = sweeper
        .handle(invocation(json!({ "through": "2026-03-05" }), 60), at(12))
        .await
        .unwrap();
    assert_eq!(to_json(r), json!({ "through": "2026-03-05", "jobs": 16 }));
    assert!(sweeper
        .jobs
        .drain()
        .iter()
        .all(|m| m.body.contains("2026-03-05")));
    let r = sweeper
        .handle(invocation(Value::Null, 60), at(12))
        .await
        .unwrap();
    assert_eq!(to_json(r)["through"], json!("2026-03-12"));
}

#[tokio::test]
async fn a_day_not_over_and_an_unknown_payload_are_refused() {
    let sweeper = sweeper(MemoryStore::new());
    let refuse = |payload: Value| {
        let sweeper = &sweeper;
        async move {
            sweeper
                .handle(invocation(payload, 60), at(12))
                .await
                .err()
                .unwrap()
        }
    };
    // Today (day 12) is not over: decaying through it would charge a day not yet idle.
    let e = refuse(json!({ "through": "2026-03-13" })).await;
    assert!(matches!(e, HandlerError::NotOver { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "2026-03-13 is not over yet: the last complete UTC day is 2026-03-12"
    );
    for payload in [
        json!({ "thru": "2026-03-01" }),
        json!({ "through": "yesterday" }),
        json!([1, 2]),
        json!({ "Records": "not a list" }),
    ] {
        let e = refuse(payload.clone()).await;
        assert!(matches!(e, HandlerError::Payload(_)), "{payload}: {e}");
        let d = Diagnostic::from(e);
        assert_eq!(d.error_type, "InvalidPayload");
        assert!(
            d.error_message.contains("unrecognised payload"),
            "{}",
            d.error_message
        );
    }
    assert!(sweeper.jobs.sent().is_empty(), "nothing fanned out");
}

/// Scheduler -> SQS -> the same function -> DynamoDB and the nurture queue, all on moto.
#[tokio::test]
async fn a_night_end_to_end_on_moto_dynamodb_and_sqs() {
    let moto = Moto::start();
    let aws = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let fifo = |name: &'static str| {
        let sqs = sqs.clone();
        async move {
            sqs.create_queue()
                .queue_name(name)
                .attributes(QueueAttributeName::FifoQueue, "true")
                .send()
                .await
                .unwrap()
                .queue_url
                .unwrap()
        }
    };
    let (jobs_url, nurture_url) = (fifo("sweep-jobs.fifo").await, fifo("nurture.fifo").await);
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), "sweep-lambda");
    store.create_table().await.unwrap();
    let model = model();
    // mia is an MQL who went quiet (recycled by day 11); ned was barely engaged (decays to 0,
    // not yet cold); ola engaged on day 10 (not due).
    seed(
        &store,
        &[
            lead(&model, "mia", EventKind::TrialStarted, 0),
            lead(&model, "ned", EventKind::FormSubmit, 0),
            lead(&model, "ola", EventKind::FormSubmit, 10),
        ],
    )
    .await;
    let sweeper = Sweeper {
        cfg: SweepConfig {
            model,
            page_size: 100,
        },
        store,
        jobs: SqsQueue::new(sqs.clone(), &jobs_url),
        nurture: SqsQueue::new(sqs.clone(), &nurture_url),
        reserve: std::time::Duration::from_secs(20),
    };

    // The Scheduler's invocation on day 12 (2026-03-13) fans out day 11's jobs to SQS.
    let r = sweeper
        .handle(invocation(json!({}), 60), at(12))
        .await
        .unwrap();
    assert_eq!(to_json(r), json!({ "through": "2026-03-12", "jobs": 16 }));
    // A retried Scheduler invocation is deduplicated by the FIFO queue.
    sweeper
        .handle(invocation(json!({}), 60), at(12))
        .await
        .unwrap();
    let received = receive_all(&sqs, &jobs_url).await;
    assert_eq!(received.len(), 16);

    // SQS delivers the jobs to the function as an SqsEvent.
    let records: Vec<Value> = received
        .iter()
        .map(|(id, body)| {
            let mut e = sqs_event(&[(id, body)]);
            e["Records"][0]["eventSourceARN"] =
                json!("arn:aws:sqs:us-east-1:123456789012:sweep-jobs.fifo");
            e["Records"][0].take()
        })
        .collect();
    let r = sweeper
        .handle(invocation(json!({ "Records": records }), 600), at(12))
        .await
        .unwrap();
    assert_eq!(to_json(r), json!({ "batchItemFailures": [] }));

    let mia = sweeper.store.load("mia").await.unwrap().unwrap().state;
    assert_eq!(mia.stage, Stage::Recycled);
    assert_eq!(mia.decayed_through, Some(day(11)));
    assert!(mia.outbox.is_empty(), "the hand-off was sent");
    let ned = sweeper.store.load("ned").await.unwrap().unwrap();
    assert_eq!(ned.state.decayed_through, Some(day(11)));
    let ola = sweeper.store.load("ola").await.unwrap().unwrap();
    assert_eq!(ola.version, 1, "not due: not written");
    let handoffs = receive_all(&sqs, &nurture_url).await;
    assert_eq!(handoffs.len(), 1, "{handoffs:?}");
    let body: Value = serde_json::from_str(&handoffs[0].1).unwrap();
    assert_eq!(
        (&body["lead"], &body["to"]),
        (&json!("mia"), &json!("recycled"))
    );
    // Nothing was cut off, so nothing was re-queued.
    assert!(receive_all(&sqs, &jobs_url).await.is_empty());

    // A job whose store fails (here: no such table) is a batch item failure for SQS to retry.
    let broken = Sweeper {
        cfg: SweepConfig {
            model: common::model(),
            page_size: 100,
        },
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), "no-such-table"),
        jobs: MemoryQueue::new(),
        nurture: MemoryQueue::new(),
        reserve: std::time::Duration::from_secs(20),
    };
    let event = sqs_event(&[("m-1", &job_body(3, day(11)))]);
    let r = broken.handle(invocation(event, 600), at(12)).await.unwrap();
    assert_eq!(failures(&to_json(r)), ["m-1"]);
}

/// Receives and deletes every visible message: (message id, body).
async fn receive_all(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        if got.messages().is_empty() {
            return out;
        }
        for m in got.messages() {
            out.push((
                m.message_id().unwrap().to_owned(),
                m.body().unwrap().to_owned(),
            ));
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_job_cut_off_for_time_is_requeued_and_the_continuation_finishes_it() {
    let (shard, ids) = ids_in_one_shard(5);
    let sweeper = sweeper(MemoryStore::new());
    let model = common::model();
    let leads: Vec<_> = ids
        .iter()
        .map(|id| lead(&model, id, EventKind::FormSubmit, 0))
        .collect();
    seed(&sweeper.store, &leads).await;
    let job = ShardJob {
        shard,
        through: day(11),
    };
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_value(sqs_event(&[("m-first", &job_body(shard, day(11)))])).unwrap();

    // Time for two leads: the run stops, re-queues the same job and succeeds.
    let checks = AtomicUsize::new(0);
    let r = sweeper
        .run_jobs(event, at(12), || {
            checks.fetch_add(1, Ordering::Relaxed) >= 3
        })
        .await;
    assert!(r.batch_item_failures.is_empty());
    let mut decayed = 0;
    for id in &ids {
        let s = sweeper.store.load(id).await.unwrap().unwrap().state;
        decayed += usize::from(s.decayed_through == Some(day(11)));
    }
    assert_eq!(decayed, 2, "two leads before the cut-off");
    let requeued = sweeper.jobs.drain();
    assert_eq!(requeued, [continuation(&job, "m-first")]);
    assert_eq!(
        requeued[0].id,
        format!("sweep:2026-03-12:{shard}:after:m-first")
    );
    assert_eq!(
        serde_json::from_str::<ShardJob>(&requeued[0].body).unwrap(),
        job
    );

    // The continuation, delivered with time to spare, finishes the shard.
    let event = sqs_event(&[("m-second", &requeued[0].body)]);
    let r = sweeper
        .handle(invocation(event, 600), at(12))
        .await
        .unwrap();
    assert!(failures(&to_json(r)).is_empty());
    for id in &ids {
        let s = sweeper.store.load(id).await.unwrap().unwrap().state;
        assert_eq!(s.decayed_through, Some(day(11)), "{id}");
    }
    assert!(sweeper.jobs.sent().is_empty(), "done: nothing re-queued");
}

#[tokio::test]
async fn an_invocation_without_time_for_its_reserve_fails_its_jobs_without_looping() {
    let (shard, ids) = ids_in_one_shard(1);
    let sweeper = sweeper(MemoryStore::new());
    seed(
        &sweeper.store,
        &[lead(&common::model(), &ids[0], EventKind::FormSubmit, 0)],
    )
    .await;
    // A 10 s deadline under a 20 s reserve: re-queueing would loop for ever.
    let event = sqs_event(&[("m-1", &job_body(shard, day(11)))]);
    let r = sweeper.handle(invocation(event, 10), at(12)).await.unwrap();
    assert_eq!(failures(&to_json(r)), ["m-1"]);
    assert!(sweeper.jobs.sent().is_empty());
    let s = sweeper.store.load(&ids[0]).await.unwrap().unwrap();
    assert_eq!(s.version, 1, "not swept");
    // What the log says: the fix, by variable name.
    let e = leadscore_sweep::JobError::NoTime {
        reserve: std::time::Duration::from_secs(20),
    };
    assert!(
        e.to_string().contains("LEADSCORE_SWEEP_RESERVE_SECONDS"),
        "{e}"
    );
}

#[tokio::test]
async fn a_malformed_record_is_a_batch_item_failure_and_the_others_succeed() {
    let (shard, ids) = ids_in_one_shard(2);
    let sweeper = sweeper(MemoryStore::new());
    let model = common::model();
    seed(
        &sweeper.store,
        &[
            lead(&model, &ids[0], EventKind::TrialStarted, 0),
            lead(&model, &ids[1], EventKind::FormSubmit, 0),
        ],
    )
    .await;
    let other = (shard + 1) % DUE_SHARDS;
    let good = job_body(shard, day(11));
    let also_good = job_body(other, day(11));
    let mut event = sqs_event(&[
        ("bad-json", "not json"),
        ("good", &good),
        ("no-through", r#"{"shard": 1}"#),
        ("no-such-shard", &job_body(99, day(11))),
        ("also-good", &also_good),
        ("no-body", ""),
    ]);
    event["Records"][5].as_object_mut().unwrap().remove("body");
    let r = sweeper
        .handle(invocation(event, 600), at(12))
        .await
        .unwrap();
    assert_eq!(
        failures(&to_json(r)),
        ["bad-json", "no-through", "no-such-shard", "no-body"]
    );
    for id in &ids {
        assert_eq!(shard_of(id), shard);
        let s = sweeper.store.load(id).await.unwrap().unwrap().state;
        assert_eq!(s.decayed_through, Some(day(11)), "{id}");
    }
    let handoffs = sweeper.nurture.sent();
    assert_eq!(handoffs.len(), 1, "the MQL that went quiet is recycled");
    assert!(sweeper.jobs.sent().is_empty());
}

#[test]
fn events_are_told_apart_by_their_records() {
    use leadscore_sweep::Payload;
    let sqs = sqs_event(&[("m", "{}")]);
    assert!(matches!(Payload::parse(sqs), Ok(Payload::Jobs(e)) if e.records.len() == 1));
    assert!(matches!(
        Payload::parse(json!({})),
        Ok(Payload::Schedule(r)) if r.through.is_none()
    ));
}
