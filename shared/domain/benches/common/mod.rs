//! The benchmark data set: 1M activities over 10k leads (100 each, over 90 days), a
//! realistic mix of kinds for the example model. Deterministic.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use leadscore_domain::{AttrValue, Event, EventKind};

pub const LEADS: usize = 10_000;
pub const PER_LEAD: usize = 100;

/// xorshift64*: deterministic test data without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const PAGES: &[&str] = &[
    "https://northwind.io/blog/cohort-analysis",
    "https://northwind.io/blog/retention-benchmarks",
    "https://northwind.io/product/funnels",
    "https://northwind.io/features",
    "https://northwind.io/pricing",
    "https://northwind.io/automation/journeys",
    "https://northwind.io/careers/open-roles",
    "https://northwind.io/docs/getting-started",
    "https://northwind.io/",
];

fn event(rng: &mut Rng, lead: usize, i: usize, at: DateTime<Utc>) -> Event {
    let id = format!("evt-{lead}-{i}");
    let roll = rng.below(100);
    let e = |k| Event::new(id.clone(), at, k);
    match roll {
        0..=44 => e(EventKind::PageView).with_url(PAGES[rng.below(PAGES.len() as u64) as usize]),
        45..=64 => {
            let open = e(EventKind::EmailOpen).with_target("newsletter-march");
            if rng.below(4) == 0 {
                open.machine()
            } else {
                open
            }
        }
        65..=71 => {
            e(EventKind::EmailClick).with_url("https://northwind.io/pricing?utm_source=email")
        }
        72..=73 => e(EventKind::EmailReply),
        74..=76 => e(EventKind::FormSubmit).with_target(if rng.below(5) == 0 {
            "contact-sales"
        } else {
            "newsletter-q1"
        }),
        77..=80 => e(EventKind::ContentDownload).with_target(if rng.below(2) == 0 {
            "ebook-growth"
        } else {
            "case-study-acme"
        }),
        81..=83 => e(EventKind::WebinarAttended).with_target("webinar-retention-101"),
        84..=87 => e(EventKind::VideoWatched)
            .with_target("intro")
            .with_percent(rng.below(101) as f64),
        88..=90 => e(EventKind::Social).with_target("linkedin"),
        91..=94 => e(EventKind::Custom).with_name("workflow_created"),
        95..=96 => e(EventKind::Custom)
            .with_name("report_shared")
            .with_property("plan", AttrValue::from("trial")),
        97 => e(EventKind::EmailUnsubscribe),
        98 => e(EventKind::PhoneCall).with_property("outcome", AttrValue::from("connected")),
        _ => e(EventKind::Identify)
            .with_property("job_title", AttrValue::from("Director of Marketing"))
            .with_property("company_size", AttrValue::Number(250.0)),
    }
}

/// Each lead's activities in time order over 90 days.
pub fn dataset() -> Vec<Vec<Event>> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    (0..LEADS)
        .map(|lead| {
            let mut offsets: Vec<i64> = (0..PER_LEAD)
                .map(|_| rng.below(90 * 86_400) as i64)
                .collect();
            offsets.sort_unstable();
            offsets
                .iter()
                .enumerate()
                .map(|(i, s)| event(&mut rng, lead, i, start + TimeDelta::seconds(*s)))
                .collect()
        })
        .collect()
}

/// Every activity as its own JSON document, as a webhook body would carry it.
pub fn json_lines(leads: &[Vec<Event>]) -> Vec<String> {
    leads
        .iter()
        .flatten()
        .map(|e| serde_json::to_string(e).expect("events serialize"))
        .collect()
}
