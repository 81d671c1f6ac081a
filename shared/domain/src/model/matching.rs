//! Whether a fit condition holds for an attribute value, and whether an event passes an
//! activity rule's filter.

use super::{Condition, Filter, ListName, Lists, Scalar};
use crate::event::{AttrValue, Attributes, Event};
use std::borrow::Cow;

/// The value of an attribute as fit rules see it: `email_domain` falls back to the part of
/// `email` after the `@`.
pub fn attribute<'a>(attrs: &'a Attributes, name: &str) -> Option<Cow<'a, AttrValue>> {
    if let Some(v) = attrs.get(name).filter(|v| v.is_present()) {
        return Some(Cow::Borrowed(v));
    }
    if name == "email_domain" {
        let email = attrs.get("email")?.as_text()?;
        let (_, domain) = email.rsplit_once('@')?;
        return Some(Cow::Owned(AttrValue::Text(domain.trim().to_owned())));
    }
    None
}

fn domain_in(set: &std::collections::HashSet<String>, value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    let domain = v.rsplit_once('@').map_or(v.as_str(), |(_, d)| d);
    // A subdomain of a listed domain counts too (eu.rival.com for rival.com).
    let mut d = domain;
    loop {
        if set.contains(d) {
            return true;
        }
        match d.split_once('.') {
            Some((_, rest)) if rest.contains('.') => d = rest,
            _ => return false,
        }
    }
}

impl Condition {
    pub fn matches(&self, value: Option<&AttrValue>, lists: &Lists) -> bool {
        let value = match (self, value) {
            (Condition::Present(want), v) => return v.is_some_and(AttrValue::is_present) == *want,
            (_, None) => return false,
            (_, Some(v)) => v,
        };
        match self {
            Condition::Present(_) => false, // answered above
            Condition::Equals(s) => scalar_eq(s, value),
            Condition::Range { min, max } => value
                .as_number()
                .is_some_and(|n| min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)),
            Condition::InList(list) => {
                let Some(text) = value.as_text() else {
                    return false;
                };
                match list {
                    ListName::FreeMail => domain_in(&lists.free_mail, text),
                    ListName::Competitors => domain_in(&lists.competitors, text),
                    ListName::NonBuyerTitles => {
                        let t = text.to_lowercase();
                        lists.non_buyer_titles.iter().any(|w| contains_words(&t, w))
                    }
                }
            }
            Condition::Regex(re) => text_of(value).is_some_and(|t| re.is_match(&t)),
            Condition::OneOf(opts) => {
                text_of(value).is_some_and(|t| opts.iter().any(|o| t.trim() == o))
            }
            Condition::Contains(opts) => {
                text_of(value).is_some_and(|t| opts.iter().any(|o| t.contains(o.as_str())))
            }
            Condition::Prefix(opts) => text_of(value)
                .is_some_and(|t| opts.iter().any(|o| t.trim_start().starts_with(o.as_str()))),
        }
    }
}

/// Whether `words` occurs in `text` as whole words (a plural "s" allowed): "intern" is in
/// "sales intern" and "interns", not in "international sales".
fn contains_words(text: &str, words: &str) -> bool {
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    text.match_indices(words).any(|(at, _)| {
        let rest = &text[at + words.len()..];
        let rest = rest.strip_prefix('s').unwrap_or(rest);
        !is_word(text[..at].chars().next_back()) && !is_word(rest.chars().next())
    })
}

/// Lower-cased text of a value; numbers and booleans as written.
fn text_of(value: &AttrValue) -> Option<Cow<'_, str>> {
    match value {
        AttrValue::Text(s) => Some(Cow::Owned(s.to_lowercase())),
        AttrValue::Number(n) => Some(Cow::Owned(n.to_string())),
        AttrValue::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        AttrValue::Null => None,
    }
}

pub fn scalar_eq(s: &Scalar, value: &AttrValue) -> bool {
    match (s, value) {
        (Scalar::Bool(a), AttrValue::Bool(b)) => a == b,
        (Scalar::Number(a), v) => v.as_number().is_some_and(|b| (a - b).abs() < 1e-9),
        (Scalar::Text(a), AttrValue::Text(b)) => b.trim().to_lowercase() == *a,
        (Scalar::Text(a), AttrValue::Bool(b)) => a == if *b { "true" } else { "false" },
        _ => false,
    }
}

/// An event's URL and target, lower-cased once for all of its kind's glob filters
/// (borrowed when already lower-case, which most are).
pub struct Lowered<'a> {
    pub url: Option<Cow<'a, str>>,
    pub target: Option<Cow<'a, str>>,
}

fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

impl<'a> Lowered<'a> {
    /// Lower-cases only what some rule will look at.
    pub fn of(e: &'a Event, url: bool, target: bool) -> Self {
        Lowered {
            url: e.url.as_deref().filter(|_| url).map(lower),
            target: e.target.as_deref().filter(|_| target).map(lower),
        }
    }
}

impl Filter {
    pub fn matches(&self, e: &Event, lowered: &Lowered<'_>) -> bool {
        if let Some(g) = &self.url {
            if !lowered.url.as_deref().is_some_and(|u| g.is_match(u)) {
                return false;
            }
        }
        if let Some(re) = &self.url_regex {
            if !e.url.as_deref().is_some_and(|u| re.is_match(u)) {
                return false;
            }
        }
        if let Some(g) = &self.target {
            if !lowered.target.as_deref().is_some_and(|t| g.is_match(t)) {
                return false;
            }
        }
        if self.min_percent.is_some() || self.max_percent.is_some() {
            let Some(p) = e.percent else { return false };
            if self.min_percent.is_some_and(|m| p < m) || self.max_percent.is_some_and(|m| p > m) {
                return false;
            }
        }
        if let Some(name) = &self.event {
            if !e
                .name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
            {
                return false;
            }
        }
        self.properties
            .iter()
            .all(|(k, want)| e.properties.get(k).is_some_and(|v| scalar_eq(want, v)))
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Model;
    use crate::{Event, EventKind};
    use chrono::{TimeZone, Utc};

    #[test]
    fn non_buyer_titles_match_whole_words() {
        use super::contains_words;
        assert!(contains_words("sales intern", "intern"));
        assert!(contains_words("intern, marketing", "intern"));
        assert!(contains_words("phd candidate (physics)", "phd candidate"));
        assert!(!contains_words("international sales director", "intern"));
        assert!(!contains_words("internal comms lead", "intern"));
        assert!(contains_words("graduate students", "student"));
        assert!(!contains_words("studentship officer", "student"));
    }

    /// Each glob shape (literal fast paths and the regex fallback) against the same URLs.
    #[test]
    fn globs_of_every_shape_match_like_globs() {
        let cases = [
            ("https://x.io/pricing", "https://X.io/Pricing", true),
            ("https://x.io/pricing", "https://x.io/pricing/", false),
            ("https://x.io/*", "https://x.io/a/b", true),
            ("https://x.io/*", "http://x.io/a", false),
            ("*/pricing", "https://x.io/PRICING", true),
            ("*/pricing", "https://x.io/pricing?x=1", false),
            ("*/pricing*", "https://x.io/pricing?x=1", true),
            ("*/pricing*", "https://x.io/price", false),
            ("*/docs/*/api*", "https://x.io/docs/v2/api/users", true),
            ("*/docs/*/api*", "https://x.io/docs/api", false),
            ("*/page?", "https://x.io/page2", true),
            ("*/page?", "https://x.io/page", false),
            ("*/[ab]log*", "https://x.io/blog/1", true),
            ("*/[ab]log*", "https://x.io/clog/1", false),
            ("*", "anything", true),
        ];
        for (glob, url, want) in cases {
            let src = format!(
                "[model]\nname='t'\n[thresholds]\nmql=10\nmql_exit=5\n[[activity]]\nid='r'\nkind='page_view'\nurl='{glob}'\npoints=1\n"
            );
            let model = Model::from_toml(&src, "t").unwrap();
            let e = Event::new(
                "1",
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                EventKind::PageView,
            )
            .with_url(url);
            let mut out = Vec::new();
            model.match_event(&e, &mut out);
            assert_eq!(!out.is_empty(), want, "glob {glob} on {url}");
        }
    }
}
