//! `leadscore replay FILE.jsonl --model FILE`: feeds recorded webhook requests (see
//! `crate::recording`; `leadscore demo --record` writes them) through a model on a fresh
//! embedded store, the way production would have seen them: each request at its recorded
//! time, and the nightly sweep after each day. Prints the report, so a model change can be
//! tried on history before it ships.

use crate::demo::generate::DemoSecrets;
use crate::error::CliError;
use crate::local::{Local, Notices, Printed};
use crate::report::Report;
use chrono::{Duration, NaiveDate};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leadscore_store::MemoryStore;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Recorded requests, one JSON object per line.
    pub file: PathBuf,
    /// The model to score them with.
    #[arg(long, default_value = "models/example.toml")]
    pub model: PathBuf,
    /// Verify signatures with the demo's fixed secrets (for `demo --record` files) instead of
    /// the `LEADSCORE_*` secret variables.
    #[arg(long)]
    pub demo_secrets: bool,
    /// Keep running the nightly sweep through this day (default: the last request's day).
    #[arg(long, value_parser = super::parse_day)]
    pub through: Option<NaiveDate>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as an HTML page to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Keep the resulting store in this file (for `explain` and `report --data`).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<(), CliError> {
    let text = super::read(&args.file)?;
    let file = args.file.display().to_string();
    let mut requests = crate::recording::parse(&file, &text)?;
    if requests.is_empty() {
        return Err(CliError::Usage(format!("{file} holds no requests")));
    }
    // Stable: requests recorded at the same instant keep their order.
    requests.sort_by_key(|(at, _)| *at);
    let vars = if args.demo_secrets {
        DemoSecrets::fixed().ingest_vars()
    } else {
        Vec::new()
    };
    let get = |k: &str| {
        vars.iter()
            .find(|(v, _)| *v == k)
            .map(|(_, x)| x.clone())
            .or_else(|| std::env::var(k).ok())
    };
    let (ingest, model) = super::ingest_config(&args.model, get)?;
    let store = MemoryStore::new();
    let printed = Printed::default();
    let routes = crate::local::print_routes()?;
    let local = Local::new(
        &store,
        model,
        ingest,
        routes,
        &Notices::Print(printed.clone()),
    )?;
    let last_day = requests.last().map(|(at, _)| at.date_naive());
    let through = args.through.or(last_day).unwrap_or_default();
    if last_day.is_some_and(|last| through < last) {
        return Err(CliError::Usage(format!(
            "--through {through} is before the last request's day"
        )));
    }

    let bar =
        ProgressBar::with_draw_target(Some(requests.len() as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} requests  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let runtime = super::runtime()?;
    let (mut rejected, mut to_nurture) = (Vec::new(), 0usize);
    runtime.block_on(async {
        let night = crate::local::night_at;
        // The next night to sweep; night D runs at D+1 02:00, after the requests before it.
        let mut next_night = requests.first().map(|(at, _)| at.date_naive());
        for (at, req) in &requests {
            while let Some(day) = next_night.filter(|d| night(*d) <= *at) {
                to_nurture += local.sweep(day, night(day)).await?.to_nurture;
                next_night = Some(day + Duration::days(1));
            }
            let done = local.ingest(req, *at).await?;
            if done.response.status != 200 {
                rejected.push((req.path.clone(), done.response.status, done.response.body));
            }
            bar.set_message(at.date_naive().to_string());
            bar.inc(1);
        }
        while let Some(day) = next_night.filter(|d| *d <= through) {
            to_nurture += local.sweep(day, night(day)).await?.to_nurture;
            next_night = Some(day + Duration::days(1));
        }
        Ok::<_, CliError>(())
    })?;
    bar.finish_and_clear();
    if let Some(path) = &args.save {
        store
            .save_to(path)
            .map_err(|e| CliError::Store(e.to_string()))?;
    }
    let leads = store.leads().map_err(|e| CliError::Store(e.to_string()))?;
    let report = Report::of(local.model(), &leads);
    if let Some(path) = &args.html {
        std::fs::write(path, report.html()).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?;
    }
    let notices = printed.lock().unwrap_or_else(|e| e.into_inner()).len();
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = json!({
            "requests": requests.len(),
            "rejected": rejected.len(),
            "notices": notices,
            "to_nurture": to_nurture,
            "report": report,
        });
        serde_json::to_writer_pretty(&mut out, &value).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} requests ({} rejected), {notices} MQL notices, {to_nurture} to nurture; swept through {through}.\n",
            requests.len(),
            rejected.len(),
        )?;
        for (path, status, body) in rejected.iter().take(5) {
            writeln!(out, "  rejected {path}: {status} {body}")?;
        }
        write!(out, "{}", report.text())?;
    }
    Ok(())
}
