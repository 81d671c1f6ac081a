//! Every way an ingest request can fail, and the one place they become HTTP responses.
//! A client's mistake is always a 4xx naming the problem; only the store answers 5xx.

use crate::http::Response;
use leadscore_sources::{SignatureError, SourceError};
use leadscore_store::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("no route for {0}")]
    NotFound(String),
    #[error("method {0} is not allowed here (use POST)")]
    MethodNotAllowed(String),
    #[error("content type `{got}` is not accepted here (send {expected})")]
    UnsupportedMediaType { got: String, expected: &'static str },
    #[error("body is {size} bytes, above the limit of {limit}")]
    PayloadTooLarge { size: usize, limit: usize },
    #[error("{source_name} is not configured on this deployment (no secret set)")]
    NotConfigured { source_name: &'static str },
    #[error("{0}")]
    Unauthorized(#[from] SignatureError),
    #[error("{0}")]
    BadRequest(#[from] SourceError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl IngestError {
    pub fn status(&self) -> u16 {
        match self {
            IngestError::NotFound(_) => 404,
            IngestError::MethodNotAllowed(_) => 405,
            IngestError::UnsupportedMediaType { .. } => 415,
            IngestError::PayloadTooLarge { .. } => 413,
            // Refused like a bad signature: the sender cannot authenticate to this source.
            IngestError::NotConfigured { .. } | IngestError::Unauthorized(_) => 401,
            IngestError::BadRequest(_) => 400,
            // Conflicts that outlived the retries, and an unreachable store: the sender retries.
            IngestError::Store(StoreError::Conflict(_) | StoreError::Unavailable(_)) => 503,
            IngestError::Store(StoreError::Corrupt { .. }) => 500,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            IngestError::NotFound(_) => "not_found",
            IngestError::MethodNotAllowed(_) => "method_not_allowed",
            IngestError::UnsupportedMediaType { .. } => "unsupported_media_type",
            IngestError::PayloadTooLarge { .. } => "payload_too_large",
            IngestError::NotConfigured { .. } => "source_not_configured",
            IngestError::Unauthorized(_) => "unauthorized",
            IngestError::BadRequest(SourceError::Syntax { .. }) => "invalid_body",
            IngestError::BadRequest(SourceError::Field { .. }) => "invalid_field",
            IngestError::Store(_) => "store_unavailable",
        }
    }

    /// What the sender is told. Store failures stay generic: the SDK's error carries request
    /// ids and internals that belong in our logs, not in a webhook sender's.
    fn public_message(&self) -> String {
        match self {
            IngestError::Store(_) => "storage is unavailable; retry later".into(),
            other => other.to_string(),
        }
    }

    pub fn to_response(&self) -> Response {
        if self.status() >= 500 {
            tracing::error!(error = %self, "ingest failed");
        }
        let mut body = json!({ "error": self.code(), "message": self.public_message() });
        if let IngestError::BadRequest(SourceError::Field { path, problem }) = self {
            body["field"] = json!(path);
            body["problem"] = json!(problem);
        }
        let mut r = Response::json(self.status(), body);
        if let IngestError::MethodNotAllowed(_) = self {
            r.headers.push(("allow".into(), "POST".into()));
        }
        r
    }
}
