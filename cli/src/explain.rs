//! `leadscore explain LEAD`: a lead's score, grade, stage and history, with every ledger entry
//! that makes up the score.

use crate::error::CliError;
use leadscore_domain::{LeadState, LedgerEntry, Model, Points};
use leadscore_store::{Alias, LeadStore, StoreError};
use serde_json::{json, Value};
use std::fmt::Write as _;

fn store_error(e: StoreError) -> CliError {
    CliError::Store(e.to_string())
}

/// Finds a lead by an email, a CRM id (`hubspot:123`, or a bare HubSpot id `123`) or its
/// lead id. `None` when nothing matches.
pub async fn find<S: LeadStore>(store: &S, lead: &str) -> Result<Option<String>, CliError> {
    let lead = lead.trim();
    if lead.is_empty() {
        return Ok(None);
    }
    let mut candidates = Vec::new();
    if lead.contains('@') && !lead.contains(':') {
        candidates.push(Alias::new("email", &lead.to_lowercase()));
    } else if lead.bytes().all(|b| b.is_ascii_digit()) {
        candidates.push(Alias::new("hubspot", lead));
    } else {
        candidates.push(Alias(lead.to_owned()));
    }
    let resolved = store.resolve(&candidates).await.map_err(store_error)?;
    if let Some(Some(id)) = resolved.into_iter().next() {
        return Ok(Some(id));
    }
    // A lead id that is no alias (or the alias it was created under).
    let id = candidates[0].0.clone();
    Ok(store
        .load(&id)
        .await
        .map_err(store_error)?
        .map(|s| s.state.lead_id))
}

/// Everything `explain` shows about one lead.
pub struct Explained {
    pub state: LeadState,
    pub entries: Vec<LedgerEntry>,
    pub aliases: Vec<String>,
}

pub async fn load<S: LeadStore>(store: &S, lead: &str) -> Result<Explained, CliError> {
    let Some(id) = find(store, lead).await? else {
        return Err(CliError::NotFound(format!(
            "no lead `{lead}`: give an email, a CRM id such as hubspot:123, or a lead id"
        )));
    };
    let stored = store
        .load(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| CliError::NotFound(format!("lead `{id}` is gone")))?;
    let entries = store.ledger(&id).await.map_err(store_error)?;
    let aliases = (store.aliases(&id).await.map_err(store_error)?)
        .into_iter()
        .map(|a| a.0)
        .collect();
    Ok(Explained {
        state: stored.state,
        entries,
        aliases,
    })
}

fn attr(state: &LeadState, name: &str) -> Option<String> {
    state
        .attributes
        .get(name)
        .and_then(|v| v.as_text())
        .map(str::to_owned)
}

impl Explained {
    /// Entries past the store's retention are gone; their points are still in the score.
    fn expired_points(&self) -> Points {
        let held: Points = self.entries.iter().map(|e| e.points).sum();
        Points(self.state.scores.total.0 - held.0)
    }

    pub fn json(&self, model: &Model) -> Value {
        let s = &self.state;
        json!({
            "lead": s.lead_id,
            "aliases": self.aliases,
            "attributes": s.attributes,
            "stage": s.stage,
            "stage_since": s.stage_since,
            "grade": s.grade(model).to_string(),
            "scores": s.scores,
            "first_seen_at": s.first_seen_at,
            "last_engaged_at": s.last_engaged_at,
            "transitions": s.transitions,
            "ledger": self.entries,
            "ledger_sum": self.entries.iter().map(|e| e.points).sum::<Points>(),
            "expired_points": self.expired_points(),
        })
    }

    pub fn text(&self, model: &Model) -> String {
        let s = &self.state;
        let mut o = String::new();
        let name = [attr(s, "first_name"), attr(s, "last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let _ = write!(o, "{}", s.lead_id);
        if !name.is_empty() {
            let _ = write!(o, "  {name}");
        }
        // The email attribute, else the email the lead is known by.
        let email = attr(s, "email").or_else(|| {
            (self.aliases.iter())
                .find_map(|a| a.strip_prefix("email:"))
                .map(str::to_owned)
        });
        if let Some(email) = email {
            let _ = write!(o, " <{email}>");
        }
        o.push('\n');
        let role = [attr(s, "job_title"), attr(s, "company")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" at ");
        if !role.is_empty() {
            let _ = writeln!(o, "  {role}");
        }
        if !self.aliases.is_empty() {
            let _ = writeln!(o, "  known as: {}", self.aliases.join(", "));
        }
        let sc = &s.scores;
        let _ = writeln!(
            o,
            "\nscore {} (fit {}, activity {})  grade {}  stage {}{}",
            sc.total,
            sc.fit,
            sc.activity,
            s.grade(model),
            s.stage,
            s.stage_since
                .map(|t| format!(" since {}", t.format("%Y-%m-%d")))
                .unwrap_or_default()
        );
        if !sc.products.is_empty() {
            let p: Vec<String> = (sc.products.iter())
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let _ = writeln!(o, "products: {}", p.join(", "));
        }
        if !s.transitions.is_empty() {
            let _ = writeln!(o, "\nhistory:");
            for t in &s.transitions {
                let _ = writeln!(
                    o,
                    "  {}  {} -> {}  {}",
                    t.at.format("%Y-%m-%d %H:%M"),
                    t.from,
                    t.to,
                    t.reason
                );
            }
        }
        let sum: Points = self.entries.iter().map(|e| e.points).sum();
        let _ = writeln!(
            o,
            "\nledger: {} entries, sum {sum}{}",
            self.entries.len(),
            if self.expired_points().is_zero() {
                " = the score".to_owned()
            } else {
                format!(
                    " (+{} from entries past retention = the score)",
                    self.expired_points()
                )
            }
        );
        for e in &self.entries {
            let (kind, id) = e.subject();
            let sign = if e.points.0 > 0 { "+" } else { "" };
            let _ = writeln!(
                o,
                "  #{:<4} {}  {:>8}  {kind} {id}{}",
                e.seq,
                e.occurred_at().format("%Y-%m-%d"),
                format!("{sign}{}", e.points),
                e.product
                    .as_ref()
                    .map(|p| format!(" [{p}]"))
                    .unwrap_or_default()
            );
        }
        o
    }
}
