//! `leadscore score`: plays a JSONL file of normalized events through a model the way
//! production would (see `leadscore_domain::replay`).

use crate::error::CliError;
use chrono::NaiveDate;
use leadscore_domain::{explain, replay, Event};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Normalized events, one JSON object per line, each with a `lead` (email or CRM id).
    pub events: PathBuf,
    /// The model file.
    #[arg(long, default_value = "models/example.toml")]
    pub model: PathBuf,
    /// Keep running nightly decay until this day (YYYY-MM-DD); default: the last event's day.
    #[arg(long, value_parser = super::parse_day)]
    pub through: Option<NaiveDate>,
    /// How many reasons to show per lead.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Reads `lead`-tagged events; a bad line is reported as `file:line: problem`.
pub fn read_events(path: &Path) -> Result<Vec<(String, Event)>, CliError> {
    let text = super::read(path)?;
    replay::parse_jsonl(&text).map_err(|e| CliError::Input {
        file: path.display().to_string(),
        line: e.line,
        message: e.message,
    })
}

pub fn run(args: &Args) -> Result<(), CliError> {
    let model = super::load_model(&args.model)?;
    let events = read_events(&args.events)?;
    if events.is_empty() {
        return Err(CliError::Usage(format!(
            "{} holds no events",
            args.events.display()
        )));
    }
    let played = replay::play(&model, events, args.through);
    let (leads, log) = (played.leads, played.log);
    let mut out = std::io::stdout().lock();
    if args.json {
        let leads: Vec<_> = leads
            .values()
            .map(|s| {
                json!({
                    "lead": s.lead_id,
                    "stage": s.stage,
                    "grade": s.grade(&model),
                    "scores": s.scores,
                    "reasons": explain(&s.ledger, args.top),
                    "transitions": s.transitions,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &json!({ "model": model.name, "leads": leads }))
            .map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "Lifecycle moves:")?;
    for (lead, t) in &log {
        writeln!(
            out,
            "  {}  {lead}: {} -> {} ({})",
            t.at.format("%Y-%m-%d"),
            t.from,
            t.to,
            t.reason
        )?;
    }
    writeln!(out, "\nLeads (model `{}`):", model.name)?;
    for s in leads.values() {
        let sc = &s.scores;
        writeln!(
            out,
            "\n  {}  score {} (fit {}, activity {})  grade {}  stage {}",
            s.lead_id,
            sc.total,
            sc.fit,
            sc.activity,
            s.grade(&model),
            s.stage
        )?;
        if !sc.products.is_empty() {
            let p: Vec<String> = sc
                .products
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            writeln!(out, "    products: {}", p.join(", "))?;
        }
        for c in explain(&s.ledger, args.top) {
            let sign = if c.points.0 > 0 { "+" } else { "" };
            let n = c.entries;
            writeln!(
                out,
                "    {:>8}  {} {} ({n} {}, last {})",
                format!("{sign}{}", c.points),
                c.kind,
                c.id,
                if n == 1 { "entry" } else { "entries" },
                c.last_at.format("%Y-%m-%d")
            )?;
        }
    }
    Ok(())
}
