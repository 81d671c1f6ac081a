//! The SES mailer: against moto's SES v2 (what is sent, an unverified sender), and against
//! a scripted loopback server speaking SES's error protocol (throttling, bad requests, 5xx).

mod support;

use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
use leadscore_notify::{
    email, slack, Channel, Failure, NotifyError, RetryPolicy, SesMailer, SlackWebhook,
};
use leadscore_store::testing::Moto;
use serde_json::Value;
use std::time::{Duration, Instant};
use support::{sample_notice, Reply, TestServer};

const SENDER: &str = "mql@leadscore.test";

fn recipients() -> Vec<String> {
    vec![
        "sales@acme.test".to_owned(),
        "ana.lead-owner@acme.test".to_owned(),
    ]
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(40),
        max_delay: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(5),
    }
}

async fn moto_client(moto: &Moto) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(&moto.sdk_config().await)
}

/// The messages moto recorded as sent.
async fn sent_messages(moto: &Moto) -> Vec<Value> {
    moto.sent_emails().await
}

#[tokio::test]
async fn sends_both_parts_to_every_recipient_through_ses() {
    let moto = Moto::start();
    let client = moto_client(&moto).await;
    client
        .create_email_identity()
        .email_identity(SENDER)
        .send()
        .await
        .unwrap();
    let mailer = SesMailer::new(&client, SENDER, recipients(), Duration::from_secs(10))
        .unwrap()
        .with_retry(fast());
    let notice = sample_notice();
    let expected = email::render(&notice);

    let delivery = Channel::send(&mailer, &notice).await.unwrap();

    assert_eq!(delivery.attempts, 1);
    assert!(delivery.message_id.is_some());
    let sent = sent_messages(&moto).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(m["source"], SENDER);
    assert_eq!(m["subject"], expected.subject.as_str());
    let to: Vec<&str> = m["destinations"]["ToAddresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(to, ["sales@acme.test", "ana.lead-owner@acme.test"]);
    // moto records one part, the HTML one when both are sent (moto/sesv2/responses.py);
    // the request carrying both parts is checked in `throttling_is_retried_with_backoff`.
    assert_eq!(m["body"], expected.html.as_str());
    assert_eq!(m["id"], delivery.message_id.unwrap().as_str());
}

#[tokio::test]
async fn an_unverified_sender_is_a_permanent_error() {
    let moto = Moto::start();
    let client = moto_client(&moto).await;
    let mailer = SesMailer::new(
        &client,
        "nobody@unverified.test",
        recipients(),
        Duration::from_secs(10),
    )
    .unwrap()
    .with_retry(fast());

    let err = mailer
        .send_email(&email::render(&sample_notice()))
        .await
        .unwrap_err();

    assert!(err.is_permanent(), "{err:?}");
    match err.failure() {
        Failure::Service { code, .. } => assert_eq!(code, "MessageRejected"),
        other => panic!("expected MessageRejected, got {other:?}"),
    }
    assert!(sent_messages(&moto).await.is_empty());
}

#[tokio::test]
async fn a_route_of_mixed_channels_delivers_one_notice_to_each() {
    let moto = Moto::start();
    let client = moto_client(&moto).await;
    client
        .create_email_identity()
        .email_identity(SENDER)
        .send()
        .await
        .unwrap();
    let slack_server = TestServer::start(vec![Reply::ok()]);
    let routes: Vec<Box<dyn Channel>> = vec![
        Box::new(SlackWebhook::new(&slack_server.url("/hook"), Duration::from_secs(5)).unwrap()),
        Box::new(SesMailer::new(&client, SENDER, recipients(), Duration::from_secs(10)).unwrap()),
    ];
    let notice = sample_notice();

    for route in &routes {
        route.send(&notice).await.unwrap();
    }

    assert_eq!(
        routes.iter().map(|r| r.name()).collect::<Vec<_>>(),
        ["slack", "email"]
    );
    assert_eq!(slack_server.requests()[0].json(), slack::render(&notice));
    assert_eq!(sent_messages(&moto).await.len(), 1);
}

// ------------------------------------------------------------------------------------------
// SES's error protocol, scripted
// ------------------------------------------------------------------------------------------

/// A client of the scripted server, as it would be of SES.
fn fake_ses(server: &TestServer) -> aws_sdk_sesv2::Client {
    let conf = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(server.url(""))
        .build();
    aws_sdk_sesv2::Client::from_conf(conf)
}

/// An SES v2 error answer (REST-JSON: the code in `x-amzn-errortype`).
fn ses_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::status(status, &format!(r#"{{"message":"{message}"}}"#))
        .header("Content-Type", "application/json")
        .header("x-amzn-errortype", code)
}

fn ses_ok(id: &str) -> Reply {
    Reply::status(200, &format!(r#"{{"MessageId":"{id}"}}"#))
        .header("Content-Type", "application/json")
}

fn mailer(server: &TestServer) -> SesMailer {
    SesMailer::new(
        &fake_ses(server),
        SENDER,
        recipients(),
        Duration::from_millis(500),
    )
    .unwrap()
    .with_retry(fast())
}

#[tokio::test]
async fn throttling_is_retried_with_backoff() {
    let server = TestServer::start(vec![
        ses_error(
            429,
            "TooManyRequestsException",
            "Maximum sending rate exceeded.",
        ),
        ses_error(400, "LimitExceededException", "Too many requests."),
        ses_ok("m-1"),
    ]);
    let started = Instant::now();

    let delivery = mailer(&server)
        .send_email(&email::render(&sample_notice()))
        .await
        .unwrap();

    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.message_id.as_deref(), Some("m-1"));
    let r = server.requests();
    assert_eq!(
        r.len(),
        3,
        "the SDK's own retries are off: one request per attempt"
    );
    assert!(r[1].at - r[0].at >= Duration::from_millis(20));
    assert!(r[2].at - r[1].at >= Duration::from_millis(40));
    assert!(started.elapsed() >= Duration::from_millis(60));
    // What was sent: SendEmail with both parts, to every recipient.
    assert_eq!(
        (r[0].method.as_str(), r[0].path.as_str()),
        ("POST", "/v2/email/outbound-emails")
    );
    let body = r[0].json();
    let expected = email::render(&sample_notice());
    assert_eq!(body["FromEmailAddress"], SENDER);
    assert_eq!(
        body["Destination"]["ToAddresses"],
        serde_json::json!(recipients())
    );
    let simple = &body["Content"]["Simple"];
    assert_eq!(simple["Subject"]["Data"], expected.subject.as_str());
    assert_eq!(simple["Body"]["Html"]["Data"], expected.html.as_str());
    assert_eq!(simple["Body"]["Text"]["Data"], expected.text.as_str());
    assert_eq!(simple["Body"]["Text"]["Charset"], "UTF-8");
}

#[tokio::test]
async fn server_errors_that_persist_exhaust_the_attempts() {
    let server = TestServer::start(vec![
        ses_error(500, "InternalFailure", "oops"),
        ses_error(503, "ServiceUnavailable", "busy"),
        ses_error(500, "InternalFailure", "oops"),
        ses_ok("too-late"),
    ]);

    let err = mailer(&server)
        .send_email(&email::render(&sample_notice()))
        .await
        .unwrap_err();

    assert_eq!(server.requests().len(), 3);
    match &err {
        NotifyError::Retryable {
            channel,
            attempts: 3,
            last: Failure::Service { code, status, .. },
        } => {
            assert_eq!(
                (channel.as_str(), code.as_str(), *status),
                ("email", "InternalFailure", Some(500))
            );
        }
        other => panic!("expected exhausted retries, got {other:?}"),
    }
}

#[tokio::test]
async fn rejections_are_permanent_and_not_retried() {
    for (status, code) in [
        (400, "MessageRejected"),
        (400, "MailFromDomainNotVerifiedException"),
        (400, "BadRequestException"),
        (400, "SendingPausedException"),
    ] {
        let server = TestServer::start(vec![ses_error(status, code, "no"), ses_ok("never")]);

        let err = mailer(&server)
            .send_email(&email::render(&sample_notice()))
            .await
            .unwrap_err();

        assert_eq!(server.requests().len(), 1, "{code} is not retried");
        assert!(err.is_permanent(), "{err:?}");
        assert!(
            matches!(err.failure(), Failure::Service { code: c, .. } if c == code),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let server = TestServer::start(vec![Reply::Hang(Duration::from_secs(3)), ses_ok("m-2")]);

    let delivery = mailer(&server)
        .send_email(&email::render(&sample_notice()))
        .await
        .unwrap();

    assert_eq!(
        (delivery.attempts, delivery.message_id.as_deref()),
        (2, Some("m-2"))
    );
}

#[test]
fn recipients_are_checked_up_front() {
    let server = TestServer::start(vec![]);
    let client = fake_ses(&server);
    let new =
        |from: &str, to: Vec<String>| SesMailer::new(&client, from, to, Duration::from_secs(1));
    assert!(new(SENDER, vec![]).is_err());
    assert!(new(SENDER, vec!["not-an-address".into()]).is_err());
    assert!(new(SENDER, vec!["a@b.test\r\nBcc: x@y.test".into()]).is_err());
    assert!(new(SENDER, (0..51).map(|i| format!("r{i}@acme.test")).collect()).is_err());
    assert!(new("Leadscore <mql@leadscore.test>", recipients()).is_ok());
}
