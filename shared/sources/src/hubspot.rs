//! HubSpot webhooks. The body's shape says which kind it is:
//!
//! | body | sender | becomes |
//! |---|---|---|
//! | a JSON array | the Webhooks API for apps: a batch of subscription events | one item per event (below) |
//! | a JSON object with `properties` (and `vid`, `canonical-vid`) | a contact-based workflow's "Send a webhook" action, all properties (the classic payload: the contact record) | `identify` with the mapped attributes, the account, `sales_feedback` (see "Workflow webhooks") |
//! | any other JSON object | the same action with "Customize request body": property name -> value | the same |
//! | a JSON object with `companyId` or `dealId` and no `vid` | a company- or deal-based workflow | ignored, with the reason |
//! | anything else, or one subscription event outside an array | | 400 naming the problem |
//!
//! ## App webhooks (an array)
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
//!
//! ## Workflow webhooks (an object)
//!
//! A workflow's "Send a webhook" action POSTs one enrolled record per request, signed with
//! v2 (`X-HubSpot-Signature`, SHA-256 of client secret + method + URL + body, no timestamp),
//! and retries a failed delivery for up to three days (not after a 4xx other than 429).
//! Two contact payloads are accepted:
//! - **All properties** (the classic payload): the contact as HubSpot's contact API returns
//!   it, `{"vid": 5101, "canonical-vid": 5101, "portal-id": 62515, "properties": {"jobtitle":
//!   {"value": "VP Engineering", "versions": [...]}, ...}, "identity-profiles": [...], ...}`.
//!   Only each property's `value` is read (a bare value is taken too); the contact is
//!   `canonical-vid`, else `vid`, else the `hs_object_id` property.
//! - **A customized body**: `{"hs_object_id": "5101", "email": "...", "jobtitle": "..."}`:
//!   the action lets each chosen property be sent under a key of one's choosing, and here
//!   the key must be the property's internal name (`jobtitle`, not `Job title`: it is read
//!   as that property). It must carry `hs_object_id` (the Record ID), and should carry
//!   `lastmodifieddate` (see the ids below).
//!
//! Set up the action with the URL `<LEADSCORE_PUBLIC_BASE_URL>/webhooks/hubspot` exactly (v2
//! signs the URL as called), authentication "Include request signature in header" with the
//! ID of the app whose client secret is `LEADSCORE_HUBSPOT_CLIENT_SECRET`, and set
//! `LEADSCORE_HUBSPOT_ACCEPT_V1_V2=true`: v2 carries no timestamp, so a captured request
//! replays for ever, and v1/v2 are refused (401) unless enabled.
//!
//! Either becomes, for the lead `CrmRef("hubspot", id)` with the `email` property's address
//! (else the classic payload's primary `EMAIL` identity in `identity-profiles`):
//! - one `identify` carrying every other property mapped exactly as a property change maps
//!   it (names, blanks, the website's domain, `custom.<name>`), with the account
//!   `hubspot:company:<associatedcompanyid>` when that property holds a company id;
//! - one `sales_feedback` for `lifecyclestage` and one for `hs_lead_status` when their value
//!   is a sales decision (the tables above); a value that is none is reported as ignored
//!   (index 0), as for a property change.
//!
//! `hs_object_id` and `lastmodifieddate` name and date the record and are not attributes (in
//! a customized body, neither are `vid` and `canonical-vid`). The classic payload carries
//! every valued property, HubSpot's own `hs_*` analytics among them, and each becomes a
//! `custom.*` attribute like any unmapped property: a customized body sends only the
//! properties the model uses.
//!
//! Time: `lastmodifieddate` (epoch milliseconds, as HubSpot sends it, or RFC 3339), else the
//! time the request arrived.
//!
//! Ids: HubSpot's retries resend the same enrollment for days and the payload carries no
//! delivery id, so the id is derived from the content: `hubspot:workflow:{id}:{hash}`, where
//! `hash` is the first 16 bytes (hex) of a SHA-256 of the contact id and of every property's
//! name and value as sent, by name (not of the raw body, and not of `versions` or
//! `identity-profiles`). The feedback events append `:{property}`. A retry carries the same
//! values, so it is a duplicate; another enrollment of a changed record differs at least in
//! `lastmodifieddate` (every change moves it), so it is new. Two enrollments of an unchanged
//! record are one event, which changes nothing. A customized body without `lastmodifieddate`
//! cannot tell a status that went `A`, `B`, then `A` again from a retry of the first `A`:
//! include it.

use crate::events::util::{
    domain_of, id_text, kind_of, not_an_id, parse_json, rfc3339, scalar, Obj,
};
use crate::{Ignored, Inbound, LeadRef, Parsed, SourceError};
use chrono::{DateTime, Utc};
use leadscore_domain::{AttrValue, Event, EventKind, FeedbackOutcome};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The CRM system name of HubSpot ids.
pub const SYSTEM: &str = "hubspot";

/// Parses a HubSpot webhook body (see the module doc): a JSON array is a batch of app
/// webhook events, a JSON object is a workflow webhook. `received_at` is when the request
/// arrived: the time of a workflow webhook that carries no `lastmodifieddate`.
pub fn parse(body: &[u8], received_at: DateTime<Utc>) -> Result<Parsed, SourceError> {
    let value = parse_json(body)?;
    match &value {
        Value::Array(list) => batch(list),
        Value::Object(map) if SUBSCRIPTION_KEYS.iter().any(|k| map.contains_key(*k)) => {
            Err(SourceError::field(
                "$",
                "expected a JSON array of HubSpot events, found one event object \
                 (app webhooks always arrive in an array; a workflow webhook names a contact, \
                 not a subscriptionType)",
            ))
        }
        Value::Object(_) => workflow(&Obj::new(&value, String::new())?, received_at),
        other => Err(SourceError::field(
            "$",
            format!(
                "expected a JSON array of HubSpot events (app webhooks) or a JSON object \
                 (a workflow webhook), found {}",
                kind_of(other)
            ),
        )),
    }
}

/// Fields only an app webhook event has: an object with one of them is a lone event sent
/// without its array, not a workflow webhook.
const SUBSCRIPTION_KEYS: [&str; 3] = ["subscriptionType", "eventType", "occurredAt"];

/// A batch of app webhook events (see the module doc).
fn batch(list: &[Value]) -> Result<Parsed, SourceError> {
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
    let mut lead = LeadRef::crm(SYSTEM, object);
    let (account, event) = match map_property(name, value) {
        Mapped::NoDecision(reason) => return Item::Skip(reason),
        Mapped::Feedback { outcome, target } => {
            let mut e = Event::new(id.clone(), at, EventKind::SalesFeedback).with_outcome(outcome);
            e.target = Some(target);
            (None, e)
        }
        Mapped::Attribute {
            attribute,
            value,
            email,
            account,
        } => {
            if email.is_some() {
                lead.email = email;
            }
            let e = Event::new(id.clone(), at, EventKind::Identify).with_property(attribute, value);
            (account, e)
        }
    };
    Item::Use {
        at,
        key: id,
        inbound: Inbound::Event {
            lead,
            account,
            event,
        },
    }
}

/// What one contact property, with its new value, means for the lead. Property changes and
/// workflow webhooks both go through here, so a property means the same from either.
enum Mapped {
    /// A sales decision (`lifecyclestage`, `hs_lead_status`); `target` is `name:value`.
    Feedback {
        outcome: FeedbackOutcome,
        target: String,
    },
    /// `lifecyclestage` or `hs_lead_status` with a value that is no sales decision: why.
    NoDecision(String),
    /// A lead attribute. `email` (normalized) also names the lead; `account` is the
    /// contact's primary company (`associatedcompanyid`).
    Attribute {
        attribute: String,
        value: AttrValue,
        email: Option<String>,
        account: Option<String>,
    },
}

/// Maps a contact property (see the module doc): sales feedback, or an attribute with
/// blanks cleared, the website reduced to its domain, and unknown names as `custom.<name>`.
fn map_property(name: &str, value: AttrValue) -> Mapped {
    let text = value.as_text().map(str::trim).unwrap_or_default();
    let feedback = match name {
        "lifecyclestage" => Some(lifecycle_outcome(text)),
        "hs_lead_status" => Some(lead_status_outcome(text)),
        _ => None,
    };
    if let Some(outcome) = feedback {
        return match outcome {
            Some(outcome) => Mapped::Feedback {
                outcome,
                target: format!("{name}:{text}"),
            },
            None => {
                let shown = if text.is_empty() { "(empty)" } else { text };
                Mapped::NoDecision(format!("{name} `{shown}` is not a sales decision"))
            }
        };
    }
    let account = (name == COMPANY_ID_PROPERTY)
        .then(|| company_id(&value))
        .flatten()
        .map(|c| company_account(&c));
    let mut email = None;
    let (attribute, value) = match attribute(name) {
        Some("email") => {
            if !text.is_empty() {
                email = LeadRef::email(text).email;
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
    Mapped::Attribute {
        attribute,
        value,
        email,
        account,
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
        let id = id_text(v).ok_or_else(|| {
            SourceError::field(format!("{}[{j}]", o.path("mergedObjectIds")), not_an_id(v))
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

// ---------------------------------------------------------------------------------------------
// Workflow webhooks (see the module doc)

/// The contact property holding the contact's id (HubSpot's "Record ID").
const ID_PROPERTY: &str = "hs_object_id";
/// The contact property holding when the record last changed: the event's time.
const MODIFIED_PROPERTY: &str = "lastmodifieddate";
/// Top-level keys of a classic payload naming the contact, the surviving (canonical) id first.
const VID_KEYS: [&str; 2] = ["canonical-vid", "vid"];

/// One contact property of a workflow payload.
struct Prop<'a> {
    name: &'a str,
    /// The value as sent (a scalar): what the event id hashes.
    raw: &'a Value,
    value: AttrValue,
    /// Where the value is, for errors: `properties.jobtitle.value` or `jobtitle`.
    path: String,
}

/// A workflow webhook: one contact, as the classic payload (the contact record) or as a
/// customized body (property name -> value). Becomes an `identify` with every mapped
/// attribute and the account, and one `sales_feedback` per decision (see the module doc).
fn workflow(o: &Obj<'_>, received_at: DateTime<Utc>) -> Result<Parsed, SourceError> {
    if !VID_KEYS.iter().any(|k| o.has(k)) {
        for (key, what) in [("companyId", "company"), ("dealId", "deal")] {
            if let Some(id) = o.get(key) {
                let id = id_text(id).unwrap_or_else(|| id.to_string());
                return Ok(Parsed {
                    items: Vec::new(),
                    ignored: vec![Ignored {
                        index: 0,
                        reason: format!(
                            "workflow webhook for a {what} ({key} {id}): only contact-based workflows name a lead"
                        ),
                    }],
                });
            }
        }
    }
    let classic = o.has("properties");
    let mut props = if classic {
        classic_properties(o)?
    } else {
        custom_properties(o)?
    };
    props.sort_by(|a, b| a.name.cmp(b.name));
    let find = |name: &str| props.iter().find(|p| p.name == name);
    let object = contact_id(o, classic, find(ID_PROPERTY))?;
    let at = match find(MODIFIED_PROPERTY) {
        Some(p) => modified_time(p)?.unwrap_or(received_at),
        None => received_at,
    };
    let base = format!("hubspot:workflow:{object}:{}", values_hash(&object, &props));

    let mut parsed = Parsed::default();
    let mut lead = LeadRef::crm(SYSTEM, object);
    let mut account = None;
    let mut identify = Event::new(base.clone(), at, EventKind::Identify);
    let mut feedback = Vec::new();
    for p in props {
        let identity = p.name == ID_PROPERTY
            || p.name == MODIFIED_PROPERTY
            || (!classic && VID_KEYS.contains(&p.name));
        if identity {
            continue;
        }
        match map_property(p.name, p.value) {
            Mapped::NoDecision(reason) => parsed.ignored.push(Ignored { index: 0, reason }),
            Mapped::Feedback { outcome, target } => {
                let id = format!("{base}:{}", p.name);
                let mut e = Event::new(id, at, EventKind::SalesFeedback).with_outcome(outcome);
                e.target = Some(target);
                feedback.push(e);
            }
            Mapped::Attribute {
                attribute,
                value,
                email,
                account: company,
            } => {
                if email.is_some() {
                    lead.email = email;
                }
                if company.is_some() {
                    account = company;
                }
                // `website` and `domain` both give the domain: an empty one does not clear
                // what the other set.
                let set = identify
                    .properties
                    .get(&attribute)
                    .is_some_and(|v| v.is_present());
                if value.is_present() || !set {
                    identify = identify.with_property(attribute, value);
                }
            }
        }
    }
    if lead.email.is_none() {
        lead.email = profile_email(o);
    }
    parsed.items.push(Inbound::Event {
        lead: lead.clone(),
        account,
        event: identify,
    });
    parsed
        .items
        .extend(feedback.into_iter().map(|event| Inbound::Event {
            lead: lead.clone(),
            account: None,
            event,
        }));
    Ok(parsed)
}

/// The classic payload's `properties`: `{"name": {"value": ..., "versions": [...]}}` (a bare
/// value is taken too). Only `value` is read.
fn classic_properties<'a>(o: &Obj<'a>) -> Result<Vec<Prop<'a>>, SourceError> {
    let map: &Map<String, Value> = match o.get("properties") {
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(o.err(
                "properties",
                format!(
                    "expected an object of contact properties, found {}",
                    kind_of(other)
                ),
            ))
        }
        None => return Ok(Vec::new()),
    };
    let mut props = Vec::with_capacity(map.len());
    for (name, entry) in map {
        let at = format!("{}.{name}", o.path("properties"));
        let (raw, path) = match entry {
            Value::Object(fields) => {
                let path = format!("{at}.value");
                match fields.get("value") {
                    Some(raw) => (raw, path),
                    None => {
                        return Err(SourceError::field(
                            path,
                            "missing (a property is {\"value\": ..., \"versions\": [...]})",
                        ))
                    }
                }
            }
            Value::Array(_) => {
                return Err(SourceError::field(
                    at,
                    "expected {\"value\": ...} or a value, found an array",
                ))
            }
            raw => (raw, at),
        };
        let value = scalar(raw).ok_or_else(|| {
            SourceError::field(
                path.clone(),
                format!("expected a string, found {}", kind_of(raw)),
            )
        })?;
        props.push(Prop {
            name,
            raw,
            value,
            path,
        });
    }
    Ok(props)
}

/// A customized body: every key is a property's internal name, every value its value.
fn custom_properties<'a>(o: &Obj<'a>) -> Result<Vec<Prop<'a>>, SourceError> {
    o.fields()
        .map(|(name, raw)| {
            let value = scalar(raw).ok_or_else(|| {
                o.err(
                    name,
                    format!(
                        "expected a property value (string, number, boolean or null), found {} \
                         (a customized workflow body maps property names to values)",
                        kind_of(raw)
                    ),
                )
            })?;
            Ok(Prop {
                name,
                raw,
                value,
                path: o.path(name),
            })
        })
        .collect()
}

/// The contact's id: `canonical-vid`, else `vid`, else the `hs_object_id` property.
fn contact_id(o: &Obj<'_>, classic: bool, id: Option<&Prop<'_>>) -> Result<String, SourceError> {
    for key in VID_KEYS {
        if let Some(vid) = o.opt_id(key)? {
            return Ok(vid);
        }
    }
    match id {
        Some(p) => {
            id_text(p.raw).ok_or_else(|| SourceError::field(p.path.clone(), not_an_id(p.raw)))
        }
        None if classic => Err(o.err(
            "vid",
            "missing (a workflow webhook names its contact: `vid`, `canonical-vid` or the \
             `hs_object_id` property)",
        )),
        None => Err(o.err(
            ID_PROPERTY,
            "missing (a customized workflow body must send the contact's Record ID with the \
             key `hs_object_id`)",
        )),
    }
}

/// `lastmodifieddate` as a time: epoch milliseconds (HubSpot's form, text or number) or
/// RFC 3339. Blank or null: `None`.
fn modified_time(p: &Prop<'_>) -> Result<Option<DateTime<Utc>>, SourceError> {
    let bad = |shown: String| {
        SourceError::field(
            p.path.clone(),
            format!("{shown} is not a time (epoch milliseconds or RFC 3339)"),
        )
    };
    let ms = match p.raw {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => {
            let s = s.trim();
            if !s.bytes().all(|b| b.is_ascii_digit()) {
                return rfc3339(s).map(Some).ok_or_else(|| bad(format!("`{s}`")));
            }
            s.parse::<i64>().map_err(|_| bad(format!("`{s}`")))?
        }
        Value::Number(n) => n.as_i64().ok_or_else(|| bad(n.to_string()))?,
        other => return Err(bad(kind_of(other).to_owned())),
    };
    DateTime::from_timestamp_millis(ms)
        .map(Some)
        .ok_or_else(|| bad(ms.to_string()))
}

/// The first 16 bytes (hex) of a SHA-256 of the contact id and every property's name and
/// value as sent, by name: the same values give the same id, whatever the order or
/// formatting of the body and whatever else (`versions`, `identity-profiles`) it carries.
fn values_hash(object: &str, props: &[Prop<'_>]) -> String {
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(object.as_bytes());
    for p in props {
        part(p.name.as_bytes());
        part(p.raw.to_string().as_bytes());
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The contact's email from the classic payload's `identity-profiles` (the primary `EMAIL`
/// identity, else the first), for a payload without an `email` property. Read leniently:
/// it only adds an alias.
fn profile_email(o: &Obj<'_>) -> Option<String> {
    let profiles = o.get("identity-profiles")?.as_array()?;
    let mut first: Option<&str> = None;
    let identities = profiles
        .iter()
        .filter_map(|p| p.get("identities")?.as_array())
        .flatten();
    for identity in identities {
        if identity.get("type").and_then(Value::as_str) != Some("EMAIL") {
            continue;
        }
        let Some(email) = identity
            .get("value")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        if identity.get("is-primary").and_then(Value::as_bool) == Some(true) {
            return LeadRef::email(email).email;
        }
        first.get_or_insert(email);
    }
    first.and_then(|e| LeadRef::email(e).email)
}
