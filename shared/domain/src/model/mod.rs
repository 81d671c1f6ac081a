//! The scoring model: what a model file says, checked and compiled for fast matching.
//!
//! `Model::from_toml` is the only way in: it validates everything (unknown keys, bad patterns,
//! thresholds, caps, windows, kinds, duplicate ids) and reports every problem with its line.

mod compile;
mod error;
pub mod lists;
pub(crate) mod matching;
pub mod raw;
mod thresholds;

pub use error::{ModelError, ModelErrors};
pub use thresholds::{ThresholdProblem, Thresholds};

use crate::event::{Event, EventKind};
use crate::points::Points;
use crate::Name;
use chrono::TimeDelta;
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

/// Attribute names fit rules may use; anything else must be spelled `custom.<name>`.
pub const KNOWN_ATTRIBUTES: &[&str] = &[
    "email",
    "email_domain",
    "first_name",
    "last_name",
    "job_title",
    "seniority",
    "role",
    "industry",
    "company",
    "company_domain",
    "company_size",
    "annual_revenue",
    "country",
    "state",
    "city",
    "phone",
    "lead_source",
];

/// Attributes holding numbers (the ones `range` makes sense on, besides `custom.*`).
pub const NUMERIC_ATTRIBUTES: &[&str] = &["company_size", "annual_revenue"];

#[derive(Debug)]
pub struct Model {
    pub name: String,
    pub description: Option<String>,
    pub products: Vec<Name>,
    pub thresholds: Thresholds,
    pub grades: GradeBands,
    pub lists: Lists,
    pub score_machine_opens: bool,
    pub decay: Option<Decay>,
    /// Days without positive activity after which a lead is cold (moved to nurture).
    pub cold_after_days: Option<u32>,
    pub fit_rules: Vec<FitRule>,
    pub activity_rules: Vec<ActivityRule>,
    pub combinations: Vec<Combination>,
    /// Activity rule indices per event kind, so an event is only tried against its own rules.
    by_kind: Vec<Vec<usize>>,
    /// Per kind: whether any of its rules has a URL glob, a target glob.
    globs_by_kind: Vec<(bool, bool)>,
    longest_cap_window: TimeDelta,
    rule_index: HashMap<Name, usize>,
    /// Distinguishes compiled models in one process, so lead states know which model their
    /// cached rule indices point into.
    instance: u64,
}

/// Lower bounds of the A, B, C fit bands (below C is D) and of the 1, 2, 3 activity bands
/// (below 3 is 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GradeBands {
    pub fit: [Points; 3],
    pub activity: [Points; 3],
}

impl Default for GradeBands {
    fn default() -> Self {
        GradeBands {
            fit: [Points::whole(60), Points::whole(40), Points::whole(20)],
            activity: [Points::whole(60), Points::whole(40), Points::whole(20)],
        }
    }
}

#[derive(Debug, Default)]
pub struct Lists {
    pub free_mail: HashSet<String>,
    pub competitors: HashSet<String>,
    pub non_buyer_titles: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DecayStep {
    Points(Points),
    Percent(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Day,
    Week,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decay {
    /// Idle days before the first step.
    pub idle_days: u32,
    pub every: Every,
    pub step: DecayStep,
    /// The activity score never decays below this.
    pub floor: Points,
}

#[derive(Debug)]
pub struct FitRule {
    pub id: Name,
    pub description: Option<String>,
    pub attribute: String,
    pub points: Points,
    pub product: Option<Name>,
    pub condition: Condition,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Bool(bool),
    Number(f64),
    /// Lower-cased: text comparisons ignore case.
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListName {
    FreeMail,
    Competitors,
    NonBuyerTitles,
}

#[derive(Debug)]
pub enum Condition {
    Equals(Scalar),
    OneOf(Vec<String>),
    Contains(Vec<String>),
    Prefix(Vec<String>),
    Regex(Regex),
    Range { min: Option<f64>, max: Option<f64> },
    Present(bool),
    InList(ListName),
}

#[derive(Debug)]
pub struct ActivityRule {
    pub id: Name,
    pub description: Option<String>,
    pub kind: EventKind,
    pub points: Points,
    pub product: Option<Name>,
    pub filter: Filter,
    pub caps: Vec<Cap>,
    pub lifetime: Lifetime,
    pub instant_mql: bool,
}

#[derive(Debug, Default)]
pub struct Filter {
    /// A glob over the lower-cased URL (so case is ignored).
    pub url: Option<Glob>,
    pub url_regex: Option<Regex>,
    /// A glob over the lower-cased target.
    pub target: Option<Glob>,
    pub min_percent: Option<f64>,
    pub max_percent: Option<f64>,
    pub event: Option<String>,
    pub properties: Vec<(String, Scalar)>,
}

/// A compiled glob. Most URL and id globs are a literal with `*` at one or both ends; those
/// are plain string tests, the rest run as the regex globset translates them to.
#[derive(Debug)]
pub enum Glob {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    Regex(regex::bytes::Regex),
}

impl Glob {
    /// `text` must already be lower-case, like the pattern.
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Glob::Exact(s) => text == s,
            Glob::Prefix(s) => text.starts_with(s.as_str()),
            Glob::Suffix(s) => text.ends_with(s.as_str()),
            Glob::Contains(s) => text.contains(s.as_str()),
            Glob::Regex(re) => re.is_match(text.as_bytes()),
        }
    }
}

/// The most caps one rule may have.
pub const MAX_CAPS: usize = 4;

/// At most `max_count` scored occurrences and/or `max_points` points per rolling `window`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cap {
    pub max_count: Option<u32>,
    pub max_points: Option<Points>,
    pub window: TimeDelta,
}

/// How long an activity's points last. Applied day by day by the decay sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    Forever,
    ExpiresAfterDays(u32),
    HalfLifeDays(u32),
}

#[derive(Debug)]
pub struct Combination {
    pub id: Name,
    pub description: Option<String>,
    /// Activity rule indices, in order when `ordered`.
    pub requires: Vec<usize>,
    pub within: TimeDelta,
    pub points: Points,
    pub ordered: bool,
    pub product: Option<Name>,
    pub max_awards: u32,
}

static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(1);

impl Model {
    /// Parses and validates a model file. `origin` names the file in error messages.
    pub fn from_toml(src: &str, origin: &str) -> Result<Model, ModelErrors> {
        compile::compile(src, origin)
    }

    fn finish(mut self) -> Model {
        self.by_kind = vec![Vec::new(); EventKind::COUNT];
        self.globs_by_kind = vec![(false, false); EventKind::COUNT];
        for (i, r) in self.activity_rules.iter().enumerate() {
            self.by_kind[r.kind as usize].push(i);
            let g = &mut self.globs_by_kind[r.kind as usize];
            g.0 |= r.filter.url.is_some();
            g.1 |= r.filter.target.is_some();
        }
        self.longest_cap_window = self
            .activity_rules
            .iter()
            .flat_map(|r| r.caps.iter().map(|c| c.window))
            .max()
            .unwrap_or(TimeDelta::zero());
        self.rule_index = self
            .activity_rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        self.instance = NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed);
        self
    }

    pub(crate) fn instance(&self) -> u64 {
        self.instance
    }

    /// The index of the activity rule with this id.
    pub fn activity_rule_index(&self, id: &str) -> Option<usize> {
        self.rule_index.get(id).copied()
    }

    /// Pushes the indices of the activity rules this event matches onto `out`.
    /// Machine opens match nothing unless the model scores them.
    pub fn match_event(&self, event: &Event, out: &mut impl Extend<usize>) {
        if event.machine && event.kind == EventKind::EmailOpen && !self.score_machine_opens {
            return;
        }
        if let Some(rules) = self.by_kind.get(event.kind as usize) {
            let (url, target) = self.globs_by_kind[event.kind as usize];
            let lowered = matching::Lowered::of(event, url, target);
            out.extend(
                rules
                    .iter()
                    .copied()
                    .filter(|&i| self.activity_rules[i].filter.matches(event, &lowered)),
            );
        }
    }

    /// True when any rule expires or halves its points with age.
    pub fn has_lifetimes(&self) -> bool {
        self.activity_rules
            .iter()
            .any(|r| r.lifetime != Lifetime::Forever)
    }

    /// The longest cap window of any rule (zero when nothing is capped).
    pub fn longest_cap_window(&self) -> TimeDelta {
        self.longest_cap_window
    }
}
