//! Signature verification: the vendors' published vectors, independently computed vectors, and
//! every way a request must be refused.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use leadscore_sources::signature::{
    hubspot_v3_decode_uri, parse_sendgrid_key, verify_hmac_sha256, verify_hubspot, verify_sendgrid,
    verify_sendgrid_with_key, verify_token, Headers, HUBSPOT_REQUEST_TIMESTAMP, HUBSPOT_SIGNATURE,
    HUBSPOT_SIGNATURE_V3, HUBSPOT_SIGNATURE_VERSION, LEADSCORE_SIGNATURE, LEADSCORE_TOKEN,
    SENDGRID_SIGNATURE, SENDGRID_TIMESTAMP,
};
use leadscore_sources::SignatureError;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use proptest::prelude::*;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

/// API Gateway v2 style: names lowercased.
fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
        .collect()
}

fn at_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).unwrap()
}

fn at_s(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0).unwrap()
}

fn now_any() -> DateTime<Utc> {
    at_s(1_700_000_000)
}

fn assert_stale(r: Result<(), SignatureError>) {
    assert!(
        matches!(r, Err(SignatureError::Stale { .. })),
        "expected Stale, got {r:?}"
    );
}

fn assert_malformed(r: Result<(), SignatureError>) {
    assert!(
        matches!(r, Err(SignatureError::Malformed { .. })),
        "expected Malformed, got {r:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

#[test]
fn headers_are_case_insensitive_for_every_provided_impl() {
    let map = headers(&[("X-HubSpot-Signature", "abc")]);
    assert_eq!(map.header("X-HUBSPOT-SIGNATURE"), Some("abc"));
    let mixed: HashMap<String, String> = [("X-Hubspot-Signature".to_owned(), "abc".to_owned())]
        .into_iter()
        .collect();
    assert_eq!(mixed.header(HUBSPOT_SIGNATURE), Some("abc"));
    let pairs = vec![("x-hubspot-signature", "abc")];
    assert_eq!(pairs.header(HUBSPOT_SIGNATURE), Some("abc"));
    assert_eq!([("A", "1")].header("a"), Some("1"));
    let btree: std::collections::BTreeMap<String, String> =
        [("a".to_owned(), "1".to_owned())].into_iter().collect();
    assert_eq!(btree.header("A"), Some("1"));
    assert_eq!(pairs.header("missing"), None);
}

// ---------------------------------------------------------------------------------------------
// HubSpot v1 / v2: published vectors (secret yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy)
// ---------------------------------------------------------------------------------------------

const HS_SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
const V1_BODY: &str = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
const V1_SIG: &str = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
const V2_URI: &str = "https://www.example.com/webhook_uri";
const V2_GET_SIG: &str = "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e";
const V2_POST_BODY: &str = r#"{"example_field":"example_value"}"#;
const V2_POST_SIG: &str = "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900";

fn v1_headers(sig: &str) -> HashMap<String, String> {
    headers(&[(HUBSPOT_SIGNATURE, sig), (HUBSPOT_SIGNATURE_VERSION, "v1")])
}

fn v2_headers(sig: &str) -> HashMap<String, String> {
    headers(&[(HUBSPOT_SIGNATURE, sig), (HUBSPOT_SIGNATURE_VERSION, "v2")])
}

#[test]
fn hubspot_v1_published_vector_verifies() {
    let h = v1_headers(V1_SIG);
    let r = verify_hubspot(
        &h,
        "POST",
        V2_URI,
        V1_BODY.as_bytes(),
        HS_SECRET,
        true,
        now_any(),
    );
    assert_eq!(r, Ok(()));
    // Hex in upper case is the same signature.
    let h = v1_headers(&V1_SIG.to_ascii_uppercase());
    let r = verify_hubspot(
        &h,
        "POST",
        V2_URI,
        V1_BODY.as_bytes(),
        HS_SECRET,
        true,
        now_any(),
    );
    assert_eq!(r, Ok(()));
}

#[test]
fn hubspot_v2_published_vectors_verify() {
    let h = v2_headers(V2_GET_SIG);
    assert_eq!(
        verify_hubspot(&h, "GET", V2_URI, b"", HS_SECRET, true, now_any()),
        Ok(())
    );
    let h = v2_headers(V2_POST_SIG);
    assert_eq!(
        verify_hubspot(
            &h,
            "POST",
            V2_URI,
            V2_POST_BODY.as_bytes(),
            HS_SECRET,
            true,
            now_any()
        ),
        Ok(())
    );
}

#[test]
fn hubspot_v1_v2_refusals() {
    let now = now_any();
    // Tampered body.
    let tampered = V1_BODY.replace("\"objectId\":123", "\"objectId\":124");
    let r = verify_hubspot(
        &v1_headers(V1_SIG),
        "POST",
        V2_URI,
        tampered.as_bytes(),
        HS_SECRET,
        true,
        now,
    );
    assert_eq!(r, Err(SignatureError::Mismatch));
    // Wrong secret.
    let r = verify_hubspot(
        &v1_headers(V1_SIG),
        "POST",
        V2_URI,
        V1_BODY.as_bytes(),
        "zzzz",
        true,
        now,
    );
    assert_eq!(r, Err(SignatureError::Mismatch));
    // Empty secret never verifies.
    let r = verify_hubspot(
        &v1_headers(V1_SIG),
        "POST",
        V2_URI,
        V1_BODY.as_bytes(),
        "",
        true,
        now,
    );
    assert_eq!(r, Err(SignatureError::Mismatch));
    // v2 signs method and URI: other method, other URI, or a v1-labelled v2 signature mismatch.
    let h = v2_headers(V2_POST_SIG);
    let body = V2_POST_BODY.as_bytes();
    assert_eq!(
        verify_hubspot(&h, "PUT", V2_URI, body, HS_SECRET, true, now),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_hubspot(
            &h,
            "POST",
            "https://www.example.com/webhook_uri2",
            body,
            HS_SECRET,
            true,
            now
        ),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_hubspot(
            &v1_headers(V2_POST_SIG),
            "POST",
            V2_URI,
            body,
            HS_SECRET,
            true,
            now
        ),
        Err(SignatureError::Mismatch)
    );
    // Not accepted when the endpoint only takes v3.
    assert_eq!(
        verify_hubspot(
            &v2_headers(V2_POST_SIG),
            "POST",
            V2_URI,
            body,
            HS_SECRET,
            false,
            now
        ),
        Err(SignatureError::VersionNotAccepted("v2".into()))
    );
    assert_eq!(
        verify_hubspot(
            &v1_headers(V1_SIG),
            "POST",
            V2_URI,
            V1_BODY.as_bytes(),
            HS_SECRET,
            false,
            now
        ),
        Err(SignatureError::VersionNotAccepted("v1".into()))
    );
    // Unknown version.
    let h = headers(&[
        (HUBSPOT_SIGNATURE, V1_SIG),
        (HUBSPOT_SIGNATURE_VERSION, "v9"),
    ]);
    assert_eq!(
        verify_hubspot(&h, "POST", V2_URI, V1_BODY.as_bytes(), HS_SECRET, true, now),
        Err(SignatureError::VersionNotAccepted("v9".into()))
    );
    // Missing headers.
    let h = headers(&[(HUBSPOT_SIGNATURE, V1_SIG)]);
    assert_eq!(
        verify_hubspot(&h, "POST", V2_URI, V1_BODY.as_bytes(), HS_SECRET, true, now),
        Err(SignatureError::MissingHeader(HUBSPOT_SIGNATURE_VERSION))
    );
    let h = headers(&[(HUBSPOT_SIGNATURE_VERSION, "v1")]);
    assert_eq!(
        verify_hubspot(&h, "POST", V2_URI, V1_BODY.as_bytes(), HS_SECRET, true, now),
        Err(SignatureError::MissingHeader(HUBSPOT_SIGNATURE_V3))
    );
    let none: HashMap<String, String> = HashMap::new();
    for accept in [true, false] {
        assert_eq!(
            verify_hubspot(&none, "POST", V2_URI, b"[]", HS_SECRET, accept, now),
            Err(SignatureError::MissingHeader(HUBSPOT_SIGNATURE_V3))
        );
    }
    // Malformed hex.
    for bad in [
        &V1_SIG[..63],
        "zz2db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
        "",
    ] {
        assert_malformed(verify_hubspot(
            &v1_headers(bad),
            "POST",
            V2_URI,
            V1_BODY.as_bytes(),
            HS_SECRET,
            true,
            now,
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// HubSpot v3: vectors computed independently with Python
// ---------------------------------------------------------------------------------------------

const V3_SECRET: &str = "3f1c2a9e-7b4d-4e8a-9c21-5d6e7f8a9b0c";
const V3_TS: &str = "1718000000000";
const V3_TS_MS: i64 = 1_718_000_000_000;
/// The URI exactly as HubSpot called it: `%3A %2F %40` (and lowercase `%2f`) are decoded before
/// signing, `%20` is not in HubSpot's list and stays encoded.
const V3_URI: &str = "https://hooks.leadscore.example/hubspot/webhook?src=hubspot%3Aapp&next=https%3A%2F%2Fapp.example.com%2fdone&email=ana%40example.com&name=Ana%20Lopez";
const V3_BODY: &str = r#"[{"eventId":1001,"subscriptionId":12345,"portalId":62515,"appId":54321,"occurredAt":1717999990000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":123,"propertyName":"email","propertyValue":"ana@example.com","changeSource":"CRM"}]"#;
/// Computed with Python's hmac over the URI decoded BY HAND (not with this crate's decoder):
/// ```text
/// python3 -c 'import hmac,hashlib,base64
/// secret="3f1c2a9e-7b4d-4e8a-9c21-5d6e7f8a9b0c"; ts="1718000000000"
/// body=open("body.json").read()   # V3_BODY, no trailing newline
/// uri="https://hooks.leadscore.example/hubspot/webhook?src=hubspot:app&next=https://app.example.com/done&email=ana@example.com&name=Ana%20Lopez"
/// print(base64.b64encode(hmac.new(secret.encode(),("POST"+uri+body+ts).encode(),hashlib.sha256).digest()).decode())'
/// ```
const V3_SIG: &str = "7qj6Z0Z+z67060uaCaqa2FUma9D24L6EAsAskiBIXcU=";

/// Every escape in HubSpot's list (mixed case), plus `%25 %2B %20 %2e` that must stay. Python:
/// ```text
/// python3 -c 'import hmac,hashlib,base64; s="secret"; u="https://h.example/a!$'"'"'()*,;?b@c:d/e?q=%25%2B%20%2e"; print(base64.b64encode(hmac.new(s.encode(),("GET"+u+""+"1700000000000").encode(),hashlib.sha256).digest()).decode())'
/// ```
const V3_ALL_URI: &str =
    "https://h.example/a%21%24%27%28%29%2a%2C%3b%3Fb%40c%3Ad%2Fe?q=%25%2B%20%2e";
const V3_ALL_DECODED: &str = "https://h.example/a!$'()*,;?b@c:d/e?q=%25%2B%20%2e";
const V3_ALL_SIG: &str = "yYBmZFUTLLwUZnX/p8CXgrRMJI1rGHUuglLscLy/EyE=";

fn v3_headers(sig: &str, ts: &str) -> HashMap<String, String> {
    headers(&[(HUBSPOT_SIGNATURE_V3, sig), (HUBSPOT_REQUEST_TIMESTAMP, ts)])
}

fn v3(
    h: &HashMap<String, String>,
    body: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    verify_hubspot(h, "POST", V3_URI, body.as_bytes(), secret, false, now)
}

#[test]
fn hubspot_v3_decodes_exactly_the_listed_escapes() {
    assert_eq!(hubspot_v3_decode_uri(V3_ALL_URI), V3_ALL_DECODED);
    // One pass: "%253A" is "%25" then "3A", never ':'.
    assert_eq!(hubspot_v3_decode_uri("/a%253A"), "/a%253A");
    // Truncated and non-hex escapes, and non-ASCII text, pass through.
    assert_eq!(hubspot_v3_decode_uri("/x%3"), "/x%3");
    assert_eq!(hubspot_v3_decode_uri("/x%"), "/x%");
    assert_eq!(hubspot_v3_decode_uri("/é%zz%3a"), "/é%zz:");
}

#[test]
fn hubspot_v3_independent_vectors_verify() {
    let now = at_ms(V3_TS_MS + 30_000);
    assert_eq!(
        v3(&v3_headers(V3_SIG, V3_TS), V3_BODY, V3_SECRET, now),
        Ok(())
    );
    // v3 is used when present even if v1/v2 headers are also sent and v1/v2 are accepted.
    let mut h = v3_headers(V3_SIG, V3_TS);
    h.insert(HUBSPOT_SIGNATURE.to_ascii_lowercase(), V1_SIG.into());
    h.insert(HUBSPOT_SIGNATURE_VERSION.to_ascii_lowercase(), "v1".into());
    assert_eq!(
        verify_hubspot(&h, "POST", V3_URI, V3_BODY.as_bytes(), V3_SECRET, true, now),
        Ok(())
    );

    let h = v3_headers(V3_ALL_SIG, "1700000000000");
    let now = at_ms(1_700_000_000_000);
    assert_eq!(
        verify_hubspot(&h, "GET", V3_ALL_URI, b"", "secret", false, now),
        Ok(())
    );
    // Signing the fully percent-decoded URI (the common mistake) would not match.
    let fully_decoded = "https://h.example/a!$'()*,;?b@c:d/e?q=%+ .";
    assert_eq!(
        verify_hubspot(&h, "GET", fully_decoded, b"", "secret", false, now),
        Err(SignatureError::Mismatch)
    );
    // Already-decoded listed characters are left alone, so passing the decoded form works too.
    assert_eq!(
        verify_hubspot(&h, "GET", V3_ALL_DECODED, b"", "secret", false, now),
        Ok(())
    );
    assert_eq!(
        verify_hubspot(
            &h,
            "GET",
            "https://h.example/a!$'()*,;?b@c:d/e?q=%25%2B %2e",
            b"",
            "secret",
            false,
            now
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn hubspot_v3_timestamp_window_is_five_minutes_both_ways() {
    let h = v3_headers(V3_SIG, V3_TS);
    let five_min = 5 * 60 * 1000;
    assert_eq!(
        v3(&h, V3_BODY, V3_SECRET, at_ms(V3_TS_MS + five_min)),
        Ok(())
    );
    assert_eq!(
        v3(&h, V3_BODY, V3_SECRET, at_ms(V3_TS_MS - five_min)),
        Ok(())
    );
    assert_eq!(
        v3(&h, V3_BODY, V3_SECRET, at_ms(V3_TS_MS + five_min + 1)),
        Err(SignatureError::Stale {
            age_seconds: 300,
            max_seconds: 300
        })
    );
    // Future: negative age.
    assert_eq!(
        v3(&h, V3_BODY, V3_SECRET, at_ms(V3_TS_MS - 3_600_000)),
        Err(SignatureError::Stale {
            age_seconds: -3600,
            max_seconds: 300
        })
    );
    // Timestamps in seconds (a sender bug) are far in the past.
    assert_stale(v3(
        &v3_headers(V3_SIG, "1718000000"),
        V3_BODY,
        V3_SECRET,
        at_ms(V3_TS_MS),
    ));
    // Extreme values do not overflow.
    assert_stale(v3(
        &v3_headers(V3_SIG, &i64::MIN.to_string()),
        V3_BODY,
        V3_SECRET,
        at_ms(V3_TS_MS),
    ));
    assert_stale(v3(
        &v3_headers(V3_SIG, &i64::MAX.to_string()),
        V3_BODY,
        V3_SECRET,
        at_ms(V3_TS_MS),
    ));
}

#[test]
fn hubspot_v3_refusals() {
    let now = at_ms(V3_TS_MS + 1_000);
    let h = v3_headers(V3_SIG, V3_TS);
    // Tampered body.
    let tampered = V3_BODY.replace("ana@example.com", "eve@example.com");
    assert_eq!(
        v3(&h, &tampered, V3_SECRET, now),
        Err(SignatureError::Mismatch)
    );
    // Wrong secret, empty secret.
    assert_eq!(
        v3(&h, V3_BODY, HS_SECRET, now),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(v3(&h, V3_BODY, "", now), Err(SignatureError::Mismatch));
    // The timestamp is signed: a replay with a fresh timestamp mismatches.
    let replay = v3_headers(V3_SIG, "1718000001000");
    assert_eq!(
        v3(&replay, V3_BODY, V3_SECRET, now),
        Err(SignatureError::Mismatch)
    );
    // Another method.
    assert_eq!(
        verify_hubspot(&h, "PUT", V3_URI, V3_BODY.as_bytes(), V3_SECRET, false, now),
        Err(SignatureError::Mismatch)
    );
    // Missing timestamp.
    let h = headers(&[(HUBSPOT_SIGNATURE_V3, V3_SIG)]);
    assert_eq!(
        v3(&h, V3_BODY, V3_SECRET, now),
        Err(SignatureError::MissingHeader(HUBSPOT_REQUEST_TIMESTAMP))
    );
    // Malformed timestamp, base64, and signature length.
    assert_malformed(v3(
        &v3_headers(V3_SIG, "2024-06-10T06:13:20Z"),
        V3_BODY,
        V3_SECRET,
        now,
    ));
    assert_malformed(v3(&v3_headers(V3_SIG, ""), V3_BODY, V3_SECRET, now));
    assert_malformed(v3(
        &v3_headers("not base64!!", V3_TS),
        V3_BODY,
        V3_SECRET,
        now,
    ));
    assert_malformed(v3(&v3_headers("", V3_TS), V3_BODY, V3_SECRET, now));
    assert_malformed(v3(&v3_headers("AAAA", V3_TS), V3_BODY, V3_SECRET, now));
}

// ---------------------------------------------------------------------------------------------
// SendGrid: published vector
// ---------------------------------------------------------------------------------------------

const SG_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
const SG_SIG: &str = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=";
const SG_TS: &str = "1588788367";
const SG_TS_S: i64 = 1_588_788_367;
const SG_BODY: &str =
    r#"{"category":"example_payload","event":"test_event","message_id":"message_id"}"#;

fn sg_headers(sig: &str, ts: &str) -> HashMap<String, String> {
    headers(&[(SENDGRID_SIGNATURE, sig), (SENDGRID_TIMESTAMP, ts)])
}

/// A second key pair, for "wrong key" and for fresh signatures.
fn other_signing_key() -> SigningKey {
    SigningKey::from_slice(&[7u8; 32]).unwrap()
}

fn b64_spki(key: &SigningKey) -> String {
    // SPKI for P-256 is a fixed 26-byte header (the published key's) and the uncompressed point.
    let mut der = BASE64.decode(SG_KEY).unwrap()[..26].to_vec();
    der.extend_from_slice(key.verifying_key().to_encoded_point(false).as_bytes());
    BASE64.encode(der)
}

#[test]
fn sendgrid_published_vector_verifies() {
    let h = sg_headers(SG_SIG, SG_TS);
    assert_eq!(
        verify_sendgrid(&h, SG_BODY.as_bytes(), SG_KEY, now_any(), None),
        Ok(())
    );
    let key = parse_sendgrid_key(SG_KEY).unwrap();
    assert_eq!(
        verify_sendgrid_with_key(
            &h,
            SG_BODY.as_bytes(),
            &key,
            at_s(SG_TS_S + 60),
            Some(Duration::from_secs(600))
        ),
        Ok(())
    );
    // A key pasted with line breaks still parses.
    let wrapped = format!("{}\n{}\n", &SG_KEY[..40], &SG_KEY[40..]);
    assert_eq!(parse_sendgrid_key(&wrapped).unwrap(), key);
}

#[test]
fn sendgrid_refusals() {
    let h = sg_headers(SG_SIG, SG_TS);
    let now = now_any();
    // Tampered body, including the CRLF a real body would end in (the vector has none).
    let tampered = SG_BODY.replace("test_event", "open");
    assert_eq!(
        verify_sendgrid(&h, tampered.as_bytes(), SG_KEY, now, None),
        Err(SignatureError::Mismatch)
    );
    let crlf = format!("{SG_BODY}\r\n");
    assert_eq!(
        verify_sendgrid(&h, crlf.as_bytes(), SG_KEY, now, None),
        Err(SignatureError::Mismatch)
    );
    // The timestamp is signed.
    let h2 = sg_headers(SG_SIG, "1588788368");
    assert_eq!(
        verify_sendgrid(&h2, SG_BODY.as_bytes(), SG_KEY, now, None),
        Err(SignatureError::Mismatch)
    );
    // Wrong key.
    let other = b64_spki(&other_signing_key());
    assert_eq!(
        verify_sendgrid(&h, SG_BODY.as_bytes(), &other, now, None),
        Err(SignatureError::Mismatch)
    );
    // Stale and future when a window is set.
    let ten_min = Some(Duration::from_secs(600));
    assert_eq!(
        verify_sendgrid(&h, SG_BODY.as_bytes(), SG_KEY, at_s(SG_TS_S + 601), ten_min),
        Err(SignatureError::Stale {
            age_seconds: 601,
            max_seconds: 600
        })
    );
    assert_eq!(
        verify_sendgrid(&h, SG_BODY.as_bytes(), SG_KEY, at_s(SG_TS_S - 601), ten_min),
        Err(SignatureError::Stale {
            age_seconds: -601,
            max_seconds: 600
        })
    );
    assert_eq!(
        verify_sendgrid(&h, SG_BODY.as_bytes(), SG_KEY, at_s(SG_TS_S + 600), ten_min),
        Ok(())
    );
    assert_stale(verify_sendgrid(
        &h,
        SG_BODY.as_bytes(),
        SG_KEY,
        now,
        ten_min,
    ));
    // Missing headers.
    let only_sig = headers(&[(SENDGRID_SIGNATURE, SG_SIG)]);
    assert_eq!(
        verify_sendgrid(&only_sig, SG_BODY.as_bytes(), SG_KEY, now, None),
        Err(SignatureError::MissingHeader(SENDGRID_TIMESTAMP))
    );
    let only_ts = headers(&[(SENDGRID_TIMESTAMP, SG_TS)]);
    assert_eq!(
        verify_sendgrid(&only_ts, SG_BODY.as_bytes(), SG_KEY, now, None),
        Err(SignatureError::MissingHeader(SENDGRID_SIGNATURE))
    );
    // Malformed signature (bad base64, base64 of non-DER), timestamp, and key.
    assert_malformed(verify_sendgrid(
        &sg_headers("%%%", SG_TS),
        SG_BODY.as_bytes(),
        SG_KEY,
        now,
        None,
    ));
    assert_malformed(verify_sendgrid(
        &sg_headers("AAAA", SG_TS),
        SG_BODY.as_bytes(),
        SG_KEY,
        now,
        None,
    ));
    assert_malformed(verify_sendgrid(
        &sg_headers(SG_SIG, "May 6"),
        SG_BODY.as_bytes(),
        SG_KEY,
        now,
        None,
    ));
    assert_malformed(verify_sendgrid(
        &h,
        SG_BODY.as_bytes(),
        "not a key",
        now,
        None,
    ));
    assert!(matches!(
        parse_sendgrid_key(""),
        Err(SignatureError::Malformed { .. })
    ));
    assert!(matches!(
        parse_sendgrid_key("AAAA"),
        Err(SignatureError::Malformed { .. })
    ));
    // A truncated key: valid base64, invalid DER.
    assert!(matches!(
        parse_sendgrid_key(&SG_KEY[..40]),
        Err(SignatureError::Malformed { .. })
    ));
}

#[test]
fn sendgrid_fresh_signature_from_another_key() {
    let key = other_signing_key();
    let ts = "1700000000";
    let body = b"[{\"email\":\"ana@example.com\",\"event\":\"open\",\"sg_event_id\":\"e1\"}]\r\n";
    let mut message = ts.as_bytes().to_vec();
    message.extend_from_slice(body);
    let sig: Signature = key.sign(&message);
    let h = sg_headers(&BASE64.encode(sig.to_der().as_bytes()), ts);
    let spki = b64_spki(&key);
    let window = Some(Duration::from_secs(300));
    assert_eq!(
        verify_sendgrid(&h, body, &spki, at_s(1_700_000_010), window),
        Ok(())
    );
    assert_eq!(
        verify_sendgrid(
            &h,
            &body[..body.len() - 2],
            &spki,
            at_s(1_700_000_010),
            window
        ),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_sendgrid(&h, body, SG_KEY, at_s(1_700_000_010), window),
        Err(SignatureError::Mismatch)
    );
}

// ---------------------------------------------------------------------------------------------
// leadscore's generic HMAC-SHA256 and Marketo's token
// ---------------------------------------------------------------------------------------------

const EV_SECRET: &str = "ls_events_secret";
const EV_BODY: &str = r#"{"events":[{"type":"page_view","email":"ana@example.com","url":"https://example.com/pricing"}]}"#;
/// python3 -c 'import hmac,hashlib; print(hmac.new(b"ls_events_secret", b"{\"events\":[{\"type\":\"page_view\",\"email\":\"ana@example.com\",\"url\":\"https://example.com/pricing\"}]}", hashlib.sha256).hexdigest())'
const EV_SIG: &str = "1e92dbc445c998578d609138d008338a980ba4e6b343f1ac9be129c6a356c9b7";

#[test]
fn hmac_sha256_verifies_with_and_without_prefix() {
    let body = EV_BODY.as_bytes();
    assert_eq!(
        verify_hmac_sha256(Some(&format!("sha256={EV_SIG}")), body, EV_SECRET),
        Ok(())
    );
    assert_eq!(verify_hmac_sha256(Some(EV_SIG), body, EV_SECRET), Ok(()));
    let upper = format!("SHA256={}", EV_SIG.to_ascii_uppercase());
    assert_eq!(verify_hmac_sha256(Some(&upper), body, EV_SECRET), Ok(()));
    // Read from a lowercased header map like the HTTP layer will.
    let h = headers(&[(LEADSCORE_SIGNATURE, &format!(" sha256={EV_SIG} "))]);
    assert_eq!(
        verify_hmac_sha256(h.header(LEADSCORE_SIGNATURE), body, EV_SECRET),
        Ok(())
    );
}

#[test]
fn hmac_sha256_refusals() {
    let body = EV_BODY.as_bytes();
    let header = format!("sha256={EV_SIG}");
    assert_eq!(
        verify_hmac_sha256(Some(&header), b"{\"events\":[]}", EV_SECRET),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_hmac_sha256(Some(&header), body, "other"),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_hmac_sha256(Some(&header), body, ""),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_hmac_sha256(None, body, EV_SECRET),
        Err(SignatureError::MissingHeader(LEADSCORE_SIGNATURE))
    );
    assert_eq!(
        verify_hmac_sha256(Some(&format!("sha1={EV_SIG}")), body, EV_SECRET),
        Err(SignatureError::VersionNotAccepted("sha1".into()))
    );
    assert_malformed(verify_hmac_sha256(Some("sha256=xyz"), body, EV_SECRET));
    assert_malformed(verify_hmac_sha256(
        Some(&EV_SIG.replace('e', "g")),
        body,
        EV_SECRET,
    ));
    assert_malformed(verify_hmac_sha256(Some(&EV_SIG[..62]), body, EV_SECRET));
    assert_malformed(verify_hmac_sha256(Some(""), body, EV_SECRET));
}

#[test]
fn token_is_compared_exactly() {
    let expected = "mk_3b9f0c7e1d2a";
    assert_eq!(verify_token(Some(expected), expected), Ok(()));
    assert_eq!(verify_token(Some(" mk_3b9f0c7e1d2a "), expected), Ok(()));
    assert_eq!(
        verify_token(Some("mk_3b9f0c7e1d2b"), expected),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_token(Some("mk_3b9f0c7e1d2"), expected),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_token(Some("MK_3B9F0C7E1D2A"), expected),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_token(Some(""), expected),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(verify_token(Some(""), ""), Err(SignatureError::Mismatch));
    assert_eq!(
        verify_token(None, expected),
        Err(SignatureError::MissingHeader(LEADSCORE_TOKEN))
    );
}

// ---------------------------------------------------------------------------------------------
// Arbitrary input never panics
// ---------------------------------------------------------------------------------------------

fn header_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        any::<String>().prop_map(Some),
        "[A-Za-z0-9+/=]{0,100}".prop_map(Some),
        "(sha256=)?[0-9a-fA-F]{60,68}".prop_map(Some),
        "-?[0-9]{0,20}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_requests_never_panic(
        names in proptest::collection::vec(
            prop_oneof![
                Just(HUBSPOT_SIGNATURE_V3.to_owned()),
                Just(HUBSPOT_REQUEST_TIMESTAMP.to_owned()),
                Just(HUBSPOT_SIGNATURE.to_owned()),
                Just(HUBSPOT_SIGNATURE_VERSION.to_owned()),
                Just(SENDGRID_SIGNATURE.to_owned()),
                Just(SENDGRID_TIMESTAMP.to_owned()),
                any::<String>(),
            ],
            0..6,
        ),
        values in proptest::collection::vec(header_value(), 6),
        body in proptest::collection::vec(any::<u8>(), 0..256),
        method in any::<String>(),
        uri in any::<String>(),
        secret in any::<String>(),
        key in prop_oneof![Just(SG_KEY.to_owned()), any::<String>()],
        accept in any::<bool>(),
        now_ms in any::<i64>(),
        max_age in proptest::option::of(any::<u64>()),
    ) {
        let pairs: Vec<(String, String)> = names
            .into_iter()
            .zip(values.iter())
            .filter_map(|(n, v)| v.clone().map(|v| (n, v)))
            .collect();
        let now = Utc.timestamp_millis_opt(now_ms).single().unwrap_or_else(now_any);
        let _ = verify_hubspot(&pairs, &method, &uri, &body, &secret, accept, now);
        let _ = hubspot_v3_decode_uri(&uri);
        let _ = verify_sendgrid(&pairs, &body, &key, now, max_age.map(Duration::from_secs));
        let _ = parse_sendgrid_key(&key);
        let _ = verify_hmac_sha256(values[0].as_deref(), &body, &secret);
        let _ = verify_token(values[1].as_deref(), &secret);
    }

    #[test]
    fn decode_uri_only_shrinks_and_is_identity_without_percent(uri in any::<String>()) {
        let decoded = hubspot_v3_decode_uri(&uri);
        prop_assert!(decoded.len() <= uri.len());
        if !uri.contains('%') {
            prop_assert_eq!(decoded, uri);
        }
    }
}
