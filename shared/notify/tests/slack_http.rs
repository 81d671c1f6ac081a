//! The Slack webhook client over real HTTP, against a scripted loopback server: what is
//! sent, how often, the waits honoured, and which failures are permanent.

mod support;

use leadscore_notify::{slack, Channel, Failure, NotifyError, RetryPolicy, SlackWebhook};
use std::net::TcpListener;
use std::time::{Duration, Instant};
use support::{sample_notice, Reply, TestServer};

/// The token part of a webhook URL: it must never show in an error.
const PATH: &str = "/services/T000/B000/XXXXSECRETXXXX";

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(40),
        max_delay: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(5),
    }
}

fn hook(server: &TestServer) -> SlackWebhook {
    SlackWebhook::new(&server.url(PATH), Duration::from_millis(500))
        .unwrap()
        .with_retry(fast())
}

fn assert_secret_hidden(e: &NotifyError) {
    let text = format!("{e} {e:?}");
    assert!(
        !text.contains("XXXXSECRETXXXX"),
        "the webhook token leaked: {text}"
    );
}

#[tokio::test]
async fn a_200_delivers_the_rendered_message_once() {
    let server = TestServer::start(vec![Reply::ok()]);
    let notice = sample_notice();
    let channel: Box<dyn Channel> = Box::new(hook(&server));

    let delivery = channel.send(&notice).await.unwrap();

    assert_eq!(delivery.attempts, 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", PATH));
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(r.json(), slack::render(&notice));
    assert!(r.json()["text"].as_str().unwrap().contains("Ana Silva"));
}

#[tokio::test]
async fn a_429_waits_retry_after_then_retries() {
    let server = TestServer::start(vec![
        Reply::status(429, "rate_limited").header("Retry-After", "1"),
        Reply::ok(),
    ]);
    let started = Instant::now();

    let delivery = hook(&server)
        .post(&slack::render(&sample_notice()))
        .await
        .unwrap();

    assert_eq!(delivery.attempts, 2);
    assert!(started.elapsed() >= Duration::from_secs(1));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1].at - requests[0].at >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(requests[0].body, requests[1].body, "the same message again");
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_gives_up_at_once_as_retryable() {
    let server = TestServer::start(vec![
        Reply::status(429, "rate_limited").header("Retry-After", "3600"),
        Reply::ok(),
    ]);
    let started = Instant::now();

    let err = hook(&server)
        .post(&slack::render(&sample_notice()))
        .await
        .unwrap_err();

    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.requests().len(), 1);
    match err {
        NotifyError::Retryable { attempts, last, .. } => {
            assert_eq!(attempts, 1);
            assert_eq!(
                last,
                Failure::Http {
                    status: 429,
                    body: "rate_limited".into()
                }
            );
        }
        other => panic!("expected retryable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_5xx_is_retried_with_backoff() {
    let server = TestServer::start(vec![
        Reply::status(500, "rollup_error"),
        Reply::status(503, ""),
        Reply::ok(),
    ]);
    let started = Instant::now();

    let delivery = hook(&server)
        .post(&slack::render(&sample_notice()))
        .await
        .unwrap();

    assert_eq!(delivery.attempts, 3);
    let r = server.requests();
    assert_eq!(r.len(), 3);
    // Backoff 40 ms then 80 ms, each at least half that with jitter.
    assert!(r[1].at - r[0].at >= Duration::from_millis(20));
    assert!(r[2].at - r[1].at >= Duration::from_millis(40));
    assert!(started.elapsed() >= Duration::from_millis(60));
}

#[tokio::test]
async fn a_5xx_that_persists_exhausts_the_attempts() {
    let server = TestServer::start(vec![
        Reply::status(500, "rollup_error"),
        Reply::status(500, "rollup_error"),
        Reply::status(500, "rollup_error"),
        Reply::ok(),
    ]);

    let err = hook(&server)
        .post(&slack::render(&sample_notice()))
        .await
        .unwrap_err();

    assert_eq!(server.requests().len(), 3, "bounded by max_attempts");
    assert!(!err.is_permanent());
    match &err {
        NotifyError::Retryable {
            channel,
            attempts,
            last,
        } => {
            assert_eq!((channel.as_str(), *attempts), ("slack", 3));
            assert_eq!(
                last,
                &Failure::Http {
                    status: 500,
                    body: "rollup_error".into()
                }
            );
        }
        other => panic!("expected retryable, got {other:?}"),
    }
    assert_secret_hidden(&err);
}

#[tokio::test]
async fn client_errors_are_permanent_with_slacks_answer() {
    for (status, body) in [
        (404, "channel_not_found"),
        (400, "invalid_payload"),
        (403, "action_prohibited"),
        (410, "channel_is_archived"),
    ] {
        let server = TestServer::start(vec![Reply::status(status, body), Reply::ok()]);

        let err = hook(&server)
            .with_name("slack:#sales")
            .post(&slack::render(&sample_notice()))
            .await
            .unwrap_err();

        assert_eq!(server.requests().len(), 1, "{status} is not retried");
        assert!(err.is_permanent());
        assert_eq!(
            err.failure(),
            &Failure::Http {
                status,
                body: body.into()
            }
        );
        assert!(err.to_string().contains("slack:#sales"), "{err}");
        assert!(err.to_string().contains(body), "{err}");
        assert_secret_hidden(&err);
    }
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let server = TestServer::start(vec![Reply::Hang(Duration::from_secs(3)), Reply::ok()]);
    let started = Instant::now();

    let delivery = hook(&server)
        .post(&slack::render(&sample_notice()))
        .await
        .unwrap();

    assert_eq!(delivery.attempts, 2);
    assert_eq!(server.requests().len(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "waited for the timeout"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "did not wait for the hang"
    );
}

#[tokio::test]
async fn timeouts_that_persist_exhaust_as_transport_failures() {
    let server = TestServer::start(vec![
        Reply::Hang(Duration::from_secs(3)),
        Reply::Hang(Duration::from_secs(3)),
    ]);
    let webhook = hook(&server).with_retry(RetryPolicy {
        max_attempts: 2,
        ..fast()
    });

    let err = webhook
        .post(&slack::render(&sample_notice()))
        .await
        .unwrap_err();

    assert_eq!(server.requests().len(), 2);
    match &err {
        NotifyError::Retryable {
            attempts: 2,
            last: Failure::Transport(why),
            ..
        } => {
            assert!(
                why.to_lowercase().contains("timed out"),
                "the cause is kept: {why}"
            );
        }
        other => panic!("expected exhausted transport failures, got {other:?}"),
    }
    assert_secret_hidden(&err);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_exhausted() {
    // A port that was free a moment ago: nothing listens on it.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let webhook = SlackWebhook::new(
        &format!("http://127.0.0.1:{port}{PATH}"),
        Duration::from_millis(500),
    )
    .unwrap()
    .with_retry(fast());

    let err = webhook
        .post(&slack::render(&sample_notice()))
        .await
        .unwrap_err();

    match &err {
        NotifyError::Retryable {
            attempts: 3,
            last: Failure::Transport(why),
            ..
        } => {
            assert!(
                why.to_lowercase().contains("connect"),
                "the cause is kept: {why}"
            );
        }
        other => panic!("expected exhausted transport failures, got {other:?}"),
    }
    assert_secret_hidden(&err);
}

#[test]
fn a_bad_url_is_a_configuration_error_without_the_url() {
    for bad in [
        "",
        "hooks.slack.com/services/x",
        "ftp://hooks.slack.com/x",
        "https://",
    ] {
        let err = SlackWebhook::new(bad, Duration::from_secs(1)).unwrap_err();
        assert!(!err.to_string().contains("hooks.slack.com"), "{err}");
    }
    let ok = SlackWebhook::new(
        "https://hooks.slack.com/services/T0/B0/XXXXSECRETXXXX",
        Duration::from_secs(1),
    )
    .unwrap();
    assert!(!format!("{ok:?}").contains("XXXXSECRETXXXX"));
}
