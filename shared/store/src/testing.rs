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

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
