//! The lifecycle: lead, MQL, SQL, customer, plus disqualified, nurture and recycled.
//! Every move carries its reason and time.

use crate::event::FeedbackOutcome;
use crate::points::Points;
use crate::Name;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// A new lead, not yet qualified.
    #[default]
    Lead,
    /// Marketing-qualified.
    Mql,
    /// Sales-accepted.
    Sql,
    Customer,
    Disqualified,
    /// Gone cold: handed to the nurture program.
    Nurture,
    /// Back from MQL or from sales: marketing works it again.
    Recycled,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Lead,
        Stage::Mql,
        Stage::Sql,
        Stage::Customer,
        Stage::Disqualified,
        Stage::Nurture,
        Stage::Recycled,
    ];

    /// Stages from which the score (or an instant-MQL rule) may qualify a lead. Sales owns SQL
    /// and customers; disqualified leads stay out until sales reopens them.
    pub fn may_qualify(self) -> bool {
        matches!(self, Stage::Lead | Stage::Nurture | Stage::Recycled)
    }

    /// Stages a cold lead leaves for nurture.
    pub fn may_go_cold(self) -> bool {
        matches!(self, Stage::Lead | Stage::Mql | Stage::Recycled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Lead => "lead",
            Stage::Mql => "mql",
            Stage::Sql => "sql",
            Stage::Customer => "customer",
            Stage::Disqualified => "disqualified",
            Stage::Nurture => "nurture",
            Stage::Recycled => "recycled",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FeedbackOutcome {
    /// Where sales feedback moves a lead. Sales is authoritative: any stage may be left.
    pub fn target(self) -> Stage {
        match self {
            FeedbackOutcome::Accepted => Stage::Sql,
            FeedbackOutcome::Disqualified => Stage::Disqualified,
            FeedbackOutcome::Recycled => Stage::Recycled,
            FeedbackOutcome::Won => Stage::Customer,
            FeedbackOutcome::Reopened => Stage::Lead,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reason {
    ScoreReached {
        score: Points,
        threshold: Points,
    },
    InstantMql {
        rule: Name,
        activity: Name,
    },
    BelowExitThreshold {
        score: Points,
        threshold: Points,
    },
    Cold {
        idle_days: i64,
    },
    SalesFeedback {
        outcome: FeedbackOutcome,
        event: Name,
    },
    /// Another lead was merged into this one, and sales had moved that lead further (SQL or
    /// customer): its stage is carried over. See `merge`.
    Merged {
        absorbed: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::ScoreReached { score, threshold } => {
                write!(f, "score {score} reached the MQL threshold {threshold}")
            }
            Reason::InstantMql { rule, activity } => {
                write!(f, "instant-MQL rule `{rule}` matched activity {activity}")
            }
            Reason::BelowExitThreshold { score, threshold } => {
                write!(
                    f,
                    "score {score} fell below the MQL exit threshold {threshold}"
                )
            }
            Reason::Cold { idle_days } => write!(f, "no positive activity for {idle_days} days"),
            Reason::SalesFeedback { outcome, event } => {
                write!(f, "sales feedback `{}` (event {event})", outcome.as_str())
            }
            Reason::Merged { absorbed } => {
                write!(
                    f,
                    "merged with lead {absorbed}, which sales had moved further"
                )
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub from: Stage,
    pub to: Stage,
    pub at: DateTime<Utc>,
    pub reason: Reason,
}
