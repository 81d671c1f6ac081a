//! `leadscore model check FILE`

use crate::error::CliError;
use leadscore_domain::model::{DecayStep, Every, Lifetime};
use leadscore_domain::{EventKind, Model};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

pub fn run(file: &Path) -> Result<(), CliError> {
    let model = super::load_model(file)?;
    print!("{}", summary(&model, &file.display().to_string()));
    Ok(())
}

/// A short human summary of a valid model.
pub fn summary(m: &Model, origin: &str) -> String {
    let mut s = String::new();
    let t = &m.thresholds;
    let _ = writeln!(s, "{origin}: ok, model `{}`", m.name);
    if !m.products.is_empty() {
        let names: Vec<&str> = m.products.iter().map(|p| &**p).collect();
        let _ = writeln!(s, "  products:     {}", names.join(", "));
    }
    let _ = writeln!(
        s,
        "  thresholds:   MQL at {} (exit below {}), floor {}",
        t.mql, t.mql_exit, t.floor
    );
    let g = &m.grades;
    let _ = writeln!(
        s,
        "  grades:       fit A>={} B>={} C>={}; activity 1>={} 2>={} 3>={}",
        g.fit[0], g.fit[1], g.fit[2], g.activity[0], g.activity[1], g.activity[2]
    );
    let negative = m.fit_rules.iter().filter(|r| r.points.0 < 0).count();
    let _ = writeln!(
        s,
        "  fit rules:    {} ({} negative)",
        m.fit_rules.len(),
        negative
    );
    let mut kinds: BTreeMap<EventKind, usize> = BTreeMap::new();
    for r in &m.activity_rules {
        *kinds.entry(r.kind).or_default() += 1;
    }
    let by_kind: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let count = |f: &dyn Fn(&leadscore_domain::model::ActivityRule) -> bool| {
        m.activity_rules.iter().filter(|r| f(r)).count()
    };
    let _ = writeln!(
        s,
        "  activity:     {} rules ({}); {} negative, {} capped, {} fading, {} instant-MQL",
        m.activity_rules.len(),
        by_kind.join(", "),
        count(&|r| r.points.0 < 0),
        count(&|r| !r.caps.is_empty()),
        count(&|r| r.lifetime != Lifetime::Forever),
        count(&|r| r.instant_mql),
    );
    let _ = writeln!(s, "  combinations: {}", m.combinations.len());
    match &m.decay {
        Some(d) => {
            let step = match d.step {
                DecayStep::Points(p) => format!("{p} points"),
                DecayStep::Percent(p) => format!("{p}%"),
            };
            let every = match d.every {
                Every::Day => "day",
                Every::Week => "week",
            };
            let _ = writeln!(
                s,
                "  decay:        after {} idle days, {step} per {every}, floor {}",
                d.idle_days, d.floor
            );
        }
        None => {
            let _ = writeln!(s, "  decay:        none");
        }
    }
    if let Some(c) = m.cold_after_days {
        let _ = writeln!(s, "  cold after:   {c} days without positive activity");
    }
    s
}
