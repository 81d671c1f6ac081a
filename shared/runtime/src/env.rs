//! Reading configuration variables. Every reader takes a lookup (`Fn(&str) -> Option<String>`)
//! rather than the process environment, so tests pass fixed variables and `_PARAM` secrets
//! can be laid over the environment ([`crate::ResolvedSecrets::overlay`]).

use crate::ConfigError;
use std::fmt::Display;
use std::str::FromStr;

/// One process environment variable (a value that is not UTF-8 is read lossily).
pub fn env_var(k: &str) -> Option<String> {
    std::env::var_os(k).map(|v| v.to_string_lossy().into_owned())
}

/// `get` with blank values treated as unset (the one reading ingest's handler uses too).
pub use leadscore_app::config::non_blank;

/// The trimmed value of `var`, or [`ConfigError::Missing`] saying what it should hold.
pub fn required(
    get: impl Fn(&str) -> Option<String>,
    var: &'static str,
    what: &'static str,
) -> Result<String, ConfigError> {
    non_blank(get)(var)
        .map(|v| v.trim().to_owned())
        .ok_or(ConfigError::Missing { var, what })
}

/// `var` parsed as a `T` (`None` when unset), or [`ConfigError::Invalid`] quoting the value.
pub fn parsed<T: FromStr>(
    get: impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: Display,
{
    non_blank(get)(var)
        .map(|v| {
            v.trim().parse::<T>().map_err(|e| ConfigError::Invalid {
                var,
                problem: format!("`{}`: {e}", v.trim()),
            })
        })
        .transpose()
}

/// `var` as a whole number in `range` (`default` when unset).
pub fn number_in<T>(
    get: impl Fn(&str) -> Option<String>,
    var: &'static str,
    range: std::ops::RangeInclusive<T>,
    default: T,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Display + Copy,
    T::Err: Display,
{
    let out_of_range = |v: &str| ConfigError::Invalid {
        var,
        problem: format!(
            "`{v}` is not a whole number from {} to {}",
            range.start(),
            range.end()
        ),
    };
    match non_blank(&get)(var) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<T>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(out_of_range(v.trim())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn blank_is_unset_and_values_are_trimmed() {
        let get = lookup(&[("A", " x "), ("B", "  ")]);
        assert_eq!(required(&get, "A", "a thing").ok().as_deref(), Some("x"));
        let err = required(&get, "B", "the b").err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("B is not set: the b")
        );
        assert_eq!(parsed::<u32>(&get, "C").ok(), Some(None));
    }

    #[test]
    fn bad_numbers_name_the_variable_and_the_value() {
        let get = lookup(&[("N", "lots"), ("BIG", "5000"), ("OK", " 7 ")]);
        let err = parsed::<u32>(&get, "N").err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.starts_with("N: `lots`")),
            "{err:?}"
        );
        let err = number_in::<u32>(&get, "BIG", 1..=1000, 100)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("BIG: `5000` is not a whole number from 1 to 1000")
        );
        assert_eq!(number_in::<u32>(&get, "OK", 1..=10, 3).ok(), Some(7));
        assert_eq!(number_in::<u32>(&get, "UNSET", 1..=10, 3).ok(), Some(3));
    }
}
