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

/// The ingest handler's configuration from `get` and the model file at `path`, as the ingest
/// Lambda reads them, and the model once more for the sweep (a `Model` is not `Clone`).
pub fn ingest_config(
    path: &Path,
    get: impl Fn(&str) -> Option<String>,
) -> Result<(leadscore_app::config::IngestConfig, Model), CliError> {
    let text = read(path)?;
    let origin = path.display().to_string();
    let config_error = |e| match e {
        leadscore_app::config::ConfigError::Model(errors) => CliError::Model(errors),
        other => CliError::Usage(other.to_string()),
    };
    let ingest = leadscore_app::config::IngestConfig::from_lookup(&get, &text, &origin)
        .map_err(config_error)?;
    let model =
        leadscore_app::config::model_from_lookup(&get, &text, &origin).map_err(config_error)?;
    Ok((ingest, model))
}
