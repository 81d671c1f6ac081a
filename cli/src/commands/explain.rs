//! `leadscore explain LEAD`: score, grade, stage, history and every ledger entry.

use crate::error::CliError;
use crate::stores::StoreArgs;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// An email, a CRM id (hubspot:123, or a bare HubSpot id) or a lead id.
    pub lead: String,
    /// The model file (for the grade).
    #[arg(long, default_value = "models/example.toml")]
    pub model: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: &Args) -> Result<(), CliError> {
    let model = super::load_model(&args.model)?;
    let runtime = super::runtime()?;
    let explained = runtime.block_on(async {
        let opened = args.store.open_existing().await?;
        crate::with_store!(&opened, |s| crate::explain::load(s, &args.lead).await)
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &explained.json(&model))
            .map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", explained.text(&model))?;
    }
    Ok(())
}
