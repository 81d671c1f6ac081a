//! The sweep's configuration, read once at cold start: the store and model every function
//! reads ([`BaseConfig`]), the two queues, the page size and the time reserve. A missing or
//! invalid variable is a [`ConfigError`] naming it; `main` returns it.

use leadscore_app::sweep::SweepConfig;
use leadscore_runtime::env::{env_var, non_blank, number_in, required};
use leadscore_runtime::{BaseConfig, ConfigError, StoreConfig};
use std::path::PathBuf;
use std::time::Duration;

/// The queue of shard jobs: the Scheduler run fans out to it, and this function consumes it.
pub const SWEEP_QUEUE_URL: &str = "LEADSCORE_SWEEP_QUEUE_URL";
/// The hand-off queue the nurture program reads (FIFO recommended: it deduplicates resends).
pub const NURTURE_QUEUE_URL: &str = "LEADSCORE_NURTURE_QUEUE_URL";
/// Leads read per due-index query.
pub const PAGE_SIZE: &str = "LEADSCORE_SWEEP_PAGE_SIZE";
/// Seconds kept back before the Lambda's deadline to stop, re-queue the job and return.
pub const RESERVE_SECONDS: &str = "LEADSCORE_SWEEP_RESERVE_SECONDS";

pub const DEFAULT_PAGE_SIZE: usize = 100;
pub const DEFAULT_RESERVE_SECONDS: u64 = 20;

pub struct Config {
    pub store: StoreConfig,
    /// Where the model was read from (for the cold-start log line).
    pub model_path: PathBuf,
    pub sweep: SweepConfig,
    pub jobs_queue_url: String,
    pub nurture_queue_url: String,
    /// Stop a job when less than this remains before the deadline.
    pub reserve: Duration,
}

impl Config {
    /// Reads the process environment (a value that is not UTF-8 is read lossily).
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(env_var)
    }

    /// Reads the configuration through `get` (blank values count as unset) and the model file
    /// it names from disk.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = non_blank(get);
        let base = BaseConfig::from_lookup(&get)?;
        let jobs_queue_url = queue_url(
            &get,
            SWEEP_QUEUE_URL,
            "the URL of the SQS queue of sweep shard jobs",
        )?;
        let nurture_queue_url = queue_url(
            &get,
            NURTURE_QUEUE_URL,
            "the URL of the SQS queue that hands cold and recycled leads to nurture",
        )?;
        // DynamoDB returns at most 1 MB per query, about 200 leads with their state.
        let page_size = number_in(&get, PAGE_SIZE, 1..=1000, DEFAULT_PAGE_SIZE)?;
        // A Lambda runs for at most 900 s.
        let reserve = number_in(&get, RESERVE_SECONDS, 0..=900, DEFAULT_RESERVE_SECONDS)?;
        Ok(Config {
            store: base.store,
            model_path: base.model_path,
            sweep: SweepConfig {
                model: base.model,
                page_size,
            },
            jobs_queue_url,
            nurture_queue_url,
            reserve: Duration::from_secs(reserve),
        })
    }
}

/// A queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`; `http://` for local
/// runs). A queue name or ARN is refused here rather than by every SendMessage.
fn queue_url(
    get: impl Fn(&str) -> Option<String>,
    var: &'static str,
    what: &'static str,
) -> Result<String, ConfigError> {
    let url = required(get, var, what)?;
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url)
    } else {
        Err(ConfigError::Invalid {
            var,
            problem: format!(
                "`{url}` is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)"
            ),
        })
    }
}
