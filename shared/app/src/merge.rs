//! CRM merges (HubSpot `contact.merge`): fold the absorbed lead into the survivor, so the
//! contact that remains carries both histories, scored as one lead (`leadscore_domain::merge`).

use crate::config::IngestConfig;
use crate::error::IngestError;
use crate::ingest::{backoff, MAX_ATTEMPTS};
use chrono::{DateTime, Utc};
use leadscore_domain::{merge, Transition};
use leadscore_store::{Alias, LeadStore, StoreError};

/// What a merge did.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    /// The surviving lead's id, when either side was known.
    pub lead: Option<String>,
    /// True when two scored leads became one.
    pub folded: bool,
    pub transitions: Vec<Transition>,
}

/// Merges the lead named by `absorbed` into the lead named by `into`.
/// - Both known and different: the histories are folded, the absorbed lead is deleted and its
///   aliases point at the survivor (one transaction, retried on conflict).
/// - Only one known: it takes the other side's aliases, so later events find it.
/// - Neither known, or already one lead: nothing to do (a redelivered merge lands here).
pub(crate) async fn merge_leads<S: LeadStore>(
    cfg: &IngestConfig,
    store: &S,
    into: &[Alias],
    absorbed: &[Alias],
    now: DateTime<Utc>,
) -> Result<Merged, IngestError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let all: Vec<Alias> = into.iter().chain(absorbed).cloned().collect();
        let resolved = store.resolve(&all).await?;
        let first = |r: &[Option<String>]| r.iter().flatten().next().cloned();
        let survivor = first(&resolved[..into.len()]);
        let gone = first(&resolved[into.len()..]);
        let unowned: Vec<Alias> = all
            .iter()
            .zip(&resolved)
            .filter(|(_, r)| r.is_none())
            .map(|(a, _)| a.clone())
            .collect();
        let result = match (survivor, gone) {
            (None, None) => return Ok(Merged::default()),
            (Some(s), Some(g)) if s == g => {
                return Ok(Merged {
                    lead: Some(s),
                    ..Merged::default()
                })
            }
            (Some(lead), None) | (None, Some(lead)) => {
                // One side only: it takes the other's names.
                let Some(stored) = store.load(&lead).await? else {
                    return Ok(Merged::default());
                };
                if unowned.is_empty() {
                    return Ok(Merged {
                        lead: Some(lead),
                        ..Merged::default()
                    });
                }
                store
                    .save(&stored.state, Some(stored.version), &unowned)
                    .await
                    .map(|_| Merged {
                        lead: Some(lead.clone()),
                        ..Merged::default()
                    })
            }
            (Some(s), Some(g)) => {
                let (Some(keep), Some(fold)) = (store.load(&s).await?, store.load(&g).await?)
                else {
                    // One was erased meanwhile: start again from the aliases.
                    if attempt < MAX_ATTEMPTS {
                        continue;
                    }
                    return Ok(Merged::default());
                };
                let mut state = keep.state;
                let out = merge(&cfg.model, &mut state, &fold.state, now);
                store
                    .save_merged(&state, keep.version, &unowned, &g, fold.version)
                    .await
                    .map(|_| Merged {
                        lead: Some(s.clone()),
                        folded: true,
                        transitions: out.transitions,
                    })
            }
        };
        match result {
            Ok(m) => return Ok(m),
            Err(StoreError::Conflict(_)) if attempt < MAX_ATTEMPTS => {
                tokio::time::sleep(backoff(attempt, &all[0].0, now)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
