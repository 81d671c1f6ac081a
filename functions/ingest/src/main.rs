//! The ingest Lambda: HubSpot, Marketo, SendGrid and generic events webhooks behind an API
//! Gateway HTTP API (payload 2.0). Configuration (with any secrets named by `_PARAM`
//! variables, read from SSM or Secrets Manager) and AWS clients are built once per cold start;
//! each invocation borrows them.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use chrono::Utc;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use leadscore_ingest::{handler, AwsSecrets, Config};
use leadscore_runtime::{aws_config, init_tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let aws = aws_config().await;
    let cfg = Config::load(&AwsSecrets::new(&aws))
        .await
        .inspect_err(|e| tracing::error!("invalid configuration: {e}"))?;
    let store = cfg.store.dynamo(aws_sdk_dynamodb::Client::new(&aws));
    tracing::info!(table = %cfg.store.table, model = %cfg.model_path.display(), "ingest ready");
    lambda_runtime::run(service_fn(|e: LambdaEvent<ApiGatewayV2httpRequest>| {
        handler(&store, &cfg.ingest, e.payload, Utc::now())
    }))
    .await
}
