//! Phone number validation from libphonenumber's metadata (as shipped by the `phonenumber`
//! crate), with our own compiled patterns.
//!
//! The crate's own parser keeps its patterns in a 100-entry regex cache; with numbers from
//! many regions that cache thrashes and a single validation costs milliseconds. Here each
//! region's patterns are compiled once, on first use, and kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use phonenumber::metadata::{DATABASE, Metadata};
use regex::Regex;

/// One format of a region: which numbers it applies to and how it groups them.
struct Format {
    leading: Option<Regex>,
    pattern: Regex,
    format: String,
    prefix_rule: Option<String>,
}

/// A region's numbering plan, compiled.
pub(crate) struct Plan {
    national_prefix: Option<String>,
    lengths: Vec<u16>,
    general: Regex,
    types: Vec<(Regex, Vec<u16>)>,
    formats: Vec<Format>,
}

fn whole(p: &str) -> Option<Regex> {
    Regex::new(&format!("(?x)^(?:{p})$")).ok()
}

fn prefix(p: &str) -> Option<Regex> {
    Regex::new(&format!("(?x)^(?:{p})")).ok()
}

impl Plan {
    fn compile(meta: &Metadata) -> Option<Self> {
        let d = meta.descriptors();
        let general = whole(d.general().national_number().as_str())?;
        let mut types = Vec::new();
        for t in [
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(r) = whole(t.national_number().as_str()) {
                types.push((r, t.possible_length().to_vec()));
            }
        }
        let formats = meta
            .formats()
            .iter()
            .filter_map(|f| {
                Some(Format {
                    leading: match f.leading_digits().last() {
                        Some(l) => Some(prefix(l.as_str())?),
                        None => None,
                    },
                    pattern: whole(f.pattern().as_str())?,
                    format: f.format().to_owned(),
                    prefix_rule: f.national_prefix().map(str::to_owned),
                })
            })
            .collect();
        Some(Self {
            national_prefix: meta.national_prefix().map(str::to_owned),
            lengths: d.general().possible_length().to_vec(),
            general,
            types,
            formats,
        })
    }

    /// Whether `nsn` (the national significant number: no country code, no national prefix)
    /// is a valid number of this region.
    pub(crate) fn valid(&self, nsn: &str) -> bool {
        let len = nsn.len() as u16;
        if !self.lengths.is_empty() && !self.lengths.contains(&len) {
            return false;
        }
        self.general.is_match(nsn)
            && self.types.iter().any(|(r, lengths)| {
                (lengths.is_empty() || lengths.contains(&len)) && r.is_match(nsn)
            })
    }

    /// The national prefix (`0` in most of Europe, `1` in North America), if any.
    pub(crate) fn national_prefix(&self) -> Option<&str> {
        self.national_prefix.as_deref()
    }

    /// `nsn` written in this region's national format (`020 7946 0958`), if a format applies.
    pub(crate) fn national_format(&self, nsn: &str) -> Option<String> {
        let f = self.formats.iter().find(|f| {
            f.leading.as_ref().is_none_or(|l| l.is_match(nsn)) && f.pattern.is_match(nsn)
        })?;
        let caps = f.pattern.captures(nsn)?;
        let group = |i: usize| caps.get(i).map_or("", |m| m.as_str());
        let mut first = group(1).to_owned();
        if let Some(rule) = &f.prefix_rule {
            let np = self.national_prefix.as_deref().unwrap_or("");
            first = rule
                .replace("$NP", np)
                .replace("$FG", &first)
                .replace("$1", &first);
        }
        let mut out = String::new();
        let mut chars = f.format.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$'
                && let Some(d) = chars.peek().and_then(|d| d.to_digit(10))
            {
                chars.next();
                if d == 1 {
                    out.push_str(&first);
                } else {
                    out.push_str(group(d as usize));
                }
            } else {
                out.push(c);
            }
        }
        Some(out)
    }
}

type Plans = Mutex<HashMap<String, Option<Arc<Plan>>>>;

fn plans() -> &'static Plans {
    static PLANS: OnceLock<Plans> = OnceLock::new();
    PLANS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The compiled plan of region `id` (ISO 3166 code, upper case).
pub(crate) fn plan(id: &str) -> Option<Arc<Plan>> {
    let mut map = plans()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(p) = map.get(id) {
        return p.clone();
    }
    let p = DATABASE.by_id(id).and_then(Plan::compile).map(Arc::new);
    map.insert(id.to_owned(), p.clone());
    p
}

/// Whether `digits` (after a `+`) are a valid international number of any region.
pub(crate) fn valid_international(digits: &str) -> bool {
    for cc_len in 1..=3 {
        if digits.len() <= cc_len {
            break;
        }
        let Ok(cc) = digits[..cc_len].parse::<u16>() else {
            continue;
        };
        let Some(metas) = DATABASE.by_code(&cc) else {
            continue;
        };
        let nsn = &digits[cc_len..];
        return metas
            .iter()
            .filter_map(|m| plan(m.id()))
            .any(|p| p.valid(nsn));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_validate_and_format() {
        let gb = plan("GB").unwrap();
        assert!(gb.valid("2079460958"));
        assert_eq!(
            gb.national_format("2079460958").as_deref(),
            Some("020 7946 0958")
        );
        let us = plan("US").unwrap();
        assert!(us.valid("4155550132"));
        assert_eq!(
            us.national_format("4155550132").as_deref(),
            Some("(415) 555-0132")
        );
        assert!(!us.valid("1234567890"));
        assert!(valid_international("442079460958"));
        assert!(valid_international("5511984565666"));
        assert!(!valid_international("1123456789"));
    }
}
