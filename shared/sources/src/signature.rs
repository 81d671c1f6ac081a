//! Sender verification for every webhook source: HubSpot v1/v2/v3, SendGrid's signed event
//! webhook (ECDSA P-256), leadscore's generic HMAC-SHA256 header and Marketo's shared token.
//!
//! Everything here is pure: the caller passes the request's parts and the clock (`now`), and
//! gets `Ok(())` or the [`SignatureError`] to answer 401 with. Every comparison of a secret or a
//! signature is constant-time, so response timing cannot be used to guess a valid signature.
//!
//! Headers are read through the small [`Headers`] trait, looked up case-insensitively, so the HTTP
//! layer can pass API Gateway v2's lowercased `HashMap<String, String>` as is (or a `Vec` of pairs
//! in tests). Header values are trimmed of surrounding whitespace, as HTTP defines them.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::digest::CtOutput;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::Signature;
use p256::pkcs8::DecodePublicKey as _;
use sha2::{Digest, Sha256};

use crate::SignatureError;

/// SendGrid's public key, parsed once at cold start by [`parse_sendgrid_key`].
pub use p256::ecdsa::VerifyingKey;

/// HubSpot v3 signature (base64 HMAC-SHA256).
pub const HUBSPOT_SIGNATURE_V3: &str = "X-HubSpot-Signature-v3";
/// HubSpot v3 timestamp, epoch milliseconds.
pub const HUBSPOT_REQUEST_TIMESTAMP: &str = "X-HubSpot-Request-Timestamp";
/// HubSpot v1/v2 signature (hex SHA-256).
pub const HUBSPOT_SIGNATURE: &str = "X-HubSpot-Signature";
/// `v1` or `v2`, telling how [`HUBSPOT_SIGNATURE`] was computed.
pub const HUBSPOT_SIGNATURE_VERSION: &str = "X-HubSpot-Signature-Version";
/// SendGrid's base64 DER ECDSA signature.
pub const SENDGRID_SIGNATURE: &str = "X-Twilio-Email-Event-Webhook-Signature";
/// SendGrid's timestamp (epoch seconds), signed together with the body.
pub const SENDGRID_TIMESTAMP: &str = "X-Twilio-Email-Event-Webhook-Timestamp";
/// leadscore's generic events endpoint: `sha256=<hex HMAC-SHA256 of the body>`.
pub const LEADSCORE_SIGNATURE: &str = "X-Leadscore-Signature";
/// Marketo's shared secret header (Marketo cannot sign requests).
pub const LEADSCORE_TOKEN: &str = "X-Leadscore-Token";

/// How far a HubSpot v3 timestamp may be from `now`, either way (HubSpot's documented 5 minutes;
/// the future bound stops a captured request signed with a skewed clock from living longer).
pub const HUBSPOT_MAX_SKEW: Duration = Duration::from_secs(5 * 60);

type HmacSha256 = Hmac<Sha256>;

/// Read access to a request's headers. Implementations must look names up case-insensitively;
/// the provided ones do (exact, then lowercased, then a scan), so API Gateway v2's lowercased maps
/// work without copying.
pub trait Headers {
    /// The value of header `name`, compared case-insensitively, if present.
    fn header(&self, name: &str) -> Option<&str>;
}

impl<T: Headers + ?Sized> Headers for &T {
    fn header(&self, name: &str) -> Option<&str> {
        (**self).header(name)
    }
}

/// A map's lookup: the name as given, then lower-cased (API Gateway's form), then a scan
/// that ignores case.
fn map_header<'a, I>(
    get: impl Fn(&str) -> Option<&'a String>,
    all: I,
    name: &str,
) -> Option<&'a str>
where
    I: Iterator<Item = (&'a String, &'a String)>,
{
    match get(name).or_else(|| get(&name.to_ascii_lowercase())) {
        Some(v) => Some(v.as_str()),
        None => scan(all, name),
    }
}

impl<S: BuildHasher> Headers for HashMap<String, String, S> {
    fn header(&self, name: &str) -> Option<&str> {
        map_header(|k| self.get(k), self.iter(), name)
    }
}

impl Headers for BTreeMap<String, String> {
    fn header(&self, name: &str) -> Option<&str> {
        map_header(|k| self.get(k), self.iter(), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for [(K, V)] {
    fn header(&self, name: &str) -> Option<&str> {
        scan(self.iter().map(|(k, v)| (k, v)), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for Vec<(K, V)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Headers for [(K, V); N] {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

fn scan<'a, K, V>(mut pairs: impl Iterator<Item = (&'a K, &'a V)>, name: &str) -> Option<&'a str>
where
    K: AsRef<str> + 'a + ?Sized,
    V: AsRef<str> + 'a + ?Sized,
{
    pairs
        .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref())
}

/// A header's trimmed value, or `MissingHeader`.
fn required<'h, H: Headers + ?Sized>(
    headers: &'h H,
    name: &'static str,
) -> Result<&'h str, SignatureError> {
    headers
        .header(name)
        .map(str::trim)
        .ok_or(SignatureError::MissingHeader(name))
}

fn malformed(what: &'static str, problem: impl Into<String>) -> SignatureError {
    SignatureError::Malformed {
        what,
        problem: problem.into(),
    }
}

/// Verifies a HubSpot webhook (app webhooks and workflow "Send a webhook" actions).
///
/// v3 is used whenever `X-HubSpot-Signature-v3` is present; otherwise v1/v2 are checked, but only
/// when `accept_v1_v2` (they carry no timestamp, so a captured request replays forever).
///
/// `uri` must be the full absolute URL HubSpot called (`https://host/path?query`), rebuilt from
/// the configured public base URL rather than API Gateway's `rawPath`. v3 decodes HubSpot's
/// listed percent-escapes itself; v2 uses `uri` exactly as given. `body` is the raw body.
/// An empty `client_secret` never verifies (anyone could sign with it).
pub fn verify_hubspot<H: Headers + ?Sized>(
    headers: &H,
    method: &str,
    uri: &str,
    body: &[u8],
    client_secret: &str,
    accept_v1_v2: bool,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    if headers.header(HUBSPOT_SIGNATURE_V3).is_some() {
        return verify_hubspot_v3(headers, method, uri, body, client_secret, now);
    }
    if headers.header(HUBSPOT_SIGNATURE).is_none() {
        // Name the header a current HubSpot app sends.
        return Err(SignatureError::MissingHeader(HUBSPOT_SIGNATURE_V3));
    }
    if !accept_v1_v2 {
        let version = headers
            .header(HUBSPOT_SIGNATURE_VERSION)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or("v1");
        return Err(SignatureError::VersionNotAccepted(version.to_owned()));
    }
    let signature = required(headers, HUBSPOT_SIGNATURE)?;
    let version = required(headers, HUBSPOT_SIGNATURE_VERSION)?;
    let mut hasher = Sha256::new();
    hasher.update(client_secret.as_bytes());
    if version.eq_ignore_ascii_case("v1") {
        hasher.update(body);
    } else if version.eq_ignore_ascii_case("v2") {
        hasher.update(method.as_bytes());
        hasher.update(uri.as_bytes());
        hasher.update(body);
    } else {
        return Err(SignatureError::VersionNotAccepted(version.to_owned()));
    }
    let given = decode_hex32(signature, HUBSPOT_SIGNATURE)?;
    let computed = CtOutput::<Sha256>::new(hasher.finalize());
    if computed == CtOutput::new(given.into()) && !client_secret.is_empty() {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn verify_hubspot_v3<H: Headers + ?Sized>(
    headers: &H,
    method: &str,
    uri: &str,
    body: &[u8],
    client_secret: &str,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let signature = required(headers, HUBSPOT_SIGNATURE_V3)?;
    // HubSpot signs the timestamp string as sent: keep it for the MAC, parse it for the window.
    let timestamp = required(headers, HUBSPOT_REQUEST_TIMESTAMP)?;
    let sent_ms: i64 = timestamp
        .parse()
        .map_err(|_| malformed(HUBSPOT_REQUEST_TIMESTAMP, "not an integer of milliseconds"))?;
    let age_ms = now.timestamp_millis().saturating_sub(sent_ms);
    let max_ms = i64::try_from(HUBSPOT_MAX_SKEW.as_millis()).unwrap_or(i64::MAX);
    if age_ms.saturating_abs() > max_ms {
        return Err(SignatureError::Stale {
            age_seconds: age_ms / 1000,
            max_seconds: max_ms / 1000,
        });
    }
    let given = BASE64
        .decode(signature)
        .map_err(|e| malformed(HUBSPOT_SIGNATURE_V3, format!("invalid base64: {e}")))?;
    if given.len() != 32 {
        return Err(malformed(
            HUBSPOT_SIGNATURE_V3,
            format!("{} bytes, expected 32", given.len()),
        ));
    }
    if client_secret.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let mut mac = hmac_sha256(client_secret.as_bytes());
    mac.update(method.as_bytes());
    mac.update(hubspot_v3_decode_uri(uri).as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// Decodes exactly the percent-escapes HubSpot decodes before computing a v3 signature
/// (case-insensitive hex), in one pass, leaving every other escape (`%20`, `%25`, ...) as is.
/// Public so the HTTP layer can log the string that was signed when a signature mismatches.
pub fn hubspot_v3_decode_uri(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = String::with_capacity(uri.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(c) = bytes.get(i + 1..i + 3).and_then(hubspot_escape) {
                out.push(c);
                i += 3;
                continue;
            }
        }
        // Copy the run up to the next '%' (char boundaries: '%' is ASCII).
        let next = bytes[i + 1..]
            .iter()
            .position(|&b| b == b'%')
            .map_or(bytes.len(), |p| i + 1 + p);
        out.push_str(&uri[i..next]);
        i = next;
    }
    out
}

/// The character one of HubSpot's listed escapes stands for (the two hex digits after `%`).
fn hubspot_escape(hex: &[u8]) -> Option<char> {
    let upper = [
        hex.first()?.to_ascii_uppercase(),
        hex.get(1)?.to_ascii_uppercase(),
    ];
    Some(match &upper {
        b"3A" => ':',
        b"2F" => '/',
        b"3F" => '?',
        b"40" => '@',
        b"21" => '!',
        b"24" => '$',
        b"27" => '\'',
        b"28" => '(',
        b"29" => ')',
        b"2A" => '*',
        b"2C" => ',',
        b"3B" => ';',
        _ => return None,
    })
}

/// Parses SendGrid's verification key (base64 of SubjectPublicKeyInfo DER, as shown in
/// SendGrid's settings). Call it once at cold start so a bad configuration fails loudly there
/// rather than as 401s. Whitespace inside the base64 (a wrapped copy-paste) is ignored.
pub fn parse_sendgrid_key(public_key_b64_der: &str) -> Result<VerifyingKey, SignatureError> {
    const WHAT: &str = "SendGrid public key";
    let compact: String = public_key_b64_der
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = BASE64
        .decode(compact)
        .map_err(|e| malformed(WHAT, format!("invalid base64: {e}")))?;
    VerifyingKey::from_public_key_der(&der)
        .map_err(|e| malformed(WHAT, format!("not a P-256 SubjectPublicKeyInfo: {e}")))
}

/// Verifies SendGrid's signed event webhook, parsing `public_key_b64_der` on each call; prefer
/// [`verify_sendgrid_with_key`] with a key parsed once by [`parse_sendgrid_key`].
///
/// `max_age`: `None` skips the timestamp window (SendGrid documents none, and its published
/// test vector is from 2020); `Some(d)` refuses timestamps more than `d` away from `now`, past
/// or future.
pub fn verify_sendgrid<H: Headers + ?Sized>(
    headers: &H,
    body: &[u8],
    public_key_b64_der: &str,
    now: DateTime<Utc>,
    max_age: Option<Duration>,
) -> Result<(), SignatureError> {
    let key = parse_sendgrid_key(public_key_b64_der)?;
    verify_sendgrid_with_key(headers, body, &key, now, max_age)
}

/// [`verify_sendgrid`] with an already parsed key. The signature covers `timestamp + body` with
/// the body's exact bytes (real bodies end in `\r\n`): pass the raw body, never re-serialized JSON.
pub fn verify_sendgrid_with_key<H: Headers + ?Sized>(
    headers: &H,
    body: &[u8],
    key: &VerifyingKey,
    now: DateTime<Utc>,
    max_age: Option<Duration>,
) -> Result<(), SignatureError> {
    let signature = required(headers, SENDGRID_SIGNATURE)?;
    let timestamp = required(headers, SENDGRID_TIMESTAMP)?;
    let sent_s: i64 = timestamp
        .parse()
        .map_err(|_| malformed(SENDGRID_TIMESTAMP, "not an integer of seconds"))?;
    if let Some(max_age) = max_age {
        let max_s = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        let age_s = now.timestamp().saturating_sub(sent_s);
        if age_s.saturating_abs() > max_s {
            return Err(SignatureError::Stale {
                age_seconds: age_s,
                max_seconds: max_s,
            });
        }
    }
    let der = BASE64
        .decode(signature)
        .map_err(|e| malformed(SENDGRID_SIGNATURE, format!("invalid base64: {e}")))?;
    let signature = Signature::from_der(&der)
        .map_err(|_| malformed(SENDGRID_SIGNATURE, "not a DER ECDSA P-256 signature"))?;
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    key.verify(&message, &signature)
        .map_err(|_| SignatureError::Mismatch)
}

/// Verifies leadscore's generic events header, `X-Leadscore-Signature: sha256=<hex>` where hex is
/// HMAC-SHA256(key = secret, raw body); the `sha256=` prefix is optional (hex in either case).
/// Another `algo=` prefix is refused as `VersionNotAccepted`. An empty `secret` never verifies.
pub fn verify_hmac_sha256(
    header_value: Option<&str>,
    body: &[u8],
    secret: &str,
) -> Result<(), SignatureError> {
    let value = header_value
        .map(str::trim)
        .ok_or(SignatureError::MissingHeader(LEADSCORE_SIGNATURE))?;
    let hex = match value.split_once('=') {
        Some((algo, hex)) if algo.trim().eq_ignore_ascii_case("sha256") => hex.trim(),
        Some((algo, _)) => return Err(SignatureError::VersionNotAccepted(algo.trim().to_owned())),
        None => value,
    };
    let given = decode_hex32(hex, LEADSCORE_SIGNATURE)?;
    if secret.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let mut mac = hmac_sha256(secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// Checks Marketo's shared secret header (`X-Leadscore-Token`) against `expected`.
/// Both sides are hashed before a constant-time comparison, so neither the content nor the length
/// of the expected token leaks through timing. An empty `expected` never matches.
pub fn verify_token(header_value: Option<&str>, expected: &str) -> Result<(), SignatureError> {
    let given = header_value
        .map(str::trim)
        .ok_or(SignatureError::MissingHeader(LEADSCORE_TOKEN))?;
    let given = CtOutput::<Sha256>::new(Sha256::digest(given.as_bytes()));
    let wanted = CtOutput::<Sha256>::new(Sha256::digest(expected.as_bytes()));
    if given == wanted && !expected.is_empty() {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn hmac_sha256(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this never takes the fallback; it exists only to
    // avoid an unwrap.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| HmacSha256::new(&Default::default()))
}

/// Decodes a 64-digit hex SHA-256 value (either case).
fn decode_hex32(hex: &str, what: &'static str) -> Result<[u8; 32], SignatureError> {
    let digits = hex.as_bytes();
    if digits.len() != 64 {
        return Err(malformed(
            what,
            format!("{} characters, expected 64 hex digits", digits.len()),
        ));
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let hi = hex_value(pair[0]);
        let lo = hex_value(pair[1]);
        match (hi, lo) {
            (Some(hi), Some(lo)) => *byte = (hi << 4) | lo,
            _ => return Err(malformed(what, "not hexadecimal")),
        }
    }
    Ok(out)
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}
