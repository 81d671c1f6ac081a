//! The model file as written: serde structs that mirror the TOML, with spans kept on every
//! value a validation error may point at. `compile` turns this into a checked [`super::Model`].

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub model: Spanned<RawMeta>,
    pub thresholds: Spanned<RawThresholds>,
    pub grades: Option<Spanned<RawGrades>>,
    #[serde(default)]
    pub lists: RawLists,
    #[serde(default)]
    pub email: RawEmail,
    pub decay: Option<Spanned<RawDecay>>,
    #[serde(default)]
    pub fit: Vec<Spanned<RawFitRule>>,
    #[serde(default)]
    pub activity: Vec<Spanned<RawActivityRule>>,
    #[serde(default)]
    pub combination: Vec<Spanned<RawCombination>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: Spanned<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub products: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThresholds {
    pub mql: Spanned<f64>,
    pub mql_exit: Spanned<f64>,
    pub floor: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGrades {
    pub fit: Spanned<RawFitBands>,
    pub activity: Spanned<RawActivityBands>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFitBands {
    #[serde(rename = "A")]
    pub a: Spanned<f64>,
    #[serde(rename = "B")]
    pub b: Spanned<f64>,
    #[serde(rename = "C")]
    pub c: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawActivityBands {
    #[serde(rename = "1")]
    pub one: Spanned<f64>,
    #[serde(rename = "2")]
    pub two: Spanned<f64>,
    #[serde(rename = "3")]
    pub three: Spanned<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLists {
    #[serde(default)]
    pub competitor_domains: Vec<Spanned<String>>,
    /// Added to the built-in free-mail list.
    #[serde(default)]
    pub free_mail_domains: Vec<Spanned<String>>,
    /// Added to the built-in list of titles that do not buy (student, retired, ...).
    #[serde(default)]
    pub non_buyer_titles: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmail {
    #[serde(default)]
    pub score_machine_opens: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDecay {
    pub idle_days: Spanned<i64>,
    pub every: Spanned<String>,
    pub points: Option<Spanned<f64>>,
    pub percent: Option<Spanned<f64>>,
    pub floor: Option<Spanned<f64>>,
    pub cold_after_days: Option<Spanned<i64>>,
}

/// A string, number or boolean in a rule condition.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawScalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRange {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFitRule {
    pub id: Spanned<String>,
    pub description: Option<String>,
    pub attribute: Spanned<String>,
    pub points: Spanned<f64>,
    pub product: Option<Spanned<String>>,
    // Exactly one condition:
    pub equals: Option<Spanned<RawScalar>>,
    pub one_of: Option<Spanned<Vec<String>>>,
    pub contains: Option<Spanned<OneOrMany>>,
    pub prefix: Option<Spanned<OneOrMany>>,
    pub regex: Option<Spanned<String>>,
    pub range: Option<Spanned<RawRange>>,
    pub present: Option<Spanned<bool>>,
    pub in_list: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCap {
    pub count: Option<Spanned<i64>>,
    pub points: Option<Spanned<f64>>,
    pub window: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawActivityRule {
    pub id: Spanned<String>,
    pub description: Option<String>,
    pub kind: Spanned<String>,
    pub points: Spanned<f64>,
    pub product: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
    pub url_regex: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub min_percent: Option<Spanned<f64>>,
    pub max_percent: Option<Spanned<f64>>,
    pub event: Option<Spanned<String>>,
    pub properties: Option<Spanned<BTreeMap<String, RawScalar>>>,
    #[serde(default)]
    pub caps: Vec<Spanned<RawCap>>,
    pub expires_after: Option<Spanned<String>>,
    pub half_life: Option<Spanned<String>>,
    #[serde(default)]
    pub instant_mql: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCombination {
    pub id: Spanned<String>,
    pub description: Option<String>,
    pub requires: Spanned<Vec<Spanned<String>>>,
    pub within: Spanned<String>,
    pub points: Spanned<f64>,
    #[serde(default)]
    pub ordered: bool,
    pub product: Option<Spanned<String>>,
    pub max_awards: Option<Spanned<i64>>,
}
