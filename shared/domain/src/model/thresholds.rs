//! The MQL thresholds and the rules between them, shared by the model file's check and a
//! deployment's override (`LEADSCORE_MQL_THRESHOLD` in the functions' configuration).

use super::Model;
use crate::points::Points;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Enter MQL at or above this total.
    pub mql: Points,
    /// Leave MQL (recycled) below this total; lower than `mql` so a lead does not flap.
    pub mql_exit: Points,
    /// The total never goes below this.
    pub floor: Points,
}

/// A rule the three thresholds break, named after the model file's keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdProblem {
    #[error("thresholds.mql must be positive, got {mql}")]
    MqlNotPositive { mql: Points },
    #[error("thresholds.mql_exit ({mql_exit}) must be lower than thresholds.mql ({mql})")]
    ExitNotBelowMql { mql_exit: Points, mql: Points },
    #[error("thresholds.floor ({floor}) must be lower than thresholds.mql_exit ({mql_exit})")]
    FloorNotBelowExit { floor: Points, mql_exit: Points },
}

impl Thresholds {
    /// Every rule the thresholds break (the file check reports each at its own line).
    pub fn problems(&self) -> Vec<ThresholdProblem> {
        let Thresholds {
            mql,
            mql_exit,
            floor,
        } = *self;
        let mut out = Vec::new();
        if mql <= Points::ZERO {
            out.push(ThresholdProblem::MqlNotPositive { mql });
        }
        if mql_exit >= mql {
            out.push(ThresholdProblem::ExitNotBelowMql { mql_exit, mql });
        }
        if floor >= mql_exit {
            out.push(ThresholdProblem::FloorNotBelowExit { floor, mql_exit });
        }
        out
    }
}

impl Model {
    /// Replaces the entry and exit thresholds the file gave (a stage's deployment may qualify
    /// leads sooner or later without editing the model). The model is unchanged unless the
    /// result keeps every rule.
    pub fn override_thresholds(
        &mut self,
        mql: Option<Points>,
        mql_exit: Option<Points>,
    ) -> Result<(), ThresholdProblem> {
        let candidate = Thresholds {
            mql: mql.unwrap_or(self.thresholds.mql),
            mql_exit: mql_exit.unwrap_or(self.thresholds.mql_exit),
            floor: self.thresholds.floor,
        };
        match candidate.problems().into_iter().next() {
            Some(problem) => Err(problem),
            None => {
                self.thresholds = candidate;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = "[model]\nname='t'\n[thresholds]\nmql=100\nmql_exit=70\nfloor=0\n";

    fn model() -> Model {
        Model::from_toml(MODEL, "t.toml").unwrap()
    }

    #[test]
    fn an_override_replaces_only_what_it_names() {
        let mut m = model();
        m.override_thresholds(Some(Points::whole(80)), None)
            .unwrap();
        assert_eq!(m.thresholds.mql, Points::whole(80));
        assert_eq!(m.thresholds.mql_exit, Points::whole(70));
        m.override_thresholds(None, Some(Points(5050))).unwrap();
        assert_eq!(m.thresholds.mql, Points::whole(80));
        assert_eq!(m.thresholds.mql_exit, Points(5050));
    }

    #[test]
    fn an_override_that_breaks_a_rule_changes_nothing() {
        let mut m = model();
        // The exit would not be below the new entry threshold.
        assert_eq!(
            m.override_thresholds(Some(Points::whole(60)), None),
            Err(ThresholdProblem::ExitNotBelowMql {
                mql_exit: Points::whole(70),
                mql: Points::whole(60)
            })
        );
        assert_eq!(
            m.override_thresholds(None, Some(Points::ZERO)),
            Err(ThresholdProblem::FloorNotBelowExit {
                floor: Points::ZERO,
                mql_exit: Points::ZERO
            })
        );
        assert!(matches!(
            m.override_thresholds(Some(Points(-1)), Some(Points(-2))),
            Err(ThresholdProblem::MqlNotPositive { .. })
        ));
        assert_eq!(m.thresholds, model().thresholds);
    }

    #[test]
    fn both_may_move_together() {
        let mut m = model();
        m.override_thresholds(Some(Points::whole(60)), Some(Points::whole(40)))
            .unwrap();
        assert_eq!(
            (m.thresholds.mql, m.thresholds.mql_exit),
            (Points::whole(60), Points::whole(40))
        );
    }
}
