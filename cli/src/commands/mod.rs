pub mod model_check;
pub mod score;

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
