//! Source errors. Every one is the sender's mistake: the HTTP layer answers 400 (payload) or
//! 401 (signature) with the message, never 500.

/// A payload that cannot be used, naming where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// Not JSON (or not the form encoding the source uses).
    #[error("invalid body at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// JSON, but a field is missing or has the wrong type or value. `path` is like
    /// `[3].occurredAt` or `events[0].url`.
    #[error("{path}: {problem}")]
    Field { path: String, problem: String },
}

impl SourceError {
    pub fn field(path: impl Into<String>, problem: impl Into<String>) -> SourceError {
        SourceError::Field {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// From a serde_json error on the whole body: syntax errors keep their position.
    pub fn from_json(e: &serde_json::Error) -> SourceError {
        SourceError::Syntax {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }
    }
}

/// Why a request's signature (or token) was refused. The HTTP layer answers 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("malformed {what}: {problem}")]
    Malformed { what: &'static str, problem: String },
    #[error("timestamp is {age_seconds} s away from now (at most {max_seconds} s allowed)")]
    Stale { age_seconds: i64, max_seconds: i64 },
    #[error("signature does not match")]
    Mismatch,
    #[error("signature version {0} is not accepted")]
    VersionNotAccepted(String),
}
