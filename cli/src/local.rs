//! leadscore on one machine: the handlers the Lambdas run, wired together without AWS.
//!
//! - webhooks go through `leadscore_app::ingest::handle`, as in the ingest Lambda;
//! - the nightly sweep runs every shard with `leadscore_app::sweep::sweep_shard`, as the sweep
//!   Lambda's jobs do, and hands cold and recycled leads to an in-process queue;
//! - each move into MQL that a request reports is notified with
//!   `leadscore_app::notify::notify_lead`, as the notify Lambda does for a stream record, to
//!   Slack webhooks, or printed when no URL is given.
//!
//! The store is any [`LeadStore`] + [`SentLog`] + [`DueIndex`]: the embedded store or DynamoDB.

use crate::error::CliError;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use leadscore_app::config::IngestConfig;
use leadscore_app::http::{Request, Response};
use leadscore_app::notify::{
    channels_for, channels_of, notify_lead, RouteChannels, RouteResult, Routes,
};
use leadscore_app::sweep::{sweep_shard, ShardJob, SweepConfig};
use leadscore_domain::{Model, Stage, Transition};
use leadscore_notify::{
    email, Channel, Delivery, HubSpotPortal, MqlNotice, SendFuture, SlackWebhook,
};
use leadscore_queue::MemoryQueue;
use leadscore_store::{DueIndex, LeadStore, NoticeKey, SentLog};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where notices go locally.
pub enum Notices {
    /// Collected (and printed by the caller): the rendered text of each notice.
    Print(Printed),
    /// Posted to a Slack incoming webhook (a real one, or a local sink).
    Slack(String),
    /// As the routing says: each route's Slack webhooks; its emails printed (no SES here).
    Routes(Printed),
}

/// The notices a [`PrintChannel`] received, in order.
pub type Printed = Arc<Mutex<Vec<MqlNotice>>>;

/// A channel that keeps the notice for the caller to print: the local stand-in for Slack.
pub struct PrintChannel(pub Printed);

impl Channel for PrintChannel {
    fn name(&self) -> &str {
        "print"
    }

    fn send<'a>(&'a self, notice: &'a MqlNotice) -> SendFuture<'a> {
        Box::pin(async move {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(notice.clone());
            Ok(Delivery {
                attempts: 1,
                message_id: None,
            })
        })
    }
}

/// When the night after `day` is swept: 02:00 UTC the next day, as the Scheduler runs it.
pub fn night_at(day: NaiveDate) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    Utc.from_utc_datetime(&next.and_hms_opt(2, 0, 0).unwrap_or_default())
}

/// Routing for runs whose notices are printed or go to one `--slack-url`: a single default
/// route (its placeholder URL is never called; [`Local::new`] gives it the real channel).
pub fn print_routes() -> Result<Routes, CliError> {
    Routes::parse(None, Some("http://localhost/leadscore-print"), None)
        .map_err(|e| CliError::Usage(e.to_string()))
}

/// The text a person reads for a notice (the email's text part: the same facts as Slack's).
pub fn notice_text(notice: &MqlNotice) -> String {
    email::render(notice).text
}

/// The Slack message as it reads in the channel: the Block Kit rendering's texts, block by
/// block (header, sections and their fields, context, button links).
pub fn slack_text(notice: &MqlNotice) -> String {
    let message = leadscore_notify::slack::render(notice);
    let mut lines = Vec::new();
    for block in message["blocks"].as_array().into_iter().flatten() {
        if let Some(t) = block["text"]["text"].as_str() {
            lines.push(t.to_owned());
        }
        let fields = block["fields"].as_array().into_iter().flatten();
        let elements = block["elements"].as_array().into_iter().flatten();
        for item in fields.chain(elements) {
            if let Some(t) = item["text"]
                .as_str()
                .or_else(|| item["text"]["text"].as_str())
            {
                let link = item["url"]
                    .as_str()
                    .map(|u| format!(" <{u}>"))
                    .unwrap_or_default();
                lines.push(format!("{}{link}", t.replace('\n', " ")));
            }
        }
    }
    lines.join("\n")
}

/// The application on one machine.
pub struct Local<'a, S> {
    pub store: &'a S,
    pub ingest: IngestConfig,
    pub sweep: SweepConfig,
    pub routes: Routes,
    pub channels: Vec<RouteChannels>,
    pub nurture: MemoryQueue,
    pub lease: chrono::Duration,
    /// For the notices' links to HubSpot contact records.
    pub hubspot: Option<HubSpotPortal>,
}

/// What one webhook request did.
pub struct Ingested {
    pub response: Response,
    /// The moves into MQL it made, and what the notifier did with each.
    pub notified: Vec<(String, Transition, Vec<RouteResult>)>,
}

/// What one night's sweep did.
#[derive(Debug, Default)]
pub struct Night {
    pub leads: usize,
    pub to_nurture: usize,
    pub recycled: usize,
    /// The hand-off messages sent to the nurture program (JSON bodies).
    pub handoffs: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Moved {
    lead: String,
    #[serde(flatten)]
    transition: Transition,
}

impl<'a, S: LeadStore + SentLog + DueIndex> Local<'a, S> {
    /// Builds the channels for `notices`: the given Slack webhook for every route, or the
    /// print channel. Routing stays as configured (one default route when none is).
    pub fn new(
        store: &'a S,
        model: Model,
        ingest: IngestConfig,
        routes: Routes,
        notices: &Notices,
    ) -> Result<Local<'a, S>, CliError> {
        let slack = |url: &str| -> Result<Box<dyn Channel>, CliError> {
            Ok(Box::new(
                SlackWebhook::new(url, Duration::from_secs(10))
                    .map_err(|e| CliError::Usage(format!("a Slack webhook URL: {e}")))?,
            ))
        };
        let mut channels = Vec::new();
        for route in routes.routes() {
            let list: Vec<Box<dyn Channel>> = match notices {
                Notices::Print(printed) => vec![Box::new(PrintChannel(printed.clone()))],
                Notices::Slack(url) => vec![slack(url)?],
                Notices::Routes(printed) => {
                    let mut list = Vec::new();
                    for url in &route.slack {
                        list.push(slack(url)?);
                    }
                    if !route.email.is_empty() {
                        list.push(Box::new(PrintChannel(printed.clone())));
                    }
                    list
                }
            };
            channels.push((route.name.clone(), list));
        }
        Ok(Local {
            store,
            sweep: SweepConfig {
                model,
                page_size: 100,
            },
            ingest,
            routes,
            channels,
            nurture: MemoryQueue::new(),
            lease: chrono::Duration::seconds(300),
            hubspot: None,
        })
    }

    pub fn model(&self) -> &Model {
        &self.sweep.model
    }

    /// One webhook request, then the notices for the moves into MQL it made.
    pub async fn ingest(&self, req: &Request, now: DateTime<Utc>) -> Result<Ingested, CliError> {
        let response = leadscore_app::ingest::handle(&self.ingest, self.store, req, now).await;
        let mut notified = Vec::new();
        if response.status == 200 {
            let moved: Vec<Moved> = response
                .body
                .get("transitions")
                .cloned()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| CliError::Store(format!("unexpected ingest summary: {e}")))?
                .unwrap_or_default();
            for m in moved.into_iter().filter(|m| m.transition.to == Stage::Mql) {
                // The events are stored: a notifier failure must not fail the request (its
                // redelivery would be a duplicate, with no MQL move left to notify).
                let results = match self.notify(&m.lead, &m.transition, now).await {
                    Ok(results) => results,
                    Err(e) => {
                        eprintln!("notice for {}: {e}", m.lead);
                        Vec::new()
                    }
                };
                notified.push((m.lead, m.transition, results));
            }
        }
        Ok(Ingested { response, notified })
    }

    /// Notifies a move into MQL the way the notify Lambda does for a stream record: the lead
    /// as stored, each route it matches, once per transition and route.
    pub async fn notify(
        &self,
        lead: &str,
        transition: &Transition,
        now: DateTime<Utc>,
    ) -> Result<Vec<RouteResult>, CliError> {
        let store_err = |e: leadscore_store::StoreError| CliError::Store(e.to_string());
        let Some(stored) = self.store.load(lead).await.map_err(store_err)? else {
            return Ok(Vec::new());
        };
        // Only while it is still the lead's current MQL (a later event in the same request
        // may have moved it on).
        if stored.state.stage != Stage::Mql {
            return Ok(Vec::new());
        }
        let routes = channels_for(&self.routes, &self.channels, &stored.state);
        let outcome = notify_lead(
            self.store,
            routes,
            self.model(),
            &stored.state,
            transition,
            self.hubspot.as_ref(),
            now,
            self.lease,
        )
        .await
        .map_err(|e| CliError::Store(format!("notifier: {e}")))?;
        // No stream retries here: a notice that failed in a retryable way is listed as
        // failed, so a re-drive (`POST /admin/redrive`) sends it.
        for r in &outcome.routes {
            if let RouteResult::Retryable(error) = &r.result {
                let key = NoticeKey {
                    lead: stored.state.lead_id.clone(),
                    transition_at: transition.at,
                    route: r.route.clone(),
                };
                self.store
                    .mark_failed(&key, error, now)
                    .await
                    .map_err(store_err)?;
            }
        }
        Ok(outcome.routes.into_iter().map(|r| r.result).collect())
    }

    /// Sends again the notices listed as failed; one line per notice says what happened.
    pub async fn redrive(&self, now: DateTime<Utc>) -> Result<Vec<String>, CliError> {
        let reports = leadscore_app::notify::redrive(
            self.store,
            |route| channels_of(&self.channels, route),
            self.model(),
            self.hubspot.as_ref(),
            now,
            self.lease,
            usize::MAX,
        )
        .await
        .map_err(|e| CliError::Store(format!("re-drive: {e}")))?;
        Ok(reports
            .into_iter()
            .map(|r| {
                format!(
                    "{} {} {}: {:?}",
                    r.key.lead, r.key.transition_at, r.key.route, r.result
                )
            })
            .collect())
    }

    /// The nightly sweep through `through` (every shard), at `now`.
    pub async fn sweep(&self, through: NaiveDate, now: DateTime<Utc>) -> Result<Night, CliError> {
        let mut night = Night::default();
        for job in ShardJob::plan(through) {
            let report = sweep_shard(&self.sweep, self.store, &self.nurture, job, now, || false)
                .await
                .map_err(|e| CliError::Store(format!("sweep: {e}")))?;
            night.leads += report.leads;
            night.to_nurture += report.to_nurture;
            night.recycled += report.recycled;
        }
        night.handoffs = (self.nurture.drain().into_iter())
            .filter_map(|m| serde_json::from_str(&m.body).ok())
            .collect();
        Ok(night)
    }
}
