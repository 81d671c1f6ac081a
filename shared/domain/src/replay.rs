//! Plays a recorded history of events through a model the way production runs it: each
//! day's events in one batch per lead (the webhooks), then every lead's decay for that day
//! (the nightly sweep). Used by `leadscore score`, golden tests and model comparisons.

use crate::engine::{apply, decay, end_of_day, LeadState};
use crate::event::Event;
use crate::lifecycle::Transition;
use crate::model::Model;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// What a replay produced.
#[derive(Debug, Default)]
pub struct Played {
    pub leads: BTreeMap<String, LeadState>,
    /// Every lifecycle move, in the order it happened, with its lead.
    pub log: Vec<(String, Transition)>,
}

/// Replays `(lead, event)` pairs from the first event's day through `through` (at least the
/// last event's day).
pub fn play(model: &Model, mut events: Vec<(String, Event)>, through: Option<NaiveDate>) -> Played {
    events.sort_by_key(|(_, e)| e.occurred_at);
    let mut played = Played::default();
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return played;
    };
    let first_day = first.1.occurred_at.date_naive();
    let last_event_day = last.1.occurred_at.date_naive();
    let last_day = through.map_or(last_event_day, |t| t.max(last_event_day));
    let mut events = events.into_iter().peekable();
    for day in first_day.iter_days().take_while(|d| *d <= last_day) {
        let now = end_of_day(day);
        let mut batches: BTreeMap<String, Vec<Event>> = BTreeMap::new();
        while let Some((lead, e)) = events.next_if(|(_, e)| e.occurred_at.date_naive() <= day) {
            batches.entry(lead).or_default().push(e);
        }
        for (lead, batch) in batches {
            let state = played
                .leads
                .entry(lead.clone())
                .or_insert_with(|| LeadState::new(lead.clone()));
            let out = apply(model, state, &batch, now);
            played
                .log
                .extend(out.transitions.into_iter().map(|t| (lead.clone(), t)));
        }
        for (lead, state) in played.leads.iter_mut() {
            let out = decay(model, state, day, now);
            played
                .log
                .extend(out.transitions.into_iter().map(|t| (lead.clone(), t)));
        }
    }
    played
}

/// A line of a history file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

#[derive(serde::Deserialize)]
struct Line {
    lead: String,
    #[serde(flatten)]
    event: Event,
}

/// Parses a history: one JSON event per line with a `lead` (email or CRM id); blank lines
/// and `#` comments are skipped. Lead keys are trimmed and lower-cased.
pub fn parse_jsonl(text: &str) -> Result<Vec<(String, Event)>, LineError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| LineError {
            line: i + 1,
            message,
        };
        let parsed: Line = serde_json::from_str(line).map_err(|e| err(e.to_string()))?;
        let lead = parsed.lead.trim().to_lowercase();
        if lead.is_empty() {
            return Err(err("`lead` must not be empty".into()));
        }
        out.push((lead, parsed.event));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reports_the_line_of_a_bad_event() {
        let text = "# c\n{\"lead\":\"A@x.io\",\"id\":\"1\",\"occurred_at\":\"2026-01-01T00:00:00Z\",\"kind\":\"trial_started\"}\n\n{\"lead\":\"a@x.io\",\"id\":\"2\"}\n";
        let err = parse_jsonl(text).unwrap_err();
        assert_eq!(err.line, 4);
        assert!(err.message.contains("missing field"), "{}", err.message);
        let ok = parse_jsonl(&text.lines().take(2).collect::<Vec<_>>().join("\n")).unwrap();
        assert_eq!(ok[0].0, "a@x.io");
        let err = parse_jsonl("{\"lead\":\" \",\"id\":\"1\",\"occurred_at\":\"2026-01-01T00:00:00Z\",\"kind\":\"custom\"}").unwrap_err();
        assert_eq!(
            (err.line, err.message.as_str()),
            (1, "`lead` must not be empty")
        );
    }

    #[test]
    fn play_runs_decay_through_the_requested_day() {
        let model = Model::from_toml(
            "[model]\nname='t'\n[thresholds]\nmql=100\nmql_exit=50\n[decay]\nidle_days=1\nevery='day'\npoints=1\n[[activity]]\nid='t'\nkind='trial_started'\npoints=10\n",
            "t",
        )
        .unwrap();
        let events = parse_jsonl("{\"lead\":\"a\",\"id\":\"1\",\"occurred_at\":\"2026-01-01T10:00:00Z\",\"kind\":\"trial_started\"}").unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
        let played = play(&model, events, Some(day(4)));
        // Idle from Jan 2 (1 idle day): one point a day on the 2nd, 3rd and 4th.
        assert_eq!(played.leads["a"].scores.total, crate::Points::whole(7));
        assert_eq!(played.leads["a"].decayed_through, Some(day(4)));
    }
}
