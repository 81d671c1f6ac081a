//! The grade matrix: fit bands A-D by activity bands 1-4 (A1 is the best cell).

use crate::model::GradeBands;
use crate::points::Points;
use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grade {
    /// 'A'..='D'
    pub fit: char,
    /// 1..=4
    pub activity: u8,
}

impl Grade {
    pub fn of(bands: &GradeBands, fit: Points, activity: Points) -> Grade {
        let fit_band = bands.fit.iter().position(|&b| fit >= b).unwrap_or(3);
        let act_band = bands
            .activity
            .iter()
            .position(|&b| activity >= b)
            .unwrap_or(3);
        Grade {
            fit: ['A', 'B', 'C', 'D'][fit_band],
            activity: act_band as u8 + 1,
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.fit, self.activity)
    }
}

impl Serialize for Grade {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_lower_bounds() {
        let b = GradeBands::default(); // fit 60/40/20, activity 60/40/20
        let g = |f, a| Grade::of(&b, Points::whole(f), Points::whole(a)).to_string();
        assert_eq!(g(60, 60), "A1");
        assert_eq!(g(59, 40), "B2");
        assert_eq!(g(20, 19), "C4");
        assert_eq!(g(-5, 0), "D4");
    }
}
