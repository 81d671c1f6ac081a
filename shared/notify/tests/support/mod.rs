//! Test support: the scripted loopback server (`leadscore_notify::testing`), a model, and
//! notices to render.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use leadscore_domain::{Grade, Points};
#[allow(unused_imports)]
pub use leadscore_notify::testing::{Recorded, Reply, TestServer};
use leadscore_notify::{CrmLink, MqlNotice, ProductScore, ReasonKind, ReasonLine, Trigger};

pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
}

/// A notice as `build_notice` would make it, with every field set.
pub fn sample_notice() -> MqlNotice {
    let reason = |kind, rule: &str, label: &str, points: i64, entries, first, last| ReasonLine {
        kind,
        rule: rule.to_owned(),
        label: label.to_owned(),
        points: Points::whole(points),
        entries,
        first_at: at(first, 9),
        last_at: at(last, 9),
        product: None,
    };
    MqlNotice {
        lead_id: "hubspot:501".to_owned(),
        name: Some("Ana Silva".to_owned()),
        email: Some("ana@acme.io".to_owned()),
        job_title: Some("VP Marketing".to_owned()),
        company: Some("Acme Analytics".to_owned()),
        country: Some("Portugal".to_owned()),
        score: Points(11250),
        fit: Points::whole(60),
        activity: Points(5250),
        grade: Grade {
            fit: 'A',
            activity: 1,
        },
        products: vec![
            ProductScore {
                product: "analytics".to_owned(),
                points: Points::whole(80),
            },
            ProductScore {
                product: "automation".to_owned(),
                points: Points::whole(12),
            },
        ],
        trigger: Trigger::ScoreReached {
            score: Points(11250),
            threshold: Points::whole(100),
        },
        qualified_at: at(9, 14),
        first_seen_at: Some(at(1, 8)),
        days_since_first_touch: Some(8),
        reasons: vec![
            reason(
                ReasonKind::Fit,
                "title-executive",
                "Economic buyers",
                40,
                1,
                1,
                1,
            ),
            reason(
                ReasonKind::Activity,
                "pricing-page",
                "Pricing page",
                30,
                3,
                2,
                9,
            ),
            reason(
                ReasonKind::Combination,
                "research-then-demo",
                "Looked at pricing, then asked for a demo",
                25,
                1,
                9,
                9,
            ),
            reason(
                ReasonKind::Activity,
                "webinar",
                "Attended a webinar",
                20,
                1,
                5,
                5,
            ),
            reason(
                ReasonKind::Decay,
                "inactivity",
                "no recent activity",
                -2,
                2,
                6,
                7,
            ),
        ],
        crm: Some(CrmLink {
            system: "HubSpot",
            url: "https://app.hubspot.com/contacts/4242/record/0-1/501".to_owned(),
        }),
        model: "northwind-b2b-saas".to_owned(),
    }
}
