//! Store settings read from the environment, the same in every function and in local runs.

/// Days a ledger item is kept after its newest entry (`0`: for ever).
pub const LEDGER_TTL_DAYS: &str = "LEADSCORE_LEDGER_TTL_DAYS";

/// About 13 months: a year of history to explain a score with, plus a month of slack.
pub const DEFAULT_LEDGER_TTL_DAYS: u32 = 400;

/// The ledger TTL from the variable's value (`None`: unset, the default applies).
pub fn ledger_ttl(value: Option<&str>) -> Result<Option<chrono::Duration>, String> {
    let days = match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => DEFAULT_LEDGER_TTL_DAYS,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|d| *d <= 36_500)
            .ok_or_else(|| {
                format!(
                    "{LEDGER_TTL_DAYS} must be a whole number of days from 0 to 36500, not `{v}`"
                )
            })?,
    };
    Ok((days > 0).then(|| chrono::Duration::days(i64::from(days))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_default_and_zero_means_for_ever() {
        assert_eq!(ledger_ttl(None), Ok(Some(chrono::Duration::days(400))));
        assert_eq!(ledger_ttl(Some(" ")), Ok(Some(chrono::Duration::days(400))));
        assert_eq!(ledger_ttl(Some("30")), Ok(Some(chrono::Duration::days(30))));
        assert_eq!(ledger_ttl(Some("0")), Ok(None));
        for bad in ["-1", "1.5", "ten", "99999"] {
            let e = ledger_ttl(Some(bad)).unwrap_err();
            assert!(e.contains(LEDGER_TTL_DAYS) && e.contains(bad), "{e}");
        }
    }
}
