//! Secret variables that name their SSM Parameter Store or Secrets Manager entry.
//!
//! Each secret variable a function declares (e.g. ingest's `LEADSCORE_EVENTS_SECRET`) may
//! instead be given as `<NAME>_PARAM`, naming the entry that holds the value.
//! [`resolve_secrets`] reads those entries once, at cold start, before the configuration is
//! built; locally, the plain variables are used and nothing is fetched. The entry's form picks the service:
//! - `arn:<partition>:secretsmanager:…` (a secret's ARN) or `secretsmanager:<name>`: Secrets
//!   Manager `GetSecretValue`, its `SecretString`;
//! - anything else (a parameter name or ARN): SSM `GetParameter` with decryption, so a
//!   `SecureString` arrives in clear.
//!
//! The AWS calls sit behind [`SecretStore`] so the resolution logic is testable with a fake;
//! [`AwsSecrets`] is the real adapter.

use crate::config::ConfigError;
use crate::env::non_blank;
use std::fmt;
use std::future::Future;

/// The suffix of the variable that names a secret's entry instead of holding its value.
pub const PARAM_SUFFIX: &str = "_PARAM";

/// A secret variable and the variable that may name its entry instead (`<NAME>_PARAM`,
/// spelled out so both are `&'static str` in errors).
pub type SecretVar = (&'static str, &'static str);

/// The service that holds an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretSource {
    Ssm,
    SecretsManager,
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecretSource::Ssm => "SSM parameter",
            SecretSource::SecretsManager => "Secrets Manager secret",
        })
    }
}

/// Why an entry gave no value. Messages never contain the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretProblem {
    NotFound,
    /// The entry exists but its value is empty or blank.
    Empty,
    /// A Secrets Manager secret stored as binary (`SecretBinary`), or a parameter with no value.
    NoStringValue,
    /// Access denied, a KMS decryption failure, throttling, the network: the SDK's message.
    Unreadable(String),
}

impl fmt::Display for SecretProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretProblem::NotFound => f.write_str("does not exist"),
            SecretProblem::Empty => f.write_str("is empty"),
            SecretProblem::NoStringValue => {
                f.write_str("has no string value (binary secrets are not supported)")
            }
            SecretProblem::Unreadable(msg) => write!(f, "cannot be read: {msg}"),
        }
    }
}

/// Reads one entry's value.
pub trait SecretStore {
    fn fetch(
        &self,
        source: SecretSource,
        entry: &str,
    ) -> impl Future<Output = Result<String, SecretProblem>> + Send;
}

/// Which service holds `entry`, and the identifier to ask it for.
pub fn parse_entry(entry: &str) -> (SecretSource, &str) {
    let entry = entry.trim();
    if let Some(name) = entry.strip_prefix("secretsmanager:") {
        return (SecretSource::SecretsManager, name.trim());
    }
    // arn:<partition>:<service>:<region>:<account>:<resource>
    let mut fields = entry.splitn(4, ':');
    if fields.next() == Some("arn") && fields.nth(1) == Some("secretsmanager") {
        return (SecretSource::SecretsManager, entry);
    }
    (SecretSource::Ssm, entry)
}

/// One secret to fetch: the variable it feeds, the variable that named it, and the entry.
struct Wanted {
    var: &'static str,
    param_var: &'static str,
    entry: String,
}

/// Which secrets need fetching. Both the plain variable and its `_PARAM` set is an error:
/// which one wins would be a guess. Empty values count as unset.
fn wanted(
    get: impl Fn(&str) -> Option<String>,
    vars: &[SecretVar],
) -> Result<Vec<Wanted>, ConfigError> {
    let get = non_blank(get);
    let mut out = Vec::new();
    for &(var, param_var) in vars {
        match (get(var), get(param_var)) {
            (Some(_), Some(_)) => return Err(ConfigError::AmbiguousSecret { var, param_var }),
            (None, Some(entry)) => out.push(Wanted {
                var,
                param_var,
                entry: entry.trim().to_owned(),
            }),
            _ => {}
        }
    }
    Ok(out)
}

/// The values read from SSM or Secrets Manager, by the variable they stand for.
#[derive(Default)]
pub struct ResolvedSecrets {
    values: Vec<(&'static str, String)>,
}

/// Names only: the values are secrets.
impl fmt::Debug for ResolvedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.values.iter().map(|(var, _)| var))
            .finish()
    }
}

impl ResolvedSecrets {
    /// The resolved value for `var`, if it came from an entry.
    pub fn get(&self, var: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(v, _)| *v == var)
            .map(|(_, value)| value.as_str())
    }

    /// The variables that were resolved.
    pub fn vars(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.values.iter().map(|(v, _)| *v)
    }

    /// `get` with the resolved values in place of their variables.
    pub fn overlay<'a>(
        &'a self,
        get: impl Fn(&str) -> Option<String> + 'a,
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| match self.get(k) {
            Some(v) => Some(v.to_owned()),
            None => get(k),
        }
    }
}

async fn fetch_one<S: SecretStore>(
    store: &S,
    w: &Wanted,
) -> Result<(&'static str, String), ConfigError> {
    let (source, id) = parse_entry(&w.entry);
    let err = |problem| ConfigError::Secret {
        param_var: w.param_var,
        service: source,
        entry: w.entry.clone(),
        problem,
    };
    if id.is_empty() {
        return Err(err(SecretProblem::NotFound));
    }
    let value = store.fetch(source, id).await.map_err(err)?;
    if value.trim().is_empty() {
        return Err(err(SecretProblem::Empty));
    }
    Ok((w.var, value))
}

/// Reads every secret of `vars` whose `_PARAM` variable is set, concurrently (cold start waits
/// for the slowest, not the sum). Fails on the first problem in `vars` order, naming the
/// variable and the entry; logs the name (never the value) of each variable it resolved.
pub async fn resolve_secrets<S: SecretStore>(
    get: impl Fn(&str) -> Option<String>,
    store: &S,
    vars: &[SecretVar],
) -> Result<ResolvedSecrets, ConfigError> {
    let wanted = wanted(get, vars)?;
    let results = futures_util::future::join_all(wanted.iter().map(|w| fetch_one(store, w))).await;
    let values = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    for (var, _) in &values {
        tracing::info!(var, "secret read from its _PARAM entry");
    }
    Ok(ResolvedSecrets { values })
}

/// The real adapter: SSM `GetParameter` (with decryption) and Secrets Manager
/// `GetSecretValue`.
#[derive(Clone)]
pub struct AwsSecrets {
    ssm: aws_sdk_ssm::Client,
    secrets_manager: aws_sdk_secretsmanager::Client,
}

impl AwsSecrets {
    pub fn new(aws: &aws_config::SdkConfig) -> AwsSecrets {
        AwsSecrets {
            ssm: aws_sdk_ssm::Client::new(aws),
            secrets_manager: aws_sdk_secretsmanager::Client::new(aws),
        }
    }

    async fn ssm_parameter(&self, name: &str) -> Result<String, SecretProblem> {
        let out = self
            .ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| {
                let e = e.into_service_error();
                if e.is_parameter_not_found() {
                    SecretProblem::NotFound
                } else {
                    SecretProblem::Unreadable(
                        aws_sdk_ssm::error::DisplayErrorContext(e).to_string(),
                    )
                }
            })?;
        out.parameter
            .and_then(|p| p.value)
            .ok_or(SecretProblem::NoStringValue)
    }

    async fn secret_string(&self, id: &str) -> Result<String, SecretProblem> {
        let out = self
            .secrets_manager
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| {
                let e = e.into_service_error();
                if e.is_resource_not_found_exception() {
                    SecretProblem::NotFound
                } else {
                    SecretProblem::Unreadable(
                        aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
                    )
                }
            })?;
        out.secret_string.ok_or(SecretProblem::NoStringValue)
    }
}

impl SecretStore for AwsSecrets {
    async fn fetch(&self, source: SecretSource, entry: &str) -> Result<String, SecretProblem> {
        match source {
            SecretSource::Ssm => self.ssm_parameter(entry).await,
            SecretSource::SecretsManager => self.secret_string(entry).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_form_picks_the_service() {
        use SecretSource::*;
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:leadscore/hubspot-AbCdEf";
        for (entry, want) in [
            ("/leadscore/prod/events", (Ssm, "/leadscore/prod/events")),
            ("leadscore-events", (Ssm, "leadscore-events")),
            (
                "arn:aws:ssm:eu-west-1:123456789012:parameter/leadscore/events",
                (
                    Ssm,
                    "arn:aws:ssm:eu-west-1:123456789012:parameter/leadscore/events",
                ),
            ),
            (arn, (SecretsManager, arn)),
            (
                "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x",
                (
                    SecretsManager,
                    "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x",
                ),
            ),
            (
                "secretsmanager:leadscore/hubspot",
                (SecretsManager, "leadscore/hubspot"),
            ),
            (
                " secretsmanager: leadscore/hubspot ",
                (SecretsManager, "leadscore/hubspot"),
            ),
        ] {
            assert_eq!(parse_entry(entry), want, "{entry}");
        }
    }

    #[test]
    fn debug_output_names_variables_but_not_values() {
        let r = ResolvedSecrets {
            values: vec![("LEADSCORE_EVENTS_SECRET", "hunter2".to_owned())],
        };
        let dbg = format!("{r:?}");
        assert!(
            dbg.contains("LEADSCORE_EVENTS_SECRET") && !dbg.contains("hunter2"),
            "{dbg}"
        );
    }
}
