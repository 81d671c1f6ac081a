//! Recorded webhook requests, one JSON object per line, as `leadscore demo --record` writes
//! them and `leadscore replay` reads them:
//!
//! ```json
//! {"at":"2026-01-06T09:00:00Z","method":"POST","path":"/webhooks/events","query":"",
//!  "headers":{"content-type":"application/json","x-leadscore-signature":"sha256=..."},
//!  "body":"{...}"}
//! ```
//!
//! `at` is when the request was received (the replay's clock for it); `body` is the raw body
//! as text, or `body_base64` when it is not UTF-8.

use crate::error::CliError;
use base64::Engine;
use chrono::{DateTime, Utc};
use leadscore_app::http::Request;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    at: DateTime<Utc>,
    #[serde(default = "post")]
    method: String,
    path: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_base64: Option<String>,
}

fn post() -> String {
    "POST".to_owned()
}

/// One line for a request received at `at`.
pub fn line(at: DateTime<Utc>, req: &Request) -> String {
    let (body, body_base64) = match std::str::from_utf8(&req.body) {
        Ok(text) => (Some(text.to_owned()), None),
        Err(_) => (
            None,
            Some(base64::engine::general_purpose::STANDARD.encode(&req.body)),
        ),
    };
    let line = Line {
        at,
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        body,
        body_base64,
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// Every request of a recording, with its time; a bad line is `file:line: problem`.
pub fn parse(file: &str, text: &str) -> Result<Vec<(DateTime<Utc>, Request)>, CliError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let bad = |message: String| CliError::Input {
            file: file.to_owned(),
            line: i + 1,
            message,
        };
        let l: Line = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        let body = match (l.body, l.body_base64) {
            (Some(text), None) => text.into_bytes(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| bad(format!("body_base64: {e}")))?,
            (None, None) => Vec::new(),
            (Some(_), Some(_)) => {
                return Err(bad("give `body` or `body_base64`, not both".to_owned()))
            }
        };
        let request = Request {
            method: l.method,
            path: l.path,
            query: l.query,
            headers: (l.headers.into_iter())
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            body,
        };
        out.push((l.at, request));
    }
    Ok(out)
}
