//! SendGrid's Event Webhook: a JSON array of events.
//!
//! | `event` | becomes |
//! |---|---|
//! | `open` | `email_open`; `sg_machine_open: true` sets `machine` (privacy proxies, scanners) |
//! | `click` | `email_click` with `url` (required) |
//! | `unsubscribe`, `group_unsubscribe` | `email_unsubscribe` (a group one keeps `asm_group_id` in properties) |
//! | `spamreport` | `email_spam_report` |
//! | `bounce` with `type` `bounce` (or no type) | `email_bounce` |
//! | `bounce` with `type` `blocked` | ignored: a temporary refusal by the receiving server (reputation, content), not a bad address |
//! | `processed`, `delivered`, `deferred`, `dropped`, `group_resubscribe`, others | ignored, with the reason |
//!
//! Every event needs a string `event`. The events we use also need `sg_event_id` (the dedupe
//! key: the id is `sendgrid:{sg_event_id}`), `email` and `timestamp` (epoch seconds); a
//! missing or mistyped one fails the body with its path (`[3].timestamp`). Ignored events are
//! not checked further, so a quirk in a delivery receipt cannot block the opens beside it.
//!
//! `target` (what rules filter with `target`): the first `category` (a string or an array),
//! else `marketing_campaign_id` / `singlesend_id`, else the send's id (the part of
//! `sg_message_id` before the first `.`, shared by every recipient of one API send).
//! Custom args (top-level fields SendGrid does not define) with scalar values become event
//! properties, so rules can filter on them. The account is the email's domain unless it is a
//! consumer mail provider.

use crate::events::util::{
    account_from_email, expect_array, kind_of, looks_like_email, parse_json, scalar, Obj,
};
use crate::{Ignored, Inbound, LeadRef, Parsed, SourceError};
use chrono::DateTime;
use leadscore_domain::{AttrValue, Event, EventKind};
use serde_json::Value;

/// Fields SendGrid defines; anything else at the top level is a custom arg.
const STANDARD_FIELDS: &[&str] = &[
    "email",
    "timestamp",
    "event",
    "sg_event_id",
    "sg_message_id",
    "sg_machine_open",
    "sg_content_type",
    "sg_template_id",
    "sg_template_name",
    "smtp-id",
    "category",
    "url",
    "url_offset",
    "useragent",
    "ip",
    "type",
    "reason",
    "status",
    "response",
    "attempt",
    "tls",
    "cert_err",
    "asm_group_id",
    "bounce_classification",
    "marketing_campaign_id",
    "marketing_campaign_name",
    "marketing_campaign_version",
    "marketing_campaign_split_id",
    "singlesend_id",
    "singlesend_name",
    "template_id",
    "template_version_id",
    "mc_stats",
    "phase_id",
    "send_at",
    "pool",
    "newsletter",
];

/// Parses a SendGrid event webhook body (see the module doc).
pub fn parse(body: &[u8]) -> Result<Parsed, SourceError> {
    let value = parse_json(body)?;
    let list = expect_array(&value, "SendGrid events")?;
    let mut parsed = Parsed::default();
    for (i, v) in list.iter().enumerate() {
        let o = Obj::new(v, format!("[{i}]"))?;
        match one(&o)? {
            Ok(item) => parsed.items.push(item),
            Err(reason) => parsed.ignored.push(Ignored { index: i, reason }),
        }
    }
    Ok(parsed)
}

/// One event: `Ok(Ok(item))`, `Ok(Err(why it is ignored))`, or a field error.
fn one(o: &Obj<'_>) -> Result<Result<Inbound, String>, SourceError> {
    let name = o.req_str("event")?;
    let kind = match name {
        "open" => EventKind::EmailOpen,
        "click" => EventKind::EmailClick,
        "unsubscribe" | "group_unsubscribe" => EventKind::EmailUnsubscribe,
        "spamreport" => EventKind::EmailSpamReport,
        "bounce" => match o.opt_str("type")? {
            None | Some("bounce") => EventKind::EmailBounce,
            Some("blocked") => {
                return Ok(Err(
                    "bounce of type blocked: a temporary refusal by the receiving server, not a bad address"
                        .into(),
                ))
            }
            Some(other) => return Ok(Err(format!("bounce of unknown type `{other}`"))),
        },
        "processed" | "delivered" | "deferred" => {
            return Ok(Err(format!("{name}: a delivery receipt, not engagement")))
        }
        "dropped" => {
            return Ok(Err(
                "dropped: SendGrid did not send it (suppressed or invalid)".into(),
            ))
        }
        "group_resubscribe" => {
            return Ok(Err(
                "group_resubscribe: resubscribing is not scored".into()
            ))
        }
        other => return Ok(Err(format!("unknown event `{other}`"))),
    };

    let event_id = o.req_str("sg_event_id")?;
    let email = o.req_str("email")?;
    if !looks_like_email(email) {
        return Err(o.err("email", format!("`{email}` is not an email address")));
    }
    let secs = o.req_int("timestamp")?;
    let at = DateTime::from_timestamp(secs, 0).ok_or_else(|| {
        o.err(
            "timestamp",
            format!("{secs} is not a usable time in epoch seconds"),
        )
    })?;

    let mut event = Event::new(format!("sendgrid:{event_id}"), at, kind);
    event.machine = kind == EventKind::EmailOpen && o.opt_bool("sg_machine_open")?.unwrap_or(false);
    if kind == EventKind::EmailClick {
        event.url = Some(o.req_str("url")?.to_owned());
    }
    event.target = target(o)?;
    if name == "group_unsubscribe" {
        if let Some(g) = o.get("asm_group_id").and_then(scalar) {
            event.properties.insert("asm_group_id".into(), g);
        }
    }
    for (k, v) in o.fields() {
        if STANDARD_FIELDS.contains(&k.as_str()) {
            continue;
        }
        if let Some(value) = scalar(v).filter(|v| *v != AttrValue::Null) {
            event.properties.insert(k.clone(), value);
        }
    }
    Ok(Ok(Inbound::Event {
        lead: LeadRef::email(email),
        account: account_from_email(email),
        event,
    }))
}

/// The first category, else a campaign or single send id, else the send's message id.
fn target(o: &Obj<'_>) -> Result<Option<String>, SourceError> {
    match o.get("category") {
        None => {}
        Some(Value::String(s)) if !s.trim().is_empty() => return Ok(Some(s.trim().to_owned())),
        Some(Value::String(_)) => {}
        Some(Value::Array(list)) => {
            let mut first = None;
            for (j, c) in list.iter().enumerate() {
                match c {
                    Value::String(s) => {
                        if first.is_none() && !s.trim().is_empty() {
                            first = Some(s.trim().to_owned());
                        }
                    }
                    other => {
                        return Err(SourceError::field(
                            format!("{}[{j}]", o.path("category")),
                            format!("expected a string, found {}", kind_of(other)),
                        ))
                    }
                }
            }
            if first.is_some() {
                return Ok(first);
            }
        }
        Some(other) => {
            return Err(o.err(
                "category",
                format!(
                    "expected a string or an array of strings, found {}",
                    kind_of(other)
                ),
            ))
        }
    }
    for key in ["marketing_campaign_id", "singlesend_id"] {
        if let Some(id) = o.opt_id(key)? {
            return Ok(Some(id));
        }
    }
    Ok(o.opt_str("sg_message_id")?
        .and_then(|m| m.split('.').next())
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_owned))
}
