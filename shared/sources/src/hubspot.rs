//! HubSpot webhooks (Webhooks API for apps): a JSON array of events.
//!
//! Every event needs `eventId`, `occurredAt` (epoch ms) and `subscriptionType` (or `eventType`,
//! the name HubSpot's docs table uses); the events we turn into something also need `objectId`
//! (an association change: `associationType`, `fromObjectId`, `toObjectId`).
//! A missing or mistyped field fails the whole body with its path (`[2].objectId`).
//!
//! | subscription type | becomes |
//! |---|---|
//! | `contact.creation` | `identify` without attributes (the lead exists from then on) |
//! | `contact.propertyChange` | `identify` with the mapped attribute, or `sales_feedback` (below) |
//! | `contact.propertyChange` of `associatedcompanyid` | `identify` with `custom.associatedcompanyid`, and the account `hubspot:company:<id>` |
//! | `contact.associationChange`, `CONTACT_TO_COMPANY`, primary, added | `identify` without attributes, account `hubspot:company:<toObjectId>` |
//! | `contact.deletion`, `contact.privacyDeletion` | `Inbound::Erase` |
//! | `contact.merge` | `Inbound::Merge` into `newObjectId` (else `primaryObjectId`) |
//! | `contact.restore`, other association changes, `company.*`, `deal.*`, others | ignored, with the reason |
//!
//! The lead is `CrmRef("hubspot", objectId)` (`fromObjectId` for an association change); an
//! `email` property change also names the email, so the store can join the contact to the lead
//! its web and email events made.
//!
//! Accounts: a HubSpot contact's company is its primary associated company, whose id HubSpot
//! keeps in the read-only contact property `associatedcompanyid` (read-only since 2019: it
//! follows the primary association). Either signal sets the item's account to
//! `hubspot:company:<company id>`, a key no domain can collide with (Marketo, SendGrid and the
//! generic format key accounts by domain; HubSpot's webhook names no domain, and looking the
//! company up would need an API call). Only the primary company counts: a contact can have
//! many associated companies, and `isPrimaryAssociation` must be `true`. A removed
//! association, or `associatedcompanyid` emptied, sets no account (an item's account is
//! "unknown" when absent, never "none"): the previous one stands until another is set.
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
//! Values compare case-insensitively.
//!
//! Nothing maps to `reopened`, on purpose. `reopened` moves a lead to `lead` from any stage
//! (`FeedbackOutcome::target`), so it must only come from a real move back: a disqualified
//! lead reopened, a churned customer. A `propertyChange` webhook carries the new value only
//! (`propertyName`, `propertyValue`), never the old one, and this parser is stateless:
//! - `hs_lead_status` `NEW` or `OPEN` after `UNQUALIFIED` looks exactly like the `NEW` a
//!   workflow or import sets on every new contact (the fixture's `AUTOMATION_PLATFORM` one).
//!   Mapping it to `reopened` would send every MQL back to `lead` the moment its contact is
//!   created or assigned.
//! - `lifecyclestage` moving backwards arrives as a plain `subscriber`/`lead`/
//!   `marketingqualifiedlead` value (or `""` then that value), the same values as a first
//!   setting and as the echo of the engine's own stage writes.
//!
//! A sound mapping needs the lead's current stage at apply time, e.g. an outcome that reopens
//! only a `disqualified` (or `customer`) lead and is a no-op elsewhere; that is a domain
//! change, after which `hs_lead_status` `NEW`/`OPEN` could feed it safely.
//!
//! Event ids are `hubspot:{eventId}:{objectId}:{occurredAt}:{subscriptionType}[:{propertyName}]`
//! (for an association change, `{fromObjectId}` and `:{toObjectId}`): HubSpot's `eventId` alone
//! is not unique. HubSpot retries and duplicates deliveries; a second copy inside one body is
//! ignored (`duplicate of [i]`), and across bodies the engine drops the repeated id. Items come
//! out in `occurredAt` order (ties keep body order) because HubSpot sends them out of order and
//! an erase or merge must follow the events before it.

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
        "contact.associationChange" => association(o, at, &id_for)?,
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
    let account = (name == COMPANY_ID_PROPERTY)
        .then(|| company_id(&value))
        .flatten()
        .map(|c| company_account(&c));
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
            account,
            event: Event::new(id, at, EventKind::Identify).with_property(attribute, value),
        },
    }
}

/// The contact property holding the id of the contact's primary company.
const COMPANY_ID_PROPERTY: &str = "associatedcompanyid";

/// The account key of a HubSpot company (see the module doc).
pub fn company_account(company_id: &str) -> String {
    format!("hubspot:company:{company_id}")
}

/// A company id as `associatedcompanyid` holds it: digits (text or a whole number).
fn company_id(value: &AttrValue) -> Option<String> {
    match value {
        AttrValue::Text(s) => {
            let s = s.trim();
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_owned())
        }
        AttrValue::Number(n) if *n >= 1.0 && n.fract() == 0.0 && *n < 9.0e15 => {
            Some(format!("{n:.0}"))
        }
        _ => None,
    }
}

/// `contact.associationChange`: a contact's primary company, added, sets its account; every
/// other association change is ignored with the reason (see the module doc).
fn association(
    o: &Obj<'_>,
    at: DateTime<Utc>,
    id_for: &dyn Fn(&str, Option<&str>) -> String,
) -> Result<Item, SourceError> {
    let kind = o.req_str("associationType")?;
    if !kind.trim().eq_ignore_ascii_case("CONTACT_TO_COMPANY") {
        return Ok(Item::Skip(format!(
            "contact.associationChange {kind}: only the contact's primary company is used"
        )));
    }
    let contact = o.req_id("fromObjectId")?;
    let company = o.req_id("toObjectId")?;
    if o.opt_bool("associationRemoved")?.unwrap_or(false) {
        return Ok(Item::Skip(format!(
            "contact.associationChange: company {company} removed from contact {contact} \
             (the account stands until another primary company is set)"
        )));
    }
    if o.opt_bool("isPrimaryAssociation")? != Some(true) {
        return Ok(Item::Skip(format!(
            "contact.associationChange: company {company} is not the primary company of contact {contact}"
        )));
    }
    let id = id_for(&contact, Some(&company));
    Ok(Item::Use {
        at,
        key: id.clone(),
        inbound: Inbound::Event {
            lead: LeadRef::crm(SYSTEM, contact),
            account: Some(company_account(&company)),
            event: Event::new(id, at, EventKind::Identify),
        },
    })
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
