//! The CLI's errors: one line (or one line per model problem), never a debug dump.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("error: cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every problem in a model file, one `file:line:column: message` per line.
    #[error("{0}")]
    Model(#[from] leadscore_domain::ModelErrors),
    #[error("{file}:{line}: {message}")]
    Input {
        file: String,
        line: usize,
        message: String,
    },
    #[error("error: {0}")]
    Usage(String),
    #[error("error: cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error: cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// An unknown lead, or another thing named on the command line that is not there.
    #[error("error: {0}")]
    NotFound(String),
    #[error("error: store: {0}")]
    Store(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}
