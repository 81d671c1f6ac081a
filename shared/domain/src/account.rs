//! The company a lead belongs to, as its sources name it: a CRM company
//! (`hubspot:company:901`) or a web domain (`acme.io`). Account scores roll leads up by it.

use crate::engine::LeadState;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub key: String,
    /// When the source said so (the event's time), so an older observation arriving late
    /// does not win.
    pub at: DateTime<Utc>,
}

impl Account {
    /// A CRM company is the sales team's own record of the account: it beats a domain.
    fn is_crm(key: &str) -> bool {
        key.contains(":company:")
    }
}

impl LeadState {
    /// Records that a source placed the lead in account `key` at `at`. A CRM company is kept
    /// over a domain; between two of the same kind the newer wins. Returns whether the
    /// account changed.
    pub fn observe_account(&mut self, key: &str, at: DateTime<Utc>) -> bool {
        let key = key.trim();
        if key.is_empty() {
            return false;
        }
        let wins = match &self.account {
            None => true,
            Some(cur) => match (Account::is_crm(key), Account::is_crm(&cur.key)) {
                (true, false) => true,
                (false, true) => false,
                _ => at > cur.at || (at == cur.at && key > cur.key.as_str()),
            },
        };
        if !wins
            || self
                .account
                .as_ref()
                .is_some_and(|c| c.key == key && c.at >= at)
        {
            return false;
        }
        let changed = self.account.as_ref().is_none_or(|c| c.key != key);
        self.account = Some(Account {
            key: key.to_owned(),
            at,
        });
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn crm_companies_beat_domains_and_newer_beats_older() {
        let mut s = LeadState::new("x");
        assert!(s.observe_account("acme.io", t(9)));
        assert!(!s.observe_account("acme.io", t(10)), "same key: no change");
        assert!(!s.observe_account("old.io", t(8)), "an older domain loses");
        assert!(s.observe_account("acme.com", t(11)));
        assert!(
            s.observe_account("hubspot:company:9", t(7)),
            "CRM beats a domain"
        );
        assert!(
            !s.observe_account("acme.io", t(12)),
            "a domain never replaces it"
        );
        assert!(s.observe_account("hubspot:company:10", t(8)));
        assert!(!s.observe_account("hubspot:company:9", t(7)));
        assert!(!s.observe_account("  ", t(13)));
        assert_eq!(
            s.account.map(|a| a.key).as_deref(),
            Some("hubspot:company:10")
        );
    }

    #[test]
    fn the_result_does_not_depend_on_arrival_order() {
        let obs = [
            ("acme.io", t(9)),
            ("hubspot:company:9", t(7)),
            ("beta.io", t(12)),
            ("hubspot:company:10", t(8)),
        ];
        let mut forward = LeadState::new("x");
        let mut backward = LeadState::new("x");
        for (k, at) in obs {
            forward.observe_account(k, at);
        }
        for (k, at) in obs.iter().rev() {
            backward.observe_account(k, *at);
        }
        assert_eq!(forward.account, backward.account);
    }
}
