//! The MQL notifier's handler: which routes a new MQL goes to, and sending it to each route
//! exactly once per MQL transition.
//!
//! - [`Routes`]: the routing, configured in a TOML file (see `docs/notifier.md`) plus a
//!   default route from the environment.
//! - [`mql_entry`]: whether a changed lead record is an entry into MQL, and which transition.
//! - [`notify_lead`]: claims each (lead, transition, route) in the notification log, builds
//!   the notice, sends it on the route's channels and records the result.

use chrono::{DateTime, Duration, Utc};
use leadscore_domain::{AttrValue, LeadState, Model, Stage, Transition};
use leadscore_notify::{
    build_notice, Channel, CrmLinks, HubSpotPortal, MqlNotice, NoticeError, NoticeInput,
};
use leadscore_store::{Claim, LeadStore, NoticeKey, SentLog, StoreError};
use serde::Deserialize;
use std::collections::BTreeSet;

/// The name of the default route built from `LEADSCORE_SLACK_WEBHOOK_URL` and
/// `LEADSCORE_NOTIFY_EMAILS`.
pub const ENV_ROUTE: &str = "default";

/// One route: where notices of the leads it matches go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub name: String,
    /// The lead has points in one of these products.
    pub products: Vec<String>,
    /// The lead's `country` attribute is one of these (case-insensitive).
    pub countries: Vec<String>,
    /// The lead's `owner` attribute is one of these.
    pub owners: Vec<String>,
    /// Slack incoming-webhook URLs.
    pub slack: Vec<String>,
    /// Email recipients.
    pub email: Vec<String>,
}

impl Route {
    /// A route without matchers takes the leads no other route matches.
    pub fn is_default(&self) -> bool {
        self.products.is_empty() && self.countries.is_empty() && self.owners.is_empty()
    }

    /// Every matcher the route has must match (each one matches on any of its values).
    pub fn matches(&self, state: &LeadState) -> bool {
        if self.is_default() {
            return false;
        }
        let products = self.products.is_empty()
            || self.products.iter().any(|p| {
                state
                    .scores
                    .products
                    .get(p.as_str())
                    .is_some_and(|points| points.0 > 0)
            });
        let countries = self.countries.is_empty()
            || attribute_text(state, "country").is_some_and(|country| {
                let country = country.to_lowercase();
                self.countries.iter().any(|c| c.to_lowercase() == country)
            });
        let owners = self.owners.is_empty()
            || attribute_text(state, "owner").is_some_and(|owner| self.owners.contains(&owner));
        products && countries && owners
    }
}

/// An attribute as trimmed text; whole numbers (HubSpot owner ids) print without a fraction.
fn attribute_text(state: &LeadState, name: &str) -> Option<String> {
    match state.attributes.get(name)? {
        AttrValue::Text(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        AttrValue::Number(n) if n.fract() == 0.0 && n.is_finite() => Some(format!("{n:.0}")),
        AttrValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The routing: specific routes, and default routes for leads no specific route matches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Routes {
    routes: Vec<Route>,
}

/// A routing file or default route that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RouteError {
    #[error("routes file: {0}")]
    Toml(String),
    #[error("route #{index}: `name` is missing or empty")]
    NoName { index: usize },
    #[error("route `{0}` is defined more than once")]
    Duplicate(String),
    #[error("route `{route}`: `{field}`: {message}")]
    Field {
        route: String,
        field: &'static str,
        message: String,
    },
    #[error("route `{0}`: no channel: give `slack` and/or `email`")]
    NoChannel(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    route: Vec<RawRoute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(default)]
    name: String,
    #[serde(default)]
    products: Vec<String>,
    #[serde(default)]
    countries: Vec<String>,
    #[serde(default)]
    owners: Vec<String>,
    #[serde(default)]
    slack: Vec<String>,
    #[serde(default)]
    email: Vec<String>,
}

impl Routes {
    /// Parses the routing file (`None`: no file) and adds the default route `default` from
    /// `LEADSCORE_SLACK_WEBHOOK_URL` and `LEADSCORE_NOTIFY_EMAILS` (comma-separated), when
    /// either is set and not blank.
    pub fn parse(
        toml_text: Option<&str>,
        default_slack: Option<&str>,
        default_emails: Option<&str>,
    ) -> Result<Routes, RouteError> {
        let raw = match toml_text {
            Some(text) => toml::from_str::<RawFile>(text).map_err(|e| toml_error(text, &e))?,
            None => RawFile { route: Vec::new() },
        };
        let mut routes = Vec::with_capacity(raw.route.len() + 1);
        for (i, r) in raw.route.into_iter().enumerate() {
            let name = r.name.trim().to_owned();
            if name.is_empty() {
                return Err(RouteError::NoName { index: i + 1 });
            }
            routes.push(Route {
                products: clean(&name, "products", r.products)?,
                countries: clean(&name, "countries", r.countries)?,
                owners: clean(&name, "owners", r.owners)?,
                slack: clean(&name, "slack", r.slack)?,
                email: clean(&name, "email", r.email)?,
                name,
            });
        }
        let env_slack: Vec<String> = default_slack
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .into_iter()
            .collect();
        let env_email: Vec<String> = default_emails
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if !env_slack.is_empty() || !env_email.is_empty() {
            routes.push(Route {
                name: ENV_ROUTE.to_owned(),
                products: Vec::new(),
                countries: Vec::new(),
                owners: Vec::new(),
                slack: env_slack,
                email: env_email,
            });
        }
        let mut names = BTreeSet::new();
        for r in &routes {
            if !names.insert(r.name.as_str()) {
                return Err(RouteError::Duplicate(r.name.clone()));
            }
            check_route(r)?;
        }
        Ok(Routes { routes })
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The `slack` values that name where a webhook URL is kept (see [`is_secret_ref`]),
    /// each once.
    pub fn secret_refs(&self) -> BTreeSet<&str> {
        (self.routes.iter())
            .flat_map(|r| r.slack.iter())
            .map(String::as_str)
            .filter(|v| is_secret_ref(v))
            .collect()
    }

    /// Replaces each secret reference by its value from `resolved` and checks the URLs. A
    /// reference `resolved` has no value for is an error naming the route and reference.
    pub fn with_secrets(
        mut self,
        resolved: impl Fn(&str) -> Option<String>,
    ) -> Result<Routes, RouteError> {
        for r in &mut self.routes {
            for url in &mut r.slack {
                if is_secret_ref(url) {
                    *url = resolved(url).ok_or_else(|| RouteError::Field {
                        route: r.name.clone(),
                        field: "slack",
                        message: format!("{url:?} has no value"),
                    })?;
                }
            }
            check_route(r)?;
        }
        Ok(self)
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The routes a lead's notice goes to: every specific route it matches, else every
    /// default route.
    pub fn for_lead(&self, state: &LeadState) -> Vec<&Route> {
        let specific: Vec<&Route> = self.routes.iter().filter(|r| r.matches(state)).collect();
        if specific.is_empty() {
            self.routes.iter().filter(|r| r.is_default()).collect()
        } else {
            specific
        }
    }
}

/// A TOML error as `line N: message`, without the source line toml quotes and with any URL
/// in the message redacted: the file holds webhook URLs, which are secrets.
fn toml_error(text: &str, e: &toml::de::Error) -> RouteError {
    let mut message = String::new();
    let mut rest = e.message();
    while let Some(i) = rest.find("http://").or_else(|| rest.find("https://")) {
        message.push_str(&rest[..i]);
        message.push_str("<URL>");
        let end = rest[i..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '`')
            .map_or(rest.len(), |n| i + n);
        rest = &rest[end..];
    }
    message.push_str(rest);
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            RouteError::Toml(format!("line {line}: {message}"))
        }
        None => RouteError::Toml(message),
    }
}

/// Trims every value; an empty value is an error.
fn clean(route: &str, field: &'static str, values: Vec<String>) -> Result<Vec<String>, RouteError> {
    values
        .into_iter()
        .map(|v| {
            let v = v.trim().to_owned();
            if v.is_empty() {
                Err(RouteError::Field {
                    route: route.to_owned(),
                    field,
                    message: "an empty value".to_owned(),
                })
            } else {
                Ok(v)
            }
        })
        .collect()
}

/// A routing file's `slack` value may name where the webhook URL is kept instead of holding
/// it: `env:<VARIABLE>`, `ssm:<parameter name>`, `secretsmanager:<secret name>` or an SSM or
/// Secrets Manager ARN. The Lambda reads them once at cold start.
pub fn is_secret_ref(value: &str) -> bool {
    ["env:", "ssm:", "secretsmanager:", "arn:"]
        .iter()
        .any(|p| value.starts_with(p))
}

fn check_route(r: &Route) -> Result<(), RouteError> {
    if r.slack.is_empty() && r.email.is_empty() {
        return Err(RouteError::NoChannel(r.name.clone()));
    }
    let field = |field: &'static str, message: String| RouteError::Field {
        route: r.name.clone(),
        field,
        message,
    };
    for url in r.slack.iter().filter(|u| !is_secret_ref(u)) {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let host = rest.and_then(|rest| rest.split('/').next());
        if host.is_none_or(str::is_empty) || url.contains(char::is_whitespace) {
            // The URL is a secret: never echo it.
            return Err(field(
                "slack",
                "not an http(s) webhook URL with a host".to_owned(),
            ));
        }
    }
    for address in &r.email {
        let valid = address
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !address.contains(char::is_whitespace);
        if !valid {
            return Err(field(
                "email",
                format!("{address:?} is not an email address"),
            ));
        }
    }
    Ok(())
}

/// A route's name and the channels it sends on, built once from the configuration.
pub type RouteChannels = (String, Vec<Box<dyn Channel>>);

/// The channels of the routes `routes` sends `state`'s notice to, in configuration order.
/// A `Vec`, not an iterator: a filtering closure held across an await makes callers' futures
/// fail the `Send` check an HTTP server needs.
pub fn channels_for<'c>(
    routes: &Routes,
    channels: &'c [RouteChannels],
    state: &LeadState,
) -> Vec<&'c RouteChannels> {
    let wanted: Vec<&str> = (routes.for_lead(state).iter())
        .map(|r| r.name.as_str())
        .collect();
    (channels.iter())
        .filter(|(name, _)| wanted.contains(&name.as_str()))
        .collect()
}

/// The channels of the route named `route`, for a re-drive.
pub fn channels_of<'c>(
    channels: &'c [RouteChannels],
    route: &str,
) -> Option<&'c [Box<dyn Channel>]> {
    (channels.iter())
        .find(|(name, _)| name == route)
        .map(|(_, c)| c.as_slice())
}

/// What became of one route's notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteResult {
    /// Sent on every channel of the route by this call.
    Sent,
    /// Sent before: nothing to do.
    AlreadySent,
    /// Another invocation holds the claim; retry later to make sure it went out.
    InFlight,
    /// It failed for good before; only a re-drive sends it again.
    FailedBefore,
    /// A channel failed in a way worth retrying; the claim was released.
    Retryable(String),
    /// A channel failed for good; recorded in the notification log for re-driving.
    Permanent(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteReport {
    pub route: String,
    pub result: RouteResult,
}

/// What [`notify_lead`] did for each route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub routes: Vec<RouteReport>,
}

impl Outcome {
    /// Routes sent by this call.
    pub fn sent(&self) -> usize {
        self.routes
            .iter()
            .filter(|r| r.result == RouteResult::Sent)
            .count()
    }

    /// The record should be delivered again: a retryable failure, or a claim held by another
    /// invocation (if that one dies, the redelivery takes over after the lease).
    pub fn should_retry(&self) -> bool {
        self.routes
            .iter()
            .any(|r| matches!(r.result, RouteResult::Retryable(_) | RouteResult::InFlight))
    }

    /// Some route failed for good (listed by [`SentLog::failed`]).
    pub fn has_permanent(&self) -> bool {
        self.routes
            .iter()
            .any(|r| matches!(r.result, RouteResult::Permanent(_)))
    }

    /// The stream record must be reported as a batch item failure: a retry is due, or a
    /// route failed for good (now or on an earlier delivery), so that after the bounded
    /// retries the record reaches the dead-letter queue instead of passing silently.
    pub fn record_failed(&self) -> bool {
        self.routes
            .iter()
            .any(|r| !matches!(r.result, RouteResult::Sent | RouteResult::AlreadySent))
    }
}

/// The notifier could not do its work: retry the record.
#[derive(Debug, thiserror::Error)]
pub enum NotifyFailure {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("notice: {0}")]
    Notice(#[from] NoticeError),
}

/// Sends the notice of `transition` (a move into MQL) to every route in `routes`, each as
/// the route's name and its channels, at most once per (lead, transition, route):
/// claim, send on every channel, then mark sent; a retryable failure releases the claim, a
/// permanent one marks it failed with the error text. A permanent failure of any channel of
/// a route wins over a retryable one of another.
#[allow(clippy::too_many_arguments)]
pub async fn notify_lead<'r, S: LeadStore + SentLog>(
    store: &S,
    routes: impl IntoIterator<Item = &'r (String, Vec<Box<dyn Channel>>)>,
    model: &Model,
    state: &LeadState,
    transition: &Transition,
    hubspot_portal: Option<&HubSpotPortal>,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Outcome, NotifyFailure> {
    if transition.to != Stage::Mql {
        return Err(NoticeError::NotAnMql(transition.to).into());
    }
    let crm = CrmLinks {
        hubspot: hubspot_portal.cloned(),
    };
    let mut notice: Option<MqlNotice> = None;
    let mut outcome = Outcome::default();
    for (route, channels) in routes {
        let key = NoticeKey {
            lead: state.lead_id.clone(),
            transition_at: transition.at,
            route: route.clone(),
        };
        let claim = store.claim(&key, now, lease, false).await?;
        let result = match claim {
            Claim::Sent => RouteResult::AlreadySent,
            Claim::InFlight => RouteResult::InFlight,
            Claim::Failed => RouteResult::FailedBefore,
            Claim::Claimed => {
                let built = match &notice {
                    Some(n) => n,
                    None => {
                        let built = build(store, model, state, transition, &crm).await;
                        match built {
                            Ok(n) => notice.insert(n),
                            Err(e) => {
                                // Give the claim back so the retry can take it at once.
                                store.release(&key).await?;
                                return Err(e);
                            }
                        }
                    }
                };
                send_route(store, &key, channels, built, now, RetryBy::Stream).await?
            }
        };
        tracing::info!(lead = %key.lead, route = %route, result = ?result, "mql notice");
        outcome.routes.push(RouteReport {
            route: route.clone(),
            result,
        });
    }
    Ok(outcome)
}

/// What a re-drive did with one failed notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedriveResult {
    /// Sent on every channel of its route, and marked sent.
    Sent,
    /// Failed again (permanent: listed again; retryable: still listed, try later).
    Failed(String),
    /// Not sent, and left in the list: the reason says why (route or lead gone, claimed
    /// by another invocation).
    Skipped(String),
}

/// One failed notification and what the re-drive did with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedriveReport {
    pub key: NoticeKey,
    pub result: RedriveResult,
}

/// Sends again every notification [`SentLog::failed`] lists (oldest first, at most `limit`),
/// to the route of the same name in today's routing, built from the lead as it is now. Each
/// is claimed with `redrive` first, so a re-drive racing the stream still sends once.
#[allow(clippy::too_many_arguments)]
pub async fn redrive<'r, S: LeadStore + SentLog>(
    store: &S,
    channels_of: impl Fn(&str) -> Option<&'r [Box<dyn Channel>]>,
    model: &Model,
    hubspot_portal: Option<&HubSpotPortal>,
    now: DateTime<Utc>,
    lease: Duration,
    limit: usize,
) -> Result<Vec<RedriveReport>, NotifyFailure> {
    let crm = CrmLinks {
        hubspot: hubspot_portal.cloned(),
    };
    let mut reports = Vec::new();
    for failed in store.failed().await?.into_iter().take(limit) {
        let key = failed.key;
        let skip = |why: &str| RedriveResult::Skipped(why.to_owned());
        let result = match (channels_of(&key.route), store.load(&key.lead).await?) {
            (None, _) => skip("no route of this name is configured now"),
            (_, None) => skip("the lead no longer exists (erased or merged)"),
            (Some(channels), Some(stored)) => {
                let transition = stored
                    .state
                    .transitions
                    .iter()
                    .find(|t| t.to == Stage::Mql && t.at == key.transition_at)
                    .cloned();
                match transition {
                    None => skip("the lead has no such MQL transition"),
                    Some(t) => match store.claim(&key, now, lease, true).await? {
                        Claim::Claimed => {
                            let notice = match build(store, model, &stored.state, &t, &crm).await {
                                Ok(n) => n,
                                Err(e) => {
                                    store.release(&key).await?;
                                    return Err(e);
                                }
                            };
                            let sent =
                                send_route(store, &key, channels, &notice, now, RetryBy::Redrive);
                            match sent.await? {
                                RouteResult::Sent => RedriveResult::Sent,
                                RouteResult::Retryable(e) | RouteResult::Permanent(e) => {
                                    RedriveResult::Failed(e)
                                }
                                other => RedriveResult::Failed(format!("{other:?}")),
                            }
                        }
                        Claim::Sent => skip("sent since it was listed"),
                        Claim::InFlight => skip("another invocation is sending it now"),
                        Claim::Failed => skip("it could not be claimed"),
                    },
                }
            }
        };
        tracing::info!(lead = %key.lead, route = %key.route, result = ?result, "re-drive");
        reports.push(RedriveReport { key, result });
    }
    Ok(reports)
}

async fn build<S: LeadStore>(
    store: &S,
    model: &Model,
    state: &LeadState,
    transition: &Transition,
    crm: &CrmLinks,
) -> Result<MqlNotice, NotifyFailure> {
    let entries = store.ledger(&state.lead_id).await?;
    // A lead first seen by email still links to its CRM record through its aliases.
    let aliases: Vec<String> = (store.aliases(&state.lead_id).await?)
        .into_iter()
        .map(|a| a.0)
        .collect();
    Ok(build_notice(&NoticeInput {
        model,
        state,
        entries: &entries,
        transition,
        aliases: &aliases,
        crm,
    })?)
}

/// Who sends a notice again after a retryable failure.
#[derive(Clone, Copy)]
enum RetryBy {
    /// The stream redelivers the record: give the claim back.
    Stream,
    /// Only a later re-drive: keep it listed as failed.
    Redrive,
}

async fn send_route<S: SentLog>(
    store: &S,
    key: &NoticeKey,
    channels: &[Box<dyn Channel>],
    notice: &MqlNotice,
    now: DateTime<Utc>,
    retry_by: RetryBy,
) -> Result<RouteResult, StoreError> {
    let mut permanent = Vec::new();
    let mut retryable = Vec::new();
    for channel in channels {
        match channel.send(notice).await {
            Ok(_) => {}
            Err(e) if e.is_permanent() => permanent.push(e.to_string()),
            Err(e) => retryable.push(e.to_string()),
        }
    }
    if !permanent.is_empty() {
        let error = permanent
            .into_iter()
            .chain(retryable)
            .collect::<Vec<_>>()
            .join("; ");
        store.mark_failed(key, &error, now).await?;
        Ok(RouteResult::Permanent(error))
    } else if !retryable.is_empty() {
        let error = retryable.join("; ");
        match retry_by {
            RetryBy::Stream => store.release(key).await?,
            RetryBy::Redrive => store.mark_failed(key, &error, now).await?,
        }
        Ok(RouteResult::Retryable(error))
    } else {
        store.mark_sent(key).await?;
        Ok(RouteResult::Sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[[route]]
name = "emea"
countries = ["Portugal", "spain"]
slack = ["https://hooks.slack.com/services/T/B/x"]

[[route]]
name = "analytics"
products = ["analytics"]
email = ["analytics-sales@acme.io", "lead@acme.io"]

[[route]]
name = "ana"
owners = ["1234"]
email = ["ana@acme.io"]

[[route]]
name = "fallback"
email = ["sales@acme.io"]
"#;

    fn lead(country: Option<&str>, owner: Option<AttrValue>, analytics: i64) -> LeadState {
        let mut s = LeadState::new("hubspot:1");
        if let Some(c) = country {
            s.attributes
                .insert("country".into(), AttrValue::Text(c.into()));
        }
        if let Some(o) = owner {
            s.attributes.insert("owner".into(), o);
        }
        s.scores
            .products
            .insert("analytics".into(), leadscore_domain::Points(analytics));
        s
    }

    fn names(routes: &Routes, state: &LeadState) -> Vec<String> {
        routes
            .for_lead(state)
            .iter()
            .map(|r| r.name.clone())
            .collect()
    }

    #[test]
    fn routes_match_on_products_countries_and_owners() {
        let routes = Routes::parse(Some(FILE), None, None).unwrap();
        assert_eq!(routes.routes().len(), 4);
        assert_eq!(names(&routes, &lead(Some(" PORTUGAL "), None, 0)), ["emea"]);
        assert_eq!(names(&routes, &lead(None, None, 5)), ["analytics"]);
        assert_eq!(
            names(
                &routes,
                &lead(Some("Spain"), Some(AttrValue::Number(1234.0)), 5)
            ),
            ["emea", "analytics", "ana"]
        );
        assert_eq!(
            names(
                &routes,
                &lead(None, Some(AttrValue::Text("1234".into())), 0)
            ),
            ["ana"]
        );
        // No points in the product, another country, another owner: the default.
        assert_eq!(
            names(
                &routes,
                &lead(Some("France"), Some(AttrValue::Text("9".into())), 0)
            ),
            ["fallback"]
        );
    }

    #[test]
    fn every_matcher_of_a_route_must_match() {
        let file = r#"
[[route]]
name = "pt-analytics"
products = ["analytics"]
countries = ["pt"]
slack = ["https://hooks.slack.com/services/T/B/y"]
"#;
        let routes = Routes::parse(Some(file), None, Some("a@acme.io")).unwrap();
        assert_eq!(names(&routes, &lead(Some("PT"), None, 1)), ["pt-analytics"]);
        assert_eq!(names(&routes, &lead(Some("PT"), None, 0)), [ENV_ROUTE]);
        assert_eq!(names(&routes, &lead(Some("ES"), None, 1)), [ENV_ROUTE]);
    }

    #[test]
    fn slack_urls_may_be_secret_references_resolved_later() {
        let file = r#"
[[route]]
name = "emea"
countries = ["Spain"]
slack = ["ssm:/leadscore/slack/emea", "https://hooks.slack.com/services/T/B/inline"]

[[route]]
name = "rest"
slack = ["env:REST_URL", "secretsmanager:leadscore/slack"]
"#;
        let routes = Routes::parse(Some(file), None, None).unwrap();
        assert_eq!(
            routes.secret_refs().into_iter().collect::<Vec<_>>(),
            [
                "env:REST_URL",
                "secretsmanager:leadscore/slack",
                "ssm:/leadscore/slack/emea"
            ]
        );
        let values = |r: &str| match r {
            "env:REST_URL" => Some("https://hooks.slack.com/services/T/B/rest".to_owned()),
            "secretsmanager:leadscore/slack" => Some("http://127.0.0.1:9/slack".to_owned()),
            "ssm:/leadscore/slack/emea" => {
                Some("https://hooks.slack.com/services/T/B/emea".to_owned())
            }
            _ => None,
        };
        let resolved = routes.clone().with_secrets(values).unwrap();
        assert!(resolved.secret_refs().is_empty());
        assert_eq!(
            resolved.routes()[0].slack,
            [
                "https://hooks.slack.com/services/T/B/emea",
                "https://hooks.slack.com/services/T/B/inline"
            ]
        );
        // A reference without a value, or a value that is no URL, names the route.
        let missing = routes.clone().with_secrets(|_| None).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "route `emea`: `slack`: \"ssm:/leadscore/slack/emea\" has no value"
        );
        let bad = routes
            .with_secrets(|_| Some("not a url".to_owned()))
            .unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("route `emea`: `slack`: not an http(s)"),
            "{bad}"
        );
    }

    #[test]
    fn the_environment_gives_a_default_route() {
        let routes = Routes::parse(
            None,
            Some(" https://hooks.slack.com/services/T/B/z "),
            Some("a@acme.io, b@acme.io,,"),
        )
        .unwrap();
        assert_eq!(
            routes.routes(),
            [Route {
                name: ENV_ROUTE.into(),
                products: vec![],
                countries: vec![],
                owners: vec![],
                slack: vec!["https://hooks.slack.com/services/T/B/z".into()],
                email: vec!["a@acme.io".into(), "b@acme.io".into()],
            }]
        );
        assert!(Routes::parse(None, Some("  "), Some(""))
            .unwrap()
            .is_empty());
        // Both a default in the file and from the environment: both get the lead.
        let routes = Routes::parse(Some(FILE), None, Some("x@acme.io")).unwrap();
        assert_eq!(
            names(&routes, &lead(None, None, 0)),
            ["fallback", ENV_ROUTE]
        );
    }

    #[test]
    fn errors_name_the_route_and_the_field() {
        let err = |text: &str| Routes::parse(Some(text), None, None).unwrap_err();
        assert_eq!(
            err("[[route]]\nname = \"x\"\nslack = [\"ftp://h/x\"]\n").to_string(),
            "route `x`: `slack`: not an http(s) webhook URL with a host"
        );
        assert_eq!(
            err("[[route]]\nname = \"y\"\nemail = [\"nobody\"]\n"),
            RouteError::Field {
                route: "y".into(),
                field: "email",
                message: "\"nobody\" is not an email address".into()
            }
        );
        assert_eq!(
            err("[[route]]\nname = \"z\"\ncountries = [\" \"]\nemail = [\"a@b.io\"]\n"),
            RouteError::Field {
                route: "z".into(),
                field: "countries",
                message: "an empty value".into()
            }
        );
        assert_eq!(
            err("[[route]]\nname = \"w\"\ncountries = [\"pt\"]\n"),
            RouteError::NoChannel("w".into())
        );
        assert_eq!(
            err("[[route]]\nemail = [\"a@b.io\"]\n"),
            RouteError::NoName { index: 1 }
        );
        let twice = "[[route]]\nname = \"d\"\nemail = [\"a@b.io\"]\n[[route]]\nname = \"d\"\nemail = [\"a@b.io\"]\n";
        assert_eq!(err(twice), RouteError::Duplicate("d".into()));
        let unknown = err("[[route]]\nname = \"u\"\ncountry = [\"pt\"]\n").to_string();
        assert!(unknown.contains("country"), "{unknown}");
        // The environment's route clashes with a file route called `default`.
        let clash = Routes::parse(
            Some("[[route]]\nname = \"default\"\nemail = [\"a@b.io\"]\n"),
            None,
            Some("c@d.io"),
        )
        .unwrap_err();
        assert_eq!(clash, RouteError::Duplicate(ENV_ROUTE.into()));
    }
}
