//! Scoring rules: fit conditions, activity filters, caps, combinations, products, grades,
//! duplicates, late arrivals, withdrawals, the score floor and explanations.

mod common;

use common::*;
use leadscore_domain::{
    explain, AttrValue, Cause, Dimension, Event, EventKind, LeadState, Model, Points, Reason,
    Source, Stage,
};

// ---------------------------------------------------------------------------------------
// Fit conditions
// ---------------------------------------------------------------------------------------

/// The fit score of a fresh lead identified with `attrs`.
fn fit_of(model: &Model, attrs: &[(&str, AttrValue)]) -> Points {
    let s = lead_with(model, &[identify("id-1", at(0, 9), attrs)]);
    assert_eq!(
        s.scores.total, s.scores.fit,
        "only fit rules in these models"
    );
    s.scores.fit
}

#[test]
fn fit_equals_text_ignores_case_and_whitespace() {
    let m = model_with(
        r#"
[[fit]]
id = "country-us"
attribute = "country"
equals = "US"
points = 5
"#,
    );
    assert_eq!(fit_of(&m, &[("country", text(" us "))]), p(5));
    assert_eq!(fit_of(&m, &[("country", text("USA"))]), p(0));
    assert_eq!(fit_of(&m, &[("city", text("us"))]), p(0));
    let s = lead_with(&m, &[identify("i", at(0, 9), &[("country", text("Us"))])]);
    assert_eq!(fit_entries(&s, "country-us"), vec![(p(5), Cause::Scored)]);
}

#[test]
fn fit_equals_number_and_bool() {
    let m = model_with(
        r#"
[[fit]]
id = "size-100"
attribute = "company_size"
equals = 100
points = 3

[[fit]]
id = "partner"
attribute = "custom.partner"
equals = true
points = 7
"#,
    );
    assert_eq!(fit_of(&m, &[("company_size", text("100"))]), p(3));
    assert_eq!(
        fit_of(&m, &[("company_size", AttrValue::Number(100.0))]),
        p(3)
    );
    assert_eq!(
        fit_of(&m, &[("company_size", AttrValue::Number(101.0))]),
        p(0)
    );
    assert_eq!(
        fit_of(&m, &[("custom.partner", AttrValue::Bool(true))]),
        p(7)
    );
    assert_eq!(
        fit_of(&m, &[("custom.partner", AttrValue::Bool(false))]),
        p(0)
    );
}

#[test]
fn fit_one_of() {
    let m = model_with(
        r#"
[[fit]]
id = "industry"
attribute = "industry"
one_of = ["Software", "SaaS"]
points = 10
"#,
    );
    assert_eq!(fit_of(&m, &[("industry", text("saas"))]), p(10));
    assert_eq!(fit_of(&m, &[("industry", text("SOFTWARE "))]), p(10));
    assert_eq!(fit_of(&m, &[("industry", text("software services"))]), p(0));
    assert_eq!(fit_of(&m, &[("industry", text("hardware"))]), p(0));
}

#[test]
fn fit_contains_any_of_several_words() {
    let m = model_with(
        r#"
[[fit]]
id = "exec"
attribute = "job_title"
contains = ["chief", "head of"]
points = 20
"#,
    );
    assert_eq!(fit_of(&m, &[("job_title", text("Head of Growth"))]), p(20));
    assert_eq!(
        fit_of(&m, &[("job_title", text("CHIEF Data Officer"))]),
        p(20)
    );
    assert_eq!(fit_of(&m, &[("job_title", text("Engineer"))]), p(0));
    // A single string works too.
    let m = model_with(
        r#"
[[fit]]
id = "mgr"
attribute = "job_title"
contains = "manager"
points = 8
"#,
    );
    assert_eq!(fit_of(&m, &[("job_title", text("Product Manager"))]), p(8));
    assert_eq!(fit_of(&m, &[("job_title", text("Product Owner"))]), p(0));
}

#[test]
fn fit_prefix() {
    let m = model_with(
        r#"
[[fit]]
id = "uk-phone"
attribute = "phone"
prefix = ["+44", "0044"]
points = 4
"#,
    );
    assert_eq!(fit_of(&m, &[("phone", text("+44 20 7946 0000"))]), p(4));
    assert_eq!(fit_of(&m, &[("phone", text("  0044 20"))]), p(4));
    assert_eq!(fit_of(&m, &[("phone", text("+1 440 555"))]), p(0));
}

#[test]
fn fit_regex_is_case_insensitive() {
    let m = model_with(
        r#"
[[fit]]
id = "director"
attribute = "job_title"
regex = '\bdirector\b'
points = 15
"#,
    );
    assert_eq!(
        fit_of(&m, &[("job_title", text("Director of Sales"))]),
        p(15)
    );
    assert_eq!(fit_of(&m, &[("job_title", text("Sales DIRECTOR"))]), p(15));
    assert_eq!(fit_of(&m, &[("job_title", text("Directorate lead"))]), p(0));
}

#[test]
fn fit_range_is_inclusive_and_reads_numbers_from_text() {
    let m = model_with(
        r#"
[[fit]]
id = "size"
attribute = "company_size"
range = { min = 50, max = 500 }
points = 15

[[fit]]
id = "revenue"
attribute = "annual_revenue"
range = { min = 10_000_000 }
points = 10
"#,
    );
    assert_eq!(
        fit_of(&m, &[("company_size", AttrValue::Number(50.0))]),
        p(15)
    );
    assert_eq!(
        fit_of(&m, &[("company_size", AttrValue::Number(500.0))]),
        p(15)
    );
    assert_eq!(fit_of(&m, &[("company_size", text("250"))]), p(15));
    assert_eq!(
        fit_of(&m, &[("company_size", AttrValue::Number(49.0))]),
        p(0)
    );
    assert_eq!(fit_of(&m, &[("company_size", text("1,200"))]), p(0));
    assert_eq!(fit_of(&m, &[("company_size", text("n/a"))]), p(0));
    assert_eq!(fit_of(&m, &[("annual_revenue", text("12,000,000"))]), p(10));
    assert_eq!(
        fit_of(&m, &[("annual_revenue", AttrValue::Number(9_999_999.0))]),
        p(0)
    );
}

#[test]
fn fit_present_true() {
    let m = model_with(
        r#"
[[fit]]
id = "phone-given"
attribute = "phone"
present = true
points = 2
"#,
    );
    assert_eq!(fit_of(&m, &[("phone", text("+1 555 0100"))]), p(2));
    assert_eq!(fit_of(&m, &[("phone", text("   "))]), p(0));
    assert_eq!(fit_of(&m, &[("email", text("a@b.io"))]), p(0));
}

#[test]
fn fit_present_false_scores_while_absent_and_is_withdrawn_when_given() {
    let m = model_with(
        r#"
[[fit]]
id = "no-phone"
attribute = "phone"
present = false
points = -3
"#,
    );
    let mut s = lead_with(
        &m,
        &[identify("i1", at(0, 9), &[("email", text("a@acme.io"))])],
    );
    assert_eq!(s.scores.fit, p(-3));
    // A blank phone is still no phone.
    run(
        &m,
        &mut s,
        &[identify("i2", at(0, 10), &[("phone", text(" "))])],
        rec(0),
    );
    assert_eq!(s.scores.fit, p(-3));
    run(
        &m,
        &mut s,
        &[identify("i3", at(0, 11), &[("phone", text("+1 555"))])],
        rec(0),
    );
    assert_eq!(s.scores.fit, p(0));
    assert_eq!(
        fit_entries(&s, "no-phone"),
        vec![(p(-3), Cause::Scored), (p(3), Cause::Withdrawn)]
    );
}

#[test]
fn fit_in_list_free_mail_uses_email_domain_derived_from_email() {
    let m = model_with(
        r#"
[lists]
free_mail_domains = ["mailinator.com"]

[[fit]]
id = "free-mail"
attribute = "email_domain"
in_list = "free_mail"
points = -10
"#,
    );
    assert_eq!(fit_of(&m, &[("email", text("Jane.Doe@GMail.com"))]), p(-10));
    assert_eq!(fit_of(&m, &[("email", text("x@outlook.com"))]), p(-10));
    // The model's own additions count as well as the built-in list.
    assert_eq!(fit_of(&m, &[("email", text("x@mailinator.com"))]), p(-10));
    assert_eq!(fit_of(&m, &[("email", text("jane@acme.io"))]), p(0));
    assert_eq!(fit_of(&m, &[("email_domain", text("Yahoo.com"))]), p(-10));
}

#[test]
fn fit_in_list_competitors_includes_subdomains() {
    let m = model_with(
        r#"
[lists]
competitor_domains = ["rival.com", "@Other.io"]

[[fit]]
id = "competitor"
attribute = "email_domain"
in_list = "competitors"
points = -100
"#,
    );
    assert_eq!(fit_of(&m, &[("email", text("spy@rival.com"))]), p(-100));
    assert_eq!(fit_of(&m, &[("email", text("spy@eu.rival.com"))]), p(-100));
    assert_eq!(fit_of(&m, &[("email", text("spy@a.b.rival.com"))]), p(-100));
    assert_eq!(fit_of(&m, &[("email", text("spy@other.io"))]), p(-100));
    // Not a subdomain: a different domain ending in the same letters.
    assert_eq!(fit_of(&m, &[("email", text("x@notrival.com"))]), p(0));
    assert_eq!(
        fit_of(&m, &[("email", text("x@rival.com.example.org"))]),
        p(0)
    );
    // Competitors are not free mail and vice versa.
    assert_eq!(fit_of(&m, &[("email", text("x@gmail.com"))]), p(0));
}

#[test]
fn fit_in_list_non_buyer_titles() {
    let m = model_with(
        r#"
[lists]
non_buyer_titles = ["Teacher"]

[[fit]]
id = "non-buyer"
attribute = "job_title"
in_list = "non_buyer_titles"
points = -40
"#,
    );
    assert_eq!(fit_of(&m, &[("job_title", text("PhD Candidate"))]), p(-40));
    assert_eq!(
        fit_of(&m, &[("job_title", text("Marketing Intern"))]),
        p(-40)
    );
    assert_eq!(
        fit_of(&m, &[("job_title", text("High-school teacher"))]),
        p(-40)
    );
    assert_eq!(fit_of(&m, &[("job_title", text("CTO"))]), p(0));
}

#[test]
fn fit_email_domain_is_derived_from_email_unless_given() {
    let m = model_with(
        r#"
[[fit]]
id = "acme"
attribute = "email_domain"
equals = "acme.com"
points = 12
"#,
    );
    assert_eq!(fit_of(&m, &[("email", text("Bob@ACME.com"))]), p(12));
    assert_eq!(fit_of(&m, &[("email", text("bob@acme.co"))]), p(0));
    assert_eq!(fit_of(&m, &[("email", text("not-an-email"))]), p(0));
    // An explicit email_domain wins over the email's.
    assert_eq!(
        fit_of(
            &m,
            &[
                ("email", text("bob@gmail.com")),
                ("email_domain", text("acme.com"))
            ]
        ),
        p(12)
    );
    // Changing the email re-derives the domain.
    let mut s = lead_with(
        &m,
        &[identify("i1", at(0, 9), &[("email", text("bob@acme.com"))])],
    );
    assert_eq!(s.scores.fit, p(12));
    run(
        &m,
        &mut s,
        &[identify(
            "i2",
            at(1, 9),
            &[("email", text("bob@gmail.com"))],
        )],
        rec(1),
    );
    assert_eq!(s.scores.fit, p(0));
    assert_eq!(
        fit_entries(&s, "acme"),
        vec![(p(12), Cause::Scored), (p(-12), Cause::Withdrawn)]
    );
}

// ---------------------------------------------------------------------------------------
// Activity filters
// ---------------------------------------------------------------------------------------

/// Activity points a fresh lead earns from `events`.
fn activity_of(model: &Model, events: &[Event]) -> Points {
    let s = lead_with(model, events);
    assert_eq!(s.scores.total, s.scores.activity);
    s.scores.activity
}

#[test]
fn filter_url_glob() {
    let m = model_with(
        r#"
[[activity]]
id = "pricing"
kind = "page_view"
url = "*/pricing*"
points = 10
"#,
    );
    assert_eq!(
        activity_of(&m, &[page("e", at(0, 9), "https://x.io/pricing")]),
        p(10)
    );
    assert_eq!(
        activity_of(
            &m,
            &[page("e", at(0, 9), "https://x.io/PRICING/enterprise?a=1")]
        ),
        p(10)
    );
    assert_eq!(
        activity_of(&m, &[page("e", at(0, 9), "https://x.io/about")]),
        p(0)
    );
    assert_eq!(
        activity_of(&m, &[ev("e", at(0, 9), EventKind::PageView)]),
        p(0),
        "no url"
    );
}

#[test]
fn filter_url_regex() {
    let m = model_with(
        r#"
[[activity]]
id = "product"
kind = "email_click"
url_regex = '/(product|features)(/|$)'
points = 3
"#,
    );
    let click = |u: &str| ev("e", at(0, 9), EventKind::EmailClick).with_url(u);
    assert_eq!(activity_of(&m, &[click("https://x.io/product/a")]), p(3));
    assert_eq!(activity_of(&m, &[click("https://x.io/Features")]), p(3));
    assert_eq!(activity_of(&m, &[click("https://x.io/products")]), p(0));
    assert_eq!(
        activity_of(&m, &[ev("e", at(0, 9), EventKind::EmailClick)]),
        p(0)
    );
}

#[test]
fn filter_target_glob() {
    let m = model_with(
        r#"
[[activity]]
id = "ebook"
kind = "content_download"
target = "ebook-*"
points = 8
"#,
    );
    let dl = |t: &str| ev("e", at(0, 9), EventKind::ContentDownload).with_target(t);
    assert_eq!(activity_of(&m, &[dl("ebook-growth")]), p(8));
    assert_eq!(activity_of(&m, &[dl("EBOOK-x")]), p(8));
    assert_eq!(activity_of(&m, &[dl("case-study-1")]), p(0));
    assert_eq!(
        activity_of(&m, &[ev("e", at(0, 9), EventKind::ContentDownload)]),
        p(0)
    );
}

#[test]
fn filter_video_percent_bounds() {
    let m = model_with(
        r#"
[[activity]]
id = "video-half"
kind = "video_watched"
min_percent = 50
max_percent = 89.99
points = 4

[[activity]]
id = "video-most"
kind = "video_watched"
min_percent = 90
points = 8
"#,
    );
    let v = |pct: f64| ev("e", at(0, 9), EventKind::VideoWatched).with_percent(pct);
    assert_eq!(activity_of(&m, &[v(49.9)]), p(0));
    assert_eq!(activity_of(&m, &[v(50.0)]), p(4));
    assert_eq!(activity_of(&m, &[v(89.99)]), p(4));
    assert_eq!(activity_of(&m, &[v(90.0)]), p(8));
    assert_eq!(activity_of(&m, &[v(100.0)]), p(8));
    assert_eq!(
        activity_of(&m, &[ev("e", at(0, 9), EventKind::VideoWatched)]),
        p(0),
        "no percent"
    );
}

#[test]
fn filter_custom_event_name() {
    let m = model_with(
        r#"
[[activity]]
id = "workflow"
kind = "custom"
event = "workflow_created"
points = 10
"#,
    );
    let c = |n: &str| ev("e", at(0, 9), EventKind::Custom).with_name(n);
    assert_eq!(activity_of(&m, &[c("workflow_created")]), p(10));
    assert_eq!(activity_of(&m, &[c("Workflow_Created")]), p(10));
    assert_eq!(activity_of(&m, &[c("workflow_deleted")]), p(0));
    assert_eq!(
        activity_of(&m, &[ev("e", at(0, 9), EventKind::Custom)]),
        p(0)
    );
}

#[test]
fn filter_properties() {
    let m = model_with(
        r#"
[[activity]]
id = "call"
kind = "phone_call"
properties = { outcome = "connected", minutes = 5 }
points = 20
"#,
    );
    let call = || ev("e", at(0, 9), EventKind::PhoneCall);
    assert_eq!(
        activity_of(
            &m,
            &[call()
                .with_property("outcome", text("Connected"))
                .with_property("minutes", AttrValue::Number(5.0))]
        ),
        p(20)
    );
    assert_eq!(
        activity_of(
            &m,
            &[call()
                .with_property("outcome", text("connected"))
                .with_property("minutes", text("5"))]
        ),
        p(20)
    );
    assert_eq!(
        activity_of(
            &m,
            &[call()
                .with_property("outcome", text("voicemail"))
                .with_property("minutes", AttrValue::Number(5.0))]
        ),
        p(0)
    );
    assert_eq!(
        activity_of(&m, &[call().with_property("outcome", text("connected"))]),
        p(0)
    );
}

#[test]
fn every_scorable_kind_scores() {
    let mut body = String::new();
    for (i, k) in EventKind::SCORABLE.iter().enumerate() {
        body += &format!(
            "[[activity]]\nid = \"r-{k}\"\nkind = \"{k}\"\npoints = {}\n",
            i + 1
        );
        if *k == EventKind::Custom {
            body += "event = \"ping\"\n";
        }
        body += "\n";
    }
    let m = model_with(&body);
    let events: Vec<Event> = EventKind::SCORABLE
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let e = ev(&format!("e{i}"), at(0, 9), *k);
            if *k == EventKind::Custom {
                e.with_name("ping")
            } else {
                e
            }
        })
        .collect();
    let s = lead_with(&m, &events);
    for (i, k) in EventKind::SCORABLE.iter().enumerate() {
        assert_eq!(
            activity_entries(&s, &format!("r-{k}")),
            vec![(format!("e{i}"), p(i as i64 + 1), Cause::Scored)],
            "{k}"
        );
    }
    assert_eq!(s.scores.total, p((1..=18).sum()));
}

#[test]
fn identify_and_feedback_events_do_not_score_activity() {
    let m = model_with(
        r#"
[[activity]]
id = "any-form"
kind = "form_submit"
points = 5
"#,
    );
    let s = lead_with(
        &m,
        &[
            identify("i", at(0, 9), &[("country", text("de"))]),
            feedback("f", at(0, 9), leadscore_domain::FeedbackOutcome::Accepted),
        ],
    );
    assert_eq!(s.scores.total, p(0));
    assert!(s.history.is_empty());
}

#[test]
fn negative_points() {
    let m = model_with(
        r#"
[[activity]]
id = "unsubscribe"
kind = "email_unsubscribe"
points = -25

[[activity]]
id = "careers"
kind = "page_view"
url = "*/careers*"
points = -10
caps = [{ count = 1, window = "30d" }]

[[activity]]
id = "form"
kind = "form_submit"
points = 40
"#,
    );
    let s = lead_with(
        &m,
        &[
            form("f1", at(0, 9)),
            ev("u1", at(0, 10), EventKind::EmailUnsubscribe),
            page("c1", at(1, 9), "https://x.io/careers"),
            page("c2", at(2, 9), "https://x.io/careers/jobs"),
        ],
    );
    assert_eq!(
        activity_entries(&s, "unsubscribe"),
        vec![("u1".into(), p(-25), Cause::Scored)]
    );
    // A capped negative rule is capped by magnitude.
    assert_eq!(
        activity_entries(&s, "careers"),
        vec![("c1".into(), p(-10), Cause::Scored)]
    );
    assert_eq!(s.scores.total, p(40 - 25 - 10));
    // Negative points do not count as engagement.
    assert_eq!(s.last_engaged_at, Some(at(0, 9)));
}

#[test]
fn machine_opens_score_nothing_by_default() {
    let body = r#"
[[activity]]
id = "open"
kind = "email_open"
points = 1
"#;
    let m = model_with(body);
    let s = lead_with(
        &m,
        &[
            ev("o1", at(0, 9), EventKind::EmailOpen).machine(),
            ev("o2", at(0, 10), EventKind::EmailOpen),
        ],
    );
    assert_eq!(
        activity_entries(&s, "open"),
        vec![("o2".into(), p(1), Cause::Scored)]
    );
    assert_eq!(s.scores.total, p(1));
    assert!(
        s.seen.contains("o1"),
        "a machine open is still recorded as seen"
    );

    let m = model_with(&format!("[email]\nscore_machine_opens = true\n{body}"));
    let s = lead_with(&m, &[ev("o1", at(0, 9), EventKind::EmailOpen).machine()]);
    assert_eq!(
        activity_entries(&s, "open"),
        vec![("o1".into(), p(1), Cause::Scored)]
    );
    assert_eq!(s.scores.total, p(1));
}

// ---------------------------------------------------------------------------------------
// Caps
// ---------------------------------------------------------------------------------------

#[test]
fn cap_count_per_window() {
    let m = model_with(
        r#"
[[activity]]
id = "visit"
kind = "page_view"
points = 5
caps = [{ count = 2, window = "1d" }]
"#,
    );
    let s = lead_with(
        &m,
        &[
            page("v1", at(0, 9), "u"),
            page("v2", at(0, 10), "u"),
            page("v3", at(0, 11), "u"),
            page("v4", at(0, 23), "u"),
        ],
    );
    assert_eq!(
        activity_entries(&s, "visit"),
        vec![
            ("v1".into(), p(5), Cause::Scored),
            ("v2".into(), p(5), Cause::Scored)
        ]
    );
    assert_eq!(s.scores.total, p(10));
    assert_eq!(
        s.history.len(),
        4,
        "capped activities are kept for re-evaluation"
    );
    assert_eq!(s.history[2].matches[0].awarded, p(0));
}

#[test]
fn cap_points_per_window_awards_the_remainder() {
    let m = model_with(
        r#"
[[activity]]
id = "open"
kind = "email_open"
points = 5
caps = [{ points = 12, window = "30d" }]
"#,
    );
    let s = lead_with(
        &m,
        &[
            ev("o1", at(0, 9), EventKind::EmailOpen),
            ev("o2", at(1, 9), EventKind::EmailOpen),
            ev("o3", at(2, 9), EventKind::EmailOpen),
            ev("o4", at(3, 9), EventKind::EmailOpen),
        ],
    );
    assert_eq!(
        activity_entries(&s, "open"),
        vec![
            ("o1".into(), p(5), Cause::Scored),
            ("o2".into(), p(5), Cause::Scored),
            ("o3".into(), p(2), Cause::Capped),
        ]
    );
    assert_eq!(s.scores.total, p(12));
}

#[test]
fn cap_with_count_and_points_binds_on_whichever_comes_first() {
    let m = model_with(
        r#"
[[activity]]
id = "count-binds"
kind = "form_submit"
points = 2
caps = [{ count = 2, points = 5, window = "7d" }]

[[activity]]
id = "points-bind"
kind = "email_click"
points = 3
caps = [{ count = 5, points = 5, window = "7d" }]
"#,
    );
    let s = lead_with(
        &m,
        &[
            form("f1", at(0, 9)),
            form("f2", at(1, 9)),
            form("f3", at(2, 9)),
            ev("c1", at(0, 9), EventKind::EmailClick),
            ev("c2", at(1, 9), EventKind::EmailClick),
            ev("c3", at(2, 9), EventKind::EmailClick),
        ],
    );
    // 2 + 2 = 4 points used, 1 left, but the count cap (2) is reached.
    assert_eq!(
        activity_entries(&s, "count-binds"),
        vec![
            ("f1".into(), p(2), Cause::Scored),
            ("f2".into(), p(2), Cause::Scored)
        ]
    );
    // 3 + 2 (capped) = 5 points, well under the count cap.
    assert_eq!(
        activity_entries(&s, "points-bind"),
        vec![
            ("c1".into(), p(3), Cause::Scored),
            ("c2".into(), p(2), Cause::Capped)
        ]
    );
    assert_eq!(s.scores.total, p(9));
}

#[test]
fn cap_window_boundary_starts_a_new_window() {
    let m = model_with(
        r#"
[[activity]]
id = "visit"
kind = "page_view"
points = 5
caps = [{ count = 1, window = "1d" }]

[[activity]]
id = "open"
kind = "email_open"
points = 4
caps = [{ points = 4, window = "1d" }]
"#,
    );
    // One second short of a day later: still in the first window.
    let almost = at(1, 9) - chrono::TimeDelta::seconds(1);
    let s = lead_with(
        &m,
        &[
            page("v1", at(0, 9), "u"),
            page("v2", almost, "u"),
            page("v3", at(1, 9), "u"),
            ev("o1", at(0, 9), EventKind::EmailOpen),
            ev("o2", almost, EventKind::EmailOpen),
            ev("o3", at(1, 9), EventKind::EmailOpen),
        ],
    );
    assert_eq!(
        activity_entries(&s, "visit"),
        vec![
            ("v1".into(), p(5), Cause::Scored),
            ("v3".into(), p(5), Cause::Scored)
        ]
    );
    assert_eq!(
        activity_entries(&s, "open"),
        vec![
            ("o1".into(), p(4), Cause::Scored),
            ("o3".into(), p(4), Cause::Scored)
        ]
    );
}

#[test]
fn caps_are_the_same_whether_events_come_in_one_batch_or_many() {
    let m = model_with(
        r#"
[[activity]]
id = "visit"
kind = "page_view"
points = 1
caps = [{ count = 3, window = "1d" }, { points = 5, window = "30d" }]
"#,
    );
    let events: Vec<Event> = (0..10)
        .map(|i| page(&format!("v{i}"), at(i / 3, 9 + (i % 3) as u32), "u"))
        .collect();
    let batch = lead_with(&m, &events);
    let mut one_by_one = LeadState::new("lead-1");
    for e in &events {
        run(&m, &mut one_by_one, std::slice::from_ref(e), rec(0));
    }
    // Days 0 and 1 score 3 each but the 30-day cap stops at 5.
    assert_eq!(batch.scores.total, p(5));
    assert_eq!(batch.scores, one_by_one.scores);
    assert_eq!(batch.history, one_by_one.history);
}

// ---------------------------------------------------------------------------------------
// Combinations
// ---------------------------------------------------------------------------------------

const COMBO_RULES: &str = r#"
[[activity]]
id = "pricing"
kind = "page_view"
url = "*/pricing*"
points = 10

[[activity]]
id = "demo"
kind = "demo_request"
points = 50

[[activity]]
id = "webinar"
kind = "webinar_attended"
points = 15
"#;

#[test]
fn combination_unordered_within_window() {
    let m = model_with(&format!(
        r#"{COMBO_RULES}
[[combination]]
id = "streak"
requires = ["webinar", "pricing"]
within = "3d"
points = 25
"#
    ));
    // Order does not matter: pricing first, webinar within three days.
    let s = lead_with(
        &m,
        &[
            page("p1", at(0, 9), "https://x.io/pricing"),
            ev("w1", at(3, 9), EventKind::WebinarAttended),
        ],
    );
    assert_eq!(
        combo_entries(&s, "streak"),
        vec![("w1".into(), p(25), Cause::Scored)]
    );
    assert_eq!(s.scores.total, p(10 + 15 + 25));
    assert_eq!(s.combos.len(), 1);
    let bonus = s
        .ledger
        .iter()
        .find(|e| matches!(e.source, Source::Combination { .. }))
        .unwrap();
    assert_eq!(bonus.dimension, Dimension::Activity);
    assert_eq!(bonus.occurred_at(), at(3, 9));
}

#[test]
fn combination_outside_window_gives_no_bonus() {
    let m = model_with(&format!(
        r#"{COMBO_RULES}
[[combination]]
id = "streak"
requires = ["pricing", "webinar"]
within = "3d"
points = 25
"#
    ));
    let s = lead_with(
        &m,
        &[
            page("p1", at(0, 9), "https://x.io/pricing"),
            ev("w1", at(3, 10), EventKind::WebinarAttended),
        ],
    );
    assert_eq!(combo_entries(&s, "streak"), vec![]);
    assert_eq!(s.scores.total, p(25));
}

#[test]
fn combination_ordered_wrong_order_gives_no_bonus() {
    let m = model_with(&format!(
        r#"{COMBO_RULES}
[[combination]]
id = "pricing-then-demo"
requires = ["pricing", "demo"]
ordered = true
within = "7d"
points = 20
"#
    ));
    let s = lead_with(
        &m,
        &[
            ev("d1", at(0, 9), EventKind::DemoRequest),
            page("p1", at(1, 9), "https://x.io/pricing"),
        ],
    );
    assert_eq!(combo_entries(&s, "pricing-then-demo"), vec![]);
    assert_eq!(s.scores.total, p(60));
}

#[test]
fn combination_ordered_right_order_within_window() {
    let m = model_with(&format!(
        r#"{COMBO_RULES}
[[combination]]
id = "pricing-then-demo"
requires = ["pricing", "demo"]
ordered = true
within = "7d"
points = 20
"#
    ));
    let s = lead_with(
        &m,
        &[
            page("p1", at(0, 9), "https://x.io/pricing"),
            ev("d1", at(7, 9), EventKind::DemoRequest),
        ],
    );
    assert_eq!(
        combo_entries(&s, "pricing-then-demo"),
        vec![("d1".into(), p(20), Cause::Scored)]
    );
    assert_eq!(s.scores.total, p(80));

    // Right order but too far apart.
    let s = lead_with(
        &m,
        &[
            page("p1", at(0, 9), "https://x.io/pricing"),
            ev("d1", at(7, 10), EventKind::DemoRequest),
        ],
    );
    assert_eq!(combo_entries(&s, "pricing-then-demo"), vec![]);
}

#[test]
fn combination_ordered_completed_by_a_late_arrival() {
    let m = model_with(&format!(
        r#"{COMBO_RULES}
[[combination]]
id = "pricing-then-demo"
requires = ["pricing", "demo"]
ordered = true
within = "7d"
points = 20
"#
    ));
    let mut s = lead_with(&m, &[ev("d1", at(2, 9), EventKind::DemoRequest)]);
    assert_eq!(s.scores.total, p(50));
    // The pricing visit happened before the demo request but arrives afterwards.
    run(
        &m,
        &mut s,
        &[page("p1", at(1, 9), "https://x.io/pricing")],
        rec(3),
    );
    assert_eq!(
        combo_entries(&s, "pricing-then-demo"),
        vec![("d1".into(), p(20), Cause::Scored)]
    );
    assert_eq!(s.scores.total, p(80));
}

#[test]
fn combination_max_awards() {
    let once = model_with(&format!(
        r#"{COMBO_RULES}
[[combination]]
id = "streak"
requires = ["pricing", "webinar"]
within = "3d"
points = 25
"#
    ));
    let twice = model_with(&format!(
        r#"{COMBO_RULES}
[[combination]]
id = "streak"
requires = ["pricing", "webinar"]
within = "3d"
points = 25
max_awards = 2
"#
    ));
    let events: Vec<Event> = (0..3)
        .flat_map(|i| {
            [
                page(&format!("p{i}"), at(10 * i, 9), "https://x.io/pricing"),
                ev(&format!("w{i}"), at(10 * i, 10), EventKind::WebinarAttended),
            ]
        })
        .collect();
    let s = lead_with(&once, &events);
    assert_eq!(
        combo_entries(&s, "streak"),
        vec![("w0".into(), p(25), Cause::Scored)]
    );
    assert_eq!(s.scores.total, p(3 * 25 + 25));
    let s = lead_with(&twice, &events);
    assert_eq!(
        combo_entries(&s, "streak"),
        vec![
            ("w0".into(), p(25), Cause::Scored),
            ("w1".into(), p(25), Cause::Scored)
        ]
    );
    assert_eq!(s.scores.total, p(3 * 25 + 50));
}

// ---------------------------------------------------------------------------------------
// Instant MQL, products, grades
// ---------------------------------------------------------------------------------------

#[test]
fn instant_mql_rule_qualifies_whatever_the_score() {
    let m = model_with(
        r#"
[[activity]]
id = "demo"
kind = "demo_request"
points = 5
instant_mql = true
"#,
    );
    let mut s = LeadState::new("lead-1");
    let out = run(
        &m,
        &mut s,
        &[ev("d1", at(1, 9), EventKind::DemoRequest)],
        rec(1),
    );
    assert_eq!(s.scores.total, p(5));
    assert_eq!(s.stage, Stage::Mql);
    assert!(s.mql_via_instant);
    assert_eq!(out.transitions.len(), 1);
    let t = &out.transitions[0];
    assert_eq!((t.from, t.to, t.at), (Stage::Lead, Stage::Mql, at(1, 9)));
    assert_eq!(
        t.reason,
        Reason::InstantMql {
            rule: "demo".into(),
            activity: "d1".into()
        }
    );
}

#[test]
fn product_scores_sum_their_tagged_entries() {
    let m = model_with(
        r#"
[[fit]]
id = "role-marketing"
attribute = "role"
equals = "marketing"
points = 5
product = "beta"

[[fit]]
id = "industry"
attribute = "industry"
equals = "software"
points = 10

[[activity]]
id = "product-page"
kind = "page_view"
url = "*/product*"
points = 3
product = "alpha"

[[activity]]
id = "trial"
kind = "trial_started"
points = 40
product = "alpha"

[[activity]]
id = "form"
kind = "form_submit"
points = 7
"#,
    );
    let s = lead_with(
        &m,
        &[
            identify(
                "i",
                at(0, 8),
                &[("role", text("Marketing")), ("industry", text("software"))],
            ),
            page("v1", at(0, 9), "https://x.io/product"),
            page("v2", at(0, 10), "https://x.io/product/x"),
            ev("t1", at(0, 11), EventKind::TrialStarted),
            form("f1", at(0, 12)),
        ],
    );
    assert_eq!(s.scores.products.get("alpha").copied(), Some(p(46)));
    assert_eq!(s.scores.products.get("beta").copied(), Some(p(5)));
    assert_eq!(
        s.scores.activity_by_product.get("alpha").copied(),
        Some(p(46))
    );
    assert_eq!(s.scores.activity_by_product.get("beta"), None);
    assert_eq!(s.scores.fit, p(15));
    assert_eq!(s.scores.activity, p(53));
    assert_eq!(s.scores.total, p(68));
}

#[test]
fn grade_cells() {
    let m_src = |fit: i64, act: i64| {
        format!(
            r#"
[grades]
fit = {{ A = 60, B = 35, C = 15 }}
activity = {{ 1 = 80, 2 = 45, 3 = 15 }}

[[fit]]
id = "f"
attribute = "country"
present = true
points = {fit}

[[activity]]
id = "a"
kind = "form_submit"
points = {act}
"#
        )
    };
    let grade = |fit: i64, act: i64| {
        let m = model_with(&m_src(fit, act));
        let s = lead_with(
            &m,
            &[
                identify("i", at(0, 9), &[("country", text("de"))]),
                form("f", at(0, 9)),
            ],
        );
        assert_eq!((s.scores.fit, s.scores.activity), (p(fit), p(act)));
        s.grade(&m).to_string()
    };
    assert_eq!(grade(60, 80), "A1");
    assert_eq!(grade(59, 79), "B2");
    assert_eq!(grade(35, 45), "B2");
    assert_eq!(grade(34, 44), "C3");
    assert_eq!(grade(15, 15), "C3");
    assert_eq!(grade(14, 14), "D4");
    assert_eq!(grade(100, 1), "A4");
    assert_eq!(grade(-20, 200), "D1");
}

// ---------------------------------------------------------------------------------------
// Duplicates, late arrivals, withdrawals
// ---------------------------------------------------------------------------------------

#[test]
fn duplicate_event_ids_change_nothing() {
    let m = model_with(
        r#"
[[activity]]
id = "form"
kind = "form_submit"
points = 40

[[fit]]
id = "de"
attribute = "country"
equals = "de"
points = 5
"#,
    );
    let mut s = LeadState::new("lead-1");
    let out = run(
        &m,
        &mut s,
        &[
            form("f1", at(0, 9)),
            form("f1", at(0, 9)),
            identify("i1", at(0, 9), &[("country", text("de"))]),
        ],
        rec(0),
    );
    assert_eq!((out.accepted, out.duplicates), (2, 1));
    assert_eq!(s.scores.total, p(45));
    let before = s.clone();
    // Same ids again, even with different content: nothing changes.
    let out = run(
        &m,
        &mut s,
        &[
            form("f1", at(5, 9)),
            identify("i1", at(5, 9), &[("country", text("fr"))]),
        ],
        rec(5),
    );
    assert_eq!((out.accepted, out.duplicates, out.new_entries), (0, 2, 0));
    assert!(out.transitions.is_empty());
    assert_eq!(s, before);
}

#[test]
fn late_older_activity_rescored_caps_match_in_order_total() {
    let m = model_with(
        r#"
[[activity]]
id = "open"
kind = "email_open"
points = 4
caps = [{ points = 10, window = "7d" }]

[[activity]]
id = "visit"
kind = "page_view"
points = 5
caps = [{ count = 1, window = "7d" }]
"#,
    );
    let e1 = ev("o1", at(0, 9), EventKind::EmailOpen);
    let e2 = ev("o2", at(1, 9), EventKind::EmailOpen);
    let e3 = ev("o3", at(2, 9), EventKind::EmailOpen);
    let v1 = page("v1", at(0, 9), "u");
    let v2 = page("v2", at(3, 9), "u");

    let mut in_order = LeadState::new("lead-1");
    for e in [&e1, &v1, &e2, &e3, &v2] {
        run(&m, &mut in_order, std::slice::from_ref(e), rec(3));
    }
    assert_eq!(in_order.scores.total, p(4 + 4 + 2 + 5));

    let mut late = LeadState::new("lead-1");
    run(&m, &mut late, &[e2.clone(), e3.clone(), v2.clone()], rec(3));
    assert_eq!(late.scores.total, p(4 + 4 + 5));
    run(&m, &mut late, &[e1.clone(), v1.clone()], rec(4));
    assert_eq!(
        activity_entries(&late, "open"),
        vec![
            ("o2".into(), p(4), Cause::Scored),
            ("o3".into(), p(4), Cause::Scored),
            ("o1".into(), p(4), Cause::Scored),
            ("o3".into(), p(-2), Cause::Rescored),
        ]
    );
    assert_eq!(
        activity_entries(&late, "visit"),
        vec![
            ("v2".into(), p(5), Cause::Scored),
            ("v1".into(), p(5), Cause::Scored),
            ("v2".into(), p(-5), Cause::Rescored),
        ]
    );
    assert_eq!(late.scores, in_order.scores);
    assert_eq!(late.history, in_order.history);
}

#[test]
fn fit_attribute_change_withdraws_points() {
    let m = model_with(
        r#"
[[fit]]
id = "director"
attribute = "job_title"
contains = "director"
points = 15

[[fit]]
id = "size"
attribute = "company_size"
range = { min = 50 }
points = 10
"#,
    );
    let mut s = lead_with(
        &m,
        &[identify(
            "i1",
            at(0, 9),
            &[
                ("job_title", text("Director")),
                ("company_size", text("200")),
            ],
        )],
    );
    assert_eq!(s.scores.fit, p(25));
    run(
        &m,
        &mut s,
        &[identify("i2", at(1, 9), &[("job_title", text("Engineer"))])],
        rec(1),
    );
    assert_eq!(s.scores.fit, p(10));
    // An explicit null clears the attribute.
    run(
        &m,
        &mut s,
        &[identify(
            "i3",
            at(2, 9),
            &[("company_size", AttrValue::Null)],
        )],
        rec(2),
    );
    assert_eq!(s.scores.fit, p(0));
    assert!(!s.attributes.contains_key("company_size"));
    assert_eq!(
        fit_entries(&s, "director"),
        vec![(p(15), Cause::Scored), (p(-15), Cause::Withdrawn)]
    );
    assert_eq!(
        fit_entries(&s, "size"),
        vec![(p(10), Cause::Scored), (p(-10), Cause::Withdrawn)]
    );
}

#[test]
fn older_attribute_update_arriving_late_does_not_win() {
    let m = model_with(
        r#"
[[fit]]
id = "director"
attribute = "job_title"
contains = "director"
points = 15
"#,
    );
    let mut s = lead_with(
        &m,
        &[identify("i2", at(2, 9), &[("job_title", text("Engineer"))])],
    );
    run(
        &m,
        &mut s,
        &[identify("i1", at(1, 9), &[("job_title", text("Director"))])],
        rec(3),
    );
    assert_eq!(s.attributes.get("job_title"), Some(&text("Engineer")));
    assert_eq!(s.scores.fit, p(0));
    assert!(fit_entries(&s, "director").is_empty());
}

// ---------------------------------------------------------------------------------------
// The score floor
// ---------------------------------------------------------------------------------------

#[test]
fn score_floor_adjusts_and_gives_back() {
    let m = model(
        r#"
[model]
name = "floor"

[thresholds]
mql = 100
mql_exit = 70
floor = 0

[[activity]]
id = "unsubscribe"
kind = "email_unsubscribe"
points = -25

[[activity]]
id = "webinar"
kind = "webinar_attended"
points = 10

[[activity]]
id = "form"
kind = "form_submit"
points = 40
"#,
    );
    let mut s = lead_with(&m, &[ev("u1", at(0, 9), EventKind::EmailUnsubscribe)]);
    assert_eq!(s.scores.activity, p(-25));
    assert_eq!(s.scores.adjustment, p(25));
    assert_eq!(s.scores.total, p(0));
    let adj: Vec<_> = s
        .ledger
        .iter()
        .filter(|e| e.dimension == Dimension::Adjustment)
        .collect();
    assert_eq!(adj.len(), 1);
    assert_eq!(
        (adj[0].points, adj[0].cause, &adj[0].source),
        (p(25), Cause::Floor, &Source::Floor)
    );

    // Recovering part of the way: the adjustment shrinks, the total stays at the floor.
    run(
        &m,
        &mut s,
        &[ev("w1", at(1, 9), EventKind::WebinarAttended)],
        rec(1),
    );
    assert_eq!((s.scores.adjustment, s.scores.total), (p(15), p(0)));
    // Recovering above the floor: the adjustment is removed entirely.
    run(&m, &mut s, &[form("f1", at(2, 9))], rec(2));
    assert_eq!((s.scores.adjustment, s.scores.total), (p(0), p(25)));
    let adj: Vec<Points> = s
        .ledger
        .iter()
        .filter(|e| e.dimension == Dimension::Adjustment)
        .map(|e| e.points)
        .collect();
    assert_eq!(adj, vec![p(25), p(-10), p(-15)]);
}

// ---------------------------------------------------------------------------------------
// Explanations
// ---------------------------------------------------------------------------------------

#[test]
fn explain_orders_by_absolute_points_and_sums_to_total() {
    let m = model_with(
        r#"
[[fit]]
id = "student"
attribute = "job_title"
contains = "student"
points = -30

[[fit]]
id = "germany"
attribute = "country"
equals = "de"
points = 20

[[fit]]
id = "phone"
attribute = "phone"
present = true
points = 7

[[activity]]
id = "visit"
kind = "page_view"
points = 10

[[activity]]
id = "form"
kind = "form_submit"
points = 5
"#,
    );
    let mut s = lead_with(
        &m,
        &[
            identify(
                "i1",
                at(0, 8),
                &[
                    ("job_title", text("Student")),
                    ("country", text("de")),
                    ("phone", text("1")),
                ],
            ),
            page("v1", at(0, 9), "u"),
            page("v2", at(1, 9), "u"),
            form("f1", at(2, 9)),
        ],
    );
    // The phone rule scores then goes away: it nets to zero and is left out.
    run(
        &m,
        &mut s,
        &[identify("i2", at(3, 8), &[("phone", AttrValue::Null)])],
        rec(3),
    );
    assert_eq!(s.scores.total, p(-30 + 20 + 20 + 5));

    let top = explain(&s.ledger, 2);
    let ids: Vec<(&str, &str, Points)> = top
        .iter()
        .map(|c| (c.kind.as_str(), c.id.as_str(), c.points))
        .collect();
    assert_eq!(
        ids,
        vec![("fit", "student", p(-30)), ("activity", "visit", p(20))]
    );
    assert_eq!(top[1].entries, 2);
    assert_eq!((top[1].first_at, top[1].last_at), (at(0, 9), at(1, 9)));

    let all = explain(&s.ledger, 100);
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    // visit and germany tie at 20: "activity" sorts before "fit".
    assert_eq!(ids, vec!["student", "visit", "germany", "form"]);
    assert_eq!(all.iter().map(|c| c.points).sum::<Points>(), s.scores.total);
    assert!(explain(&s.ledger, 0).is_empty());
}

// ---------------------------------------------------------------------------------------
// Model changes
// ---------------------------------------------------------------------------------------

#[test]
fn rules_removed_from_the_model_take_their_product_points_with_them() {
    let before = model_with(
        r#"
[[fit]]
id = "role-alpha"
attribute = "role"
equals = "data"
points = 5
product = "alpha"

[[fit]]
id = "country"
attribute = "country"
equals = "de"
points = 3

[[activity]]
id = "trial"
kind = "trial_started"
points = 40
product = "alpha"

[[activity]]
id = "form"
kind = "form_submit"
points = 7
"#,
    );
    let after = model_with(
        r#"
[[fit]]
id = "country"
attribute = "country"
equals = "de"
points = 3

[[activity]]
id = "form"
kind = "form_submit"
points = 7
"#,
    );
    let mut s = lead_with(
        &before,
        &[
            identify("i1", at(0, 8), &[("role", text("data"))]),
            ev("t1", at(0, 9), EventKind::TrialStarted),
        ],
    );
    assert_eq!(s.scores.products.get("alpha").copied(), Some(p(45)));
    // The lead is scored with the new model: an attribute change re-evaluates fit rules, and
    // an older activity arriving late re-evaluates the activities after it.
    run(
        &after,
        &mut s,
        &[
            identify("i2", at(1, 8), &[("country", text("de"))]),
            form("f0", at(0, 7)),
        ],
        rec(1),
    );
    assert_eq!(
        fit_entries(&s, "role-alpha"),
        vec![(p(5), Cause::Scored), (p(-5), Cause::Withdrawn)]
    );
    assert_eq!(
        activity_entries(&s, "trial"),
        vec![
            ("t1".into(), p(40), Cause::Scored),
            ("t1".into(), p(-40), Cause::Withdrawn)
        ]
    );
    assert_eq!(s.scores.total, p(3 + 7));
    // The withdrawals must be tagged like the awards were, or the product keeps points that
    // no rule gives any more.
    let withdrawn: Vec<_> = s
        .ledger
        .iter()
        .filter(|e| e.cause == Cause::Withdrawn)
        .map(|e| e.product.as_deref().map(str::to_owned))
        .collect();
    assert_eq!(
        withdrawn,
        vec![Some("alpha".to_owned()), Some("alpha".to_owned())]
    );
    assert_eq!(
        s.scores.products.get("alpha").copied().unwrap_or_default(),
        p(0)
    );
    assert_eq!(
        s.scores
            .activity_by_product
            .get("alpha")
            .copied()
            .unwrap_or_default(),
        p(0)
    );
}

#[test]
fn a_stored_lead_keeps_its_ledger_count_and_product_tags_without_the_entries() {
    let before = model_with(
        r#"
[[activity]]
id = "trial"
kind = "trial_started"
points = 40
product = "alpha"

[[activity]]
id = "form"
kind = "form_submit"
points = 7
"#,
    );
    let after = model_with(
        r#"
[[activity]]
id = "form"
kind = "form_submit"
points = 7
"#,
    );
    let mut s = lead_with(&before, &[ev("t1", at(0, 9), EventKind::TrialStarted)]);
    // What a store does: the entries go to their own items, the state keeps the summary.
    let stored_entries = s.ledger.take_new();
    assert_eq!(stored_entries.len(), 1);
    let json = serde_json::to_string(&s).expect("state serializes");
    assert!(
        !json.contains("\"recorded_at\""),
        "no entries in the state: {json}"
    );
    let mut s: LeadState = serde_json::from_str(&json).expect("state parses");
    assert_eq!((s.ledger.base(), s.ledger.len()), (1, 0));
    run(&after, &mut s, &[form("f0", at(0, 7))], rec(1));
    // Numbering continues after the stored entries, and the withdrawal is tagged like the
    // award it takes back, although that award is no longer held.
    let seqs: Vec<u64> = s.ledger.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2]);
    let trial = s
        .ledger
        .iter()
        .find(|e| e.cause == Cause::Withdrawn)
        .expect("trial withdrawn");
    assert_eq!(
        (trial.points, trial.product.as_deref()),
        (p(-40), Some("alpha"))
    );
    assert_eq!(
        stored_entries[0].points + s.ledger_total(),
        s.scores.total,
        "stored + held entries sum to the score"
    );
    assert_eq!(s.scores.products.get("alpha"), None);
}

#[test]
fn non_buyer_titles_need_whole_words() {
    let m = model_with(
        r#"
[[fit]]
id = "non-buyer"
attribute = "job_title"
in_list = "non_buyer_titles"
points = -40
"#,
    );
    assert_eq!(
        fit_of(&m, &[("job_title", text("Marketing Intern"))]),
        p(-40)
    );
    assert_eq!(fit_of(&m, &[("job_title", text("PhD Students"))]), p(-40));
    assert_eq!(
        fit_of(&m, &[("job_title", text("International Sales Director"))]),
        p(0)
    );
    assert_eq!(
        fit_of(&m, &[("job_title", text("Internal Audit Lead"))]),
        p(0)
    );
}
