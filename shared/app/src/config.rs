//! Ingestion configuration, read from `LEADSCORE_*` variables the same way in the Lambda and
//! in local runs. Secrets arrive as values here; resolving `_PARAM` names from SSM or Secrets
//! Manager happens in the binary before this is called.

use leadscore_domain::model::ThresholdProblem;
use leadscore_domain::{Model, Points};
use leadscore_sources::marketo::Tz;
use leadscore_sources::signature::{parse_sendgrid_key, VerifyingKey};
use std::sync::Arc;
use std::time::Duration;

pub const MODEL: &str = "LEADSCORE_MODEL";
pub const PUBLIC_BASE_URL: &str = "LEADSCORE_PUBLIC_BASE_URL";
pub const HUBSPOT_CLIENT_SECRET: &str = "LEADSCORE_HUBSPOT_CLIENT_SECRET";
pub const HUBSPOT_ACCEPT_V1_V2: &str = "LEADSCORE_HUBSPOT_ACCEPT_V1_V2";
pub const SENDGRID_PUBLIC_KEY: &str = "LEADSCORE_SENDGRID_PUBLIC_KEY";
pub const SENDGRID_MAX_AGE_SECONDS: &str = "LEADSCORE_SENDGRID_MAX_AGE_SECONDS";
pub const MARKETO_TOKEN: &str = "LEADSCORE_MARKETO_TOKEN";
pub const MARKETO_TIMEZONE: &str = "LEADSCORE_MARKETO_TIMEZONE";
pub const EVENTS_SECRET: &str = "LEADSCORE_EVENTS_SECRET";
pub const MAX_BODY_BYTES: &str = "LEADSCORE_MAX_BODY_BYTES";
/// A stage's own MQL entry threshold, in place of the model file's `thresholds.mql`.
pub const MQL_THRESHOLD: &str = "LEADSCORE_MQL_THRESHOLD";
/// A stage's own MQL exit threshold, in place of the model file's `thresholds.mql_exit`.
pub const MQL_EXIT_THRESHOLD: &str = "LEADSCORE_MQL_EXIT_THRESHOLD";

/// The oldest signed SendGrid timestamp accepted when the variable is unset: 25 hours.
/// SendGrid retries a delivery that got no 2xx "at increasing intervals for up to 24 hours
/// after the event occurs", and its docs do not say whether a retry is signed anew, so a retry
/// may carry a timestamp up to about 24 hours old; the extra hour absorbs clock skew and
/// SendGrid's batching (up to 30 s). `0` turns the check off.
pub const DEFAULT_SENDGRID_MAX_AGE: Duration = Duration::from_secs(25 * 60 * 60);

/// 1 MiB: HubSpot batches stay far below it.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var} is not set")]
    Missing { var: &'static str },
    #[error("{var}: {problem}")]
    Invalid { var: &'static str, problem: String },
    #[error("{0}")]
    Model(#[from] leadscore_domain::ModelErrors),
}

pub struct IngestConfig {
    pub model: Arc<Model>,
    /// The base URL the senders call (HubSpot v3 signs the full URL).
    pub public_base_url: Option<String>,
    pub hubspot_secret: Option<String>,
    pub hubspot_accept_v1_v2: bool,
    pub sendgrid_key: Option<VerifyingKey>,
    /// The oldest (or furthest in the future) signed timestamp accepted; `None`: no limit.
    pub sendgrid_max_age: Option<Duration>,
    pub marketo_token: Option<String>,
    /// The Marketo instance's time zone: `{{system.dateTime}}` prints its wall clock without
    /// an offset. UTC unless set.
    pub marketo_time_zone: Tz,
    pub events_secret: Option<String>,
    pub max_body_bytes: usize,
}

fn parse_var<T: std::str::FromStr>(
    var: &'static str,
    v: Option<String>,
) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    v.map(|s| {
        s.trim().parse::<T>().map_err(|e| ConfigError::Invalid {
            var,
            problem: format!("`{s}`: {e}"),
        })
    })
    .transpose()
}

/// An IANA time zone name (`America/Chicago`), exactly as the tz database spells it.
fn time_zone(var: &'static str, name: &str) -> Result<Tz, ConfigError> {
    let name = name.trim();
    name.parse::<Tz>().map_err(|_| ConfigError::Invalid {
        var,
        problem: format!(
            "`{name}` is not an IANA time zone name (e.g. America/Chicago, Europe/Berlin, UTC; \
             names are case-sensitive)"
        ),
    })
}

/// `get` with blank values treated as unset: a template that sets `NAME: ""` means "not set".
pub fn non_blank(get: impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> {
    move |k| get(k).filter(|v| !v.trim().is_empty())
}

/// The model in `text` (`origin` names it in errors), with the thresholds overridden by
/// `LEADSCORE_MQL_THRESHOLD` / `LEADSCORE_MQL_EXIT_THRESHOLD` when set. Every function and
/// `leadscore serve` read the model through this, so they agree on when a lead qualifies.
pub fn model_from_lookup(
    get: impl Fn(&str) -> Option<String>,
    text: &str,
    origin: &str,
) -> Result<Model, ConfigError> {
    let get = non_blank(get);
    let mut model = Model::from_toml(text, origin)?;
    let mql = threshold_var(MQL_THRESHOLD, get(MQL_THRESHOLD))?;
    let mql_exit = threshold_var(MQL_EXIT_THRESHOLD, get(MQL_EXIT_THRESHOLD))?;
    model
        .override_thresholds(mql, mql_exit)
        .map_err(|problem| ConfigError::Invalid {
            // The file alone is valid, so the problem lies with a variable that was set.
            var: match problem {
                ThresholdProblem::MqlNotPositive { .. } => MQL_THRESHOLD,
                ThresholdProblem::FloorNotBelowExit { .. } => MQL_EXIT_THRESHOLD,
                ThresholdProblem::ExitNotBelowMql { .. } if mql_exit.is_some() => {
                    MQL_EXIT_THRESHOLD
                }
                ThresholdProblem::ExitNotBelowMql { .. } => MQL_THRESHOLD,
            },
            problem: format!("{problem} (after the override; {origin} gives the rest)"),
        })?;
    Ok(model)
}

fn threshold_var(var: &'static str, v: Option<String>) -> Result<Option<Points>, ConfigError> {
    parse_var::<f64>(var, v)?
        .map(|n| {
            Points::from_f64(n).ok_or_else(|| ConfigError::Invalid {
                var,
                problem: format!("`{n}` is not a finite number of points"),
            })
        })
        .transpose()
}

impl IngestConfig {
    /// Builds the configuration from a variable lookup and the model file's text (`origin`
    /// names it in errors). Empty values count as unset.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        model_text: &str,
        origin: &str,
    ) -> Result<IngestConfig, ConfigError> {
        let get = non_blank(get);
        let model = Arc::new(model_from_lookup(&get, model_text, origin)?);
        let hubspot_secret = get(HUBSPOT_CLIENT_SECRET);
        let public_base_url =
            get(PUBLIC_BASE_URL).map(|u| u.trim().trim_end_matches('/').to_owned());
        if let Some(u) = &public_base_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(ConfigError::Invalid {
                    var: PUBLIC_BASE_URL,
                    problem: format!("`{u}` is not an absolute http(s) URL"),
                });
            }
        }
        if hubspot_secret.is_some() && public_base_url.is_none() {
            // HubSpot v3 signs the URL it called: without it no request could verify.
            return Err(ConfigError::Missing {
                var: PUBLIC_BASE_URL,
            });
        }
        let sendgrid_key = get(SENDGRID_PUBLIC_KEY)
            .map(|k| {
                parse_sendgrid_key(&k).map_err(|e| ConfigError::Invalid {
                    var: SENDGRID_PUBLIC_KEY,
                    problem: e.to_string(),
                })
            })
            .transpose()?;
        let marketo_time_zone = get(MARKETO_TIMEZONE)
            .map(|name| time_zone(MARKETO_TIMEZONE, &name))
            .transpose()?
            .unwrap_or(Tz::UTC);
        let max_body_bytes = parse_var::<usize>(MAX_BODY_BYTES, get(MAX_BODY_BYTES))?
            .unwrap_or(DEFAULT_MAX_BODY_BYTES);
        Ok(IngestConfig {
            model,
            public_base_url,
            hubspot_secret,
            hubspot_accept_v1_v2: parse_var::<bool>(
                HUBSPOT_ACCEPT_V1_V2,
                get(HUBSPOT_ACCEPT_V1_V2),
            )?
            .unwrap_or(false),
            sendgrid_key,
            sendgrid_max_age: match parse_var::<u64>(
                SENDGRID_MAX_AGE_SECONDS,
                get(SENDGRID_MAX_AGE_SECONDS),
            )? {
                None => Some(DEFAULT_SENDGRID_MAX_AGE),
                Some(0) => None,
                Some(s) => Some(Duration::from_secs(s)),
            },
            marketo_token: get(MARKETO_TOKEN),
            marketo_time_zone,
            events_secret: get(EVENTS_SECRET),
            max_body_bytes,
        })
    }
}
