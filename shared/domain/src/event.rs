//! Normalized events: what every source (HubSpot, Marketo, SendGrid, website) is turned into
//! before it reaches the engine.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A value of a lead attribute or an event property.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttrValue {
    Bool(bool),
    Number(f64),
    Text(String),
    /// An explicit null clears an attribute.
    Null,
}

impl AttrValue {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AttrValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Numbers, and text that reads as a number ("250", "1,200").
    pub fn as_number(&self) -> Option<f64> {
        match self {
            AttrValue::Number(n) => Some(*n),
            AttrValue::Text(s) => s.trim().replace(',', "").parse().ok(),
            _ => None,
        }
    }

    pub fn is_present(&self) -> bool {
        match self {
            AttrValue::Null => false,
            AttrValue::Text(s) => !s.trim().is_empty(),
            _ => true,
        }
    }
}

pub type Attributes = BTreeMap<String, AttrValue>;

/// Every kind of normalized event. The scoring kinds can be named by activity rules;
/// `identify` carries fit attributes and `sales_feedback` carries a CRM stage change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    PageView,
    EmailOpen,
    EmailClick,
    EmailReply,
    EmailBounce,
    EmailUnsubscribe,
    EmailSpamReport,
    FormSubmit,
    ContentDownload,
    WebinarRegistered,
    WebinarAttended,
    TrialStarted,
    DemoRequest,
    VideoWatched,
    Social,
    PhoneCall,
    Purchase,
    Custom,
    Identify,
    SalesFeedback,
}

impl EventKind {
    /// The number of kinds (`kind as usize` is below it).
    pub const COUNT: usize = 20;

    /// Kinds that activity rules may score.
    pub const SCORABLE: [EventKind; 18] = [
        EventKind::PageView,
        EventKind::EmailOpen,
        EventKind::EmailClick,
        EventKind::EmailReply,
        EventKind::EmailBounce,
        EventKind::EmailUnsubscribe,
        EventKind::EmailSpamReport,
        EventKind::FormSubmit,
        EventKind::ContentDownload,
        EventKind::WebinarRegistered,
        EventKind::WebinarAttended,
        EventKind::TrialStarted,
        EventKind::DemoRequest,
        EventKind::VideoWatched,
        EventKind::Social,
        EventKind::PhoneCall,
        EventKind::Purchase,
        EventKind::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::PageView => "page_view",
            EventKind::EmailOpen => "email_open",
            EventKind::EmailClick => "email_click",
            EventKind::EmailReply => "email_reply",
            EventKind::EmailBounce => "email_bounce",
            EventKind::EmailUnsubscribe => "email_unsubscribe",
            EventKind::EmailSpamReport => "email_spam_report",
            EventKind::FormSubmit => "form_submit",
            EventKind::ContentDownload => "content_download",
            EventKind::WebinarRegistered => "webinar_registered",
            EventKind::WebinarAttended => "webinar_attended",
            EventKind::TrialStarted => "trial_started",
            EventKind::DemoRequest => "demo_request",
            EventKind::VideoWatched => "video_watched",
            EventKind::Social => "social",
            EventKind::PhoneCall => "phone_call",
            EventKind::Purchase => "purchase",
            EventKind::Custom => "custom",
            EventKind::Identify => "identify",
            EventKind::SalesFeedback => "sales_feedback",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        Self::SCORABLE
            .into_iter()
            .chain([EventKind::Identify, EventKind::SalesFeedback])
            .find(|k| k.as_str() == s)
    }

    pub fn is_scorable(self) -> bool {
        !matches!(self, EventKind::Identify | EventKind::SalesFeedback)
    }

    /// Kinds whose events carry a URL (`url` filters apply to them).
    pub fn has_url(self) -> bool {
        matches!(self, EventKind::PageView | EventKind::EmailClick)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What sales said about a lead in the CRM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackOutcome {
    /// Sales accepted the lead: SQL.
    Accepted,
    /// Sales rejected it for good (wrong fit, spam, competitor).
    Disqualified,
    /// Not now: back to marketing.
    Recycled,
    /// Closed won: customer.
    Won,
    /// Start over as a plain lead (e.g. a churned customer, or a disqualification undone).
    Reopened,
}

impl FeedbackOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackOutcome::Accepted => "accepted",
            FeedbackOutcome::Disqualified => "disqualified",
            FeedbackOutcome::Recycled => "recycled",
            FeedbackOutcome::Won => "won",
            FeedbackOutcome::Reopened => "reopened",
        }
    }
}

/// One normalized event. Flat rather than an enum per kind: it parses fast and the
/// fields a kind does not use are simply absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique per event and source: applying the same id twice changes nothing.
    pub id: String,
    pub occurred_at: DateTime<Utc>,
    pub kind: EventKind,
    /// Page URL (page_view) or clicked link (email_click).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// What the event is about: form id, asset, webinar, video, campaign, network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Percent of a video watched, 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// An email open by a privacy proxy or scanner, not a person.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub machine: bool,
    /// The event name of a `custom` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Event properties (custom events) or the attributes of an `identify`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, AttrValue>,
    /// The outcome of a `sales_feedback` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<FeedbackOutcome>,
    /// The lead's company as the source names it (see [`crate::account`]), when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl Event {
    /// A bare event of `kind`; set the other fields as needed.
    pub fn new(id: impl Into<String>, occurred_at: DateTime<Utc>, kind: EventKind) -> Event {
        Event {
            id: id.into(),
            occurred_at,
            kind,
            url: None,
            target: None,
            percent: None,
            machine: false,
            name: None,
            properties: BTreeMap::new(),
            outcome: None,
            account: None,
        }
    }

    pub fn with_url(mut self, url: impl Into<String>) -> Event {
        self.url = Some(url.into());
        self
    }

    pub fn with_target(mut self, target: impl Into<String>) -> Event {
        self.target = Some(target.into());
        self
    }

    pub fn with_percent(mut self, percent: f64) -> Event {
        self.percent = Some(percent);
        self
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Event {
        self.name = Some(name.into());
        self
    }

    pub fn with_property(mut self, key: impl Into<String>, value: AttrValue) -> Event {
        self.properties.insert(key.into(), value);
        self
    }

    pub fn with_outcome(mut self, outcome: FeedbackOutcome) -> Event {
        self.outcome = Some(outcome);
        self
    }

    pub fn machine(mut self) -> Event {
        self.machine = true;
        self
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> AttrValue {
        AttrValue::Text(s.to_owned())
    }
}
impl From<f64> for AttrValue {
    fn from(n: f64) -> AttrValue {
        AttrValue::Number(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for k in EventKind::SCORABLE
            .into_iter()
            .chain([EventKind::Identify, EventKind::SalesFeedback])
        {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(EventKind::parse("page-view"), None);
    }

    #[test]
    fn parses_a_minimal_event_and_rejects_an_unknown_kind() {
        let e: Event = serde_json::from_str(
            r#"{"id":"e1","occurred_at":"2026-01-05T10:00:00Z","kind":"page_view","url":"https://x.io/pricing"}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::PageView);
        assert!(!e.machine);
        let err = serde_json::from_str::<Event>(
            r#"{"id":"e1","occurred_at":"2026-01-05T10:00:00Z","kind":"teleport"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
    }

    #[test]
    fn numbers_read_from_text() {
        assert_eq!(AttrValue::from("1,200").as_number(), Some(1200.0));
        assert_eq!(AttrValue::from("n/a").as_number(), None);
        assert!(!AttrValue::from("  ").is_present());
        assert!(!AttrValue::Null.is_present());
    }
}
