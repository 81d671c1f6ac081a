//! The demo's seeded generator (`cli/src/demo/generate.rs`): its sample through the real ingest
//! handler with `models/example.toml` (signatures, formats, nothing unknown), its determinism,
//! and whether the personas end up where the model should put them.

#[allow(dead_code)]
#[path = "../src/demo/generate.rs"]
mod generate;

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use generate::{generate, DemoConfig, DemoSecrets, Persona, Sample, EVENTS, HUBSPOT, SENDGRID};
use leadscore_app::config::IngestConfig;
use leadscore_app::ingest::handle;
use leadscore_domain::{LeadState, Points, Stage};
use leadscore_store::{Alias, LeadStore, MemoryStore};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const MODEL: &str = include_str!("../../models/example.toml");

fn ingest_config(secrets: &DemoSecrets) -> IngestConfig {
    let vars: HashMap<&str, String> = secrets.ingest_vars().into_iter().collect();
    IngestConfig::from_lookup(|k| vars.get(k).cloned(), MODEL, "models/example.toml")
        .expect("the demo's variables and the example model make a valid configuration")
}

fn small() -> DemoConfig {
    DemoConfig {
        leads: 60,
        ..Default::default()
    }
}

fn json_body(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("a JSON body")
}

/// The events of a body (generic events: the batch object's list, or the array).
fn events_of(source: &str, body: &Value) -> Vec<Value> {
    match (source, body) {
        (EVENTS, Value::Object(m)) => m["events"].as_array().cloned().unwrap_or_default(),
        (_, Value::Array(list)) => list.clone(),
        _ => panic!("unexpected {source} body {body}"),
    }
}

/// How many items the parsers make of a delivery: one per event, and for the generic format
/// one more per non-identify event carrying `traits` (its identify).
fn items_of(source: &str, body: &Value) -> usize {
    events_of(source, body)
        .iter()
        .map(|e| {
            if source == EVENTS && e.get("traits").is_some() && e["type"] != "identify" {
                2
            } else {
                1
            }
        })
        .sum()
}

#[derive(Default)]
struct Ingested {
    accepted: u64,
    items: usize,
    ignored: BTreeMap<String, usize>,
    /// Leads the responses reported moving into MQL.
    mql: BTreeSet<String>,
}

/// Feeds every delivery to the handler at its own time; every response must be a 200.
async fn ingest_all(sample: &Sample, cfg: &IngestConfig, store: &MemoryStore) -> Ingested {
    let mut out = Ingested::default();
    for d in &sample.deliveries {
        let r = handle(cfg, store, &d.request, d.at).await;
        assert_eq!(
            r.status, 200,
            "{} delivery at {}: {}",
            d.source, d.at, r.body
        );
        out.items += items_of(d.source, &json_body(&d.request.body));
        out.accepted += r.body["accepted"].as_u64().unwrap_or(0);
        assert_eq!(r.body["duplicates"], 0, "nothing is delivered twice");
        for i in r.body["ignored"].as_array().into_iter().flatten() {
            let reason = i["reason"].as_str().unwrap_or_default().to_owned();
            *out.ignored.entry(reason).or_default() += 1;
        }
        for t in r.body["transitions"].as_array().into_iter().flatten() {
            if t["to"] == "mql" {
                out.mql
                    .insert(t["lead"].as_str().unwrap_or_default().to_owned());
            }
        }
    }
    out
}

async fn state_of(store: &MemoryStore, lead_id: &str) -> LeadState {
    store
        .load(lead_id)
        .await
        .expect("the store answers")
        .unwrap_or_else(|| panic!("lead {lead_id} is stored"))
        .state
}

/// The longest stretch without scoring activity, up to the end of the sample.
fn longest_quiet(state: &LeadState, end: DateTime<Utc>) -> TimeDelta {
    let mut times: Vec<DateTime<Utc>> = state.history.iter().map(|r| r.at).collect();
    times.push(end);
    times
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default()
}

fn ever(state: &LeadState, stage: Stage) -> bool {
    state.transitions.iter().any(|t| t.to == stage)
}

#[tokio::test]
async fn the_sample_ingests_cleanly_and_its_personas_score_as_the_model_says() {
    let secrets = DemoSecrets::fixed();
    let cfg = ingest_config(&secrets);
    let demo = small();
    let sample = generate(&demo, &secrets);
    let store = MemoryStore::new();
    let done = ingest_all(&sample, &cfg, &store).await;

    // Everything the senders sent was used, except what the parsers skip on purpose:
    // SendGrid's delivery receipts and the lifecycle stage HubSpot's forms set.
    let ignored: usize = done.ignored.values().sum();
    assert_eq!(
        done.accepted as usize + ignored,
        done.items,
        "{:?}",
        done.ignored
    );
    for reason in done.ignored.keys() {
        assert!(!reason.contains("unknown"), "{reason}");
        assert!(
            reason == "delivered: a delivery receipt, not engagement"
                || reason == "lifecyclestage `lead` is not a sales decision",
            "unexpected ignored item: {reason}"
        );
    }
    assert!(done.accepted > 1_000, "{} events accepted", done.accepted);

    let mut by_persona: BTreeMap<Persona, (usize, usize)> = BTreeMap::new();
    let mut quiet_30 = 0;
    let mut sales: BTreeMap<Stage, usize> = BTreeMap::new();
    for p in &sample.profiles {
        // Every lead resolves by its email, to the id it was created under.
        let resolved = store
            .resolve(&[Alias::new("email", &p.email)])
            .await
            .expect("the store answers");
        assert_eq!(
            resolved[0].as_deref(),
            Some(p.lead_id().as_str()),
            "{} resolves to its lead",
            p.email
        );
        if let Some(id) = p.hubspot_id {
            let by_crm = store
                .resolve(&[Alias::new("hubspot", &id.to_string())])
                .await
                .expect("the store answers");
            assert_eq!(by_crm[0].as_deref(), Some(p.lead_id().as_str()));
        }
        let state = state_of(&store, &p.lead_id()).await;
        assert_eq!(
            state.attributes.get("email").and_then(|v| v.as_text()),
            Some(p.email.as_str()),
            "{} carries its email",
            p.lead_id()
        );
        let mql = ever(&state, Stage::Mql);
        assert_eq!(mql, done.mql.contains(&p.lead_id()), "{}", p.lead_id());
        let entry = by_persona.entry(p.persona).or_default();
        entry.0 += 1;
        entry.1 += usize::from(mql);
        for stage in [
            Stage::Sql,
            Stage::Customer,
            Stage::Disqualified,
            Stage::Recycled,
        ] {
            if ever(&state, stage) {
                *sales.entry(stage).or_default() += 1;
            }
        }
        if longest_quiet(&state, demo.end()) >= TimeDelta::days(30) {
            quiet_30 += 1;
        }
        match p.persona {
            Persona::Student | Persona::Competitor => {
                assert!(!mql, "{} ({}) never qualifies", p.email, p.persona);
                assert!(state.scores.fit < Points::ZERO, "{}: negative fit", p.email);
            }
            Persona::Ideal => {
                // Fit band A (60+) from the firmographics alone.
                assert!(
                    state.scores.fit >= Points::whole(60),
                    "{}: fit {}",
                    p.email,
                    state.scores.fit
                );
            }
            _ => {}
        }
    }
    eprintln!("MQL by persona (leads, MQL): {by_persona:?}; sales moves: {sales:?}; 30+ quiet days: {quiet_30}");

    let (ideal, ideal_mql) = by_persona[&Persona::Ideal];
    assert!(
        ideal_mql * 10 >= ideal * 8,
        "most ideal leads qualify: {ideal_mql}/{ideal}"
    );
    let (poor, poor_mql) = by_persona[&Persona::Poor];
    assert!(
        poor_mql * 10 <= poor,
        "poor leads rarely qualify: {poor_mql}/{poor}"
    );
    assert!(
        sales.get(&Stage::Sql).copied().unwrap_or(0) >= 1,
        "sales accepted some MQLs: {sales:?}"
    );
    assert!(
        quiet_30 * 5 >= sample.profiles.len(),
        "at least a fifth of the leads go 30+ days without activity: {quiet_30}"
    );
}

/// What the receiver sees of a delivery: time, source, request line, sorted headers, body.
type Wire = (String, &'static str, String, Vec<(String, String)>, Vec<u8>);

fn wire(sample: &Sample) -> Vec<Wire> {
    sample
        .deliveries
        .iter()
        .map(|d| {
            let mut headers: Vec<(String, String)> = d
                .request
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            headers.sort();
            (
                d.at.to_rfc3339(),
                d.source,
                format!(
                    "{} {}?{}",
                    d.request.method, d.request.path, d.request.query
                ),
                headers,
                d.request.body.clone(),
            )
        })
        .collect()
}

#[test]
fn a_seed_gives_the_same_bytes_and_another_seed_others() {
    let secrets = DemoSecrets::fixed();
    let a = generate(&small(), &secrets);
    let b = generate(&small(), &secrets);
    assert!(!a.deliveries.is_empty());
    assert!(wire(&a) == wire(&b), "same seed, same requests");
    assert_eq!(a.profiles, b.profiles);
    let other = generate(&DemoConfig { seed: 8, ..small() }, &secrets);
    assert!(wire(&a) != wire(&other), "another seed, other requests");
    assert_ne!(a.profiles, other.profiles);
}

#[test]
fn the_variables_configure_every_source() {
    use p256::pkcs8::EncodePublicKey as _;
    let secrets = DemoSecrets::fixed();
    let vars: HashMap<&str, String> = secrets.ingest_vars().into_iter().collect();
    let der = p256::PublicKey::from(secrets.sendgrid_key.verifying_key())
        .to_public_key_der()
        .expect("encodable");
    assert_eq!(
        vars["LEADSCORE_SENDGRID_PUBLIC_KEY"],
        base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        "SendGrid's key as SendGrid shows it (base64 SubjectPublicKeyInfo DER)"
    );
    let cfg = ingest_config(&secrets);
    assert!(cfg.hubspot_secret.is_some() && cfg.public_base_url.is_some());
    assert!(cfg.sendgrid_key.is_some() && cfg.events_secret.is_some());
    assert!(!cfg.hubspot_accept_v1_v2, "v3 only, as in production");
    assert!(!format!("{secrets:?}").contains(&secrets.hubspot_client_secret));
}

/// The default sample (300 leads, 90 days): its shape, and what the model makes of it.
#[tokio::test]
async fn the_default_sample_has_every_kind_of_event_and_qualifies_the_right_leads() {
    let secrets = DemoSecrets::fixed();
    let demo = DemoConfig::default();
    let sample = generate(&demo, &secrets);
    let start = demo.start.and_hms_opt(0, 0, 0).expect("midnight").and_utc();

    // Sorted by time, inside the sample's days.
    assert!(sample.deliveries.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(sample
        .deliveries
        .iter()
        .all(|d| d.at >= start && d.at < demo.end()));

    let mut by_source: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for d in &sample.deliveries {
        assert_eq!(d.request.path, format!("/webhooks/{}", d.source));
        assert_eq!(d.request.method, "POST");
        let body = json_body(&d.request.body);
        let events = events_of(d.source, &body);
        let e = by_source.entry(d.source).or_default();
        e.0 += 1;
        e.1 += events.len();
        e.2 = e.2.max(events.len());
        for ev in &events {
            let kind = match d.source {
                HUBSPOT => {
                    let kind = ev["subscriptionType"].as_str().unwrap_or("?");
                    match ev["propertyName"].as_str() {
                        Some(p @ ("hs_lead_status" | "lifecyclestage")) => {
                            format!("{kind}:{p}={}", ev["propertyValue"].as_str().unwrap_or(""))
                        }
                        _ => kind.to_owned(),
                    }
                }
                SENDGRID => match ev["sg_machine_open"].as_bool() {
                    Some(true) => "open (machine)".to_owned(),
                    _ => ev["event"].as_str().unwrap_or("?").to_owned(),
                },
                _ => ev["type"].as_str().unwrap_or("?").to_owned(),
            };
            *kinds.entry(format!("{}/{kind}", d.source)).or_default() += 1;
        }
        if d.source == SENDGRID {
            assert!(
                d.request.body.ends_with(b"]\r\n"),
                "SendGrid bodies end in CRLF"
            );
        }
    }
    let personas: BTreeMap<Persona, usize> =
        sample.profiles.iter().fold(BTreeMap::new(), |mut m, p| {
            *m.entry(p.persona).or_default() += 1;
            m
        });
    let in_hubspot = sample
        .profiles
        .iter()
        .filter(|p| p.hubspot_id.is_some())
        .count();
    eprintln!("deliveries (requests, events, largest batch): {by_source:?}");
    eprintln!("personas: {personas:?}; HubSpot contacts: {in_hubspot}");
    eprintln!("events by kind: {kinds:#?}");

    assert_eq!(sample.profiles.len(), 300);
    assert_eq!(personas[&Persona::Ideal], 36);
    assert_eq!(personas[&Persona::Competitor], 24);
    assert!(
        in_hubspot * 10 >= 8 * 300,
        "most leads are HubSpot contacts: {in_hubspot}"
    );
    assert!(
        by_source[HUBSPOT].2 <= 100,
        "HubSpot sends fewer than 100 per request"
    );
    assert!(
        by_source[HUBSPOT].2 > 1 && by_source[SENDGRID].2 > 1,
        "senders batch"
    );
    for kind in [
        "hubspot/contact.creation",
        "hubspot/contact.propertyChange",
        "hubspot/contact.propertyChange:hs_lead_status=ATTEMPTED_TO_CONTACT",
        "hubspot/contact.propertyChange:hs_lead_status=CONNECTED",
        "hubspot/contact.propertyChange:hs_lead_status=UNQUALIFIED",
        "hubspot/contact.propertyChange:hs_lead_status=BAD_TIMING",
        "hubspot/contact.propertyChange:lifecyclestage=salesqualifiedlead",
        "hubspot/contact.propertyChange:lifecyclestage=customer",
        "sendgrid/delivered",
        "sendgrid/open",
        "sendgrid/open (machine)",
        "sendgrid/click",
        "sendgrid/group_unsubscribe",
        "sendgrid/bounce",
        "events/page_view",
        "events/form_submit",
        "events/content_download",
        "events/webinar_registered",
        "events/webinar_attended",
        "events/video_watched",
        "events/trial_started",
        "events/demo_request",
        "events/custom",
    ] {
        assert!(kinds.contains_key(kind), "the sample has {kind}");
    }

    // What the model makes of it (no nightly decay here: the demo command runs it).
    let cfg = ingest_config(&secrets);
    let store = MemoryStore::new();
    let done = ingest_all(&sample, &cfg, &store).await;
    let mut mql: BTreeMap<Persona, usize> = BTreeMap::new();
    let mut stages: BTreeMap<Stage, usize> = BTreeMap::new();
    for p in &sample.profiles {
        let state = state_of(&store, &p.lead_id()).await;
        *stages.entry(state.stage).or_default() += 1;
        if ever(&state, Stage::Mql) {
            *mql.entry(p.persona).or_default() += 1;
        }
    }
    eprintln!(
        "accepted {} events, ignored {:?}; MQL by persona: {mql:?}; final stages: {stages:?}",
        done.accepted, done.ignored
    );
    assert!(!mql.contains_key(&Persona::Student) && !mql.contains_key(&Persona::Competitor));
    assert!(mql[&Persona::Ideal] * 10 >= 36 * 8);
}

#[test]
fn odd_configurations_still_make_a_consistent_sample() {
    let secrets = DemoSecrets::fixed();
    for cfg in [
        DemoConfig {
            leads: 0,
            ..small()
        },
        DemoConfig {
            leads: 1,
            days: 1,
            ..small()
        },
        DemoConfig {
            leads: 7,
            days: 2,
            seed: 99,
            ..small()
        },
        DemoConfig {
            leads: 20,
            days: 5_000,
            ..small()
        },
    ] {
        let sample = generate(&cfg, &secrets);
        assert_eq!(sample.profiles.len(), cfg.leads);
        let start = cfg.start.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        assert!(sample.deliveries.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(
            sample
                .deliveries
                .iter()
                .all(|d| d.at >= start && d.at < cfg.end()),
            "{cfg:?}"
        );
        assert_eq!(cfg.leads == 0, sample.deliveries.is_empty(), "{cfg:?}");
    }
}
