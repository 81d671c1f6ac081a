//! The notifier's configuration, read once at cold start: the store and model every function
//! reads ([`BaseConfig`]), the routing, the SES sender, the HubSpot portal for record links,
//! the claim lease and the send timeout. Slack webhook URLs are secrets: the default one may
//! be given as `LEADSCORE_SLACK_WEBHOOK_URL_PARAM`, and a routing file's `slack` values may
//! name an SSM parameter, a Secrets Manager secret or an environment variable
//! ([`leadscore_app::notify::is_secret_ref`]). A missing or invalid variable is a
//! [`ConfigError`] naming it; `main` returns it.

use leadscore_app::notify::{RouteError, Routes};
use leadscore_domain::Model;
use leadscore_notify::HubSpotPortal;
use leadscore_runtime::env::{env_var, non_blank, number_in, parsed};
use leadscore_runtime::secrets::{parse_entry, SecretStore, SecretVar};
use leadscore_runtime::{resolve_secrets, BaseConfig, ConfigError, StoreConfig};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// The routing file (TOML, `docs/notifier.md`). Optional when a default route is given.
pub const ROUTES_FILE: &str = "LEADSCORE_ROUTES_FILE";
/// The default route's Slack incoming webhook (a secret).
pub const SLACK_WEBHOOK_URL: &str = "LEADSCORE_SLACK_WEBHOOK_URL";
/// The default route's email recipients, comma-separated.
pub const NOTIFY_EMAILS: &str = "LEADSCORE_NOTIFY_EMAILS";
/// The verified SES identity notices are sent from (`sales-bot@example.com` or
/// `Leadscore <sales-bot@example.com>`); required when a route sends email.
pub const NOTIFY_FROM: &str = "LEADSCORE_NOTIFY_FROM";
/// The HubSpot account (Hub ID) that contact links point into.
pub const HUBSPOT_PORTAL_ID: &str = "LEADSCORE_HUBSPOT_PORTAL_ID";
/// HubSpot's app host for accounts in other data centers (`app-eu1.hubspot.com`).
pub const HUBSPOT_APP_HOST: &str = "LEADSCORE_HUBSPOT_APP_HOST";
/// How long a claim on a notice holds off other invocations (seconds).
pub const LEASE_SECONDS: &str = "LEADSCORE_NOTIFY_LEASE_SECONDS";
/// How long one request to Slack or SES may take (seconds).
pub const TIMEOUT_SECONDS: &str = "LEADSCORE_NOTIFY_TIMEOUT_SECONDS";

/// Longer than a send with its retries on every channel of a route: four attempts with
/// backoff and a `Retry-After` of up to 30 s.
pub const DEFAULT_LEASE_SECONDS: i64 = 300;
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 10;

/// The secret variables and the variables that may name their entry instead.
pub const SECRET_VARS: [SecretVar; 1] = [(SLACK_WEBHOOK_URL, "LEADSCORE_SLACK_WEBHOOK_URL_PARAM")];

pub struct Config {
    pub store: StoreConfig,
    /// Where the model was read from (for the cold-start log line).
    pub model_path: PathBuf,
    pub model: Model,
    /// Every secret reference already replaced by its value.
    pub routes: Routes,
    pub sender: Option<String>,
    pub hubspot: Option<HubSpotPortal>,
    pub lease: chrono::Duration,
    pub timeout: Duration,
}

impl std::fmt::Debug for Config {
    // The routes hold webhook URLs, which are secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("table", &self.store.table)
            .field("model_path", &self.model_path)
            .field("routes", &self.routes.routes().len())
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// What the Lambda runs at cold start: the process environment, with the secrets named by
    /// `_PARAM` variables and by the routing file fetched from `secrets`.
    pub async fn load(secrets: &impl SecretStore) -> Result<Config, ConfigError> {
        Config::load_from(env_var, secrets).await
    }

    /// [`Config::load`] through `get` instead of the process environment.
    pub async fn load_from(
        get: impl Fn(&str) -> Option<String>,
        secrets: &impl SecretStore,
    ) -> Result<Config, ConfigError> {
        let resolved = resolve_secrets(&get, secrets, &SECRET_VARS).await?;
        let get = non_blank(resolved.overlay(get));
        let base = BaseConfig::from_lookup(&get)?;
        let (routes, env_route) = read_routes(&get)?;
        let mut values = HashMap::new();
        for reference in routes.secret_refs() {
            let value = match reference.strip_prefix("env:") {
                Some(var) => get(var.trim()),
                None => {
                    let entry = reference.strip_prefix("ssm:").unwrap_or(reference);
                    let (source, id) = parse_entry(entry);
                    let value = secrets.fetch(source, id).await.map_err(|problem| {
                        ConfigError::Invalid {
                            var: ROUTES_FILE,
                            problem: format!("the {source} `{id}` {problem}"),
                        }
                    })?;
                    Some(value)
                }
            };
            if let Some(v) = value {
                values.insert(reference.to_owned(), v.trim().to_owned());
            }
        }
        let routes = routes
            .with_secrets(|r| values.get(r).cloned())
            .map_err(|e| route_error(e, env_route))?;
        Config::finish(base, routes, &get)
    }

    /// The configuration without fetching anything: `_PARAM` variables and secret references
    /// other than `env:` are errors. For local runs and tests.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = non_blank(get);
        for (_, param_var) in SECRET_VARS {
            if get(param_var).is_some() {
                return Err(ConfigError::Invalid {
                    var: param_var,
                    problem: "names a secret to fetch, which only the Lambda's start-up \
                              (Config::load) does: give the value itself"
                        .to_owned(),
                });
            }
        }
        let base = BaseConfig::from_lookup(&get)?;
        let (routes, env_route) = read_routes(&get)?;
        let routes = routes
            .with_secrets(|r| {
                let var = r.strip_prefix("env:")?;
                get(var.trim()).map(|v| v.trim().to_owned())
            })
            .map_err(|e| route_error(e, env_route))?;
        Config::finish(base, routes, &get)
    }

    fn finish(
        base: BaseConfig,
        routes: Routes,
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        if routes.is_empty() {
            return Err(ConfigError::Missing {
                var: ROUTES_FILE,
                what: "where notices go: a routing file, LEADSCORE_SLACK_WEBHOOK_URL or \
                       LEADSCORE_NOTIFY_EMAILS",
            });
        }
        let sender = get(NOTIFY_FROM).map(|s| s.trim().to_owned());
        if sender.is_none() && routes.routes().iter().any(|r| !r.email.is_empty()) {
            return Err(ConfigError::Missing {
                var: NOTIFY_FROM,
                what: "the verified SES identity notices are sent from (a route sends email)",
            });
        }
        let hubspot = match parsed::<u64>(get, HUBSPOT_PORTAL_ID)? {
            None => None,
            Some(id) => {
                let portal = HubSpotPortal::new(id);
                Some(match get(HUBSPOT_APP_HOST) {
                    None => portal,
                    Some(host) => {
                        portal
                            .with_app_host(&host)
                            .map_err(|e| ConfigError::Invalid {
                                var: HUBSPOT_APP_HOST,
                                problem: e.to_string(),
                            })?
                    }
                })
            }
        };
        let lease = number_in(get, LEASE_SECONDS, 10..=3600, DEFAULT_LEASE_SECONDS)?;
        let timeout = number_in(get, TIMEOUT_SECONDS, 1..=60, DEFAULT_TIMEOUT_SECONDS)?;
        Ok(Config {
            store: base.store,
            model_path: base.model_path,
            model: base.model,
            routes,
            sender,
            hubspot,
            lease: chrono::Duration::seconds(lease),
            timeout: Duration::from_secs(timeout),
        })
    }
}

/// The routing file (if named) plus the default route from the environment, and whether
/// the environment gave that route.
fn read_routes(get: &impl Fn(&str) -> Option<String>) -> Result<(Routes, bool), ConfigError> {
    let env_route = get(SLACK_WEBHOOK_URL).is_some() || get(NOTIFY_EMAILS).is_some();
    let text = match get(ROUTES_FILE) {
        None => None,
        Some(path) => {
            Some(
                std::fs::read_to_string(path.trim()).map_err(|e| ConfigError::Invalid {
                    var: ROUTES_FILE,
                    problem: format!("cannot read `{}`: {e}", path.trim()),
                })?,
            )
        }
    };
    let routes = Routes::parse(
        text.as_deref(),
        get(SLACK_WEBHOOK_URL).as_deref(),
        get(NOTIFY_EMAILS).as_deref(),
    )
    .map_err(|e| route_error(e, env_route))?;
    Ok((routes, env_route))
}

/// A routing problem, under the variable a person would look at: the environment's default
/// route when it gave one, else the routing file.
fn route_error(e: RouteError, env_route: bool) -> ConfigError {
    let var = match &e {
        RouteError::Field { route, field, .. }
            if env_route && route == leadscore_app::notify::ENV_ROUTE =>
        {
            if *field == "email" {
                NOTIFY_EMAILS
            } else {
                SLACK_WEBHOOK_URL
            }
        }
        _ => ROUTES_FILE,
    };
    ConfigError::Invalid {
        var,
        problem: e.to_string(),
    }
}
