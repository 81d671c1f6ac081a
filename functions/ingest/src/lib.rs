//! The ingest Lambda's adapter: API Gateway HTTP API (payload 2.0) events in, the
//! transport-free [`leadscore_app::ingest::handle`] in the middle, API Gateway responses out.
//!
//! Everything here is pure or takes its ports as arguments, so the tests drive the same code
//! the Lambda runs, with real `ApiGatewayV2httpRequest` values deserialized from JSON.

mod config;
mod convert;
pub mod secrets;

pub use config::{Config, ConfigError, StoreConfig, TABLE};
pub use convert::{to_request, to_response, ConvertError};
pub use secrets::{AwsSecrets, SecretProblem, SecretSource, SecretStore};

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use chrono::{DateTime, Utc};
use leadscore_app::config::IngestConfig;
use leadscore_app::ingest::handle;
use leadscore_store::LeadStore;
use std::convert::Infallible;

/// Handles one API Gateway event. Every outcome is an HTTP response (client mistakes are 4xx
/// with a JSON body naming the problem), so the Lambda invocation itself never fails.
pub async fn handler<S: LeadStore>(
    store: &S,
    cfg: &IngestConfig,
    event: ApiGatewayV2httpRequest,
    now: DateTime<Utc>,
) -> Result<ApiGatewayV2httpResponse, Infallible> {
    let response = match to_request(event) {
        Ok(req) => {
            let r = handle(cfg, store, &req, now).await;
            log_outcome(&req.method, &req.path, &r);
            r
        }
        Err(e) => {
            tracing::warn!(error = %e, "request rejected before routing");
            e.to_response()
        }
    };
    Ok(to_response(response))
}

fn log_outcome(method: &str, path: &str, r: &leadscore_app::http::Response) {
    let message = r.body.get("message").and_then(|m| m.as_str()).unwrap_or("");
    match r.status {
        200..=399 => tracing::info!(
            method,
            path,
            status = r.status,
            accepted = r.body.get("accepted").and_then(|v| v.as_u64()),
            duplicates = r.body.get("duplicates").and_then(|v| v.as_u64()),
            leads = r.body.get("leads").and_then(|v| v.as_u64()),
            "ingested"
        ),
        400..=499 => tracing::warn!(method, path, status = r.status, message, "refused"),
        _ => tracing::error!(method, path, status = r.status, message, "failed"),
    }
}
