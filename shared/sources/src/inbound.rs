//! What a parsed webhook yields: normalized events with who they are about, erasure and
//! merge requests, and the items it ignored (with why).

use leadscore_domain::Event;
use serde::Serialize;

/// A lead's id in a CRM (`system` is "hubspot" or "marketo").
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CrmRef {
    pub system: &'static str,
    pub id: String,
}

/// Who an inbound item is about: an email (trimmed, lower-cased), a CRM id, or both. The
/// store resolves either to one lead through aliases.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct LeadRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crm: Option<CrmRef>,
}

impl LeadRef {
    pub fn email(email: &str) -> LeadRef {
        LeadRef {
            email: Some(normalize_email(email)),
            crm: None,
        }
    }

    pub fn crm(system: &'static str, id: impl Into<String>) -> LeadRef {
        LeadRef {
            email: None,
            crm: Some(CrmRef {
                system,
                id: id.into(),
            }),
        }
    }
}

/// Trims and lower-cases an email address (the whole address: providers treat the local part
/// case-insensitively in practice).
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Inbound {
    /// A normalized event about a lead; `account` is the company: its domain (`acme.io`), or
    /// a CRM company as `<system>:company:<id>` (`hubspot:company:901`). Absent means unknown.
    Event {
        lead: LeadRef,
        #[serde(skip_serializing_if = "Option::is_none")]
        account: Option<String>,
        event: Event,
    },
    /// Erase everything about the lead (GDPR deletion, CRM deletion).
    Erase { lead: LeadRef, reason: String },
    /// The CRM merged `merged` into `into`: they are one lead from now on.
    Merge { into: LeadRef, merged: Vec<LeadRef> },
}

/// An item of a valid batch that was not turned into anything, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// Position in the batch (0 for a single-object body).
    pub index: usize,
    pub reason: String,
}

/// The result of parsing one webhook body.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Parsed {
    pub items: Vec<Inbound>,
    pub ignored: Vec<Ignored>,
}
