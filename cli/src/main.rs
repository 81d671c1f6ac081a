//! `leadscore`: leadscore on one machine: check a model, score events, run the demo, explain a
//! lead, report, run the nightly sweep.

mod commands;
mod demo;
mod error;
mod explain;
mod local;
mod recording;
mod report;
mod stores;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "leadscore",
    version,
    about = "Lead scoring you can explain, test and replay"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with model files.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Score a JSONL file of normalized events with a model, day by day (events, then the
    /// nightly decay), and print each lead's score, grade, stage and reasons.
    Score(commands::score::Args),
    /// Run a few hundred generated leads over 90 simulated days through ingestion, the
    /// nightly sweep and the notifier; print the MQL notices, the leads going cold, a report.
    Demo(commands::demo::Args),
    /// A lead's score, grade, stage and history, with every ledger entry behind the score.
    Explain(commands::explain::Args),
    /// Stages, the A1-D4 grade matrix, a score histogram and MQL -> SQL conversion.
    Report(commands::report::Args),
    /// Run the nightly sweep now (decay, expiry, cold leads to nurture).
    Sweep(commands::sweep::Args),
    /// Serve the webhook routes over HTTP, with the sweep on demand (POST /admin/sweep).
    Serve(commands::serve::Args),
    /// Feed recorded webhook requests through a model, with the nightly sweeps, and report.
    Replay(commands::replay::Args),
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Validate a model file: errors as file:line:column, or a summary when it is valid.
    Check {
        /// The model file (TOML).
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return argument_error(e),
    };
    // The handlers' logs go to stderr: warnings and errors unless RUST_LOG asks for more.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
    let result = match cli.command {
        Command::Model {
            command: ModelCommand::Check { file },
        } => commands::model_check::run(&file),
        Command::Score(args) => commands::score::run(&args),
        Command::Demo(args) => commands::demo::run(&args),
        Command::Explain(args) => commands::explain::run(&args),
        Command::Report(args) => commands::report::run(&args),
        Command::Sweep(args) => commands::sweep::run(&args),
        Command::Serve(args) => commands::serve::run(&args),
        Command::Replay(args) => commands::replay::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// `--help` and `--version` as clap prints them; a bad argument as one line (clap's message
/// without its usage block), exit 2.
fn argument_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
    }
    let rendered = e.render().to_string();
    let message = rendered
        .split("\n\n")
        .next()
        .unwrap_or("")
        .split_whitespace();
    eprintln!("{}", message.collect::<Vec<_>>().join(" "));
    ExitCode::from(2)
}
