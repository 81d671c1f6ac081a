//! leadscore's own event format, for website and product events (and anything a customer
//! sends without a vendor in between). The full reference is `docs/events-format.md`.
//!
//! A body is one event object, an array of them, or `{"events": [...]}`:
//!
//! ```json
//! {
//!   "id": "web-7f3a91",                       // required: unique per event (becomes "events:web-7f3a91")
//!   "type": "page_view",                      // required: a kind, e.g. page_view, video_watched, identify
//!   "email": "Ana@Acme.io",                   // required: who (trimmed, lower-cased)
//!   "timestamp": "2026-03-02T10:05:00Z",      // required: RFC 3339 with an offset
//!   "url": "https://acme.io/pricing",         // required for page_view; the link of an email_click
//!   "target": "pricing-page",                 // form, asset, webinar, video or campaign id
//!   "percent": 75,                            // 0..=100 (video_watched)
//!   "machine": false,                         // an open by a scanner or privacy proxy
//!   "name": "invited_teammate",               // required for custom
//!   "outcome": "accepted",                    // required for sales_feedback, rejected elsewhere
//!   "properties": {"plan": "team"},           // scalar values; not on identify
//!   "traits": {"job_title": "CTO"},           // attributes: identify's payload, or an extra identify
//!   "account": "acme.io"                      // company domain; default: the email's, unless free mail
//! }
//! ```
//!
//! Why these rules:
//! - An unknown `type` inside a valid batch is ignored and reported, not a failure of the batch: a
//!   sender may be ahead of us. Unknown fields are ignored for the same reason.
//! - Everything else that is wrong fails the whole body with the field's path (`[2].percent`,
//!   `events[0].url`): the sender is ours to fix, and a half-applied batch is harder to retry.
//! - `traits` names known attributes or `custom.<name>`; anything else is refused, because a
//!   misspelt attribute would otherwise be stored and never match a fit rule.
//! - `traits` on a non-identify event adds an identify event `<id>:identify` at the same time, so
//!   a form submit can carry what the form collected.

use crate::{Ignored, Inbound, LeadRef, Parsed, SourceError};
use leadscore_domain::{AttrValue, Event, EventKind, FeedbackOutcome};
use serde_json::Value;
use std::collections::BTreeMap;
use util::{account_from_email, kind_of, parse_json, Obj};

/// The longest `id` accepted: ids are stored for deduplication on every lead.
const MAX_ID_LEN: usize = 256;

/// Attribute names that `traits` may use besides `custom.<name>`: the model's own list.
pub use leadscore_domain::model::KNOWN_ATTRIBUTES;

const EXPECTED_BODY: &str = "expected an event object, an array of events or {\"events\": [...]}";

/// Parses a generic events body (see the module doc).
pub fn parse(body: &[u8]) -> Result<Parsed, SourceError> {
    let value = parse_json(body)?;
    let mut parsed = Parsed::default();
    match &value {
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                one(&Obj::new(v, format!("[{i}]"))?, i, &mut parsed)?;
            }
        }
        Value::Object(map) if map.contains_key("events") => match &map["events"] {
            Value::Array(list) => {
                for (i, v) in list.iter().enumerate() {
                    one(&Obj::new(v, format!("events[{i}]"))?, i, &mut parsed)?;
                }
            }
            other => {
                return Err(SourceError::field(
                    "events",
                    format!("expected an array of events, found {}", kind_of(other)),
                ))
            }
        },
        Value::Object(_) => one(&Obj::new(&value, String::new())?, 0, &mut parsed)?,
        other => {
            let found = kind_of(other);
            return Err(SourceError::field(
                "$",
                format!("{EXPECTED_BODY}, found {found}"),
            ));
        }
    }
    Ok(parsed)
}

/// One event object at `index` of its batch.
fn one(o: &Obj<'_>, index: usize, out: &mut Parsed) -> Result<(), SourceError> {
    let type_name = o.req_str("type")?;
    let Some(kind) = EventKind::parse(type_name) else {
        out.ignored.push(Ignored {
            index,
            reason: format!("unknown event type `{type_name}`"),
        });
        return Ok(());
    };
    let id = o.req_str("id")?;
    if id.len() > MAX_ID_LEN {
        return Err(o.err("id", format!("longer than {MAX_ID_LEN} bytes")));
    }
    let email = o.req_str("email")?;
    if !util::looks_like_email(email) {
        return Err(o.err("email", format!("`{email}` is not an email address")));
    }
    let at = o.req_str("timestamp")?;
    let occurred_at = util::rfc3339(at).ok_or_else(|| {
        o.err(
            "timestamp",
            format!("`{at}` is not an RFC 3339 time with an offset (e.g. 2026-03-02T10:05:00Z)"),
        )
    })?;

    let mut event = Event::new(format!("events:{id}"), occurred_at, kind);
    event.url = o.opt_str("url")?.map(str::to_owned);
    if kind == EventKind::PageView && event.url.is_none() {
        return Err(o.err("url", "missing (page_view needs the page URL)"));
    }
    event.target = o.opt_str("target")?.map(str::to_owned);
    if let Some(p) = o.get("percent") {
        let n = p.as_f64().ok_or_else(|| {
            o.err(
                "percent",
                format!("expected a number, found {}", kind_of(p)),
            )
        })?;
        if !(0.0..=100.0).contains(&n) {
            return Err(o.err("percent", format!("{n} is not between 0 and 100")));
        }
        event.percent = Some(n);
    }
    event.machine = o.opt_bool("machine")?.unwrap_or(false);
    event.name = o.opt_str("name")?.map(str::to_owned);
    if kind == EventKind::Custom && event.name.is_none() {
        return Err(o.err("name", "missing (a custom event needs a name)"));
    }
    match (kind, o.opt_str("outcome")?) {
        (EventKind::SalesFeedback, Some(s)) => event.outcome = Some(outcome(o, s)?),
        (EventKind::SalesFeedback, None) => {
            return Err(o.err(
                "outcome",
                "missing (sales_feedback needs accepted, disqualified, recycled, won or reopened)",
            ))
        }
        (_, Some(_)) => return Err(o.err("outcome", "only sales_feedback events have an outcome")),
        (_, None) => {}
    }
    let properties = scalars(o, "properties")?;
    let traits = traits(o)?;
    let account = match o.opt_str("account")? {
        Some(a) => Some(a.trim().to_lowercase()),
        None => account_from_email(email),
    };
    let lead = LeadRef::email(email);

    if kind == EventKind::Identify {
        if !properties.is_empty() {
            return Err(o.err(
                "properties",
                "identify takes its attributes in `traits`, not `properties`",
            ));
        }
        event.properties = traits;
        out.items.push(Inbound::Event {
            lead,
            account,
            event,
        });
        return Ok(());
    }
    event.properties = properties;
    let identify = (!traits.is_empty()).then(|| {
        let mut e = Event::new(
            format!("{}:identify", event.id),
            occurred_at,
            EventKind::Identify,
        );
        e.properties = traits;
        e
    });
    out.items.push(Inbound::Event {
        lead: lead.clone(),
        account: account.clone(),
        event,
    });
    if let Some(e) = identify {
        out.items.push(Inbound::Event {
            lead,
            account,
            event: e,
        });
    }
    Ok(())
}

fn outcome(o: &Obj<'_>, s: &str) -> Result<FeedbackOutcome, SourceError> {
    Ok(match s {
        "accepted" => FeedbackOutcome::Accepted,
        "disqualified" => FeedbackOutcome::Disqualified,
        "recycled" => FeedbackOutcome::Recycled,
        "won" => FeedbackOutcome::Won,
        "reopened" => FeedbackOutcome::Reopened,
        other => {
            return Err(o.err(
                "outcome",
                format!("`{other}` is not one of accepted, disqualified, recycled, won, reopened"),
            ))
        }
    })
}

/// An optional object of scalar values (strings, numbers, booleans, null).
fn scalars(o: &Obj<'_>, key: &str) -> Result<BTreeMap<String, AttrValue>, SourceError> {
    let Some(v) = o.get(key) else {
        return Ok(BTreeMap::new());
    };
    let Value::Object(map) = v else {
        return Err(o.err(key, format!("expected an object, found {}", kind_of(v))));
    };
    let base = o.path(key);
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let value = util::scalar(v).ok_or_else(|| {
            SourceError::field(
                format!("{base}.{k}"),
                format!(
                    "expected a string, number, boolean or null, found {}",
                    kind_of(v)
                ),
            )
        })?;
        out.insert(k.clone(), value);
    }
    Ok(out)
}

/// `traits`: scalar values under known attribute names or `custom.<name>`.
fn traits(o: &Obj<'_>) -> Result<BTreeMap<String, AttrValue>, SourceError> {
    let traits = scalars(o, "traits")?;
    let base = o.path("traits");
    for k in traits.keys() {
        let custom = k.strip_prefix("custom.").is_some_and(|n| !n.is_empty());
        if !custom && !KNOWN_ATTRIBUTES.contains(&k.as_str()) {
            return Err(SourceError::field(
                format!("{base}.{k}"),
                format!(
                    "unknown attribute `{k}` (known: {}; write others as custom.<name>)",
                    KNOWN_ATTRIBUTES.join(", ")
                ),
            ));
        }
    }
    Ok(traits)
}

/// JSON and value helpers shared by the parsers of this crate (the crate's module list is
/// fixed, so they live here rather than in a module of their own).
pub(crate) mod util {
    use crate::SourceError;
    use chrono::{DateTime, NaiveDateTime, Utc};
    use leadscore_domain::model::lists::FREE_MAIL_DOMAINS;
    use leadscore_domain::AttrValue;
    use serde_json::{Map, Value};

    /// Parses a whole body as JSON; a syntax error keeps its line and column.
    pub(crate) fn parse_json(body: &[u8]) -> Result<Value, SourceError> {
        serde_json::from_slice(body).map_err(|e| SourceError::from_json(&e))
    }

    /// The JSON type of a value, for "expected X, found Y" messages.
    /// The body as a JSON array of events, or a field error at `$` naming what was found.
    pub(crate) fn expect_array<'a>(
        value: &'a Value,
        what: &str,
    ) -> Result<&'a Vec<Value>, SourceError> {
        match value {
            Value::Array(list) => Ok(list),
            other => Err(SourceError::field(
                "$",
                format!("expected a JSON array of {what}, found {}", kind_of(other)),
            )),
        }
    }

    pub(crate) fn kind_of(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// A string, number, boolean or null as an attribute value; `None` for arrays and objects.
    pub(crate) fn scalar(v: &Value) -> Option<AttrValue> {
        match v {
            Value::Null => Some(AttrValue::Null),
            Value::Bool(b) => Some(AttrValue::Bool(*b)),
            Value::Number(n) => Some(match n.as_f64() {
                Some(f) => AttrValue::Number(f),
                None => AttrValue::Text(n.to_string()),
            }),
            Value::String(s) => Some(AttrValue::Text(s.clone())),
            Value::Array(_) | Value::Object(_) => None,
        }
    }

    /// One JSON object and where it sits in the body, so errors can name the field.
    pub(crate) struct Obj<'a> {
        map: &'a Map<String, Value>,
        /// `""` for the body itself, else like `[2]` or `events[0]`.
        path: String,
    }

    impl<'a> Obj<'a> {
        pub(crate) fn new(v: &'a Value, path: String) -> Result<Obj<'a>, SourceError> {
            match v {
                Value::Object(map) => Ok(Obj { map, path }),
                other => Err(SourceError::field(
                    if path.is_empty() { "$".into() } else { path },
                    format!("expected an object, found {}", kind_of(other)),
                )),
            }
        }

        pub(crate) fn path(&self, key: &str) -> String {
            if self.path.is_empty() {
                key.to_owned()
            } else {
                format!("{}.{key}", self.path)
            }
        }

        pub(crate) fn err(&self, key: &str, problem: impl Into<String>) -> SourceError {
            SourceError::field(self.path(key), problem)
        }

        /// The value under `key`; null counts as absent.
        pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
            self.map.get(key).filter(|v| !v.is_null())
        }

        /// Every field, null ones included.
        pub(crate) fn fields(&self) -> impl Iterator<Item = (&'a String, &'a Value)> {
            self.map.iter()
        }

        pub(crate) fn has(&self, key: &str) -> bool {
            self.get(key).is_some()
        }

        /// An optional string; blank counts as absent.
        pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, SourceError> {
            match self.get(key) {
                None => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(other) => {
                    Err(self.err(key, format!("expected a string, found {}", kind_of(other))))
                }
            }
        }

        /// A required, non-blank string.
        pub(crate) fn req_str(&self, key: &str) -> Result<&'a str, SourceError> {
            self.opt_str(key)?
                .ok_or_else(|| self.err(key, missing(self.map.get(key))))
        }

        pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, SourceError> {
            match self.get(key) {
                None => Ok(None),
                Some(Value::Bool(b)) => Ok(Some(*b)),
                Some(other) => Err(self.err(
                    key,
                    format!("expected true or false, found {}", kind_of(other)),
                )),
            }
        }

        /// A required whole number.
        pub(crate) fn req_int(&self, key: &str) -> Result<i64, SourceError> {
            match self.get(key) {
                None => Err(self.err(key, missing(self.map.get(key)))),
                Some(Value::Number(n)) => n
                    .as_i64()
                    .ok_or_else(|| self.err(key, format!("expected a whole number, found {n}"))),
                Some(other) => Err(self.err(
                    key,
                    format!("expected a whole number, found {}", kind_of(other)),
                )),
            }
        }

        /// An optional id: a whole number or a non-blank string, as text.
        pub(crate) fn opt_id(&self, key: &str) -> Result<Option<String>, SourceError> {
            match self.get(key) {
                None => Ok(None),
                Some(v) => id_text(v)
                    .map(Some)
                    .ok_or_else(|| self.err(key, not_an_id(v))),
            }
        }

        pub(crate) fn req_id(&self, key: &str) -> Result<String, SourceError> {
            self.opt_id(key)?
                .ok_or_else(|| self.err(key, missing(self.map.get(key))))
        }
    }

    fn missing(v: Option<&Value>) -> &'static str {
        match v {
            None => "missing",
            Some(Value::Null) => "null (a value is required)",
            Some(_) => "blank (a value is required)",
        }
    }

    /// A whole number or a non-blank string as an id's text.
    pub(crate) fn id_text(v: &Value) -> Option<String> {
        match v {
            Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            _ => None,
        }
    }

    pub(crate) fn not_an_id(v: &Value) -> String {
        match v {
            Value::Number(n) => format!("expected a whole-number id, found {n}"),
            Value::String(_) => "blank (an id is required)".into(),
            other => format!(
                "expected an id (number or string), found {}",
                kind_of(other)
            ),
        }
    }

    /// RFC 3339 with an offset (`Z` or `+02:00`), converted to UTC.
    pub(crate) fn rfc3339(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// A time as written: with an offset (or `Z`, or a ` UTC` suffix), or a wall-clock time
    /// whose zone the caller knows.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum LooseTime {
        Instant(DateTime<Utc>),
        Local(NaiveDateTime),
    }

    /// RFC 3339, or `YYYY-MM-DD HH:MM:SS` / `YYYY-MM-DDTHH:MM:SS` (optionally with fractions
    /// and an offset like `+01:00` or `+0100`, or a ` UTC` suffix), or `YYYY-MM-DD HH:MM`.
    pub(crate) fn loose_time(s: &str) -> Option<LooseTime> {
        let s = s.trim();
        if let Some(t) = rfc3339(s) {
            return Some(LooseTime::Instant(t));
        }
        for f in [
            "%Y-%m-%d %H:%M:%S%.f%:z",
            "%Y-%m-%d %H:%M:%S%.f%z",
            "%Y-%m-%dT%H:%M:%S%.f%z",
        ] {
            if let Ok(t) = DateTime::parse_from_str(s, f) {
                return Some(LooseTime::Instant(t.with_timezone(&Utc)));
            }
        }
        let (naive, utc) = match s.strip_suffix(" UTC") {
            Some(n) => (n, true),
            None => (s, false),
        };
        for f in [
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(naive, f) {
                return Some(if utc {
                    LooseTime::Instant(t.and_utc())
                } else {
                    LooseTime::Local(t)
                });
            }
        }
        None
    }

    /// Something@something.tld without spaces: enough to refuse a name or an id in its place.
    pub(crate) fn looks_like_email(s: &str) -> bool {
        let s = s.trim();
        match s.rsplit_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.chars().any(char::is_whitespace)
            }
            None => false,
        }
    }

    /// The account of a lead known only by email: its domain, unless a consumer mail
    /// provider (a gmail address says nothing about the company).
    pub(crate) fn account_from_email(email: &str) -> Option<String> {
        let email = crate::inbound::normalize_email(email);
        let (_, domain) = email.rsplit_once('@')?;
        if domain.is_empty() || !domain.contains('.') || FREE_MAIL_DOMAINS.contains(&domain) {
            return None;
        }
        Some(domain.to_owned())
    }

    /// A website value (`https://www.acme.io/about`) as a bare domain (`acme.io`).
    pub(crate) fn domain_of(website: &str) -> Option<String> {
        let s = website.trim().to_lowercase();
        let s = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .unwrap_or(&s);
        let s = s.strip_prefix("www.").unwrap_or(s);
        let host = s
            .split(['/', '?', '#', ':'])
            .next()
            .unwrap_or_default()
            .trim_end_matches('.');
        (!host.is_empty()).then(|| host.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::util::{domain_of, loose_time, LooseTime};
    use chrono::NaiveDate;

    #[test]
    fn websites_become_domains() {
        assert_eq!(
            domain_of("https://www.Acme.io/about?x=1").as_deref(),
            Some("acme.io")
        );
        assert_eq!(domain_of("acme.io").as_deref(), Some("acme.io"));
        assert_eq!(domain_of("  "), None);
    }

    #[test]
    fn marketo_style_times_are_wall_clock_unless_offset() {
        let wall = NaiveDate::from_ymd_opt(2026, 3, 2).and_then(|d| d.and_hms_opt(10, 5, 0));
        assert_eq!(
            loose_time("2026-03-02 10:05:00"),
            wall.map(LooseTime::Local)
        );
        assert_eq!(loose_time("2026-03-02 10:05"), wall.map(LooseTime::Local));
        let instant = |s: &str| match loose_time(s) {
            Some(LooseTime::Instant(t)) => Some(t.to_rfc3339()),
            _ => None,
        };
        let off = instant("2026-03-02 10:05:00-06:00");
        assert_eq!(off.as_deref(), Some("2026-03-02T16:05:00+00:00"));
        let utc = instant("2026-03-02 10:05:00 UTC");
        assert_eq!(utc.as_deref(), Some("2026-03-02T10:05:00+00:00"));
        let z = instant("2026-03-02T10:05:00Z");
        assert_eq!(z.as_deref(), Some("2026-03-02T10:05:00+00:00"));
        assert!(loose_time("yesterday").is_none());
    }
}
