//! Marketo webhooks. Marketo sends whatever payload template the admin writes and does not
//! sign it (authenticate with a secret custom header), so leadscore documents the template to
//! use. Set "Request Token Encoding" to JSON and add the custom headers `X-Leadscore-Token`
//! (the secret) and `Content-Type: application/json`; Marketo quotes string tokens itself, so
//! tokens stand bare in the template:
//!
//! ```text
//! {
//!   "leadId": {{lead.Id}},
//!   "email": {{lead.Email Address}},
//!   "activity": "visit_webpage",
//!   "activityId": {{trigger.Id}},
//!   "occurredAt": {{system.dateTime}},
//!   "url": {{trigger.Web Page}},
//!   "asset": {{trigger.Name}},
//!   "firstName": {{lead.First Name}},
//!   "lastName": {{lead.Last Name}},
//!   "title": {{lead.Job Title}},
//!   "company": {{company.Company Name}},
//!   "website": {{company.Website}},
//!   "industry": {{company.Industry}},
//!   "numberOfEmployees": {{company.Num Employees}},
//!   "annualRevenue": {{company.Annual Revenue}},
//!   "country": {{lead.Country}},
//!   "phone": {{lead.Phone Number}},
//!   "leadSource": {{lead.Lead Source}}
//! }
//! ```
//!
//! One webhook per activity (one smart campaign each), `activity` fixed in its template. The
//! same fields also work form-encoded (`leadId=123&email=...`), for instances that post forms.
//! Trigger token names vary with the trigger (check the token picker); only `activity`,
//! `occurredAt` and one of `leadId` / `email` are required.
//!
//! | `activity` | becomes |
//! |---|---|
//! | `visit_webpage` | `page_view` with `url` (required) |
//! | `fill_out_form` | `form_submit`, target = `asset` (the form name) |
//! | `click_email` | `email_click`, `url` = the link, target = `asset` (the email name) |
//! | `click_link` | `custom` named `click_link`: `url` and target = the link (required), property `asset` |
//! | `open_email` | `email_open`, target = `asset` (the email name) |
//! | `unsubscribe_email` | `email_unsubscribe` |
//! | `email_bounced` | `email_bounce` |
//! | `new_lead`, `change_data_value` | `identify` with the lead attributes (and `email`) |
//! | `interesting_moment` | `custom` named `interesting_moment`, target = `asset` (the moment) |
//! | anything else | ignored, with the reason |
//!
//! Activity names ignore case, and spaces or hyphens count as `_` (`Visit Webpage` works).
//!
//! Why these rules:
//! - `click_link` is Marketo's "Click Link" (activity 3, trigger "Clicks Link on Web Page"): a
//!   click on a link of a Marketo landing page or a Munchkin-tracked page, recorded with the
//!   page's Webpage ID and Link ID and no email. "Click Email" (activity 11, "Clicks Link in
//!   Email") is the email click. So a web link click is not `email_click`; nor is it a
//!   `page_view`, because the page the link leads to, when tracked, records its own Visit Web
//!   Page and would be scored twice. It becomes a `custom` event named `click_link` (rules match
//!   it with `event = "click_link"`), with the link as `url` and as `target` so rules can filter
//!   it with a `target` glob (`url` filters apply to `page_view` and `email_click` only).
//! - A token Marketo could not fill arrives literally (`{{lead.Job Title}}`), and an empty
//!   field arrives as `""`: both count as absent, so they never overwrite what another source
//!   (HubSpot, the website) said.
//! - Attributes present on a non-identify activity add an `identify` event `<id>:identify` at
//!   the same time: a webhook carries the lead's current fields, which is fit data.
//! - Attribute fields: `firstName`, `lastName`, `title` (-> `job_title`), `company`, `website`
//!   (-> `company_domain`, reduced to the bare domain), `industry`, `numberOfEmployees` (->
//!   `company_size`), `annualRevenue` (-> `annual_revenue`), `country`, `state`, `city`,
//!   `phone`, `leadSource` (-> `lead_source`), `seniority`, `role`, and any `custom.<name>`.
//!   Other fields are ignored.
//! - `occurredAt`: RFC 3339, or Marketo's `2026-03-02 10:05:00` (what `{{system.dateTime}}`
//!   prints). That token prints the wall clock of the instance's time zone (Admin > Location)
//!   with no offset, so a time without an offset is read in the zone given to [`parse_in`]
//!   (`LEADSCORE_MARKETO_TIMEZONE` in the ingest handler, an IANA name such as
//!   `America/Chicago`; [`parse`] and the default use UTC). A time with an offset (`Z`,
//!   `-06:00`, `+0100`) or a ` UTC` suffix keeps it. Across a daylight-saving change, a wall
//!   clock time of the repeated hour is taken at its first occurrence, and one of the skipped
//!   hour (which that clock never shows) is refused with the zone named.
//! - Ids: `marketo:{activity}:{activityId}`; without `activityId`,
//!   `marketo:{leadId or email}:{activity}:{epoch ms}` (two same-second activities of one lead
//!   then collapse: send `activityId`).
//! - The lead is `CrmRef("marketo", leadId)` and/or the email; the account is the website's
//!   domain, else the email's unless it is a consumer mail provider.
//! - Content types: `application/json` (or a `+json` type) or
//!   `application/x-www-form-urlencoded`, the two encodings Marketo's "Request Token Encoding"
//!   offers (JSON, Form/Url); anything else, `text/plain` and a missing type included, is
//!   refused (the ingest handler answers 415). Marketo's docs do not say which `Content-Type`
//!   a webhook carries without a custom header, and nothing found shows it sending
//!   `text/plain`; a webhook can name its type exactly with the custom header
//!   `Content-Type: application/json` (Webhooks Actions > Set Custom Header), which the setup
//!   should add. A body labelled form-encoded that starts with `{` is read as JSON, so a JSON
//!   template works whichever of the two labels it gets.

use crate::events::util::{
    account_from_email, domain_of, kind_of, looks_like_email, loose_time, parse_json, scalar,
    LooseTime, Obj,
};
use crate::{Ignored, Inbound, LeadRef, Parsed, SourceError};
use chrono::{DateTime, LocalResult, TimeZone, Utc};
use leadscore_domain::{AttrValue, Event, EventKind};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The CRM system name of Marketo lead ids.
pub const SYSTEM: &str = "marketo";

/// Template fields that carry lead attributes, and the attribute each one sets.
const ATTRIBUTE_FIELDS: &[(&str, &str)] = &[
    ("firstName", "first_name"),
    ("lastName", "last_name"),
    ("title", "job_title"),
    ("company", "company"),
    ("website", "company_domain"),
    ("industry", "industry"),
    ("numberOfEmployees", "company_size"),
    ("annualRevenue", "annual_revenue"),
    ("country", "country"),
    ("state", "state"),
    ("city", "city"),
    ("phone", "phone"),
    ("leadSource", "lead_source"),
    ("seniority", "seniority"),
    ("role", "role"),
];

/// An IANA time zone (`"America/Chicago".parse::<Tz>()`), for [`parse_in`].
pub use chrono_tz::Tz;

/// Parses a Marketo webhook body sent with `content_type`, reading times without an offset
/// as UTC (see the module doc).
pub fn parse(body: &[u8], content_type: &str) -> Result<Parsed, SourceError> {
    parse_in(body, content_type, Tz::UTC)
}

/// Parses a Marketo webhook body sent with `content_type`, reading times without an offset
/// (`{{system.dateTime}}`) as wall-clock times of `zone`, the instance's time zone.
pub fn parse_in(body: &[u8], content_type: &str, zone: Tz) -> Result<Parsed, SourceError> {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let json_media = media == "application/json" || media.ends_with("+json");
    if !json_media && media != "application/x-www-form-urlencoded" {
        return Err(SourceError::field(
            "content-type",
            format!("`{content_type}` is neither application/json nor application/x-www-form-urlencoded"),
        ));
    }
    let starts_like_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[');
    let map = if json_media || starts_like_json {
        match parse_json(body)? {
            Value::Object(map) => map,
            other => {
                return Err(SourceError::field(
                    "$",
                    format!("expected one JSON object, found {}", kind_of(&other)),
                ))
            }
        }
    } else {
        form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect()
    };
    let map = without_unfilled(map);
    let value = Value::Object(map);
    let o = Obj::new(&value, String::new())?;
    one(&o, zone)
}

/// `occurredAt` as an instant: as written when it has an offset, else in `zone`.
fn occurred_at(o: &Obj<'_>, zone: Tz) -> Result<DateTime<Utc>, SourceError> {
    let raw = o.req_str("occurredAt")?;
    match loose_time(raw) {
        Some(LooseTime::Instant(t)) => Ok(t),
        Some(LooseTime::Local(wall)) => match zone.from_local_datetime(&wall) {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            // The repeated hour when clocks go back: its first occurrence.
            LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
            LocalResult::None => Err(o.err(
                "occurredAt",
                format!(
                    "`{raw}` does not exist in {zone} (clocks skip it for daylight saving): \
                     check LEADSCORE_MARKETO_TIMEZONE against the instance's time zone"
                ),
            )),
        },
        None => Err(o.err(
            "occurredAt",
            format!("`{raw}` is not RFC 3339 or YYYY-MM-DD HH:MM:SS"),
        )),
    }
}

/// Drops nulls, blanks and tokens Marketo did not fill (`{{lead.Job Title}}`).
fn without_unfilled(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .filter(|(_, v)| match v {
            Value::Null => false,
            Value::String(s) => {
                let s = s.trim();
                let unfilled = s.contains("{{") && s.contains("}}");
                !s.is_empty() && !unfilled
            }
            _ => true,
        })
        .collect()
}

/// The kind an activity name maps to; `None` for activities not used.
fn kind(activity: &str) -> Option<EventKind> {
    Some(match activity {
        "visit_webpage" | "visit_web_page" => EventKind::PageView,
        "fill_out_form" => EventKind::FormSubmit,
        "click_email" => EventKind::EmailClick,
        "click_link" => EventKind::Custom,
        "open_email" => EventKind::EmailOpen,
        "unsubscribe_email" => EventKind::EmailUnsubscribe,
        "email_bounced" => EventKind::EmailBounce,
        "new_lead" | "change_data_value" => EventKind::Identify,
        "interesting_moment" => EventKind::Custom,
        _ => return None,
    })
}

fn one(o: &Obj<'_>, zone: Tz) -> Result<Parsed, SourceError> {
    let mut parsed = Parsed::default();
    let raw = o.req_str("activity")?;
    let activity: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let Some(kind) = kind(&activity) else {
        parsed.ignored.push(Ignored {
            index: 0,
            reason: format!("unknown Marketo activity `{raw}`"),
        });
        return Ok(parsed);
    };

    let lead_id = o.opt_id("leadId")?;
    let email = o.opt_str("email")?.map(str::trim);
    if let Some(e) = email.filter(|e| !looks_like_email(e)) {
        return Err(o.err("email", format!("`{e}` is not an email address")));
    }
    let lead = match (&lead_id, email) {
        (None, None) => {
            return Err(o.err(
                "leadId",
                "missing (a Marketo webhook needs leadId or email)",
            ))
        }
        (id, email) => LeadRef {
            email: email.and_then(|e| LeadRef::email(e).email),
            crm: id.as_ref().map(|id| crate::CrmRef {
                system: SYSTEM,
                id: id.clone(),
            }),
        },
    };
    let at = occurred_at(o, zone)?;

    let id = match o.opt_id("activityId")? {
        Some(a) => format!("marketo:{activity}:{a}"),
        None => {
            let who = lead_id
                .clone()
                .or_else(|| lead.email.clone())
                .unwrap_or_default();
            format!("marketo:{who}:{activity}:{}", at.timestamp_millis())
        }
    };
    let attributes = attributes(o)?;
    let account = match attributes.get("company_domain") {
        Some(AttrValue::Text(d)) => Some(d.clone()),
        _ => email.and_then(account_from_email),
    };
    let with_email = |mut attrs: BTreeMap<String, AttrValue>| {
        if let Some(e) = &lead.email {
            attrs.insert("email".into(), AttrValue::Text(e.clone()));
        }
        attrs
    };

    let mut event = Event::new(id.clone(), at, kind);
    let asset = o.opt_str("asset")?.map(|s| s.trim().to_owned());
    match activity.as_str() {
        "visit_webpage" | "visit_web_page" => {
            let url = o
                .req_str("url")
                .map_err(|_| o.err("url", "missing (visit_webpage needs the page URL)"))?;
            event.url = Some(url.trim().to_owned());
            event.target = asset;
        }
        "click_email" => {
            event.url = o.opt_str("url")?.map(|s| s.trim().to_owned());
            event.target = asset;
        }
        "click_link" => {
            let url = o
                .req_str("url")
                .map_err(|_| o.err("url", "missing (click_link needs the link URL)"))?
                .trim()
                .to_owned();
            event.name = Some("click_link".into());
            event.url = Some(url.clone());
            event.target = Some(url);
            if let Some(a) = asset {
                event.properties.insert("asset".into(), AttrValue::Text(a));
            }
        }
        "interesting_moment" => {
            event.name = Some("interesting_moment".into());
            event.target = asset;
        }
        _ => event.target = asset,
    }
    if kind == EventKind::Identify {
        event.properties = with_email(attributes);
        parsed.items.push(Inbound::Event {
            lead,
            account,
            event,
        });
        return Ok(parsed);
    }
    parsed.items.push(Inbound::Event {
        lead: lead.clone(),
        account: account.clone(),
        event,
    });
    if !attributes.is_empty() {
        let mut identify = Event::new(format!("{id}:identify"), at, EventKind::Identify);
        identify.properties = with_email(attributes);
        parsed.items.push(Inbound::Event {
            lead: lead.clone(),
            account,
            event: identify,
        });
    }
    Ok(parsed)
}

/// The lead attributes present in the payload, under our attribute names.
fn attributes(o: &Obj<'_>) -> Result<BTreeMap<String, AttrValue>, SourceError> {
    let mut out = BTreeMap::new();
    for (field, v) in o.fields() {
        let name = if let Some((_, a)) = ATTRIBUTE_FIELDS.iter().find(|(f, _)| f == field) {
            (*a).to_owned()
        } else if field.strip_prefix("custom.").is_some_and(|n| !n.is_empty()) {
            field.clone()
        } else {
            continue;
        };
        let value = scalar(v).ok_or_else(|| {
            o.err(
                field,
                format!("expected a string or number, found {}", kind_of(v)),
            )
        })?;
        let value = match (name.as_str(), value) {
            ("company_domain", AttrValue::Text(w)) => match domain_of(&w) {
                Some(d) => AttrValue::Text(d),
                None => continue,
            },
            (_, AttrValue::Text(s)) => AttrValue::Text(s.trim().to_owned()),
            (_, v) => v,
        };
        out.insert(name, value);
    }
    Ok(out)
}
