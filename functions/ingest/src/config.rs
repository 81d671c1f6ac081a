//! The Lambda's configuration, read once at cold start. A missing or invalid variable is a
//! typed error with a message naming it: `main` returns it, so the function's init fails
//! visibly instead of answering every webhook with an error.

use crate::secrets::{resolve_secrets, SecretProblem, SecretSource, SecretStore};
use leadscore_app::config::{ConfigError as IngestConfigError, IngestConfig, MODEL};
use leadscore_domain::ModelErrors;
use leadscore_store::settings;
use std::fmt;
use std::path::PathBuf;

/// The DynamoDB table that holds leads and aliases.
pub const TABLE: &str = "LEADSCORE_TABLE";

pub struct Config {
    pub table: String,
    /// How long ledger items are kept (`None`: for ever).
    pub ledger_ttl: Option<chrono::Duration>,
    /// Where the model was read from (for the cold-start log line).
    pub model_path: PathBuf,
    pub ingest: IngestConfig,
}

#[derive(thiserror::Error)]
pub enum ConfigError {
    #[error("{var} is not set: {what}")]
    Missing {
        var: &'static str,
        what: &'static str,
    },
    #[error("cannot read the model file `{}` ({var}): {source}", path.display())]
    UnreadableModel {
        var: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the model file `{}` is invalid:\n{errors}", path.display())]
    InvalidModel { path: PathBuf, errors: ModelErrors },
    #[error("{0}")]
    Ingest(#[source] IngestConfigError),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{var} and {param_var} are both set: set only one, the value itself or the SSM \
         parameter / Secrets Manager secret that holds it"
    )]
    AmbiguousSecret {
        var: &'static str,
        param_var: &'static str,
    },
    #[error("{param_var}: the {service} `{entry}` {problem}")]
    Secret {
        param_var: &'static str,
        service: SecretSource,
        entry: String,
        problem: SecretProblem,
    },
}

/// `main` returns this error, and Rust prints a returned error with `Debug`: print the
/// message, which names the variable and the fix, rather than the enum's structure.
impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Config {
    /// Reads the process environment (a value that is not UTF-8 is read lossily). Secrets
    /// are taken as plain values only: [`Config::load`] also resolves `_PARAM` variables.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(env_var)
    }

    /// What the Lambda runs at cold start: reads the process environment, fetching the
    /// secrets whose `<NAME>_PARAM` variable names an SSM parameter or Secrets Manager secret
    /// from `store` (see [`crate::secrets`]).
    pub async fn load(store: &impl SecretStore) -> Result<Config, ConfigError> {
        Config::load_from(env_var, store).await
    }

    /// [`Config::load`] through `get` instead of the process environment.
    pub async fn load_from(
        get: impl Fn(&str) -> Option<String>,
        store: &impl SecretStore,
    ) -> Result<Config, ConfigError> {
        let secrets = resolve_secrets(&get, store).await?;
        for var in secrets.vars() {
            tracing::info!(var, "secret read from its _PARAM entry");
        }
        Config::from_lookup(secrets.overlay(get))
    }

    /// Reads the configuration through `get` (empty values count as unset) and the model file
    /// it names from disk.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let table = get(TABLE)
            .map(|t| t.trim().to_owned())
            .ok_or(ConfigError::Missing {
                var: TABLE,
                what: "the DynamoDB table name",
            })?;
        let ledger_ttl = settings::ledger_ttl(get(settings::LEDGER_TTL_DAYS).as_deref())
            .map_err(ConfigError::Invalid)?;
        let model_path = PathBuf::from(get(MODEL).ok_or(ConfigError::Missing {
            var: MODEL,
            what: "the path of the scoring model TOML (e.g. models/example.toml)",
        })?);
        let text = std::fs::read_to_string(&model_path).map_err(|source| {
            ConfigError::UnreadableModel {
                var: MODEL,
                path: model_path.clone(),
                source,
            }
        })?;
        let origin = model_path.display().to_string();
        let ingest = IngestConfig::from_lookup(get, &text, &origin).map_err(|e| match e {
            IngestConfigError::Model(errors) => ConfigError::InvalidModel {
                path: model_path.clone(),
                errors,
            },
            other => ConfigError::Ingest(other),
        })?;
        Ok(Config {
            table,
            ledger_ttl,
            model_path,
            ingest,
        })
    }
}

/// One process environment variable (a value that is not UTF-8 is read lossily).
fn env_var(k: &str) -> Option<String> {
    std::env::var_os(k).map(|v| v.to_string_lossy().into_owned())
}
