//! Slack: the notice as Block Kit for an incoming webhook, and the client that posts it.
//!
//! Slack rejects a message whose blocks break a limit (`invalid_blocks`), so every text is
//! cut to its limit with an ellipsis, counted in UTF-16 units (never fewer than Slack's
//! characters). User text is escaped (`&`, `<`, `>`) so a name cannot become a link or an
//! `@channel`, and mrkdwn objects are `verbatim` so Slack does not auto-link it either.

use crate::notice::MqlNotice;
use crate::retry::RetryPolicy;
use crate::text::{escape_mrkdwn, len16, one_line, truncate, truncate_escaped};
use crate::{Channel, ConfigError, Delivery, Failure, NotifyError, SendFuture};
use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::fmt;
use std::time::Duration;

/// Slack's limits for a message (Block Kit reference: blocks, text objects, button element).
pub mod limits {
    /// Blocks in one message.
    pub const BLOCKS: usize = 50;
    /// A header block's plain text.
    pub const HEADER_TEXT: usize = 150;
    /// A text object, e.g. a section's text or a context element.
    pub const SECTION_TEXT: usize = 3000;
    /// Fields in one section, and the text of each.
    pub const FIELDS: usize = 10;
    pub const FIELD_TEXT: usize = 2000;
    /// A button's text and URL.
    pub const BUTTON_TEXT: usize = 75;
    pub const BUTTON_URL: usize = 3000;
    /// Elements in a context block.
    pub const CONTEXT_ELEMENTS: usize = 10;
    /// The top-level `text` (the notification fallback). Slack cuts it at 40,000; a
    /// notification only shows its start, so keep it short.
    pub const FALLBACK_TEXT: usize = 3000;
}

/// How much of the reasons section one reason may take, so five always fit.
const REASON_LINE: usize = 580;
/// Shown for a field with no value: Slack refuses empty text.
const NONE: &str = "—";

/// The Block Kit message for an incoming webhook: `text` (the notification fallback) and
/// `blocks` (header, summary, facts, top reasons, a CRM button, a footer).
pub fn render(notice: &MqlNotice) -> Value {
    let mut blocks = Vec::with_capacity(6);

    blocks.push(json!({
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": truncate(&format!("New MQL: {}", one_line(notice.display_name())), limits::HEADER_TEXT),
            "emoji": true,
        },
    }));

    let mut summary = format!("*{}*", escape_mrkdwn(&notice.trigger.to_string()));
    if let Some(role) = notice.role_line() {
        summary.push('\n');
        summary.push_str(&escape_mrkdwn(&role));
    }
    if let (Some(email), true) = (&notice.email, notice.name.is_some()) {
        summary.push('\n');
        summary.push_str(&escape_mrkdwn(email));
    }
    blocks.push(json!({
        "type": "section",
        "text": mrkdwn(truncate_escaped(&summary, limits::SECTION_TEXT)),
    }));

    let days = notice.days_since_first_touch.map(|d| d.to_string());
    let facts: [(&str, Option<String>); 7] = [
        ("Score", Some(notice.score_line())),
        ("Grade", Some(notice.grade.to_string())),
        ("Products", notice.products_line()),
        ("Title", notice.job_title.clone()),
        ("Company", notice.company.clone()),
        ("Country", notice.country.clone()),
        ("Days since first touch", days),
    ];
    let fields: Vec<Value> = facts
        .iter()
        .take(limits::FIELDS)
        .map(|(label, value)| {
            let value = value.as_deref().map(escape_mrkdwn);
            let text = format!("*{label}*\n{}", value.as_deref().unwrap_or(NONE));
            mrkdwn(truncate_escaped(&text, limits::FIELD_TEXT))
        })
        .collect();
    blocks.push(json!({ "type": "section", "fields": fields }));

    let mut reasons = String::from("*Top reasons*");
    if notice.reasons.is_empty() {
        reasons.push_str("\nNo ledger entries are stored for this lead.");
    }
    for r in &notice.reasons {
        let line = format!(
            "• `{}` {} ({})",
            r.signed_points(),
            escape_mrkdwn(&r.title()),
            r.when()
        );
        reasons.push('\n');
        reasons.push_str(&truncate_escaped(&line, REASON_LINE));
    }
    blocks.push(json!({
        "type": "section",
        "text": mrkdwn(truncate_escaped(&reasons, limits::SECTION_TEXT)),
    }));

    // A cut URL is a broken link: without room for it, no button.
    if let Some(crm) = notice
        .crm
        .as_ref()
        .filter(|c| len16(&c.url) <= limits::BUTTON_URL)
    {
        blocks.push(json!({
            "type": "actions",
            "elements": [{
                "type": "button",
                "text": {
                    "type": "plain_text",
                    "text": truncate(&format!("Open in {}", crm.system), limits::BUTTON_TEXT),
                },
                "url": crm.url,
                "style": "primary",
                "action_id": "open_crm_record",
            }],
        }));
    }

    let footer = format!(
        "Lead {} · qualified {} · model {}",
        escape_mrkdwn(&one_line(&notice.lead_id)),
        notice.qualified_at.format("%Y-%m-%d %H:%M UTC"),
        escape_mrkdwn(&one_line(&notice.model)),
    );
    blocks.push(json!({
        "type": "context",
        "elements": [mrkdwn(truncate_escaped(&footer, limits::SECTION_TEXT))],
    }));

    json!({ "text": fallback(notice), "blocks": blocks })
}

/// The plain-text notification: who, score and grade, why, and the CRM link.
pub fn fallback(notice: &MqlNotice) -> String {
    let mut head = format!("New MQL: {}", one_line(notice.display_name()));
    if let Some(company) = &notice.company {
        head.push_str(&format!(" ({company})"));
    }
    head.push_str(&format!(
        ", score {}, grade {}. {}.",
        notice.score, notice.grade, notice.trigger
    ));
    let tail = match &notice.crm {
        Some(crm) if len16(&crm.url) < limits::FALLBACK_TEXT / 2 => {
            format!(" {}", escape_mrkdwn(&crm.url))
        }
        _ => String::new(),
    };
    let head = truncate_escaped(&escape_mrkdwn(&head), limits::FALLBACK_TEXT - len16(&tail));
    head + &tail
}

fn mrkdwn(text: String) -> Value {
    json!({ "type": "mrkdwn", "text": text, "verbatim": true })
}

/// An incoming webhook. The URL is a secret (it carries the token): it is never logged nor
/// put in an error, and `Debug` hides it.
#[derive(Clone)]
pub struct SlackWebhook {
    client: reqwest::Client,
    url: reqwest::Url,
    retry: RetryPolicy,
    name: String,
}

impl fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackWebhook")
            .field("name", &self.name)
            .field("host", &self.url.host_str())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl SlackWebhook {
    /// A webhook at `url`; each request (connect, send, answer) must finish within
    /// `timeout`. Retries follow [`RetryPolicy::default`] until [`Self::with_retry`].
    pub fn new(url: &str, timeout: Duration) -> Result<SlackWebhook, ConfigError> {
        let url = reqwest::Url::parse(url.trim()).map_err(|_| ConfigError::WebhookUrl)?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(ConfigError::WebhookUrl);
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirected POST turns into a GET: a moved webhook is a configuration error.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        Ok(SlackWebhook {
            client,
            url,
            retry: RetryPolicy::default(),
            name: "slack".to_owned(),
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> SlackWebhook {
        self.retry = retry;
        self
    }

    /// The name errors and logs use (default `slack`), e.g. `slack:#sales-emea`.
    pub fn with_name(mut self, name: impl Into<String>) -> SlackWebhook {
        self.name = name.into();
        self
    }

    /// Posts a message (as [`render`] builds it). 2xx is success; 429 waits `Retry-After`
    /// seconds and retries; 5xx, timeouts and connection errors retry with backoff; any
    /// other status (Slack's 400 `invalid_payload`, 403 `action_prohibited`, 404
    /// `channel_not_found`, 410 `channel_is_archived`) is permanent, with Slack's answer.
    pub async fn post(&self, message: &Value) -> Result<Delivery, NotifyError> {
        let body = serde_json::to_vec(message).map_err(|e| NotifyError::Permanent {
            channel: self.name.clone(),
            failure: Failure::Invalid(e.to_string()),
        })?;
        let attempts = self.retry.attempts();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .client
                .post(self.url.clone())
                .header(CONTENT_TYPE, "application/json; charset=utf-8")
                .body(body.clone())
                .send()
                .await;
            let (failure, wait) = match sent {
                Ok(resp) if resp.status().is_success() => {
                    return Ok(Delivery {
                        attempts: attempt,
                        message_id: None,
                    })
                }
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = retry_after(resp.headers());
                    let failure = Failure::Http {
                        status: status.as_u16(),
                        body: read_body(resp).await,
                    };
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        match retry_after {
                            Some(w) if w > self.retry.max_retry_after => {
                                return Err(self.exhausted(attempt, failure));
                            }
                            Some(w) => (failure, w),
                            None => (failure, self.retry.backoff(attempt)),
                        }
                    } else if status.is_server_error() {
                        (failure, self.retry.backoff(attempt))
                    } else {
                        return Err(NotifyError::Permanent {
                            channel: self.name.clone(),
                            failure,
                        });
                    }
                }
                Err(e) => (
                    Failure::Transport(transport_error(e)),
                    self.retry.backoff(attempt),
                ),
            };
            if attempt >= attempts {
                return Err(self.exhausted(attempt, failure));
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn exhausted(&self, attempts: u32, last: Failure) -> NotifyError {
        NotifyError::Retryable {
            channel: self.name.clone(),
            attempts,
            last,
        }
    }
}

impl Channel for SlackWebhook {
    fn name(&self) -> &str {
        &self.name
    }

    fn send<'a>(&'a self, notice: &'a MqlNotice) -> SendFuture<'a> {
        Box::pin(async move { self.post(&render(notice)).await })
    }
}

/// A transport error with its causes ("error sending request: client error (Connect):
/// tcp connect error: Connection refused"), without the URL: it holds the webhook's token.
fn transport_error(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut out = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// `Retry-After` in seconds, as Slack sends it. (The HTTP-date form is not parsed: without
/// it the backoff applies.)
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs)
}

/// The error body, for the error message: Slack answers a short code (`channel_not_found`);
/// anything longer is cut.
async fn read_body(resp: reqwest::Response) -> String {
    match resp.text().await {
        Ok(t) => truncate(t.trim(), 300),
        Err(_) => String::new(),
    }
}
