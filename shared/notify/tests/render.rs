//! The notice and its renderings: built from real engine output, within Slack's limits for
//! any input, escaped, with fallbacks that carry the key facts.

mod support;

use chrono::TimeDelta;
use leadscore_domain::{
    apply, AttrValue, Event, EventKind, LeadState, LedgerEntry, Model, Points, Stage, Transition,
};
use leadscore_notify::slack::limits;
use leadscore_notify::{
    build_notice, email, slack, CrmLink, CrmLinks, HubSpotPortal, MqlNotice, NoticeError,
    NoticeInput, ProductScore, ReasonKind, ReasonLine, Trigger,
};
use proptest::prelude::*;
use serde_json::Value;
use support::{at, sample_notice};

const MODEL: &str = r#"
[model]
name = "notify-test"
products = ["analytics", "automation"]

[thresholds]
mql = 50
mql_exit = 30

[grades]
fit = { A = 30, B = 20, C = 10 }
activity = { 1 = 40, 2 = 20, 3 = 10 }

[[fit]]
id = "title-executive"
description = "Economic buyers"
attribute = "job_title"
contains = ["vp", "chief"]
points = 30

[[fit]]
id = "country-target"
attribute = "country"
one_of = ["portugal", "spain"]
points = 5

[[activity]]
id = "pricing-page"
description = "Looked at pricing"
kind = "page_view"
url = "*/pricing*"
points = 10
product = "analytics"

[[activity]]
id = "webinar"
kind = "webinar_attended"
points = 15
product = "automation"

[[activity]]
id = "demo-request"
description = "Asked for a demo"
kind = "demo_request"
points = 20
instant_mql = true
"#;

fn model() -> Model {
    Model::from_toml(MODEL, "notify-test").unwrap()
}

fn identify(lead: &mut LeadState, model: &Model) {
    let e = Event::new("id-1", at(1, 8), EventKind::Identify)
        .with_property("first_name", AttrValue::Text("Ana".into()))
        .with_property("last_name", AttrValue::Text("Silva\r\n".into()))
        .with_property("email", AttrValue::Text("ana@acme.io".into()))
        .with_property("job_title", AttrValue::Text("VP Marketing".into()))
        .with_property("company", AttrValue::Text("Acme & Sons <Ltd>".into()))
        .with_property("country", AttrValue::Text("Portugal".into()));
    apply(model, lead, &[e], at(1, 8));
}

/// A lead that qualifies by score: fit 35, then pricing views and a webinar.
fn qualified_by_score(lead_id: &str) -> (Model, LeadState) {
    let model = model();
    let mut lead = LeadState::new(lead_id);
    identify(&mut lead, &model);
    let events = vec![
        Event::new("pv-1", at(3, 10), EventKind::PageView).with_url("https://x.io/pricing"),
        Event::new("pv-2", at(4, 10), EventKind::PageView).with_url("https://x.io/pricing"),
        Event::new("web-1", at(5, 10), EventKind::WebinarAttended),
    ];
    apply(&model, &mut lead, &events, at(9, 14));
    assert_eq!(lead.stage, Stage::Mql);
    (model, lead)
}

fn mql(lead: &LeadState) -> &Transition {
    lead.transitions
        .iter()
        .rfind(|t| t.to == Stage::Mql)
        .unwrap()
}

fn build(
    model: &Model,
    lead: &LeadState,
    entries: &[LedgerEntry],
    aliases: &[String],
    crm: &CrmLinks,
) -> Result<MqlNotice, NoticeError> {
    build_notice(&NoticeInput {
        model,
        state: lead,
        entries,
        transition: mql(lead),
        aliases,
        crm,
    })
}

fn portal() -> CrmLinks {
    CrmLinks {
        hubspot: Some(HubSpotPortal::new(4242)),
    }
}

#[test]
fn a_notice_is_built_from_the_engines_state_and_ledger() {
    let (model, lead) = qualified_by_score("hubspot:501");
    let n = build(&model, &lead, &[], &[], &portal()).unwrap();

    assert_eq!(n.lead_id, "hubspot:501");
    assert_eq!(n.name.as_deref(), Some("Ana Silva"), "trimmed, on one line");
    assert_eq!(n.email.as_deref(), Some("ana@acme.io"));
    assert_eq!(n.job_title.as_deref(), Some("VP Marketing"));
    assert_eq!(n.company.as_deref(), Some("Acme & Sons <Ltd>"));
    assert_eq!(n.country.as_deref(), Some("Portugal"));
    assert_eq!(n.score, lead.scores.total);
    assert_eq!(n.score, Points::whole(70));
    assert_eq!(n.grade.to_string(), "A2", "fit 35, activity 35");
    assert_eq!(
        n.products,
        vec![
            ProductScore {
                product: "analytics".into(),
                points: Points::whole(20)
            },
            ProductScore {
                product: "automation".into(),
                points: Points::whole(15)
            },
        ]
    );
    assert_eq!(
        n.trigger,
        Trigger::ScoreReached {
            score: Points::whole(70),
            threshold: Points::whole(50)
        }
    );
    assert_eq!(n.qualified_at, at(9, 14));
    // The first touch is the first activity (day 3), not the identify.
    assert_eq!(n.first_seen_at, Some(at(3, 10)));
    assert_eq!(n.days_since_first_touch, Some(6));
    assert_eq!(n.model, "notify-test");

    // Top reasons, largest first, labelled in words.
    let reasons: Vec<(ReasonKind, &str, &str, Points, usize)> = n
        .reasons
        .iter()
        .map(|r| {
            (
                r.kind,
                r.rule.as_str(),
                r.label.as_str(),
                r.points,
                r.entries,
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                ReasonKind::Fit,
                "title-executive",
                "Economic buyers",
                Points::whole(30),
                1
            ),
            (
                ReasonKind::Activity,
                "pricing-page",
                "Looked at pricing",
                Points::whole(20),
                2
            ),
            (
                ReasonKind::Activity,
                "webinar",
                "Webinar attended (webinar)",
                Points::whole(15),
                1
            ),
            (
                ReasonKind::Fit,
                "country-target",
                "Country (country-target)",
                Points::whole(5),
                1
            ),
        ]
    );
    assert_eq!(n.reasons[1].signed_points(), "+20");
    assert_eq!(n.reasons[1].title(), "Activity: Looked at pricing");
    assert_eq!(n.reasons[1].when(), "2 times, 2026-03-03 to 2026-03-04");
    assert_eq!(n.reasons[0].when(), "2026-03-01");

    assert_eq!(
        n.crm,
        Some(CrmLink {
            system: "HubSpot",
            url: "https://app.hubspot.com/contacts/4242/record/0-1/501".into()
        })
    );
}

#[test]
fn reasons_come_from_the_stored_entries_as_of_the_state() {
    let (model, lead) = qualified_by_score("email:ana@acme.io");
    // As the notifier sees it: a stored state holds no entries, the store has them.
    let mut stored_state = lead.clone();
    let mut stored: Vec<LedgerEntry> = stored_state.ledger.take_new();
    let from_memory = build(&model, &lead, &[], &[], &portal()).unwrap();

    // An entry a later save wrote is not this notice's.
    let mut later = stored[0].clone();
    later.seq = stored_state.ledger.len_total();
    later.points = Points::whole(1000);
    stored.push(later);

    let from_store = build(&model, &stored_state, &stored, &[], &portal()).unwrap();
    assert_eq!(from_store, from_memory);
    assert_eq!(from_store.reasons.len(), 4);
}

#[test]
fn an_instant_mql_names_its_rule() {
    let model = model();
    let mut lead = LeadState::new("email:bo@beta.io");
    let demo = Event::new("demo-1", at(6, 11), EventKind::DemoRequest);
    apply(&model, &mut lead, &[demo], at(6, 12));
    let n = build(&model, &lead, &[], &[], &CrmLinks::default()).unwrap();

    assert_eq!(
        n.trigger,
        Trigger::InstantMql {
            rule: "demo-request".into(),
            label: "Asked for a demo".into(),
            activity: "demo-1".into()
        }
    );
    assert_eq!(n.trigger.to_string(), "Instant MQL: Asked for a demo");
    assert_eq!(
        n.display_name(),
        "email:bo@beta.io",
        "no name, no email attribute"
    );
    assert_eq!(n.days_since_first_touch, Some(0));
}

#[test]
fn the_hubspot_link_needs_a_hubspot_id_and_a_portal() {
    let (model, lead) = qualified_by_score("email:ana@acme.io");
    let aliases = vec!["email:ana@acme.io".to_owned(), "hubspot:98765".to_owned()];

    let none = build(&model, &lead, &[], &[], &portal()).unwrap();
    assert_eq!(none.crm, None, "no HubSpot id known");

    let via_alias = build(&model, &lead, &[], &aliases, &portal()).unwrap();
    assert_eq!(
        via_alias.crm.unwrap().url,
        "https://app.hubspot.com/contacts/4242/record/0-1/98765"
    );

    let no_portal = build(&model, &lead, &[], &aliases, &CrmLinks::default()).unwrap();
    assert_eq!(no_portal.crm, None, "no portal configured");

    let company_only = vec!["hubspot:company:901".to_owned()];
    assert_eq!(
        build(&model, &lead, &[], &company_only, &portal())
            .unwrap()
            .crm,
        None
    );

    let eu = CrmLinks {
        hubspot: Some(
            HubSpotPortal::new(4242)
                .with_app_host("app-eu1.hubspot.com")
                .unwrap(),
        ),
    };
    assert_eq!(
        build(&model, &lead, &[], &aliases, &eu)
            .unwrap()
            .crm
            .unwrap()
            .url,
        "https://app-eu1.hubspot.com/contacts/4242/record/0-1/98765"
    );
}

#[test]
fn only_moves_into_mql_make_a_notice() {
    let (model, lead) = qualified_by_score("hubspot:501");
    let mut t = mql(&lead).clone();
    t.to = Stage::Sql;
    let err = build_notice(&NoticeInput {
        model: &model,
        state: &lead,
        entries: &[],
        transition: &t,
        aliases: &[],
        crm: &portal(),
    })
    .unwrap_err();
    assert_eq!(err, NoticeError::NotAnMql(Stage::Sql));
}

// ------------------------------------------------------------------------------------------
// Slack
// ------------------------------------------------------------------------------------------

/// Every text object in a message, with the limit its place allows.
fn texts_with_limits(message: &Value) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let blocks = message["blocks"].as_array().unwrap();
    for b in blocks {
        let text = |v: &Value| v["text"].as_str().unwrap().to_owned();
        match b["type"].as_str().unwrap() {
            "header" => {
                assert_eq!(b["text"]["type"], "plain_text");
                out.push((text(&b["text"]), limits::HEADER_TEXT));
            }
            "section" => {
                if b.get("text").is_some() {
                    out.push((text(&b["text"]), limits::SECTION_TEXT));
                }
                if let Some(fields) = b.get("fields") {
                    let fields = fields.as_array().unwrap();
                    assert!(fields.len() <= limits::FIELDS);
                    for f in fields {
                        out.push((text(f), limits::FIELD_TEXT));
                    }
                }
            }
            "actions" => {
                for e in b["elements"].as_array().unwrap() {
                    out.push((text(&e["text"]), limits::BUTTON_TEXT));
                    out.push((e["url"].as_str().unwrap().to_owned(), limits::BUTTON_URL));
                }
            }
            "context" => {
                let elements = b["elements"].as_array().unwrap();
                assert!(elements.len() <= limits::CONTEXT_ELEMENTS);
                for e in elements {
                    out.push((text(e), limits::SECTION_TEXT));
                }
            }
            other => panic!("unexpected block {other}"),
        }
    }
    out.push((
        message["text"].as_str().unwrap().to_owned(),
        limits::FALLBACK_TEXT,
    ));
    out
}

fn assert_within_limits(message: &Value) {
    assert!(message["blocks"].as_array().unwrap().len() <= limits::BLOCKS);
    for (text, limit) in texts_with_limits(message) {
        let units = text.encode_utf16().count();
        assert!(units >= 1, "Slack refuses empty text");
        assert!(units <= limit, "{units} > {limit}: {text:?}");
        assert!(text.chars().count() <= limit);
    }
}

/// The mrkdwn texts of a message (not plain_text, not URLs).
fn mrkdwn_texts(message: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if m.get("type").and_then(Value::as_str) == Some("mrkdwn") {
                    out.push(m["text"].as_str().unwrap().to_owned());
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = vec![message["text"].as_str().unwrap().to_owned()];
    walk(&message["blocks"], &mut out);
    out
}

#[test]
fn the_slack_message_has_every_part() {
    let n = sample_notice();
    let m = slack::render(&n);
    assert_within_limits(&m);
    let blocks = m["blocks"].as_array().unwrap();
    let types: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["header", "section", "section", "section", "actions", "context"]
    );
    assert_eq!(blocks[0]["text"]["text"], "New MQL: Ana Silva");

    let fields: Vec<&str> = blocks[2]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "*Score*\n112.5 (fit 60, activity 52.5)",
            "*Grade*\nA1",
            "*Products*\nanalytics 80, automation 12",
            "*Title*\nVP Marketing",
            "*Company*\nAcme Analytics",
            "*Country*\nPortugal",
            "*Days since first touch*\n8",
        ]
    );
    let reasons = blocks[3]["text"]["text"].as_str().unwrap();
    assert_eq!(reasons.lines().count(), 6);
    assert!(
        reasons.contains("• `+40` Fit: Economic buyers (2026-03-01)"),
        "{reasons}"
    );
    assert!(reasons.contains("• `+30` Activity: Pricing page (3 times, 2026-03-02 to 2026-03-09)"));
    assert!(reasons.contains("• `-2` Inactivity decay: no recent activity (2 times"));

    let button = &blocks[4]["elements"][0];
    assert_eq!(button["text"]["text"], "Open in HubSpot");
    assert_eq!(
        button["url"],
        "https://app.hubspot.com/contacts/4242/record/0-1/501"
    );

    let fallback = m["text"].as_str().unwrap();
    for fact in [
        "Ana Silva",
        "Acme Analytics",
        "score 112.5",
        "grade A1",
        "Score 112.5 reached the MQL threshold of 100",
        "https://app.hubspot.com/contacts/4242/record/0-1/501",
    ] {
        assert!(fallback.contains(fact), "{fact} missing from {fallback:?}");
    }
}

#[test]
fn no_crm_link_no_button_and_missing_facts_show_a_dash() {
    let mut n = sample_notice();
    n.crm = None;
    n.job_title = None;
    n.products.clear();
    n.days_since_first_touch = None;
    n.reasons.clear();
    let m = slack::render(&n);
    assert_within_limits(&m);
    let blocks = m["blocks"].as_array().unwrap();
    assert!(blocks.iter().all(|b| b["type"] != "actions"));
    let fields = blocks[2]["fields"].as_array().unwrap();
    assert_eq!(fields[2]["text"], "*Products*\n—");
    assert_eq!(fields[3]["text"], "*Title*\n—");
    assert_eq!(fields[6]["text"], "*Days since first touch*\n—");
    assert!(!m["text"].as_str().unwrap().contains("http"));
}

#[test]
fn user_text_is_escaped_in_mrkdwn() {
    let mut n = sample_notice();
    n.name = Some("<!channel> Ana & Bo".into());
    n.company = Some("<https://evil.example|Click me>".into());
    n.job_title = Some("<@U123> boss".into());
    n.reasons[0].label = "<!here> & more".into();
    let m = slack::render(&n);
    assert_within_limits(&m);
    for text in mrkdwn_texts(&m) {
        for raw in ["<!channel>", "<https://evil", "<@U123>", "<!here>", " & "] {
            assert!(!text.contains(raw), "unescaped {raw:?} in {text:?}");
        }
    }
    let blocks = m["blocks"].as_array().unwrap();
    assert_eq!(
        blocks[2]["fields"][4]["text"],
        "*Company*\n&lt;https://evil.example|Click me&gt;"
    );
    assert!(m["text"]
        .as_str()
        .unwrap()
        .starts_with("New MQL: &lt;!channel&gt; Ana &amp; Bo"));
    // Plain text is shown as is: Slack does not parse it.
    assert_eq!(blocks[0]["text"]["text"], "New MQL: <!channel> Ana & Bo");
}

#[test]
fn long_values_are_cut_with_an_ellipsis() {
    let mut n = sample_notice();
    n.name = Some("Ana ".repeat(100));
    n.company = Some("&".repeat(3000));
    let m = slack::render(&n);
    assert_within_limits(&m);
    let header = m["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(
        header.ends_with("Ana…"),
        "cut, trailing space trimmed: {header:?}"
    );
    assert_eq!(header.encode_utf16().count(), 149);
    let company = m["blocks"][2]["fields"][4]["text"].as_str().unwrap();
    assert!(company.ends_with("&amp;…"), "no entity cut in half");
}

/// Text up to about `max` characters: a short random piece repeated, so long values cost
/// little to generate.
fn any_text(max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        // Anything, emoji and combining marks included.
        proptest::collection::vec(any::<char>(), 0..24),
        // The characters that expand when escaped.
        proptest::collection::vec(
            prop_oneof![
                Just('&'),
                Just('<'),
                Just('>'),
                Just('😀'),
                Just(' '),
                Just('a')
            ],
            0..24
        ),
    ];
    (piece, 1..=max.div_ceil(12))
        .prop_map(|(chars, times)| chars.into_iter().collect::<String>().repeat(times))
}

fn opt_text(max: usize) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(any_text(max))
}

prop_compose! {
    fn any_notice()(
        name in opt_text(600),
        email in opt_text(400),
        title in opt_text(3000),
        company in opt_text(5000),
        country in opt_text(300),
        lead_id in any_text(400),
        model in any_text(400),
        products in proptest::collection::vec((any_text(300), any::<i32>()), 0..150),
        labels in proptest::collection::vec((any_text(4000), any::<i32>(), 1usize..10_000), 0..8),
        trigger_label in any_text(5000),
        url_len in 0usize..4000,
    ) -> MqlNotice {
        let mut n = sample_notice();
        n.name = name;
        n.email = email;
        n.job_title = title;
        n.company = company;
        n.country = country;
        n.lead_id = lead_id;
        n.model = model;
        n.products = products
            .into_iter()
            .map(|(product, p)| ProductScore { product, points: Points(p as i64) })
            .collect();
        n.reasons = labels
            .into_iter()
            .map(|(label, p, entries)| ReasonLine {
                kind: ReasonKind::Combination,
                rule: label.clone(),
                label,
                points: Points(p as i64),
                entries,
                first_at: at(1, 1),
                last_at: at(1, 1) + TimeDelta::days(entries as i64),
                product: None,
            })
            .collect();
        n.trigger = Trigger::InstantMql { rule: "r".into(), label: trigger_label, activity: "a".into() };
        if let Some(crm) = &mut n.crm {
            crm.url = format!("https://app.hubspot.com/{}", "1".repeat(url_len));
        }
        n
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn slack_limits_hold_for_any_notice(n in any_notice()) {
        let m = slack::render(&n);
        assert_within_limits(&m);
        // A URL too long for a button is left out, never cut.
        let has_button = m["blocks"].as_array().unwrap().iter().any(|b| b["type"] == "actions");
        let url = &n.crm.as_ref().unwrap().url;
        prop_assert_eq!(has_button, url.encode_utf16().count() <= limits::BUTTON_URL);
        // Entities are never split by a cut.
        for text in mrkdwn_texts(&m) {
            if let Some(amp) = text.rfind('&') {
                let rest = &text[amp..];
                prop_assert!(
                    rest.starts_with("&amp;") || rest.starts_with("&lt;") || rest.starts_with("&gt;"),
                    "split entity in {:?}", text
                );
            }
        }
    }

    #[test]
    fn email_subjects_stay_one_short_line(n in any_notice()) {
        let e = email::render(&n);
        prop_assert!(e.subject.chars().count() <= email::SUBJECT_MAX);
        prop_assert!(!e.subject.chars().any(char::is_control), "{:?}", e.subject);
        prop_assert!(e.subject.starts_with("New MQL: "));
    }
}

// ------------------------------------------------------------------------------------------
// Email
// ------------------------------------------------------------------------------------------

#[test]
fn the_email_has_subject_html_and_text() {
    let n = sample_notice();
    let e = email::render(&n);
    assert_eq!(
        e.subject,
        "New MQL: Ana Silva (Acme Analytics), score 112.5, A1"
    );

    for part in [&e.text, &e.html] {
        for fact in [
            "Ana Silva",
            "VP Marketing at Acme Analytics",
            "ana@acme.io",
            "Score 112.5 reached the MQL threshold of 100",
            "112.5 (fit 60, activity 52.5)",
            "A1",
            "analytics 80, automation 12",
            "Portugal",
            "Days since first touch",
            "Economic buyers",
            "Looked at pricing, then asked for a demo",
            "3 times, 2026-03-02 to 2026-03-09",
            "https://app.hubspot.com/contacts/4242/record/0-1/501",
            "hubspot:501",
        ] {
            assert!(part.contains(fact), "{fact} missing from\n{part}");
        }
    }
    assert!(
        e.text
            .contains("  1.     +40  Fit: Economic buyers (2026-03-01)"),
        "{}",
        e.text
    );
    assert!(e
        .text
        .contains("Open in HubSpot: https://app.hubspot.com/contacts/4242/record/0-1/501"));
    assert!(e
        .html
        .contains("<a href=\"https://app.hubspot.com/contacts/4242/record/0-1/501\""));
    assert!(e.html.starts_with("<!DOCTYPE html>"));
}

#[test]
fn the_html_is_escaped_self_contained_and_inline_styled() {
    let mut n = sample_notice();
    n.name = Some("<script>alert('x')</script>".into());
    n.company = Some("Tom & \"Jerry\" <b>Inc</b>".into());
    n.reasons[0].label = "<img src=https://evil.example/pixel.gif>".into();
    let e = email::render(&n);

    assert!(e
        .html
        .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(e
        .html
        .contains("Tom &amp; &quot;Jerry&quot; &lt;b&gt;Inc&lt;/b&gt;"));
    assert!(e
        .html
        .contains("&lt;img src=https://evil.example/pixel.gif&gt;"));
    let lower = e.html.to_lowercase();
    for banned in [
        "<script", "<img", "<link", "<style", "url(", "src=\"", "@import", "<b>",
    ] {
        assert!(!lower.contains(banned), "{banned} in the HTML");
    }
    // The one reference out is the link to the CRM: no external assets.
    assert_eq!(lower.matches("href=").count(), 1);
    // Styled inline: every element that is styled carries its own style.
    assert!(e.html.matches("style=\"").count() > 10);
    // The text part is plain: no entities.
    assert!(e.text.contains("<script>alert('x')</script>"));
    assert!(e.text.contains("Tom & \"Jerry\" <b>Inc</b>"));
}

#[test]
fn line_breaks_in_values_do_not_reach_the_subject() {
    let mut n = sample_notice();
    n.name = Some("Ana\r\nBcc: victim@example.com".into());
    let e = email::render(&n);
    assert_eq!(
        e.subject,
        "New MQL: Ana Bcc: victim@example.com (Acme Analytics), score 112.5, A1"
    );
}
