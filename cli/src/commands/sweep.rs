//! `leadscore sweep`: the nightly sweep now, through yesterday or `--as-of` a day: decay,
//! expiry, cold leads to nurture, as the sweep Lambda does.

use crate::error::CliError;
use crate::local::{Local, Notices};
use crate::stores::StoreArgs;
use chrono::{NaiveDate, Utc};
use leadscore_app::notify::Routes;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Sweep as if it were this day's night: decay through the day before (YYYY-MM-DD).
    /// Default: today (so through yesterday).
    #[arg(long, value_parser = super::parse_day)]
    pub as_of: Option<NaiveDate>,
    /// The model file.
    #[arg(long, default_value = "models/example.toml")]
    pub model: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: &Args) -> Result<(), CliError> {
    let (ingest, model) = super::ingest_config(&args.model, |_| None)?;
    let today = Utc::now().date_naive();
    let as_of = args.as_of.unwrap_or(today);
    // A night in the future would decay days that have not happened: later real nights
    // would then skip them.
    if as_of > today {
        return Err(CliError::Usage(format!(
            "--as-of {as_of}: that night has not come yet (today is {today})"
        )));
    }
    let through = as_of
        .checked_sub_days(chrono::Days::new(1))
        .ok_or_else(|| CliError::Usage(format!("--as-of {as_of}: too early")))?;
    let now = crate::local::night_at(through);
    let runtime = super::runtime()?;
    let night = runtime.block_on(async {
        let opened = args.store.open_existing().await?;
        let night = crate::with_store!(&opened, |s| {
            let routes = Routes::default();
            let local = Local::new(
                s,
                model,
                ingest,
                routes,
                &Notices::Print(Default::default()),
            )?;
            local.sweep(through, now).await
        })?;
        opened.persist()?;
        Ok::<_, CliError>(night)
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "swept through {through}: {} leads decayed, {} to nurture, {} recycled",
        night.leads, night.to_nurture, night.recycled
    )?;
    for h in &night.handoffs {
        writeln!(
            out,
            "  {} -> {}: {}",
            h["lead"].as_str().unwrap_or("?"),
            h["to"].as_str().unwrap_or("?"),
            h["reason_text"].as_str().unwrap_or("")
        )?;
    }
    Ok(())
}
