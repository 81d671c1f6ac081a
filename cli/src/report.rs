//! The report over every lead: stages, the A1-D4 grade matrix, a score histogram and the
//! MQL -> SQL conversion. Computed from lead states alone, then printed as text, JSON, or an
//! HTML page with SVG charts.

use leadscore_domain::{LeadState, Model, Stage};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Histogram bucket width, in points, unless the scores spread wider than
/// [`MAX_BUCKETS`] of them.
pub const BUCKET: i64 = 20;
pub const MAX_BUCKETS: i64 = 40;

#[derive(Debug, Serialize, PartialEq)]
pub struct Report {
    pub model: String,
    pub leads: usize,
    /// Every stage, in lifecycle order, with its count (zeros included).
    pub stages: Vec<(Stage, usize)>,
    /// `grades[fit][activity]`: fit A-D (rows), activity 1-4 (columns).
    pub grades: [[usize; 4]; 4],
    /// Points per histogram bucket: [`BUCKET`], widened so there are at most [`MAX_BUCKETS`].
    pub bucket: i64,
    /// `(lower bound, count)` per bucket, lowest first, no gaps.
    pub histogram: Vec<(i64, usize)>,
    pub conversion: Conversion,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Conversion {
    /// Leads that were an MQL at some point.
    pub mqls: usize,
    /// Of those, leads sales accepted (SQL) after being an MQL.
    pub sqls: usize,
    /// Of those, leads that became customers.
    pub customers: usize,
    /// `sqls / mqls`, when there are MQLs.
    pub mql_to_sql: Option<f64>,
}

impl Report {
    pub fn of(model: &Model, leads: &[LeadState]) -> Report {
        let mut stages: BTreeMap<Stage, usize> = Stage::ALL.iter().map(|s| (*s, 0)).collect();
        let mut grades = [[0usize; 4]; 4];
        // Points are fixed-point; bucket by whole points, floor (also below zero).
        let whole = |s: &LeadState| {
            s.scores
                .total
                .0
                .div_euclid(leadscore_domain::Points::whole(1).0)
        };
        let lo = leads.iter().map(whole).min().unwrap_or(0);
        let hi = leads.iter().map(whole).max().unwrap_or(0);
        // Wide enough for at most MAX_BUCKETS buckets, in steps of BUCKET.
        let span = hi.saturating_sub(lo) / MAX_BUCKETS + 1;
        let bucket = ((span + BUCKET - 1) / BUCKET).max(1).saturating_mul(BUCKET);
        let mut by_bucket: BTreeMap<i64, usize> = BTreeMap::new();
        let (mut mqls, mut sqls, mut customers) = (0, 0, 0);
        for s in leads {
            *stages.entry(s.stage).or_default() += 1;
            let g = s.grade(model);
            let row = (g.fit as usize).saturating_sub('A' as usize).min(3);
            let col = usize::from(g.activity.clamp(1, 4)) - 1;
            grades[row][col] += 1;
            *by_bucket
                .entry(whole(s).div_euclid(bucket) * bucket)
                .or_default() += 1;
            let first_mql = s.transitions.iter().position(|t| t.to == Stage::Mql);
            if let Some(i) = first_mql {
                mqls += 1;
                let later = &s.transitions[i..];
                if later.iter().any(|t| t.to == Stage::Sql) {
                    sqls += 1;
                }
                if later.iter().any(|t| t.to == Stage::Customer) {
                    customers += 1;
                }
            }
        }
        let histogram = match (by_bucket.keys().next(), by_bucket.keys().last()) {
            (Some(&lo), Some(&hi)) => (0..=(hi - lo) / bucket)
                .map(|i| {
                    let b = lo + i * bucket;
                    (b, by_bucket.get(&b).copied().unwrap_or(0))
                })
                .collect(),
            _ => Vec::new(),
        };
        Report {
            model: model.name.to_string(),
            leads: leads.len(),
            stages: Stage::ALL.iter().map(|s| (*s, stages[s])).collect(),
            grades,
            bucket,
            histogram,
            conversion: Conversion {
                mqls,
                sqls,
                customers,
                mql_to_sql: (mqls > 0).then(|| sqls as f64 / mqls as f64),
            },
        }
    }

    pub fn text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "{} leads (model `{}`)", self.leads, self.model);
        let _ = writeln!(o, "\nStages:");
        for (stage, n) in &self.stages {
            let _ = writeln!(o, "  {:<13} {n:>6}", stage.to_string());
        }
        let _ = writeln!(o, "\nGrades (fit A-D down, activity 1-4 across):");
        let _ = writeln!(o, "       1      2      3      4");
        for (i, row) in self.grades.iter().enumerate() {
            let letter = char::from(b'A' + i as u8);
            let _ = writeln!(
                o,
                "  {letter} {:>6} {:>6} {:>6} {:>6}",
                row[0], row[1], row[2], row[3]
            );
        }
        let _ = writeln!(o, "\nScores:");
        let most = self.histogram.iter().map(|(_, n)| *n).max().unwrap_or(0);
        for (lo, n) in &self.histogram {
            let bar = "#".repeat(bar_len(*n, most, 40));
            let _ = writeln!(o, "  {:>5} to {:>5} {n:>6} {bar}", lo, lo + self.bucket - 1);
        }
        let c = &self.conversion;
        let rate = c
            .mql_to_sql
            .map_or("-".to_owned(), |r| format!("{:.0}%", r * 100.0));
        let _ = writeln!(
            o,
            "\nConversion: {} MQLs, {} accepted by sales (SQL): {rate}; {} customers",
            c.mqls, c.sqls, c.customers
        );
        o
    }

    /// A self-contained HTML page (no scripts, no external files) with SVG bar charts.
    pub fn html(&self) -> String {
        let mut o = String::new();
        let _ = write!(
            o,
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>leadscore report</title>\
             <style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}\
             table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.4em .8em;\
             text-align:right}}h2{{margin-top:1.5em}}</style></head><body>\
             <h1>leadscore report</h1><p>{} leads, model <code>{}</code></p>",
            self.leads,
            escape(&self.model)
        );
        let stages: Vec<(String, usize)> = (self.stages.iter())
            .map(|(s, n)| (s.to_string(), *n))
            .collect();
        let _ = write!(o, "<h2>Stages</h2>{}", bars_svg(&stages));
        let _ = write!(
            o,
            "<h2>Grades</h2><table><tr><th></th><th>1</th><th>2</th><th>3</th><th>4</th></tr>"
        );
        let most = self
            .grades
            .iter()
            .flatten()
            .copied()
            .max()
            .unwrap_or(0)
            .max(1);
        for (i, row) in self.grades.iter().enumerate() {
            let _ = write!(o, "<tr><th>{}</th>", char::from(b'A' + i as u8));
            for n in row {
                // Heat: darker for more leads.
                let alpha = (*n as f64 / most as f64 * 0.8 * 100.0).round() / 100.0;
                let _ = write!(
                    o,
                    "<td style=\"background:rgba(46,125,50,{alpha})\">{n}</td>"
                );
            }
            o.push_str("</tr>");
        }
        o.push_str("</table>");
        let hist: Vec<(String, usize)> = (self.histogram.iter())
            .map(|(lo, n)| (format!("{lo}..{}", lo + self.bucket - 1), *n))
            .collect();
        let _ = write!(o, "<h2>Scores</h2>{}", bars_svg(&hist));
        let c = &self.conversion;
        let rate = c
            .mql_to_sql
            .map_or("-".to_owned(), |r| format!("{:.0}%", r * 100.0));
        let _ = writeln!(
            o,
            "<h2>Conversion</h2><p>{} MQLs, {} accepted by sales (SQL): <b>{rate}</b>; \
             {} customers</p></body></html>",
            c.mqls, c.sqls, c.customers
        );
        o
    }
}

fn bar_len(n: usize, most: usize, width: usize) -> usize {
    if most == 0 {
        0
    } else {
        (n * width).div_ceil(most)
    }
}

/// Horizontal bars, one per label, with the count at the end.
fn bars_svg(rows: &[(String, usize)]) -> String {
    let (label_w, bar_w, row_h) = (120, 360, 22);
    let most = rows.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let height = rows.len() * row_h + 4;
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" \
         font-size=\"13\">",
        label_w + bar_w + 60
    );
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = i * row_h;
        let w = bar_len(*n, most, bar_w);
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w}\" y=\"{}\" width=\"{w}\" height=\"{}\" fill=\"#2e7d32\"/>\
             <text x=\"{}\" y=\"{}\">{n}</text>",
            label_w - 6,
            y + 15,
            escape(label),
            y + 3,
            row_h - 6,
            label_w + w + 4,
            y + 15,
        );
    }
    o.push_str("</svg>");
    o
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use leadscore_domain::{Points, Reason, Transition};

    fn model() -> Model {
        Model::from_toml(
            "[model]\nname='r'\n[thresholds]\nmql=50\nmql_exit=30\n[grades]\nfit={A=30,B=20,C=10}\nactivity={1=40,2=20,3=10}\n",
            "r",
        )
        .unwrap()
    }

    fn lead(id: &str, fit: i64, activity: i64, moves: &[Stage]) -> LeadState {
        let mut s = LeadState::new(id);
        s.scores.fit = Points::whole(fit);
        s.scores.activity = Points::whole(activity);
        s.scores.total = Points::whole(fit + activity);
        let mut from = Stage::Lead;
        for (i, to) in moves.iter().enumerate() {
            s.transitions.push(Transition {
                from,
                to: *to,
                at: Utc
                    .with_ymd_and_hms(2026, 3, 1 + i as u32, 9, 0, 0)
                    .unwrap(),
                reason: Reason::Merged {
                    absorbed: "x".into(),
                },
            });
            from = *to;
        }
        s.stage = from;
        s
    }

    #[test]
    fn counts_stages_grades_buckets_and_conversion() {
        let leads = [
            lead("a", 30, 45, &[Stage::Mql, Stage::Sql, Stage::Customer]),
            lead("b", 20, 35, &[Stage::Mql]),
            lead("c", 0, 5, &[]),
            lead("d", 0, -12, &[Stage::Sql]), // accepted without being an MQL
        ];
        let r = Report::of(&model(), &leads);
        assert_eq!(r.leads, 4);
        let stage = |s: Stage| r.stages.iter().find(|(x, _)| *x == s).unwrap().1;
        assert_eq!((stage(Stage::Customer), stage(Stage::Mql)), (1, 1));
        assert_eq!((stage(Stage::Lead), stage(Stage::Sql)), (1, 1));
        assert_eq!(r.stages.len(), Stage::ALL.len());
        // a: A1, b: B2, c and d: D4.
        assert_eq!(r.grades[0][0], 1);
        assert_eq!(r.grades[1][1], 1);
        assert_eq!(r.grades[3][3], 2);
        // -12 falls in -20..-1; the buckets run without gaps up to 75's.
        assert_eq!(r.histogram.first(), Some(&(-20, 1)));
        assert_eq!(r.histogram.last(), Some(&(60, 1)));
        assert_eq!(r.histogram.len(), 5);
        assert_eq!(r.histogram.iter().map(|(_, n)| n).sum::<usize>(), 4);
        assert_eq!(
            r.conversion,
            Conversion {
                mqls: 2,
                sqls: 1,
                customers: 1,
                mql_to_sql: Some(0.5)
            }
        );
        let text = r.text();
        assert!(
            text.contains("Conversion: 2 MQLs, 1 accepted by sales (SQL): 50%"),
            "{text}"
        );
        let html = r.html();
        assert!(html.starts_with("<!doctype html>") && html.matches("<svg").count() == 2);
    }

    #[test]
    fn an_outlier_widens_the_buckets_instead_of_making_millions() {
        let leads = [lead("a", 0, 3, &[]), lead("b", 0, 1_000_000, &[])];
        let r = Report::of(&model(), &leads);
        assert!(
            r.histogram.len() as i64 <= MAX_BUCKETS + 1,
            "{}",
            r.histogram.len()
        );
        assert_eq!(r.bucket % BUCKET, 0);
        assert_eq!(r.histogram.iter().map(|(_, n)| n).sum::<usize>(), 2);
    }

    #[test]
    fn an_empty_store_reports_zeros() {
        let r = Report::of(&model(), &[]);
        assert_eq!(
            (r.leads, r.histogram.len(), r.conversion.mql_to_sql),
            (0, 0, None)
        );
        assert!(r.text().contains("accepted by sales (SQL): -"));
    }
}
