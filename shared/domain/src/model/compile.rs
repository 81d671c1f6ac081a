//! Validation and compilation of a model file: every problem is collected with its span,
//! so one `model check` run reports them all.

use super::error::Locator;
use super::lists::{FREE_MAIL_DOMAINS, LIST_NAMES, NON_BUYER_TITLES};
use super::raw::*;
use super::*;
use crate::points::Points;
use globset::GlobBuilder;
use regex::RegexBuilder;
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;

pub fn compile(src: &str, origin: &str) -> Result<Model, ModelErrors> {
    let loc = Locator::new(src);
    let raw: RawModel = match toml::from_str(src) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            return Err(ModelErrors {
                origin: origin.to_owned(),
                errors: vec![loc.locate(&span, e.message().trim().to_owned())],
            });
        }
    };
    let mut c = Compiler::default();
    let model = c.model(raw);
    if c.errors.is_empty() {
        Ok(model.finish())
    } else {
        c.errors.sort_by_key(|(span, _)| span.start);
        Err(ModelErrors {
            origin: origin.to_owned(),
            errors: c
                .errors
                .into_iter()
                .map(|(span, msg)| loc.locate(&span, msg))
                .collect(),
        })
    }
}

/// The longest window or lifetime a model may name: ten years keeps date arithmetic far from
/// the calendar's edges.
const MAX_WINDOW: std::time::Duration = std::time::Duration::from_secs(3650 * 86_400);

#[derive(Default)]
struct Compiler {
    errors: Vec<(Range<usize>, String)>,
    products: Vec<Name>,
    /// Every rule and combination id, with where it was first defined.
    ids: HashMap<String, Range<usize>>,
}

fn err_span<T>(s: &Spanned<T>) -> Range<usize> {
    s.span()
}

impl Compiler {
    fn error(&mut self, span: Range<usize>, msg: impl Into<String>) {
        self.errors.push((span, msg.into()));
    }

    fn points(&mut self, v: &Spanned<f64>, what: &str) -> Points {
        match Points::from_f64(*v.get_ref()) {
            Some(p) => p,
            None => {
                self.error(err_span(v), format!("{what} must be a finite number"));
                Points::ZERO
            }
        }
    }

    fn model(&mut self, raw: RawModel) -> Model {
        let meta = raw.model.into_inner();
        if meta.name.get_ref().trim().is_empty() {
            self.error(meta.name.span(), "model.name must not be empty");
        }
        for p in &meta.products {
            let name = p.get_ref().trim();
            if name.is_empty() {
                self.error(p.span(), "a product name must not be empty");
            } else if self.products.iter().any(|q| &**q == name) {
                self.error(p.span(), format!("duplicate product `{name}`"));
            } else {
                self.products.push(Name::from(name));
            }
        }
        let thresholds = self.thresholds(raw.thresholds);
        let grades = raw
            .grades
            .map_or_else(GradeBands::default, |g| self.grades(g));
        let lists = self.lists(raw.lists);
        let (decay, cold_after_days) = match raw.decay {
            Some(d) => self.decay(d.into_inner()),
            None => (None, None),
        };
        let fit_rules = raw
            .fit
            .into_iter()
            .filter_map(|r| self.fit_rule(r))
            .collect();
        let activity_rules: Vec<ActivityRule> = raw
            .activity
            .into_iter()
            .filter_map(|r| self.activity_rule(r))
            .collect();
        let combinations = raw
            .combination
            .into_iter()
            .filter_map(|r| self.combination(r, &activity_rules))
            .collect();
        Model {
            name: meta.name.into_inner(),
            description: meta.description,
            products: std::mem::take(&mut self.products),
            thresholds,
            grades,
            lists,
            score_machine_opens: raw.email.score_machine_opens,
            decay,
            cold_after_days,
            fit_rules,
            activity_rules,
            combinations,
            by_kind: Vec::new(),
            globs_by_kind: Vec::new(),
            longest_cap_window: TimeDelta::zero(),
            rule_index: HashMap::new(),
            instance: 0,
        }
    }

    fn thresholds(&mut self, t: Spanned<RawThresholds>) -> Thresholds {
        let t = t.into_inner();
        let mql = self.points(&t.mql, "thresholds.mql");
        let mql_exit = self.points(&t.mql_exit, "thresholds.mql_exit");
        let floor = t
            .floor
            .as_ref()
            .map_or(Points::ZERO, |f| self.points(f, "thresholds.floor"));
        let thresholds = Thresholds {
            mql,
            mql_exit,
            floor,
        };
        for problem in thresholds.problems() {
            // Each problem at the line of the value it blames.
            let span = match problem {
                ThresholdProblem::MqlNotPositive { .. } => t.mql.span(),
                ThresholdProblem::ExitNotBelowMql { .. } => t.mql_exit.span(),
                ThresholdProblem::FloorNotBelowExit { .. } => {
                    t.floor.as_ref().map_or(t.mql_exit.span(), |f| f.span())
                }
            };
            self.error(span, problem.to_string());
        }
        thresholds
    }

    fn bands(&mut self, vals: [&Spanned<f64>; 3], names: [&str; 3]) -> [Points; 3] {
        let p = [0, 1, 2].map(|i| self.points(vals[i], names[i]));
        for i in 1..3 {
            if p[i] >= p[i - 1] {
                self.error(
                    vals[i].span(),
                    format!(
                        "{} ({}) must be lower than {} ({})",
                        names[i],
                        p[i],
                        names[i - 1],
                        p[i - 1]
                    ),
                );
            }
        }
        p
    }

    fn grades(&mut self, g: Spanned<RawGrades>) -> GradeBands {
        let g = g.into_inner();
        let (f, a) = (g.fit.into_inner(), g.activity.into_inner());
        GradeBands {
            fit: self.bands(
                [&f.a, &f.b, &f.c],
                ["grades.fit.A", "grades.fit.B", "grades.fit.C"],
            ),
            activity: self.bands(
                [&a.one, &a.two, &a.three],
                [
                    "grades.activity.1",
                    "grades.activity.2",
                    "grades.activity.3",
                ],
            ),
        }
    }

    fn lists(&mut self, l: RawLists) -> Lists {
        let mut domains = |extra: Vec<Spanned<String>>, builtin: &[&str], what: &str| {
            let mut set: HashSet<String> = builtin.iter().map(|s| s.to_string()).collect();
            for d in extra {
                let v = d
                    .get_ref()
                    .trim()
                    .trim_start_matches('@')
                    .to_ascii_lowercase();
                if v.is_empty() || !v.contains('.') || v.contains(char::is_whitespace) {
                    self.error(
                        d.span(),
                        format!("`{}` is not a domain ({what})", d.get_ref()),
                    );
                } else {
                    set.insert(v);
                }
            }
            set
        };
        let free_mail = domains(
            l.free_mail_domains,
            FREE_MAIL_DOMAINS,
            "lists.free_mail_domains",
        );
        let competitors = domains(l.competitor_domains, &[], "lists.competitor_domains");
        let mut non_buyer_titles: Vec<String> =
            NON_BUYER_TITLES.iter().map(|s| s.to_string()).collect();
        for t in l.non_buyer_titles {
            let v = t.get_ref().trim().to_lowercase();
            if v.is_empty() {
                self.error(
                    t.span(),
                    "a title in lists.non_buyer_titles must not be empty",
                );
            } else {
                non_buyer_titles.push(v);
            }
        }
        Lists {
            free_mail,
            competitors,
            non_buyer_titles,
        }
    }

    fn positive_days(&mut self, v: &Spanned<i64>, what: &str) -> u32 {
        match u32::try_from(*v.get_ref()) {
            Ok(d) if d >= 1 => d,
            _ => {
                self.error(
                    v.span(),
                    format!(
                        "{what} must be a positive number of days, got {}",
                        v.get_ref()
                    ),
                );
                1
            }
        }
    }

    fn decay(&mut self, d: RawDecay) -> (Option<Decay>, Option<u32>) {
        let idle_days = self.positive_days(&d.idle_days, "decay.idle_days");
        let every = match d.every.get_ref().as_str() {
            "day" => Every::Day,
            "week" => Every::Week,
            other => {
                self.error(
                    d.every.span(),
                    format!("decay.every must be \"day\" or \"week\", got \"{other}\""),
                );
                Every::Day
            }
        };
        let step = match (&d.points, &d.percent) {
            (Some(p), None) => {
                let pts = self.points(p, "decay.points");
                if pts <= Points::ZERO {
                    self.error(
                        p.span(),
                        format!("decay.points must be positive, got {pts}"),
                    );
                }
                DecayStep::Points(pts)
            }
            (None, Some(p)) => {
                let v = *p.get_ref();
                if !(v > 0.0 && v <= 100.0) {
                    self.error(
                        p.span(),
                        format!("decay.percent must be above 0 and at most 100, got {v}"),
                    );
                }
                DecayStep::Percent(v)
            }
            (Some(p), Some(_)) => {
                self.error(
                    p.span(),
                    "decay takes either `points` or `percent`, not both",
                );
                DecayStep::Percent(0.0)
            }
            (None, None) => {
                self.error(
                    d.idle_days.span(),
                    "decay needs `points` or `percent` per step",
                );
                DecayStep::Percent(0.0)
            }
        };
        let floor = d
            .floor
            .as_ref()
            .map_or(Points::ZERO, |f| self.points(f, "decay.floor"));
        let cold = d
            .cold_after_days
            .as_ref()
            .map(|c| self.positive_days(c, "decay.cold_after_days"));
        (
            Some(Decay {
                idle_days,
                every,
                step,
                floor,
            }),
            cold,
        )
    }

    fn rule_id(&mut self, id: &Spanned<String>) -> Option<Name> {
        let v = id.get_ref().trim();
        if v.is_empty()
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        {
            self.error(
                id.span(),
                format!("rule id `{v}` must be non-empty and use only letters, digits, - _ . :"),
            );
            return None;
        }
        if let Some(first) = self.ids.get(v) {
            let line = first.clone();
            self.error(id.span(), format!("duplicate rule id `{v}`"));
            // Point at the first definition too, so both places show up in the list.
            self.error(line, format!("(rule id `{v}` first defined here)"));
            return None;
        }
        self.ids.insert(v.to_owned(), id.span());
        Some(Name::from(v))
    }

    fn product(&mut self, p: &Option<Spanned<String>>) -> Option<Name> {
        let p = p.as_ref()?;
        let name = p.get_ref().trim();
        match self.products.iter().find(|q| &***q == name) {
            Some(q) => Some(q.clone()),
            None => {
                let known = self
                    .products
                    .iter()
                    .map(|q| q.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.error(
                    p.span(),
                    format!("unknown product `{name}` (model.products lists: {known})"),
                );
                None
            }
        }
    }

    fn regex(&mut self, r: &Spanned<String>, what: &str) -> Option<Regex> {
        match RegexBuilder::new(r.get_ref())
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
        {
            Ok(re) => Some(re),
            Err(e) => {
                let first = e.to_string().lines().last().unwrap_or("").trim().to_owned();
                self.error(r.span(), format!("bad regex in {what}: {first}"));
                None
            }
        }
    }

    /// Compiles a glob (case ignored) to match lower-cased text.
    fn glob(&mut self, g: &Spanned<String>, what: &str) -> Option<Glob> {
        let pattern = g.get_ref().to_lowercase();
        let glob = match GlobBuilder::new(&pattern).literal_separator(false).build() {
            Ok(glob) => glob,
            Err(e) => {
                self.error(g.span(), format!("bad glob in {what}: {}", e.kind()));
                return None;
            }
        };
        let special = |s: &str| s.contains(['*', '?', '[', ']', '{', '}', '\\']);
        let (head, tail) = (
            pattern.starts_with('*'),
            pattern.ends_with('*') && pattern.len() > 1,
        );
        let core = pattern.trim_start_matches('*').trim_end_matches('*');
        if !special(core) {
            return Some(match (head, tail) {
                (false, false) => Glob::Exact(core.to_owned()),
                (false, true) => Glob::Prefix(core.to_owned()),
                (true, false) => Glob::Suffix(core.to_owned()),
                (true, true) => Glob::Contains(core.to_owned()),
            });
        }
        match regex::bytes::Regex::new(glob.regex()) {
            Ok(re) => Some(Glob::Regex(re)),
            Err(e) => {
                self.error(g.span(), format!("glob in {what} is too large: {e}"));
                None
            }
        }
    }

    fn fit_rule(&mut self, r: Spanned<RawFitRule>) -> Option<FitRule> {
        let rule_span = r.span();
        let r = r.into_inner();
        let id = self.rule_id(&r.id);
        let points = self.points(&r.points, "points");
        let product = self.product(&r.product);
        let attribute = r.attribute.get_ref().trim().to_owned();
        let known = KNOWN_ATTRIBUTES.contains(&attribute.as_str());
        let custom = attribute
            .strip_prefix("custom.")
            .is_some_and(|n| !n.is_empty());
        if !known && !custom {
            self.error(
                r.attribute.span(),
                format!(
                    "unknown attribute `{attribute}` (expected one of {} or custom.<name>)",
                    KNOWN_ATTRIBUTES.join(", ")
                ),
            );
        }
        let lower = |v: Vec<String>| {
            v.into_iter()
                .map(|s| s.trim().to_lowercase())
                .collect::<Vec<_>>()
        };
        let mut conditions: Vec<(Range<usize>, Option<Condition>)> = Vec::new();
        if let Some(v) = r.equals {
            let s = match v.get_ref().clone() {
                RawScalar::Bool(b) => Scalar::Bool(b),
                RawScalar::Int(i) => Scalar::Number(i as f64),
                RawScalar::Float(f) => Scalar::Number(f),
                RawScalar::Text(t) => Scalar::Text(t.trim().to_lowercase()),
            };
            conditions.push((v.span(), Some(Condition::Equals(s))));
        }
        if let Some(v) = r.one_of {
            let span = v.span();
            let opts = lower(v.into_inner());
            if opts.is_empty() {
                self.error(span.clone(), "one_of needs at least one value");
            }
            conditions.push((span, Some(Condition::OneOf(opts))));
        }
        if let Some(v) = r.contains {
            let span = v.span();
            conditions.push((
                span,
                Some(Condition::Contains(lower(v.into_inner().into_vec()))),
            ));
        }
        if let Some(v) = r.prefix {
            let span = v.span();
            conditions.push((
                span,
                Some(Condition::Prefix(lower(v.into_inner().into_vec()))),
            ));
        }
        if let Some(v) = r.regex {
            let re = self.regex(&v, "regex");
            conditions.push((v.span(), re.map(Condition::Regex)));
        }
        if let Some(v) = r.range {
            let span = v.span();
            let RawRange { min, max } = v.into_inner();
            if min.is_none() && max.is_none() {
                self.error(span.clone(), "range needs `min`, `max` or both");
            }
            if let (Some(a), Some(b)) = (min, max) {
                if a > b {
                    self.error(span.clone(), format!("range min ({a}) is above max ({b})"));
                }
            }
            let numeric = NUMERIC_ATTRIBUTES.contains(&attribute.as_str()) || custom;
            if known && !numeric {
                self.error(
                    span.clone(),
                    format!(
                        "range needs a numeric attribute ({}), not `{attribute}`",
                        NUMERIC_ATTRIBUTES.join(", ")
                    ),
                );
            }
            conditions.push((span, Some(Condition::Range { min, max })));
        }
        if let Some(v) = r.present {
            conditions.push((v.span(), Some(Condition::Present(*v.get_ref()))));
        }
        if let Some(v) = r.in_list {
            let list = match v.get_ref().as_str() {
                "free_mail" => Some(ListName::FreeMail),
                "competitors" => Some(ListName::Competitors),
                "non_buyer_titles" => Some(ListName::NonBuyerTitles),
                other => {
                    self.error(
                        v.span(),
                        format!(
                            "unknown list `{other}` (expected one of {})",
                            LIST_NAMES.join(", ")
                        ),
                    );
                    None
                }
            };
            conditions.push((v.span(), list.map(Condition::InList)));
        }
        // Blame the condition written second, whatever the field.
        conditions.sort_by_key(|(span, _)| span.start);
        let condition = match conditions.len() {
            0 => {
                self.error(
                    rule_span,
                    "a fit rule needs one condition: equals, one_of, contains, prefix, regex, range, present or in_list",
                );
                None
            }
            1 => conditions.pop().and_then(|(_, c)| c),
            _ => {
                self.error(
                    conditions[1].0.clone(),
                    "a fit rule takes exactly one condition (split it into two rules)",
                );
                None
            }
        };
        Some(FitRule {
            id: id?,
            description: r.description,
            attribute,
            points,
            product,
            condition: condition?,
        })
    }

    fn window(&mut self, w: &Spanned<String>, what: &str) -> Option<TimeDelta> {
        match humantime::parse_duration(w.get_ref().trim()) {
            Ok(d) if d > MAX_WINDOW => {
                self.error(
                    w.span(),
                    format!("{what} must be at most 3650 days, got \"{}\"", w.get_ref()),
                );
                None
            }
            Ok(d) if !d.is_zero() => TimeDelta::from_std(d).ok(),
            Ok(_) => {
                self.error(
                    w.span(),
                    format!("{what} must be positive, got \"{}\"", w.get_ref()),
                );
                None
            }
            Err(e) => {
                self.error(
                    w.span(),
                    format!(
                        "{what}: \"{}\" is not a duration like \"1d\", \"12h\" or \"30d\" ({e})",
                        w.get_ref()
                    ),
                );
                None
            }
        }
    }

    fn whole_days(&mut self, w: &Spanned<String>, what: &str) -> Option<u32> {
        let d = self.window(w, what)?;
        if d.num_seconds() % 86_400 != 0 {
            self.error(
                w.span(),
                format!(
                    "{what} must be a whole number of days, got \"{}\"",
                    w.get_ref()
                ),
            );
            return None;
        }
        u32::try_from(d.num_days()).ok()
    }

    fn activity_rule(&mut self, r: Spanned<RawActivityRule>) -> Option<ActivityRule> {
        let r = r.into_inner();
        let id = self.rule_id(&r.id);
        let points = self.points(&r.points, "points");
        let product = self.product(&r.product);
        let kind = match EventKind::parse(r.kind.get_ref().trim()) {
            Some(k) if k.is_scorable() => Some(k),
            _ => {
                let names: Vec<&str> = EventKind::SCORABLE.iter().map(|k| k.as_str()).collect();
                self.error(
                    r.kind.span(),
                    format!(
                        "unknown activity kind `{}` (expected one of {})",
                        r.kind.get_ref(),
                        names.join(", ")
                    ),
                );
                None
            }
        };
        let mut filter = Filter::default();
        for (field, v) in [("url", &r.url), ("url_regex", &r.url_regex)] {
            if let (Some(v), Some(k)) = (v, kind) {
                if !k.has_url() {
                    self.error(
                        v.span(),
                        format!("`{field}` applies to page_view and email_click, not {k}"),
                    );
                }
            }
        }
        if let Some(g) = &r.url {
            filter.url = self.glob(g, "url");
        }
        if let Some(re) = &r.url_regex {
            filter.url_regex = self.regex(re, "url_regex");
        }
        if let Some(g) = &r.target {
            filter.target = self.glob(g, "target");
        }
        for (field, v) in [
            ("min_percent", &r.min_percent),
            ("max_percent", &r.max_percent),
        ] {
            let Some(v) = v else { continue };
            if kind.is_some_and(|k| k != EventKind::VideoWatched) {
                self.error(v.span(), format!("`{field}` applies to video_watched only"));
            }
            let p = *v.get_ref();
            if !(0.0..=100.0).contains(&p) {
                self.error(
                    v.span(),
                    format!("{field} must be between 0 and 100, got {p}"),
                );
            }
        }
        filter.min_percent = r.min_percent.as_ref().map(|v| *v.get_ref());
        filter.max_percent = r.max_percent.as_ref().map(|v| *v.get_ref());
        if let (Some(a), Some(b)) = (filter.min_percent, filter.max_percent) {
            if a > b {
                if let Some(v) = &r.max_percent {
                    self.error(
                        v.span(),
                        format!("max_percent ({b}) is below min_percent ({a})"),
                    );
                }
            }
        }
        match (&r.event, kind) {
            (None, Some(EventKind::Custom)) => {
                self.error(
                    r.kind.span(),
                    "a custom rule needs `event`, the custom event name",
                );
            }
            (Some(v), Some(k)) if k != EventKind::Custom => {
                self.error(
                    v.span(),
                    format!("`event` applies to custom rules only, not {k}"),
                );
            }
            _ => {}
        }
        filter.event = r.event.map(|e| e.into_inner().trim().to_owned());
        if let Some(props) = r.properties {
            filter.properties = props
                .into_inner()
                .into_iter()
                .map(|(k, v)| {
                    let s = match v {
                        RawScalar::Bool(b) => Scalar::Bool(b),
                        RawScalar::Int(i) => Scalar::Number(i as f64),
                        RawScalar::Float(f) => Scalar::Number(f),
                        RawScalar::Text(t) => Scalar::Text(t.trim().to_lowercase()),
                    };
                    (k, s)
                })
                .collect();
        }
        let mut caps = Vec::new();
        if let Some(extra) = r.caps.get(MAX_CAPS) {
            self.error(
                extra.span(),
                format!("a rule takes at most {MAX_CAPS} caps"),
            );
        }
        for cap in &r.caps {
            let c = cap.get_ref();
            let window = self.window(&c.window, "cap window");
            let max_count = c
                .count
                .as_ref()
                .and_then(|n| match u32::try_from(*n.get_ref()) {
                    Ok(v) if v >= 1 => Some(v),
                    _ => {
                        self.error(
                            n.span(),
                            format!(
                                "cap count must be a positive whole number, got {}",
                                n.get_ref()
                            ),
                        );
                        None
                    }
                });
            let max_points = c.points.as_ref().and_then(|p| {
                let pts = self.points(p, "cap points");
                if pts <= Points::ZERO {
                    self.error(p.span(), format!("cap points must be positive, got {pts}"));
                    None
                } else {
                    Some(pts)
                }
            });
            if c.count.is_none() && c.points.is_none() {
                self.error(cap.span(), "a cap needs `count`, `points` or both");
            }
            if let Some(window) = window {
                if max_count.is_some() || max_points.is_some() {
                    caps.push(Cap {
                        max_count,
                        max_points,
                        window,
                    });
                }
            }
        }
        let lifetime = match (&r.expires_after, &r.half_life) {
            (Some(e), None) => self
                .whole_days(e, "expires_after")
                .map(Lifetime::ExpiresAfterDays),
            (None, Some(h)) => self.whole_days(h, "half_life").map(Lifetime::HalfLifeDays),
            (Some(_), Some(h)) => {
                self.error(
                    h.span(),
                    "a rule takes `expires_after` or `half_life`, not both",
                );
                None
            }
            (None, None) => Some(Lifetime::Forever),
        };
        if points.0 < 0 {
            // Fading negative points would make decay raise a score.
            if let Some(v) = r.expires_after.as_ref().or(r.half_life.as_ref()) {
                self.error(v.span(), "expires_after and half_life apply to positive points only (negative points are permanent)");
            }
        }
        Some(ActivityRule {
            id: id?,
            description: r.description,
            kind: kind?,
            points,
            product,
            filter,
            caps,
            lifetime: lifetime?,
            instant_mql: r.instant_mql,
        })
    }

    fn combination(
        &mut self,
        r: Spanned<RawCombination>,
        rules: &[ActivityRule],
    ) -> Option<Combination> {
        let r = r.into_inner();
        let id = self.rule_id(&r.id);
        let points = self.points(&r.points, "points");
        let product = self.product(&r.product);
        let within = self.window(&r.within, "within");
        let mut requires = Vec::new();
        for req in r.requires.get_ref() {
            let name = req.get_ref().trim();
            match rules.iter().position(|a| &*a.id == name) {
                Some(i) if requires.contains(&i) => {
                    self.error(req.span(), format!("`{name}` is listed twice in requires"));
                }
                Some(i) => requires.push(i),
                None => self.error(
                    req.span(),
                    format!("requires names `{name}`, which is not an activity rule id"),
                ),
            }
        }
        if r.requires.get_ref().len() < 2 {
            self.error(
                r.requires.span(),
                "a combination requires at least two activity rules",
            );
        }
        let max_awards = match &r.max_awards {
            None => 1,
            Some(n) => match u32::try_from(*n.get_ref()) {
                Ok(v) if v >= 1 => v,
                _ => {
                    self.error(
                        n.span(),
                        format!(
                            "max_awards must be a positive whole number, got {}",
                            n.get_ref()
                        ),
                    );
                    1
                }
            },
        };
        Some(Combination {
            id: id?,
            description: r.description,
            requires,
            within: within?,
            points,
            ordered: r.ordered,
            product,
            max_awards,
        })
    }
}
