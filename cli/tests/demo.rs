//! `leadscore demo` in the test suite, on a smaller sample: its outcome is asserted (who
//! became an MQL, who went cold, how many notices), it is deterministic, and what it stored
//! is there for `explain` and `report`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn leadscore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leadscore"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

fn demo(data: &str) -> Value {
    let out = leadscore(&[
        "demo", "--leads", "80", "--days", "75", "--json", "--data", data,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the JSON summary")
}

fn leads(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|pair| pair[1].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_demo_qualifies_the_right_leads_notifies_each_once_and_cools_the_quiet_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store.json");
    let data = data.to_str().unwrap();
    let v = demo(data);
    let personas = v["personas"].as_object().unwrap();
    assert_eq!(personas.len(), 80);
    assert_eq!(v["rejected"], 0, "every generated webhook is accepted");

    // One notice per move into MQL (one route).
    let mql = leads(&v["mql"]);
    assert!(mql.len() >= 5, "{mql:?}");
    assert_eq!(v["notices"].as_u64(), Some(mql.len() as u64));
    let persona = |lead: &str| personas[lead].as_str().unwrap().to_owned();
    for lead in &mql {
        let p = persona(lead);
        assert!(p != "student" && p != "competitor", "{lead} is a {p} MQL");
    }
    let ideal: Vec<&String> = personas
        .iter()
        .filter(|(_, p)| *p == "ideal")
        .map(|(l, _)| l)
        .collect();
    let ideal_mql = ideal.iter().filter(|l| mql.contains(l)).count();
    assert!(
        ideal_mql * 2 >= ideal.len(),
        "most ideal leads qualify: {ideal_mql} of {}",
        ideal.len()
    );

    // Quiet leads went to nurture, and the store says so.
    let cold = leads(&v["cold"]);
    assert!(!cold.is_empty());
    let out = leadscore(&["explain", &cold[0], "--json", "--data", data]);
    let lead: Value = serde_json::from_slice(&out.stdout).unwrap();
    let moves = lead["transitions"].as_array().unwrap();
    assert!(moves.iter().any(|t| t["to"] == "nurture"), "{lead}");
    assert_eq!(lead["ledger_sum"], lead["scores"]["total"]);

    // The closing report covers every lead, and counts the MQLs the notices announced.
    let report = &v["report"];
    assert_eq!(report["leads"], 80);
    assert!(report["conversion"]["mqls"].as_u64() >= Some(mql.len() as u64 / 2));
    let stages: u64 = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[1].as_u64().unwrap())
        .sum();
    assert_eq!(stages, 80);

    // The same seed gives the same run.
    let again = demo(dir.path().join("again.json").to_str().unwrap());
    assert_eq!(again, v);
}

#[test]
fn the_demo_refuses_bad_arguments() {
    let out = leadscore(&["demo", "--leads", "0", "--data", "/nonexistent/x.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--leads"));
    let out = leadscore(&["demo", "--days", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = leadscore(&["demo", "--model", "missing.toml", "--data", "/tmp/x.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: cannot read missing.toml"));
}

#[test]
fn replaying_the_demo_recording_reproduces_it_and_tries_a_candidate_model() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.jsonl");
    let rec = rec.to_str().unwrap();
    let data = dir.path().join("store.json");
    let out = leadscore(&[
        "demo",
        "--leads",
        "50",
        "--days",
        "50",
        "--json",
        "--data",
        data.to_str().unwrap(),
        "--record",
        rec,
    ]);
    assert!(out.status.success());
    let demo: Value = serde_json::from_slice(&out.stdout).unwrap();

    // Same model, same nights (the demo starts 2026-01-05 and runs 50 days): same outcome.
    let replay = |model: &str| {
        let out = leadscore(&[
            "replay",
            rec,
            "--demo-secrets",
            "--model",
            model,
            "--through",
            "2026-02-23",
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let same = replay("models/example.toml");
    assert_eq!(same["rejected"], 0);
    assert_eq!(same["report"], demo["report"]);
    assert_eq!(same["notices"], demo["notices"]);

    // A stricter threshold on the same history: fewer MQLs.
    let example = std::fs::read_to_string(root().join("models/example.toml")).unwrap();
    let stricter = example.replacen("mql = 100", "mql = 160", 1);
    assert_ne!(stricter, example);
    let candidate = dir.path().join("stricter.toml");
    std::fs::write(&candidate, stricter).unwrap();
    let strict = replay(candidate.to_str().unwrap());
    assert!(
        strict["report"]["conversion"]["mqls"].as_u64()
            < same["report"]["conversion"]["mqls"].as_u64(),
        "{} vs {}",
        strict["report"]["conversion"],
        same["report"]["conversion"]
    );

    // Without the demo's secrets the signatures do not verify: every request is rejected.
    let out = leadscore(&["replay", rec, "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rejected"], v["requests"]);

    // A bad line is reported as file:line.
    let bad = dir.path().join("bad.jsonl");
    let first = std::fs::read_to_string(rec)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    std::fs::write(&bad, format!("{first}\n{{\"at\": \"yesterday\"}}\n")).unwrap();
    let out = leadscore(&["replay", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with(&format!("{}:2: ", bad.display())), "{err}");
}

#[test]
fn the_demo_runs_on_dynamodb_and_posts_to_a_slack_sink() {
    use leadscore_notify::testing::{Reply, TestServer};
    let moto = leadscore_store::testing::Moto::start();
    let slack = TestServer::start_with_fallback(Vec::new(), Reply::ok());
    let out = Command::new(env!("CARGO_BIN_EXE_leadscore"))
        .args([
            "demo",
            "--leads",
            "25",
            "--days",
            "30",
            "--json",
            "--dynamodb-endpoint",
            &moto.endpoint,
            "--table",
            "demo-test",
            "--slack-url",
            &slack.url("/services/T/B/demo"),
        ])
        .current_dir(root())
        .env_remove("LEADSCORE_TABLE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["leads"], 25, "the report reads the table");
    assert_eq!(v["rejected"], 0);
    let notices = v["notices"].as_u64().unwrap();
    assert!(notices > 0);
    // Every notice went to the sink, as Block Kit.
    let posts = slack.requests();
    assert_eq!(posts.len() as u64, notices);
    assert!(posts.iter().all(|p| p.json()["blocks"].is_array()));
    // The table now holds the demo's leads: a second demo into it is refused.
    let again = Command::new(env!("CARGO_BIN_EXE_leadscore"))
        .args([
            "demo",
            "--leads",
            "2",
            "--days",
            "2",
            "--dynamodb-endpoint",
            &moto.endpoint,
            "--table",
            "demo-test",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
}

#[test]
fn the_demo_prints_notices_and_cold_leads_as_they_happen() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store.json");
    let out = leadscore(&[
        "demo",
        "--leads",
        "40",
        "--days",
        "75",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let notices: Vec<&&str> = lines.iter().filter(|l| l.contains("  New MQL: ")).collect();
    let cold: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("  to nurture: "))
        .collect();
    assert!(!notices.is_empty() && !cold.is_empty(), "{text}");
    // Dated lines, in time order, then the closing summary and report.
    let days: Vec<&str> = (notices.iter().chain(cold.iter()))
        .map(|l| &l[..10])
        .collect();
    assert!(days.iter().all(|d| d.starts_with("2026-")), "{days:?}");
    let summary = format!(
        "{} MQL notices, {} leads to nurture",
        notices.len(),
        cold.len()
    );
    assert!(text.contains(&summary), "{summary} in {text}");
    assert!(text.contains("Grades (fit A-D down, activity 1-4 across)"));
    assert!(text.contains("Conversion: "));
}

#[test]
fn full_notices_read_as_the_slack_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store.json");
    let out = leadscore(&[
        "demo",
        "--leads",
        "20",
        "--days",
        "40",
        "--full",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // The header block, then the section with the score and the reasons.
    assert!(text.contains("\nNew MQL: "), "{text}");
    assert!(text.contains("*Score*"), "{text}");
    assert!(text.contains("*Grade*"), "{text}");
}
