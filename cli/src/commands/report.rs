//! `leadscore report`: stages, the grade matrix, a score histogram and the MQL -> SQL
//! conversion of every lead in the store; as text, `--json`, or an HTML page (`--html FILE`).

use crate::error::CliError;
use crate::report::Report;
use crate::stores::StoreArgs;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The model file (for the grades).
    #[arg(long, default_value = "models/example.toml")]
    pub model: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as an HTML page with charts to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: &Args) -> Result<(), CliError> {
    let model = super::load_model(&args.model)?;
    let runtime = super::runtime()?;
    let leads = runtime.block_on(async { args.store.open_existing().await?.all_leads().await })?;
    let report = Report::of(&model, &leads);
    if let Some(path) = &args.html {
        std::fs::write(path, report.html()).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", report.text())?;
        if let Some(path) = &args.html {
            writeln!(out, "\nHTML report: {}", path.display())?;
        }
    }
    Ok(())
}
