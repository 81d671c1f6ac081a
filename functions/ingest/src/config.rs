//! The Lambda's configuration, read once at cold start: the store and model every function
//! reads ([`leadscore_runtime`]) and ingest's own variables ([`IngestConfig`]). A missing or
//! invalid variable is a [`ConfigError`] naming it; `main` returns it, so the function's init
//! fails visibly instead of answering every webhook with an error.

use crate::secrets::{resolve_secrets, SecretStore};
use leadscore_app::config::{IngestConfig, PUBLIC_BASE_URL};
use leadscore_runtime::env::{env_var, non_blank};
pub use leadscore_runtime::{ConfigError, ModelFile, StoreConfig, TABLE};
use std::path::PathBuf;

pub struct Config {
    pub store: StoreConfig,
    /// Where the model was read from (for the cold-start log line).
    pub model_path: PathBuf,
    pub ingest: IngestConfig,
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
        Config::from_lookup(secrets.overlay(get))
    }

    /// Reads the configuration through `get` (empty values count as unset) and the model file
    /// it names from disk.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = non_blank(get);
        let store = StoreConfig::from_lookup(&get)?;
        let file = ModelFile::from_lookup(&get)?;
        // IngestConfig parses the model itself: hand it the text rather than parse twice.
        let ingest = IngestConfig::from_lookup(&get, &file.text, &file.origin())
            .map_err(|e| file.app_error(e, missing_what))?;
        Ok(Config {
            store,
            model_path: file.path,
            ingest,
        })
    }
}

/// Why an ingest variable that is optional on its own is required.
fn missing_what(var: &str) -> &'static str {
    if var == PUBLIC_BASE_URL {
        "the base URL the senders call, required with LEADSCORE_HUBSPOT_CLIENT_SECRET \
         (HubSpot v3 signs the full URL)"
    } else {
        "required by the other settings"
    }
}
