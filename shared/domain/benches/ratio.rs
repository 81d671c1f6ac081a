//! The scoring/parsing ratio, robust to a noisy machine: rounds alternate parsing all 1M
//! activities and scoring them (ten per call per lead), and the median of the per-round
//! ratios is reported with the median throughputs.
//!
//!     cargo bench -p leadscore-domain --bench ratio

mod common;

use chrono::{TimeZone, Utc};
use common::{dataset, json_lines, LEADS, PER_LEAD};
use leadscore_domain::{apply, Event, LeadState, Model};
use std::hint::black_box;
use std::time::Instant;

const ROUNDS: usize = 9;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes harness flags such as --bench; a filter that names another bench skips us.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with("--") && !"ratio".contains(a.as_str()))
    {
        return;
    }
    let model = Model::from_toml(include_str!("../../../models/example.toml"), "example").unwrap();
    let leads = dataset();
    let lines = json_lines(&leads);
    let now = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
    let n = (LEADS * PER_LEAD) as f64;
    let (mut parse, mut score, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let t = Instant::now();
        for line in &lines {
            black_box(serde_json::from_str::<Event>(line).unwrap());
        }
        let p = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for (i, events) in leads.iter().enumerate() {
            let mut state = LeadState::new(format!("lead-{i}"));
            for batch in events.chunks(10) {
                black_box(apply(&model, &mut state, batch, now));
            }
            black_box(&state);
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "round {round}: parse {:.0} ms, score {:.0} ms, ratio {:.2}",
            p * 1e3,
            s * 1e3,
            s / p
        );
        parse.push(n / p);
        score.push(n / s);
        ratio.push(s / p);
    }
    println!(
        "median over {ROUNDS} rounds: parse {:.2} M activities/s, score {:.2} M activities/s, score/parse time ratio {:.2}",
        median(parse) / 1e6,
        median(score) / 1e6,
        median(ratio)
    );
}
