//! The notify Lambda: the leads table's stream (filtered to moves into MQL) in, Slack and SES
//! email out; `{"redrive": {}}` re-sends what failed for good. Configuration (with the Slack
//! URLs named by `_PARAM` variables or the routing file, read from SSM or Secrets Manager),
//! the channels and the AWS clients are built once per cold start; each invocation borrows
//! them.

use chrono::Utc;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use leadscore_notifier::{build_channels, AwsSecrets, Config, Notifier};
use leadscore_runtime::{aws_config, init_tracing};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let aws = aws_config().await;
    let cfg = Config::load(&AwsSecrets::new(&aws))
        .await
        .inspect_err(|e| tracing::error!("invalid configuration: {e}"))?;
    let ses = cfg
        .sender
        .is_some()
        .then(|| aws_sdk_sesv2::Client::new(&aws));
    let channels = build_channels(
        &cfg.routes,
        cfg.sender.as_deref(),
        ses.as_ref(),
        cfg.timeout,
    )
    .inspect_err(|e| tracing::error!("invalid routing: {e}"))?;
    tracing::info!(table = %cfg.store.table, routes = channels.len(), "notify ready");
    let notifier = Notifier {
        store: cfg.store.dynamo(aws_sdk_dynamodb::Client::new(&aws)),
        model: cfg.model,
        routes: cfg.routes,
        channels,
        hubspot: cfg.hubspot,
        lease: cfg.lease,
    };
    lambda_runtime::run(service_fn(|e: LambdaEvent<Value>| {
        notifier.handle(e, Utc::now())
    }))
    .await
}
