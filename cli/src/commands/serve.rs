//! `leadscore serve`: the webhook routes over HTTP on this machine, through the same handlers
//! as the Lambdas and configured by the same `LEADSCORE_*` variables; the nightly sweep on
//! demand (`POST /admin/sweep`) or on a local schedule (`--nightly`); MQL notices to the
//! routing's Slack webhooks, or printed.

use crate::error::CliError;
use crate::local::{notice_text, Local, Notices, Printed};
use crate::stores::{Opened, StoreArgs};
use axum::body::{to_bytes, Body};
use axum::http::{Request as HttpRequest, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use leadscore_app::http::Request;
use leadscore_app::notify::{RouteResult, Routes};
use leadscore_store::{DueIndex, LeadStore, SentLog};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// The address to listen on (port 0: any free port; the first line printed says which).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The model file (`LEADSCORE_MODEL` when set, as for the Lambdas).
    #[arg(long, env = "LEADSCORE_MODEL", default_value = "models/example.toml")]
    pub model: PathBuf,
    /// The routing file for notices (`LEADSCORE_ROUTES_FILE`); `LEADSCORE_SLACK_WEBHOOK_URL`
    /// and `LEADSCORE_NOTIFY_EMAILS` add the default route. Without any, notices are printed.
    #[arg(long, env = "LEADSCORE_ROUTES_FILE")]
    pub routes: Option<PathBuf>,
    /// Run the nightly sweep at 02:00 UTC every day while serving.
    #[arg(long)]
    pub nightly: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: &Args) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Output)?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: &Args) -> Result<(), CliError> {
    let env = leadscore_app::config::non_blank(|k| std::env::var(k).ok());
    let (ingest, model) = super::ingest_config(&args.model, &env)?;
    let routes_text = match &args.routes {
        Some(path) => Some(super::read(path)?),
        None => None,
    };
    let mut routes = Routes::parse(
        routes_text.as_deref(),
        env("LEADSCORE_SLACK_WEBHOOK_URL").as_deref(),
        env("LEADSCORE_NOTIFY_EMAILS").as_deref(),
    )
    .map_err(|e| CliError::Usage(format!("routing: {e}")))?
    .with_secrets(|r| r.strip_prefix("env:").and_then(|v| env(v.trim())))
    .map_err(|e| CliError::Usage(format!("routing: {e}")))?;
    let hubspot = match env("LEADSCORE_HUBSPOT_PORTAL_ID") {
        None => None,
        Some(id) => Some(leadscore_notify::HubSpotPortal::new(
            id.trim().parse().map_err(|_| {
                CliError::Usage(format!(
                    "LEADSCORE_HUBSPOT_PORTAL_ID: `{id}` is not a number"
                ))
            })?,
        )),
    };
    let printed = Printed::default();
    let notices = if routes.is_empty() {
        // Nothing configured: one default route, printed.
        routes = crate::local::print_routes()?;
        Notices::Print(printed.clone())
    } else {
        Notices::Routes(printed.clone())
    };
    // The server runs until the process ends: its store and state live as long.
    let opened: &'static Opened = Box::leak(Box::new(args.store.open().await?));
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| CliError::Usage(format!("cannot listen on {}: {e}", args.addr)))?;
    let addr = listener.local_addr().map_err(CliError::Output)?;
    say(&format!("leadscore listening on http://{addr}"));
    crate::with_store!(opened, |s| {
        let mut local = Local::new(s, model, ingest, routes, &notices)?;
        local.hubspot = hubspot.clone();
        let app = Arc::new(App {
            local,
            opened,
            printed,
            saving: std::sync::Mutex::new(()),
        });
        // Fail now, not on the first webhook, when the store cannot be written.
        app.save()?;
        if args.nightly {
            tokio::spawn(nightly(app.clone()));
        }
        let router = axum::Router::new().fallback(move |req: HttpRequest<Body>| {
            let app = app.clone();
            async move { app.handle(req).await }
        });
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown())
            .await
            .map_err(CliError::Output)?;
        opened.persist()
    })
}

struct App<S: 'static> {
    local: Local<'static, S>,
    opened: &'static Opened,
    printed: Printed,
    /// One save at a time: each writes a snapshot taken under this lock, so the file never
    /// goes back to an older state.
    saving: std::sync::Mutex<()>,
}

/// Ctrl-C or SIGTERM (a service manager's stop): stop accepting, finish, save.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A line on stdout; a closed stdout (`serve | head`) is not worth a panic.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The largest body read (the ingest handler has its own, configurable limit below this).
const MAX_BODY: usize = 8 << 20;

impl<S: LeadStore + SentLog + DueIndex> App<S> {
    fn save(&self) -> Result<(), CliError> {
        let _one = self.saving.lock().unwrap_or_else(|e| e.into_inner());
        self.opened.persist()
    }

    /// After a change: saved, or a 503 so the sender retries (a redelivery is deduplicated).
    fn saved_or_503(&self) -> Option<HttpResponse> {
        match self.save() {
            Ok(()) => None,
            Err(e) => {
                eprintln!("{e}");
                Some(reply(
                    503,
                    json!({"error": "the embedded store cannot be saved; retry later"}),
                ))
            }
        }
    }

    async fn handle(&self, req: HttpRequest<Body>) -> HttpResponse {
        let (parts, body) = req.into_parts();
        let Ok(body) = to_bytes(body, MAX_BODY).await else {
            return reply(413, json!({"error": "body too large or unreadable"}));
        };
        let path = parts.uri.path().to_owned();
        let query = parts.uri.query().unwrap_or("").to_owned();
        let now = Utc::now();
        if path == "/healthz" {
            return reply(200, json!({"ok": true}));
        }
        if path == "/admin/sweep" || path == "/admin/redrive" {
            if parts.method != axum::http::Method::POST {
                let mut r = reply(405, json!({"error": format!("POST {path}")}));
                r.headers_mut().insert(
                    axum::http::header::ALLOW,
                    axum::http::HeaderValue::from_static("POST"),
                );
                return r;
            }
            if path == "/admin/redrive" {
                return self.redrive(now).await;
            }
            return self.sweep(&query, now).await;
        }
        let mut headers = HashMap::new();
        for (name, value) in &parts.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers
                .entry(name.as_str().to_ascii_lowercase())
                .and_modify(|v: &mut String| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        let request = Request {
            method: parts.method.as_str().to_owned(),
            path,
            query,
            headers,
            body: body.to_vec(),
        };
        match self.local.ingest(&request, now).await {
            Ok(done) => {
                // Saved before anything is printed; only requests that were accepted change
                // the store.
                if done.response.status == 200 {
                    if let Some(unavailable) = self.saved_or_503() {
                        return unavailable;
                    }
                }
                self.print_notices();
                for (lead, _, results) in &done.notified {
                    for r in results {
                        if !matches!(r, RouteResult::Sent | RouteResult::AlreadySent) {
                            eprintln!("notice for {lead} not sent: {r:?} (POST /admin/redrive to send it again)");
                        }
                    }
                }
                let mut response = reply(done.response.status, done.response.body);
                for (k, v) in done.response.headers {
                    if let (Ok(k), Ok(v)) = (
                        axum::http::HeaderName::try_from(k),
                        axum::http::HeaderValue::try_from(v),
                    ) {
                        response.headers_mut().insert(k, v);
                    }
                }
                response
            }
            Err(e) => reply(500, json!({"error": e.to_string()})),
        }
    }

    async fn sweep(&self, query: &str, now: DateTime<Utc>) -> HttpResponse {
        let through = match query.split('&').find_map(|kv| kv.strip_prefix("through=")) {
            None => now.date_naive() - Duration::days(1),
            Some(day) => match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
                Ok(d) if d < now.date_naive() => d,
                Ok(d) => {
                    return reply(
                        400,
                        json!({"error": format!("through={d}: the day is not over yet")}),
                    )
                }
                Err(_) => {
                    return reply(
                        400,
                        json!({"error": format!("through={day}: not a date like 2026-03-31")}),
                    )
                }
            },
        };
        match self.local.sweep(through, now).await {
            Ok(night) => {
                if let Some(unavailable) = self.saved_or_503() {
                    return unavailable;
                }
                for h in &night.handoffs {
                    say(&format!(
                        "to {}: {} ({})",
                        h["to"].as_str().unwrap_or("?"),
                        h["lead"].as_str().unwrap_or("?"),
                        h["reason_text"].as_str().unwrap_or("")
                    ));
                }
                reply(
                    200,
                    json!({
                        "through": through.to_string(),
                        "leads": night.leads,
                        "to_nurture": night.to_nurture,
                        "recycled": night.recycled,
                        "handoffs": night.handoffs,
                    }),
                )
            }
            Err(e) => reply(500, json!({"error": e.to_string()})),
        }
    }

    async fn redrive(&self, now: DateTime<Utc>) -> HttpResponse {
        match self.local.redrive(now).await {
            Ok(lines) => {
                self.print_notices();
                if let Some(unavailable) = self.saved_or_503() {
                    return unavailable;
                }
                reply(200, json!({ "notices": lines }))
            }
            Err(e) => reply(500, json!({"error": e.to_string()})),
        }
    }

    fn print_notices(&self) {
        for notice in self
            .printed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            say(&notice_text(&notice));
        }
    }
}

/// The next 02:00 UTC strictly after `now`.
pub fn next_night(now: DateTime<Utc>) -> DateTime<Utc> {
    let at = |day: NaiveDate| Utc.from_utc_datetime(&day.and_hms_opt(2, 0, 0).unwrap_or_default());
    let today = at(now.date_naive());
    if now < today {
        today
    } else {
        at(now.date_naive() + Duration::days(1))
    }
}

/// Runs the sweep every night at 02:00 UTC, through the day before.
async fn nightly<S: LeadStore + SentLog + DueIndex>(app: Arc<App<S>>) {
    loop {
        let now = Utc::now();
        let wait = (next_night(now) - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        let response = app.sweep("", Utc::now()).await;
        if !response.status().is_success() {
            eprintln!("the nightly sweep failed: HTTP {}", response.status());
        }
    }
}

fn reply(status: u16, body: serde_json::Value) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nightly_sweep_runs_at_the_next_two_oclock() {
        let t = |d: u32, h: u32, m: u32| Utc.with_ymd_and_hms(2026, 3, d, h, m, 0).unwrap();
        assert_eq!(
            next_night(t(10, 1, 0)),
            t(10, 2, 0),
            "before 02:00: tonight"
        );
        assert_eq!(
            next_night(t(10, 2, 0)),
            t(11, 2, 0),
            "at 02:00: the next one"
        );
        assert_eq!(next_night(t(10, 3, 0)), t(11, 2, 0));
        assert_eq!(next_night(t(10, 23, 59)), t(11, 2, 0));
    }
}
