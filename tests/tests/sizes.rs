//! What a lead costs in DynamoDB item bytes (`docs/storage.md`, Sizes): the state item grows
//! with activity only; decay entries go to ledger items. Run with `--nocapture` to see the
//! figures the doc quotes.

use chrono::{Duration, TimeZone, Utc};
use leadscore_domain::{apply, decay, Event, EventKind, LeadState, Model};

fn example_model() -> Model {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/example.toml");
    let text = std::fs::read_to_string(path).expect("models/example.toml");
    Model::from_toml(&text, path).expect("the example model is valid")
}

/// The state as the store writes it (entries held apart, LZ4-compressed JSON) and the bytes
/// of those entries.
fn stored_sizes(state: &LeadState) -> (usize, usize, usize) {
    let mut s = state.clone();
    let entries = s.ledger.take_new();
    let json = serde_json::to_vec(&s).expect("state serializes");
    let state_bytes = lz4_flex::compress_prepend_size(&json).len();
    println!(
        "  state JSON {} bytes, stored (LZ4) {state_bytes} bytes",
        json.len()
    );
    // As ledger items hold them: compressed, up to 200 entries each.
    let ledger_bytes = entries
        .chunks(200)
        .map(|c| lz4_flex::compress_prepend_size(&serde_json::to_vec(c).expect("entries")).len())
        .sum();
    (state_bytes, entries.len(), ledger_bytes)
}

#[test]
fn the_state_item_grows_with_activity_not_with_decay() {
    let model = example_model();
    let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    let urls = ["/pricing", "/product/a", "/automation", "/blog/x"];
    let events: Vec<Event> = (0..200)
        .map(|i| {
            let at = t0 + Duration::hours(i * 7);
            if i % 2 == 0 {
                let mut e = Event::new(format!("pv-{i}"), at, EventKind::PageView);
                e.url = Some(format!("https://acme.io{}", urls[(i / 2) as usize % 4]));
                e
            } else {
                Event::new(format!("open-{i}"), at, EventKind::EmailOpen)
            }
        })
        .collect();
    let mut state = LeadState::new("email:ana@acme.io");
    let last = events.last().map(|e| e.occurred_at).expect("events");
    apply(&model, &mut state, &events, last);
    let (active_state, active_entries, active_ledger) = stored_sizes(&state);
    println!(
        "200 events: state {active_state} bytes ({} per event), {active_entries} entries, ledger {active_ledger} bytes",
        active_state / 200
    );
    assert!(
        active_state / 200 < 100,
        "a scoring event costs under 100 stored bytes of state"
    );

    // 120 nights of decay: entries accrue, the state barely moves.
    let mut night = last.date_naive();
    for _ in 0..120 {
        night = night.succ_opt().expect("date");
        let now = Utc.from_utc_datetime(&night.and_hms_opt(23, 0, 0).expect("time"));
        decay(&model, &mut state, night, now);
    }
    let (decayed_state, all_entries, all_ledger) = stored_sizes(&state);
    println!(
        "after 120 nights: state {decayed_state} bytes, {all_entries} entries, ledger {all_ledger} bytes"
    );
    assert!(
        all_entries > active_entries,
        "decay wrote entries: {all_entries}"
    );
    assert!(
        decayed_state < active_state + 2_000,
        "decay grew the state from {active_state} to {decayed_state} bytes"
    );
}
