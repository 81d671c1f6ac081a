//! Helpers shared by the end-to-end tests.

use leadscore_domain::replay::{parse_jsonl, play, Played};
use leadscore_domain::Model;

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default()
}

/// The example model shipped in `models/example.toml`.
pub fn example_model() -> Model {
    let path = repo_root().join("models/example.toml");
    let src = std::fs::read_to_string(&path).expect("models/example.toml is readable");
    Model::from_toml(&src, "models/example.toml").expect("the example model is valid")
}

/// Replays the golden histories (optionally one lead only) up to the end of `through`.
pub fn play_golden(model: &Model, lead: Option<&str>, through: &str) -> Played {
    let path = repo_root().join("tests/fixtures/golden-histories.jsonl");
    let text = std::fs::read_to_string(path).expect("golden histories are readable");
    let through = chrono::NaiveDate::parse_from_str(through, "%Y-%m-%d").expect("a valid date");
    let events = parse_jsonl(&text)
        .expect("golden histories parse")
        .into_iter()
        .filter(|(l, e)| lead.is_none_or(|want| l == want) && e.occurred_at.date_naive() <= through)
        .collect();
    play(model, events, Some(through))
}
