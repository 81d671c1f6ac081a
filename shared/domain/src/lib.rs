//! leadscore's scoring domain: the model file, the engine, the ledger and the lifecycle.
//!
//! Pure by design: no AWS, no async runtime, no I/O. Time comes in as an argument, so the
//! same code scores live webhooks, nightly sweeps and replays of history.

/// Rule, product and event ids: short strings kept inline (no allocation, no reference
/// counting when cloned) up to 24 bytes.
pub type Name = compact_str::CompactString;

pub mod account;
pub mod engine;
pub mod event;
pub mod grade;
pub mod ledger;
pub mod lifecycle;
pub mod merge;
pub mod model;
pub mod points;
pub mod replay;

pub use account::Account;
pub use engine::{apply, decay, next_due, LeadState, Outcome};
pub use event::{AttrValue, Attributes, Event, EventKind, FeedbackOutcome};
pub use grade::Grade;
pub use ledger::{explain, Cause, Contributor, Dimension, Ledger, LedgerEntry, Source};
pub use lifecycle::{Reason, Stage, Transition};
pub use merge::{merge, MergeOutcome};
pub use model::{Model, ModelError, ModelErrors};
pub use points::Points;
