//! The `leadscore` binary as a user runs it: exit codes, error lines, output.

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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write_temp(name: &str, body: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, body).expect("write");
    (dir, path)
}

#[test]
fn model_check_accepts_the_example_and_prints_a_summary() {
    let out = leadscore(&["model", "check", "models/example.toml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.starts_with("models/example.toml: ok, model `northwind-b2b-saas`"),
        "{s}"
    );
    assert!(s.contains("MQL at 100 (exit below 70)"), "{s}");
    assert!(s.contains("fit rules:    15"), "{s}");
    assert!(s.contains("combinations: 2"), "{s}");
}

#[test]
fn model_check_reports_every_problem_with_its_line_and_exits_nonzero() {
    let (_d, path) = write_temp(
        "broken.toml",
        "[model]\nname = \"x\"\n\n[thresholds]\nmql = 50\nmql_exit = 60\n\n[[activity]]\nid = \"a\"\nkind = \"page_veiw\"\npoints = 1\n\n[[activity]]\nid = \"a\"\nkind = \"page_view\"\nurl_regex = \"(\"\npoints = 1\n",
    );
    let p = path.display().to_string();
    let out = leadscore(&["model", "check", &p]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{p}:6:12: thresholds.mql_exit (60)"))),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{p}:10:8: unknown activity kind `page_veiw`"))),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{p}:14:6: duplicate rule id `a`"))),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{p}:16:13: bad regex"))),
        "{err}"
    );
}

#[test]
fn model_check_reports_unknown_keys_and_syntax_errors_by_line() {
    let (_d, path) = write_temp(
        "k.toml",
        "[model]\nname = \"x\"\n\n[thresholds]\nmql = 10\nmql_exit = 5\nmql_entry = 3\n",
    );
    let out = leadscore(&["model", "check", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(":7:1: unknown field `mql_entry`"),
        "{}",
        text(&out.stderr)
    );

    let (_d2, path) = write_temp("s.toml", "[model\nname = 1\n");
    let out = leadscore(&["model", "check", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(":1:7: "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_missing_file_is_one_line_not_a_panic() {
    let out = leadscore(&["model", "check", "models/nope.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot read models/nope.toml"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn score_prints_moves_and_explained_leads() {
    let out = leadscore(&[
        "score",
        "tests/fixtures/golden-histories.jsonl",
        "--through",
        "2026-04-20",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("2026-03-12  marta@finlytics.de: lead -> mql (instant-MQL rule `demo-request`"),
        "{s}"
    );
    assert!(
        s.contains(
            "ken@shopwave.com  score 87.54 (fit 53, activity 34.54)  grade B3  stage nurture"
        ),
        "{s}"
    );
}

#[test]
fn score_json_is_machine_readable() {
    let out = leadscore(&[
        "score",
        "tests/fixtures/golden-histories.jsonl",
        "--json",
        "--top",
        "2",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let leads = v["leads"].as_array().expect("leads");
    assert_eq!(leads.len(), 4);
    let priya = leads
        .iter()
        .find(|l| l["lead"] == "priya@acmecommerce.com")
        .expect("priya");
    assert_eq!(priya["stage"], "sql");
    assert_eq!(priya["reasons"].as_array().map(Vec::len), Some(2));
}

#[test]
fn score_names_the_bad_line_of_an_events_file() {
    let (_d, path) = write_temp(
        "e.jsonl",
        "{\"lead\":\"a@b.io\",\"id\":\"1\",\"occurred_at\":\"2026-01-01T00:00:00Z\",\"kind\":\"trial_started\"}\n{\"lead\":\"a@b.io\",\"id\":\"2\",\"occurred_at\":\"yesterday\",\"kind\":\"trial_started\"}\n",
    );
    let p = path.display().to_string();
    let out = leadscore(&["score", &p]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.starts_with(&format!("{p}:2: ")), "{err}");
    assert!(
        err.contains("premature end of input") || err.contains("input contains invalid characters"),
        "{err}"
    );
}

#[test]
fn score_rejects_a_bad_date_and_an_empty_file() {
    let out = leadscore(&[
        "score",
        "tests/fixtures/golden-histories.jsonl",
        "--through",
        "2026-13-01",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a date like 2026-03-31"),
        "{}",
        text(&out.stderr)
    );

    let (_d, path) = write_temp("empty.jsonl", "# nothing\n\n");
    let out = leadscore(&["score", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("holds no events"),
        "{}",
        text(&out.stderr)
    );
}
