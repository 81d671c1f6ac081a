//! A moto_server on a free loopback port, for tests that need a real DynamoDB API over HTTP.
//!
//! moto is found at `$LEADSCORE_MOTO_SERVER`, else `.venv/bin/moto_server` at the workspace
//! root (what `make test` installs), else `moto_server` on the PATH.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

fn moto_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("LEADSCORE_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join(".venv/bin/moto_server");
        if candidate.exists() {
            return candidate;
        }
        if !dir.pop() {
            return PathBuf::from("moto_server");
        }
    }
}

impl Moto {
    /// Starts moto and waits until it answers. Panics with instructions when moto is missing:
    /// this is test setup, not an input path.
    pub fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let bin = moto_binary();
        // Serve one request at a time (see moto_serial.py) when the venv's python is there.
        let python = bin.with_file_name("python");
        let serial = concat!(env!("CARGO_MANIFEST_DIR"), "/moto_serial.py");
        let mut command = if python.exists() {
            let mut c = Command::new(&python);
            c.args([serial, "127.0.0.1", &port.to_string()]);
            c
        } else {
            let mut c = Command::new(&bin);
            c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            c
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {} ({e}): run `make test` (it installs moto in .venv) or set LEADSCORE_MOTO_SERVER", bin.display())
            });
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// An SDK config for this moto, with dummy credentials (without them the SDK probes
    /// instance metadata and fails).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "moto",
            ))
            .load()
            .await
    }

    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config().await)
    }
}

impl Moto {
    /// The emails moto's SES recorded as sent (`/moto-api/data.json`, key `ses.Message`):
    /// id, source, subject, body (the HTML part when both are sent), destinations.
    pub async fn sent_emails(&self) -> Vec<serde_json::Value> {
        use serde_json::Value;
        let url = format!("{}/moto-api/data.json", self.endpoint);
        let response = reqwest::get(&url).await.expect("moto's data API");
        let text = response.text().await.expect("moto's data");
        let data: Value = serde_json::from_str(&text).expect("moto's data is JSON");
        match &data["ses"]["Message"] {
            Value::Object(by_account) => by_account
                .values()
                .flat_map(|region| match region {
                    Value::Object(m) => m.values().cloned().collect::<Vec<_>>(),
                    Value::Array(a) => a.clone(),
                    _ => Vec::new(),
                })
                .collect(),
            Value::Array(a) => a.clone(),
            _ => Vec::new(),
        }
    }

    /// A reader of `table`'s DynamoDB stream from its start (TRIM_HORIZON of its one shard).
    pub async fn stream(&self, table: &str) -> StreamReader {
        let reader = StreamReader {
            http: reqwest::Client::new(),
            endpoint: self.endpoint.clone(),
            arn: String::new(),
            iterator: None,
        };
        let table = reader
            .call(
                "DynamoDB_20120810.DescribeTable",
                serde_json::json!({ "TableName": table }),
            )
            .await;
        let arn = table["Table"]["LatestStreamArn"]
            .as_str()
            .expect("the table has a stream")
            .to_owned();
        let stream = reader
            .call(
                "DynamoDBStreams_20120810.DescribeStream",
                serde_json::json!({ "StreamArn": arn }),
            )
            .await;
        let shard = stream["StreamDescription"]["Shards"][0]["ShardId"]
            .as_str()
            .expect("a shard")
            .to_owned();
        let it = reader
            .call(
                "DynamoDBStreams_20120810.GetShardIterator",
                serde_json::json!({
                    "StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"
                }),
            )
            .await;
        StreamReader {
            arn,
            iterator: it["ShardIterator"].as_str().map(str::to_owned),
            ..reader
        }
    }
}

/// Reads a table's stream through the DynamoDB Streams API, as the Lambda service does: the
/// records come as the API's JSON, which is what a Lambda event carries.
pub struct StreamReader {
    http: reqwest::Client,
    endpoint: String,
    pub arn: String,
    iterator: Option<String>,
}

impl StreamReader {
    async fn call(&self, target: &str, body: serde_json::Value) -> serde_json::Value {
        // moto routes by the signing scope's service; the signature is not checked.
        let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, \
                    SignedHeaders=host, Signature=0";
        let response = self
            .http
            .post(&self.endpoint)
            .header("x-amz-target", target)
            .header("content-type", "application/x-amz-json-1.0")
            .header("authorization", auth)
            .body(body.to_string())
            .send()
            .await
            .expect("moto answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        assert!(status.is_success(), "{target}: {status} {text}");
        serde_json::from_str(&text).expect("JSON")
    }

    /// The records written since the last call (all of them on the first).
    pub async fn next_records(&mut self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        while let Some(it) = self.iterator.take() {
            let page = self
                .call(
                    "DynamoDBStreams_20120810.GetRecords",
                    serde_json::json!({ "ShardIterator": it }),
                )
                .await;
            let records = page["Records"].as_array().cloned().unwrap_or_default();
            self.iterator = page["NextShardIterator"].as_str().map(str::to_owned);
            if records.is_empty() {
                break;
            }
            out.extend(records);
        }
        out
    }

    /// `records` as the Lambda service hands them to a function: `{"Records": [...]}` with
    /// each record's `eventSourceARN`.
    pub fn lambda_event(&self, records: &[serde_json::Value]) -> serde_json::Value {
        let records: Vec<serde_json::Value> = records
            .iter()
            .cloned()
            .map(|mut r| {
                r["eventSourceARN"] = serde_json::Value::String(self.arn.clone());
                r
            })
            .collect();
        serde_json::json!({ "Records": records })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
