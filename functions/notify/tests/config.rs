//! The notifier's configuration: the default route from the environment, the routing file and
//! its secret references (resolved through the lookup, or fetched from a fake SecretStore),
//! the HubSpot portal, the lease and timeout, and the channels built from the routes. Slack
//! webhook URLs are secrets: no error message or Debug output may contain one.

use leadscore_notifier::{build_channels, Config};
use leadscore_runtime::secrets::{SecretProblem, SecretSource, SecretStore};
use leadscore_runtime::ConfigError;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/example.toml");

/// Webhook URLs; each holds a token no message may contain.
const HOOK: &str = "https://hooks.slack.com/services/T0DEF/B0DEF/S3KRITDefaultSecret";
const HOOK_EMEA: &str = "https://hooks.slack.com/services/T0EM/B0EM/S3KRITEmeaSecret";
const HOOK_SSM: &str = "https://hooks.slack.com/services/T0SS/B0SS/S3KRITSsmSecret";
const HOOK_SM: &str = "https://hooks.slack.com/services/T0SM/B0SM/S3KRITSmSecret";
const HOOK_ARN: &str = "https://hooks.slack.com/services/T0AR/B0AR/S3KRITArnSecret";
const HOOK_ENV: &str = "https://hooks.slack.com/services/T0EN/B0EN/S3KRITEnvSecret";
const SM_ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:leadscore/slack-AbCdEf";

/// A file of its own in the system temp dir (tests run in parallel), removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(text: &str) -> TempFile {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let name = format!("leadscore-notify-routes-{}-{n}.toml", std::process::id());
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A lookup over fixed variables, the way `Config::load` sees the environment.
fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| vars.get(k).cloned()
}

/// The table and model, with `extra` laid over them.
fn vars<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![("LEADSCORE_TABLE", "leads"), ("LEADSCORE_MODEL", MODEL)];
    for (k, v) in extra {
        all.retain(|(name, _)| name != k);
        all.push((k, v));
    }
    all
}

fn with(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_lookup(lookup(&vars(extra)))
}

fn err(r: Result<Config, ConfigError>) -> ConfigError {
    match r {
        Ok(cfg) => panic!("expected a configuration error, got {cfg:?}"),
        Err(e) => e,
    }
}

/// The error's message, checked to contain no webhook URL or token.
fn secret_free(e: &ConfigError) -> String {
    let msg = e.to_string();
    for secret in ["hooks.slack.com", "S3KRIT"] {
        assert!(!msg.contains(secret), "the message echoes a secret: {msg}");
    }
    assert_eq!(format!("{e:?}"), msg, "main prints the message");
    msg
}

fn invalid_var(e: &ConfigError) -> &'static str {
    match e {
        ConfigError::Invalid { var, .. } => var,
        other => panic!("expected an Invalid error, got {other}"),
    }
}

/// Each route's name, Slack URLs and email recipients.
fn routes(cfg: &Config) -> Vec<(String, Vec<String>, Vec<String>)> {
    cfg.routes
        .routes()
        .iter()
        .map(|r| (r.name.clone(), r.slack.clone(), r.email.clone()))
        .collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

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

    /// The fetches made, sorted by identifier.
    fn calls(&self) -> Vec<(SecretSource, String)> {
        let mut calls = self.calls.lock().unwrap().clone();
        calls.sort_by(|a, b| a.1.cmp(&b.1));
        calls
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

async fn load(store: &FakeStore, extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::load_from(lookup(&vars(extra)), store).await
}

// The default route from the environment.

#[test]
fn a_slack_url_alone_is_the_default_route_with_the_defaults() {
    let cfg = with(&[("LEADSCORE_SLACK_WEBHOOK_URL", &format!(" {HOOK} "))]).unwrap();
    assert_eq!(
        routes(&cfg),
        [("default".to_owned(), strings(&[HOOK]), vec![])]
    );
    assert_eq!(cfg.store.table, "leads");
    assert_eq!(cfg.model_path, PathBuf::from(MODEL));
    assert_eq!(cfg.model.name, "northwind-b2b-saas");
    assert_eq!(cfg.sender, None, "no route sends email: no sender needed");
    assert!(cfg.hubspot.is_none());
    assert_eq!(cfg.lease, chrono::Duration::seconds(300));
    assert_eq!(cfg.timeout, Duration::from_secs(10));
}

#[test]
fn emails_alone_are_the_default_route_and_need_a_sender() {
    let cfg = with(&[
        ("LEADSCORE_NOTIFY_EMAILS", " sales@acme.io, ana@acme.io ,,"),
        ("LEADSCORE_NOTIFY_FROM", " Leadscore <bot@acme.io> "),
    ])
    .unwrap();
    assert_eq!(
        routes(&cfg),
        [(
            "default".to_owned(),
            vec![],
            strings(&["sales@acme.io", "ana@acme.io"])
        )]
    );
    assert_eq!(cfg.sender.as_deref(), Some("Leadscore <bot@acme.io>"));
}

#[test]
fn a_slack_url_and_emails_are_one_default_route() {
    let cfg = with(&[
        ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK),
        ("LEADSCORE_NOTIFY_EMAILS", "sales@acme.io"),
        ("LEADSCORE_NOTIFY_FROM", "bot@acme.io"),
    ])
    .unwrap();
    assert_eq!(
        routes(&cfg),
        [(
            "default".to_owned(),
            strings(&[HOOK]),
            strings(&["sales@acme.io"])
        )]
    );
    assert_eq!(cfg.sender.as_deref(), Some("bot@acme.io"));
}

#[test]
fn emails_without_a_sender_name_the_sender_variable() {
    for from in [None, Some("  ")] {
        let mut extra = vec![
            ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK),
            ("LEADSCORE_NOTIFY_EMAILS", "sales@acme.io"),
        ];
        if let Some(f) = from {
            extra.push(("LEADSCORE_NOTIFY_FROM", f));
        }
        let e = err(with(&extra));
        assert!(
            matches!(
                e,
                ConfigError::Missing {
                    var: "LEADSCORE_NOTIFY_FROM",
                    ..
                }
            ),
            "{e}"
        );
        let msg = secret_free(&e);
        assert!(
            msg.starts_with("LEADSCORE_NOTIFY_FROM is not set: "),
            "{msg}"
        );
    }
    // A routing file's email route needs it too.
    let file = TempFile::new("[[route]]\nname = \"fallback\"\nemail = [\"sales@acme.io\"]\n");
    let e = err(with(&[("LEADSCORE_ROUTES_FILE", file.path())]));
    assert!(
        matches!(
            e,
            ConfigError::Missing {
                var: "LEADSCORE_NOTIFY_FROM",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn nothing_to_route_to_names_the_routing_file_variable() {
    let blank = [
        ("LEADSCORE_ROUTES_FILE", " "),
        ("LEADSCORE_SLACK_WEBHOOK_URL", ""),
        ("LEADSCORE_NOTIFY_EMAILS", " , "),
        ("LEADSCORE_NOTIFY_FROM", "bot@acme.io"),
    ];
    for extra in [&[][..], &blank[..]] {
        let e = err(with(extra));
        assert!(
            matches!(
                e,
                ConfigError::Missing {
                    var: "LEADSCORE_ROUTES_FILE",
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with("LEADSCORE_ROUTES_FILE is not set: ")
                && msg.contains("LEADSCORE_SLACK_WEBHOOK_URL")
                && msg.contains("LEADSCORE_NOTIFY_EMAILS"),
            "{msg}"
        );
    }
    // A routing file without routes is nothing to route to either.
    let file = TempFile::new("# no routes yet\n");
    let e = err(with(&[("LEADSCORE_ROUTES_FILE", file.path())]));
    assert!(
        matches!(
            e,
            ConfigError::Missing {
                var: "LEADSCORE_ROUTES_FILE",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn a_bad_default_slack_url_is_reported_under_its_variable_without_the_url() {
    for bad in [
        "hooks.slack.com/services/T0/B0/S3KRITNoScheme",
        "ftp://hooks.slack.com/services/T0/B0/S3KRITFtpSecret",
        "https:///services/T0/B0/S3KRITNoHost",
        "https://hooks.slack.com/services/T0/B0/S3KRIT With Space",
    ] {
        let e = err(with(&[("LEADSCORE_SLACK_WEBHOOK_URL", bad)]));
        assert_eq!(invalid_var(&e), "LEADSCORE_SLACK_WEBHOOK_URL", "{e}");
        let msg = secret_free(&e);
        assert!(!msg.contains(bad), "{msg}");
        assert!(msg.contains("route `default`: `slack`"), "{msg}");
    }
    // Also when a routing file is given: the default route is still the variable's.
    let file = TempFile::new(&format!(
        "[[route]]\nname = \"emea\"\ncountries = [\"pt\"]\nslack = [\"{HOOK_EMEA}\"]\n"
    ));
    let e = err(with(&[
        ("LEADSCORE_ROUTES_FILE", file.path()),
        ("LEADSCORE_SLACK_WEBHOOK_URL", "not-a-url/S3KRITSecret"),
    ]));
    assert_eq!(invalid_var(&e), "LEADSCORE_SLACK_WEBHOOK_URL", "{e}");
    secret_free(&e);
}

#[test]
fn a_bad_default_email_is_reported_under_the_emails_variable() {
    let e = err(with(&[
        ("LEADSCORE_NOTIFY_EMAILS", "sales@acme.io, nobody"),
        ("LEADSCORE_NOTIFY_FROM", "bot@acme.io"),
    ]));
    assert_eq!(invalid_var(&e), "LEADSCORE_NOTIFY_EMAILS", "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("route `default`: `email`") && msg.contains("\"nobody\""),
        "{msg}"
    );
}

// The routing file.

#[test]
fn the_routing_file_is_read_and_the_default_route_is_added_after_it() {
    let file = TempFile::new(&format!(
        r#"
[[route]]
name = "emea"
countries = ["Portugal", "Spain"]
slack = [" {HOOK_EMEA} "]

[[route]]
name = "analytics"
products = ["analytics"]
owners = ["1234"]
email = ["analytics@acme.io"]
"#
    ));
    let cfg = with(&[
        ("LEADSCORE_ROUTES_FILE", &format!(" {} ", file.path())),
        ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK),
        ("LEADSCORE_NOTIFY_FROM", "bot@acme.io"),
    ])
    .unwrap();
    assert_eq!(
        routes(&cfg),
        [
            ("emea".to_owned(), strings(&[HOOK_EMEA]), vec![]),
            (
                "analytics".to_owned(),
                vec![],
                strings(&["analytics@acme.io"])
            ),
            ("default".to_owned(), strings(&[HOOK]), vec![]),
        ]
    );
    let emea = &cfg.routes.routes()[0];
    assert_eq!(emea.countries, strings(&["Portugal", "Spain"]));
    let analytics = &cfg.routes.routes()[1];
    assert_eq!(analytics.products, strings(&["analytics"]));
    assert_eq!(analytics.owners, strings(&["1234"]));
}

#[test]
fn an_unreadable_routing_file_names_the_variable_and_the_path() {
    let missing = std::env::temp_dir().join(format!(
        "leadscore-notify-no-such-routes-{}.toml",
        std::process::id()
    ));
    let missing = missing.to_str().unwrap();
    let e = err(with(&[
        ("LEADSCORE_ROUTES_FILE", missing),
        ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK),
    ]));
    assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
    let msg = secret_free(&e);
    assert!(
        msg.starts_with(&format!("LEADSCORE_ROUTES_FILE: cannot read `{missing}`")),
        "{msg}"
    );
    // A directory is no file either.
    let dir = std::env::temp_dir();
    let e = err(with(&[("LEADSCORE_ROUTES_FILE", dir.to_str().unwrap())]));
    assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
}

#[test]
fn a_toml_syntax_error_names_the_variable() {
    // Not on a line holding a URL.
    let file = TempFile::new(&format!(
        "[[route]]\nname = \"emea\nslack = [\"{HOOK_EMEA}\"]\n"
    ));
    let e = err(with(&[("LEADSCORE_ROUTES_FILE", file.path())]));
    assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
    let msg = secret_free(&e);
    assert!(
        msg.starts_with("LEADSCORE_ROUTES_FILE: routes file: "),
        "{msg}"
    );
}

#[test]
fn a_toml_error_on_a_line_with_a_webhook_url_does_not_echo_it() {
    let mut leaks = Vec::new();
    for text in [
        // A syntax error on the URL's line (the closing bracket is missing).
        format!("[[route]]\nname = \"emea\"\nslack = [\"{HOOK_EMEA}\"\n"),
        // A type error: a string where a list is expected.
        format!("[[route]]\nname = \"emea\"\nslack = \"{HOOK_EMEA}\"\n"),
        // An unknown field holding a URL.
        format!("[[route]]\nname = \"emea\"\nwebhook = [\"{HOOK_EMEA}\"]\n"),
    ] {
        let file = TempFile::new(&text);
        let e = err(with(&[("LEADSCORE_ROUTES_FILE", file.path())]));
        assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
        let msg = e.to_string();
        if msg.contains("hooks.slack.com") || msg.contains("S3KRIT") {
            leaks.push(msg);
        }
    }
    assert!(
        leaks.is_empty(),
        "messages echo a webhook URL:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn a_bad_route_field_names_the_variable_the_route_and_the_field() {
    for (route, field, text) in [
        (
            "emea",
            "slack",
            "[[route]]\nname = \"emea\"\nslack = [\"ftp://hooks.slack.com/services/T/B/S3KRITFtpSecret\"]\n",
        ),
        (
            "emea",
            "slack",
            "[[route]]\nname = \"emea\"\nslack = [\"hooks.slack.com/services/T/B/S3KRITNoScheme\"]\n",
        ),
        (
            "ana",
            "email",
            "[[route]]\nname = \"ana\"\nemail = [\"ana-at-acme.io\"]\n",
        ),
        (
            "pt",
            "countries",
            "[[route]]\nname = \"pt\"\ncountries = [\" \"]\nslack = [\"https://hooks.slack.com/services/T/B/S3KRITSecret\"]\n",
        ),
    ] {
        let file = TempFile::new(text);
        let e = err(with(&[
            ("LEADSCORE_ROUTES_FILE", file.path()),
            ("LEADSCORE_NOTIFY_FROM", "bot@acme.io"),
        ]));
        assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
        let msg = secret_free(&e);
        assert!(
            msg.starts_with(&format!(
                "LEADSCORE_ROUTES_FILE: route `{route}`: `{field}`: "
            )),
            "{msg}"
        );
    }
    // A route without a channel, or without a name.
    for (text, wanted) in [
        (
            "[[route]]\nname = \"quiet\"\ncountries = [\"pt\"]\n",
            "route `quiet`: no channel",
        ),
        (
            "[[route]]\nslack = [\"https://hooks.slack.com/services/T/B/S3KRITSecret\"]\n",
            "route #1: `name` is missing",
        ),
    ] {
        let file = TempFile::new(text);
        let e = err(with(&[("LEADSCORE_ROUTES_FILE", file.path())]));
        assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
        let msg = secret_free(&e);
        assert!(msg.contains(wanted), "{msg}");
    }
}

#[test]
fn a_file_route_named_like_the_environment_route_clashes_with_it() {
    let file = TempFile::new("[[route]]\nname = \"default\"\nemail = [\"sales@acme.io\"]\n");
    let e = err(with(&[
        ("LEADSCORE_ROUTES_FILE", file.path()),
        ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK),
        ("LEADSCORE_NOTIFY_FROM", "bot@acme.io"),
    ]));
    assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
    assert!(
        secret_free(&e).contains("route `default` is defined more than once"),
        "{e}"
    );
}

#[test]
fn a_bad_field_of_a_file_route_called_default_names_the_routing_file() {
    for (text, field) in [
        (
            "[[route]]\nname = \"default\"\nemail = [\"nobody\"]\n",
            "email",
        ),
        (
            "[[route]]\nname = \"default\"\nslack = [\"ftp://h/S3KRITSecret\"]\n",
            "slack",
        ),
    ] {
        let file = TempFile::new(text);
        let e = err(with(&[
            ("LEADSCORE_ROUTES_FILE", file.path()),
            ("LEADSCORE_NOTIFY_FROM", "bot@acme.io"),
        ]));
        assert!(e.to_string().contains(&format!("`{field}`")), "{e}");
        // Neither LEADSCORE_NOTIFY_EMAILS nor LEADSCORE_SLACK_WEBHOOK_URL is set: the
        // problem is in the file.
        assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
    }
}

// Secret references resolved through the lookup (`from_lookup`).

#[test]
fn env_references_resolve_through_the_lookup() {
    let file = TempFile::new(
        "[[route]]\nname = \"emea\"\ncountries = [\"pt\"]\nslack = [\"env: EMEA_HOOK\"]\n\n\
         [[route]]\nname = \"rest\"\nslack = [\"env:EMEA_HOOK\", \"env:REST_HOOK\"]\n",
    );
    let cfg = with(&[
        ("LEADSCORE_ROUTES_FILE", file.path()),
        ("EMEA_HOOK", HOOK_EMEA),
        ("REST_HOOK", HOOK_ENV),
    ])
    .unwrap();
    assert_eq!(
        routes(&cfg),
        [
            ("emea".to_owned(), strings(&[HOOK_EMEA]), vec![]),
            ("rest".to_owned(), strings(&[HOOK_EMEA, HOOK_ENV]), vec![]),
        ]
    );
    assert!(
        cfg.routes.secret_refs().is_empty(),
        "every reference replaced"
    );
}

#[test]
fn an_env_reference_to_an_unset_or_bad_variable_names_the_route_and_reference() {
    let file = TempFile::new("[[route]]\nname = \"emea\"\nslack = [\"env:EMEA_HOOK\"]\n");
    for value in [None, Some("  "), Some("not a url S3KRITSecret")] {
        let mut extra = vec![("LEADSCORE_ROUTES_FILE", file.path())];
        if let Some(v) = value {
            extra.push(("EMEA_HOOK", v));
        }
        let e = err(with(&extra));
        assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
        let msg = secret_free(&e);
        assert!(msg.contains("route `emea`: `slack`"), "{msg}");
        if value.is_none_or(|v| v.trim().is_empty()) {
            assert!(msg.contains("\"env:EMEA_HOOK\" has no value"), "{msg}");
        }
    }
}

#[test]
fn an_env_reference_value_is_trimmed_as_in_load_from() {
    let file = TempFile::new("[[route]]\nname = \"emea\"\nslack = [\"env:EMEA_HOOK\"]\n");
    let padded = format!("{HOOK_EMEA}\n");
    let cfg = with(&[
        ("LEADSCORE_ROUTES_FILE", file.path()),
        ("EMEA_HOOK", &padded),
    ])
    .unwrap();
    assert_eq!(cfg.routes.routes()[0].slack, strings(&[HOOK_EMEA]));
}

#[test]
fn ssm_and_secrets_manager_references_cannot_be_resolved_by_from_lookup() {
    for reference in [
        "ssm:/leadscore/slack/emea",
        "secretsmanager:leadscore/slack",
        SM_ARN,
    ] {
        let file = TempFile::new(&format!(
            "[[route]]\nname = \"emea\"\nslack = [\"{reference}\"]\n"
        ));
        let e = err(with(&[("LEADSCORE_ROUTES_FILE", file.path())]));
        assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
        let msg = secret_free(&e);
        assert!(
            msg.contains("route `emea`: `slack`") && msg.contains(reference),
            "{msg}"
        );
    }
}

#[test]
fn a_param_variable_is_an_error_in_from_lookup() {
    let r = with(&[
        ("LEADSCORE_SLACK_WEBHOOK_URL_PARAM", "/leadscore/slack"),
        ("LEADSCORE_NOTIFY_EMAILS", "sales@acme.io"),
        ("LEADSCORE_NOTIFY_FROM", "bot@acme.io"),
    ]);
    // Today: Ok, with a default route that silently lost its Slack webhook.
    let e = err(r);
    assert!(
        e.to_string().contains("LEADSCORE_SLACK_WEBHOOK_URL_PARAM"),
        "{e}"
    );
}

// Secrets fetched by `load_from`.

#[tokio::test]
async fn without_references_load_from_fetches_nothing() {
    let store = FakeStore::default();
    let cfg = load(&store, &[("LEADSCORE_SLACK_WEBHOOK_URL", HOOK)])
        .await
        .unwrap();
    assert_eq!(
        routes(&cfg),
        [("default".to_owned(), strings(&[HOOK]), vec![])]
    );
    assert!(store.calls().is_empty());
}

#[tokio::test]
async fn the_default_webhook_param_is_fetched() {
    let store = FakeStore::default().with(SecretSource::Ssm, "/leadscore/slack", Ok(HOOK_SSM));
    let cfg = load(
        &store,
        &[("LEADSCORE_SLACK_WEBHOOK_URL_PARAM", " /leadscore/slack ")],
    )
    .await
    .unwrap();
    assert_eq!(
        routes(&cfg),
        [("default".to_owned(), strings(&[HOOK_SSM]), vec![])]
    );
    assert_eq!(
        store.calls(),
        [(SecretSource::Ssm, "/leadscore/slack".to_owned())]
    );
    // From Secrets Manager, by name.
    let store =
        FakeStore::default().with(SecretSource::SecretsManager, "leadscore/slack", Ok(HOOK_SM));
    let cfg = load(
        &store,
        &[(
            "LEADSCORE_SLACK_WEBHOOK_URL_PARAM",
            "secretsmanager:leadscore/slack",
        )],
    )
    .await
    .unwrap();
    assert_eq!(cfg.routes.routes()[0].slack, strings(&[HOOK_SM]));
    assert_eq!(
        store.calls(),
        [(SecretSource::SecretsManager, "leadscore/slack".to_owned())]
    );
}

#[tokio::test]
async fn a_fetched_default_webhook_is_checked_like_a_plain_one() {
    let store = FakeStore::default().with(SecretSource::Ssm, "/bad", Ok("not a url S3KRITSecret"));
    let e = err(load(&store, &[("LEADSCORE_SLACK_WEBHOOK_URL_PARAM", "/bad")]).await);
    assert_eq!(invalid_var(&e), "LEADSCORE_SLACK_WEBHOOK_URL", "{e}");
    secret_free(&e);
}

#[tokio::test]
async fn the_webhook_and_its_param_both_set_is_an_error() {
    let store = FakeStore::default().with(SecretSource::Ssm, "/leadscore/slack", Ok(HOOK_SSM));
    let e = err(load(
        &store,
        &[
            ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK),
            ("LEADSCORE_SLACK_WEBHOOK_URL_PARAM", "/leadscore/slack"),
        ],
    )
    .await);
    assert!(
        matches!(
            e,
            ConfigError::AmbiguousSecret {
                var: "LEADSCORE_SLACK_WEBHOOK_URL",
                param_var: "LEADSCORE_SLACK_WEBHOOK_URL_PARAM",
            }
        ),
        "{e}"
    );
    secret_free(&e);
    assert!(store.calls().is_empty());
}

#[tokio::test]
async fn a_missing_param_entry_names_the_param_variable() {
    let store = FakeStore::default();
    let e = err(load(&store, &[("LEADSCORE_SLACK_WEBHOOK_URL_PARAM", "/nope")]).await);
    assert!(
        matches!(
            &e,
            ConfigError::Secret {
                param_var: "LEADSCORE_SLACK_WEBHOOK_URL_PARAM",
                service: SecretSource::Ssm,
                problem: SecretProblem::NotFound,
                entry,
            } if entry == "/nope"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn routing_file_references_are_fetched_from_the_right_service() {
    let file = TempFile::new(&format!(
        r#"
[[route]]
name = "emea"
countries = ["pt"]
slack = ["ssm:/x", "{HOOK_EMEA}"]

[[route]]
name = "analytics"
products = ["analytics"]
slack = ["secretsmanager:y", "{SM_ARN}"]

[[route]]
name = "rest"
slack = ["ssm:/x", "env:REST_HOOK", "arn:aws:ssm:eu-west-1:123456789012:parameter/z"]
"#
    ));
    let store = FakeStore::default()
        .with(SecretSource::Ssm, "/x", Ok(&format!(" {HOOK_SSM}\n")))
        .with(SecretSource::SecretsManager, "y", Ok(HOOK_SM))
        .with(SecretSource::SecretsManager, SM_ARN, Ok(HOOK_ARN))
        .with(
            SecretSource::Ssm,
            "arn:aws:ssm:eu-west-1:123456789012:parameter/z",
            Ok(HOOK),
        );
    let cfg = load(
        &store,
        &[
            ("LEADSCORE_ROUTES_FILE", file.path()),
            ("REST_HOOK", HOOK_ENV),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        routes(&cfg),
        [
            ("emea".to_owned(), strings(&[HOOK_SSM, HOOK_EMEA]), vec![]),
            (
                "analytics".to_owned(),
                strings(&[HOOK_SM, HOOK_ARN]),
                vec![]
            ),
            (
                "rest".to_owned(),
                strings(&[HOOK_SSM, HOOK_ENV, HOOK]),
                vec![]
            ),
        ]
    );
    // Each reference once (`ssm:/x` is used twice); `env:` is not fetched.
    assert_eq!(
        store.calls(),
        [
            (SecretSource::Ssm, "/x".to_owned()),
            (SecretSource::SecretsManager, SM_ARN.to_owned()),
            (
                SecretSource::Ssm,
                "arn:aws:ssm:eu-west-1:123456789012:parameter/z".to_owned()
            ),
            (SecretSource::SecretsManager, "y".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_failed_fetch_names_the_routing_file_variable_and_the_entry() {
    for (reference, source, id, problem, wanted) in [
        (
            "ssm:/leadscore/slack/emea",
            SecretSource::Ssm,
            "/leadscore/slack/emea",
            SecretProblem::NotFound,
            "the SSM parameter `/leadscore/slack/emea` does not exist",
        ),
        (
            "secretsmanager:leadscore/slack",
            SecretSource::SecretsManager,
            "leadscore/slack",
            SecretProblem::Unreadable("AccessDeniedException: no".into()),
            "the Secrets Manager secret `leadscore/slack` cannot be read: \
             AccessDeniedException: no",
        ),
        (
            SM_ARN,
            SecretSource::SecretsManager,
            SM_ARN,
            SecretProblem::NoStringValue,
            "has no string value",
        ),
    ] {
        let file = TempFile::new(&format!(
            "[[route]]\nname = \"emea\"\nslack = [\"{reference}\"]\n"
        ));
        let store = FakeStore::default().with(source, id, Err(problem));
        let e = err(load(&store, &[("LEADSCORE_ROUTES_FILE", file.path())]).await);
        assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
        let msg = secret_free(&e);
        assert!(
            msg.starts_with("LEADSCORE_ROUTES_FILE: ") && msg.contains(wanted),
            "{msg}"
        );
        assert_eq!(store.calls(), [(source, id.to_owned())]);
    }
}

#[tokio::test]
async fn a_fetched_route_webhook_that_is_no_url_names_the_route_without_the_value() {
    let file = TempFile::new("[[route]]\nname = \"emea\"\nslack = [\"ssm:/x\"]\n");
    let store = FakeStore::default().with(SecretSource::Ssm, "/x", Ok("S3KRITSecret-no-url"));
    let e = err(load(&store, &[("LEADSCORE_ROUTES_FILE", file.path())]).await);
    assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
    let msg = secret_free(&e);
    assert!(msg.contains("route `emea`: `slack`"), "{msg}");
}

#[tokio::test]
async fn env_references_in_load_from_resolve_through_the_lookup() {
    let file = TempFile::new("[[route]]\nname = \"emea\"\nslack = [\"env:EMEA_HOOK\"]\n");
    let store = FakeStore::default();
    let padded = format!(" {HOOK_EMEA}\n");
    let cfg = load(
        &store,
        &[
            ("LEADSCORE_ROUTES_FILE", file.path()),
            ("EMEA_HOOK", &padded),
        ],
    )
    .await
    .unwrap();
    assert_eq!(cfg.routes.routes()[0].slack, strings(&[HOOK_EMEA]));
    assert!(store.calls().is_empty());
    let e = err(load(&store, &[("LEADSCORE_ROUTES_FILE", file.path())]).await);
    assert_eq!(invalid_var(&e), "LEADSCORE_ROUTES_FILE", "{e}");
    assert!(
        e.to_string().contains("\"env:EMEA_HOOK\" has no value"),
        "{e}"
    );
}

// HubSpot, lease and timeout.

#[test]
fn the_hubspot_portal_and_app_host_are_read() {
    let base = [("LEADSCORE_SLACK_WEBHOOK_URL", HOOK)];
    let cfg = with(&[base[0], ("LEADSCORE_HUBSPOT_PORTAL_ID", " 4455667 ")]).unwrap();
    let portal = cfg.hubspot.unwrap();
    assert_eq!(portal.portal_id(), 4455667);
    assert_eq!(
        portal.contact_url(51),
        "https://app.hubspot.com/contacts/4455667/record/0-1/51"
    );
    let cfg = with(&[
        base[0],
        ("LEADSCORE_HUBSPOT_PORTAL_ID", "4455667"),
        ("LEADSCORE_HUBSPOT_APP_HOST", " APP-EU1.hubspot.com "),
    ])
    .unwrap();
    assert_eq!(
        cfg.hubspot.unwrap().contact_url(51),
        "https://app-eu1.hubspot.com/contacts/4455667/record/0-1/51"
    );
    // Blank is unset.
    let cfg = with(&[base[0], ("LEADSCORE_HUBSPOT_PORTAL_ID", "  ")]).unwrap();
    assert!(cfg.hubspot.is_none());
}

#[test]
fn a_bad_portal_id_or_app_host_names_the_variable() {
    let base = ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK);
    for id in ["acme", "-5", "12.5", "4455667x"] {
        let e = err(with(&[base, ("LEADSCORE_HUBSPOT_PORTAL_ID", id)]));
        assert_eq!(invalid_var(&e), "LEADSCORE_HUBSPOT_PORTAL_ID", "{e}");
        let msg = secret_free(&e);
        assert!(
            msg.starts_with(&format!("LEADSCORE_HUBSPOT_PORTAL_ID: `{id}`")),
            "{msg}"
        );
    }
    for host in [
        "https://app-eu1.hubspot.com",
        "app.hubspot.com/evil",
        "user@evil.example",
        ".hubspot.com",
        "app hubspot com",
    ] {
        let e = err(with(&[
            base,
            ("LEADSCORE_HUBSPOT_PORTAL_ID", "4455667"),
            ("LEADSCORE_HUBSPOT_APP_HOST", host),
        ]));
        assert_eq!(invalid_var(&e), "LEADSCORE_HUBSPOT_APP_HOST", "{e}");
        let msg = secret_free(&e);
        assert!(
            msg.starts_with("LEADSCORE_HUBSPOT_APP_HOST: invalid HubSpot app host"),
            "{msg}"
        );
    }
}

#[test]
fn lease_and_timeout_are_read_within_their_ranges() {
    let base = ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK);
    for (lease, timeout) in [("10", "1"), (" 3600 ", "60"), ("600", " 25 ")] {
        let cfg = with(&[
            base,
            ("LEADSCORE_NOTIFY_LEASE_SECONDS", lease),
            ("LEADSCORE_NOTIFY_TIMEOUT_SECONDS", timeout),
        ])
        .unwrap();
        assert_eq!(
            cfg.lease,
            chrono::Duration::seconds(lease.trim().parse().unwrap())
        );
        assert_eq!(
            cfg.timeout,
            Duration::from_secs(timeout.trim().parse().unwrap())
        );
    }
    // Blank is the default.
    let cfg = with(&[
        base,
        ("LEADSCORE_NOTIFY_LEASE_SECONDS", " "),
        ("LEADSCORE_NOTIFY_TIMEOUT_SECONDS", ""),
    ])
    .unwrap();
    assert_eq!(cfg.lease, chrono::Duration::seconds(300));
    assert_eq!(cfg.timeout, Duration::from_secs(10));
}

#[test]
fn a_lease_or_timeout_out_of_range_names_the_variable() {
    let base = ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK);
    for (var, value, range) in [
        ("LEADSCORE_NOTIFY_LEASE_SECONDS", "9", "from 10 to 3600"),
        ("LEADSCORE_NOTIFY_LEASE_SECONDS", "3601", "from 10 to 3600"),
        ("LEADSCORE_NOTIFY_LEASE_SECONDS", "0", "from 10 to 3600"),
        ("LEADSCORE_NOTIFY_LEASE_SECONDS", "-300", "from 10 to 3600"),
        ("LEADSCORE_NOTIFY_LEASE_SECONDS", "5m", "from 10 to 3600"),
        ("LEADSCORE_NOTIFY_TIMEOUT_SECONDS", "0", "from 1 to 60"),
        ("LEADSCORE_NOTIFY_TIMEOUT_SECONDS", "61", "from 1 to 60"),
        ("LEADSCORE_NOTIFY_TIMEOUT_SECONDS", "-1", "from 1 to 60"),
        ("LEADSCORE_NOTIFY_TIMEOUT_SECONDS", "1.5", "from 1 to 60"),
    ] {
        let e = err(with(&[base, (var, value)]));
        assert_eq!(invalid_var(&e), var, "{e}");
        assert_eq!(
            secret_free(&e),
            format!("{var}: `{value}` is not a whole number {range}")
        );
    }
}

#[test]
fn the_base_variables_are_still_required() {
    let e = err(Config::from_lookup(lookup(&[
        ("LEADSCORE_MODEL", MODEL),
        ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK),
    ])));
    assert!(
        matches!(
            e,
            ConfigError::Missing {
                var: "LEADSCORE_TABLE",
                ..
            }
        ),
        "{e}"
    );
    let e = err(Config::from_lookup(lookup(&[
        ("LEADSCORE_TABLE", "leads"),
        ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK),
    ])));
    assert!(
        matches!(
            e,
            ConfigError::Missing {
                var: "LEADSCORE_MODEL",
                ..
            }
        ),
        "{e}"
    );
}

// Debug output.

#[test]
fn debug_output_prints_no_webhook_url() {
    let file = TempFile::new(&format!(
        "[[route]]\nname = \"emea\"\ncountries = [\"pt\"]\nslack = [\"{HOOK_EMEA}\", \"env:REST_HOOK\"]\n"
    ));
    let cfg = with(&[
        ("LEADSCORE_ROUTES_FILE", file.path()),
        ("REST_HOOK", HOOK_ENV),
        ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK),
        ("LEADSCORE_NOTIFY_EMAILS", "sales@acme.io"),
        ("LEADSCORE_NOTIFY_FROM", "bot@acme.io"),
    ])
    .unwrap();
    for dbg in [format!("{cfg:?}"), format!("{cfg:#?}")] {
        for secret in [HOOK, HOOK_EMEA, HOOK_ENV, "hooks.slack.com", "S3KRIT"] {
            assert!(!dbg.contains(secret), "Debug prints a webhook URL: {dbg}");
        }
        assert!(
            dbg.contains("leads") && dbg.contains("bot@acme.io"),
            "{dbg}"
        );
    }
}

// Channels.

fn ses() -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::Config::builder()
            .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
            .region(aws_sdk_sesv2::config::Region::new("us-east-1"))
            .build(),
    )
}

const CHANNEL_ROUTES: &str = r#"
[[route]]
name = "emea"
countries = ["pt"]
slack = ["https://hooks.slack.com/services/T1/B1/S3KRITOne", "https://hooks.slack.com/services/T2/B2/S3KRITTwo"]

[[route]]
name = "analytics"
products = ["analytics"]
email = ["analytics@acme.io", "lead@acme.io"]

[[route]]
name = "ana"
owners = ["1234"]
slack = ["https://hooks.slack.com/services/T3/B3/S3KRITThree"]
email = ["ana@acme.io"]
"#;

#[tokio::test]
async fn build_channels_builds_each_routes_channels() {
    let file = TempFile::new(CHANNEL_ROUTES);
    let cfg = with(&[
        ("LEADSCORE_ROUTES_FILE", file.path()),
        ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK),
        ("LEADSCORE_NOTIFY_FROM", "Leadscore <bot@acme.io>"),
    ])
    .unwrap();
    let client = ses();
    let channels = build_channels(
        &cfg.routes,
        cfg.sender.as_deref(),
        Some(&client),
        cfg.timeout,
    )
    .unwrap();
    let shape: Vec<(&str, Vec<&str>)> = channels
        .iter()
        .map(|(route, chans)| (route.as_str(), chans.iter().map(|c| c.name()).collect()))
        .collect();
    assert_eq!(
        shape,
        [
            ("emea", vec!["slack:emea#1", "slack:emea#2"]),
            ("analytics", vec!["email:analytics"]),
            ("ana", vec!["slack:ana#1", "email:ana"]),
            ("default", vec!["slack:default#1"]),
        ]
    );
}

#[tokio::test]
async fn slack_only_routes_need_no_ses_client() {
    let cfg = with(&[("LEADSCORE_SLACK_WEBHOOK_URL", HOOK)]).unwrap();
    let channels = build_channels(&cfg.routes, None, None, cfg.timeout).unwrap();
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0].0, "default");
    assert_eq!(channels[0].1.len(), 1);
}

#[tokio::test]
async fn an_email_route_without_an_ses_client_or_sender_names_the_route() {
    let file = TempFile::new(CHANNEL_ROUTES);
    let cfg = with(&[
        ("LEADSCORE_ROUTES_FILE", file.path()),
        ("LEADSCORE_NOTIFY_FROM", "bot@acme.io"),
    ])
    .unwrap();
    let client = ses();
    for (sender, client) in [(cfg.sender.as_deref(), None), (None, Some(&client))] {
        let e = match build_channels(&cfg.routes, sender, client, cfg.timeout) {
            Ok(_) => panic!("expected a channel setup error"),
            Err(e) => e,
        };
        assert_eq!(e.route, "analytics");
        assert_eq!(e.channel, "email:analytics");
        let msg = e.to_string();
        assert!(
            msg.starts_with("route `analytics`, email:analytics: "),
            "{msg}"
        );
        assert!(
            !msg.contains("S3KRIT") && !msg.contains("hooks.slack.com"),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn a_bad_sender_is_a_channel_setup_error_naming_the_route() {
    let cfg = with(&[
        ("LEADSCORE_NOTIFY_EMAILS", "sales@acme.io"),
        ("LEADSCORE_NOTIFY_FROM", "not-an-address"),
    ])
    .unwrap();
    let client = ses();
    let e = match build_channels(
        &cfg.routes,
        cfg.sender.as_deref(),
        Some(&client),
        cfg.timeout,
    ) {
        Ok(_) => panic!("expected a channel setup error"),
        Err(e) => e,
    };
    assert_eq!(
        (e.route.as_str(), e.channel.as_str()),
        ("default", "email:default")
    );
}

#[tokio::test]
async fn a_url_the_config_accepts_but_the_http_client_rejects_names_the_route_only() {
    // An invalid port passes the configuration's check (scheme and host) but is no URL.
    let file = TempFile::new(
        "[[route]]\nname = \"emea\"\nslack = [\"https://hooks.slack.com:99999/services/S3KRITPortSecret\"]\n",
    );
    let cfg = with(&[("LEADSCORE_ROUTES_FILE", file.path())]).unwrap();
    let e = match build_channels(&cfg.routes, None, None, cfg.timeout) {
        Ok(_) => panic!("expected a channel setup error"),
        Err(e) => e,
    };
    assert_eq!(
        (e.route.as_str(), e.channel.as_str()),
        ("emea", "slack:emea#1")
    );
    let msg = e.to_string();
    assert!(
        !msg.contains("S3KRIT") && !msg.contains("hooks.slack.com") && !msg.contains("99999"),
        "{msg}"
    );
}

#[test]
fn the_notifier_reads_the_stages_thresholds_like_the_other_functions() {
    let cfg = with(&[
        ("LEADSCORE_SLACK_WEBHOOK_URL", HOOK),
        ("LEADSCORE_MQL_THRESHOLD", "85"),
    ])
    .unwrap();
    assert_eq!(cfg.model.thresholds.mql.as_f64(), 85.0);
    assert_eq!(cfg.model.thresholds.mql_exit.as_f64(), 70.0);
}
