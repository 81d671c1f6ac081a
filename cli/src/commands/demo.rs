//! `leadscore demo`: a few hundred leads over 90 simulated days, from a seeded generator of
//! signed HubSpot, SendGrid and website webhooks, through the handlers the Lambdas run: each
//! day's webhooks through ingestion, the nightly sweep after each day, and the notifier on
//! each move into MQL. Prints the notices as they happen, the leads going cold, and a report.

use crate::demo::generate::{generate, DemoConfig, DemoSecrets};
use crate::error::CliError;
use crate::local::{Local, Notices, Printed};
use crate::report::Report;
use crate::stores::{Opened, StoreArgs};
use chrono::{Duration, NaiveDate};
use leadscore_app::config::IngestConfig;
use leadscore_domain::Model;
use leadscore_store::{DueIndex, LeadStore, SentLog};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// How many leads the generator makes.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub leads: u32,
    /// How many days to simulate.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub days: u32,
    /// The generator's seed: the same seed gives the same sample.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// The model file.
    #[arg(long, default_value = "models/example.toml")]
    pub model: PathBuf,
    /// Post the notices to this Slack incoming webhook (or a local Slack-compatible sink)
    /// instead of printing them.
    #[arg(long, value_name = "URL")]
    pub slack_url: Option<String>,
    /// Print each notice in full, as the Slack message reads, not in two lines.
    #[arg(long)]
    pub full: bool,
    /// Print one JSON summary at the end instead of the running text.
    #[arg(long)]
    pub json: bool,
    /// Also write every webhook request to this file, one JSON object per line, for
    /// `leadscore replay --demo-secrets`.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: &Args) -> Result<(), CliError> {
    let runtime = super::runtime()?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: &Args) -> Result<(), CliError> {
    let secrets = DemoSecrets::fixed();
    let vars = secrets.ingest_vars();
    let (ingest, model) = super::ingest_config(&args.model, |k| {
        vars.iter().find(|(v, _)| *v == k).map(|(_, x)| x.clone())
    })?;
    let cfg = DemoConfig {
        seed: args.seed,
        leads: args.leads as usize,
        days: args.days,
        ..DemoConfig::default()
    };
    let opened = args.store.open_fresh().await?;
    let sweep_model = super::load_model(&args.model)?;
    let summary = crate::with_store!(&opened, |s| play(
        s,
        sweep_model,
        ingest,
        &cfg,
        &secrets,
        args
    )
    .await)?;
    opened.persist()?;
    let leads = opened.all_leads().await?;
    let report = Report::of(&model, &leads);
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = json!({
            "deliveries": summary.deliveries,
            "rejected": summary.rejected,
            "notices": summary.notices,
            "mql": summary.mql,
            "cold": summary.cold,
            "personas": summary.personas.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "report": report,
        });
        serde_json::to_writer_pretty(&mut out, &value).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "\n{} webhook requests ({} rejected), {} MQL notices, {} leads to nurture.\n",
            summary.deliveries,
            summary.rejected,
            summary.notices,
            summary.cold.len()
        )?;
        write!(out, "{}", report.text())?;
        if let Opened::Embedded { path, .. } = &opened {
            writeln!(
                out,
                "\nSaved to {}: try `leadscore explain <email>` or `leadscore report --html report.html`.",
                path.display()
            )?;
        }
    }
    Ok(())
}

struct Summary {
    deliveries: usize,
    rejected: usize,
    notices: usize,
    /// `(day, lead)` of each move into MQL that was notified.
    mql: Vec<(NaiveDate, String)>,
    /// `(day, lead)` of each hand-off to nurture.
    cold: Vec<(NaiveDate, String)>,
    /// Each generated lead's id and persona (its fit profile).
    personas: Vec<(String, String)>,
}

async fn play<S: LeadStore + SentLog + DueIndex>(
    store: &S,
    model: Model,
    ingest: IngestConfig,
    cfg: &DemoConfig,
    secrets: &DemoSecrets,
    args: &Args,
) -> Result<Summary, CliError> {
    let sample = generate(cfg, secrets);
    if let Some(path) = &args.record {
        let lines: Vec<String> = (sample.deliveries.iter())
            .map(|d| crate::recording::line(d.at, &d.request))
            .collect();
        std::fs::write(path, lines.join("\n") + "\n").map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?;
    }
    let printed = Printed::default();
    let notices = match &args.slack_url {
        Some(url) => Notices::Slack(url.clone()),
        None => Notices::Print(printed.clone()),
    };
    let routes = crate::local::print_routes()?;
    let local = Local::new(store, model, ingest, routes, &notices)?;
    let mut summary = Summary {
        deliveries: sample.deliveries.len(),
        rejected: 0,
        notices: 0,
        mql: Vec::new(),
        cold: Vec::new(),
        personas: (sample.profiles.iter())
            .map(|p| (p.lead_id(), p.persona.to_string()))
            .collect(),
    };
    let mut out = std::io::stdout().lock();
    let quiet = args.json;
    let mut next = sample.deliveries.iter().peekable();
    for day in 0..cfg.days {
        let date = cfg.start + Duration::days(i64::from(day));
        // The night after `date`: decay through it, at 02:00 UTC the next day. Webhooks that
        // arrive before then are handled first, as in production.
        let night_at = crate::local::night_at(date);
        while let Some(d) = next.next_if(|d| d.at < night_at) {
            let done = local.ingest(&d.request, d.at).await?;
            if done.response.status != 200 {
                summary.rejected += 1;
                if !quiet {
                    writeln!(
                        out,
                        "{date}  rejected {} webhook: {} {}",
                        d.source, done.response.status, done.response.body
                    )?;
                }
            }
            for (lead, t, results) in &done.notified {
                let sent = results
                    .iter()
                    .filter(|r| **r == leadscore_app::notify::RouteResult::Sent)
                    .count();
                summary.notices += sent;
                if sent > 0 {
                    summary.mql.push((t.at.date_naive(), lead.clone()));
                }
            }
            for notice in printed.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
                if quiet {
                    continue;
                }
                if args.full {
                    writeln!(out, "{date}\n{}\n", crate::local::slack_text(&notice))?;
                    continue;
                }
                let reasons: Vec<String> = (notice.reasons.iter().take(3))
                    .map(|r| format!("{} {}", r.signed_points(), r.title()))
                    .collect();
                writeln!(
                    out,
                    "{date}  New MQL: {}  {}\n            {}",
                    notice.display_name(),
                    notice.score_line(),
                    reasons.join(", ")
                )?;
            }
        }
        let night = local.sweep(date, night_at).await?;
        for h in &night.handoffs {
            let lead = h["lead"].as_str().unwrap_or("?").to_owned();
            if h["to"] == "nurture" {
                if !quiet {
                    writeln!(
                        out,
                        "{date}  to nurture: {lead} ({})",
                        h["reason_text"].as_str().unwrap_or("")
                    )?;
                }
                summary.cold.push((date, lead));
            }
        }
    }
    Ok(summary)
}
