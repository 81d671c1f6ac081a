//! What every leadscore Lambda needs before its handler runs, so each `main.rs` stays short:
//!
//! - [`init_tracing`]: log lines CloudWatch reads well;
//! - [`env`]: reading variables (blank counts as unset) into typed values, with a
//!   [`ConfigError`] that names the variable;
//! - [`BaseConfig`]: the table ([`StoreConfig`]) and the model file ([`ModelFile`]) every
//!   function reads;
//! - [`secrets`]: `<NAME>_PARAM` variables that name an SSM parameter or Secrets Manager secret,
//!   read once per cold start.
//!
//! Function-specific variables stay in each function's crate.

mod config;
pub mod env;
pub mod secrets;

pub use config::{BaseConfig, ConfigError, ModelFile, StoreConfig, MODEL, TABLE};
pub use env::env_var;
pub use secrets::{
    resolve_secrets, AwsSecrets, ResolvedSecrets, SecretProblem, SecretSource, SecretStore,
    PARAM_SUFFIX,
};

/// The AWS SDK configuration from the environment (region, credentials, and `AWS_ENDPOINT_URL`
/// for local runs against moto). Load it once per cold start and build every client from it.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Logs to stdout without ANSI colours (CloudWatch shows escape codes verbatim): JSON lines
/// when Lambda's advanced logging controls ask for them (`AWS_LAMBDA_LOG_FORMAT=JSON`), compact
/// text otherwise. The level comes from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `info`.
/// Calling it twice is harmless.
pub fn init_tracing() {
    use tracing_subscriber::filter::{EnvFilter, LevelFilter};
    let var = env::non_blank(|k| std::env::var(k).ok());
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let directives = var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|| var("RUST_LOG"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .parse_lossy(directives);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_target(false);
    // An error only means a subscriber is already set (tests): keep that one.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.compact().try_init()
    };
}
