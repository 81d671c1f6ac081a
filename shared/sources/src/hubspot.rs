//! HubSpot webhooks (Webhooks API for apps): a JSON array of events.
//!
//! Every event needs `eventId`, `occurredAt` (epoch ms) and `subscriptionType` (or `eventType`,
//! the name HubSpot's docs table uses); the events we turn into something also need `objectId`.
//! A missing or mistyped field fails the whole body with its path (`[2].objectId`).
//!
//! | subscription type | becomes |
//! |---|---|
//! | `contact.creation` | `identify` without attributes (the lead exists from then on) |
//! | `contact.propertyChange` | `identify` with the mapped attribute, or `sales_feedback` (below) |
//! | `contact.deletion`, `contact.privacyDeletion` | `Inbound::Erase` |
//! | `contact.merge` | `Inbound::Merge` into `newObjectId` (else `primaryObjectId`) |
//! | `contact.restore`, `contact.associationChange`, `company.*`, `deal.*`, others | ignored, with the reason |
//!
//! The lead is `CrmRef("hubspot", objectId)`; an `email` property change also names the email,
//! so the store can join the contact to the lead its web and email events made.
//!
//! Property names: `email`, `firstname` -> `first_name`, `lastname` -> `last_name`, `jobtitle` ->
//! `job_title`, `company`, `website`/`domain` -> `company_domain` (reduced to the bare domain),
//! `industry`, `numberofemployees` -> `company_size`, `annualrevenue` -> `annual_revenue`,
//! `country`, `state`, `city`, `phone`, `hs_seniority` -> `seniority`, `hs_role` -> `role`,
//! `hs_analytics_source` -> `lead_source`; any other property -> `custom.<name>`. An empty value
//! clears the attribute (HubSpot sends `""` when a property is emptied).
//!
//! Sales feedback, because sales owns these two properties and the engine must follow them:
//!
//! | property | value | outcome |
//! |---|---|---|
//! | `lifecyclestage` | `salesqualifiedlead`, `opportunity` | accepted |
//! | `lifecyclestage` | `customer`, `evangelist` | won |
//! | `lifecyclestage` | `subscriber`, `lead`, `marketingqualifiedlead`, `other`, empty, custom ids | ignored: marketing stages are the engine's to set, and echoing our own writes back would loop |
//! | `hs_lead_status` | `ATTEMPTED_TO_CONTACT`, `CONNECTED`, `IN_PROGRESS`, `OPEN_DEAL` | accepted (sales is working the lead) |
//! | `hs_lead_status` | `UNQUALIFIED` | disqualified |
//! | `hs_lead_status` | `BAD_TIMING` | recycled (right lead, wrong time: back to marketing) |
//! | `hs_lead_status` | `NEW`, `OPEN`, empty, custom values | ignored: no sales decision yet |
//!
//! Values compare case-insensitively. Nothing maps to `reopened`: HubSpot does not say what a
//! property was before, so a move back cannot be told from a first setting.
//!
//! Event ids are `hubspot:{eventId}:{objectId}:{occurredAt}:{subscriptionType}[:{propertyName}]`:
//! HubSpot's `eventId` alone is not unique. HubSpot retries and duplicates deliveries; a second
//! copy inside one body is ignored (`duplicate of [i]`), and across bodies the engine drops the
//! repeated id. Items come out in `occurredAt` order (ties keep body order) because HubSpot
//! sends them out of order and an erase or merge must follow the events before it.

use crate::events::util::{domain_of, expect_array, kind_of, parse_json, scalar, Obj};
use crate::{Ignored, Inbound, LeadRef, Parsed, SourceError};
use chrono::{DateTime, Utc};
use leadscore_domain::{AttrValue, Event, EventKind, FeedbackOutcome};
use serde_json::Value;
use std::collections::HashMap;

/// The CRM system name of HubSpot ids.
pub const SYSTEM: &str = "hubspot";

/// Parses a HubSpot webhook body (see the module doc).
pub fn parse(body: &[u8]) -> Result<Parsed, SourceError> {
    let value = parse_json(body)?;
    let list = expect_array(&value, "HubSpot events")?;
    let mut parsed = Parsed::default();
    let mut items: Vec<(DateTime<Utc>, usize, Inbound)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, v) in list.iter().enumerate() {
        let o = Obj::new(v, format!("[{i}]"))?;
        match item(&o)? {
            Item::Use { at, key, inbound } => {
                if let Some(first) = seen.get(&key) {
                    parsed.ignored.push(Ignored {
                        index: i,
                        reason: format!("duplicate of [{first}] (same event {key})"),
                    });
                } else {
                    seen.insert(key, i);
                    items.push((at, i, inbound));
                }
            }
            Item::Skip(reason) => parsed.ignored.push(Ignored { index: i, reason }),
        }
    }
    items.sort_by_key(|(at, i, _)| (*at, *i));
    parsed.items = items.into_iter().map(|(_, _, x)| x).collect();
    Ok(parsed)
}

/// What one element of the body becomes. Short-lived (one per element, moved out at once),
/// so the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Item {
    /// `key` identifies the delivery, for dropping duplicates within a body.
    Use {
        at: DateTime<Utc>,
        key: String,
        inbound: Inbound,
    },
    Skip(String),
}

fn item(o: &Obj<'_>) -> Result<Item, SourceError> {
    let event_id = o.req_id("eventId")?;
    let ms = o.req_int("occurredAt")?;
    let at = DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        o.err(
            "occurredAt",
            format!("{ms} is not a usable time in epoch milliseconds"),
        )
    })?;
    let kind_key = if o.has("subscriptionType") {
        "subscriptionType"
    } else {
        "eventType"
    };
    let kind = match o.opt_str(kind_key)? {
        Some(k) => k,
        None => {
            return Err(o.err(
                "subscriptionType",
                "missing (neither subscriptionType nor eventType is set)",
            ))
        }
    };
    let id_for = |object: &str, suffix: Option<&str>| match suffix {
        Some(p) => format!("hubspot:{event_id}:{object}:{ms}:{kind}:{p}"),
        None => format!("hubspot:{event_id}:{object}:{ms}:{kind}"),
    };

    Ok(match kind {
        "contact.creation" => {
            let object = o.req_id("objectId")?;
            let id = id_for(&object, None);
            event(id, at, EventKind::Identify, LeadRef::crm(SYSTEM, object))
        }
        "contact.propertyChange" => {
            let object = o.req_id("objectId")?;
            let name = o.req_str("propertyName")?;
            let value = match o.get("propertyValue") {
                None => AttrValue::Null,
                Some(v) => scalar(v).ok_or_else(|| {
                    o.err(
                        "propertyValue",
                        format!("expected a string, found {}", kind_of(v)),
                    )
                })?,
            };
            let id = id_for(&object, Some(name));
            property_change(id, at, object, name, value)
        }
        "contact.deletion" | "contact.privacyDeletion" => {
            let object = o.req_id("objectId")?;
            let reason = if kind == "contact.deletion" {
                "contact deleted in HubSpot"
            } else {
                "privacy (GDPR) deletion in HubSpot"
            };
            Item::Use {
                at,
                key: id_for(&object, None),
                inbound: Inbound::Erase {
                    lead: LeadRef::crm(SYSTEM, object),
                    reason: reason.into(),
                },
            }
        }
        "contact.merge" => merge(o, at, &id_for)?,
        "contact.restore" => Item::Skip(
            "contact.restore: the lead was erased when the contact was deleted; its next events start it again"
                .into(),
        ),
        "contact.associationChange" => {
            Item::Skip("contact.associationChange: associations are not tracked".into())
        }
        k if k.starts_with("company.") => Item::Skip(format!(
            "{k}: company events name no lead (accounts come from the leads' own events)"
        )),
        k if k.starts_with("deal.") => Item::Skip(format!("{k}: deal events are not used")),
        k => Item::Skip(format!("unknown subscription type `{k}`")),
    })
}

fn event(id: String, at: DateTime<Utc>, kind: EventKind, lead: LeadRef) -> Item {
    Item::Use {
        at,
        key: id.clone(),
        inbound: Inbound::Event {
            lead,
            account: None,
            event: Event::new(id, at, kind),
        },
    }
}

fn property_change(
    id: String,
    at: DateTime<Utc>,
    object: String,
    name: &str,
    value: AttrValue,
) -> Item {
    let text = value.as_text().map(str::trim).unwrap_or_default();
    let feedback = match name {
        "lifecyclestage" => Some(lifecycle_outcome(text)),
        "hs_lead_status" => Some(lead_status_outcome(text)),
        _ => None,
    };
    if let Some(outcome) = feedback {
        let Some(outcome) = outcome else {
            let shown = if text.is_empty() { "(empty)" } else { text };
            return Item::Skip(format!("{name} `{shown}` is not a sales decision"));
        };
        let mut e = Event::new(id.clone(), at, EventKind::SalesFeedback).with_outcome(outcome);
        e.target = Some(format!("{name}:{text}"));
        return Item::Use {
            at,
            key: id,
            inbound: Inbound::Event {
                lead: LeadRef::crm(SYSTEM, object),
                account: None,
                event: e,
            },
        };
    }
    let mut lead = LeadRef::crm(SYSTEM, object);
    let (attribute, value) = match attribute(name) {
        Some("email") => {
            if !text.is_empty() {
                lead.email = LeadRef::email(text).email;
            }
            ("email".to_owned(), value)
        }
        Some("company_domain") => (
            "company_domain".to_owned(),
            domain_of(text).map_or(AttrValue::Null, AttrValue::Text),
        ),
        Some(a) => (a.to_owned(), value),
        None => (format!("custom.{name}"), value),
    };
    let value = match value {
        AttrValue::Text(s) if s.trim().is_empty() => AttrValue::Null,
        v => v,
    };
    Item::Use {
        at,
        key: id.clone(),
        inbound: Inbound::Event {
            lead,
            account: None,
            event: Event::new(id, at, EventKind::Identify).with_property(attribute, value),
        },
    }
}

/// A HubSpot contact property's attribute name, if it is one of ours.
fn attribute(property: &str) -> Option<&'static str> {
    Some(match property {
        "email" => "email",
        "firstname" => "first_name",
        "lastname" => "last_name",
        "jobtitle" => "job_title",
        "company" => "company",
        "website" | "domain" => "company_domain",
        "industry" => "industry",
        "numberofemployees" => "company_size",
        "annualrevenue" => "annual_revenue",
        "country" => "country",
        "state" => "state",
        "city" => "city",
        "phone" => "phone",
        "hs_seniority" => "seniority",
        "hs_role" => "role",
        "hs_analytics_source" => "lead_source",
        _ => return None,
    })
}

/// `lifecyclestage` values that are a sales decision (see the module doc).
fn lifecycle_outcome(stage: &str) -> Option<FeedbackOutcome> {
    match stage.to_ascii_lowercase().as_str() {
        "salesqualifiedlead" | "opportunity" => Some(FeedbackOutcome::Accepted),
        "customer" | "evangelist" => Some(FeedbackOutcome::Won),
        _ => None,
    }
}

/// `hs_lead_status` values that are a sales decision (see the module doc).
fn lead_status_outcome(status: &str) -> Option<FeedbackOutcome> {
    match status.to_ascii_uppercase().as_str() {
        "ATTEMPTED_TO_CONTACT" | "CONNECTED" | "IN_PROGRESS" | "OPEN_DEAL" => {
            Some(FeedbackOutcome::Accepted)
        }
        "UNQUALIFIED" => Some(FeedbackOutcome::Disqualified),
        "BAD_TIMING" => Some(FeedbackOutcome::Recycled),
        _ => None,
    }
}

/// `contact.merge`: the survivor is `newObjectId` when HubSpot made a new record, else
/// `primaryObjectId`; every other id named (`mergedObjectIds`, a replaced primary) joins it.
fn merge(
    o: &Obj<'_>,
    at: DateTime<Utc>,
    id_for: &dyn Fn(&str, Option<&str>) -> String,
) -> Result<Item, SourceError> {
    let primary = o.opt_id("primaryObjectId")?;
    let new = o.opt_id("newObjectId")?;
    let Some(into) = new.clone().or_else(|| primary.clone()) else {
        return Err(o.err(
            "primaryObjectId",
            "missing (a merge names the contact that survives)",
        ));
    };
    let merged_ids = match o.get("mergedObjectIds") {
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(o.err(
                "mergedObjectIds",
                format!("expected an array of ids, found {}", kind_of(other)),
            ))
        }
        None => return Err(o.err("mergedObjectIds", "missing")),
    };
    let mut merged: Vec<String> = Vec::new();
    for (j, v) in merged_ids.iter().enumerate() {
        let id = crate::events::util::id_text(v).ok_or_else(|| {
            SourceError::field(
                format!("{}[{j}]", o.path("mergedObjectIds")),
                crate::events::util::not_an_id(v),
            )
        })?;
        if id != into && !merged.contains(&id) {
            merged.push(id);
        }
    }
    if let Some(p) = primary.filter(|p| *p != into && !merged.contains(p)) {
        merged.push(p);
    }
    let key = id_for(&into, None);
    if merged.is_empty() {
        return Ok(Item::Skip(format!(
            "contact.merge names no contact other than {into}"
        )));
    }
    Ok(Item::Use {
        at,
        key,
        inbound: Inbound::Merge {
            into: LeadRef::crm(SYSTEM, into),
            merged: merged
                .into_iter()
                .map(|id| LeadRef::crm(SYSTEM, id))
                .collect(),
        },
    })
}
