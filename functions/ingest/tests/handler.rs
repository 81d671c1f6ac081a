//! The Lambda handler end to end: real `ApiGatewayV2httpRequest` events deserialized from
//! API Gateway payload 2.0 fixtures, through `to_request`, the ingest handler and the store,
//! back out as the `ApiGatewayV2httpResponse` API Gateway receives.

mod common;

use common::*;
use leadscore_domain::Points;
use leadscore_ingest::handler;
use leadscore_store::testing::Moto;
use leadscore_store::{DynamoStore, MemoryStore};
use serde_json::json;

#[tokio::test]
async fn a_signed_events_batch_is_scored_and_stored() {
    let (cfg, store) = (config(), MemoryStore::new());
    let r = handler(&store, &cfg.ingest, signed_events(), now())
        .await
        .unwrap();
    let (status, ct, body) = parts(&r);
    assert_eq!((status, ct), (200, "application/json"), "{body}");
    assert_eq!(
        (&body["accepted"], &body["duplicates"], &body["leads"]),
        (&json!(3), &json!(0), &json!(2))
    );
    assert!(!r.is_base64_encoded);
    assert_eq!(score(&store, "ana@acme.io").await, Some(Points::whole(31)));
    assert_eq!(score(&store, "ben@beta.io").await, Some(Points::whole(1)));

    // What the runtime serializes back to API Gateway.
    let wire = serde_json::to_value(&r).unwrap();
    assert_eq!(wire["statusCode"], json!(200));
    assert_eq!(wire["headers"]["content-type"], json!("application/json"));
    assert_eq!(wire["isBase64Encoded"], json!(false));
    assert!(wire["body"].as_str().unwrap().contains("\"accepted\":3"));

    // A redelivery finds every event applied and changes nothing.
    let r = handler(&store, &cfg.ingest, signed_events(), now())
        .await
        .unwrap();
    let (status, _, body) = parts(&r);
    assert_eq!(
        (status, &body["accepted"], &body["duplicates"]),
        (200, &json!(0), &json!(3))
    );
    assert_eq!(score(&store, "ana@acme.io").await, Some(Points::whole(31)));
}

#[tokio::test]
async fn a_wrong_or_missing_signature_is_refused_and_stores_nothing() {
    let (cfg, store) = (config(), MemoryStore::new());
    for v in [
        sign(fixture("events-signed.json"), "not-the-secret"),
        fixture("events-signed.json"),
    ] {
        let r = handler(&store, &cfg.ingest, event(v), now()).await.unwrap();
        let (status, ct, body) = parts(&r);
        assert_eq!((status, ct), (401, "application/json"), "{body}");
        assert_eq!(body["error"], json!("unauthorized"));
    }
    assert_eq!(score(&store, "ana@acme.io").await, None);
}

#[tokio::test]
async fn a_base64_form_post_from_marketo_is_decoded_verified_and_scored() {
    let (cfg, store) = (config(), MemoryStore::new());
    let v = fixture("marketo-form.json");
    assert_eq!(v["isBase64Encoded"], json!(true));
    let r = handler(&store, &cfg.ingest, event(v.clone()), now())
        .await
        .unwrap();
    let (status, _, body) = parts(&r);
    assert_eq!(status, 200, "{body}");
    // The form submit, and the identify its lead fields add.
    assert_eq!((&body["accepted"], &body["leads"]), (&json!(2), &json!(1)));
    assert_eq!(
        score(&store, "ines@initrode.com").await,
        Some(Points::whole(40))
    );

    // The token header is checked on the decoded request.
    let mut wrong = v;
    wrong["headers"]["x-leadscore-token"] = json!("guess");
    let r = handler(&MemoryStore::new(), &cfg.ingest, event(wrong), now())
        .await
        .unwrap();
    assert_eq!(parts(&r).0, 401);
}

#[tokio::test]
async fn a_body_that_is_not_base64_is_a_400_with_a_json_error() {
    let (cfg, store) = (config(), MemoryStore::new());
    let r = handler(
        &store,
        &cfg.ingest,
        event(fixture("bad-base64.json")),
        now(),
    )
    .await
    .unwrap();
    let (status, ct, body) = parts(&r);
    assert_eq!((status, ct), (400, "application/json"), "{body}");
    assert_eq!(body["error"], json!("invalid_body_encoding"));
    assert!(body["message"].as_str().unwrap().contains("base64"));
}

#[tokio::test]
async fn an_unknown_route_is_a_404() {
    let (cfg, store) = (config(), MemoryStore::new());
    let r = handler(
        &store,
        &cfg.ingest,
        event(fixture("unknown-route.json")),
        now(),
    )
    .await
    .unwrap();
    let (status, ct, body) = parts(&r);
    assert_eq!((status, ct), (404, "application/json"));
    assert_eq!(body["error"], json!("not_found"));
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("/webhooks/salesforce"));
}

#[tokio::test]
async fn a_get_is_a_405_whose_allow_header_reaches_api_gateway() {
    let (cfg, store) = (config(), MemoryStore::new());
    let mut v = sign(fixture("events-signed.json"), EVENTS_SECRET);
    v["requestContext"]["http"]["method"] = json!("GET");
    let r = handler(&store, &cfg.ingest, event(v), now()).await.unwrap();
    assert_eq!(parts(&r).0, 405);
    assert_eq!(r.headers.get("allow").unwrap(), "POST");
    assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
}

#[tokio::test]
async fn a_stage_prefix_in_the_raw_path_still_routes() {
    let (cfg, store) = (config(), MemoryStore::new());
    let mut v = sign(fixture("events-signed.json"), EVENTS_SECRET);
    v["rawPath"] = json!("/prod/webhooks/events");
    let r = handler(&store, &cfg.ingest, event(v), now()).await.unwrap();
    assert_eq!(parts(&r).0, 200);
}

#[tokio::test]
async fn a_signed_batch_is_stored_in_dynamodb_on_moto() {
    let moto = Moto::start();
    let store = DynamoStore::new(moto.dynamodb().await, "ingest-lambda");
    store.create_table().await.unwrap();
    let cfg = config();
    let r = handler(&store, &cfg.ingest, signed_events(), now())
        .await
        .unwrap();
    let (status, _, body) = parts(&r);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], json!(3));
    assert_eq!(score(&store, "ana@acme.io").await, Some(Points::whole(31)));
    let r = handler(&store, &cfg.ingest, signed_events(), now())
        .await
        .unwrap();
    assert_eq!(parts(&r).2["duplicates"], json!(3));
}
