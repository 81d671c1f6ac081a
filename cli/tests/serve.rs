//! `leadscore serve` over real HTTP on loopback, with signed requests, on the embedded store
//! and on DynamoDB (moto); then `explain`, `report` and `sweep` on what it stored.

use hmac::{Hmac, Mac};
use leadscore_notify::testing::{Reply, TestServer};
use leadscore_store::testing::Moto;
use serde_json::{json, Value};
use sha2::Sha256;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const SECRET: &str = "local-events-secret";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn leadscore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leadscore"))
        .args(args)
        .current_dir(root())
        .env_remove("LEADSCORE_MODEL")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A running `leadscore serve` and its base URL; killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(store_args: &[&str], slack: &str) -> Server {
    serve_with(store_args, slack, &[])
}

/// `serve` with its usual variables and `env` over them.
fn serve_command(store_args: &[&str], slack: &str, env: &[(&str, &str)]) -> Command {
    let mut args = vec!["serve", "--addr", "127.0.0.1:0"];
    args.extend_from_slice(store_args);
    let mut command = Command::new(env!("CARGO_BIN_EXE_leadscore"));
    command
        .args(&args)
        .current_dir(root())
        .env_remove("LEADSCORE_MODEL")
        .env_remove("LEADSCORE_ROUTES_FILE")
        .env_remove("LEADSCORE_MQL_THRESHOLD")
        .env_remove("LEADSCORE_MQL_EXIT_THRESHOLD")
        .env("LEADSCORE_EVENTS_SECRET", SECRET)
        .env("LEADSCORE_SLACK_WEBHOOK_URL", slack)
        .envs(env.iter().copied());
    command
}

fn serve_with(store_args: &[&str], slack: &str, env: &[(&str, &str)]) -> Server {
    let mut child = serve_command(store_args, slack, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("its stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("the listening line");
    let base = first
        .trim()
        .strip_prefix("leadscore listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .to_owned();
    Server { child, base }
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

async fn post(base: &str, path: &str, body: &Value, signed: bool) -> (u16, Value) {
    let body = body.to_string();
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json");
    if signed {
        req = req.header("x-leadscore-signature", sign(body.as_bytes()));
    }
    let res = req.body(body).send().await.expect("a response");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn events() -> Value {
    let now = chrono::Utc::now();
    let at = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
    json!({"events": [
        {"id": "w1", "type": "identify", "email": "Ana@Acme.test", "timestamp": at(30),
         "traits": {"first_name": "Ana", "last_name": "Silva", "job_title": "VP Marketing",
                    "company": "Acme", "country": "Spain"}},
        {"id": "w2", "type": "page_view", "email": "ana@acme.test", "timestamp": at(29),
         "url": "https://acme.test/pricing"},
        {"id": "w3", "type": "demo_request", "email": "ana@acme.test", "timestamp": at(28)}
    ]})
}

/// The same scenario on either store: a signed batch makes Ana an MQL and Slack gets one
/// notice; a redelivery changes nothing; bad requests get the right status and a JSON error;
/// the sweep runs on demand.
async fn scenario(server: &Server, slack: &TestServer) {
    let (status, body) = post(&server.base, "/webhooks/events", &events(), true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 3, "{body}");
    assert!(
        body["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["to"] == "mql"),
        "{body}"
    );
    let posts = slack.requests();
    assert_eq!(posts.len(), 1, "one notice");
    assert!(posts[0].json().to_string().contains("Ana Silva"));

    // Redelivered: duplicates, no second notice.
    let (status, body) = post(&server.base, "/webhooks/events", &events(), true).await;
    assert_eq!(
        (status, body["duplicates"].clone()),
        (200, json!(3)),
        "{body}"
    );
    assert_eq!(slack.requests().len(), 1);

    // A wrong signature, an unknown route, a malformed body.
    let (status, body) = post(&server.base, "/webhooks/events", &events(), false).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let (status, _) = post(&server.base, "/webhooks/nowhere", &events(), true).await;
    assert_eq!(status, 404);
    let bad = json!({"events": [{"id": "x", "type": "page_view"}]});
    let (status, body) = post(&server.base, "/webhooks/events", &bad, true).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("email"), "{body}");

    // The sweep on demand, and a day that is not over is refused.
    let (status, body) = post(&server.base, "/admin/sweep", &json!({}), false).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["through"].is_string(), "{body}");
    let today = chrono::Utc::now().date_naive();
    let (status, _) = post(
        &server.base,
        &format!("/admin/sweep?through={today}"),
        &json!({}),
        false,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_the_embedded_store_then_explain_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store.json");
    let data = data.to_str().unwrap();
    let slack = TestServer::start_with_fallback(Vec::new(), Reply::ok());
    {
        let server = serve(&["--data", data], &slack.url("/hook"));
        scenario(&server, &slack).await;
    }
    // What the server stored is there for the other commands.
    let out = leadscore(&["explain", "ana@acme.test", "--data", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("Ana Silva <ana@acme.test>"), "{s}");
    assert!(s.contains("stage mql"), "{s}");
    assert!(s.contains("= the score"), "{s}");
    assert!(s.contains("activity demo-request"), "{s}");
    let out = leadscore(&["explain", "ana@acme.test", "--json", "--data", data]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stage"], "mql");
    assert_eq!(
        v["ledger_sum"], v["scores"]["total"],
        "the ledger sums to the score"
    );

    let html = dir.path().join("report.html");
    let out = leadscore(&[
        "report",
        "--json",
        "--data",
        data,
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["leads"], 1);
    assert_eq!(r["conversion"]["mqls"], 1);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("</html>"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployments_thresholds_override_the_models() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store.json");
    let data = data.to_str().unwrap();
    let slack = TestServer::start_with_fallback(Vec::new(), Reply::ok());
    // Ana without her demo request (an instant MQL): her fit and a pricing visit stay below the
    // model's 100, and reach this deployment's 20.
    let mut batch = events();
    batch["events"].as_array_mut().unwrap().truncate(2);
    {
        let server = serve_with(
            &["--data", data],
            &slack.url("/hook"),
            &[
                ("LEADSCORE_MQL_THRESHOLD", "20"),
                ("LEADSCORE_MQL_EXIT_THRESHOLD", "10"),
            ],
        );
        let (status, body) = post(&server.base, "/webhooks/events", &batch, true).await;
        assert_eq!(
            (status, body["accepted"].clone()),
            (200, json!(2)),
            "{body}"
        );
        let transitions = body["transitions"].as_array().unwrap();
        assert_eq!(transitions.len(), 1, "{body}");
        assert_eq!(transitions[0]["to"], "mql", "{body}");
        assert_eq!(transitions[0]["reason"]["type"], "score_reached", "{body}");
        assert_eq!(transitions[0]["reason"]["threshold"], 20, "{body}");
    }
    assert_eq!(slack.requests().len(), 1, "sales is told");
    let out = leadscore(&["explain", "ana@acme.test", "--json", "--data", data]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stage"], "mql", "{v}");
    let total = v["scores"]["total"].as_f64().unwrap();
    assert!((20.0..100.0).contains(&total), "{v}");

    // An override the model's rules refuse stops serve before it listens, naming the variable.
    let out = serve_command(
        &["--data", data],
        &slack.url("/hook"),
        &[("LEADSCORE_MQL_EXIT_THRESHOLD", "150")],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: LEADSCORE_MQL_EXIT_THRESHOLD: thresholds.mql_exit (150) must be lower than thresholds.mql (100)"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_dynamodb_against_moto() {
    let moto = Moto::start();
    let slack = TestServer::start_with_fallback(Vec::new(), Reply::ok());
    let args = [
        "--dynamodb-endpoint",
        moto.endpoint.as_str(),
        "--table",
        "serve-test",
    ];
    {
        let server = serve(&args, &slack.url("/hook"));
        scenario(&server, &slack).await;
    }
    let mut explain = vec!["explain", "ana@acme.test"];
    explain.extend_from_slice(&args);
    let out = leadscore(&explain);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("stage mql"));
}

#[test]
fn bad_input_is_one_line_and_a_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store.json");
    let data = data.to_str().unwrap();
    let out = leadscore(&[
        "demo", "--leads", "1", "--days", "1", "--json", "--data", data,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = leadscore(&["explain", "nobody@x.test", "--data", data]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: no lead `nobody@x.test`"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    std::fs::write(dir.path().join("store.json"), "{not json").unwrap();
    let out = leadscore(&["report", "--data", data]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("store.json"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = leadscore(&["sweep", "--as-of", "31/03/2026", "--data", data]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("not a date like 2026-03-31"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    assert_eq!(err.lines().count(), 1, "{err}");

    // Reading commands refuse a store that is not there rather than report nothing.
    let missing = dir.path().join("missing.json");
    let out = leadscore(&["report", "--data", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: no store at "));
    // A night that has not come yet.
    let out = leadscore(&["sweep", "--as-of", "2999-01-01", "--data", data]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("has not come yet"));

    let out = leadscore(&["report", "--model", "nope.toml", "--data", data]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: cannot read nope.toml"));
}

#[test]
fn every_command_has_help() {
    for cmd in [
        vec!["--help"],
        vec!["model", "check", "--help"],
        vec!["score", "--help"],
        vec!["demo", "--help"],
        vec!["explain", "--help"],
        vec!["report", "--help"],
        vec!["sweep", "--help"],
        vec!["serve", "--help"],
        vec!["replay", "--help"],
    ] {
        let out = leadscore(&cmd);
        assert!(out.status.success(), "{cmd:?}");
        assert!(text(&out.stdout).contains("Usage:"), "{cmd:?}");
    }
}

/// Slack failing: the request still succeeds (its events are stored), the notice is listed
/// as failed, and `POST /admin/redrive` sends it once Slack is back. Parallel requests are
/// all on disk afterwards, even when the server is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_notices_are_redriven_and_parallel_requests_are_all_saved() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store.json");
    let data = data.to_str().unwrap();
    let slack = TestServer::start(vec![
        Reply::status(500, "oops"),
        Reply::status(500, "oops"),
        Reply::status(500, "oops"),
        Reply::status(500, "oops"),
        Reply::ok(),
    ]);
    {
        let server = serve(&["--data", data], &slack.url("/hook"));
        let (status, body) = post(&server.base, "/webhooks/events", &events(), true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            slack.requests().len(),
            4,
            "every attempt of the retry policy"
        );
        let (status, body) = post(&server.base, "/admin/redrive", &json!({}), false).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body["notices"][0].as_str().unwrap().ends_with(": Sent"),
            "{body}"
        );
        assert_eq!(slack.requests().len(), 5);
        // Nothing left to re-drive.
        let (_, body) = post(&server.base, "/admin/redrive", &json!({}), false).await;
        assert_eq!(body["notices"], json!([]));

        // Twenty leads at once, then the server is killed without a clean stop.
        let now = chrono::Utc::now().to_rfc3339();
        let posts = (0..20).map(|i| {
            let body = json!({"id": format!("p{i}"), "type": "page_view",
                "email": format!("lead{i}@par.test"), "timestamp": now,
                "url": "https://acme.test/"});
            let base = server.base.clone();
            tokio::spawn(async move { post(&base, "/webhooks/events", &body, true).await.0 })
        });
        for p in posts {
            assert_eq!(p.await.unwrap(), 200);
        }
    }
    let out = leadscore(&["report", "--json", "--data", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["leads"], 21, "Ana and the twenty");
}
