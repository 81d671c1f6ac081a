//! Secrets named by `<NAME>_PARAM` variables: the resolution rules against an in-memory store,
//! then the real SSM and Secrets Manager adapters against moto.

mod common;

use common::{lookup, write_model, MODEL};
use leadscore_ingest::secrets::resolve_secrets;
use leadscore_ingest::{AwsSecrets, Config, ConfigError, SecretProblem, SecretSource, SecretStore};
use leadscore_store::testing::Moto;
use std::collections::HashMap;
use std::sync::Mutex;

/// Entries by service and identifier; records every fetch.
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

    fn calls(&self) -> Vec<(SecretSource, String)> {
        self.calls.lock().unwrap().clone()
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

/// The configuration read with the table, a model and `vars` set.
async fn load(store: &impl SecretStore, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let model = write_model("secrets", MODEL);
    let mut all = vec![
        ("LEADSCORE_TABLE", "leads"),
        ("LEADSCORE_MODEL", model.to_str().unwrap()),
    ];
    all.extend_from_slice(vars);
    Config::load_from(lookup(&all), store).await
}

#[tokio::test]
async fn a_plain_variable_is_used_as_is_and_nothing_is_fetched() {
    let store = FakeStore::default();
    let cfg = load(&store, &[("LEADSCORE_EVENTS_SECRET", "plain")])
        .await
        .unwrap();
    assert_eq!(cfg.ingest.events_secret.as_deref(), Some("plain"));
    assert!(cfg.ingest.marketo_token.is_none());
    assert!(store.calls().is_empty());
}

#[tokio::test]
async fn a_param_naming_an_ssm_parameter_reads_it() {
    let store = FakeStore::default().with(SecretSource::Ssm, "/leadscore/events", Ok("from-ssm"));
    let cfg = load(
        &store,
        &[("LEADSCORE_EVENTS_SECRET_PARAM", " /leadscore/events ")],
    )
    .await
    .unwrap();
    assert_eq!(cfg.ingest.events_secret.as_deref(), Some("from-ssm"));
    assert_eq!(
        store.calls(),
        [(SecretSource::Ssm, "/leadscore/events".to_owned())]
    );
}

#[tokio::test]
async fn a_param_naming_a_secrets_manager_secret_reads_it() {
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:leadscore/marketo-AbCdEf";
    let store = FakeStore::default()
        .with(SecretSource::SecretsManager, arn, Ok("marketo-from-sm"))
        .with(
            SecretSource::SecretsManager,
            "leadscore/hubspot",
            Ok("hubspot-from-sm"),
        );
    let cfg = load(
        &store,
        &[
            ("LEADSCORE_MARKETO_TOKEN_PARAM", arn),
            (
                "LEADSCORE_HUBSPOT_CLIENT_SECRET_PARAM",
                "secretsmanager:leadscore/hubspot",
            ),
            ("LEADSCORE_PUBLIC_BASE_URL", "https://hooks.example.com"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(cfg.ingest.marketo_token.as_deref(), Some("marketo-from-sm"));
    assert_eq!(
        cfg.ingest.hubspot_secret.as_deref(),
        Some("hubspot-from-sm")
    );
    let mut calls = store.calls();
    calls.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        calls,
        [
            (SecretSource::SecretsManager, arn.to_owned()),
            (SecretSource::SecretsManager, "leadscore/hubspot".to_owned()),
        ]
    );
}

#[tokio::test]
async fn the_plain_variable_and_its_param_both_set_is_an_error() {
    let store = FakeStore::default().with(SecretSource::Ssm, "/leadscore/events", Ok("x"));
    let err = load(
        &store,
        &[
            ("LEADSCORE_EVENTS_SECRET", "plain"),
            ("LEADSCORE_EVENTS_SECRET_PARAM", "/leadscore/events"),
        ],
    )
    .await
    .err()
    .unwrap();
    assert!(
        matches!(
            err,
            ConfigError::AmbiguousSecret {
                var: "LEADSCORE_EVENTS_SECRET",
                param_var: "LEADSCORE_EVENTS_SECRET_PARAM",
            }
        ),
        "{err}"
    );
    let msg = format!("{err:?}");
    assert!(
        msg.contains("LEADSCORE_EVENTS_SECRET and LEADSCORE_EVENTS_SECRET_PARAM are both set"),
        "{msg}"
    );
    assert!(store.calls().is_empty());
}

#[tokio::test]
async fn a_missing_entry_names_the_variable_and_the_entry() {
    for (entry, service) in [
        ("/leadscore/nope", SecretSource::Ssm),
        (
            "secretsmanager:leadscore/nope",
            SecretSource::SecretsManager,
        ),
    ] {
        let err = load(
            &FakeStore::default(),
            &[("LEADSCORE_SENDGRID_PUBLIC_KEY_PARAM", entry)],
        )
        .await
        .err()
        .unwrap();
        assert!(
            matches!(
                &err,
                ConfigError::Secret {
                    param_var: "LEADSCORE_SENDGRID_PUBLIC_KEY_PARAM",
                    problem: SecretProblem::NotFound,
                    service: s,
                    entry: e,
                } if *s == service && e == entry
            ),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with("LEADSCORE_SENDGRID_PUBLIC_KEY_PARAM: ")
                && msg.contains(&format!("`{entry}` does not exist")),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn an_access_error_or_an_empty_value_is_an_error_naming_the_entry() {
    let store = FakeStore::default()
        .with(
            SecretSource::Ssm,
            "/denied",
            Err(SecretProblem::Unreadable(
                "AccessDeniedException: no".into(),
            )),
        )
        .with(SecretSource::Ssm, "/blank", Ok("  "));
    let err = load(&store, &[("LEADSCORE_MARKETO_TOKEN_PARAM", "/denied")])
        .await
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "LEADSCORE_MARKETO_TOKEN_PARAM: the SSM parameter `/denied` cannot be read: \
         AccessDeniedException: no"
    );
    let err = load(&store, &[("LEADSCORE_MARKETO_TOKEN_PARAM", "/blank")])
        .await
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "LEADSCORE_MARKETO_TOKEN_PARAM: the SSM parameter `/blank` is empty"
    );
    let err = load(
        &store,
        &[("LEADSCORE_MARKETO_TOKEN_PARAM", "secretsmanager:")],
    )
    .await
    .err()
    .unwrap();
    assert!(
        matches!(
            err,
            ConfigError::Secret {
                problem: SecretProblem::NotFound,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn empty_values_count_as_unset() {
    let store = FakeStore::default().with(SecretSource::Ssm, "/leadscore/events", Ok("from-ssm"));
    // An empty plain variable leaves its _PARAM in charge.
    let cfg = load(
        &store,
        &[
            ("LEADSCORE_EVENTS_SECRET", " "),
            ("LEADSCORE_EVENTS_SECRET_PARAM", "/leadscore/events"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(cfg.ingest.events_secret.as_deref(), Some("from-ssm"));
    // An empty _PARAM leaves the plain variable in charge.
    let cfg = load(
        &store,
        &[
            ("LEADSCORE_EVENTS_SECRET", "plain"),
            ("LEADSCORE_EVENTS_SECRET_PARAM", ""),
        ],
    )
    .await
    .unwrap();
    assert_eq!(cfg.ingest.events_secret.as_deref(), Some("plain"));
    // Both empty: the secret is unset.
    let cfg = load(
        &store,
        &[
            ("LEADSCORE_EVENTS_SECRET", ""),
            ("LEADSCORE_EVENTS_SECRET_PARAM", "  "),
        ],
    )
    .await
    .unwrap();
    assert!(cfg.ingest.events_secret.is_none());
    assert_eq!(store.calls().len(), 1);
}

#[tokio::test]
async fn a_resolved_value_goes_through_the_same_validation_as_a_plain_one() {
    let store = FakeStore::default().with(SecretSource::Ssm, "/sendgrid", Ok("not a key"));
    let err = load(
        &store,
        &[("LEADSCORE_SENDGRID_PUBLIC_KEY_PARAM", "/sendgrid")],
    )
    .await
    .err()
    .unwrap();
    assert!(
        matches!(
            err,
            ConfigError::Invalid {
                var: "LEADSCORE_SENDGRID_PUBLIC_KEY",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn the_real_adapters_read_ssm_secure_strings_and_secrets_manager_secrets() {
    let moto = Moto::start();
    let aws = moto.sdk_config().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    ssm.put_parameter()
        .name("/leadscore/test/events")
        .value("events-from-ssm")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let sm = aws_sdk_secretsmanager::Client::new(&aws);
    let marketo = sm
        .create_secret()
        .name("leadscore/test/marketo")
        .secret_string("marketo-from-sm")
        .send()
        .await
        .unwrap();
    let marketo_arn = marketo.arn().unwrap();
    sm.create_secret()
        .name("leadscore/test/hubspot")
        .secret_string("hubspot-from-sm")
        .send()
        .await
        .unwrap();
    sm.create_secret()
        .name("leadscore/test/binary")
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(vec![1, 2, 3]))
        .send()
        .await
        .unwrap();
    let store = AwsSecrets::new(&aws);

    let cfg = load(
        &store,
        &[
            ("LEADSCORE_EVENTS_SECRET_PARAM", "/leadscore/test/events"),
            ("LEADSCORE_MARKETO_TOKEN_PARAM", marketo_arn),
            (
                "LEADSCORE_HUBSPOT_CLIENT_SECRET_PARAM",
                "secretsmanager:leadscore/test/hubspot",
            ),
            ("LEADSCORE_PUBLIC_BASE_URL", "https://hooks.example.com"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(cfg.ingest.events_secret.as_deref(), Some("events-from-ssm"));
    assert_eq!(cfg.ingest.marketo_token.as_deref(), Some("marketo-from-sm"));
    assert_eq!(
        cfg.ingest.hubspot_secret.as_deref(),
        Some("hubspot-from-sm")
    );

    // Missing entries in either service, and a binary secret: typed errors, no panic.
    for (entry, service, problem) in [
        (
            "/leadscore/test/missing",
            SecretSource::Ssm,
            SecretProblem::NotFound,
        ),
        (
            "secretsmanager:leadscore/test/missing",
            SecretSource::SecretsManager,
            SecretProblem::NotFound,
        ),
        (
            "secretsmanager:leadscore/test/binary",
            SecretSource::SecretsManager,
            SecretProblem::NoStringValue,
        ),
    ] {
        let err = resolve_secrets(lookup(&[("LEADSCORE_EVENTS_SECRET_PARAM", entry)]), &store)
            .await
            .err()
            .unwrap();
        match &err {
            ConfigError::Secret {
                param_var,
                service: s,
                entry: e,
                problem: p,
            } => assert_eq!(
                (*param_var, *s, e.as_str(), p),
                ("LEADSCORE_EVENTS_SECRET_PARAM", service, entry, &problem),
                "{err}"
            ),
            other => panic!("expected a secret error, got {other}"),
        }
    }
}
