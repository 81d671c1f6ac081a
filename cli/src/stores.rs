//! Which store a command works on: the embedded store, a file under `--data` (default
//! `.leadscore/store.json`), or DynamoDB at `--dynamodb-endpoint` (moto, DynamoDB local, or a
//! real endpoint) in `--table`.

use crate::error::CliError;
use leadscore_domain::LeadState;
use leadscore_store::{decode_state, DynamoStore, MemoryStore};
use std::path::{Path, PathBuf};

pub const DEFAULT_DATA: &str = ".leadscore/store.json";
pub const DEFAULT_TABLE: &str = "leadscore-local";

#[derive(clap::Args, Clone, Debug)]
pub struct StoreArgs {
    /// The embedded store's file (ignored with --dynamodb-endpoint).
    #[arg(long, default_value = DEFAULT_DATA)]
    pub data: PathBuf,
    /// Use DynamoDB at this endpoint instead of the embedded store (e.g. moto at
    /// http://127.0.0.1:5000). Credentials come from the usual AWS variables, or dummy ones
    /// when none are set.
    #[arg(long, value_name = "URL")]
    pub dynamodb_endpoint: Option<String>,
    /// The DynamoDB table (created with its index and stream when missing).
    #[arg(long, env = "LEADSCORE_TABLE", default_value = DEFAULT_TABLE)]
    pub table: String,
}

pub enum Opened {
    Embedded { store: MemoryStore, path: PathBuf },
    Dynamo(DynamoStore),
}

impl StoreArgs {
    pub async fn open(&self) -> Result<Opened, CliError> {
        match &self.dynamodb_endpoint {
            None => Ok(Opened::Embedded {
                store: open_file(&self.data)?,
                path: self.data.clone(),
            }),
            Some(url) => Ok(Opened::Dynamo(dynamo(url, &self.table).await?)),
        }
    }

    /// The store, which must exist: for commands that read leads, a missing embedded file is
    /// an error rather than an empty store.
    pub async fn open_existing(&self) -> Result<Opened, CliError> {
        if self.dynamodb_endpoint.is_none() && !self.data.exists() {
            return Err(CliError::NotFound(format!(
                "no store at {}: run `leadscore demo` or `leadscore serve` first, or give --data",
                self.data.display()
            )));
        }
        self.open().await
    }

    /// A fresh store: the embedded file emptied, or an empty DynamoDB table (one that holds
    /// anything is refused: the CLI never empties a table).
    pub async fn open_fresh(&self) -> Result<Opened, CliError> {
        match &self.dynamodb_endpoint {
            None => Ok(Opened::Embedded {
                store: MemoryStore::new(),
                path: self.data.clone(),
            }),
            Some(url) => {
                let store = dynamo(url, &self.table).await?;
                // Never mix generated leads into a table that holds others (it may be a
                // deployment's, named by LEADSCORE_TABLE).
                let page = store
                    .client()
                    .scan()
                    .table_name(store.table())
                    .limit(1)
                    .send()
                    .await
                    .map_err(|e| CliError::Store(format!("Scan: {e}")))?;
                if page.count() > 0 {
                    return Err(CliError::Usage(format!(
                        "table `{}` at {url} is not empty: give an empty or new --table",
                        self.table
                    )));
                }
                Ok(Opened::Dynamo(store))
            }
        }
    }
}

fn open_file(path: &Path) -> Result<MemoryStore, CliError> {
    MemoryStore::open(path).map_err(|e| CliError::Store(e.to_string()))
}

impl Opened {
    /// Writes the embedded store back to its file (DynamoDB writes as it goes).
    pub fn persist(&self) -> Result<(), CliError> {
        match self {
            Opened::Embedded { store, path } => store
                .save_to(path)
                .map_err(|e| CliError::Store(e.to_string())),
            Opened::Dynamo(_) => Ok(()),
        }
    }

    /// Every lead, for reports.
    pub async fn all_leads(&self) -> Result<Vec<LeadState>, CliError> {
        match self {
            Opened::Embedded { store, .. } => {
                store.leads().map_err(|e| CliError::Store(e.to_string()))
            }
            Opened::Dynamo(d) => scan_leads(d).await,
        }
    }
}

async fn dynamo(url: &str, table: &str) -> Result<DynamoStore, CliError> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new(
            std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned()),
        ));
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| url.starts_with(p));
    // Only a local endpoint gets dummy keys; a real one uses the usual chain (profiles, SSO).
    if loopback && std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        // moto and DynamoDB local take any key; without one the SDK probes instance metadata.
        loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local",
            "local",
            None,
            None,
            "leadscore-cli",
        ));
    }
    let client = aws_sdk_dynamodb::Client::new(&loader.load().await);
    let store = DynamoStore::new(client.clone(), table);
    let exists = client.describe_table().table_name(table).send().await;
    let missing = match &exists {
        Ok(_) => false,
        Err(e) => match e.as_service_error() {
            Some(se) if se.is_resource_not_found_exception() => true,
            _ => {
                return Err(CliError::Store(format!(
                    "cannot reach table `{table}` at {url}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )))
            }
        },
    };
    if missing {
        store
            .create_table()
            .await
            .map_err(|e| CliError::Store(format!("cannot create table `{table}` at {url}: {e}")))?;
    }
    Ok(store)
}

/// Every lead item of the table (a Scan: reports only).
async fn scan_leads(store: &DynamoStore) -> Result<Vec<LeadState>, CliError> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .scan()
            .table_name(store.table())
            .filter_expression("sk = :s")
            .expression_attribute_values(":s", AttributeValue::S("S".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| CliError::Store(format!("Scan: {e}")))?;
        for item in page.items() {
            if let Some(AttributeValue::B(b)) = item.get("state") {
                let json = decode_state(b.as_ref()).map_err(CliError::Store)?;
                let state: LeadState = serde_json::from_slice(&json)
                    .map_err(|e| CliError::Store(format!("a lead state: {e}")))?;
                out.push(state);
            }
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(out);
        }
    }
}

/// Runs `$body` with `$s` bound to the opened store, whichever it is.
#[macro_export]
macro_rules! with_store {
    ($opened:expr, |$s:ident| $body:expr) => {
        match $opened {
            $crate::stores::Opened::Embedded { store: $s, .. } => $body,
            $crate::stores::Opened::Dynamo($s) => $body,
        }
    };
}
