//! Ingest's secret variables: each may be given as `<NAME>_PARAM`, naming the SSM parameter or
//! Secrets Manager secret that holds it. The resolution itself is shared by every function:
//! see [`leadscore_runtime::secrets`], re-exported here.

use leadscore_app::config::{
    EVENTS_SECRET, HUBSPOT_CLIENT_SECRET, MARKETO_TOKEN, SENDGRID_PUBLIC_KEY,
};
pub use leadscore_runtime::secrets::*;
use leadscore_runtime::ConfigError;

/// The secret variables and the variables that may name their entry instead.
pub const SECRET_VARS: [SecretVar; 4] = [
    (
        HUBSPOT_CLIENT_SECRET,
        "LEADSCORE_HUBSPOT_CLIENT_SECRET_PARAM",
    ),
    (SENDGRID_PUBLIC_KEY, "LEADSCORE_SENDGRID_PUBLIC_KEY_PARAM"),
    (MARKETO_TOKEN, "LEADSCORE_MARKETO_TOKEN_PARAM"),
    (EVENTS_SECRET, "LEADSCORE_EVENTS_SECRET_PARAM"),
];

/// Reads every ingest secret whose `_PARAM` variable is set (see
/// [`leadscore_runtime::resolve_secrets`]).
pub async fn resolve_secrets<S: SecretStore>(
    get: impl Fn(&str) -> Option<String>,
    store: &S,
) -> Result<ResolvedSecrets, ConfigError> {
    leadscore_runtime::resolve_secrets(get, store, &SECRET_VARS).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_param_variable_is_its_secret_with_the_suffix() {
        for (var, param_var) in SECRET_VARS {
            assert_eq!(param_var, format!("{var}{PARAM_SUFFIX}"));
        }
    }
}
