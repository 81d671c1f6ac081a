//! The notifier Lambda's handler on stream records that moto's DynamoDB Streams produced
//! from real writes of the store: the event source filter picks exactly the moves into
//! MQL, each is sent once per route (Slack on a loopback server, email through moto's SES),
//! redeliveries send nothing, and failures end in `batchItemFailures` and the failure list,
//! from which a re-drive sends them.

mod common;

use common::*;
use leadscore_app::notify::Routes;
use leadscore_notifier::{build_channels, Notifier, FILTER_PATTERN};
use leadscore_notify::testing::{Reply, TestServer};
use leadscore_notify::HubSpotPortal;
use leadscore_store::testing::Moto;
use leadscore_store::{Alias, DynamoStore, SentLog};
use serde_json::{json, Value};
use std::time::Duration;

const TABLE: &str = "leads";

struct Setup {
    moto: Moto,
    store: DynamoStore,
    ses: aws_sdk_sesv2::Client,
}

async fn setup() -> Setup {
    let moto = Moto::start();
    let aws = moto.sdk_config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), TABLE);
    store.create_table().await.unwrap();
    let ses = aws_sdk_sesv2::Client::new(&aws);
    ses.create_email_identity()
        .email_identity(SENDER)
        .send()
        .await
        .unwrap();
    Setup { moto, store, ses }
}

fn notifier(s: &Setup, routes: Routes) -> Notifier<DynamoStore> {
    let channels =
        build_channels(&routes, Some(SENDER), Some(&s.ses), Duration::from_secs(5)).unwrap();
    Notifier {
        store: s.store.clone(),
        model: model(),
        routes,
        channels,
        hubspot: Some(HubSpotPortal::new(PORTAL)),
        lease: chrono::Duration::seconds(60),
    }
}

async fn run(n: &Notifier<DynamoStore>, payload: Value) -> Value {
    n.handle(invocation(payload), at(20, 9)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_into_mql_are_notified_once_per_route_from_real_stream_records() {
    let s = setup().await;
    let m = model();
    let slack = TestServer::start_with_fallback(Vec::new(), Reply::ok());
    let file = format!(
        "[[route]]\nname = \"emea\"\ncountries = [\"Spain\"]\nslack = [\"{}\"]\n",
        slack.url("/services/emea")
    );
    let routes = Routes::parse(Some(&file), None, Some("sales@acme.test")).unwrap();
    let n = notifier(&s, routes);
    let mut stream = s.moto.stream(TABLE).await;

    // Ana (Spain): a lead after the first write, an MQL by score after the second, then
    // more activity as an MQL. Bo: an instant MQL (demo request) in the write that
    // creates him, known to HubSpot by an alias. Cy never qualifies.
    let ana = "hubspot:101";
    write(
        &s.store,
        &m,
        ana,
        &[],
        &[
            identify("a1", at(1, 9), "Ana", "Spain"),
            pricing("a2", at(1, 10)),
        ],
        at(1, 11),
    )
    .await;
    write(
        &s.store,
        &m,
        ana,
        &[],
        &[pricing("a3", at(2, 10))],
        at(2, 11),
    )
    .await;
    write(
        &s.store,
        &m,
        ana,
        &[],
        &[pricing("a4", at(3, 10))],
        at(3, 11),
    )
    .await;
    let bo = "email:bo@globex.test";
    let bo_aliases = [
        Alias::new("email", "bo@globex.test"),
        Alias::new("hubspot", "202"),
    ];
    write(
        &s.store,
        &m,
        bo,
        &bo_aliases,
        &[
            identify("b1", at(4, 9), "Bo", "Canada"),
            demo("b2", at(4, 10)),
        ],
        at(4, 11),
    )
    .await;
    write(
        &s.store,
        &m,
        "cy",
        &[],
        &[pricing("c1", at(5, 10))],
        at(5, 11),
    )
    .await;

    let records = stream.next_records().await;
    // Ledger chunks, alias items and every lead write are in the stream...
    assert!(records.len() >= 8, "{} records", records.len());
    // ...and the filter passes exactly the two writes that made an MQL.
    let pattern: Value = serde_json::from_str(FILTER_PATTERN).unwrap();
    let passed: Vec<Value> = records
        .iter()
        .filter(|r| pattern_matches(&pattern, r))
        .cloned()
        .collect();
    let leads: Vec<String> = passed.iter().map(lead_of).collect();
    assert_eq!(leads, [ana, bo]);
    assert_eq!(passed[0]["eventName"], "MODIFY");
    assert_eq!(passed[1]["eventName"], "INSERT");
    // The MQL lead's later write is not an entry, though its stage is still `mql`.
    let later = records
        .iter()
        .filter(|r| lead_of(r) == ana && r["dynamodb"]["Keys"]["sk"]["S"] == "S")
        .nth(2)
        .expect("Ana's third write");
    assert_eq!(later["dynamodb"]["NewImage"]["stage"]["S"], "mql");
    assert!(!pattern_matches(&pattern, later));

    let response = run(&n, stream.lambda_event(&passed)).await;
    assert_eq!(failures(&response), Vec::<String>::new());

    // Ana went to the EMEA Slack route, once, with her name, score and reasons.
    let posts = slack.requests();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].path, "/services/emea");
    let body = String::from_utf8_lossy(&posts[0].body).to_string();
    assert!(
        body.contains("Ana") && body.contains("Looked at pricing"),
        "{body}"
    );
    assert!(
        body.contains(&format!("/contacts/{PORTAL}/record/0-1/101")),
        "{body}"
    );
    // Bo matched no specific route: the default route emailed sales, with the HubSpot link
    // found through his alias.
    let mails = s.moto.sent_emails().await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["source"], SENDER);
    assert_eq!(
        mails[0]["destinations"]["ToAddresses"],
        json!(["sales@acme.test"])
    );
    let subject = mails[0]["subject"].as_str().unwrap();
    assert!(subject.contains("Bo"), "{subject}");
    let html = mails[0]["body"].as_str().unwrap();
    assert!(html.contains("Asked for a demo"), "{html}");
    assert!(
        html.contains(&format!("/contacts/{PORTAL}/record/0-1/202")),
        "{html}"
    );

    // The same records delivered twice more, and the whole unfiltered stream once: nothing
    // new is sent and nothing fails.
    for batch in [&passed, &passed, &records] {
        let response = run(&n, stream.lambda_event(batch)).await;
        assert_eq!(failures(&response), Vec::<String>::new());
    }
    assert_eq!(slack.requests().len(), 1);
    assert_eq!(s.moto.sent_emails().await.len(), 1);
    assert!(s.store.failed().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_failures_are_batch_item_failures_and_a_redrive_sends_them() {
    let s = setup().await;
    let m = model();
    // Records are handled in order, so the script follows the leads: Ana gets a 429 then
    // 200; Bo four 500s (every attempt of the default policy); Cy a 404.
    let slack = TestServer::start(vec![
        Reply::status(429, "rate_limited").header("Retry-After", "1"),
        Reply::ok(),
        Reply::status(500, "oops"),
        Reply::status(500, "oops"),
        Reply::status(500, "oops"),
        Reply::status(500, "oops"),
        Reply::status(404, "channel_not_found"),
        // Bo's redelivery, then the re-drive of Cy.
        Reply::ok(),
        Reply::ok(),
    ]);
    let routes = Routes::parse(None, Some(&slack.url("/services/sales")), None).unwrap();
    let n = notifier(&s, routes);
    let mut stream = s.moto.stream(TABLE).await;
    for (lead, name) in [("ana", "Ana"), ("bo", "Bo"), ("cy", "Cy")] {
        let events = [
            identify(&format!("{lead}-1"), at(1, 9), name, "Spain"),
            demo(&format!("{lead}-2"), at(1, 10)),
        ];
        write(&s.store, &m, lead, &[], &events, at(1, 11)).await;
    }
    let pattern: Value = serde_json::from_str(FILTER_PATTERN).unwrap();
    let passed: Vec<Value> = (stream.next_records().await)
        .into_iter()
        .filter(|r| pattern_matches(&pattern, r))
        .collect();
    assert_eq!(
        passed.iter().map(lead_of).collect::<Vec<_>>(),
        ["ana", "bo", "cy"]
    );
    let event = stream.lambda_event(&passed);

    let response = run(&n, event.clone()).await;
    // Bo (retries exhausted) and Cy (permanent) fail; Ana was sent after the 429.
    assert_eq!(failures(&response), [seq(&passed[1]), seq(&passed[2])]);
    let posts = slack.requests();
    assert_eq!(posts.len(), 7);
    let waited = posts[1].at.duration_since(posts[0].at);
    assert!(
        waited >= Duration::from_millis(950),
        "Retry-After honoured: {waited:?}"
    );
    assert!(String::from_utf8_lossy(&posts[1].body).contains("Ana"));
    // Only the permanent failure is listed for a re-drive.
    let failed = s.store.failed().await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].key.lead, "cy");
    assert!(
        failed[0].error.contains("channel_not_found"),
        "{}",
        failed[0].error
    );

    // The stream retries the batch: Ana is not sent again, Bo is sent, Cy stays failed (so
    // the record goes on to the dead-letter queue once retries run out) and is not resent.
    let response = run(&n, event.clone()).await;
    assert_eq!(failures(&response), [seq(&passed[2])]);
    let posts = slack.requests();
    assert_eq!(posts.len(), 8);
    assert!(String::from_utf8_lossy(&posts[7].body).contains("Bo"));

    // The re-drive sends Cy and clears the list; a second re-drive has nothing to do.
    let summary = run(&n, json!({"redrive": {}})).await;
    assert_eq!(
        (summary["sent"].as_u64(), summary["failed"].as_u64()),
        (Some(1), Some(0))
    );
    let line = summary["notices"][0].as_str().unwrap();
    assert!(
        line.starts_with("cy ") && line.ends_with("default: sent"),
        "{line}"
    );
    assert_eq!(slack.requests().len(), 9);
    assert!(String::from_utf8_lossy(&slack.requests()[8].body).contains("Cy"));
    assert!(s.store.failed().await.unwrap().is_empty());
    let summary = run(&n, json!({"redrive": {"limit": 10}})).await;
    assert_eq!(summary["notices"], json!([]));

    // Now every record succeeds, and nothing is sent again.
    let response = run(&n, event).await;
    assert_eq!(failures(&response), Vec::<String>::new());
    assert_eq!(slack.requests().len(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_records_and_requests_are_reported_not_dropped() {
    let s = setup().await;
    let m = model();
    let slack = TestServer::start_with_fallback(Vec::new(), Reply::ok());
    let routes = Routes::parse(None, Some(&slack.url("/hook")), None).unwrap();
    let n = notifier(&s, routes);
    let mut stream = s.moto.stream(TABLE).await;
    write(
        &s.store,
        &m,
        "dee",
        &[],
        &[demo("d1", at(1, 10))],
        at(1, 11),
    )
    .await;
    let pattern: Value = serde_json::from_str(FILTER_PATTERN).unwrap();
    let mut record = (stream.next_records().await)
        .into_iter()
        .find(|r| pattern_matches(&pattern, r))
        .expect("the MQL entry");

    // A state that does not decode: reported as failed by its sequence number, not sent.
    record["dynamodb"]["NewImage"]["state"] = json!({"B": "bm90IGx6NA=="});
    let response = run(&n, stream.lambda_event(std::slice::from_ref(&record))).await;
    assert_eq!(failures(&response), [seq(&record)]);
    assert!(slack.requests().is_empty());

    // A record without a sequence number cannot be reported alone: the batch fails.
    record["dynamodb"]
        .as_object_mut()
        .unwrap()
        .remove("SequenceNumber");
    let err = n
        .handle(invocation(stream.lambda_event(&[record])), at(20, 9))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no sequence number"), "{err}");

    // Neither a stream batch nor a re-drive; a re-drive with an unknown field.
    let err = n
        .handle(invocation(json!({"hello": 1})), at(20, 9))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expected `Records`"), "{err}");
    let err = n
        .handle(invocation(json!({"redrive": {"limt": 5}})), at(20, 9))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("limt"), "{err}");
}
