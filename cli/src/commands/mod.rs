pub mod demo;
pub mod explain;
pub mod model_check;
pub mod replay;
pub mod report;
pub mod score;
pub mod serve;
pub mod sweep;

use crate::error::CliError;
use leadscore_domain::Model;
use std::path::Path;

pub fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })
}

pub fn load_model(path: &Path) -> Result<Model, CliError> {
    let src = read(path)?;
    Ok(Model::from_toml(&src, &path.display().to_string())?)
}

/// The async runtime for commands that use the store (one thread: the CLI does one thing at a
/// time).
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Output)
}

pub fn parse_day(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("`{s}` is not a date like 2026-03-31 ({e})"))
}
