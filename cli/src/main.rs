//! `leadscore`: check a model file, score events locally.

mod commands;
mod error;

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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Model {
            command: ModelCommand::Check { file },
        } => commands::model_check::run(&file),
        Command::Score(args) => commands::score::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}
