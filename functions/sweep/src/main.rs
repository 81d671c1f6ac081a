//! The sweep Lambda: the nightly decay sweep. The EventBridge Scheduler invokes it to fan out
//! one job per shard to an SQS queue; the same function consumes that queue. Configuration and
//! AWS clients are built once per cold start; each invocation borrows them.

use chrono::Utc;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use leadscore_queue::SqsQueue;
use leadscore_runtime::{aws_config, init_tracing};
use leadscore_sweep::{Config, Sweeper};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let cfg = Config::from_env().inspect_err(|e| tracing::error!("invalid configuration: {e}"))?;
    if !cfg.nurture_queue_url.ends_with(".fifo") {
        tracing::warn!("the nurture queue is not FIFO: a resent hand-off may be delivered twice");
    }
    tracing::info!(table = %cfg.store.table, model = %cfg.model_path.display(), "sweep ready");
    let aws = aws_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let sweeper = Sweeper {
        store: cfg.store.dynamo(aws_sdk_dynamodb::Client::new(&aws)),
        jobs: SqsQueue::new(sqs.clone(), cfg.jobs_queue_url),
        nurture: SqsQueue::new(sqs, cfg.nurture_queue_url),
        reserve: cfg.reserve,
        cfg: cfg.sweep,
    };
    lambda_runtime::run(service_fn(|e: LambdaEvent<Value>| {
        sweeper.handle(e, Utc::now())
    }))
    .await
}
