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
use leadscore_app::config::IngestConfig;
use leadscore_app::http::Request;
use leadscore_app::notify::Routes;
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
    let model_text = super::read(&args.model)?;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let ingest = IngestConfig::from_lookup(env, &model_text, &args.model.display().to_string())
        .map_err(|e| match e {
            leadscore_app::config::ConfigError::Model(errors) => CliError::Model(errors),
            other => CliError::Usage(other.to_string()),
        })?;
    let model = leadscore_domain::Model::from_toml(&model_text, &args.model.display().to_string())?;
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
    let printed = Printed::default();
    let notices = if routes.is_empty() {
        // Nothing configured: one default route, printed.
        routes = Routes::parse(None, Some("http://localhost/leadscore-print"), None)
            .map_err(|e| CliError::Usage(e.to_string()))?;
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
    println!("leadscore listening on http://{addr}");
    crate::with_store!(opened, |s| {
        let local = Local::new(s, model, ingest, routes, &notices)?;
        let app = Arc::new(App {
            local,
            opened,
            printed,
        });
        if args.nightly {
            tokio::spawn(nightly(app.clone()));
        }
        let router = axum::Router::new().fallback(move |req: HttpRequest<Body>| {
            let app = app.clone();
            async move { app.handle(req).await }
        });
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(CliError::Output)?;
        opened.persist()
    })
}

struct App<S: 'static> {
    local: Local<'static, S>,
    opened: &'static Opened,
    printed: Printed,
}

/// The largest body read (the ingest handler has its own, configurable limit below this).
const MAX_BODY: usize = 8 << 20;

impl<S: LeadStore + SentLog + DueIndex> App<S> {
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
        if path == "/admin/sweep" {
            if parts.method != axum::http::Method::POST {
                return reply(405, json!({"error": "POST /admin/sweep"}));
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
                self.print_notices();
                if let Err(e) = self.opened.persist() {
                    tracing::error!("cannot save the embedded store: {e}");
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
                for h in &night.handoffs {
                    println!(
                        "to {}: {} ({})",
                        h["to"].as_str().unwrap_or("?"),
                        h["lead"].as_str().unwrap_or("?"),
                        h["reason_text"].as_str().unwrap_or("")
                    );
                }
                if let Err(e) = self.opened.persist() {
                    tracing::error!("cannot save the embedded store: {e}");
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

    fn print_notices(&self) {
        for notice in self
            .printed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            println!("{}", notice_text(&notice));
        }
    }
}

/// Runs the sweep every night at 02:00 UTC, through the day before.
async fn nightly<S: LeadStore + SentLog + DueIndex>(app: Arc<App<S>>) {
    loop {
        let now = Utc::now();
        let next = Utc.from_utc_datetime(
            &(now.date_naive() + Duration::days(1))
                .and_hms_opt(2, 0, 0)
                .unwrap_or_default(),
        );
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        let _ = app.sweep("", Utc::now()).await;
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
