//! Telling sales about a new MQL: the notice, its renderings and the channels that deliver it.
//!
//! - [`notice`]: [`MqlNotice`], built by a pure function from the lead's state, its ledger
//!   entries and the MQL transition: who the lead is, the score and grade, why it qualified,
//!   the top reasons and a link to the CRM record.
//! - [`slack`]: Block Kit for an incoming webhook, within Slack's limits, and
//!   [`SlackWebhook`], which posts it.
//! - [`email`]: subject, HTML and text parts, and [`SesMailer`], which sends them with
//!   Amazon SES v2.
//!
//! Both channels implement [`Channel`], so a notifier can route one notice to several
//! channels of either kind. Delivery is at least once: a request that timed out may have
//! been delivered, and is sent again.

pub mod email;
pub mod notice;
mod retry;
pub mod slack;
#[cfg(feature = "testing")]
pub mod testing;
mod text;

pub use email::SesMailer;
pub use notice::{
    build_notice, CrmLink, CrmLinks, HubSpotPortal, MqlNotice, NoticeError, NoticeInput,
    ProductScore, ReasonKind, ReasonLine, Trigger,
};
pub use retry::RetryPolicy;
pub use slack::SlackWebhook;

use std::future::Future;
use std::pin::Pin;

/// What a successful send reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Requests made, the successful one included.
    pub attempts: u32,
    /// The provider's id for the message, when it gives one (SES does, Slack does not).
    pub message_id: Option<String>,
}

/// Why one request failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The service answered with an error status; `body` is what it said (Slack's error
    /// code, such as `channel_not_found`), cut to a readable length.
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// No answer: a timeout, a refused or broken connection.
    #[error("{0}")]
    Transport(String),
    /// An AWS service error, by its code.
    #[error("{code}: {message}")]
    Service {
        code: String,
        message: String,
        status: Option<u16>,
    },
    /// The request could not be built.
    #[error("{0}")]
    Invalid(String),
}

/// A send that did not succeed. The split tells the caller what to do with the notice:
/// drop it and alert on `Permanent` (sending it again fails the same way: a wrong webhook
/// URL, an archived channel, an unverified sender), retry later on `Retryable`.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{channel}: permanent failure, not retried: {failure}")]
    Permanent { channel: String, failure: Failure },
    /// Transient failures (throttling, 5xx, timeouts) that outlasted the retry budget.
    #[error("{channel}: retries exhausted after {attempts} attempt(s): {last}")]
    Retryable {
        channel: String,
        attempts: u32,
        last: Failure,
    },
}

impl NotifyError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, NotifyError::Permanent { .. })
    }

    /// The (last) failure behind the error.
    pub fn failure(&self) -> &Failure {
        match self {
            NotifyError::Permanent { failure, .. } => failure,
            NotifyError::Retryable { last, .. } => last,
        }
    }
}

/// A channel's configuration is unusable. Never carries a secret (a webhook URL holds one).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the Slack webhook URL is not an absolute http(s) URL")]
    WebhookUrl,
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
    #[error("invalid email address {0:?}")]
    Address(String),
    #[error("no recipients")]
    NoRecipients,
    #[error("{0} recipients: SES takes at most 50 per message")]
    TooManyRecipients(usize),
}

/// The future [`Channel::send`] returns: boxed, so channels of different types can sit
/// behind one `dyn Channel`.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Delivery, NotifyError>> + Send + 'a>>;

/// Somewhere an MQL notice can be sent.
pub trait Channel: Send + Sync {
    /// A name for logs and errors (`slack`, `email`); never a secret.
    fn name(&self) -> &str;

    /// Renders the notice for this channel and delivers it, retrying transient failures
    /// within the channel's [`RetryPolicy`].
    fn send<'a>(&'a self, notice: &'a MqlNotice) -> SendFuture<'a>;
}
