//! Webhook payload parsers: real-format fixtures parse into exactly the expected items, bad
//! input fails with a useful path, and no input (random or a mangled fixture) panics.

use chrono::{DateTime, Utc};
use leadscore_domain::{AttrValue, Event, EventKind, FeedbackOutcome};
use leadscore_sources::{events, hubspot, marketo, sendgrid};
use leadscore_sources::{CrmRef, Ignored, Inbound, LeadRef, Parsed, SourceError};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// When the test requests arrive: the time of a workflow webhook without `lastmodifieddate`.
fn received() -> DateTime<Utc> {
    t("2026-03-02T12:00:00Z")
}

/// `hubspot::parse` of a request arriving at `received()`.
fn hubspot_parse(body: &[u8]) -> Result<Parsed, SourceError> {
    hubspot::parse(body, received())
}

fn text(s: &str) -> AttrValue {
    AttrValue::Text(s.into())
}

fn ev(lead: LeadRef, account: Option<&str>, event: Event) -> Inbound {
    Inbound::Event {
        lead,
        account: account.map(str::to_owned),
        event,
    }
}

fn hs(id: u64) -> LeadRef {
    LeadRef::crm("hubspot", id.to_string())
}

fn ignored(list: &[(usize, &str)]) -> Vec<Ignored> {
    list.iter()
        .map(|(index, reason)| Ignored {
            index: *index,
            reason: (*reason).into(),
        })
        .collect()
}

/// Compares item by item, so a failure shows the first differing item.
fn assert_items(got: &Parsed, want: &[Inbound]) {
    for (i, (g, w)) in got.items.iter().zip(want).enumerate() {
        assert_eq!(g, w, "item {i}");
    }
    assert_eq!(got.items.len(), want.len(), "{:#?}", got.items);
}

/// The error's path, panicking (with the error) if it is not a field error.
fn field_path(r: Result<Parsed, SourceError>) -> (String, String) {
    match r {
        Err(SourceError::Field { path, problem }) => (path, problem),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn assert_field(r: Result<Parsed, SourceError>, path: &str, contains: &str) {
    let (p, problem) = field_path(r);
    assert_eq!(p, path, "problem: {problem}");
    assert!(
        problem.contains(contains),
        "{path}: `{problem}` lacks `{contains}`"
    );
}

// ---------------------------------------------------------------------------------------------
// HubSpot

#[test]
fn hubspot_fixture_parses_into_the_expected_items_in_time_order() {
    let parsed = hubspot_parse(&fixture("hubspot.json")).unwrap();
    let id = |e: u64, o: u64, ms: i64, rest: &str| format!("hubspot:{e}:{o}:{ms}:{rest}");
    let want = vec![
        Inbound::Erase {
            lead: hs(4800),
            reason: "privacy (GDPR) deletion in HubSpot".into(),
        },
        ev(
            hs(5101),
            None,
            Event::new(
                id(1001, 5101, 1772445600000, "contact.creation"),
                t("2026-03-02T10:00:00Z"),
                EventKind::Identify,
            ),
        ),
        ev(
            hs(5101),
            Some("hubspot:company:901"),
            Event::new(
                id(1007, 5101, 1772445600500, "contact.associationChange:901"),
                t("2026-03-02T10:00:00.500Z"),
                EventKind::Identify,
            ),
        ),
        ev(
            hs(5101),
            None,
            Event::new(
                id(1002, 5101, 1772445900000, "contact.propertyChange:jobtitle"),
                t("2026-03-02T10:05:00Z"),
                EventKind::Identify,
            )
            .with_property("job_title", text("VP Engineering")),
        ),
        ev(
            LeadRef {
                email: Some("dana.lee@globex.com".into()),
                crm: Some(CrmRef {
                    system: "hubspot",
                    id: "5102".into(),
                }),
            },
            None,
            Event::new(
                id(1006, 5102, 1772445901000, "contact.propertyChange:email"),
                t("2026-03-02T10:05:01Z"),
                EventKind::Identify,
            )
            .with_property("email", text("Dana.Lee@Globex.com")),
        ),
        ev(
            hs(5102),
            None,
            Event::new(
                id(1011, 5102, 1772446200000, "contact.propertyChange:website"),
                t("2026-03-02T10:10:00Z"),
                EventKind::Identify,
            )
            .with_property("company_domain", text("globex.com")),
        ),
        Inbound::Merge {
            into: hs(5101),
            merged: vec![hs(5099)],
        },
        ev(
            hs(5102),
            None,
            Event::new(
                id(
                    1012,
                    5102,
                    1772447400000,
                    "contact.propertyChange:hs_persona",
                ),
                t("2026-03-02T10:30:00Z"),
                EventKind::Identify,
            )
            .with_property("custom.hs_persona", AttrValue::Null),
        ),
        ev(
            hs(5101),
            None,
            Event::new(
                id(
                    1003,
                    5101,
                    1772449200000,
                    "contact.propertyChange:lifecyclestage",
                ),
                t("2026-03-02T11:00:00Z"),
                EventKind::SalesFeedback,
            )
            .with_outcome(FeedbackOutcome::Accepted)
            .with_target("lifecyclestage:salesqualifiedlead"),
        ),
        ev(
            hs(5102),
            None,
            Event::new(
                id(
                    1010,
                    5102,
                    1772449200250,
                    "contact.propertyChange:hs_lead_status",
                ),
                t("2026-03-02T11:00:00.250Z"),
                EventKind::SalesFeedback,
            )
            .with_outcome(FeedbackOutcome::Recycled)
            .with_target("hs_lead_status:BAD_TIMING"),
        ),
    ];
    assert_items(&parsed, &want);
    assert_eq!(
        parsed.ignored,
        ignored(&[
            (
                3,
                "duplicate of [1] (same event hubspot:1002:5101:1772445900000:contact.propertyChange:jobtitle)"
            ),
            (
                8,
                "company.propertyChange: company events name no lead (accounts come from the leads' own events)"
            ),
            (9, "hs_lead_status `NEW` is not a sales decision"),
        ])
    );
}

#[test]
fn hubspot_sales_statuses_map_to_outcomes() {
    let body = |name: &str, value: &str| {
        format!(
            r#"[{{"eventId":1,"occurredAt":1772445600000,"subscriptionType":"contact.propertyChange","objectId":7,"propertyName":"{name}","propertyValue":"{value}"}}]"#
        )
    };
    let outcome = |name: &str, value: &str| {
        let p = hubspot_parse(body(name, value).as_bytes()).unwrap();
        match p.items.first() {
            Some(Inbound::Event { event, .. }) => event.outcome,
            _ => None,
        }
    };
    use FeedbackOutcome::*;
    assert_eq!(outcome("lifecyclestage", "opportunity"), Some(Accepted));
    assert_eq!(outcome("lifecyclestage", "customer"), Some(Won));
    assert_eq!(outcome("lifecyclestage", "marketingqualifiedlead"), None);
    assert_eq!(outcome("lifecyclestage", "lead"), None);
    assert_eq!(outcome("hs_lead_status", "IN_PROGRESS"), Some(Accepted));
    assert_eq!(outcome("hs_lead_status", "connected"), Some(Accepted));
    assert_eq!(outcome("hs_lead_status", "UNQUALIFIED"), Some(Disqualified));
    assert_eq!(outcome("hs_lead_status", "BAD_TIMING"), Some(Recycled));
    assert_eq!(outcome("hs_lead_status", "OPEN"), None);
}

#[test]
fn hubspot_maps_properties_to_attributes_and_unknown_ones_to_custom() {
    let cases = [
        ("firstname", "first_name"),
        ("lastname", "last_name"),
        ("numberofemployees", "company_size"),
        ("annualrevenue", "annual_revenue"),
        ("hs_seniority", "seniority"),
        ("hs_role", "role"),
        ("domain", "company_domain"),
        ("favorite_tool", "custom.favorite_tool"),
    ];
    for (property, attribute) in cases {
        let body = format!(
            r#"[{{"eventId":1,"occurredAt":1772445600000,"subscriptionType":"contact.propertyChange","objectId":7,"propertyName":"{property}","propertyValue":"x.io"}}]"#
        );
        let p = hubspot_parse(body.as_bytes()).unwrap();
        let Some(Inbound::Event { event, .. }) = p.items.first() else {
            panic!("{property}: {p:?}");
        };
        assert_eq!(event.kind, EventKind::Identify);
        assert_eq!(
            event.properties.keys().collect::<Vec<_>>(),
            [attribute],
            "{property}"
        );
    }
}

/// A contact's account is its primary company: from `associatedcompanyid` or from a primary
/// CONTACT_TO_COMPANY association; other association changes set nothing.
#[test]
fn hubspot_primary_company_becomes_the_account() {
    let change = |value: &str| {
        format!(
            r#"[{{"eventId":1,"occurredAt":1772445600000,"subscriptionType":"contact.propertyChange","objectId":7,"propertyName":"associatedcompanyid","propertyValue":{value}}}]"#
        )
    };
    let first = |body: &str| {
        let p = hubspot_parse(body.as_bytes()).unwrap();
        assert!(p.ignored.is_empty(), "{:?}", p.ignored);
        match p.items.into_iter().next() {
            Some(Inbound::Event {
                lead,
                account,
                event,
            }) => (lead, account, event),
            other => panic!("{body}: {other:?}"),
        }
    };
    let (lead, account, event) = first(&change(r#"" 901 ""#));
    assert_eq!(lead, hs(7));
    assert_eq!(account.as_deref(), Some("hubspot:company:901"));
    assert_eq!(event.kind, EventKind::Identify);
    assert_eq!(
        event.properties.get("custom.associatedcompanyid"),
        Some(&text(" 901 "))
    );
    assert_eq!(
        first(&change("901")).1.as_deref(),
        Some("hubspot:company:901"),
        "a number works too"
    );
    assert_eq!(hubspot::company_account("42"), "hubspot:company:42");
    // Emptied (the primary company removed), or not an id: the attribute changes, no account.
    for value in [r#""""#, r#""n/a""#, "null"] {
        let (_, account, event) = first(&change(value));
        assert_eq!(account, None, "{value}");
        assert_eq!(
            event
                .properties
                .get("custom.associatedcompanyid")
                .map(|v| v.is_present()),
            Some(value == r#""n/a""#),
            "{value}"
        );
    }

    let association = |kind: &str, removed: &str, primary: &str| {
        format!(
            r#"[{{"eventId":2,"occurredAt":1772445600000,"subscriptionType":"contact.associationChange","fromObjectId":7,"toObjectId":901,"associationType":"{kind}"{removed}{primary}}}]"#
        )
    };
    let (lead, account, event) = first(&association(
        "CONTACT_TO_COMPANY",
        r#","associationRemoved":false"#,
        r#","isPrimaryAssociation":true"#,
    ));
    assert_eq!(lead, hs(7));
    assert_eq!(account.as_deref(), Some("hubspot:company:901"));
    assert_eq!(
        event,
        Event::new(
            "hubspot:2:7:1772445600000:contact.associationChange:901",
            t("2026-03-02T10:00:00Z"),
            EventKind::Identify
        )
    );
    // Ignored, each with its reason: a removal, a secondary company, no primary flag, a deal.
    for (body, reason) in [
        (
            association(
                "CONTACT_TO_COMPANY",
                r#","associationRemoved":true"#,
                r#","isPrimaryAssociation":true"#,
            ),
            "contact.associationChange: company 901 removed from contact 7 (the account stands until another primary company is set)",
        ),
        (
            association(
                "CONTACT_TO_COMPANY",
                r#","associationRemoved":false"#,
                r#","isPrimaryAssociation":false"#,
            ),
            "contact.associationChange: company 901 is not the primary company of contact 7",
        ),
        (
            association("CONTACT_TO_COMPANY", "", ""),
            "contact.associationChange: company 901 is not the primary company of contact 7",
        ),
        (
            association("CONTACT_TO_DEAL", "", r#","isPrimaryAssociation":true"#),
            "contact.associationChange CONTACT_TO_DEAL: only the contact's primary company is used",
        ),
    ] {
        let p = hubspot_parse(body.as_bytes()).unwrap();
        assert!(p.items.is_empty(), "{body}");
        assert_eq!(p.ignored, ignored(&[(0, reason)]), "{body}");
    }
    // A company association must name both records, with the right types.
    assert_field(
        hubspot_parse(
            br#"[{"eventId":2,"occurredAt":1772445600000,"subscriptionType":"contact.associationChange","fromObjectId":7,"associationType":"CONTACT_TO_COMPANY","isPrimaryAssociation":true}]"#,
        ),
        "[0].toObjectId",
        "missing",
    );
    assert_field(
        hubspot_parse(
            br#"[{"eventId":2,"occurredAt":1772445600000,"subscriptionType":"contact.associationChange","fromObjectId":7,"toObjectId":901,"associationType":"CONTACT_TO_COMPANY","isPrimaryAssociation":"yes"}]"#,
        ),
        "[0].isPrimaryAssociation",
        "true or false",
    );
    assert_field(
        hubspot_parse(
            br#"[{"eventId":2,"occurredAt":1772445600000,"subscriptionType":"contact.associationChange","fromObjectId":7,"toObjectId":901}]"#,
        ),
        "[0].associationType",
        "missing",
    );
}

/// `reopened` is never produced: a property change carries no old value, so `NEW`/`OPEN` or an
/// early lifecycle stage cannot be told apart from a first setting (see the module doc).
#[test]
fn hubspot_never_reopens_a_lead() {
    for (name, value) in [
        ("hs_lead_status", "NEW"),
        ("hs_lead_status", "OPEN"),
        ("hs_lead_status", ""),
        ("lifecyclestage", "lead"),
        ("lifecyclestage", "subscriber"),
        ("lifecyclestage", "marketingqualifiedlead"),
        ("lifecyclestage", ""),
    ] {
        let body = format!(
            r#"[{{"eventId":1,"occurredAt":1772445600000,"subscriptionType":"contact.propertyChange","objectId":7,"propertyName":"{name}","propertyValue":"{value}"}}]"#
        );
        let p = hubspot_parse(body.as_bytes()).unwrap();
        assert!(p.items.is_empty(), "{name}={value}: {:?}", p.items);
        assert_eq!(p.ignored.len(), 1, "{name}={value}");
        assert!(
            p.ignored[0].reason.ends_with("is not a sales decision"),
            "{}",
            p.ignored[0].reason
        );
    }
}

#[test]
fn hubspot_merge_with_a_new_record_merges_both_old_ids_into_it() {
    let body = br#"[{"eventId":9,"occurredAt":1772445600000,"subscriptionType":"contact.merge","objectId":300,"primaryObjectId":100,"mergedObjectIds":[200,200],"newObjectId":300}]"#;
    let p = hubspot_parse(body).unwrap();
    assert_eq!(
        p.items,
        vec![Inbound::Merge {
            into: hs(300),
            merged: vec![hs(200), hs(100)],
        }]
    );
}

#[test]
fn hubspot_ignores_restore_deal_and_unknown_types_but_erases_deletions() {
    let body = br#"[
      {"eventId":1,"occurredAt":1772445600000,"subscriptionType":"contact.restore","objectId":1},
      {"eventId":2,"occurredAt":1772445600000,"subscriptionType":"deal.creation","objectId":2},
      {"eventId":3,"occurredAt":1772445600000,"subscriptionType":"ticket.creation","objectId":3},
      {"eventId":4,"occurredAt":1772445600000,"subscriptionType":"contact.deletion","objectId":4}
    ]"#;
    let p = hubspot_parse(body).unwrap();
    assert_eq!(
        p.items,
        vec![Inbound::Erase {
            lead: hs(4),
            reason: "contact deleted in HubSpot".into()
        }]
    );
    let indexes: Vec<usize> = p.ignored.iter().map(|i| i.index).collect();
    assert_eq!(indexes, [0, 1, 2]);
    assert!(p.ignored[0].reason.starts_with("contact.restore"));
    assert_eq!(
        p.ignored[2].reason,
        "unknown subscription type `ticket.creation`"
    );
}

#[test]
fn hubspot_bad_input_names_the_field() {
    let ok = r#"{"eventId":1,"occurredAt":1772445600000,"subscriptionType":"contact.creation","objectId":5}"#;
    assert_field(hubspot_parse(ok.as_bytes()), "$", "array");
    assert_field(
        hubspot_parse(
            format!(r#"[{ok},{{"eventId":2,"occurredAt":1772445600000,"subscriptionType":"contact.creation"}}]"#)
                .as_bytes(),
        ),
        "[1].objectId",
        "missing",
    );
    assert_field(
        hubspot_parse(
            br#"[{"eventId":1,"occurredAt":1772445600000,"subscriptionType":"contact.creation","objectId":true}]"#,
        ),
        "[0].objectId",
        "found a boolean",
    );
    assert_field(
        hubspot_parse(
            br#"[{"eventId":1,"occurredAt":"2026-03-02T10:00:00Z","subscriptionType":"contact.creation","objectId":5}]"#,
        ),
        "[0].occurredAt",
        "expected a whole number, found a string",
    );
    assert_field(
        hubspot_parse(
            br#"[{"eventId":1,"occurredAt":9223372036854775807,"subscriptionType":"contact.creation","objectId":5}]"#,
        ),
        "[0].occurredAt",
        "not a usable time",
    );
    assert_field(
        hubspot_parse(br#"[{"eventId":1,"occurredAt":1772445600000,"objectId":5}]"#),
        "[0].subscriptionType",
        "missing",
    );
    assert_field(
        hubspot_parse(
            br#"[{"eventId":1.5,"occurredAt":1772445600000,"subscriptionType":"contact.creation","objectId":5}]"#,
        ),
        "[0].eventId",
        "whole-number id",
    );
    assert_field(
        hubspot_parse(
            br#"[{"eventId":1,"occurredAt":1772445600000,"subscriptionType":"contact.propertyChange","objectId":5}]"#,
        ),
        "[0].propertyName",
        "missing",
    );
    assert_field(
        hubspot_parse(
            br#"[{"eventId":1,"occurredAt":1772445600000,"subscriptionType":"contact.merge","objectId":5,"primaryObjectId":5,"mergedObjectIds":[6,{}]}]"#,
        ),
        "[0].mergedObjectIds[1]",
        "found an object",
    );
    assert_field(hubspot_parse(b"[1]"), "[0]", "expected an object");
}

#[test]
fn hubspot_invalid_json_reports_its_position() {
    let body = b"[\n  {\"eventId\": 1,\n   \"objectId\" 5}\n]";
    match hubspot_parse(body) {
        Err(SourceError::Syntax {
            line,
            column,
            message,
        }) => {
            assert_eq!(line, 3, "{message}");
            assert!(column > 0 && !message.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        hubspot_parse(b""),
        Err(SourceError::Syntax { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// HubSpot workflow webhooks ("Send a webhook" action: one JSON object per request)
//
// Where the shapes come from:
// - HubSpot, "Using webhooks in workflows" (developers.hubspot.com/docs/methods/workflows/
//   webhook_information): the action POSTs "the data for the object going through the
//   workflow ... the exact same data you'd get when pulling that object using the relevant
//   object API", and contact-based workflows include each property's history.
// - That API is the contacts v1 "get a contact by vid" (legacydocs.hubspot.com/docs/methods/
//   contacts/get_contact and the Contacts API overview): `vid`, `canonical-vid`,
//   `merged-vids`, `portal-id`, `is-contact`, `profile-token`, `profile-url`, `properties`
//   as `{"name": {"value": "...", "versions": [{"value", "source-type", "source-id",
//   "source-label", "timestamp", "selected"}]}}` (values are text, times epoch ms as text;
//   `lastmodifieddate` and `associatedcompanyid` always included), `form-submissions`,
//   `list-memberships`, `identity-profiles` (`identities` of type EMAIL / LEAD_GUID with
//   `is-primary`), `merge-audits`. Captured payloads of that shape appear in public code:
//   the Cloud Elements HubSpot event test fixture, Hull's HubSpot connector types
//   (`HubspotReadContact`), and the hubspot-ruby gem's README sample contact.
// - HubSpot's knowledge base, "How to trigger webhooks in HubSpot contact-based workflows"
//   (knowledge.hubspot.com/workflows/how-do-i-use-webhooks-with-hubspot-workflows, 2025-26):
//   the request body either includes all the record's properties or is customized with
//   chosen properties, each sent under a key; retries for up to three days, none after a 4xx
//   other than 429. The Record ID is the `hs_object_id` property (also used by RisingWave's
//   HubSpot workflow-webhook guide, `data->'properties'->>'hs_object_id'`).
// The fixtures are that shape with this project's test data; the customized one keys each
// property by its internal name, as the parser requires.

/// Item `i` of a parse, which must be an event: its lead, account and event.
fn workflow_item(p: &Parsed, i: usize) -> (LeadRef, Option<String>, Event) {
    match p.items.get(i) {
        Some(Inbound::Event {
            lead,
            account,
            event,
        }) => (lead.clone(), account.clone(), event.clone()),
        other => panic!("item {i}: {other:?}"),
    }
}

/// `hubspot:workflow:<object>:<32 hex>`.
fn assert_workflow_id(id: &str, object: &str) {
    let hash = id
        .strip_prefix(&format!("hubspot:workflow:{object}:"))
        .unwrap_or_else(|| panic!("{id}"));
    assert_eq!(hash.len(), 32, "{id}");
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
}

fn lead_of(object: u64, email: &str) -> LeadRef {
    LeadRef {
        email: Some(email.into()),
        crm: Some(CrmRef {
            system: "hubspot",
            id: object.to_string(),
        }),
    }
}

#[test]
fn hubspot_classic_workflow_webhook_becomes_identify_feedback_and_account() {
    let p = hubspot_parse(&fixture("hubspot-workflow-contact.json")).unwrap();
    assert_eq!(p.items.len(), 2, "{:#?}", p.items);
    let (lead, account, identify) = workflow_item(&p, 0);
    assert_eq!(lead, lead_of(5101, "priya.nair@globex.com"));
    assert_eq!(account.as_deref(), Some("hubspot:company:901"));
    assert_workflow_id(&identify.id, "5101");
    // lastmodifieddate, 1772449200250 ms.
    let at = t("2026-03-02T11:00:00.250Z");
    let want = [
        ("email", "Priya.Nair@Globex.com"),
        ("first_name", "Priya"),
        ("last_name", "Nair"),
        ("job_title", "Director of Engineering"),
        ("company", "Globex"),
        ("company_domain", "globex.com"),
        ("company_size", "450"),
        ("annual_revenue", "85000000"),
        ("country", "United States"),
        ("lead_source", "ORGANIC_SEARCH"),
        ("custom.associatedcompanyid", "901"),
        ("custom.hs_analytics_num_page_views", "14"),
        ("custom.createdate", "1772445600000"),
    ]
    .into_iter()
    .fold(
        Event::new(identify.id.clone(), at, EventKind::Identify),
        |e, (k, v)| e.with_property(k, text(v)),
    );
    assert_eq!(
        identify, want,
        "hs_object_id, lastmodifieddate and the stages are not attributes"
    );

    let (lead, account, feedback) = workflow_item(&p, 1);
    assert_eq!(lead, lead_of(5101, "priya.nair@globex.com"));
    assert_eq!(account, None);
    let mut want = Event::new(
        format!("{}:hs_lead_status", identify.id),
        at,
        EventKind::SalesFeedback,
    )
    .with_outcome(FeedbackOutcome::Accepted);
    want.target = Some("hs_lead_status:CONNECTED".into());
    assert_eq!(feedback, want);
    assert_eq!(
        p.ignored,
        ignored(&[(
            0,
            "lifecyclestage `marketingqualifiedlead` is not a sales decision"
        )])
    );
}

#[test]
fn hubspot_customized_workflow_body_maps_like_property_changes() {
    let body = fixture("hubspot-workflow-custom.json");
    let p = hubspot_parse(&body).unwrap();
    assert_eq!(p.items.len(), 2, "{:#?}", p.items);
    let (lead, account, identify) = workflow_item(&p, 0);
    assert_eq!(lead, lead_of(5102, "dana.lee@initech.com"));
    assert_eq!(account, None, "associatedcompanyid is empty");
    assert_workflow_id(&identify.id, "5102");
    assert_eq!(
        identify.occurred_at,
        t("2026-03-02T11:30:00Z"),
        "lastmodifieddate"
    );
    let (_, _, feedback) = workflow_item(&p, 1);
    assert_eq!(feedback.outcome, Some(FeedbackOutcome::Recycled));
    assert_eq!(
        feedback.target.as_deref(),
        Some("hs_lead_status:BAD_TIMING")
    );
    assert_eq!(feedback.id, format!("{}:hs_lead_status", identify.id));
    assert_eq!(
        p.ignored,
        ignored(&[(0, "lifecyclestage `lead` is not a sales decision")])
    );

    // Every property means what a property change of it means: one mapping for both paths.
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(&body) else {
        panic!("the fixture is an object");
    };
    let mut from_changes = std::collections::BTreeMap::new();
    for (name, value) in &fields {
        if [
            "hs_object_id",
            "lastmodifieddate",
            "lifecyclestage",
            "hs_lead_status",
        ]
        .contains(&name.as_str())
        {
            continue;
        }
        let change = serde_json::json!([{"eventId": 1, "occurredAt": 1772445600000i64,
            "subscriptionType": "contact.propertyChange", "objectId": 5102,
            "propertyName": name, "propertyValue": value}]);
        let c = hubspot_parse(change.to_string().as_bytes()).unwrap();
        let (_, _, e) = workflow_item(&c, 0);
        from_changes.extend(e.properties);
    }
    assert_eq!(identify.properties, from_changes);
    assert_eq!(
        identify.properties.get("company_domain"),
        Some(&text("initech.com"))
    );
    assert_eq!(identify.properties.get("company_size"), Some(&text("1200")));
    assert_eq!(
        identify.properties.get("custom.favorite_tool"),
        Some(&text("Figma"))
    );
    assert_eq!(
        identify.properties.get("custom.associatedcompanyid"),
        Some(&AttrValue::Null),
        "an empty value clears"
    );
    // A primary company id sets the account, as a property change of it does.
    let p = hubspot_parse(br#"{"hs_object_id": 5102, "associatedcompanyid": 901}"#).unwrap();
    assert_eq!(
        workflow_item(&p, 0).1.as_deref(),
        Some("hubspot:company:901")
    );
}

#[test]
fn hubspot_workflow_ids_are_stable_across_retries_and_differ_between_enrollments() {
    let body = fixture("hubspot-workflow-contact.json");
    let first = hubspot_parse(&body).unwrap();
    // A retry three days later: the same values, so the same ids and time.
    let retry = hubspot::parse(&body, received() + chrono::TimeDelta::days(3)).unwrap();
    assert_eq!(retry, first);
    // Re-serialized with other whitespace and order, other history and other profiles: the
    // id hashes the property values only.
    let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["properties"]["jobtitle"]["versions"] = serde_json::json!([]);
    v["identity-profiles"][0]["saved-at-timestamp"] = serde_json::json!(1772449999999i64);
    v["profile-token"] = serde_json::Value::Null;
    let reformatted = serde_json::to_vec_pretty(&v).unwrap();
    assert_eq!(hubspot_parse(&reformatted).unwrap(), first);
    // The contact changed and was enrolled again: lastmodifieddate moved, so new ids.
    v["properties"]["lastmodifieddate"]["value"] = serde_json::json!("1772451000000");
    let again = hubspot_parse(&serde_json::to_vec(&v).unwrap()).unwrap();
    let id = |p: &Parsed, i: usize| workflow_item(p, i).2.id;
    assert_ne!(id(&again, 0), id(&first, 0));
    assert_ne!(id(&again, 1), id(&first, 1));
    assert_eq!(
        workflow_item(&again, 0).2.occurred_at,
        t("2026-03-02T11:30:00Z")
    );

    // No lastmodifieddate: the request's arrival is the time, and the id still comes from
    // the values, so a retry arriving later is the same event.
    let bare = br#"{"hs_object_id": "5102", "jobtitle": "CTO"}"#;
    let a = hubspot_parse(bare).unwrap();
    let later = received() + chrono::TimeDelta::hours(8);
    let b = hubspot::parse(bare, later).unwrap();
    assert_eq!(workflow_item(&a, 0).2.occurred_at, received());
    assert_eq!(workflow_item(&b, 0).2.occurred_at, later);
    assert_eq!(id(&a, 0), id(&b, 0));
    let other = hubspot_parse(br#"{"hs_object_id": "5102", "jobtitle": "CEO"}"#).unwrap();
    assert_ne!(id(&other, 0), id(&a, 0));
    // An RFC 3339 lastmodifieddate is read too.
    let iso = hubspot_parse(
        br#"{"hs_object_id": "5102", "lastmodifieddate": "2026-03-02T13:05:00+01:00"}"#,
    )
    .unwrap();
    assert_eq!(
        workflow_item(&iso, 0).2.occurred_at,
        t("2026-03-02T12:05:00Z")
    );
}

#[test]
fn hubspot_workflow_email_falls_back_to_the_primary_identity() {
    let body = br#"{"vid": 77, "canonical-vid": 78, "properties": {"jobtitle": {"value": "CTO"}},
        "identity-profiles": [{"vid": 77, "identities": [
            {"type": "LEAD_GUID", "value": "x"},
            {"type": "EMAIL", "value": "old@acme.io"},
            {"type": "EMAIL", "value": " Ana@Acme.io ", "is-primary": true}]}]}"#;
    let p = hubspot_parse(body).unwrap();
    let (lead, _, identify) = workflow_item(&p, 0);
    assert_eq!(
        lead,
        lead_of(78, "ana@acme.io"),
        "canonical-vid wins over vid"
    );
    assert_workflow_id(&identify.id, "78");
    assert!(
        !identify.properties.contains_key("email"),
        "the identity names the lead only"
    );
}

#[test]
fn hubspot_workflow_webhook_errors_name_the_field() {
    let cases: [(&[u8], &str, &str); 14] = [
        (b"{}", "hs_object_id", "missing"),
        (br#"{"jobtitle": "CTO"}"#, "hs_object_id", "Record ID"),
        (br#"{"properties": {}}"#, "vid", "missing"),
        (
            br#"{"vid": true, "properties": {}}"#,
            "vid",
            "found a boolean",
        ),
        (
            br#"{"vid": 7, "properties": 5}"#,
            "properties",
            "expected an object",
        ),
        (
            br#"{"vid": 7, "properties": {"jobtitle": {"versions": []}}}"#,
            "properties.jobtitle.value",
            "missing",
        ),
        (
            br#"{"vid": 7, "properties": {"jobtitle": {"value": {"a": 1}}}}"#,
            "properties.jobtitle.value",
            "found an object",
        ),
        (
            br#"{"vid": 7, "properties": {"jobtitle": ["CTO"]}}"#,
            "properties.jobtitle",
            "found an array",
        ),
        (
            br#"{"hs_object_id": "7", "jobtitle": {"value": "CTO"}}"#,
            "jobtitle",
            "found an object",
        ),
        (
            br#"{"hs_object_id": true}"#,
            "hs_object_id",
            "found a boolean",
        ),
        (
            br#"{"properties": {"hs_object_id": {"value": ""}}}"#,
            "properties.hs_object_id.value",
            "blank",
        ),
        (
            br#"{"hs_object_id": "7", "lastmodifieddate": "yesterday"}"#,
            "lastmodifieddate",
            "not a time",
        ),
        (
            br#"{"vid": 7, "properties": {"lastmodifieddate": {"value": "99999999999999999999"}}}"#,
            "properties.lastmodifieddate.value",
            "not a time",
        ),
        (
            br#""text""#,
            "$",
            "or a JSON object (a workflow webhook), found a string",
        ),
    ];
    for (body, path, contains) in cases {
        assert_field(hubspot_parse(body), path, contains);
    }
    // One app webhook event sent without its array is not taken for a workflow webhook.
    assert_field(
        hubspot_parse(
            br#"{"eventId":1,"occurredAt":1772445600000,"subscriptionType":"contact.creation","objectId":5}"#,
        ),
        "$",
        "found one event object",
    );
}

#[test]
fn hubspot_company_and_deal_workflows_are_ignored_with_the_reason() {
    for (body, reason) in [
        (
            &br#"{"portalId": 62515, "companyId": 901, "isDeleted": false, "properties": {"name": {"value": "Globex"}}}"#[..],
            "workflow webhook for a company (companyId 901): only contact-based workflows name a lead",
        ),
        (
            br#"{"portalId": 62515, "dealId": 3301, "isDeleted": false, "properties": {}}"#,
            "workflow webhook for a deal (dealId 3301): only contact-based workflows name a lead",
        ),
    ] {
        let p = hubspot_parse(body).unwrap();
        assert!(p.items.is_empty());
        assert_eq!(p.ignored, ignored(&[(0, reason)]));
    }
}

// ---------------------------------------------------------------------------------------------
// SendGrid

#[test]
fn sendgrid_fixture_parses_into_the_expected_items() {
    let body = fixture("sendgrid.json");
    assert!(body.ends_with(b"\r\n"), "real bodies end in CRLF");
    let parsed = sendgrid::parse(&body).unwrap();
    let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
    let want = vec![
        ev(
            LeadRef::email("ana@acme.io"),
            Some("acme.io"),
            Event::new(
                "sendgrid:FOTFFO0ecsBE-zxFXfs6WA==",
                at(1772445900),
                EventKind::EmailOpen,
            )
            .with_target("q1-launch")
            .with_property("campaign", text("spring")),
        ),
        ev(
            LeadRef::email("bo@gmail.com"),
            None,
            Event::new(
                "sendgrid:JCUkTNBHx1G5jtMgFoVKmA==",
                at(1772445660),
                EventKind::EmailOpen,
            )
            .with_target("9a8b7c6d5e4")
            .machine(),
        ),
        ev(
            LeadRef::email("ana@acme.io"),
            Some("acme.io"),
            Event::new(
                "sendgrid:AQeNkE_4QPqQlcRfr3SNDw==",
                at(1772446200),
                EventKind::EmailClick,
            )
            .with_url("https://acme-saas.example/pricing?utm_source=email")
            .with_target("q1-launch"),
        ),
        ev(
            LeadRef::email("cy@initech.com"),
            Some("initech.com"),
            Event::new(
                "sendgrid:LkRGqjxsQeiOoyRKxB3a2Q==",
                at(1772446800),
                EventKind::EmailUnsubscribe,
            )
            .with_target("12345")
            .with_property("asm_group_id", AttrValue::Number(42.0)),
        ),
        ev(
            LeadRef::email("dee@umbrella.com"),
            Some("umbrella.com"),
            Event::new(
                "sendgrid:Q2xVRzRnSTVRdXVXQWdtRw==",
                at(1772447400),
                EventKind::EmailSpamReport,
            )
            .with_target("5e4d3c2b1a0"),
        ),
        ev(
            LeadRef::email("ed@nowhere-corp.com"),
            Some("nowhere-corp.com"),
            Event::new(
                "sendgrid:bWGeVjRnQjyGB2C0x3xTYQ==",
                at(1772448000),
                EventKind::EmailBounce,
            )
            .with_target("transactional"),
        ),
    ];
    assert_items(&parsed, &want);
    assert_eq!(
        parsed.ignored,
        ignored(&[
            (0, "processed: a delivery receipt, not engagement"),
            (1, "delivered: a delivery receipt, not engagement"),
            (
                8,
                "bounce of type blocked: a temporary refusal by the receiving server, not a bad address"
            ),
            (9, "deferred: a delivery receipt, not engagement"),
        ])
    );
}

#[test]
fn sendgrid_ignored_events_need_no_other_fields() {
    let p = sendgrid::parse(
        br#"[{"event":"dropped"},{"event":"group_resubscribe"},{"event":"mystery"}]"#,
    )
    .unwrap();
    assert!(p.items.is_empty());
    assert_eq!(p.ignored.len(), 3);
    assert_eq!(p.ignored[2].reason, "unknown event `mystery`");
}

#[test]
fn sendgrid_bad_input_names_the_field() {
    let base = r#""email":"a@b.io","timestamp":1772445600,"sg_event_id":"x1""#;
    assert_field(sendgrid::parse(b"{}"), "$", "array");
    assert_field(
        sendgrid::parse(format!(r#"[{{{base},"event":"click"}}]"#).as_bytes()),
        "[0].url",
        "missing",
    );
    assert_field(
        sendgrid::parse(
            br#"[{"email":"a@b.io","timestamp":"1772445600","sg_event_id":"x","event":"open"}]"#,
        ),
        "[0].timestamp",
        "found a string",
    );
    assert_field(
        sendgrid::parse(format!(r#"[{{{base},"event":"open","category":7}}]"#).as_bytes()),
        "[0].category",
        "a string or an array of strings",
    );
    assert_field(
        sendgrid::parse(format!(r#"[{{{base},"event":"open","category":["a",7]}}]"#).as_bytes()),
        "[0].category[1]",
        "found a number",
    );
    assert_field(
        sendgrid::parse(br#"[{"timestamp":1772445600,"sg_event_id":"x","event":"open"}]"#),
        "[0].email",
        "missing",
    );
    assert_field(
        sendgrid::parse(br#"[{"email":"not-an-email","timestamp":1772445600,"sg_event_id":"x","event":"open"}]"#),
        "[0].email",
        "not an email address",
    );
    assert_field(
        sendgrid::parse(br#"[{"email":"a@b.io","timestamp":1772445600,"event":"open"}]"#),
        "[0].sg_event_id",
        "missing",
    );
    assert_field(
        sendgrid::parse(br#"[{"event":5}]"#),
        "[0].event",
        "found a number",
    );
    assert!(matches!(
        sendgrid::parse(b"[{\"event\":\"open\""),
        Err(SourceError::Syntax { line: 1, .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Marketo

#[test]
fn marketo_json_fixture_parses_with_an_identify_for_its_attributes() {
    let parsed = marketo::parse(&fixture("marketo.json"), "application/json").unwrap();
    let lead = LeadRef {
        email: Some("gus.ortiz@hooli.com".into()),
        crm: Some(CrmRef {
            system: "marketo",
            id: "318224".into(),
        }),
    };
    let at = t("2026-03-02T10:05:00Z");
    let want = vec![
        ev(
            lead.clone(),
            Some("hooli.com"),
            Event::new("marketo:visit_webpage:88451201", at, EventKind::PageView)
                .with_url("https://acme-saas.example/pricing")
                .with_target("Pricing"),
        ),
        ev(
            lead,
            Some("hooli.com"),
            Event::new(
                "marketo:visit_webpage:88451201:identify",
                at,
                EventKind::Identify,
            )
            .with_property("email", text("gus.ortiz@hooli.com"))
            .with_property("first_name", text("Gus"))
            .with_property("last_name", text("Ortiz"))
            .with_property("job_title", text("Director of IT"))
            .with_property("company", text("Hooli"))
            .with_property("company_domain", text("hooli.com"))
            .with_property("company_size", text("1200"))
            .with_property("annual_revenue", AttrValue::Number(250_000_000.0))
            .with_property("country", text("United States")),
        ),
    ];
    assert_items(&parsed, &want);
    assert!(parsed.ignored.is_empty());
}

#[test]
fn marketo_form_fixture_parses_the_same_fields() {
    let body = fixture("marketo.form");
    let parsed = marketo::parse(&body, "application/x-www-form-urlencoded; charset=UTF-8").unwrap();
    let lead = LeadRef {
        email: Some("ines@initrode.com".into()),
        crm: Some(CrmRef {
            system: "marketo",
            id: "318225".into(),
        }),
    };
    let at = t("2026-03-02T09:20:00Z");
    let want = vec![
        ev(
            lead.clone(),
            Some("initrode.com"),
            Event::new("marketo:fill_out_form:88451302", at, EventKind::FormSubmit)
                .with_target("Demo Request - EMEA"),
        ),
        ev(
            lead,
            Some("initrode.com"),
            Event::new(
                "marketo:fill_out_form:88451302:identify",
                at,
                EventKind::Identify,
            )
            .with_property("email", text("ines@initrode.com"))
            .with_property("first_name", text("Inès"))
            .with_property("job_title", text("Head of Data"))
            .with_property("custom.preferred_language", text("fr")),
        ),
    ];
    assert_items(&parsed, &want);
    // The same body labelled form-encoded but holding JSON (Marketo's default label) is JSON.
    let json = fixture("marketo.json");
    let as_form = marketo::parse(&json, "application/x-www-form-urlencoded").unwrap();
    assert_eq!(as_form, marketo::parse(&json, "application/json").unwrap());
}

#[test]
fn marketo_activities_map_to_kinds() {
    let cases = [
        ("click_email", EventKind::EmailClick),
        ("Click Email", EventKind::EmailClick),
        ("open_email", EventKind::EmailOpen),
        ("unsubscribe_email", EventKind::EmailUnsubscribe),
        ("email_bounced", EventKind::EmailBounce),
        ("new_lead", EventKind::Identify),
        ("change_data_value", EventKind::Identify),
        ("interesting_moment", EventKind::Custom),
    ];
    for (activity, kind) in cases {
        let body = format!(
            r#"{{"leadId":"{{{{lead.Id}}}}","email":"a@b.io","activity":"{activity}","occurredAt":"2026-03-02T10:05:00Z","title":"CTO"}}"#
        );
        let p = marketo::parse(body.as_bytes(), "application/json").unwrap();
        let Some(Inbound::Event { event, lead, .. }) = p.items.first() else {
            panic!("{activity}: {p:?}");
        };
        assert_eq!(event.kind, kind, "{activity}");
        assert_eq!(lead.crm, None, "an unfilled leadId token is absent");
        // Without activityId the id falls back to who, what and when.
        assert!(event.id.starts_with("marketo:a@b.io:"), "{}", event.id);
        if kind == EventKind::Identify {
            assert_eq!(
                p.items.len(),
                1,
                "{activity}: attributes ride on the identify"
            );
            assert_eq!(event.properties.get("job_title"), Some(&text("CTO")));
        } else {
            assert_eq!(p.items.len(), 2, "{activity}: plus an identify");
        }
        if kind == EventKind::Custom {
            assert_eq!(event.name.as_deref(), Some("interesting_moment"));
        }
    }
    let p = marketo::parse(
        br#"{"email":"a@b.io","activity":"send_email","occurredAt":"2026-03-02T10:05:00Z"}"#,
        "application/json",
    )
    .unwrap();
    assert!(p.items.is_empty());
    assert_eq!(
        p.ignored,
        ignored(&[(0, "unknown Marketo activity `send_email`")])
    );
}

/// "Click Link" is a click on a link of a web page (Munchkin or a Marketo landing page), not an
/// email click: a `custom` event named `click_link` whose link is its url and target.
#[test]
fn marketo_click_link_is_a_web_link_click_not_an_email_click() {
    let body = br#"{"leadId":318224,"email":"gus.ortiz@hooli.com","activity":"Click Link","activityId":"88451999","occurredAt":"2026-03-02T10:06:00Z","url":" https://acme-saas.example/docs/api ","asset":"Docs nav"}"#;
    let p = marketo::parse(body, "application/json").unwrap();
    let lead = LeadRef {
        email: Some("gus.ortiz@hooli.com".into()),
        crm: Some(CrmRef {
            system: "marketo",
            id: "318224".into(),
        }),
    };
    let mut want = Event::new(
        "marketo:click_link:88451999",
        t("2026-03-02T10:06:00Z"),
        EventKind::Custom,
    )
    .with_url("https://acme-saas.example/docs/api")
    .with_target("https://acme-saas.example/docs/api")
    .with_property("asset", text("Docs nav"));
    want.name = Some("click_link".into());
    assert_items(&p, &[ev(lead, Some("hooli.com"), want)]);

    // An email click keeps its kind, its link and its asset as target.
    let body = br#"{"leadId":318224,"activity":"click_email","activityId":"7","occurredAt":"2026-03-02T10:06:00Z","url":"https://acme-saas.example/pricing","asset":"March newsletter"}"#;
    let p = marketo::parse(body, "application/json").unwrap();
    let Some(Inbound::Event { event, .. }) = p.items.first() else {
        panic!("{p:?}");
    };
    assert_eq!(event.kind, EventKind::EmailClick);
    assert_eq!(
        event.url.as_deref(),
        Some("https://acme-saas.example/pricing")
    );
    assert_eq!(event.target.as_deref(), Some("March newsletter"));

    // A link click without its link says nothing a rule could use.
    assert_field(
        marketo::parse(
            br#"{"leadId":1,"activity":"click_link","occurredAt":"2026-03-02 10:05:00","asset":"Docs nav"}"#,
            "application/json",
        ),
        "url",
        "link URL",
    );
}

/// `{{system.dateTime}}` prints the instance's wall clock without an offset: `parse_in` reads
/// it in the instance's zone, daylight saving included; a written offset always wins.
#[test]
fn marketo_times_without_an_offset_are_read_in_the_instance_zone() {
    let chicago: marketo::Tz = "America/Chicago".parse().unwrap();
    let at = |occurred: &str, zone: marketo::Tz| {
        let body = format!(r#"{{"leadId":7,"activity":"open_email","occurredAt":"{occurred}"}}"#);
        let p = marketo::parse_in(body.as_bytes(), "application/json", zone).unwrap();
        match p.items.first() {
            Some(Inbound::Event { event, .. }) => event.occurred_at,
            other => panic!("{occurred}: {other:?}"),
        }
    };
    // Winter (CST, UTC-6) and summer (CDT, UTC-5) wall clocks.
    assert_eq!(
        at("2026-03-02 10:05:00", chicago),
        t("2026-03-02T16:05:00Z")
    );
    assert_eq!(
        at("2026-07-02 10:05:00", chicago),
        t("2026-07-02T15:05:00Z")
    );
    assert_eq!(at("2026-03-02 10:05", chicago), t("2026-03-02T16:05:00Z"));
    // Written offsets, `Z` and a ` UTC` suffix keep their meaning whatever the zone.
    for (written, instant) in [
        ("2026-03-02T10:05:00+01:00", "2026-03-02T09:05:00Z"),
        ("2026-03-02 10:05:00-0600", "2026-03-02T16:05:00Z"),
        ("2026-03-02T10:05:00Z", "2026-03-02T10:05:00Z"),
        ("2026-03-02 10:05:00 UTC", "2026-03-02T10:05:00Z"),
    ] {
        assert_eq!(at(written, chicago), t(instant), "{written}");
    }
    // Without a zone (and through `parse`) a wall clock is UTC.
    assert_eq!(
        at("2026-03-02 10:05:00", marketo::Tz::UTC),
        t("2026-03-02T10:05:00Z")
    );
    let body = br#"{"leadId":7,"activity":"open_email","occurredAt":"2026-03-02 10:05:00"}"#;
    assert_eq!(
        marketo::parse(body, "application/json").unwrap(),
        marketo::parse_in(body, "application/json", marketo::Tz::UTC).unwrap()
    );
    // Clocks go back at 02:00 CDT on 1 November 2026: 01:30 happens twice; the first counts.
    assert_eq!(
        at("2026-11-01 01:30:00", chicago),
        t("2026-11-01T06:30:00Z")
    );
    // Clocks skip 02:00-03:00 on 8 March 2026: such a time cannot come from the instance.
    assert_field(
        marketo::parse_in(
            br#"{"leadId":7,"activity":"open_email","occurredAt":"2026-03-08 02:30:00"}"#,
            "application/json",
            chicago,
        ),
        "occurredAt",
        "does not exist in America/Chicago",
    );
    // Form bodies too; the fallback id follows the instant.
    let p = marketo::parse_in(
        b"email=ana%40acme.io&activity=open_email&occurredAt=2026-03-02+10%3A05%3A00",
        "application/x-www-form-urlencoded",
        chicago,
    )
    .unwrap();
    let Some(Inbound::Event { event, .. }) = p.items.first() else {
        panic!("{p:?}");
    };
    let instant = t("2026-03-02T16:05:00Z");
    assert_eq!(event.occurred_at, instant);
    assert_eq!(
        event.id,
        format!(
            "marketo:ana@acme.io:open_email:{}",
            instant.timestamp_millis()
        )
    );
}

#[test]
fn marketo_bad_input_names_the_field() {
    let json = "application/json";
    assert_field(
        marketo::parse(
            br#"{"email":"a@b.io","occurredAt":"2026-03-02 10:05:00"}"#,
            json,
        ),
        "activity",
        "missing",
    );
    assert_field(
        marketo::parse(
            br#"{"email":"a@b.io","activity":"open_email","occurredAt":"next tuesday"}"#,
            json,
        ),
        "occurredAt",
        "not RFC 3339",
    );
    assert_field(
        marketo::parse(
            br#"{"leadId":"{{lead.Id}}","activity":"open_email","occurredAt":"2026-03-02 10:05:00"}"#,
            json,
        ),
        "leadId",
        "leadId or email",
    );
    assert_field(
        marketo::parse(
            br#"{"leadId":1,"activity":"visit_webpage","occurredAt":"2026-03-02 10:05:00"}"#,
            json,
        ),
        "url",
        "page URL",
    );
    assert_field(
        marketo::parse(
            br#"{"leadId":1,"activity":"open_email","occurredAt":"2026-03-02 10:05:00","title":{"x":1}}"#,
            json,
        ),
        "title",
        "found an object",
    );
    assert_field(
        marketo::parse(
            b"activity=open_email&email=nobody&occurredAt=2026-03-02+10:05:00",
            "application/x-www-form-urlencoded",
        ),
        "email",
        "not an email address",
    );
    assert_field(
        marketo::parse(b"<lead/>", "application/xml"),
        "content-type",
        "application/xml",
    );
    // Marketo's encodings are JSON and Form/Url: text/plain or no type is refused, JSON-looking
    // body or not, as the ingest handler does.
    let form_body = b"leadId=1&activity=open_email&occurredAt=2026-03-02+10:05:00";
    let json_body = br#"{"leadId":1,"activity":"open_email","occurredAt":"2026-03-02 10:05:00"}"#;
    for ct in [
        "text/plain",
        "text/plain; charset=UTF-8",
        "",
        "text/xml",
        "text/json",
    ] {
        for body in [&form_body[..], &json_body[..]] {
            assert_field(marketo::parse(body, ct), "content-type", "neither");
        }
    }
    for ct in [
        "application/json",
        "application/json; charset=UTF-8",
        "application/x-www-form-urlencoded; charset=UTF-8",
    ] {
        assert!(marketo::parse(json_body, ct).is_ok(), "{ct}");
    }
    assert!(marketo::parse(form_body, "application/x-www-form-urlencoded").is_ok());
    assert_field(marketo::parse(b"[1]", json), "$", "one JSON object");
    assert!(matches!(
        marketo::parse(b"{\"activity\": }", json),
        Err(SourceError::Syntax {
            line: 1,
            column: 14,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// Generic events

#[test]
fn events_single_object_parses() {
    let parsed = events::parse(&fixture("events-single.json")).unwrap();
    let want = vec![ev(
        LeadRef::email("ana@acme.io"),
        Some("acme.io"),
        Event::new(
            "events:web-7f3a91",
            t("2026-03-02T10:05:00Z"),
            EventKind::PageView,
        )
        .with_url("https://acme-saas.example/pricing")
        .with_property("referrer", text("https://www.google.com/"))
        .with_property("logged_in", AttrValue::Bool(false)),
    )];
    assert_items(&parsed, &want);
    assert!(parsed.ignored.is_empty());
}

#[test]
fn events_array_parses_and_ignores_unknown_types() {
    let parsed = events::parse(&fixture("events-array.json")).unwrap();
    let ana = || LeadRef::email("ana@acme.io");
    let want = vec![
        ev(
            ana(),
            Some("acme.io"),
            Event::new(
                "events:vid-1",
                t("2026-03-02T10:10:00Z"),
                EventKind::VideoWatched,
            )
            .with_target("product-tour")
            .with_percent(75.0),
        ),
        ev(
            ana(),
            Some("acme.io"),
            Event::new(
                "events:idn-1",
                t("2026-03-02T10:11:00Z"),
                EventKind::Identify,
            )
            .with_property("job_title", text("CTO"))
            .with_property("company_size", AttrValue::Number(250.0))
            .with_property("custom.plan_interest", text("enterprise"))
            .with_property("phone", AttrValue::Null),
        ),
        ev(
            LeadRef::email("bo@gmail.com"),
            None,
            Event::new(
                "events:frm-1",
                t("2026-03-02T10:12:00.5Z"),
                EventKind::FormSubmit,
            )
            .with_target("contact-sales"),
        ),
        ev(
            LeadRef::email("bo@gmail.com"),
            None,
            Event::new(
                "events:frm-1:identify",
                t("2026-03-02T10:12:00.5Z"),
                EventKind::Identify,
            )
            .with_property("company", text("Bo Consulting"))
            .with_property("country", text("DE")),
        ),
    ];
    assert_items(&parsed, &want);
    assert_eq!(
        parsed.ignored,
        ignored(&[(3, "unknown event type `teleport`")])
    );
}

#[test]
fn events_batch_object_parses() {
    let parsed = events::parse(&fixture("events-batch.json")).unwrap();
    let ana = || LeadRef::email("ana@acme.io");
    let want = vec![
        ev(
            ana(),
            Some("acme.io"),
            Event::new(
                "events:app-991",
                t("2026-03-03T09:00:00Z"),
                EventKind::Custom,
            )
            .with_name("invited_teammate")
            .with_property("seats", AttrValue::Number(3.0)),
        ),
        ev(
            ana(),
            Some("acme.io"),
            Event::new(
                "events:crm-12",
                t("2026-03-10T16:30:00Z"),
                EventKind::SalesFeedback,
            )
            .with_outcome(FeedbackOutcome::Won),
        ),
        ev(
            ana(),
            Some("acme.io"),
            Event::new(
                "events:mail-5",
                t("2026-03-03T09:30:00Z"),
                EventKind::EmailClick,
            )
            .with_url("https://acme-saas.example/webinar")
            .with_target("march-newsletter"),
        ),
    ];
    assert_items(&parsed, &want);
    assert_eq!(
        parsed.ignored,
        ignored(&[(3, "unknown event type `heartbeat`")])
    );
    assert_eq!(events::parse(b"[]").unwrap(), Parsed::default());
    assert_eq!(
        events::parse(br#"{"events":[]}"#).unwrap(),
        Parsed::default()
    );
}

#[test]
fn events_bad_input_names_the_field() {
    let base = r#""id":"e1","email":"a@b.io","timestamp":"2026-03-02T10:05:00Z""#;
    let one = |extra: &str| format!("[{{{base},{extra}}}]");
    assert_field(
        events::parse(one(r#""type":"video_watched","percent":150"#).as_bytes()),
        "[0].percent",
        "150 is not between 0 and 100",
    );
    assert_field(
        events::parse(one(r#""type":"video_watched","percent":-1"#).as_bytes()),
        "[0].percent",
        "not between 0 and 100",
    );
    assert_field(
        events::parse(one(r#""type":"video_watched","percent":"50""#).as_bytes()),
        "[0].percent",
        "expected a number, found a string",
    );
    assert_field(
        events::parse(format!(r#"{{"events":[{{{base},"type":"page_view"}}]}}"#).as_bytes()),
        "events[0].url",
        "page URL",
    );
    assert_field(
        events::parse(format!(r#"{{{base},"type":"page_view"}}"#).as_bytes()),
        "url",
        "missing",
    );
    assert_field(
        events::parse(one(r#""type":"custom""#).as_bytes()),
        "[0].name",
        "needs a name",
    );
    assert_field(
        events::parse(one(r#""type":"sales_feedback""#).as_bytes()),
        "[0].outcome",
        "missing",
    );
    assert_field(
        events::parse(one(r#""type":"sales_feedback","outcome":"maybe""#).as_bytes()),
        "[0].outcome",
        "`maybe` is not one of",
    );
    assert_field(
        events::parse(one(r#""type":"page_view","url":"/x","outcome":"won""#).as_bytes()),
        "[0].outcome",
        "only sales_feedback",
    );
    assert_field(
        events::parse(
            br#"[{"id":"e1","type":"email_open","email":"a@b.io","timestamp":"2026-03-02 10:05:00"}]"#,
        ),
        "[0].timestamp",
        "RFC 3339",
    );
    assert_field(
        events::parse(br#"[{"id":"e1","type":"email_open","timestamp":"2026-03-02T10:05:00Z"}]"#),
        "[0].email",
        "missing",
    );
    assert_field(
        events::parse(
            br#"[{"id":"e1","type":"email_open","email":"a@b.io","timestamp":1772445900}]"#,
        ),
        "[0].timestamp",
        "expected a string, found a number",
    );
    assert_field(
        events::parse(one(r#""type":"identify","traits":{"jobtitle":"CTO"}"#).as_bytes()),
        "[0].traits.jobtitle",
        "unknown attribute `jobtitle`",
    );
    assert_field(
        events::parse(one(r#""type":"identify","traits":{"job_title":["CTO"]}"#).as_bytes()),
        "[0].traits.job_title",
        "found an array",
    );
    assert_field(
        events::parse(one(r#""type":"identify","properties":{"a":1}"#).as_bytes()),
        "[0].properties",
        "traits",
    );
    assert_field(
        events::parse(
            br#"[{"type":"email_open","email":"a@b.io","timestamp":"2026-03-02T10:05:00Z"}]"#,
        ),
        "[0].id",
        "missing",
    );
    assert_field(
        events::parse(br#"{"events":{}}"#),
        "events",
        "expected an array",
    );
    assert_field(events::parse(b"42"), "$", "expected an event object");
    assert_field(
        events::parse(b"[\"e1\"]"),
        "[0]",
        "expected an object, found a string",
    );
    match events::parse(b"{\n\"id\": \"e1\",\n\"type\": page_view}") {
        Err(SourceError::Syntax { line, column, .. }) => assert_eq!((line, column), (3, 9)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn events_unknown_type_is_ignored_even_with_odd_fields() {
    let p = events::parse(br#"[{"type":"hologram","percent":900}]"#).unwrap();
    assert!(p.items.is_empty());
    assert_eq!(p.ignored, ignored(&[(0, "unknown event type `hologram`")]));
}

// ---------------------------------------------------------------------------------------------
// Robustness: nothing panics, and every error says something.

fn check(r: Result<Parsed, SourceError>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        let said = match &e {
            SourceError::Syntax { message, .. } => message.clone(),
            SourceError::Field { path, problem } => {
                prop_assert!(!path.is_empty(), "empty path: {e:?}");
                problem.clone()
            }
        };
        prop_assert!(!said.trim().is_empty(), "empty message: {e:?}");
    }
    Ok(())
}

/// A fixture with some bytes replaced or inserted, then maybe truncated.
fn mangle(mut body: Vec<u8>, edits: &[(usize, u8, bool)], truncate: Option<usize>) -> Vec<u8> {
    for (at, byte, insert) in edits {
        let at = at % (body.len() + 1);
        if *insert || at == body.len() {
            body.insert(at, *byte);
        } else {
            body[at] = *byte;
        }
    }
    if let Some(n) = truncate {
        body.truncate(n % (body.len() + 1));
    }
    body
}

/// Bytes biased towards JSON and form syntax, so mutations reach past the first character.
fn syntax_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        proptest::sample::select(b"{}[]\",:0123456789.-eE truefalsnul@=&%+{}".to_vec()),
    ]
}

const FIXTURES: [&str; 9] = [
    "hubspot.json",
    "hubspot-workflow-contact.json",
    "hubspot-workflow-custom.json",
    "sendgrid.json",
    "marketo.json",
    "marketo.form",
    "events-single.json",
    "events-array.json",
    "events-batch.json",
];

/// Property names that mean something to the workflow parser, and any other.
fn property_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "hs_object_id",
            "lastmodifieddate",
            "email",
            "website",
            "domain",
            "jobtitle",
            "numberofemployees",
            "associatedcompanyid",
            "lifecyclestage",
            "hs_lead_status",
            "canonical-vid",
            "vid",
            "companyId",
            "dealId",
            "properties",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,12}",
    ]
}

/// Any JSON value, biased towards the ones the parser reads (ids, times, statuses).
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        proptest::sample::select(vec![
            "",
            " ",
            "5101",
            "1772449200250",
            "99999999999999999999",
            "2026-03-02T10:00:00Z",
            "CONNECTED",
            "customer",
            "https://www.acme.io/x",
            "a@b.co",
            "-1",
            "1.5",
        ])
        .prop_map(|s| json!(s)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map(property_name(), inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn all_parsers(body: &[u8], content_type: &str) -> Result<(), TestCaseError> {
    check(hubspot_parse(body))?;
    check(sendgrid::parse(body))?;
    check(marketo::parse(body, content_type))?;
    check(marketo::parse(body, "application/json"))?;
    check(marketo::parse(body, "application/x-www-form-urlencoded"))?;
    check(events::parse(body))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400), ct in ".{0,40}") {
        all_parsers(&body, &ct)?;
    }

    #[test]
    fn mangled_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        edits in proptest::collection::vec((any::<usize>(), syntax_byte(), any::<bool>()), 0..6),
        truncate in proptest::option::of(any::<usize>()),
    ) {
        let body = mangle(fixture(FIXTURES[which]), &edits, truncate);
        all_parsers(&body, "")?;
    }

    #[test]
    fn hubspot_mangled_never_panics(
        edits in proptest::collection::vec((any::<usize>(), syntax_byte(), any::<bool>()), 1..4),
        truncate in proptest::option::of(any::<usize>()),
    ) {
        check(hubspot_parse(&mangle(fixture("hubspot.json"), &edits, truncate)))?;
    }

    #[test]
    fn hubspot_workflow_mangled_never_panics(
        custom in any::<bool>(),
        edits in proptest::collection::vec((any::<usize>(), syntax_byte(), any::<bool>()), 1..4),
        truncate in proptest::option::of(any::<usize>()),
        received_ms in 0i64..4_102_444_800_000,
    ) {
        let name = if custom { "hubspot-workflow-custom.json" } else { "hubspot-workflow-contact.json" };
        let received = DateTime::from_timestamp_millis(received_ms).unwrap_or_else(received);
        check(hubspot::parse(&mangle(fixture(name), &edits, truncate), received))?;
    }

    /// Workflow payloads built from parts, so the mutations reach every branch: any value
    /// (property entry, id, time) in either shape either parses or fails with a path.
    #[test]
    fn hubspot_workflow_payloads_never_panic(
        classic in any::<bool>(),
        vid in proptest::option::of(json_value()),
        props in proptest::collection::vec((property_name(), json_value()), 0..8),
        wrap in proptest::collection::vec(any::<bool>(), 8),
    ) {
        let mut fields = serde_json::Map::new();
        for (i, (name, value)) in props.into_iter().enumerate() {
            // In the classic shape, most entries are {"value": ..., "versions": [...]}.
            let value = if classic && wrap[i] {
                serde_json::json!({"value": value, "versions": []})
            } else {
                value
            };
            fields.insert(name, value);
        }
        let mut body = serde_json::Map::new();
        if let Some(vid) = vid {
            body.insert("vid".into(), vid);
        }
        if classic {
            body.insert("properties".into(), serde_json::Value::Object(fields));
        } else {
            body.extend(fields);
        }
        let bytes = serde_json::to_vec(&serde_json::Value::Object(body)).unwrap_or_default();
        let r = hubspot_parse(&bytes);
        if let Ok(p) = &r {
            // A parsed workflow webhook is one identify (then feedback), or one ignored record.
            prop_assert!(!p.items.is_empty() || p.ignored.len() == 1, "{p:?}");
        }
        check(r)?;
    }

    #[test]
    fn sendgrid_mangled_never_panics(
        edits in proptest::collection::vec((any::<usize>(), syntax_byte(), any::<bool>()), 1..4),
        truncate in proptest::option::of(any::<usize>()),
    ) {
        check(sendgrid::parse(&mangle(fixture("sendgrid.json"), &edits, truncate)))?;
    }

    #[test]
    fn marketo_mangled_never_panics(
        form in any::<bool>(),
        edits in proptest::collection::vec((any::<usize>(), syntax_byte(), any::<bool>()), 1..4),
        truncate in proptest::option::of(any::<usize>()),
    ) {
        let (name, ct) = if form {
            ("marketo.form", "application/x-www-form-urlencoded")
        } else {
            ("marketo.json", "application/json")
        };
        let body = mangle(fixture(name), &edits, truncate);
        check(marketo::parse(&body, ct))?;
        check(marketo::parse_in(&body, ct, marketo::Tz::America__Chicago))?;
    }

    #[test]
    fn events_mangled_never_panics(
        which in FIXTURES.len() - 3..FIXTURES.len(),
        edits in proptest::collection::vec((any::<usize>(), syntax_byte(), any::<bool>()), 1..4),
        truncate in proptest::option::of(any::<usize>()),
    ) {
        check(events::parse(&mangle(fixture(FIXTURES[which]), &edits, truncate)))?;
    }
}
