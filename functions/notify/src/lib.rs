//! The MQL notifier Lambda. It is invoked two ways:
//!
//! - by the leads table's DynamoDB stream (filtered to moves into MQL, [`FILTER_PATTERN`]):
//!   each record's lead is notified on every route it matches, once per transition and
//!   route ([`leadscore_app::notify::notify_lead`]). Records to retry, or that failed for
//!   good, are answered as `batchItemFailures`, so after bounded retries they reach the
//!   OnFailure destination instead of passing silently;
//! - with `{"redrive": {}}` (optionally `{"redrive": {"limit": 50}}`): sends again the
//!   notifications that failed for good ([`leadscore_app::notify::redrive`]) and answers
//!   what became of each.
//!
//! The transport-free work is in `leadscore_app::notify`; this crate reads the record, the
//! configuration and builds the channels.

pub mod config;
pub mod record;

pub use config::Config;
pub use leadscore_runtime::AwsSecrets;
pub use record::{mql_entry, MqlEntry, RecordError, FILTER_PATTERN};

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use chrono::{DateTime, Duration, Utc};
use lambda_runtime::{Diagnostic, LambdaEvent};
use leadscore_app::notify::{
    channels_for, channels_of, notify_lead, redrive, RedriveResult, RouteChannels, Routes,
};
use leadscore_domain::Model;
use leadscore_notify::{Channel, HubSpotPortal, SesMailer, SlackWebhook};
use leadscore_store::{LeadStore, SentLog};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// At most this many failed notices per re-drive invocation unless the request says.
pub const DEFAULT_REDRIVE_LIMIT: usize = 100;

/// Builds every route's channels once (at cold start). `ses` is needed only when a route
/// sends email; a bad webhook URL or address is an error naming the route.
pub fn build_channels(
    routes: &Routes,
    sender: Option<&str>,
    ses: Option<&aws_sdk_sesv2::Client>,
    timeout: std::time::Duration,
) -> Result<Vec<RouteChannels>, ChannelSetupError> {
    let mut out = Vec::with_capacity(routes.routes().len());
    for route in routes.routes() {
        let mut channels: Vec<Box<dyn Channel>> = Vec::new();
        let problem = |channel: &str, e: leadscore_notify::ConfigError| ChannelSetupError {
            route: route.name.clone(),
            channel: channel.to_owned(),
            problem: e.to_string(),
        };
        for (i, url) in route.slack.iter().enumerate() {
            let name = format!("slack:{}#{}", route.name, i + 1);
            let hook = SlackWebhook::new(url, timeout).map_err(|e| problem(&name, e))?;
            channels.push(Box::new(hook.with_name(name)));
        }
        if !route.email.is_empty() {
            let name = format!("email:{}", route.name);
            let (Some(from), Some(client)) = (sender, ses) else {
                return Err(ChannelSetupError {
                    route: route.name.clone(),
                    channel: name,
                    problem: "no SES sender or client".to_owned(),
                });
            };
            let mailer = SesMailer::new(client, from, route.email.clone(), timeout)
                .map_err(|e| problem(&name, e))?;
            channels.push(Box::new(mailer.with_name(name)));
        }
        out.push((route.name.clone(), channels));
    }
    Ok(out)
}

/// A channel that cannot be built from the configuration. Never carries a secret.
#[derive(Debug, thiserror::Error)]
#[error("route `{route}`, {channel}: {problem}")]
pub struct ChannelSetupError {
    pub route: String,
    pub channel: String,
    pub problem: String,
}

/// What one invocation needs, built once per cold start and borrowed by each invocation.
pub struct Notifier<S> {
    pub store: S,
    pub model: Model,
    pub routes: Routes,
    pub channels: Vec<RouteChannels>,
    pub hubspot: Option<HubSpotPortal>,
    pub lease: Duration,
}

/// A re-drive request: `{"redrive": {"limit": 50}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedriveRequest {
    #[serde(default)]
    pub limit: Option<usize>,
}

/// What a re-drive answers.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct RedriveSummary {
    pub sent: usize,
    pub failed: usize,
    pub skipped: usize,
    /// One line per notice: lead, transition time, route and what happened.
    pub notices: Vec<String>,
}

/// Why an invocation failed as a whole (the stream retries the whole batch).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("the request is neither a DynamoDB stream event nor a re-drive: {0}")]
    Request(String),
    #[error("stream record {0} has no sequence number to report it by")]
    NoSequenceNumber(String),
    #[error(transparent)]
    Notify(#[from] leadscore_app::notify::NotifyFailure),
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Diagnostic {
        let kind = match &e {
            HandlerError::Request(_) => "InvalidRequest",
            HandlerError::NoSequenceNumber(_) => "InvalidRecord",
            HandlerError::Notify(_) => "NotifierFailure",
        };
        Diagnostic {
            error_type: kind.to_owned(),
            error_message: e.to_string(),
        }
    }
}

impl<S: LeadStore + SentLog> Notifier<S> {
    /// The Lambda entry point: a stream batch or a re-drive request.
    pub async fn handle(
        &self,
        event: LambdaEvent<Value>,
        now: DateTime<Utc>,
    ) -> Result<Value, HandlerError> {
        let payload = event.payload;
        if let Some(request) = payload.get("redrive") {
            let request: RedriveRequest = serde_json::from_value(request.clone())
                .map_err(|e| HandlerError::Request(format!("redrive: {e}")))?;
            return Ok(to_json(&self.redrive(request, now).await?));
        }
        if payload.get("Records").is_some() {
            let event: Event = serde_json::from_value(payload)
                .map_err(|e| HandlerError::Request(format!("stream event: {e}")))?;
            return Ok(to_json(&self.stream(event, now).await?));
        }
        Err(HandlerError::Request(
            "expected `Records` (a stream batch) or `redrive`".to_owned(),
        ))
    }

    /// Notifies each record's move into MQL, in order. A record is a batch item failure when
    /// it cannot be read, when the store fails, or when a route must be retried or failed
    /// for good; the others succeed even if an earlier one failed (their notices are sent
    /// once: a retry of the batch finds them sent).
    pub async fn stream(
        &self,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<DynamoDbEventResponse, HandlerError> {
        let mut response = DynamoDbEventResponse::default();
        for record in &event.records {
            let seq = record
                .change
                .sequence_number
                .clone()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| HandlerError::NoSequenceNumber(record.event_id.clone()))?;
            let failed = match mql_entry(record) {
                Ok(None) => false,
                Err(e) => {
                    tracing::error!(seq = %seq, error = %e, "unreadable stream record");
                    true
                }
                Ok(Some(entry)) => self.notify(&entry, now).await,
            };
            if failed {
                // Non-exhaustive upstream: built from its default.
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(seq);
                response.batch_item_failures.push(failure);
            }
        }
        Ok(response)
    }

    /// True when the record must be reported as failed.
    async fn notify(&self, entry: &MqlEntry, now: DateTime<Utc>) -> bool {
        let routes = channels_for(&self.routes, &self.channels, &entry.state);
        if routes.is_empty() {
            tracing::warn!(lead = %entry.state.lead_id, "an MQL no route takes: not notified");
            return false;
        }
        let outcome = notify_lead(
            &self.store,
            routes,
            &self.model,
            &entry.state,
            &entry.transition,
            self.hubspot.as_ref(),
            now,
            self.lease,
        )
        .await;
        match outcome {
            Ok(outcome) => outcome.record_failed(),
            Err(e) => {
                tracing::error!(lead = %entry.state.lead_id, error = %e, "notifier failure");
                true
            }
        }
    }

    /// Sends again what failed for good, and says what became of each.
    pub async fn redrive(
        &self,
        request: RedriveRequest,
        now: DateTime<Utc>,
    ) -> Result<RedriveSummary, HandlerError> {
        let reports = redrive(
            &self.store,
            |route| channels_of(&self.channels, route),
            &self.model,
            self.hubspot.as_ref(),
            now,
            self.lease,
            request.limit.unwrap_or(DEFAULT_REDRIVE_LIMIT),
        )
        .await?;
        let mut summary = RedriveSummary::default();
        for r in reports {
            let what = match &r.result {
                RedriveResult::Sent => {
                    summary.sent += 1;
                    "sent".to_owned()
                }
                RedriveResult::Failed(e) => {
                    summary.failed += 1;
                    format!("failed again: {e}")
                }
                RedriveResult::Skipped(why) => {
                    summary.skipped += 1;
                    format!("skipped: {why}")
                }
            };
            summary.notices.push(format!(
                "{} {} {}: {what}",
                r.key.lead,
                r.key
                    .transition_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                r.key.route
            ));
        }
        Ok(summary)
    }
}

/// An answer as JSON. These types always serialize; were one not to, the answer would be
/// `null` rather than a panic.
fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}
