//! `to_request` and `to_response` on their own: what each event field becomes.

mod common;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderName, HeaderValue};
use common::{event, fixture};
use leadscore_app::http::Response;
use leadscore_ingest::{to_request, to_response, ConvertError};
use serde_json::json;

#[test]
fn method_path_query_headers_and_body_come_from_the_payload_2_0_fields() {
    let mut v = fixture("events-signed.json");
    v["headers"]["X-Custom-Case"] = json!("Kept As Sent");
    v["cookies"] = json!(["a=1", "b=2"]);
    let body = v["body"].as_str().unwrap().to_owned();
    let req = to_request(event(v)).unwrap();
    // The method is requestContext.http.method (the top-level httpMethod defaults to GET).
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/webhooks/events");
    assert_eq!(req.query, "delivery=1");
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.headers["x-custom-case"], "Kept As Sent");
    assert_eq!(req.header("X-Forwarded-Proto"), Some("https"));
    assert_eq!(req.headers["cookie"], "a=1; b=2");
    assert_eq!(req.body, body.as_bytes());
}

#[test]
fn repeated_headers_are_joined_with_commas() {
    let mut e = ApiGatewayV2httpRequest::default();
    let name = HeaderName::from_static("x-forwarded-for");
    e.headers
        .append(name.clone(), HeaderValue::from_static("203.0.113.1"));
    e.headers.append(name, HeaderValue::from_static("10.0.0.1"));
    e.raw_path = Some("/webhooks/events".into());
    let req = to_request(e).unwrap();
    assert_eq!(req.headers["x-forwarded-for"], "203.0.113.1,10.0.0.1");
    assert!(req.body.is_empty());
}

#[test]
fn base64_bodies_are_decoded_to_the_bytes_sent_and_bad_ones_are_errors() {
    let req = to_request(event(fixture("marketo-form.json"))).unwrap();
    let want = std::fs::read(format!(
        "{}/../../shared/sources/tests/fixtures/marketo.form",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(req.body, want);

    let err = to_request(event(fixture("bad-base64.json"))).unwrap_err();
    assert!(matches!(err, ConvertError::BadBase64(_)));
    let r = err.to_response();
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], json!("invalid_body_encoding"));
}

#[test]
fn a_missing_raw_path_falls_back_to_the_http_path_then_to_root() {
    let mut v = fixture("unknown-route.json");
    v.as_object_mut().unwrap().remove("rawPath");
    v.as_object_mut().unwrap().remove("rawQueryString");
    let req = to_request(event(v)).unwrap();
    assert_eq!(
        (req.path.as_str(), req.query.as_str()),
        ("/webhooks/salesforce", "")
    );
    let req = to_request(ApiGatewayV2httpRequest::default()).unwrap();
    assert_eq!(req.path, "/");
}

#[test]
fn responses_are_json_with_their_extra_headers() {
    let r = to_response(Response {
        status: 405,
        body: json!({"error": "method_not_allowed"}),
        headers: vec![
            ("allow".into(), "POST".into()),
            ("bad header".into(), "dropped".into()),
        ],
    });
    assert_eq!(r.status_code, 405);
    assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
    assert_eq!(r.headers.get("allow").unwrap(), "POST");
    assert_eq!(r.headers.len(), 2);
    assert_eq!(
        r.body,
        Some(Body::Text(r#"{"error":"method_not_allowed"}"#.into()))
    );
}
