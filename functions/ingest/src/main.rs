//! The ingest Lambda: HubSpot, Marketo, SendGrid and generic events webhooks behind an API
//! Gateway HTTP API (payload 2.0). Configuration (with any secrets named by `_PARAM`
//! variables, read from SSM or Secrets Manager) and AWS clients are built once per cold start;
//! each invocation borrows them.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use chrono::Utc;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use leadscore_ingest::{handler, init_tracing, AwsSecrets, Config};
use leadscore_store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let cfg = Config::load(&AwsSecrets::new(&aws))
        .await
        .inspect_err(|e| tracing::error!("invalid configuration: {e}"))?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), &cfg.table)
        .with_ledger_ttl(cfg.ledger_ttl);
    tracing::info!(table = %cfg.table, model = %cfg.model_path.display(), "ingest ready");
    lambda_runtime::run(service_fn(|e: LambdaEvent<ApiGatewayV2httpRequest>| {
        handler(&store, &cfg.ingest, e.payload, Utc::now())
    }))
    .await
}
