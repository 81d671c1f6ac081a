/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone else wrote first (the version moved, or an alias points elsewhere): reload and retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store could not be reached or refused the call (throttling included): the sender retries.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// An item that cannot be read back (a bug or a foreign write): never the client's fault.
    #[error("corrupt item {key}: {problem}")]
    Corrupt { key: String, problem: String },
}
