//! The MQL notice: what sales needs to know about a lead that just qualified, built by a
//! pure function (no I/O, no clock) so every channel tells the same story.

use chrono::{DateTime, Utc};
use leadscore_domain::{
    explain, AttrValue, Contributor, Grade, LeadState, LedgerEntry, Model, Points, Reason, Stage,
    Transition,
};
use std::fmt;

/// How many reasons a notice lists.
pub const TOP_REASONS: usize = 5;

/// HubSpot's default app host. Accounts hosted in other data centers use another one
/// (`app-eu1.hubspot.com`, `app-na2.hubspot.com`): see [`HubSpotPortal::with_app_host`].
pub const HUBSPOT_APP_HOST: &str = "app.hubspot.com";

/// A lead that just became an MQL, ready to render.
#[derive(Clone, Debug, PartialEq)]
pub struct MqlNotice {
    pub lead_id: String,
    /// "First Last", when either is known.
    pub name: Option<String>,
    pub email: Option<String>,
    pub job_title: Option<String>,
    /// The `company` attribute, else the company's domain.
    pub company: Option<String>,
    pub country: Option<String>,
    pub score: Points,
    pub fit: Points,
    pub activity: Points,
    pub grade: Grade,
    /// Product scores, highest first.
    pub products: Vec<ProductScore>,
    /// Why the lead qualified now.
    pub trigger: Trigger,
    pub qualified_at: DateTime<Utc>,
    pub first_seen_at: Option<DateTime<Utc>>,
    /// Whole days from the first touch to qualifying.
    pub days_since_first_touch: Option<i64>,
    /// The largest contributors to the score, largest first.
    pub reasons: Vec<ReasonLine>,
    pub crm: Option<CrmLink>,
    /// The model that scored the lead.
    pub model: String,
}

impl MqlNotice {
    /// The best name to call the lead by: its name, else its email, else its id.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .or(self.email.as_deref())
            .unwrap_or(&self.lead_id)
    }

    /// "VP Marketing at Acme", or whichever part is known.
    pub fn role_line(&self) -> Option<String> {
        match (&self.job_title, &self.company) {
            (Some(t), Some(c)) => Some(format!("{t} at {c}")),
            (Some(t), None) => Some(t.clone()),
            (None, Some(c)) => Some(c.clone()),
            (None, None) => None,
        }
    }

    /// "112 (fit 60, activity 52)".
    pub fn score_line(&self) -> String {
        format!(
            "{} (fit {}, activity {})",
            self.score, self.fit, self.activity
        )
    }

    /// "analytics 80, automation 12", or `None` without product scores.
    pub fn products_line(&self) -> Option<String> {
        if self.products.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .products
            .iter()
            .map(|p| format!("{} {}", p.product, p.points))
            .collect();
        Some(parts.join(", "))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductScore {
    pub product: String,
    pub points: Points,
}

/// What moved the lead into MQL.
#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    /// The total reached the MQL threshold.
    ScoreReached { score: Points, threshold: Points },
    /// A hand-raise: an instant-MQL rule matched an activity.
    InstantMql {
        rule: String,
        /// The rule in words: its description in the model, else its id.
        label: String,
        activity: String,
    },
    /// A reason the engine may add later; shown as the engine words it.
    Other(String),
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::ScoreReached { score, threshold } => {
                write!(f, "Score {score} reached the MQL threshold of {threshold}")
            }
            Trigger::InstantMql { label, .. } => write!(f, "Instant MQL: {label}"),
            Trigger::Other(s) => f.write_str(s),
        }
    }
}

/// What a reason is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReasonKind {
    Fit,
    Activity,
    Combination,
    Decay,
    Floor,
}

impl ReasonKind {
    fn of(kind: &str) -> ReasonKind {
        match kind {
            "fit" => ReasonKind::Fit,
            "combination" => ReasonKind::Combination,
            "decay" => ReasonKind::Decay,
            "floor" => ReasonKind::Floor,
            _ => ReasonKind::Activity,
        }
    }

    /// The kind in words, for people who never saw the model file.
    pub fn words(self) -> &'static str {
        match self {
            ReasonKind::Fit => "Fit",
            ReasonKind::Activity => "Activity",
            ReasonKind::Combination => "Combination bonus",
            ReasonKind::Decay => "Inactivity decay",
            ReasonKind::Floor => "Score floor",
        }
    }
}

/// One of the top reasons: a rule (or decay, or the floor) and the net points it brought.
#[derive(Clone, Debug, PartialEq)]
pub struct ReasonLine {
    pub kind: ReasonKind,
    /// The rule or combination id (`inactivity`, `score floor` for decay and the floor).
    pub rule: String,
    /// The rule in words: its description in the model, else the kind of activity it
    /// scores, else its id.
    pub label: String,
    pub points: Points,
    /// How many ledger entries make it up.
    pub entries: usize,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub product: Option<String>,
}

impl ReasonLine {
    /// "+40": signed like the CLI's explanations.
    pub fn signed_points(&self) -> String {
        if self.points.0 > 0 {
            format!("+{}", self.points)
        } else {
            self.points.to_string()
        }
    }

    /// "Activity: Requested a demo".
    pub fn title(&self) -> String {
        format!("{}: {}", self.kind.words(), self.label)
    }

    /// "2 times, 2026-03-02 to 2026-03-09" or "2026-03-09".
    pub fn when(&self) -> String {
        let first = self.first_at.format("%Y-%m-%d").to_string();
        let last = self.last_at.format("%Y-%m-%d").to_string();
        let dates = if first == last {
            first
        } else {
            format!("{first} to {last}")
        };
        if self.entries > 1 {
            format!("{} times, {dates}", self.entries)
        } else {
            dates
        }
    }
}

/// A link to the lead's record in the CRM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrmLink {
    /// The CRM's name, for a button ("Open in HubSpot").
    pub system: &'static str,
    pub url: String,
}

/// The CRM accounts links are built for. Empty: no links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrmLinks {
    pub hubspot: Option<HubSpotPortal>,
}

/// A HubSpot account (portal), to link contacts into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubSpotPortal {
    portal_id: u64,
    app_host: String,
}

impl HubSpotPortal {
    /// The account's Hub ID (portal id), on the default host `app.hubspot.com`.
    pub fn new(portal_id: u64) -> HubSpotPortal {
        HubSpotPortal {
            portal_id,
            app_host: HUBSPOT_APP_HOST.to_owned(),
        }
    }

    /// Another app host, for accounts in other data centers (`app-eu1.hubspot.com`). Only a
    /// host name is accepted (letters, digits, dots, dashes), so the link cannot be steered
    /// elsewhere by a scheme, a path or credentials.
    pub fn with_app_host(mut self, host: &str) -> Result<HubSpotPortal, NoticeError> {
        let host = host.trim().to_ascii_lowercase();
        let valid = !host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && !host.starts_with(['.', '-'])
            && !host.ends_with(['.', '-']);
        if !valid {
            return Err(NoticeError::HubSpotHost(host));
        }
        self.app_host = host;
        Ok(self)
    }

    pub fn portal_id(&self) -> u64 {
        self.portal_id
    }

    /// The contact's record page. HubSpot's record route is
    /// `https://<app host>/contacts/<portal id>/record/<object type id>/<record id>`, and
    /// contacts are object type `0-1` ("Understanding the CRM", object type IDs:
    /// https://developers.hubspot.com/docs/api/crm/understanding-the-crm). The route is the
    /// one HubSpot's own apps link records with; the app host differs per data center.
    pub fn contact_url(&self, contact_id: u64) -> String {
        format!(
            "https://{}/contacts/{}/record/0-1/{contact_id}",
            self.app_host, self.portal_id
        )
    }
}

/// The notice cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    #[error("the transition goes to `{0}`, not to `mql`")]
    NotAnMql(Stage),
    #[error("invalid HubSpot app host {0:?}: expected a host name such as app-eu1.hubspot.com")]
    HubSpotHost(String),
}

/// Everything a notice is built from.
#[derive(Clone, Copy, Debug)]
pub struct NoticeInput<'a> {
    /// The model that scored the lead: the grade bands and the rules' descriptions.
    pub model: &'a Model,
    /// The lead as saved with the transition.
    pub state: &'a LeadState,
    /// The lead's ledger entries as stored. Entries the state still holds (a lead that was
    /// never saved) are added; entries written after this state are left out.
    pub entries: &'a [LedgerEntry],
    /// The move into MQL.
    pub transition: &'a Transition,
    /// Other names of the lead (`hubspot:501`, `email:ana@acme.io`), for the CRM link.
    pub aliases: &'a [String],
    pub crm: &'a CrmLinks,
}

/// Builds the notice for a lead's move into MQL.
pub fn build_notice(input: &NoticeInput<'_>) -> Result<MqlNotice, NoticeError> {
    let NoticeInput {
        model,
        state,
        entries,
        transition,
        aliases,
        crm,
    } = *input;
    if transition.to != Stage::Mql {
        return Err(NoticeError::NotAnMql(transition.to));
    }

    let name = {
        let parts: Vec<String> = ["first_name", "last_name"]
            .into_iter()
            .filter_map(|k| attr(state, k))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    };
    let mut products: Vec<ProductScore> = state
        .scores
        .products
        .iter()
        .map(|(p, v)| ProductScore {
            product: p.to_string(),
            points: *v,
        })
        .collect();
    products.sort_by(|a, b| b.points.cmp(&a.points).then(a.product.cmp(&b.product)));

    let trigger = match &transition.reason {
        Reason::ScoreReached { score, threshold } => Trigger::ScoreReached {
            score: *score,
            threshold: *threshold,
        },
        Reason::InstantMql { rule, activity } => Trigger::InstantMql {
            rule: rule.to_string(),
            label: label(model, "activity", rule),
            activity: activity.to_string(),
        },
        other => Trigger::Other(other.to_string()),
    };

    let reasons = explain(&ledger_as_of(state, entries), TOP_REASONS)
        .into_iter()
        .map(|c| reason_line(model, c))
        .collect();

    let crm = crm.hubspot.as_ref().and_then(|portal| {
        hubspot_contact_id(&state.lead_id, aliases).map(|id| CrmLink {
            system: "HubSpot",
            url: portal.contact_url(id),
        })
    });

    Ok(MqlNotice {
        lead_id: state.lead_id.clone(),
        name,
        email: attr(state, "email"),
        job_title: attr(state, "job_title"),
        company: attr(state, "company").or_else(|| attr(state, "company_domain")),
        country: attr(state, "country"),
        score: state.scores.total,
        fit: state.scores.fit,
        activity: state.scores.activity,
        grade: state.grade(model),
        products,
        trigger,
        qualified_at: transition.at,
        first_seen_at: state.first_seen_at,
        days_since_first_touch: state
            .first_seen_at
            .map(|first| (transition.at - first).num_days().max(0)),
        reasons,
        crm,
        model: model.name.clone(),
    })
}

/// The entries the state's scores are the sum of: the stored ones the state counts, then
/// those it still holds. A later save may have stored more; they are not this notice's.
fn ledger_as_of(state: &LeadState, stored: &[LedgerEntry]) -> Vec<LedgerEntry> {
    let total = state.ledger.len_total();
    let mut out: Vec<LedgerEntry> = stored.iter().filter(|e| e.seq < total).cloned().collect();
    let next = out.iter().map(|e| e.seq + 1).max().unwrap_or(0);
    out.extend(state.ledger.iter().filter(|e| e.seq >= next).cloned());
    out
}

/// A text attribute, trimmed and on one line; numbers as written.
fn attr(state: &LeadState, key: &str) -> Option<String> {
    let v = match state.attributes.get(key)? {
        AttrValue::Text(s) => crate::text::one_line(s),
        AttrValue::Number(n) => n.to_string(),
        AttrValue::Bool(_) | AttrValue::Null => return None,
    };
    (!v.is_empty()).then_some(v)
}

fn reason_line(model: &Model, c: Contributor) -> ReasonLine {
    let kind = ReasonKind::of(&c.kind);
    ReasonLine {
        kind,
        label: match kind {
            ReasonKind::Decay => "no recent activity".to_owned(),
            ReasonKind::Floor => "held at the minimum score".to_owned(),
            _ => label(model, &c.kind, &c.id),
        },
        rule: c.id,
        points: c.points,
        entries: c.entries,
        first_at: c.first_at,
        last_at: c.last_at,
        product: c.product.map(|p| p.to_string()),
    }
}

/// A rule in words: its description, else (activities) the kind of event it scores, else
/// its id. Rules removed from the model since keep their id.
fn label(model: &Model, kind: &str, id: &str) -> String {
    let described = match kind {
        "fit" => model.fit_rules.iter().find(|r| r.id == id).map(|r| {
            r.description.clone().or_else(|| {
                Some(format!(
                    "{} ({id})",
                    capitalize(&r.attribute.replace(['_', '.'], " "))
                ))
            })
        }),
        "activity" => model
            .activity_rule_index(id)
            .and_then(|i| model.activity_rules.get(i))
            .map(|r| {
                r.description.clone().or_else(|| {
                    Some(format!(
                        "{} ({id})",
                        capitalize(&r.kind.as_str().replace('_', " "))
                    ))
                })
            }),
        "combination" => model
            .combinations
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.description.clone()),
        _ => None,
    };
    match described.flatten() {
        Some(d) if !crate::text::one_line(&d).is_empty() => crate::text::one_line(&d),
        _ => id.to_owned(),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The HubSpot contact id of a lead: its id or an alias `hubspot:<digits>` (company and
/// deal keys such as `hubspot:company:901` are not contacts).
fn hubspot_contact_id(lead_id: &str, aliases: &[String]) -> Option<u64> {
    std::iter::once(lead_id)
        .chain(aliases.iter().map(String::as_str))
        .find_map(|a| {
            let id = a.strip_prefix("hubspot:")?;
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            id.parse().ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hubspot_ids_come_from_the_lead_id_or_an_alias() {
        let none: &[String] = &[];
        assert_eq!(hubspot_contact_id("hubspot:501", none), Some(501));
        assert_eq!(hubspot_contact_id("email:a@b.io", none), None);
        assert_eq!(
            hubspot_contact_id("email:a@b.io", &["marketo:9".into(), "hubspot:77".into()]),
            Some(77)
        );
        assert_eq!(
            hubspot_contact_id(
                "hubspot:company:901",
                &["hubspot:".into(), "hubspot:1x".into()]
            ),
            None
        );
    }

    #[test]
    fn hubspot_hosts_are_host_names_only() {
        let p = HubSpotPortal::new(123);
        assert_eq!(
            p.contact_url(501),
            "https://app.hubspot.com/contacts/123/record/0-1/501"
        );
        let eu = p.clone().with_app_host("app-eu1.hubspot.com").unwrap();
        assert_eq!(
            eu.contact_url(7),
            "https://app-eu1.hubspot.com/contacts/123/record/0-1/7"
        );
        for bad in [
            "",
            "evil.com/x",
            "https://app.hubspot.com",
            "a b",
            "user@host",
            ".x",
        ] {
            assert!(p.clone().with_app_host(bad).is_err(), "{bad}");
        }
    }
}
