//! A seeded generator of a realistic demo sample.
//!
//! [`generate`] invents `leads` people of six [`Persona`]s, from the ideal buyer to students
//! and competitors, who arrive over `days` days and behave like their persona: they browse the
//! website, fill forms, download content, register for and attend webinars, watch the product
//! tour, start trials and ask for demos; they open and click the marketing emails, unsubscribe,
//! bounce or report spam; many go quiet for weeks. Sales answers the hand-raisers in HubSpot
//! (lead status and lifecycle stage changes, which leadscore reads as sales feedback).
//!
//! Every delivery is the HTTP request the real sender would make:
//! - HubSpot app webhooks (`contact.creation`, `contact.propertyChange`) in batches of at most
//!   100 events, signed with v3 (`X-HubSpot-Signature-v3` over method + URL + body +
//!   timestamp), with the legacy v1 header HubSpot still adds;
//! - SendGrid's Event Webhook, one batch per 30 seconds, the body ending in `\r\n`, signed with
//!   ECDSA P-256 over `timestamp + body`;
//! - leadscore's generic events (`docs/events-format.md`) from three senders: the website
//!   tracker and the product (one `{"events": [...]}` per visit), the webinar platform (one
//!   array of attendees per webinar), each signed `X-Leadscore-Signature: sha256=<hex>`.
//!
//! Each [`Delivery`] carries the time it is made (`at`): pass it as `now` to
//! `leadscore_app::ingest::handle`. Requests are signed at that time, so HubSpot's 5-minute
//! window and SendGrid's age check hold on the simulated clock.
//!
//! Deterministic: the same [`DemoConfig`] and [`DemoSecrets`] give byte-identical requests
//! (one ChaCha8 stream, JSON objects with sorted keys, RFC 6979 deterministic ECDSA).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use leadscore_app::config as vars;
use leadscore_app::http::Request;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;

/// The `source` of HubSpot deliveries (path `/webhooks/hubspot`).
pub const HUBSPOT: &str = "hubspot";
/// The `source` of SendGrid deliveries (path `/webhooks/sendgrid`).
pub const SENDGRID: &str = "sendgrid";
/// The `source` of generic events deliveries (path `/webhooks/events`).
pub const EVENTS: &str = "events";

/// The demo company's website (a reserved `.example` domain).
pub const SITE: &str = "https://www.northwind-analytics.example";

/// The first day of the default sample: a Monday.
const DEFAULT_START: NaiveDate = match NaiveDate::from_ymd_opt(2026, 1, 5) {
    Some(d) => d,
    None => panic!("2026-01-05 is a date"),
};

/// Longer samples are cut to ten years.
const MAX_DAYS: u32 = 3_660;

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// HubSpot sends fewer than 100 events per request.
const HUBSPOT_BATCH: usize = 100;
/// Events HubSpot sees within this window go out together.
const HUBSPOT_WINDOW: i64 = 10 * SECOND;
/// SendGrid posts what it has every 30 seconds (or at 768 KB, far above these batches).
const SENDGRID_WINDOW: i64 = 30 * SECOND;
const SENDGRID_BATCH: usize = 1_000;

const PORTAL_ID: u64 = 24_681_357;
const APP_ID: u64 = 3_141_592;
/// SendGrid unsubscribe groups: marketing sends, and the onboarding journey.
const ASM_MARKETING: u64 = 4_242;
const ASM_ONBOARDING: u64 = 4_243;

// ---------------------------------------------------------------------------------------------
// Public API

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoConfig {
    /// The seed of the whole sample.
    pub seed: u64,
    /// How many leads (people) take part.
    pub leads: usize,
    /// How many days the sample covers, from `start` (at most ten years).
    pub days: u32,
    /// The first day (UTC).
    pub start: NaiveDate,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            seed: 7,
            leads: 300,
            days: 90,
            start: DEFAULT_START,
        }
    }
}

impl DemoConfig {
    /// The days the sample covers (`days`, at least 1, at most ten years).
    pub fn span_days(&self) -> u32 {
        self.days.clamp(1, MAX_DAYS)
    }

    /// The end of the sample (midnight after its last day): every delivery is before it.
    pub fn end(&self) -> DateTime<Utc> {
        let start = self.start.and_time(NaiveTime::MIN).and_utc();
        start
            .checked_add_signed(chrono::TimeDelta::days(i64::from(self.span_days())))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// The senders' secrets: HubSpot's app client secret, SendGrid's signing key, the generic
/// events secret, and the public base URL HubSpot calls (v3 signs the full URL).
#[derive(Clone)]
pub struct DemoSecrets {
    pub hubspot_client_secret: String,
    pub sendgrid_key: SigningKey,
    pub events_secret: String,
    pub public_base_url: String,
}

impl fmt::Debug for DemoSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoSecrets")
            .field("hubspot_client_secret", &"<redacted>")
            .field("sendgrid_key", &"<redacted>")
            .field("events_secret", &"<redacted>")
            .field("public_base_url", &self.public_base_url)
            .finish()
    }
}

impl DemoSecrets {
    /// Fixed, obviously-demo secrets (never use them anywhere real).
    pub fn fixed() -> DemoSecrets {
        DemoSecrets {
            hubspot_client_secret: "demo-hubspot-client-secret-not-for-production".into(),
            // 32 constant bytes below the P-256 group order and not zero: always a valid key.
            sendgrid_key: SigningKey::from_slice(b"leadscore-demo-sendgrid-key-0001")
                .expect("a constant, valid P-256 scalar"),
            events_secret: "demo-events-secret-not-for-production".into(),
            public_base_url: "https://demo.leadscore.example".into(),
        }
    }

    /// SendGrid's verification key as SendGrid shows it: base64 of the SubjectPublicKeyInfo DER.
    pub fn sendgrid_public_key(&self) -> String {
        // The DER header of a P-256 SubjectPublicKeyInfo with an uncompressed point:
        // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (66 bytes) }.
        const SPKI_P256_PREFIX: [u8; 26] = [
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        let point = self.sendgrid_key.verifying_key().to_encoded_point(false);
        let mut der = SPKI_P256_PREFIX.to_vec();
        der.extend_from_slice(point.as_bytes());
        BASE64.encode(der)
    }

    /// The variables with which `leadscore_app::config::IngestConfig::from_lookup` accepts
    /// this sample's requests (the model is passed separately). SendGrid's timestamps are
    /// checked against the `now` each delivery is handled at (its `at`), so the production
    /// window is kept.
    pub fn ingest_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                vars::HUBSPOT_CLIENT_SECRET,
                self.hubspot_client_secret.clone(),
            ),
            (vars::PUBLIC_BASE_URL, self.public_base_url.clone()),
            (vars::SENDGRID_PUBLIC_KEY, self.sendgrid_public_key()),
            (
                vars::SENDGRID_MAX_AGE_SECONDS,
                vars::DEFAULT_SENDGRID_MAX_AGE.as_secs().to_string(),
            ),
            (vars::EVENTS_SECRET, self.events_secret.clone()),
        ]
    }
}

/// Who a lead is, from the ideal buyer to people who will never buy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Persona {
    /// Economic buyers at target companies: ramp up to pricing and a demo request.
    Ideal,
    /// Managers at target-ish companies: slower, webinars and content, some trials.
    Good,
    /// Individual contributors, mixed companies: a few visits.
    Average,
    /// Free-mail, tiny businesses: one or two visits, unsubscribes and bounces.
    Poor,
    /// Students and interns: careers pages and ebooks.
    Student,
    /// People from competitors' domains: pricing snooping.
    Competitor,
}

impl Persona {
    pub const ALL: [Persona; 6] = [
        Persona::Ideal,
        Persona::Good,
        Persona::Average,
        Persona::Poor,
        Persona::Student,
        Persona::Competitor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Persona::Ideal => "ideal",
            Persona::Good => "good",
            Persona::Average => "average",
            Persona::Poor => "poor",
            Persona::Student => "student",
            Persona::Competitor => "competitor",
        }
    }

    /// Share of the sample, in percent.
    fn weight(self) -> usize {
        match self {
            Persona::Ideal => 12,
            Persona::Good => 22,
            Persona::Average => 30,
            Persona::Poor => 17,
            Persona::Student => 11,
            Persona::Competitor => 8,
        }
    }

    /// Share of the persona that fills a HubSpot form (the others only reach the events sender).
    fn hubspot_share(self) -> f64 {
        match self {
            Persona::Ideal | Persona::Good => 1.0,
            Persona::Average => 0.95,
            Persona::Poor => 0.7,
            Persona::Student => 0.6,
            Persona::Competitor => 0.5,
        }
    }

    /// Chance to open an email while active.
    fn open_rate(self) -> f64 {
        match self {
            Persona::Ideal => 0.6,
            Persona::Good => 0.5,
            Persona::Average => 0.35,
            Persona::Poor => 0.2,
            Persona::Student => 0.3,
            Persona::Competitor => 0.45,
        }
    }

    /// Chance to click an opened email.
    fn click_rate(self) -> f64 {
        match self {
            Persona::Ideal => 0.45,
            Persona::Good => 0.3,
            Persona::Average => 0.15,
            Persona::Poor => 0.05,
            Persona::Student => 0.1,
            Persona::Competitor => 0.2,
        }
    }

    /// Chance to attend a webinar registered for, when still active.
    fn attend_rate(self) -> f64 {
        match self {
            Persona::Ideal => 0.7,
            Persona::Good => 0.6,
            Persona::Average => 0.4,
            Persona::Poor => 0.2,
            Persona::Student => 0.5,
            Persona::Competitor => 0.4,
        }
    }

    /// Planned website visits (inclusive range).
    fn visits(self) -> (i64, i64) {
        match self {
            Persona::Ideal => (5, 9),
            Persona::Good => (2, 6),
            Persona::Average => (1, 4),
            Persona::Poor => (1, 2),
            Persona::Student => (1, 3),
            Persona::Competitor => (2, 4),
        }
    }

    /// Days kept free at the end of the sample when choosing the arrival day, so that the
    /// persona's story can unfold.
    fn tail_days(self) -> i64 {
        match self {
            Persona::Ideal => 30,
            Persona::Good => 15,
            Persona::Competitor => 10,
            Persona::Average | Persona::Student => 3,
            Persona::Poor => 2,
        }
    }
}

impl fmt::Display for Persona {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lead of the sample, as its forms describe it.
#[derive(Clone, Debug, PartialEq)]
pub struct LeadProfile {
    /// Lower-case.
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub job_title: String,
    /// The HubSpot contact id; `None` for a lead known to the events sender only.
    pub hubspot_id: Option<u64>,
    pub persona: Persona,
    /// When the lead first filled a form (became known).
    pub first_seen: DateTime<Utc>,
}

impl LeadProfile {
    /// The id leadscore gives the lead: the alias it is created under.
    pub fn lead_id(&self) -> String {
        match self.hubspot_id {
            Some(id) => format!("hubspot:{id}"),
            None => format!("email:{}", self.email),
        }
    }
}

/// One webhook request, at the time the sender makes it.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// When the request is made: pass it as `now` to `leadscore_app::ingest::handle`.
    pub at: DateTime<Utc>,
    /// `hubspot`, `sendgrid` or `events`.
    pub source: &'static str,
    /// The signed POST, headers lower-cased.
    pub request: Request,
}

/// The generated sample.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Every request, sorted by time.
    pub deliveries: Vec<Delivery>,
    /// Every lead, in the order they became known.
    pub profiles: Vec<LeadProfile>,
}

/// Generates the sample of `cfg`, signed with `secrets` (see the module doc).
pub fn generate(cfg: &DemoConfig, secrets: &DemoSecrets) -> Sample {
    let mut g = Gen::new(cfg, secrets);
    g.people(cfg.leads);
    for i in 0..g.leads.len() {
        g.plan(i);
    }
    g.mail();
    g.attend_webinars();
    g.finish()
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

#[derive(Clone, Copy)]
struct Title {
    text: &'static str,
    /// HubSpot's `hs_seniority` ("" when not known).
    seniority: &'static str,
    /// HubSpot's `hs_role` ("" when not known).
    role: &'static str,
}

const fn title(text: &'static str, seniority: &'static str, role: &'static str) -> Title {
    Title {
        text,
        seniority,
        role,
    }
}

const IDEAL_TITLES: &[Title] = &[
    title("VP of Product", "vp", "product"),
    title("VP Marketing", "vp", "marketing"),
    title("VP Growth", "vp", "growth"),
    title("Head of Growth", "director", "growth"),
    title("Head of Data", "director", "data"),
    title("Chief Marketing Officer", "executive", "marketing"),
    title("Chief Product Officer", "executive", "product"),
    title("Director of Product Analytics", "director", "data"),
    title("Director of Lifecycle Marketing", "director", "marketing"),
];

const GOOD_TITLES: &[Title] = &[
    title("Product Manager", "manager", "product"),
    title("Senior Product Manager", "manager", "product"),
    title("Marketing Manager", "manager", "marketing"),
    title("Growth Marketing Manager", "manager", "growth"),
    title("Analytics Manager", "manager", "data"),
    title("CRM Manager", "manager", "marketing"),
    title("E-commerce Manager", "manager", "marketing"),
    title("Director of Engineering", "director", "engineering"),
];

const AVERAGE_TITLES: &[Title] = &[
    title("Data Analyst", "", "data"),
    title("Software Engineer", "", "engineering"),
    title("Marketing Specialist", "", "marketing"),
    title("Operations Coordinator", "", "operations"),
    title("Account Executive", "", "sales"),
    title("UX Designer", "", "design"),
    title("Business Analyst", "", "operations"),
    title("Customer Success Specialist", "", "support"),
];

const POOR_TITLES: &[Title] = &[
    title("Owner", "", ""),
    title("Freelancer", "", ""),
    title("Consultant", "", ""),
    title("Office Assistant", "", ""),
    title("Virtual Assistant", "", ""),
    title("Sole Trader", "", ""),
];

/// Every one is in the built-in non-buyer titles (student, intern, phd candidate).
const STUDENT_TITLES: &[Title] = &[
    title("Student", "", ""),
    title("MSc Student", "", ""),
    title("Marketing Intern", "", ""),
    title("PhD Candidate", "", ""),
    title("Graduate Student", "", ""),
    title("Data Science Student", "", ""),
];

const COMPETITOR_TITLES: &[Title] = &[
    title("Product Marketing Manager", "manager", "marketing"),
    title("Competitive Intelligence Analyst", "", "marketing"),
    title("Solutions Engineer", "", "engineering"),
    title("Pricing Analyst", "", "operations"),
    title("Growth Analyst", "", "growth"),
];

const FIRST_NAMES: &[&str] = &[
    "Ana", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kara",
    "Liam", "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wen", "Xavier", "Yara", "Zoe", "Aditi", "Bruno", "Chen", "Dana", "Emil", "Freya", "Goran",
    "Hana", "Ivan", "Julia", "Kenji", "Lena", "Marco", "Nadia",
];

const LAST_NAMES: &[&str] = &[
    "Andersen",
    "Becker",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ibrahim",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Novak",
    "Silva",
    "Murphy",
    "Kim",
    "Patel",
    "Singh",
    "Nguyen",
    "Lopez",
    "Berg",
    "Lindqvist",
    "Dvorak",
    "Horvat",
    "Keller",
    "Walsh",
    "Quint",
];

const COMPANY_ROOTS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Aperture",
    "Nakatomi",
    "Oscorp",
    "Monarch",
    "Dunder",
    "Sterling",
    "Prestige",
    "Bluth",
    "Virtucon",
    "Zorin",
    "Nimbus",
    "Ajax",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Orbit",
    "Pinnacle",
    "Quanta",
    "Redwood",
    "Summit",
];

/// Industries as HubSpot's `industry` holds them here, with company name suffixes.
type Industry = (&'static str, &'static [&'static str]);

/// The model's `industry-target` values.
const TARGET_INDUSTRIES: &[Industry] = &[
    ("Software", &["Software", "Systems", "Labs"]),
    ("SaaS", &["Cloud", "HQ", "Apps"]),
    ("Internet", &["Online", "Web", "Digital"]),
    ("E-commerce", &["Shop", "Commerce", "Goods"]),
    ("Fintech", &["Pay", "Capital", "Finance"]),
];

const OTHER_INDUSTRIES: &[Industry] = &[
    ("Manufacturing", &["Industries", "Manufacturing"]),
    ("Retail", &["Stores", "Outfitters"]),
    ("Healthcare", &["Health", "Care"]),
    ("Logistics", &["Logistics", "Freight"]),
    ("Media", &["Media", "Studios"]),
    ("Consulting", &["Consulting", "Partners"]),
];

type Country = (&'static str, &'static [&'static str]);

/// The model's `country-core-markets` (US twice: the biggest market).
const CORE_COUNTRIES: &[Country] = &[
    ("US", &["Austin", "Boston", "Denver", "Seattle", "New York"]),
    ("US", &["Chicago", "San Francisco"]),
    ("CA", &["Toronto", "Vancouver"]),
    ("GB", &["London", "Manchester"]),
    ("DE", &["Berlin", "Munich", "Hamburg"]),
    ("FR", &["Paris", "Lyon"]),
    ("NL", &["Amsterdam", "Utrecht"]),
    ("SE", &["Stockholm", "Gothenburg"]),
];

const OTHER_COUNTRIES: &[Country] = &[
    ("IN", &["Bengaluru", "Pune"]),
    ("BR", &["Sao Paulo"]),
    ("AU", &["Sydney", "Melbourne"]),
    ("ES", &["Madrid", "Barcelona"]),
    ("PL", &["Warsaw"]),
    ("SG", &["Singapore"]),
    ("ZA", &["Cape Town"]),
    ("MX", &["Mexico City"]),
];

/// The built-in free-mail domains, and the model's own (`mailinator.com`).
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "mailinator.com",
];

/// (name, email subdomain, country, city)
const UNIVERSITIES: &[(&str, &str, &str, &str)] = &[
    ("Lund University", "lu", "SE", "Lund"),
    ("TU Berlin", "tu-berlin", "DE", "Berlin"),
    ("University of Leeds", "leeds", "GB", "Leeds"),
    ("Sorbonne University", "sorbonne", "FR", "Paris"),
    ("University of Toronto", "utoronto", "CA", "Toronto"),
    ("IIT Bombay", "iitb", "IN", "Mumbai"),
    ("University of Sao Paulo", "usp", "BR", "Sao Paulo"),
];

/// The model's competitor domains: (name, domain, industry, size, revenue, country, city).
const COMPETITORS: &[(&str, &str, &str, u32, u64, &str, &str)] = &[
    (
        "Rivalytics",
        "rivalytics.com",
        "Software",
        420,
        38_000_000,
        "US",
        "Austin",
    ),
    (
        "MetricSmith",
        "metricsmith.io",
        "SaaS",
        260,
        21_000_000,
        "GB",
        "London",
    ),
    (
        "FunnelForge",
        "funnelforge.com",
        "Software",
        650,
        55_000_000,
        "DE",
        "Berlin",
    ),
];

/// HubSpot's `hs_analytics_source` values.
const LEAD_SOURCES: &[&str] = &[
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "SOCIAL_MEDIA",
    "PAID_SOCIAL",
    "EMAIL_MARKETING",
    "REFERRALS",
    "DIRECT_TRAFFIC",
];

const REFERRERS: &[&str] = &[
    "https://www.google.com/",
    "https://www.linkedin.com/",
    "https://duckduckgo.com/",
    "https://news.ycombinator.com/",
    "https://www.bing.com/",
];

/// HubSpot user ids of the sales reps.
const REPS: &[u64] = &[7_411_025, 7_411_031, 7_411_048];

const BLOG: &[&str] = &[
    "/blog/retention-cohorts-explained",
    "/blog/north-star-metric",
    "/blog/funnel-analysis-guide",
    "/blog/lifecycle-emails-that-convert",
    "/blog/event-tracking-plan",
];
const PRODUCT: &[&str] = &[
    "/product",
    "/product/funnels",
    "/product/retention",
    "/product/dashboards",
    "/features",
];
const AUTOMATION: &[&str] = &[
    "/automation",
    "/automation/journeys",
    "/automation/segments",
];
const DOCS: &[&str] = &[
    "/docs/getting-started",
    "/docs/sdk/javascript",
    "/docs/api/events",
];
const CUSTOMERS: &[&str] = &[
    "/customers",
    "/customers/acme-retail",
    "/customers/globex-fintech",
];
const PRICING: &[&str] = &["/pricing", "/pricing?plan=team", "/pricing?plan=enterprise"];
const CAREERS: &[&str] = &[
    "/careers/data-analyst-intern",
    "/careers/graduate-program",
    "/careers/software-engineer",
];

const EBOOK_ANALYTICS: &str = "ebook-product-analytics-101";
const EBOOK_AUTOMATION: &str = "ebook-lifecycle-automation-playbook";
const EBOOK_CAREERS: &str = "ebook-careers-in-analytics";
const CASE_ACME: &str = "case-study-acme-retail";
const CASE_GLOBEX: &str = "case-study-globex-fintech";
const NEWSLETTER_FORM: &str = "newsletter-footer";
const CONTACT_SALES_FORM: &str = "contact-sales";

/// (slug, share of the sample's span at which it runs)
const WEBINARS: &[(&str, f64)] = &[
    ("cohort-analysis-live", 0.35),
    ("lifecycle-journeys-live", 0.72),
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
];
/// What Apple Mail Privacy Protection's proxy fetches images with.
const APPLE_PROXY_AGENT: &str = "Mozilla/5.0";

// ---------------------------------------------------------------------------------------------
// The generator's state

struct Company {
    name: String,
    domain: String,
    industry: &'static str,
    size: u32,
    revenue: u64,
    country: &'static str,
    city: &'static str,
    hubspot_id: u64,
    persona: Persona,
}

struct Lead {
    profile: LeadProfile,
    title: Title,
    /// Index into `Gen::companies`.
    company: Option<usize>,
    industry: Option<&'static str>,
    size: Option<u32>,
    revenue: Option<u64>,
    country: &'static str,
    city: &'static str,
    phone: Option<String>,
    lead_source: &'static str,
    /// The planned first visit.
    arrival: i64,
    /// The first form filled: from then on the lead is known and gets emails.
    known_at: Option<i64>,
    /// When the lead engages (opens emails, comes back); quiet outside.
    windows: Vec<(i64, i64)>,
    /// Uses Apple Mail: Privacy Protection "opens" every email.
    apple: bool,
    /// The address bounces.
    bad_address: bool,
    /// Unsubscribes on the n-th email received.
    unsubscribe_on: Option<u32>,
    /// Reports the n-th email received as spam.
    spam_on: Option<u32>,
    received: u32,
    /// Bounced, unsubscribed or reported spam: SendGrid sends nothing more.
    suppressed: bool,
    registered: Vec<usize>,
}

/// Something a visit does, in order.
enum Step {
    /// A page (path and query).
    Page(String),
    /// A form submit on the current page.
    Form(&'static str),
    /// The asset's page, then the download.
    Download(&'static str),
    /// The webinar's page and the registration: the given webinar or the next one.
    WebinarReg(Option<usize>),
    /// The product tour on the current page, with the share watched.
    Video(i64),
    /// The demo page and the request.
    Demo,
    /// The trial sign-up page and the trial.
    Trial,
    /// A product event during a trial.
    Custom(&'static str),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sender {
    Website,
    Product,
    Webinars,
}

impl Sender {
    fn id_prefix(self) -> &'static str {
        match self {
            Sender::Website => "web",
            Sender::Product => "app",
            Sender::Webinars => "wbn",
        }
    }

    fn user_agent(self) -> &'static str {
        match self {
            Sender::Website => "northwind-web-tracker/2.3",
            Sender::Product => "northwind-app-events/1.8",
            Sender::Webinars => "northwind-webinars/1.0",
        }
    }
}

/// What a visit led to.
#[derive(Default)]
struct Marks {
    demo: Option<i64>,
    trial: Option<i64>,
    contact_sales: Option<i64>,
}

#[derive(Clone, Copy)]
enum Campaign {
    Welcome,
    Nurture(u8),
    Newsletter(u32),
    ProductUpdate(u32),
    WebinarInvite(usize, u8),
}

struct Send {
    t: i64,
    campaign: Campaign,
    /// A triggered email's recipient; `None`: everyone subscribed.
    to: Option<usize>,
}

/// How an email is labelled and where its link goes.
struct MailInfo {
    slug: String,
    category: &'static str,
    link: String,
    marketing: bool,
    name: String,
}

struct HsEvent {
    t: i64,
    seq: u64,
    object: u64,
    kind: &'static str,
    property: Option<(&'static str, String)>,
    change_source: &'static str,
    source_id: Option<String>,
}

struct SgEvent {
    t: i64,
    seq: u64,
    body: Map<String, Value>,
}

struct EventsBatch {
    at: i64,
    sender: Sender,
    body: Value,
}

struct Webinar {
    slug: &'static str,
    t: i64,
}

struct Gen<'a> {
    rng: ChaCha8Rng,
    secrets: &'a DemoSecrets,
    start_ms: i64,
    start_weekday: i64,
    days: i64,
    end: i64,
    leads: Vec<Lead>,
    companies: Vec<Company>,
    webinars: Vec<Webinar>,
    sends: Vec<Send>,
    hubspot: Vec<HsEvent>,
    sendgrid: Vec<SgEvent>,
    events: Vec<EventsBatch>,
    emails: HashSet<String>,
    domains: HashSet<String>,
    seq: u64,
    next_event: u64,
    next_visit: u64,
    next_contact: u64,
    next_company: u64,
}

type HmacSha256 = Hmac<Sha256>;

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length: the fallback is never taken, it only avoids an unwrap.
    let mut mac = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()));
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn request(path: &str, headers: Vec<(&str, String)>, body: Vec<u8>) -> Request {
    Request {
        method: "POST".into(),
        path: path.into(),
        query: String::new(),
        headers: headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        body,
    }
}

/// Lower-case ASCII letters only (names in email addresses).
fn mailbox(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl<'a> Gen<'a> {
    fn new(cfg: &DemoConfig, secrets: &'a DemoSecrets) -> Gen<'a> {
        let days = i64::from(cfg.span_days());
        let start = cfg.start.and_time(NaiveTime::MIN).and_utc();
        let mut g = Gen {
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            secrets,
            start_ms: start.timestamp_millis(),
            start_weekday: i64::from(cfg.start.weekday().num_days_from_monday()),
            days,
            end: days * DAY,
            leads: Vec::new(),
            companies: Vec::new(),
            webinars: Vec::new(),
            sends: Vec::new(),
            hubspot: Vec::new(),
            sendgrid: Vec::new(),
            events: Vec::new(),
            emails: HashSet::new(),
            domains: HashSet::new(),
            seq: 0,
            next_event: 0,
            next_visit: 0,
            next_contact: 0,
            next_company: 0,
        };
        g.next_contact = 101_000 + g.between(0, 900) as u64;
        g.next_company = 8_400_000 + g.between(0, 9_000) as u64;
        for &(slug, share) in WEBINARS {
            let day = g.weekday_on_or_after(((days as f64) * share) as i64, &[2, 3]);
            if day < days {
                g.webinars.push(Webinar {
                    slug,
                    t: day * DAY + 16 * HOUR,
                });
            }
        }
        g
    }

    // ---- randomness and time

    /// Uniform in `lo..hi` (`lo` when empty).
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.rng.random_range(lo..hi)
        }
    }

    /// Whole seconds in `lo_s..hi_s`, as milliseconds.
    fn secs(&mut self, lo_s: i64, hi_s: i64) -> i64 {
        self.between(lo_s, hi_s) * SECOND
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let i = self.between(0, items.len() as i64) as usize;
        items[i]
    }

    /// One of `items` (never empty here), chosen by weight.
    fn weighted<T>(&mut self, mut items: Vec<(T, u32)>) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.between(0, i64::from(total));
        let mut chosen = items.len() - 1;
        for (i, (_, w)) in items.iter().enumerate() {
            if r < i64::from(*w) {
                chosen = i;
                break;
            }
            r -= i64::from(*w);
        }
        items.swap_remove(chosen).0
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn hex_id(&mut self, digits: usize) -> String {
        let mut s = String::new();
        while s.len() < digits {
            s.push_str(&format!("{:016x}", self.rng.random::<u64>()));
        }
        s.truncate(digits);
        s
    }

    /// 0 = Monday.
    fn weekday(&self, day: i64) -> i64 {
        (self.start_weekday + day).rem_euclid(7)
    }

    /// The first day from `day` that falls on one of `weekdays` (0 = Monday).
    fn weekday_on_or_after(&self, day: i64, weekdays: &[i64]) -> i64 {
        (day..day + 7)
            .find(|d| weekdays.contains(&self.weekday(*d)))
            .unwrap_or(day)
    }

    /// Most people act on workdays: a weekend day moves to Monday, usually.
    fn workday(&mut self, day: i64) -> i64 {
        let wd = self.weekday(day);
        if wd >= 5 && self.chance(0.75) {
            day + (7 - wd)
        } else {
            day
        }
    }

    /// A whole-second time on `day` between `from_h` and `to_h` o'clock (UTC).
    fn at_hours(&mut self, day: i64, from_h: i64, to_h: i64) -> i64 {
        day * DAY + self.secs(from_h * 3_600, to_h * 3_600)
    }

    /// A time people are awake: night times move to the next morning.
    fn waking(&mut self, t: i64) -> i64 {
        let day = t.div_euclid(DAY);
        let in_day = t.rem_euclid(DAY);
        if in_day < 7 * HOUR {
            self.at_hours(day, 7, 9)
        } else if in_day >= 21 * HOUR {
            self.at_hours(day + 1, 7, 10)
        } else {
            t
        }
    }

    /// A business-hours time on a workday `lo_days..=hi_days` after `t`, always later than `t`.
    fn business_after(&mut self, t: i64, lo_days: i64, hi_days: i64) -> i64 {
        let day = t.div_euclid(DAY) + self.between(lo_days, hi_days + 1);
        let day = self.weekday_on_or_after(day, &[0, 1, 2, 3, 4]);
        let at = self.at_hours(day, 9, 17);
        at.max(t + 30 * MINUTE)
    }

    fn time(&self, t: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.start_ms.saturating_add(t))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    fn rfc3339(&self, t: i64) -> String {
        self.time(t).to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    fn epoch_ms(&self, t: i64) -> i64 {
        self.start_ms.saturating_add(t)
    }

    fn active(&self, lead: usize, t: i64) -> bool {
        self.leads[lead]
            .windows
            .iter()
            .any(|&(a, b)| a <= t && t < b)
    }

    // ---- people

    /// Creates the leads: persona counts by share (largest remainder), arrivals spread over the
    /// span, then everyone in arrival order.
    fn people(&mut self, n: usize) {
        let total: usize = Persona::ALL.iter().map(|p| p.weight()).sum();
        let mut counts: Vec<(Persona, usize, usize)> = Persona::ALL
            .iter()
            .map(|&p| (p, n * p.weight() / total, n * p.weight() % total))
            .collect();
        let assigned: usize = counts.iter().map(|c| c.1).sum();
        let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
        by_remainder.sort_by_key(|&i| (std::cmp::Reverse(counts[i].2), i));
        for &i in by_remainder.iter().take(n.saturating_sub(assigned)) {
            counts[i].1 += 1;
        }
        let mut arrivals: Vec<(i64, Persona)> = Vec::with_capacity(n);
        for (persona, count, _) in counts {
            for _ in 0..count {
                let span = (self.days - persona.tail_days()).max(1);
                let mut day = self.between(0, span);
                let moved = self.workday(day);
                if moved < self.days {
                    day = moved;
                }
                let t = self.at_hours(day, 8, 19);
                arrivals.push((t, persona));
            }
        }
        arrivals.sort_by_key(|&(t, p)| (t, p));
        for (t, persona) in arrivals {
            let lead = self.person(persona, t);
            self.leads.push(lead);
        }
    }

    fn unique_email(&mut self, local: &str, domain: &str) -> String {
        let mut email = format!("{local}@{domain}");
        let mut n = 2;
        while self.emails.contains(&email) {
            email = format!("{local}{n}@{domain}");
            n += 1;
        }
        self.emails.insert(email.clone());
        email
    }

    fn country(&mut self, core_share: f64) -> (&'static str, &'static str) {
        let (code, cities) = if self.chance(core_share) {
            self.pick(CORE_COUNTRIES)
        } else {
            self.pick(OTHER_COUNTRIES)
        };
        (code, self.pick(cities))
    }

    /// A company for a persona: sometimes one that already has people of that persona (so
    /// accounts hold several leads), else a new one with the persona's firmographics.
    fn company_for(&mut self, persona: Persona) -> usize {
        let existing: Vec<usize> = (0..self.companies.len())
            .filter(|&i| self.companies[i].persona == persona)
            .collect();
        if !existing.is_empty() && self.chance(0.3) {
            return self.pick(&existing);
        }
        // Ideal companies hit every firmographic rule; good ones most (fit band B), average
        // ones a few.
        let (target_share, size, revenue, core_share) = match persona {
            Persona::Ideal => (1.0, (80, 3_000), (15_000_000, 400_000_000), 1.0),
            Persona::Good => {
                let size = if self.chance(0.7) {
                    (50, 1_500)
                } else {
                    (15, 49)
                };
                let revenue = if self.chance(0.4) {
                    (10_000_000, 60_000_000)
                } else {
                    (2_000_000, 9_900_000)
                };
                (0.7, size, revenue, 0.8)
            }
            _ => (0.35, (10, 400), (500_000, 15_000_000), 0.5),
        };
        let (industry, suffixes) = if self.chance(target_share) {
            self.pick(TARGET_INDUSTRIES)
        } else {
            self.pick(OTHER_INDUSTRIES)
        };
        let mut name = String::new();
        let mut domain = String::new();
        for attempt in 0..50 {
            let root = self.pick(COMPANY_ROOTS);
            let suffix = self.pick(suffixes);
            name = format!("{root} {suffix}");
            domain = format!("{}{}.example", mailbox(root), mailbox(suffix));
            if attempt == 49 {
                domain = format!("{}{}{}.example", mailbox(root), mailbox(suffix), attempt);
            }
            if !self.domains.contains(&domain) {
                break;
            }
        }
        self.domains.insert(domain.clone());
        let (country, city) = self.country(core_share);
        let size = self.between(size.0, size.1 + 1) as u32;
        let revenue = (self.between(revenue.0 / 100_000, revenue.1 / 100_000 + 1) * 100_000) as u64;
        self.next_company += self.between(1, 60) as u64;
        self.companies.push(Company {
            name,
            domain,
            industry,
            size,
            revenue,
            country,
            city,
            hubspot_id: self.next_company,
            persona,
        });
        self.companies.len() - 1
    }

    fn competitor_company(&mut self) -> usize {
        let (name, domain, industry, size, revenue, country, city) = self.pick(COMPETITORS);
        if let Some(i) = self.companies.iter().position(|c| c.domain == domain) {
            return i;
        }
        self.next_company += self.between(1, 60) as u64;
        self.companies.push(Company {
            name: name.into(),
            domain: domain.into(),
            industry,
            size,
            revenue,
            country,
            city,
            hubspot_id: self.next_company,
            persona: Persona::Competitor,
        });
        self.companies.len() - 1
    }

    fn person(&mut self, persona: Persona, arrival: i64) -> Lead {
        let first = self.pick(FIRST_NAMES);
        let last = self.pick(LAST_NAMES);
        let (f, l) = (mailbox(first), mailbox(last));
        let title = match persona {
            Persona::Ideal => self.pick(IDEAL_TITLES),
            Persona::Good => self.pick(GOOD_TITLES),
            Persona::Average => self.pick(AVERAGE_TITLES),
            Persona::Poor => self.pick(POOR_TITLES),
            Persona::Student => self.pick(STUDENT_TITLES),
            Persona::Competitor => self.pick(COMPETITOR_TITLES),
        };
        let mut company = None;
        let mut size = None;
        let mut revenue = None;
        let (email, company_name, industry, country, city) = match persona {
            Persona::Ideal | Persona::Good | Persona::Average | Persona::Competitor => {
                let c = if persona == Persona::Competitor {
                    self.competitor_company()
                } else {
                    self.company_for(persona)
                };
                company = Some(c);
                let co = &self.companies[c];
                let (domain, name, industry, country, city) = (
                    co.domain.clone(),
                    co.name.clone(),
                    co.industry,
                    co.country,
                    co.city,
                );
                size = Some(co.size);
                revenue = Some(co.revenue);
                // Some of FunnelForge's people write from its European subdomain.
                let domain = if domain == "funnelforge.com" && self.chance(0.4) {
                    format!("eu.{domain}")
                } else {
                    domain
                };
                let email = self.unique_email(&format!("{f}.{l}"), &domain);
                (email, name, Some(industry), country, city)
            }
            Persona::Poor => {
                let domain = self.pick(FREE_MAIL);
                let n = self.between(1, 99);
                let email = self.unique_email(&format!("{f}{l}{n}"), domain);
                let name = match self.between(0, 3) {
                    0 => format!("{last} Consulting"),
                    1 => format!("{first}'s Studio"),
                    _ => "Self-employed".into(),
                };
                let industry =
                    self.pick(&["Consulting", "Restaurants", "Retail", "Personal Services"]);
                if self.chance(0.6) {
                    size = Some(self.between(1, 9) as u32);
                }
                let (country, city) = self.country(0.3);
                (email, name, Some(industry), country, city)
            }
            Persona::Student => {
                let (uni, sub, country, city) = self.pick(UNIVERSITIES);
                let email = if self.chance(0.5) {
                    let domain = self.pick(FREE_MAIL);
                    let n = self.between(1, 99);
                    self.unique_email(&format!("{f}.{l}{n}"), domain)
                } else {
                    self.unique_email(&format!("{f}.{l}"), &format!("student.{sub}.example"))
                };
                (
                    email,
                    uni.to_owned(),
                    Some("Higher Education"),
                    country,
                    city,
                )
            }
        };
        let hubspot_id = if self.chance(persona.hubspot_share()) {
            self.next_contact += self.between(1, 40) as u64;
            Some(self.next_contact)
        } else {
            None
        };
        let phone_share = match persona {
            Persona::Ideal => 0.8,
            Persona::Good => 0.4,
            Persona::Average => 0.2,
            _ => 0.1,
        };
        let phone = if self.chance(phone_share) {
            Some(format!(
                "+{} 555 {:04}",
                if country == "US" || country == "CA" {
                    "1"
                } else {
                    "44"
                },
                self.between(0, 10_000)
            ))
        } else {
            None
        };
        let lead_source = self.pick(LEAD_SOURCES);
        let apple = self.chance(0.35);
        let free_mail = FREE_MAIL.iter().any(|d| email.ends_with(&format!("@{d}")));
        let bad_address = persona == Persona::Poor && free_mail && self.chance(0.12);
        let unsubscribe_share = match persona {
            Persona::Poor => 0.3,
            Persona::Student => 0.15,
            Persona::Average => 0.06,
            Persona::Good => 0.03,
            Persona::Ideal | Persona::Competitor => 0.0,
        };
        let unsubscribe_on = if self.chance(unsubscribe_share) {
            Some(self.between(2, 6) as u32)
        } else {
            None
        };
        let spam_on = if persona == Persona::Poor && unsubscribe_on.is_none() && self.chance(0.08) {
            Some(self.between(2, 5) as u32)
        } else {
            None
        };
        Lead {
            profile: LeadProfile {
                email,
                first_name: first.into(),
                last_name: last.into(),
                company: company_name,
                job_title: title.text.into(),
                hubspot_id,
                persona,
                first_seen: self.time(arrival),
            },
            title,
            company,
            industry,
            size,
            revenue,
            country,
            city,
            phone,
            lead_source,
            arrival,
            known_at: None,
            windows: Vec::new(),
            apple,
            bad_address,
            unsubscribe_on,
            spam_on,
            received: 0,
            suppressed: false,
            registered: Vec::new(),
        }
    }

    // ---- behaviour

    /// When the persona engages: one or two windows from its arrival (see the module doc).
    fn windows(&mut self, persona: Persona, a: i64) -> Vec<(i64, i64)> {
        let d = |n: i64| n * DAY;
        let r = self.rng.random::<f64>();
        let mut w = match persona {
            Persona::Ideal if r < 0.2 => {
                let first = a + d(self.between(6, 10));
                let back = first + d(self.between(30, 41));
                vec![(a, first), (back, back + d(self.between(10, 21)))]
            }
            Persona::Ideal => vec![(a, a + d(self.between(10, 26)))],
            Persona::Good if r < 0.45 => vec![(a, a + d(self.between(25, 51)))],
            Persona::Good if r < 0.75 => vec![(a, a + d(self.between(8, 16)))],
            Persona::Good => {
                let first = a + d(10);
                let back = first + d(self.between(32, 46));
                vec![(a, first), (back, back + d(self.between(8, 16)))]
            }
            Persona::Average if r < 0.6 => vec![(a, a + d(self.between(4, 13)))],
            Persona::Average => {
                let first = a + d(6);
                let back = first + d(self.between(30, 41));
                vec![(a, first), (back, back + d(self.between(3, 7)))]
            }
            Persona::Poor => vec![(a, a + d(self.between(1, 5)))],
            Persona::Student => vec![(a, a + d(self.between(3, 15)))],
            Persona::Competitor => vec![(a, self.end)],
        };
        let end = self.end;
        for win in &mut w {
            win.1 = win.1.min(end);
        }
        w.retain(|&(s, e)| s < e);
        w
    }

    /// The visit times: the arrival first, the others in the windows on workdays.
    fn visit_times(&mut self, a: i64, windows: &[(i64, i64)], n: usize) -> Vec<i64> {
        let mut times = vec![a];
        let total: i64 = windows.iter().map(|(s, e)| e - s).sum();
        for _ in 1..n {
            let mut x = self.between(0, total.max(1));
            let mut t = a;
            for &(s, e) in windows {
                if x < e - s {
                    t = s + x;
                    break;
                }
                x -= e - s;
            }
            let day = self.workday(t.div_euclid(DAY));
            let t = self.at_hours(day, 8, 20);
            if t > a + HOUR && t < self.end - HOUR {
                times.push(t);
            }
        }
        times.sort_unstable();
        times
    }

    fn plan(&mut self, i: usize) {
        let persona = self.leads[i].profile.persona;
        let a = self.leads[i].arrival;
        let windows = self.windows(persona, a);
        self.leads[i].windows = windows.clone();
        let (lo, hi) = persona.visits();
        let n = self.between(lo, hi + 1) as usize;
        let times = self.visit_times(a, &windows, n);
        let wants_demo = persona == Persona::Ideal && self.chance(0.75);
        let trial = persona == Persona::Good && self.chance(0.25);
        let hand_raiser = persona == Persona::Good && !trial && self.chance(0.15);
        let n = times.len();
        let mut marks = Marks::default();
        for (k, &t) in times.iter().enumerate() {
            let last = k > 0 && k + 1 == n;
            let steps = self.steps(
                persona,
                k,
                n,
                last && wants_demo,
                last && trial,
                last && hand_raiser,
            );
            let referrer = if self.chance(0.7) {
                Some(self.pick(REFERRERS))
            } else {
                None
            };
            let m = self.visit(i, t, steps, Sender::Website, referrer);
            marks.demo = marks.demo.or(m.demo);
            marks.trial = marks.trial.or(m.trial);
            marks.contact_sales = marks.contact_sales.or(m.contact_sales);
        }
        if let Some(t) = marks.demo.or(marks.contact_sales) {
            self.follow_up(i, t);
        }
        if let Some(t) = marks.trial {
            self.trial_usage(i, t);
            if self.chance(0.5) {
                let at = self.business_after(t, 2, 4);
                self.hs_change(i, at, "hs_lead_status", "IN_PROGRESS", true);
            }
        }
        if let Some(t) = self.leads[i].known_at {
            self.leads[i].profile.first_seen = self.time(t);
        }
    }

    /// What the k-th of n planned visits does, by persona (the first always converts: a form,
    /// a download or a registration makes the lead known).
    fn steps(
        &mut self,
        persona: Persona,
        k: usize,
        n: usize,
        demo: bool,
        trial: bool,
        contact_sales: bool,
    ) -> Vec<Step> {
        let page = |p: &str| Step::Page(p.to_owned());
        let mut s = Vec::new();
        let progress = if n > 1 {
            k as f64 / (n - 1) as f64
        } else {
            0.0
        };
        match persona {
            Persona::Ideal if k == 0 => {
                let landing = self.pick(&["/", BLOG[0], BLOG[2], "/product"]);
                s.push(page(landing));
                if self.chance(0.5) {
                    s.push(page(self.pick(PRODUCT)));
                }
                s.push(self.weighted(vec![
                    (Step::Download(EBOOK_ANALYTICS), 35),
                    (Step::WebinarReg(None), 25),
                    (Step::Form(NEWSLETTER_FORM), 15),
                    (Step::Download(CASE_ACME), 25),
                ]));
            }
            Persona::Ideal if demo => {
                s.push(page("/"));
                s.push(page(self.pick(PRICING)));
                if self.chance(0.5) {
                    s.push(page(self.pick(CUSTOMERS)));
                }
                s.push(Step::Demo);
            }
            Persona::Ideal => {
                for _ in 0..self.between(1, 3) {
                    s.push(page(self.pick(PRODUCT)));
                }
                if self.chance(0.5) {
                    s.push(page(self.pick(AUTOMATION)));
                }
                if self.chance(0.3) {
                    s.push(page(self.pick(CUSTOMERS)));
                }
                if progress >= 0.4 && self.chance(0.7) {
                    s.push(page(self.pick(PRICING)));
                }
                if self.chance(0.3) {
                    s.push(page(self.pick(DOCS)));
                }
                if self.chance(0.35) {
                    s.push(Step::Video(self.between(70, 101)));
                }
                if self.chance(0.2) {
                    s.push(Step::Download(CASE_GLOBEX));
                }
            }
            Persona::Good if k == 0 => {
                let landing = self.pick(&["/", BLOG[1], BLOG[3], BLOG[4]]);
                s.push(page(landing));
                s.push(self.weighted(vec![
                    (Step::Download(EBOOK_ANALYTICS), 35),
                    (Step::Download(EBOOK_AUTOMATION), 20),
                    (Step::WebinarReg(None), 25),
                    (Step::Form(NEWSLETTER_FORM), 20),
                ]));
            }
            Persona::Good if trial => {
                s.push(page(self.pick(PRODUCT)));
                s.push(page("/pricing"));
                s.push(Step::Trial);
            }
            Persona::Good if contact_sales => {
                s.push(page(self.pick(PRODUCT)));
                s.push(page("/pricing"));
                s.push(page("/contact-sales"));
                s.push(Step::Form(CONTACT_SALES_FORM));
            }
            Persona::Good => {
                if self.chance(0.5) {
                    s.push(page(self.pick(BLOG)));
                }
                for _ in 0..self.between(1, 3) {
                    s.push(page(self.pick(PRODUCT)));
                }
                if self.chance(0.4) {
                    s.push(page(self.pick(AUTOMATION)));
                }
                if self.chance(0.25) {
                    s.push(page(self.pick(CUSTOMERS)));
                }
                if self.chance(0.15) {
                    s.push(Step::Download(EBOOK_AUTOMATION));
                }
                if progress >= 0.5 && self.chance(0.5) {
                    s.push(page(self.pick(PRICING)));
                }
                if self.chance(0.25) {
                    s.push(Step::Video(self.between(50, 90)));
                }
            }
            Persona::Average if k == 0 => {
                let landing = self.pick(&["/", BLOG[0], BLOG[1], BLOG[2]]);
                s.push(page(landing));
                s.push(self.weighted(vec![
                    (Step::Form(NEWSLETTER_FORM), 50),
                    (Step::Download(EBOOK_ANALYTICS), 35),
                    (Step::WebinarReg(None), 15),
                ]));
            }
            Persona::Average => {
                for _ in 0..self.between(1, 4) {
                    s.push(page(self.pick(&[
                        "/",
                        BLOG[3],
                        BLOG[4],
                        "/product",
                        "/features",
                    ])));
                }
                if self.chance(0.2) {
                    s.push(Step::Video(self.between(20, 71)));
                }
            }
            Persona::Poor if k == 0 => {
                s.push(page(self.pick(&["/", BLOG[0], BLOG[3]])));
                s.push(self.weighted(vec![
                    (Step::Form(NEWSLETTER_FORM), 60),
                    (Step::Download(EBOOK_ANALYTICS), 40),
                ]));
            }
            Persona::Poor => s.push(page(self.pick(&["/", BLOG[1], BLOG[2]]))),
            Persona::Student if k == 0 => {
                let landing = self.pick(&["/careers", BLOG[0], BLOG[2]]);
                s.push(page(landing));
                if landing != "/careers" && self.chance(0.5) {
                    s.push(page("/careers"));
                }
                s.push(self.weighted(vec![
                    (Step::Download(EBOOK_CAREERS), 50),
                    (Step::Form(NEWSLETTER_FORM), 30),
                    (Step::WebinarReg(None), 20),
                ]));
            }
            Persona::Student => {
                s.push(page("/careers"));
                if self.chance(0.7) {
                    s.push(page(self.pick(CAREERS)));
                }
                if self.chance(0.5) {
                    s.push(page(self.pick(&[BLOG[1], BLOG[4], DOCS[0]])));
                }
                if self.chance(0.25) {
                    s.push(Step::Download(EBOOK_ANALYTICS));
                }
            }
            Persona::Competitor if k == 0 => {
                s.push(page(self.pick(&["/pricing", "/product"])));
                s.push(self.weighted(vec![
                    (Step::Download(EBOOK_AUTOMATION), 50),
                    (Step::WebinarReg(None), 50),
                ]));
            }
            Persona::Competitor => {
                s.push(page("/pricing"));
                if self.chance(0.5) {
                    s.push(page("/pricing?plan=enterprise"));
                }
                s.push(page(self.pick(PRODUCT)));
                if self.chance(0.5) {
                    s.push(page(self.pick(AUTOMATION)));
                }
                if self.chance(0.4) {
                    s.push(page(self.pick(DOCS)));
                }
                if self.chance(0.3) {
                    s.push(page(self.pick(CUSTOMERS)));
                }
            }
        }
        s
    }

    /// Plays one visit (or product session) through the sender: its events go out together.
    fn visit(
        &mut self,
        lead: usize,
        start: i64,
        steps: Vec<Step>,
        sender: Sender,
        referrer: Option<&'static str>,
    ) -> Marks {
        let mut marks = Marks::default();
        self.next_visit += 1;
        let visit_id = format!("v-{:06}", self.next_visit);
        let mut t = start;
        let mut page = String::from("/");
        let mut out: Vec<(i64, Value)> = Vec::new();
        for step in steps {
            if t >= self.end - 10 * MINUTE {
                break;
            }
            match step {
                Step::Page(p) => {
                    let mut e = self.web_event(sender, lead, t, "page_view");
                    e.insert("url".into(), json!(format!("{SITE}{p}")));
                    let mut props = Map::new();
                    props.insert("visit_id".into(), json!(visit_id));
                    if out.is_empty() {
                        if let Some(r) = referrer {
                            props.insert("referrer".into(), json!(r));
                        }
                    }
                    e.insert("properties".into(), Value::Object(props));
                    out.push((t, Value::Object(e)));
                    page = p;
                }
                Step::Form(target) => {
                    let traits = self.converted(lead, t);
                    let mut e = self.web_event(sender, lead, t, "form_submit");
                    e.insert("url".into(), json!(format!("{SITE}{page}")));
                    e.insert("target".into(), json!(target));
                    if let Some(traits) = traits {
                        e.insert("traits".into(), traits);
                    }
                    if target == CONTACT_SALES_FORM {
                        marks.contact_sales = Some(t);
                    }
                    out.push((t, Value::Object(e)));
                }
                Step::Download(target) => {
                    page = format!("/resources/{target}");
                    let mut e = self.web_event(sender, lead, t, "page_view");
                    e.insert("url".into(), json!(format!("{SITE}{page}")));
                    e.insert("properties".into(), json!({ "visit_id": visit_id }));
                    out.push((t, Value::Object(e)));
                    t += self.secs(30, 90);
                    let traits = self.converted(lead, t);
                    let mut e = self.web_event(sender, lead, t, "content_download");
                    e.insert("target".into(), json!(target));
                    e.insert("url".into(), json!(format!("{SITE}{page}")));
                    if let Some(traits) = traits {
                        e.insert("traits".into(), traits);
                    }
                    out.push((t, Value::Object(e)));
                }
                Step::WebinarReg(which) => {
                    let w = which
                        .filter(|&w| self.webinars.get(w).is_some_and(|x| x.t > t + HOUR))
                        .or_else(|| self.webinars.iter().position(|x| x.t > t + HOUR));
                    let Some(w) = w else {
                        // No webinar ahead: the ebook instead.
                        let m = self.visit_steps_inline(
                            lead,
                            &mut t,
                            &mut out,
                            sender,
                            EBOOK_ANALYTICS,
                            &visit_id,
                        );
                        page = m;
                        continue;
                    };
                    let slug = self.webinars[w].slug;
                    page = format!("/webinars/{slug}");
                    let mut e = self.web_event(sender, lead, t, "page_view");
                    e.insert("url".into(), json!(format!("{SITE}{page}")));
                    e.insert("properties".into(), json!({ "visit_id": visit_id }));
                    out.push((t, Value::Object(e)));
                    t += self.secs(40, 120);
                    let traits = self.converted(lead, t);
                    let mut e = self.web_event(sender, lead, t, "webinar_registered");
                    e.insert("target".into(), json!(format!("webinar-{slug}")));
                    if let Some(traits) = traits {
                        e.insert("traits".into(), traits);
                    }
                    out.push((t, Value::Object(e)));
                    if !self.leads[lead].registered.contains(&w) {
                        self.leads[lead].registered.push(w);
                    }
                }
                Step::Video(percent) => {
                    let mut e = self.web_event(sender, lead, t, "video_watched");
                    e.insert("url".into(), json!(format!("{SITE}{page}")));
                    e.insert("target".into(), json!("product-tour"));
                    e.insert("percent".into(), json!(percent));
                    out.push((t, Value::Object(e)));
                    t += self.secs(60, 240);
                }
                Step::Demo => {
                    page = "/demo".into();
                    let mut e = self.web_event(sender, lead, t, "page_view");
                    e.insert("url".into(), json!(format!("{SITE}{page}")));
                    e.insert("properties".into(), json!({ "visit_id": visit_id }));
                    out.push((t, Value::Object(e)));
                    t += self.secs(60, 150);
                    let traits = self.converted(lead, t);
                    let mut e = self.web_event(sender, lead, t, "demo_request");
                    e.insert("target".into(), json!("demo-form"));
                    e.insert("url".into(), json!(format!("{SITE}{page}")));
                    if let Some(traits) = traits {
                        e.insert("traits".into(), traits);
                    }
                    out.push((t, Value::Object(e)));
                    marks.demo = Some(t);
                }
                Step::Trial => {
                    page = "/trial".into();
                    let mut e = self.web_event(sender, lead, t, "page_view");
                    e.insert("url".into(), json!(format!("{SITE}{page}")));
                    e.insert("properties".into(), json!({ "visit_id": visit_id }));
                    out.push((t, Value::Object(e)));
                    t += self.secs(60, 180);
                    let traits = self.converted(lead, t);
                    let mut e = self.web_event(sender, lead, t, "trial_started");
                    e.insert("target".into(), json!("analytics-trial"));
                    e.insert("properties".into(), json!({ "plan": "trial" }));
                    if let Some(traits) = traits {
                        e.insert("traits".into(), traits);
                    }
                    out.push((t, Value::Object(e)));
                    marks.trial = Some(t);
                }
                Step::Custom(name) => {
                    let mut e = self.web_event(sender, lead, t, "custom");
                    e.insert("name".into(), json!(name));
                    e.insert("properties".into(), json!({ "plan": "trial" }));
                    out.push((t, Value::Object(e)));
                }
            }
            t += self.secs(20, 150);
        }
        out.retain(|(t, _)| *t < self.end);
        if let Some(&(last, _)) = out.last() {
            let at = last + self.secs(60, 180);
            let events: Vec<Value> = out.into_iter().map(|(_, e)| e).collect();
            self.events.push(EventsBatch {
                at,
                sender,
                body: json!({ "events": events }),
            });
        }
        marks
    }

    /// A download inside a visit (the fallback of a registration with no webinar ahead);
    /// returns the page it leaves the visitor on.
    fn visit_steps_inline(
        &mut self,
        lead: usize,
        t: &mut i64,
        out: &mut Vec<(i64, Value)>,
        sender: Sender,
        target: &'static str,
        visit_id: &str,
    ) -> String {
        let page = format!("/resources/{target}");
        let mut e = self.web_event(sender, lead, *t, "page_view");
        e.insert("url".into(), json!(format!("{SITE}{page}")));
        e.insert("properties".into(), json!({ "visit_id": visit_id }));
        out.push((*t, Value::Object(e)));
        *t += self.secs(30, 90);
        let traits = self.converted(lead, *t);
        let mut e = self.web_event(sender, lead, *t, "content_download");
        e.insert("target".into(), json!(target));
        e.insert("url".into(), json!(format!("{SITE}{page}")));
        if let Some(traits) = traits {
            e.insert("traits".into(), traits);
        }
        out.push((*t, Value::Object(e)));
        page
    }

    /// The common fields of a generic event.
    fn web_event(&mut self, sender: Sender, lead: usize, t: i64, kind: &str) -> Map<String, Value> {
        self.next_event += 1;
        let mut e = Map::new();
        e.insert(
            "id".into(),
            json!(format!("{}-{:07}", sender.id_prefix(), self.next_event)),
        );
        e.insert("type".into(), json!(kind));
        e.insert("email".into(), json!(self.leads[lead].profile.email));
        e.insert("timestamp".into(), json!(self.rfc3339(t)));
        e
    }

    /// A form was filled at `t`. The first time, the lead becomes known: HubSpot creates the
    /// contact (a HubSpot form) and the onboarding emails are scheduled. A lead HubSpot does
    /// not know gets the form's fields as `traits` instead.
    fn converted(&mut self, lead: usize, t: i64) -> Option<Value> {
        if self.leads[lead].known_at.is_some() {
            return None;
        }
        self.leads[lead].known_at = Some(t);
        let welcome = t + self.secs(120, 360);
        let day = t.div_euclid(DAY);
        let nurture_1 = self.at_hours(day + 3, 14, 15);
        let nurture_2 = self.at_hours(day + 8, 14, 15);
        for (t, campaign) in [
            (welcome, Campaign::Welcome),
            (nurture_1, Campaign::Nurture(1)),
            (nurture_2, Campaign::Nurture(2)),
        ] {
            self.sends.push(Send {
                t,
                campaign,
                to: Some(lead),
            });
        }
        if self.leads[lead].profile.hubspot_id.is_some() {
            let at = t + self.secs(2, 7);
            self.create_contact(lead, at);
            None
        } else {
            Some(self.traits(lead))
        }
    }

    /// What the form collected, as leadscore attributes.
    fn traits(&self, lead: usize) -> Value {
        let l = &self.leads[lead];
        let mut m = Map::new();
        m.insert("email".into(), json!(l.profile.email));
        m.insert("first_name".into(), json!(l.profile.first_name));
        m.insert("last_name".into(), json!(l.profile.last_name));
        m.insert("job_title".into(), json!(l.title.text));
        m.insert("company".into(), json!(l.profile.company));
        m.insert("country".into(), json!(l.country));
        m.insert("city".into(), json!(l.city));
        if !l.title.seniority.is_empty() {
            m.insert("seniority".into(), json!(l.title.seniority));
        }
        if !l.title.role.is_empty() {
            m.insert("role".into(), json!(l.title.role));
        }
        if let Some(c) = l.company {
            m.insert("company_domain".into(), json!(self.companies[c].domain));
        }
        if let Some(i) = l.industry {
            m.insert("industry".into(), json!(i));
        }
        if let Some(s) = l.size {
            m.insert("company_size".into(), json!(s));
        }
        if let Some(r) = l.revenue {
            m.insert("annual_revenue".into(), json!(r));
        }
        if let Some(p) = &l.phone {
            m.insert("phone".into(), json!(p));
        }
        Value::Object(m)
    }

    // ---- HubSpot

    fn hs_push(
        &mut self,
        t: i64,
        object: u64,
        kind: &'static str,
        property: Option<(&'static str, String)>,
        change_source: &'static str,
        source_id: Option<String>,
    ) {
        if t >= self.end - 10 * MINUTE {
            return;
        }
        let seq = self.next_seq();
        self.hubspot.push(HsEvent {
            t,
            seq,
            object,
            kind,
            property,
            change_source,
            source_id,
        });
    }

    /// The form creates the contact: `contact.creation` and one `contact.propertyChange` per
    /// property the form or HubSpot set; firmographics sometimes come a few days later from
    /// an enrichment integration.
    fn create_contact(&mut self, lead: usize, t: i64) {
        let Some(object) = self.leads[lead].profile.hubspot_id else {
            return;
        };
        let enrich_later = self.leads[lead].company.is_some()
            && self.leads[lead].profile.persona != Persona::Competitor
            && self.chance(0.3);
        let l = &self.leads[lead];
        let mut now: Vec<(&'static str, String)> = vec![
            ("email", l.profile.email.clone()),
            ("firstname", l.profile.first_name.clone()),
            ("lastname", l.profile.last_name.clone()),
            ("jobtitle", l.title.text.into()),
        ];
        if !l.title.seniority.is_empty() {
            now.push(("hs_seniority", l.title.seniority.into()));
        }
        if !l.title.role.is_empty() {
            now.push(("hs_role", l.title.role.into()));
        }
        now.push(("company", l.profile.company.clone()));
        let mut later: Vec<(&'static str, String)> = Vec::new();
        {
            let firmographics = if enrich_later { &mut later } else { &mut now };
            if let Some(i) = l.industry {
                firmographics.push(("industry", i.into()));
            }
            if let Some(s) = l.size {
                firmographics.push(("numberofemployees", s.to_string()));
            }
            if let Some(r) = l.revenue {
                firmographics.push(("annualrevenue", r.to_string()));
            }
        }
        if let Some(c) = l.company {
            let c = &self.companies[c];
            now.push(("website", format!("https://www.{}", c.domain)));
            now.push(("associatedcompanyid", c.hubspot_id.to_string()));
        }
        now.push(("country", l.country.into()));
        now.push(("city", l.city.into()));
        if let Some(p) = &l.phone {
            now.push(("phone", p.clone()));
        }
        now.push(("hs_analytics_source", l.lead_source.into()));
        // HubSpot's forms set the lifecycle stage: not a sales decision, reported as ignored.
        now.push(("lifecyclestage", "lead".into()));

        self.hs_push(t, object, "contact.creation", None, "FORM", None);
        for (k, (name, value)) in now.into_iter().enumerate() {
            let at = t + 3 * (k as i64 + 1);
            self.hs_push(
                at,
                object,
                "contact.propertyChange",
                Some((name, value)),
                "FORM",
                None,
            );
        }
        if !later.is_empty() {
            let at = self.business_after(t, 1, 3);
            for (k, (name, value)) in later.into_iter().enumerate() {
                self.hs_push(
                    at + 5 * k as i64,
                    object,
                    "contact.propertyChange",
                    Some((name, value)),
                    "INTEGRATION",
                    None,
                );
            }
        }
    }

    /// A sales rep changes a property (`crm_ui`) at `t`.
    fn hs_change(&mut self, lead: usize, t: i64, name: &'static str, value: &str, crm_ui: bool) {
        let Some(object) = self.leads[lead].profile.hubspot_id else {
            return;
        };
        let rep = self.pick(REPS);
        let (source, id) = if crm_ui {
            ("CRM_UI", Some(format!("userId:{rep}")))
        } else {
            ("AUTOMATION_PLATFORM", None)
        };
        self.hs_push(
            t,
            object,
            "contact.propertyChange",
            Some((name, value.into())),
            source,
            id,
        );
    }

    /// Sales works a hand-raiser (demo request, contact-sales form raised at `raised`).
    fn follow_up(&mut self, lead: usize, raised: i64) {
        #[derive(Clone, Copy, PartialEq)]
        enum Verdict {
            Won,
            Sql,
            Disqualified,
            BadTiming,
            Silent,
        }
        let verdict = self.weighted(vec![
            (Verdict::Won, 35),
            (Verdict::Sql, 20),
            (Verdict::Disqualified, 15),
            (Verdict::BadTiming, 20),
            (Verdict::Silent, 10),
        ]);
        if verdict == Verdict::Silent {
            self.leads[lead].windows.push((raised, raised + 10 * DAY));
            return;
        }
        let t1 = self.business_after(raised, 0, 1);
        self.hs_change(lead, t1, "hs_lead_status", "ATTEMPTED_TO_CONTACT", true);
        let t2 = self.business_after(t1, 1, 3);
        self.hs_change(lead, t2, "hs_lead_status", "CONNECTED", true);
        match verdict {
            Verdict::Won => {
                self.hs_change(
                    lead,
                    t2 + 5 * MINUTE,
                    "lifecyclestage",
                    "salesqualifiedlead",
                    true,
                );
                let t3 = self.business_after(t2, 3, 8);
                self.hs_change(lead, t3, "lifecyclestage", "opportunity", true);
                let trial = self.business_after(t3, 1, 2);
                self.visit(lead, trial, vec![Step::Trial], Sender::Website, None);
                self.trial_usage(lead, trial);
                let t4 = self.business_after(t3, 7, 21);
                self.hs_change(lead, t4, "lifecyclestage", "customer", true);
                let end = self.end;
                self.leads[lead].windows.push((raised, end));
            }
            Verdict::Sql => {
                self.hs_change(
                    lead,
                    t2 + 5 * MINUTE,
                    "lifecyclestage",
                    "salesqualifiedlead",
                    true,
                );
                self.leads[lead].windows.push((raised, t2 + 20 * DAY));
            }
            Verdict::Disqualified | Verdict::BadTiming => {
                let (status, lo, hi) = if verdict == Verdict::Disqualified {
                    ("UNQUALIFIED", 1, 4)
                } else {
                    ("BAD_TIMING", 2, 6)
                };
                let t3 = self.business_after(t2, lo, hi);
                self.hs_change(lead, t3, "hs_lead_status", status, true);
                // Told "not now": the lead goes quiet from here.
                for w in &mut self.leads[lead].windows {
                    w.1 = w.1.min(t3);
                }
                self.leads[lead].windows.retain(|&(a, b)| a < b);
            }
            Verdict::Silent => {}
        }
    }

    /// Product sessions during a trial that started at `t`.
    fn trial_usage(&mut self, lead: usize, t: i64) {
        let sessions = self.between(1, 4);
        for _ in 0..sessions {
            let offset = self.between(1, 11);
            let day = self.workday(t.div_euclid(DAY) + offset);
            let at = self.at_hours(day, 8, 19);
            let mut steps = vec![Step::Custom("workflow_created")];
            if self.chance(0.5) {
                steps.push(Step::Custom("workflow_created"));
            }
            if self.chance(0.6) {
                steps.push(Step::Custom("report_shared"));
            }
            self.visit(lead, at, steps, Sender::Product, None);
        }
        self.leads[lead].windows.push((t, t + 14 * DAY));
    }

    // ---- email

    fn mail_info(&self, campaign: Campaign, t: i64) -> MailInfo {
        let date = self.time(t).format("%Y-%m-%d").to_string();
        match campaign {
            Campaign::Welcome => MailInfo {
                slug: "onboarding-welcome".into(),
                category: "onboarding",
                link: DOCS[0].into(),
                marketing: false,
                name: "Welcome to Northwind".into(),
            },
            Campaign::Nurture(n) => MailInfo {
                slug: format!("onboarding-nurture-{n}"),
                category: "onboarding",
                link: if n == 1 {
                    CUSTOMERS[1].into()
                } else {
                    "/pricing".into()
                },
                marketing: false,
                name: format!("Onboarding nurture {n}"),
            },
            Campaign::Newsletter(n) => MailInfo {
                slug: format!("newsletter-{date}"),
                category: "newsletter",
                link: BLOG[n as usize % BLOG.len()].into(),
                marketing: true,
                name: format!("Newsletter {date}"),
            },
            Campaign::ProductUpdate(n) => MailInfo {
                slug: format!("product-update-{date}"),
                category: "product-update",
                link: [
                    "/product/funnels",
                    "/automation/journeys",
                    "/product/retention",
                ][n as usize % 3]
                    .into(),
                marketing: true,
                name: format!("Product update {date}"),
            },
            Campaign::WebinarInvite(w, k) => {
                let slug = self.webinars.get(w).map_or("webinar", |x| x.slug);
                MailInfo {
                    slug: format!("webinar-{slug}-invite-{k}"),
                    category: "webinar-invite",
                    link: format!("/webinars/{slug}"),
                    marketing: true,
                    name: format!("Webinar invite: {slug} ({k})"),
                }
            }
        }
    }

    /// The marketing calendar: a newsletter every other Tuesday, a product update three times,
    /// two invitations before each webinar.
    fn broadcasts(&mut self) -> Vec<Send> {
        let mut out = Vec::new();
        let mut day = self.weekday_on_or_after(7, &[1]);
        let mut n = 0;
        while day < self.days {
            let t = self.at_hours(day, 15, 16);
            out.push(Send {
                t,
                campaign: Campaign::Newsletter(n),
                to: None,
            });
            n += 1;
            day += 14;
        }
        for (n, share) in [0.22, 0.55, 0.88].into_iter().enumerate() {
            let day = self.weekday_on_or_after(((self.days as f64) * share) as i64, &[3]);
            if day < self.days {
                let t = self.at_hours(day, 16, 17);
                out.push(Send {
                    t,
                    campaign: Campaign::ProductUpdate(n as u32),
                    to: None,
                });
            }
        }
        for w in 0..self.webinars.len() {
            let webinar_day = self.webinars[w].t.div_euclid(DAY);
            for (k, before) in [(1u8, 10), (2, 3)] {
                let day = webinar_day - before;
                if day >= 1 {
                    let t = self.at_hours(day, 14, 15);
                    out.push(Send {
                        t,
                        campaign: Campaign::WebinarInvite(w, k),
                        to: None,
                    });
                }
            }
        }
        out
    }

    /// Sends every email in time order and plays what each recipient does with it.
    fn mail(&mut self) {
        let mut sends = std::mem::take(&mut self.sends);
        sends.extend(self.broadcasts());
        // Stable: triggered emails keep their scheduling order at equal times.
        sends.sort_by_key(|s| s.t);
        for send in sends {
            if send.t >= self.end - HOUR {
                continue;
            }
            let info = self.mail_info(send.campaign, send.t);
            let send_id = self.hex_id(11);
            let singlesend = info.marketing.then(|| {
                format!(
                    "{}-{}-{}-{}-{}",
                    self.hex_id(8),
                    self.hex_id(4),
                    self.hex_id(4),
                    self.hex_id(4),
                    self.hex_id(12)
                )
            });
            let recipients: Vec<usize> = match send.to {
                Some(i) => vec![i],
                None => (0..self.leads.len())
                    .filter(|&i| self.leads[i].known_at.is_some_and(|k| k < send.t))
                    .collect(),
            };
            let mut k = 0i64;
            for i in recipients {
                if self.leads[i].suppressed {
                    continue;
                }
                // A bulk send goes out over a minute or so.
                let td = (send.t + k * 180 + self.between(0, 20 * SECOND)) / SECOND * SECOND;
                k += 1;
                self.mail_one(i, &send, &info, &send_id, singlesend.as_deref(), td);
            }
        }
    }

    fn sg_event(
        &mut self,
        t: i64,
        lead: usize,
        event: &str,
        info: &MailInfo,
        message_id: &str,
        singlesend: Option<&str>,
    ) -> Map<String, Value> {
        let mut e = Map::new();
        e.insert("email".into(), json!(self.leads[lead].profile.email));
        e.insert("timestamp".into(), json!(self.epoch_ms(t) / 1_000));
        e.insert("event".into(), json!(event));
        let id: [u8; 16] = self.rng.random::<u128>().to_le_bytes();
        e.insert("sg_event_id".into(), json!(BASE64.encode(id)));
        e.insert("sg_message_id".into(), json!(message_id));
        e.insert("category".into(), json!([info.category, info.slug]));
        let asm = if info.marketing {
            ASM_MARKETING
        } else {
            ASM_ONBOARDING
        };
        e.insert("asm_group_id".into(), json!(asm));
        if let Some(id) = singlesend {
            e.insert("singlesend_id".into(), json!(id));
            e.insert("singlesend_name".into(), json!(info.name));
            e.insert("mc_stats".into(), json!("singlesend"));
            e.insert("phase_id".into(), json!("send"));
        } else {
            // A custom arg of the onboarding journey's API sends.
            e.insert("journey".into(), json!("onboarding"));
        }
        e
    }

    fn sg_push(&mut self, t: i64, body: Map<String, Value>) {
        if t >= self.end - 10 * MINUTE {
            return;
        }
        let seq = self.next_seq();
        self.sendgrid.push(SgEvent { t, seq, body });
    }

    /// One recipient of one email: delivered (or bounced), Apple's machine open, and what the
    /// person does while engaged: open, click (and the visit it starts), unsubscribe, spam.
    fn mail_one(
        &mut self,
        lead: usize,
        send: &Send,
        info: &MailInfo,
        send_id: &str,
        singlesend: Option<&str>,
        td: i64,
    ) {
        self.leads[lead].received += 1;
        let n = self.leads[lead].received;
        let message_id = format!(
            "{send_id}.filterdrecv-{}-{}-1-{:08X}-{}.0",
            self.between(1, 9),
            self.hex_id(5),
            self.rng.random::<u32>(),
            self.between(0, 30)
        );
        if self.leads[lead].bad_address {
            let mut e = self.sg_event(td, lead, "bounce", info, &message_id, singlesend);
            e.insert("type".into(), json!("bounce"));
            e.insert("status".into(), json!("5.1.1"));
            e.insert(
                "reason".into(),
                json!("550 5.1.1 The email account that you tried to reach does not exist"),
            );
            e.insert("bounce_classification".into(), json!("Invalid Address"));
            self.sg_push(td, e);
            self.leads[lead].suppressed = true;
            return;
        }
        let mut e = self.sg_event(td, lead, "delivered", info, &message_id, singlesend);
        e.insert(
            "smtp-id".into(),
            json!(format!(
                "<{send_id}.{}@ismtpd0001p1mdw1.sendgrid.net>",
                self.hex_id(6)
            )),
        );
        e.insert("response".into(), json!("250 2.0.0 OK"));
        e.insert("tls".into(), json!(1));
        e.insert("ip".into(), json!("192.0.2.25"));
        self.sg_push(td, e);

        if self.leads[lead].apple {
            let t = td + self.secs(30, 480);
            let mut e = self.sg_event(t, lead, "open", info, &message_id, singlesend);
            e.insert("sg_machine_open".into(), json!(true));
            e.insert("useragent".into(), json!(APPLE_PROXY_AGENT));
            e.insert(
                "ip".into(),
                json!(format!("198.51.100.{}", self.between(1, 255))),
            );
            self.sg_push(t, e);
        }
        let ip = format!("203.0.113.{}", 1 + lead % 250);
        let agent = USER_AGENTS[lead % USER_AGENTS.len()];
        let human_open = |g: &mut Gen<'_>, t: i64| {
            let mut e = g.sg_event(t, lead, "open", info, &message_id, singlesend);
            e.insert("sg_machine_open".into(), json!(false));
            e.insert("useragent".into(), json!(agent));
            e.insert("ip".into(), json!(ip));
            g.sg_push(t, e);
        };

        if self.leads[lead].spam_on == Some(n) {
            let t = td + self.secs(2 * 3_600, 20 * 3_600);
            let t = self.waking(t);
            let mut e = self.sg_event(t, lead, "spamreport", info, &message_id, singlesend);
            e.remove("asm_group_id");
            self.sg_push(t, e);
            self.leads[lead].suppressed = true;
            return;
        }
        if self.leads[lead].unsubscribe_on == Some(n) {
            let t = td + self.secs(600, 6 * 3_600);
            let t = self.waking(t);
            human_open(self, t);
            let tu = t + self.secs(20, 90);
            let mut e = self.sg_event(tu, lead, "group_unsubscribe", info, &message_id, singlesend);
            e.insert("useragent".into(), json!(agent));
            e.insert("ip".into(), json!(ip));
            self.sg_push(tu, e);
            self.leads[lead].suppressed = true;
            return;
        }
        let persona = self.leads[lead].profile.persona;
        let delay = if self.chance(0.7) {
            self.secs(600, 4 * 3_600)
        } else {
            self.secs(4 * 3_600, 30 * 3_600)
        };
        let to = self.waking(td + delay);
        if !self.active(lead, to) || !self.chance(persona.open_rate()) {
            return;
        }
        human_open(self, to);
        if !self.chance(persona.click_rate()) {
            return;
        }
        let tc = to + self.secs(20, 240);
        let url = format!(
            "{SITE}{}?utm_source=sendgrid&utm_medium=email&utm_campaign={}",
            info.link, info.slug
        );
        let mut e = self.sg_event(tc, lead, "click", info, &message_id, singlesend);
        e.insert("url".into(), json!(url));
        e.insert("url_offset".into(), json!({ "index": 0, "type": "html" }));
        e.insert("useragent".into(), json!(agent));
        e.insert("ip".into(), json!(ip));
        self.sg_push(tc, e);

        // The click opens the page: a visit.
        let landing = format!(
            "{}?utm_source=sendgrid&utm_medium=email&utm_campaign={}",
            info.link, info.slug
        );
        let mut steps = match send.campaign {
            Campaign::WebinarInvite(w, _) if !self.leads[lead].registered.contains(&w) => {
                vec![Step::WebinarReg(Some(w))]
            }
            _ => vec![Step::Page(landing)],
        };
        match persona {
            Persona::Ideal | Persona::Good => {
                if matches!(send.campaign, Campaign::Nurture(1)) && self.chance(0.4) {
                    steps.push(Step::Download(CASE_ACME));
                } else if self.chance(0.5) {
                    steps.push(Step::Page(self.pick(PRODUCT).into()));
                }
            }
            Persona::Competitor => steps.push(Step::Page("/pricing".into())),
            _ => {}
        }
        let tv = tc + self.secs(2, 7);
        self.visit(lead, tv, steps, Sender::Website, None);
    }

    // ---- webinars

    /// The webinar platform reports the attendees of each webinar in one request.
    fn attend_webinars(&mut self) {
        for w in 0..self.webinars.len() {
            let (slug, wt) = (self.webinars[w].slug, self.webinars[w].t);
            let mut out = Vec::new();
            for i in 0..self.leads.len() {
                if !self.leads[i].registered.contains(&w) || !self.active(i, wt) {
                    continue;
                }
                let persona = self.leads[i].profile.persona;
                if !self.chance(persona.attend_rate()) {
                    continue;
                }
                let t = wt + self.secs(55 * 60, 62 * 60);
                let mut e = self.web_event(Sender::Webinars, i, t, "webinar_attended");
                e.insert("target".into(), json!(format!("webinar-{slug}")));
                e.insert(
                    "properties".into(),
                    json!({ "minutes_attended": self.between(15, 61) }),
                );
                out.push(Value::Object(e));
            }
            let at = wt + 75 * MINUTE;
            if !out.is_empty() && at < self.end {
                self.events.push(EventsBatch {
                    at,
                    sender: Sender::Webinars,
                    body: Value::Array(out),
                });
            }
        }
    }

    // ---- deliveries

    fn finish(mut self) -> Sample {
        let mut out: Vec<(i64, u8, u64, Delivery)> = Vec::new();
        self.hubspot_deliveries(&mut out);
        self.sendgrid_deliveries(&mut out);
        self.events_deliveries(&mut out);
        out.sort_by_key(|(at, rank, seq, _)| (*at, *rank, *seq));
        let deliveries = out.into_iter().map(|(_, _, _, d)| d).collect();
        let mut profiles: Vec<(i64, LeadProfile)> = self
            .leads
            .into_iter()
            .map(|l| (l.known_at.unwrap_or(l.arrival), l.profile))
            .collect();
        profiles.sort_by_key(|(t, _)| *t);
        Sample {
            deliveries,
            profiles: profiles.into_iter().map(|(_, p)| p).collect(),
        }
    }

    fn hubspot_deliveries(&mut self, out: &mut Vec<(i64, u8, u64, Delivery)>) {
        let mut events = std::mem::take(&mut self.hubspot);
        events.sort_by_key(|e| (e.t, e.seq));
        let mut event_id: u64 = 3_800_000_000 + self.between(0, 1_000_000) as u64;
        let subscription = |kind: &str, property: Option<&str>| -> u64 {
            const PROPERTIES: &[&str] = &[
                "email",
                "firstname",
                "lastname",
                "jobtitle",
                "hs_seniority",
                "hs_role",
                "company",
                "industry",
                "numberofemployees",
                "annualrevenue",
                "website",
                "associatedcompanyid",
                "country",
                "city",
                "phone",
                "hs_analytics_source",
                "lifecyclestage",
                "hs_lead_status",
            ];
            match (kind, property) {
                ("contact.creation", _) => 2_150_901,
                (_, Some(p)) => {
                    2_150_910 + PROPERTIES.iter().position(|x| *x == p).unwrap_or(99) as u64
                }
                _ => 2_150_999,
            }
        };
        let mut i = 0;
        while i < events.len() {
            let first = events[i].t;
            let mut j = i;
            while j < events.len() && j - i < HUBSPOT_BATCH && events[j].t <= first + HUBSPOT_WINDOW
            {
                j += 1;
            }
            let mut batch = Vec::with_capacity(j - i);
            for e in &events[i..j] {
                event_id += self.between(1, 40) as u64;
                let mut m = Map::new();
                m.insert("eventId".into(), json!(event_id));
                m.insert(
                    "subscriptionId".into(),
                    json!(subscription(e.kind, e.property.as_ref().map(|p| p.0))),
                );
                m.insert("portalId".into(), json!(PORTAL_ID));
                m.insert("appId".into(), json!(APP_ID));
                m.insert("occurredAt".into(), json!(self.epoch_ms(e.t)));
                m.insert("subscriptionType".into(), json!(e.kind));
                m.insert("attemptNumber".into(), json!(0));
                m.insert("objectId".into(), json!(e.object));
                if let Some((name, value)) = &e.property {
                    m.insert("propertyName".into(), json!(name));
                    m.insert("propertyValue".into(), json!(value));
                }
                m.insert("changeSource".into(), json!(e.change_source));
                if e.kind == "contact.creation" {
                    m.insert("changeFlag".into(), json!("NEW"));
                }
                if let Some(id) = &e.source_id {
                    m.insert("sourceId".into(), json!(id));
                }
                batch.push(Value::Object(m));
            }
            let last = events[j - 1].t;
            let at = last + self.between(800, 15 * SECOND);
            let body = Value::Array(batch).to_string().into_bytes();
            let request = self.hubspot_request(body, self.epoch_ms(at));
            let seq = events[i].seq;
            out.push((
                at,
                0,
                seq,
                Delivery {
                    at: self.time(at),
                    source: HUBSPOT,
                    request,
                },
            ));
            i = j;
        }
    }

    /// HubSpot's request: v3 signature over method + URL + body + timestamp (ms), and the v1
    /// header (SHA-256 of secret + body) HubSpot sends alongside.
    fn hubspot_request(&self, body: Vec<u8>, at_ms: i64) -> Request {
        let secret = &self.secrets.hubspot_client_secret;
        let base = self.secrets.public_base_url.trim().trim_end_matches('/');
        let uri = format!("{base}/webhooks/{HUBSPOT}");
        let timestamp = at_ms.to_string();
        let v3 = hmac_sha256(
            secret.as_bytes(),
            &[b"POST", uri.as_bytes(), &body, timestamp.as_bytes()],
        );
        let mut v1 = Sha256::new();
        v1.update(secret.as_bytes());
        v1.update(&body);
        request(
            &format!("/webhooks/{HUBSPOT}"),
            vec![
                ("Content-Type", "application/json".into()),
                (
                    "User-Agent",
                    "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon".into(),
                ),
                ("X-HubSpot-Signature", hex(&v1.finalize())),
                ("X-HubSpot-Signature-Version", "v1".into()),
                ("X-HubSpot-Signature-v3", BASE64.encode(v3)),
                ("X-HubSpot-Request-Timestamp", timestamp),
            ],
            body,
        )
    }

    fn sendgrid_deliveries(&mut self, out: &mut Vec<(i64, u8, u64, Delivery)>) {
        let mut events = std::mem::take(&mut self.sendgrid);
        events.sort_by_key(|e| (e.t, e.seq));
        let mut i = 0;
        while i < events.len() {
            let first = events[i].t;
            let mut j = i;
            while j < events.len()
                && j - i < SENDGRID_BATCH
                && events[j].t < first + SENDGRID_WINDOW
            {
                j += 1;
            }
            let seq = events[i].seq;
            let batch: Vec<Value> = events[i..j]
                .iter_mut()
                .map(|e| Value::Object(std::mem::take(&mut e.body)))
                .collect();
            let at = first + SENDGRID_WINDOW + self.secs(0, 4);
            // Real bodies end in CRLF, and the signature covers it.
            let mut body = Value::Array(batch).to_string().into_bytes();
            body.extend_from_slice(b"\r\n");
            let request = self.sendgrid_request(body, self.epoch_ms(at) / 1_000);
            out.push((
                at,
                1,
                seq,
                Delivery {
                    at: self.time(at),
                    source: SENDGRID,
                    request,
                },
            ));
            i = j;
        }
    }

    /// SendGrid's request: ECDSA P-256 (SHA-256) over `timestamp + body`, base64 DER.
    fn sendgrid_request(&self, body: Vec<u8>, at_s: i64) -> Request {
        let timestamp = at_s.to_string();
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(&body);
        // Signing with a valid key does not fail (RFC 6979); were it to, the empty signature
        // would be refused by the receiver, visibly.
        let signature: Result<DerSignature, _> = self.secrets.sendgrid_key.try_sign(&message);
        let signature = signature
            .map(|s| BASE64.encode(s.as_bytes()))
            .unwrap_or_default();
        request(
            &format!("/webhooks/{SENDGRID}"),
            vec![
                ("Content-Type", "application/json".into()),
                ("User-Agent", "SendGrid Event API".into()),
                ("X-Twilio-Email-Event-Webhook-Signature", signature),
                ("X-Twilio-Email-Event-Webhook-Timestamp", timestamp),
            ],
            body,
        )
    }

    fn events_deliveries(&mut self, out: &mut Vec<(i64, u8, u64, Delivery)>) {
        let batches = std::mem::take(&mut self.events);
        for (k, b) in batches.into_iter().enumerate() {
            let body = b.body.to_string().into_bytes();
            let signature = hmac_sha256(self.secrets.events_secret.as_bytes(), &[&body]);
            let request = request(
                &format!("/webhooks/{EVENTS}"),
                vec![
                    ("Content-Type", "application/json".into()),
                    ("User-Agent", b.sender.user_agent().into()),
                    (
                        "X-Leadscore-Signature",
                        format!("sha256={}", hex(&signature)),
                    ),
                ],
                body,
            );
            out.push((
                b.at,
                2,
                k as u64,
                Delivery {
                    at: self.time(b.at),
                    source: EVENTS,
                    request,
                },
            ));
        }
    }
}
