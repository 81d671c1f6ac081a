//! Ingest one webhook request: route, check, verify, parse, then for each lead: resolve its
//! aliases, load, apply the engine, and save with one conditional write (retried with
//! jittered backoff on conflict). A redelivered batch finds its event ids already applied and
//! writes nothing.

use crate::config::IngestConfig;
use crate::error::IngestError;
use crate::http::{Request, Response};
use chrono::{DateTime, Utc};
use leadscore_domain::{apply, Event, EventKind, LeadState, Transition};
use leadscore_sources::signature::{
    verify_hmac_sha256, verify_hubspot, verify_sendgrid_with_key, verify_token,
    LEADSCORE_SIGNATURE, LEADSCORE_TOKEN,
};
use leadscore_sources::{hubspot, marketo, sendgrid, Ignored, Inbound, LeadRef, Parsed};
use leadscore_store::{Alias, LeadStore, StoreError};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The webhook routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    HubSpot,
    Marketo,
    SendGrid,
    Events,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::HubSpot,
        Source::Marketo,
        Source::SendGrid,
        Source::Events,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Source::HubSpot => "/webhooks/hubspot",
            Source::Marketo => "/webhooks/marketo",
            Source::SendGrid => "/webhooks/sendgrid",
            Source::Events => "/webhooks/events",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Source::HubSpot => "hubspot",
            Source::Marketo => "marketo",
            Source::SendGrid => "sendgrid",
            Source::Events => "events",
        }
    }

    /// Matched on the end of the path, so API Gateway stage or base-path prefixes do not matter.
    pub fn route(path: &str) -> Option<Source> {
        let path = path.trim_end_matches('/');
        Source::ALL.into_iter().find(|s| path.ends_with(s.path()))
    }
}

/// How many times a lead's write is attempted when other writers keep winning. Each round
/// lets at least one writer through, so this covers 64 simultaneous deliveries for one lead
/// (HubSpot sends at most 10 at once); the jittered backoff keeps the total to seconds.
pub(crate) const MAX_ATTEMPTS: u32 = 64;

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub accepted: usize,
    pub duplicates: usize,
    pub ignored: Vec<Ignored>,
    /// Distinct leads the batch's events were applied to.
    pub leads: usize,
    pub erased: usize,
    /// Leads folded into another by a CRM merge.
    pub merged: usize,
    pub transitions: Vec<LeadTransition>,
    /// The leads counted in `leads` (a lead whose events an erase or merge split is one).
    #[serde(skip)]
    touched: BTreeSet<String>,
}

#[derive(Debug, Serialize)]
pub struct LeadTransition {
    pub lead: String,
    #[serde(flatten)]
    pub transition: Transition,
}

/// Handles one request; every outcome is a response (errors included).
pub async fn handle<S: LeadStore>(
    cfg: &IngestConfig,
    store: &S,
    req: &Request,
    now: DateTime<Utc>,
) -> Response {
    match ingest(cfg, store, req, now).await {
        Ok(summary) => Response::json(200, json!(summary)),
        Err(e) => e.to_response(),
    }
}

fn media_type(req: &Request) -> String {
    let ct = req.header("content-type").unwrap_or("");
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn check_request(cfg: &IngestConfig, req: &Request) -> Result<Source, IngestError> {
    let source = Source::route(&req.path).ok_or_else(|| IngestError::NotFound(req.path.clone()))?;
    if !req.method.eq_ignore_ascii_case("POST") {
        return Err(IngestError::MethodNotAllowed(req.method.clone()));
    }
    if req.body.len() > cfg.max_body_bytes {
        return Err(IngestError::PayloadTooLarge {
            size: req.body.len(),
            limit: cfg.max_body_bytes,
        });
    }
    let mt = media_type(req);
    let json = mt == "application/json" || mt.ends_with("+json");
    let ok = match source {
        // Marketo's two token encodings, JSON and Form/Url; not text/plain (see marketo's doc).
        Source::Marketo => json || mt == "application/x-www-form-urlencoded",
        _ => json,
    };
    if !ok {
        let expected = match source {
            Source::Marketo => "application/json or application/x-www-form-urlencoded",
            _ => "application/json",
        };
        return Err(IngestError::UnsupportedMediaType { got: mt, expected });
    }
    Ok(source)
}

fn verify(
    cfg: &IngestConfig,
    source: Source,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<(), IngestError> {
    let not_configured = || IngestError::NotConfigured {
        source_name: source.name(),
    };
    match source {
        Source::HubSpot => {
            let (Some(secret), Some(base)) = (&cfg.hubspot_secret, &cfg.public_base_url) else {
                return Err(not_configured());
            };
            // The URL HubSpot called, rebuilt from the public base (API Gateway's own path may differ).
            let mut uri = format!("{base}{}", source.path());
            if !req.query.is_empty() {
                uri = format!("{uri}?{}", req.query);
            }
            verify_hubspot(
                req,
                &req.method,
                &uri,
                &req.body,
                secret,
                cfg.hubspot_accept_v1_v2,
                now,
            )?;
        }
        Source::SendGrid => {
            let key = cfg.sendgrid_key.as_ref().ok_or_else(not_configured)?;
            verify_sendgrid_with_key(req, &req.body, key, now, cfg.sendgrid_max_age)?;
        }
        Source::Marketo => {
            let token = cfg.marketo_token.as_deref().ok_or_else(not_configured)?;
            verify_token(req.header(LEADSCORE_TOKEN), token)?;
        }
        Source::Events => {
            let secret = cfg.events_secret.as_deref().ok_or_else(not_configured)?;
            verify_hmac_sha256(req.header(LEADSCORE_SIGNATURE), &req.body, secret)?;
        }
    }
    Ok(())
}

fn parse(
    cfg: &IngestConfig,
    source: Source,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Parsed, IngestError> {
    Ok(match source {
        // A workflow webhook without `lastmodifieddate` happened when it arrived.
        Source::HubSpot => hubspot::parse(&req.body, now)?,
        // Times without an offset ({{system.dateTime}}) are the instance's wall clock.
        Source::Marketo => marketo::parse_in(&req.body, &media_type(req), cfg.marketo_time_zone)?,
        Source::SendGrid => sendgrid::parse(&req.body)?,
        Source::Events => leadscore_sources::events::parse(&req.body)?,
    })
}

async fn ingest<S: LeadStore>(
    cfg: &IngestConfig,
    store: &S,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Summary, IngestError> {
    let source = check_request(cfg, req)?;
    verify(cfg, source, req, now)?;
    let parsed = parse(cfg, source, req, now)?;
    let mut summary = Summary {
        ignored: parsed.ignored,
        ..Summary::default()
    };
    // Group events by who they are about: the primary alias (CRM id, else email), with every
    // alias the events name, keeping batch order within a lead. One read and one write per lead.
    // An erase or a merge applies the events grouped so far first: it must follow the events
    // before it in the batch (an erased contact's earlier events must not outlive it, and a
    // merge must find the leads the batch created).
    let mut groups: BTreeMap<Alias, (Vec<Alias>, Vec<Event>)> = BTreeMap::new();
    for item in parsed.items {
        match item {
            Inbound::Event {
                lead,
                account,
                mut event,
            } => {
                let aliases = aliases_of(&lead);
                let Some(primary) = aliases.first().cloned() else {
                    continue;
                };
                if let Some(account) = account {
                    // Carried on the event so a duplicate's account is ignored with it.
                    event.account = Some(account);
                }
                let (known, events) = groups.entry(primary).or_default();
                for a in aliases {
                    if !known.contains(&a) {
                        known.push(a);
                    }
                }
                events.push(event);
            }
            Inbound::Erase { lead, .. } => {
                Box::pin(apply_groups(
                    cfg,
                    store,
                    std::mem::take(&mut groups),
                    now,
                    &mut summary,
                ))
                .await?;
                summary.erased += erase(store, &aliases_of(&lead)).await?;
            }
            Inbound::Merge { into, merged } => {
                Box::pin(apply_groups(
                    cfg,
                    store,
                    std::mem::take(&mut groups),
                    now,
                    &mut summary,
                ))
                .await?;
                let survivor = aliases_of(&into);
                for m in &merged {
                    let done = Box::pin(crate::merge::merge_leads(
                        cfg,
                        store,
                        &survivor,
                        &aliases_of(m),
                        now,
                    ))
                    .await?;
                    summary.merged += usize::from(done.folded);
                    if let Some(lead) = done.lead {
                        summary
                            .transitions
                            .extend(done.transitions.into_iter().map(|t| LeadTransition {
                                lead: lead.clone(),
                                transition: t,
                            }));
                    }
                }
            }
        }
    }
    // Boxed: the handler's future nests deep enough (merge, erase, retries) to hit the
    // compiler's layout depth limit in crates that embed it.
    Box::pin(apply_groups(cfg, store, groups, now, &mut summary)).await?;
    Ok(summary)
}

/// Applies each lead's grouped events (one read and one write per lead).
async fn apply_groups<S: LeadStore>(
    cfg: &IngestConfig,
    store: &S,
    groups: BTreeMap<Alias, (Vec<Alias>, Vec<Event>)>,
    now: DateTime<Utc>,
    summary: &mut Summary,
) -> Result<(), IngestError> {
    for (aliases, events) in groups.into_values() {
        let done = apply_to_lead(cfg, store, &aliases, &events, now).await?;
        summary.accepted += done.accepted;
        summary.duplicates += done.duplicates;
        summary.touched.insert(done.lead.clone());
        summary.leads = summary.touched.len();
        summary
            .transitions
            .extend(done.transitions.into_iter().map(|t| LeadTransition {
                lead: done.lead.clone(),
                transition: t,
            }));
    }
    Ok(())
}

fn aliases_of(lead: &LeadRef) -> Vec<Alias> {
    let mut out = Vec::new();
    if let Some(c) = &lead.crm {
        out.push(Alias::new(c.system, &c.id));
    }
    if let Some(e) = &lead.email {
        out.push(Alias::new("email", e));
    }
    out
}

/// Emails learned from `identify` events: they become aliases of the lead, so a HubSpot
/// contact and its email address resolve to one lead.
fn learned_aliases(events: &[Event]) -> Vec<Alias> {
    events
        .iter()
        .filter(|e| e.kind == EventKind::Identify)
        .filter_map(|e| {
            e.properties
                .get("email")?
                .as_text()
                .map(str::trim)
                .map(str::to_lowercase)
        })
        .filter(|e| e.contains('@'))
        .map(|e| Alias::new("email", &e))
        .collect()
}

struct Applied {
    lead: String,
    accepted: usize,
    duplicates: usize,
    transitions: Vec<Transition>,
}

async fn apply_to_lead<S: LeadStore>(
    cfg: &IngestConfig,
    store: &S,
    aliases: &[Alias],
    events: &[Event],
    now: DateTime<Utc>,
) -> Result<Applied, IngestError> {
    // The request's own aliases first, in order (CRM id, then email): they decide which lead
    // this is. Emails learned from the events come after, so they never redirect the events.
    let mut wanted: Vec<Alias> = aliases.to_vec();
    for a in learned_aliases(events) {
        if !wanted.contains(&a) {
            wanted.push(a);
        }
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        // The lead's id is the alias it was created under: fetch that lead and the other
        // aliases in one read, and load another lead only when an alias points elsewhere.
        // A lead stored under the candidate id owns the candidate alias (they are written
        // in one transaction and leave together), so that alias is looked up only when the
        // lead is not there: one key instead of two for the steady stream of a known contact.
        let candidate = &aliases[0].0;
        let (mut resolved, mut fetched) = store.fetch(candidate, &wanted[1..]).await?;
        match fetched {
            Some(_) => resolved.insert(0, Some(candidate.clone())),
            None => (resolved, fetched) = store.fetch(candidate, &wanted).await?,
        }
        let lead_id = resolved[..aliases.len()]
            .iter()
            .flatten()
            .next()
            .cloned()
            .unwrap_or_else(|| candidate.clone());
        // Only aliases that do not point anywhere yet are written; one owned elsewhere is left alone.
        let new_aliases: Vec<Alias> = wanted
            .iter()
            .zip(&resolved)
            .filter(|(_, r)| r.is_none())
            .map(|(a, _)| a.clone())
            .collect();
        let stored = if lead_id == *candidate {
            fetched
        } else {
            store.load(&lead_id).await?
        };
        let (mut state, version) = match stored {
            Some(s) => (s.state, Some(s.version)),
            None => (LeadState::new(lead_id.clone()), None),
        };
        let out = apply(&cfg.model, &mut state, events, now);
        let result = Applied {
            lead: lead_id.clone(),
            accepted: out.accepted,
            duplicates: out.duplicates,
            transitions: out.transitions,
        };
        if out.accepted == 0 && new_aliases.is_empty() && version.is_some() {
            // A pure redelivery: nothing to write.
            return Ok(result);
        }
        match store.save(&state, version, &new_aliases).await {
            Ok(_) => return Ok(result),
            Err(StoreError::Conflict(_)) if attempt < MAX_ATTEMPTS => {
                tokio::time::sleep(backoff(attempt, &lead_id, now)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Exponential backoff with jitter (5 ms doubling, capped at 200 ms), so writers that
/// collided do not collide again in lockstep.
pub(crate) fn backoff(attempt: u32, lead: &str, now: DateTime<Utc>) -> Duration {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        attempt,
        lead,
        now.timestamp_nanos_opt(),
        std::thread::current().id(),
    )
        .hash(&mut h);
    std::time::Instant::now().hash(&mut h);
    let cap = (5u64 << attempt.min(6)).min(200);
    Duration::from_millis(h.finish() % cap + 1)
}

async fn erase<S: LeadStore>(store: &S, aliases: &[Alias]) -> Result<usize, IngestError> {
    let resolved = store.resolve(aliases).await?;
    let Some(lead_id) = resolved.iter().flatten().next().cloned() else {
        return Ok(0);
    };
    let mut all = aliases.to_vec();
    if let Some(stored) = store.load(&lead_id).await? {
        if let Some(email) = stored
            .state
            .attributes
            .get("email")
            .and_then(|v| v.as_text())
        {
            all.push(Alias::new("email", &email.trim().to_lowercase()));
        }
    }
    store.erase(&lead_id, &all).await?;
    Ok(1)
}
