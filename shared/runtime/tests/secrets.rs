//! `_PARAM` resolution with a function's own list of secret variables, against a fake store.
//! (The real SSM and Secrets Manager adapters are tested against moto by the ingest function.)

use leadscore_runtime::secrets::SecretVar;
use leadscore_runtime::{resolve_secrets, ConfigError, SecretProblem, SecretSource, SecretStore};
use std::collections::HashMap;
use std::sync::Mutex;

const VARS: [SecretVar; 2] = [
    (
        "LEADSCORE_SLACK_WEBHOOK_URL",
        "LEADSCORE_SLACK_WEBHOOK_URL_PARAM",
    ),
    ("LEADSCORE_OTHER_SECRET", "LEADSCORE_OTHER_SECRET_PARAM"),
];

#[derive(Default)]
struct FakeStore {
    entries: HashMap<(SecretSource, String), Result<String, SecretProblem>>,
    calls: Mutex<Vec<(SecretSource, String)>>,
}

impl FakeStore {
    fn with(mut self, source: SecretSource, id: &str, value: Result<&str, SecretProblem>) -> Self {
        self.entries
            .insert((source, id.to_owned()), value.map(str::to_owned));
        self
    }
}

impl SecretStore for FakeStore {
    async fn fetch(&self, source: SecretSource, entry: &str) -> Result<String, SecretProblem> {
        self.calls.lock().unwrap().push((source, entry.to_owned()));
        self.entries
            .get(&(source, entry.to_owned()))
            .cloned()
            .unwrap_or(Err(SecretProblem::NotFound))
    }
}

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| vars.get(k).cloned()
}

#[tokio::test]
async fn only_the_listed_variables_are_resolved_and_overlaid() {
    let store = FakeStore::default()
        .with(
            SecretSource::Ssm,
            "/slack",
            Ok("https://hooks.slack.test/x"),
        )
        .with(SecretSource::SecretsManager, "unlisted", Ok("nope"));
    let get = lookup(&[
        ("LEADSCORE_SLACK_WEBHOOK_URL_PARAM", "/slack"),
        ("LEADSCORE_OTHER_SECRET", "plain"),
        // Not in this function's list: left alone.
        ("LEADSCORE_EVENTS_SECRET_PARAM", "secretsmanager:unlisted"),
    ]);
    let secrets = resolve_secrets(&get, &store, &VARS).await.unwrap();
    assert_eq!(
        secrets.vars().collect::<Vec<_>>(),
        ["LEADSCORE_SLACK_WEBHOOK_URL"]
    );
    let all = secrets.overlay(&get);
    assert_eq!(
        all("LEADSCORE_SLACK_WEBHOOK_URL").as_deref(),
        Some("https://hooks.slack.test/x")
    );
    assert_eq!(all("LEADSCORE_OTHER_SECRET").as_deref(), Some("plain"));
    assert_eq!(all("LEADSCORE_EVENTS_SECRET"), None);
    assert_eq!(
        *store.calls.lock().unwrap(),
        [(SecretSource::Ssm, "/slack".to_owned())]
    );
}

#[tokio::test]
async fn the_first_problem_in_list_order_is_reported() {
    // Both fail; the error names the first variable of the list whatever finishes first.
    let store = FakeStore::default().with(SecretSource::Ssm, "/blank", Ok(" "));
    let get = lookup(&[
        ("LEADSCORE_SLACK_WEBHOOK_URL_PARAM", "/missing"),
        ("LEADSCORE_OTHER_SECRET_PARAM", "/blank"),
    ]);
    let err = resolve_secrets(&get, &store, &VARS).await.err().unwrap();
    assert_eq!(
        err.to_string(),
        "LEADSCORE_SLACK_WEBHOOK_URL_PARAM: the SSM parameter `/missing` does not exist"
    );
    let both = lookup(&[
        ("LEADSCORE_OTHER_SECRET", "a"),
        ("LEADSCORE_OTHER_SECRET_PARAM", "/b"),
    ]);
    let err = resolve_secrets(&both, &store, &VARS).await.err().unwrap();
    assert!(
        matches!(
            err,
            ConfigError::AmbiguousSecret {
                var: "LEADSCORE_OTHER_SECRET",
                param_var: "LEADSCORE_OTHER_SECRET_PARAM"
            }
        ),
        "{err}"
    );
}
