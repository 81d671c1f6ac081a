//! The configuration every function reads, and the one error type for a function's whole
//! configuration. A missing or invalid variable is a typed error whose message names it: `main`
//! returns it, so the function's init fails visibly instead of failing every invocation.

use crate::env::{non_blank, required};
use crate::secrets::{SecretProblem, SecretSource};
use leadscore_app::config::ConfigError as AppConfigError;
use leadscore_domain::{Model, ModelErrors};
use leadscore_store::{settings, DynamoStore};
use std::fmt;
use std::path::PathBuf;

/// The DynamoDB table that holds leads, ledgers and aliases.
pub const TABLE: &str = "LEADSCORE_TABLE";
/// The path of the scoring model file.
pub const MODEL: &str = "LEADSCORE_MODEL";

#[derive(thiserror::Error)]
pub enum ConfigError {
    #[error("{var} is not set: {what}")]
    Missing {
        var: &'static str,
        what: &'static str,
    },
    #[error("{var}: {problem}")]
    Invalid { var: &'static str, problem: String },
    #[error("cannot read the model file `{}` ({var}): {source}", path.display())]
    UnreadableModel {
        var: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the model file `{}` is invalid:\n{errors}", path.display())]
    InvalidModel { path: PathBuf, errors: ModelErrors },
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

/// Where leads are stored: `LEADSCORE_TABLE` and `LEADSCORE_LEDGER_TTL_DAYS`. The endpoint and
/// region come from the AWS SDK's own variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    pub table: String,
    /// How long ledger items are kept (`None`: for ever).
    pub ledger_ttl: Option<chrono::Duration>,
}

impl StoreConfig {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<StoreConfig, ConfigError> {
        let get = non_blank(get);
        let table = required(&get, TABLE, "the DynamoDB table name")?;
        let ttl = get(settings::LEDGER_TTL_DAYS);
        let ledger_ttl =
            settings::ledger_ttl(ttl.as_deref()).map_err(|message| ConfigError::Invalid {
                var: settings::LEDGER_TTL_DAYS,
                // The store's message starts with the variable's name: say it once.
                problem: message
                    .strip_prefix(settings::LEDGER_TTL_DAYS)
                    .map(|rest| rest.trim_start().to_owned())
                    .unwrap_or(message),
            })?;
        Ok(StoreConfig { table, ledger_ttl })
    }

    /// The DynamoDB store for this table.
    pub fn dynamo(&self, client: aws_sdk_dynamodb::Client) -> DynamoStore {
        DynamoStore::new(client, &self.table).with_ledger_ttl(self.ledger_ttl)
    }
}

/// The model file named by `LEADSCORE_MODEL`, read but not yet parsed (ingest's configuration
/// parses it together with its own variables).
#[derive(Clone, Debug)]
pub struct ModelFile {
    pub path: PathBuf,
    pub text: String,
}

impl ModelFile {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<ModelFile, ConfigError> {
        let path = PathBuf::from(required(
            get,
            MODEL,
            "the path of the scoring model TOML (e.g. models/example.toml)",
        )?);
        let text =
            std::fs::read_to_string(&path).map_err(|source| ConfigError::UnreadableModel {
                var: MODEL,
                path: path.clone(),
                source,
            })?;
        Ok(ModelFile { path, text })
    }

    /// How errors name the file: `path:line:column: message`.
    pub fn origin(&self) -> String {
        self.path.display().to_string()
    }

    /// Parses and validates the model (every problem is listed with its line), then applies the
    /// stage's threshold overrides from `get` (`LEADSCORE_MQL_THRESHOLD`, `..._EXIT_THRESHOLD`).
    pub fn parse(&self, get: impl Fn(&str) -> Option<String>) -> Result<Model, ConfigError> {
        leadscore_app::config::model_from_lookup(get, &self.text, &self.origin())
            .map_err(|e| self.app_error(e, |_| "required by the model"))
    }

    /// An error of the app's configuration readers, which read this file's text, as a
    /// function's: model problems name this file; `missing` says what a missing variable holds.
    pub fn app_error(
        &self,
        e: AppConfigError,
        missing: impl Fn(&'static str) -> &'static str,
    ) -> ConfigError {
        match e {
            AppConfigError::Model(errors) => self.invalid(errors),
            AppConfigError::Invalid { var, problem } => ConfigError::Invalid { var, problem },
            AppConfigError::Missing { var } => ConfigError::Missing {
                var,
                what: missing(var),
            },
        }
    }

    /// The error for this file's validation problems.
    pub fn invalid(&self, errors: ModelErrors) -> ConfigError {
        ConfigError::InvalidModel {
            path: self.path.clone(),
            errors,
        }
    }
}

/// What every function reads: the store and a valid model.
#[derive(Debug)]
pub struct BaseConfig {
    pub store: StoreConfig,
    /// Where the model was read from (for the cold-start log line).
    pub model_path: PathBuf,
    pub model: Model,
}

impl BaseConfig {
    /// Reads the variables through `get` (blank values count as unset) and the model file.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<BaseConfig, ConfigError> {
        let store = StoreConfig::from_lookup(&get)?;
        let file = ModelFile::from_lookup(&get)?;
        let model = file.parse(&get)?;
        Ok(BaseConfig {
            store,
            model_path: file.path,
            model,
        })
    }
}
