//! Input at the edges must never panic: dates at the ends of the calendar, windows at the
//! limit, empty batches.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use leadscore_domain::{apply, decay, Event, EventKind, LeadState, Model};

fn example() -> Model {
    Model::from_toml(include_str!("../../../models/example.toml"), "example").unwrap()
}

/// Every rule kind of the example, at `at` (ids made unique by `tag`).
fn burst(at: DateTime<Utc>, tag: &str) -> Vec<Event> {
    let e = |n: &str, k| Event::new(format!("{tag}-{n}"), at, k);
    vec![
        e("pv", EventKind::PageView).with_url("https://x.io/pricing"),
        e("prod", EventKind::PageView).with_url("https://x.io/product/a"),
        e("web", EventKind::WebinarAttended),
        e("reply", EventKind::EmailReply),
        e("demo", EventKind::DemoRequest),
        e("open", EventKind::EmailOpen),
    ]
}

#[test]
fn dates_at_the_ends_of_the_calendar_do_not_panic() {
    let model = example();
    for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        let mut s = LeadState::new("edge");
        let out = apply(&model, &mut s, &burst(at, "a"), at);
        assert_eq!(out.accepted, 6);
        // A late, older batch re-evaluates caps and combinations across the whole range.
        let other = if at == DateTime::<Utc>::MIN_UTC {
            DateTime::<Utc>::MAX_UTC
        } else {
            DateTime::<Utc>::MIN_UTC
        };
        apply(&model, &mut s, &burst(other, "b"), at);
        for day in [NaiveDate::MIN, NaiveDate::MAX, at.date_naive()] {
            decay(&model, &mut s, day, at);
        }
        assert_eq!(s.scores.total, s.ledger_total());
    }
}

#[test]
fn an_empty_batch_changes_nothing() {
    let model = example();
    let now = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let mut s = LeadState::new("empty");
    apply(&model, &mut s, &burst(now, "a"), now);
    let before = s.clone();
    let out = apply(&model, &mut s, &[], now);
    assert_eq!((out.accepted, out.duplicates, out.new_entries), (0, 0, 0));
    assert!(out.transitions.is_empty());
    assert_eq!(s, before);
}

#[test]
fn windows_longer_than_ten_years_are_refused() {
    let src = "[model]\nname='t'\n[thresholds]\nmql=10\nmql_exit=5\n[[activity]]\nid='v'\nkind='page_view'\npoints=1\ncaps=[{count=1, window='3651d'}]\n";
    let err = Model::from_toml(src, "t.toml").unwrap_err().to_string();
    assert!(err.starts_with("t.toml:10:"), "{err}");
    assert!(err.contains("at most 3650 days"), "{err}");
}
