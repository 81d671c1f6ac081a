//! Points as fixed-point hundredths, so that ledger sums are exact and percentage decay
//! does not stall on small scores the way whole-number points would.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// A score amount in hundredths of a point (`Points(150)` is 1.5 points).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(pub i64);

impl Points {
    pub const ZERO: Points = Points(0);

    /// Whole points, as written in a model file.
    pub const fn whole(n: i64) -> Points {
        Points(n * 100)
    }

    /// Converts a model-file number; `None` when it is not finite or out of range.
    pub fn from_f64(v: f64) -> Option<Points> {
        if !v.is_finite() || v.abs() > 1e12 {
            return None;
        }
        Some(Points((v * 100.0).round() as i64))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    pub fn abs(self) -> Points {
        Points(self.0.abs())
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self * percent / 100`, rounded half away from zero.
    pub fn percent(self, percent: f64) -> Points {
        Points((self.0 as f64 * percent / 100.0).round() as i64)
    }

    /// `self * factor`, rounded half away from zero.
    pub fn scale(self, factor: f64) -> Points {
        Points((self.0 as f64 * factor).round() as i64)
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        if a.is_multiple_of(100) {
            write!(f, "{sign}{}", a / 100)
        } else if a.is_multiple_of(10) {
            write!(f, "{sign}{}.{}", a / 100, (a % 100) / 10)
        } else {
            write!(f, "{sign}{}.{:02}", a / 100, a % 100)
        }
    }
}

impl Add for Points {
    type Output = Points;
    fn add(self, o: Points) -> Points {
        Points(self.0 + o.0)
    }
}
impl Sub for Points {
    type Output = Points;
    fn sub(self, o: Points) -> Points {
        Points(self.0 - o.0)
    }
}
impl AddAssign for Points {
    fn add_assign(&mut self, o: Points) {
        self.0 += o.0;
    }
}
impl SubAssign for Points {
    fn sub_assign(&mut self, o: Points) {
        self.0 -= o.0;
    }
}
impl Neg for Points {
    type Output = Points;
    fn neg(self) -> Points {
        Points(-self.0)
    }
}
impl Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        iter.fold(Points::ZERO, Add::add)
    }
}

// Stored and shown as a decimal number of points; hundredths are exact in f64 round trips.
impl Serialize for Points {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            s.serialize_i64(self.0 / 100)
        } else {
            s.serialize_f64(self.as_f64())
        }
    }
}
impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Points, D::Error> {
        let v = f64::deserialize(d)?;
        Points::from_f64(v).ok_or_else(|| serde::de::Error::custom("points out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_trims_trailing_zeros() {
        assert_eq!(Points(1500).to_string(), "15");
        assert_eq!(Points(150).to_string(), "1.5");
        assert_eq!(Points(-105).to_string(), "-1.05");
        assert_eq!(Points(-5).to_string(), "-0.05");
    }

    #[test]
    fn percent_rounds_half_away_from_zero() {
        assert_eq!(Points(1000).percent(10.0), Points(100));
        assert_eq!(Points(5).percent(10.0), Points(1)); // 0.5 -> 1
        assert_eq!(Points(-5).percent(10.0), Points(-1));
    }

    #[test]
    fn serde_round_trip_keeps_hundredths() {
        for p in [Points(0), Points(1), Points(-250), Points(123_456)] {
            let s = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Points>(&s).unwrap(), p, "{s}");
        }
        assert!(serde_json::from_str::<Points>("1e300").is_err());
    }
}
