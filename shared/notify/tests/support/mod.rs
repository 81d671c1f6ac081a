//! Test support: a scripted loopback HTTP server, a model, and notices to render.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use leadscore_domain::{Grade, Points};
use leadscore_notify::{CrmLink, MqlNotice, ProductScore, ReasonKind, ReasonLine, Trigger};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What the server answers to one request.
#[derive(Clone, Debug)]
pub enum Reply {
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Reads the request, then answers nothing for this long and closes: a client timeout.
    Hang(Duration),
}

impl Reply {
    pub fn status(status: u16, body: &str) -> Reply {
        Reply::Answer {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    /// Slack's success: 200 `ok`.
    pub fn ok() -> Reply {
        Reply::status(200, "ok")
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Answer { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// An HTTP/1.1 server on a free loopback port that answers each request with the next
/// reply of its script (500 `script exhausted` after the last), closing the connection
/// after each, and records what it received.
pub struct TestServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    pub fn start(script: Vec<Reply>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (requests, stop) = (requests.clone(), stop.clone());
            thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (requests, script) = (requests.clone(), script.clone());
                    // One thread per connection, so a hanging reply holds up nothing else.
                    thread::spawn(move || serve(conn, &requests, &script));
                }
            });
        }
        TestServer {
            addr,
            requests,
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(mut conn: TcpStream, requests: &Mutex<Vec<Recorded>>, script: &Mutex<VecDeque<Reply>>) {
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut start = lines.next().unwrap_or("").split(' ');
    let method = start.next().unwrap_or("").to_owned();
    let path = start.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let reply = {
        // Record and take the reply together, so request order matches script order.
        let mut requests = requests.lock().unwrap();
        requests.push(Recorded {
            method,
            path,
            headers,
            body,
            at: Instant::now(),
        });
        script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Reply::status(500, "script exhausted"))
    };
    match reply {
        Reply::Hang(d) => thread::sleep(d),
        Reply::Answer {
            status,
            headers,
            body,
        } => {
            let mut out = format!("HTTP/1.1 {status} Status\r\n");
            for (n, v) in &headers {
                out.push_str(&format!("{n}: {v}\r\n"));
            }
            out.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ));
            let _ = conn.write_all(out.as_bytes());
            let _ = conn.flush();
        }
    }
}

pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
}

/// A notice as `build_notice` would make it, with every field set.
pub fn sample_notice() -> MqlNotice {
    let reason = |kind, rule: &str, label: &str, points: i64, entries, first, last| ReasonLine {
        kind,
        rule: rule.to_owned(),
        label: label.to_owned(),
        points: Points::whole(points),
        entries,
        first_at: at(first, 9),
        last_at: at(last, 9),
        product: None,
    };
    MqlNotice {
        lead_id: "hubspot:501".to_owned(),
        name: Some("Ana Silva".to_owned()),
        email: Some("ana@acme.io".to_owned()),
        job_title: Some("VP Marketing".to_owned()),
        company: Some("Acme Analytics".to_owned()),
        country: Some("Portugal".to_owned()),
        score: Points(11250),
        fit: Points::whole(60),
        activity: Points(5250),
        grade: Grade {
            fit: 'A',
            activity: 1,
        },
        products: vec![
            ProductScore {
                product: "analytics".to_owned(),
                points: Points::whole(80),
            },
            ProductScore {
                product: "automation".to_owned(),
                points: Points::whole(12),
            },
        ],
        trigger: Trigger::ScoreReached {
            score: Points(11250),
            threshold: Points::whole(100),
        },
        qualified_at: at(9, 14),
        first_seen_at: Some(at(1, 8)),
        days_since_first_touch: Some(8),
        reasons: vec![
            reason(
                ReasonKind::Fit,
                "title-executive",
                "Economic buyers",
                40,
                1,
                1,
                1,
            ),
            reason(
                ReasonKind::Activity,
                "pricing-page",
                "Pricing page",
                30,
                3,
                2,
                9,
            ),
            reason(
                ReasonKind::Combination,
                "research-then-demo",
                "Looked at pricing, then asked for a demo",
                25,
                1,
                9,
                9,
            ),
            reason(
                ReasonKind::Activity,
                "webinar",
                "Attended a webinar",
                20,
                1,
                5,
                5,
            ),
            reason(
                ReasonKind::Decay,
                "inactivity",
                "no recent activity",
                -2,
                2,
                6,
                7,
            ),
        ],
        crm: Some(CrmLink {
            system: "HubSpot",
            url: "https://app.hubspot.com/contacts/4242/record/0-1/501".to_owned(),
        }),
        model: "northwind-b2b-saas".to_owned(),
    }
}
