//! Email: the notice as a subject, an HTML part and a text part, and the Amazon SES v2
//! mailer that sends them.
//!
//! The HTML has inline styles only and no external assets (no images, fonts or style
//! sheets): mail clients strip `<style>` and block remote content, and a remote pixel
//! would leak who opened the mail.

use crate::notice::MqlNotice;
use crate::retry::RetryPolicy;
use crate::text::{escape_html, one_line, truncate};
use crate::{Channel, ConfigError, Delivery, Failure, NotifyError, SendFuture};
use aws_sdk_sesv2::config::http::HttpResponse;
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::config::timeout::TimeoutConfig;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;
use std::fmt::Write as _;
use std::time::Duration;

/// A subject line's length: longer ones are cut by mail clients anyway.
pub const SUBJECT_MAX: usize = 150;
/// Any one value (a name, a title, a reason) in the mail: webhooks can send anything.
const VALUE_MAX: usize = 500;
/// SES's limit on recipients per message (To, Cc and Bcc together).
pub const MAX_RECIPIENTS: usize = 50;

/// A rendered email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Renders the notice: "New MQL: Ana Silva (Acme), score 112, A1".
pub fn render(notice: &MqlNotice) -> Email {
    Email {
        subject: subject(notice),
        html: html(notice),
        text: text(notice),
    }
}

fn subject(n: &MqlNotice) -> String {
    let mut s = format!("New MQL: {}", value(n.display_name()));
    if let Some(c) = &n.company {
        let _ = write!(s, " ({})", value(c));
    }
    let _ = write!(s, ", score {}, {}", n.score, n.grade);
    truncate(&one_line(&s), SUBJECT_MAX)
}

/// One user value: on one line, cut to a sane length.
fn value(s: &str) -> String {
    truncate(&one_line(s), VALUE_MAX)
}

/// The facts, in the order both parts show them.
fn facts(n: &MqlNotice) -> Vec<(&'static str, String)> {
    let or_none = |v: Option<String>| v.map(|v| value(&v)).unwrap_or_else(|| "—".to_owned());
    vec![
        ("Score", n.score_line()),
        ("Grade", n.grade.to_string()),
        ("Products", or_none(n.products_line())),
        ("Title", or_none(n.job_title.clone())),
        ("Company", or_none(n.company.clone())),
        ("Country", or_none(n.country.clone())),
        (
            "Days since first touch",
            or_none(n.days_since_first_touch.map(|d| d.to_string())),
        ),
    ]
}

fn text(n: &MqlNotice) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "New MQL: {}", value(n.display_name()));
    if let Some(role) = n.role_line() {
        let _ = writeln!(t, "{}", value(&role));
    }
    if let (Some(email), true) = (&n.email, n.name.is_some()) {
        let _ = writeln!(t, "{}", value(email));
    }
    let _ = writeln!(t, "\nWhy now: {}\n", value(&n.trigger.to_string()));
    for (label, v) in facts(n) {
        let _ = writeln!(t, "{label}: {v}");
    }
    let _ = writeln!(t, "\nTop reasons:");
    if n.reasons.is_empty() {
        let _ = writeln!(t, "  No ledger entries are stored for this lead.");
    }
    for (i, r) in n.reasons.iter().enumerate() {
        let _ = writeln!(
            t,
            "  {}. {:>7}  {} ({})",
            i + 1,
            r.signed_points(),
            value(&r.title()),
            r.when()
        );
    }
    if let Some(crm) = &n.crm {
        let _ = writeln!(t, "\nOpen in {}: {}", crm.system, crm.url);
    }
    let _ = writeln!(
        t,
        "\nLead {} · qualified {} · model {}",
        value(&n.lead_id),
        n.qualified_at.format("%Y-%m-%d %H:%M UTC"),
        value(&n.model)
    );
    t
}

fn html(n: &MqlNotice) -> String {
    let e = |s: &str| escape_html(&value(s));
    let mut h = String::with_capacity(4096);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\n\
         <body style=\"margin:0;padding:0;background-color:#f4f5f7;\">\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background-color:#f4f5f7;\">\
         <tr><td align=\"center\" style=\"padding:24px 12px;\">\
         <table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:600px;width:100%;background-color:#ffffff;border:1px solid #d0d7de;border-radius:6px;font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5;color:#1f2328;\">\n\
         <tr><td style=\"padding:20px 24px 4px 24px;\">\
         <p style=\"margin:0;font-size:12px;font-weight:bold;letter-spacing:1px;text-transform:uppercase;color:#57606a;\">New MQL</p>\
         <h1 style=\"margin:4px 0 0 0;font-size:22px;line-height:1.3;color:#1f2328;\">{name}</h1>",
        title = escape_html(&subject(n)),
        name = e(n.display_name()),
    );
    if let Some(role) = n.role_line() {
        let _ = write!(
            h,
            "<p style=\"margin:4px 0 0 0;color:#57606a;\">{}</p>",
            e(&role)
        );
    }
    if let (Some(email), true) = (&n.email, n.name.is_some()) {
        let _ = write!(
            h,
            "<p style=\"margin:2px 0 0 0;color:#57606a;\">{}</p>",
            e(email)
        );
    }
    let _ = write!(
        h,
        "</td></tr>\n<tr><td style=\"padding:12px 24px;\">\
         <p style=\"margin:0;padding:10px 12px;background-color:#ddf4ff;border-left:4px solid #0969da;font-weight:bold;\">{}</p></td></tr>\n\
         <tr><td style=\"padding:0 24px;\"><table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse;\">",
        e(&n.trigger.to_string())
    );
    for (label, v) in facts(n) {
        let _ = write!(
            h,
            "<tr><td style=\"padding:6px 12px 6px 0;border-bottom:1px solid #eaeef2;color:#57606a;white-space:nowrap;vertical-align:top;\">{label}</td>\
             <td style=\"padding:6px 0;border-bottom:1px solid #eaeef2;\">{}</td></tr>",
            escape_html(&v)
        );
    }
    let _ = write!(
        h,
        "</table></td></tr>\n<tr><td style=\"padding:16px 24px 0 24px;\">\
         <h2 style=\"margin:0 0 8px 0;font-size:16px;\">Top reasons</h2>"
    );
    if n.reasons.is_empty() {
        h.push_str(
            "<p style=\"margin:0;color:#57606a;\">No ledger entries are stored for this lead.</p>",
        );
    } else {
        h.push_str("<ol style=\"margin:0;padding-left:20px;\">");
        for r in &n.reasons {
            let colour = if r.points.0 >= 0 {
                "#1a7f37"
            } else {
                "#cf222e"
            };
            let _ = write!(
                h,
                "<li style=\"margin:0 0 6px 0;\"><span style=\"font-weight:bold;color:{colour};\">{}</span> {} \
                 <span style=\"color:#57606a;\">({})</span></li>",
                escape_html(&r.signed_points()),
                e(&r.title()),
                escape_html(&r.when())
            );
        }
        h.push_str("</ol>");
    }
    h.push_str("</td></tr>\n");
    if let Some(crm) = &n.crm {
        let _ = writeln!(
            h,
            "<tr><td style=\"padding:20px 24px 0 24px;\">\
             <a href=\"{url}\" style=\"display:inline-block;padding:10px 18px;background-color:#0969da;color:#ffffff;text-decoration:none;font-weight:bold;border-radius:6px;\">Open in {system}</a></td></tr>",
            url = escape_html(&crm.url),
            system = escape_html(crm.system),
        );
    }
    let _ = write!(
        h,
        "<tr><td style=\"padding:20px 24px 20px 24px;font-size:12px;color:#57606a;\">Lead {} · qualified {} · model {}</td></tr>\n\
         </table></td></tr></table></body></html>\n",
        e(&n.lead_id),
        n.qualified_at.format("%Y-%m-%d %H:%M UTC"),
        e(&n.model)
    );
    h
}

/// Sends notices from a verified SES identity to a fixed list of recipients.
#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    from: String,
    to: Vec<String>,
    retry: RetryPolicy,
    name: String,
}

impl SesMailer {
    /// A mailer on `client`'s configuration. The SDK's own retries are turned off (these
    /// retries replace them, so attempts do not multiply) and each attempt must finish
    /// within `timeout`. `from` is an address or `Name <address>` of a verified identity.
    pub fn new(
        client: &Client,
        from: &str,
        to: Vec<String>,
        timeout: Duration,
    ) -> Result<SesMailer, ConfigError> {
        check_address(from)?;
        if to.is_empty() {
            return Err(ConfigError::NoRecipients);
        }
        if to.len() > MAX_RECIPIENTS {
            return Err(ConfigError::TooManyRecipients(to.len()));
        }
        for a in &to {
            check_address(a)?;
        }
        let conf = client
            .config()
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(timeout)
                    .build(),
            )
            .build();
        Ok(SesMailer {
            client: Client::from_conf(conf),
            from: from.trim().to_owned(),
            to: to.into_iter().map(|a| a.trim().to_owned()).collect(),
            retry: RetryPolicy::default(),
            name: "email".to_owned(),
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> SesMailer {
        self.retry = retry;
        self
    }

    /// The name errors and logs use (default `email`).
    pub fn with_name(mut self, name: impl Into<String>) -> SesMailer {
        self.name = name.into();
        self
    }

    /// Sends a rendered email (SendEmail, Simple content with both parts, UTF-8).
    /// Throttling (`TooManyRequestsException`, `LimitExceededException`, a
    /// `ThrottlingException`), 5xx and transport failures retry with backoff; `MessageRejected`,
    /// `MailFromDomainNotVerifiedException`, `BadRequestException` (a bad recipient), a
    /// suspended account or paused sending are permanent.
    pub async fn send_email(&self, email: &Email) -> Result<Delivery, NotifyError> {
        let content = self
            .content(email)
            .map_err(|failure| NotifyError::Permanent {
                channel: self.name.clone(),
                failure,
            })?;
        let destination = Destination::builder()
            .set_to_addresses(Some(self.to.clone()))
            .build();
        let attempts = self.retry.attempts();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .client
                .send_email()
                .from_email_address(&self.from)
                .destination(destination.clone())
                .content(content.clone())
                .send()
                .await;
            let failure = match sent {
                Ok(out) => {
                    return Ok(Delivery {
                        attempts: attempt,
                        message_id: out.message_id().map(str::to_owned),
                    })
                }
                Err(e) => match classify(&e) {
                    (failure, true) => failure,
                    (failure, false) => {
                        return Err(NotifyError::Permanent {
                            channel: self.name.clone(),
                            failure,
                        })
                    }
                },
            };
            if attempt >= attempts {
                return Err(NotifyError::Retryable {
                    channel: self.name.clone(),
                    attempts: attempt,
                    last: failure,
                });
            }
            tokio::time::sleep(self.retry.backoff(attempt)).await;
        }
    }

    fn content(&self, email: &Email) -> Result<EmailContent, Failure> {
        let utf8 = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| Failure::Invalid(e.to_string()))
        };
        let message = Message::builder()
            .subject(utf8(&email.subject)?)
            .body(
                Body::builder()
                    .text(utf8(&email.text)?)
                    .html(utf8(&email.html)?)
                    .build(),
            )
            .build();
        Ok(EmailContent::builder().simple(message).build())
    }
}

impl Channel for SesMailer {
    fn name(&self) -> &str {
        &self.name
    }

    fn send<'a>(&'a self, notice: &'a MqlNotice) -> SendFuture<'a> {
        Box::pin(async move { self.send_email(&render(notice)).await })
    }
}

/// A failure and whether it is worth retrying.
fn classify(e: &SdkError<SendEmailError, HttpResponse>) -> (Failure, bool) {
    match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let status = se.raw().status().as_u16();
            let failure = Failure::Service {
                code: err.code().unwrap_or("unknown").to_owned(),
                message: err.message().unwrap_or_default().to_owned(),
                status: Some(status),
            };
            let retry = match err {
                SendEmailError::TooManyRequestsException(_)
                | SendEmailError::LimitExceededException(_) => true,
                SendEmailError::MessageRejected(_)
                | SendEmailError::MailFromDomainNotVerifiedException(_)
                | SendEmailError::BadRequestException(_)
                | SendEmailError::AccountSuspendedException(_)
                | SendEmailError::SendingPausedException(_)
                | SendEmailError::NotFoundException(_) => false,
                // Errors the model does not name: throttling by code, else by status.
                _ => {
                    matches!(err.code(), Some("ThrottlingException" | "Throttling"))
                        || status == 429
                        || status >= 500
                }
            };
            (failure, retry)
        }
        // No usable answer: the request may not have arrived, or the answer was lost.
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => (
            Failure::Transport(aws_sdk_sesv2::error::DisplayErrorContext(e).to_string()),
            true,
        ),
        // The request could not be built: sending it again changes nothing.
        _ => (
            Failure::Invalid(aws_sdk_sesv2::error::DisplayErrorContext(e).to_string()),
            false,
        ),
    }
}

/// An address SES can take: `a@b.io` or `Name <a@b.io>`, with no line breaks or control
/// characters (they would forge headers).
fn check_address(a: &str) -> Result<(), ConfigError> {
    let a = a.trim();
    let addr = match (a.rfind('<'), a.ends_with('>')) {
        (Some(open), true) => &a[open + 1..a.len() - 1],
        _ => a,
    };
    let ok = a.len() <= 320
        && !a.chars().any(char::is_control)
        && !addr.chars().any(char::is_whitespace)
        && matches!(addr.rsplit_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Address(a.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "a@b.io",
            "Leadscore <noreply@x.example.com>",
            " sales@acme.io ",
        ] {
            assert!(check_address(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "nobody",
            "a@b",
            "@b.io",
            "a b@c.io",
            "x@y.io\r\nBcc: z@w.io",
            "a@.io",
        ] {
            assert!(check_address(bad).is_err(), "{bad:?}");
        }
    }
}
