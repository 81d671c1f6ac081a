//! Scoring throughput against JSON parsing of the same activities, in one run:
//! 1M activities over 10k leads (100 each, over 90 days) with the example model.
//!
//!     cargo bench -p leadscore-domain --bench engine
//!
//! `parse_json` deserializes every activity from its JSON line (the baseline);
//! `score_batches_of_10` applies each lead's activities in time order, ten per call (a
//! webhook batch); `score_one_per_call` applies them one per call (the worst case).

mod common;

use chrono::{TimeZone, Utc};
use common::{dataset, json_lines, LEADS, PER_LEAD};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leadscore_domain::{apply, Event, LeadState, Model};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let model = Model::from_toml(include_str!("../../../models/example.toml"), "example").unwrap();
    let leads = dataset();
    let lines = json_lines(&leads);
    let now = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
    let total = (LEADS * PER_LEAD) as u64;

    let mut g = c.benchmark_group("1M_activities_10k_leads");
    g.sample_size(10);
    g.throughput(Throughput::Elements(total));
    g.bench_function("parse_json", |b| {
        b.iter(|| {
            for line in &lines {
                black_box(serde_json::from_str::<Event>(line).unwrap());
            }
        })
    });
    g.bench_function("score_batches_of_10", |b| {
        b.iter(|| {
            for (i, events) in leads.iter().enumerate() {
                let mut state = LeadState::new(format!("lead-{i}"));
                for batch in events.chunks(10) {
                    black_box(apply(&model, &mut state, batch, now));
                }
                black_box(&state);
            }
        })
    });
    g.bench_function("score_one_per_call", |b| {
        b.iter(|| {
            for (i, events) in leads.iter().enumerate() {
                let mut state = LeadState::new(format!("lead-{i}"));
                for e in events {
                    black_box(apply(&model, &mut state, std::slice::from_ref(e), now));
                }
                black_box(&state);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
