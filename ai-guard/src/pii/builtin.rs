//! The built-in recognizers, run in one pass over the text.
//!
//! Prose is mostly letters, so the scan jumps from trigger byte to trigger byte (a digit, `@`
//! or `:`) and looks closer only there: `@` → e-mail; `:` → IPv6; a digit → IBAN (when two
//! letters come before it) or the surrounding run of digit groups, which the card, SSN, IPv4
//! and phone recognizers examine.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use super::card::{card_brand, luhn_valid};
use super::national::{iban_length, iban_valid, ssn_valid};
use super::{Finding, PiiKind};

/// Which built-in recognizers run, and the regions whose national phone formats are tried.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltinConfig {
    /// E-mail addresses.
    pub email: bool,
    /// Phone numbers.
    pub phone: bool,
    /// Payment cards.
    pub card: bool,
    /// US social security numbers.
    pub ssn: bool,
    /// IBANs.
    pub iban: bool,
    /// IPv4 and IPv6 addresses.
    pub ip: bool,
    /// ISO 3166 codes of the regions whose national formats (no `+` prefix) are accepted, in
    /// the order tried. Numbers written with `+` and a country code are recognised for every
    /// region regardless.
    pub phone_regions: Vec<String>,
}

impl Default for BuiltinConfig {
    fn default() -> Self {
        Self {
            email: true,
            phone: true,
            card: true,
            ssn: true,
            iban: true,
            ip: true,
            phone_regions: [
                "US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT", "IE", "IL", "IN", "BR",
                "JP", "CN", "AU", "CA", "MX",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        }
    }
}

pub(crate) struct Builtin {
    pub(crate) config: BuiltinConfig,
    /// The compiled numbering plans of the configured regions.
    regions: Vec<std::sync::Arc<super::phone::Plan>>,
}

const NAME: &str = "builtin";

/// Bytes worth a closer look.
static TRIGGER: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = true;
        c += 1;
    }
    t[b'@' as usize] = true;
    t[b':' as usize] = true;
    t
};

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether the character ending at byte `i` (exclusive) is alphanumeric (any script).
fn alnum_before(text: &str, i: usize) -> bool {
    text[..i]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Whether the character starting at byte `i` is alphanumeric (any script).
fn alnum_at(text: &str, i: usize) -> bool {
    text[i..]
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Whether one of `words` appears (ASCII case-insensitively) in the 48 bytes before `start`.
fn context_before(text: &str, start: usize, words: &[&str]) -> bool {
    let mut from = start.saturating_sub(48);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let window = text[from..start].to_ascii_lowercase();
    words.iter().any(|w| window.contains(w))
}

impl Builtin {
    pub(crate) fn new(config: BuiltinConfig) -> Self {
        let regions = config
            .phone_regions
            .iter()
            .filter_map(|r| super::phone::plan(&r.to_ascii_uppercase()))
            .collect();
        Self { config, regions }
    }

    pub(crate) fn find(&self, text: &str, out: &mut Vec<Finding>) {
        let b = text.as_bytes();
        let mut i = 0;
        let mut numeric_end = 0;
        let mut v6_end = 0;
        while i < b.len() {
            match b[i..].iter().position(|&c| TRIGGER[c as usize]) {
                Some(p) => i += p,
                None => break,
            }
            match b[i] {
                b'@' => {
                    if self.config.email {
                        self.email(text, i, out);
                    }
                }
                b':' => {
                    if self.config.ip
                        && i >= v6_end
                        && let Some(end) = self.ipv6(text, i, out)
                    {
                        v6_end = end;
                    }
                }
                _ => {
                    if i >= numeric_end {
                        numeric_end = self.numeric(text, i, out);
                    }
                }
            }
            i += 1;
        }
    }

    fn email(&self, text: &str, at: usize, out: &mut Vec<Finding>) {
        let local_ok = |c: char| c.is_alphanumeric() || "._%+-'".contains(c);
        let mut start = at;
        for (j, c) in text[..at].char_indices().rev() {
            if !local_ok(c) {
                break;
            }
            start = j;
        }
        while start < at && text.as_bytes()[start] == b'.' {
            start += 1;
        }
        let b = text.as_bytes();
        let mut end = at + 1;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'.' || b[end] == b'-')
        {
            end += 1;
        }
        while end > at + 1 && (b[end - 1] == b'.' || b[end - 1] == b'-') {
            end -= 1;
        }
        if start == at || b[at - 1] == b'.' || end <= at + 1 {
            return;
        }
        if end < b.len() && (b[end] == b'@' || b[end] >= 0x80 && alnum_at(text, end)) {
            return;
        }
        let domain = &text[at + 1..end];
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-') || l.len() > 63)
        {
            return;
        }
        let tld = labels[labels.len() - 1];
        let tld_ok = (tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic()))
            || (tld.starts_with("xn--") && tld.len() > 4);
        if !tld_ok {
            return;
        }
        out.push(Finding::new(PiiKind::Email, start..end, 0.95, NAME));
    }

    /// An IPv6 address around the colon at `colon`; returns where it ends when found.
    fn ipv6(&self, text: &str, colon: usize, out: &mut Vec<Finding>) -> Option<usize> {
        let b = text.as_bytes();
        let mut start = colon;
        while start > 0 && (b[start - 1].is_ascii_hexdigit() || b[start - 1] == b':') {
            start -= 1;
        }
        if start > 0 && (is_word(b[start - 1]) || alnum_before(text, start)) {
            return None;
        }
        let mut end = colon;
        while end < b.len() && (b[end].is_ascii_hexdigit() || b[end] == b':' || b[end] == b'.') {
            end += 1;
        }
        while end > colon && b[end - 1] == b'.' {
            end -= 1;
        }
        let addr_end = end;
        if end < b.len() && b[end] == b'/' {
            let mut p = end + 1;
            while p < b.len() && b[p].is_ascii_digit() {
                p += 1;
            }
            if cidr_ok(text, &(end + 1..p), 128) {
                end = p;
            }
        } else if end < b.len() && b[end] == b'%' {
            let mut z = end + 1;
            while z < b.len() && (b[z].is_ascii_alphanumeric() || b[z] == b'_' || b[z] == b'.') {
                z += 1;
            }
            if z > end + 1 {
                end = z;
            }
        }
        if end < b.len() && (is_word(b[end]) || alnum_at(text, end)) {
            return None;
        }
        let candidate = &text[start..addr_end];
        if candidate.matches(':').count() < 2 || candidate.parse::<Ipv6Addr>().is_err() {
            return None;
        }
        out.push(Finding::new(PiiKind::IpAddress, start..end, 0.85, NAME));
        Some(end)
    }

    /// Examine the run of digit groups starting at `first`; returns where it ends.
    fn numeric(&self, text: &str, first: usize, out: &mut Vec<Finding>) -> usize {
        let b = text.as_bytes();
        if self.config.iban
            && first >= 2
            && b[first - 2].is_ascii_alphabetic()
            && b[first - 1].is_ascii_alphabetic()
            && (first == 2 || !alnum_before(text, first - 2))
            && let Some(end) = self.iban(text, first - 2, out)
        {
            return end;
        }
        // Digit groups joined by short runs of separators.
        let mut groups: Vec<Range<usize>> = Vec::new();
        let mut i = first;
        loop {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            groups.push(s..i);
            let mut j = i;
            while j < b.len()
                && j - i < 3
                && matches!(b[j], b' ' | b'-' | b'.' | b'(' | b')' | b'/')
            {
                j += 1;
            }
            if j > i && j < b.len() && b[j].is_ascii_digit() && groups.len() < 64 {
                i = j;
            } else {
                break;
            }
        }
        let end = groups.last().map_or(first, |g| g.end);
        let left_word = first > 0 && alnum_before(text, first);
        let right_word = end < b.len() && alnum_at(text, end);
        let mut taken = vec![false; groups.len()];
        if self.config.ip {
            self.ipv4(text, &groups, left_word, &mut taken, out);
        }
        if self.config.ssn && !left_word && !right_word {
            self.ssn(text, &groups, &mut taken, out);
        }
        if self.config.card && !left_word {
            self.card(text, &groups, left_word, right_word, &mut taken, out);
        }
        if self.config.phone {
            self.phone(text, &groups, left_word, right_word, &taken, out);
        }
        end
    }

    fn iban(&self, text: &str, start: usize, out: &mut Vec<Finding>) -> Option<usize> {
        let b = text.as_bytes();
        let country = [
            b[start].to_ascii_uppercase(),
            b[start + 1].to_ascii_uppercase(),
        ];
        let want = iban_length(&country)?;
        let mut compact = Vec::with_capacity(want);
        let mut i = start;
        while i < b.len() && compact.len() < want {
            if b[i].is_ascii_alphanumeric() {
                compact.push(b[i]);
                i += 1;
            } else if matches!(b[i], b' ' | b'-')
                && compact.len() >= 4
                && i + 1 < b.len()
                && b[i + 1].is_ascii_alphanumeric()
            {
                i += 1;
            } else {
                break;
            }
        }
        let letters = compact[2..].iter().filter(|c| c.is_ascii_alphabetic());
        let (mut upper, mut lower) = (true, true);
        for c in letters {
            upper &= c.is_ascii_uppercase();
            lower &= c.is_ascii_lowercase();
        }
        let case_ok =
            (upper && b[start].is_ascii_uppercase()) || (lower && b[start].is_ascii_lowercase());
        if compact.len() != want
            || !case_ok
            || (i < b.len() && alnum_at(text, i))
            || !iban_valid(&compact)
        {
            return None;
        }
        out.push(Finding::new(PiiKind::Iban, start..i, 0.95, NAME));
        Some(i)
    }

    fn ipv4(
        &self,
        text: &str,
        groups: &[Range<usize>],
        left_word: bool,
        taken: &mut [bool],
        out: &mut Vec<Finding>,
    ) {
        let b = text.as_bytes();
        let mut g = 0;
        while g + 4 <= groups.len() {
            let window = &groups[g..g + 4];
            let dotted = window
                .windows(2)
                .all(|w| w[0].end + 1 == w[1].start && b[w[0].end] == b'.');
            let starts_clean = if g == 0 {
                !left_word
            } else {
                // Joined to the group before by a dot: the address starts later.
                !(groups[g - 1].end + 1 == groups[g].start && b[groups[g - 1].end] == b'.')
            };
            let after = window[3].end;
            let ends_clean = after >= b.len() || !alnum_at(text, after);
            if dotted
                && starts_clean
                && ends_clean
                && window.iter().all(|r| r.len() <= 3)
                && text[window[0].start..after].parse::<Ipv4Addr>().is_ok()
            {
                // A CIDR prefix length belongs to the address.
                let cidr = groups
                    .get(g + 4)
                    .filter(|p| p.start == after + 1 && b[after] == b'/' && cidr_ok(text, p, 32));
                let end = cidr.map_or(after, |p| p.end);
                out.push(Finding::new(
                    PiiKind::IpAddress,
                    window[0].start..end,
                    0.85,
                    NAME,
                ));
                let used = if cidr.is_some() { 5 } else { 4 };
                taken[g..g + used].iter_mut().for_each(|t| *t = true);
                g += used;
            } else {
                g += 1;
            }
        }
    }

    fn ssn(&self, text: &str, groups: &[Range<usize>], taken: &mut [bool], out: &mut Vec<Finding>) {
        let b = text.as_bytes();
        let digits = |rs: &[Range<usize>]| -> Vec<u8> {
            rs.iter()
                .flat_map(|r| b[r.clone()].iter().copied())
                .collect()
        };
        let context = |start: usize| {
            context_before(
                text,
                start,
                &["ssn", "social security", "social-security", "ss#"],
            )
        };
        let lens: Vec<usize> = groups.iter().map(|r| r.len()).collect();
        let span = groups[0].start..groups[groups.len() - 1].end;
        let (score, ok) = match lens.as_slice() {
            [3, 2, 4] => {
                let s1 = &b[groups[0].end..groups[1].start];
                let s2 = &b[groups[1].end..groups[2].start];
                let same = s1 == s2 && s1.len() == 1 && matches!(s1[0], b'-' | b' ' | b'.');
                (if same { 0.85 } else { 0.0 }, same)
            }
            [9] => (if context(span.start) { 0.75 } else { 0.4 }, true),
            [3, 6] | [5, 4] => {
                let sep = &b[groups[0].end..groups[1].start];
                let ok = sep == b"-";
                (if context(span.start) { 0.6 } else { 0.3 }, ok)
            }
            _ => (0.0, false),
        };
        if ok && ssn_valid(&digits(groups)) {
            out.push(Finding::new(PiiKind::UsSsn, span, score, NAME));
            taken.iter_mut().for_each(|t| *t = true);
        }
    }

    fn card(
        &self,
        text: &str,
        groups: &[Range<usize>],
        left_word: bool,
        right_word: bool,
        taken: &mut [bool],
        out: &mut Vec<Finding>,
    ) {
        let b = text.as_bytes();
        let joined = |a: &Range<usize>, c: &Range<usize>| {
            c.start == a.end + 1 && matches!(b[a.end], b' ' | b'-')
        };
        let mut g = 0;
        while g < groups.len() {
            if taken[g] || (g == 0 && left_word) {
                g += 1;
                continue;
            }
            let mut digits: Vec<u8> = Vec::with_capacity(19);
            let mut best: Option<usize> = None;
            let mut h = g;
            while h < groups.len() && !taken[h] {
                if h > g && !joined(&groups[h - 1], &groups[h]) {
                    break;
                }
                digits.extend_from_slice(&b[groups[h].clone()]);
                if digits.len() > 19 {
                    break;
                }
                let last = h + 1 == groups.len();
                let boundary_ok = !(last && right_word);
                if digits.len() >= 12
                    && boundary_ok
                    && luhn_valid(&digits)
                    && (card_brand(&digits).is_some() || (digits[0] == b'1' && digits.len() == 15))
                {
                    best = Some(h);
                }
                h += 1;
            }
            match best {
                Some(h) => {
                    out.push(Finding::new(
                        PiiKind::CreditCard,
                        groups[g].start..groups[h].end,
                        0.9,
                        NAME,
                    ));
                    taken[g..=h].iter_mut().for_each(|t| *t = true);
                    g = h + 1;
                }
                None => g += 1,
            }
        }
    }

    fn phone(
        &self,
        text: &str,
        groups: &[Range<usize>],
        left_word: bool,
        right_word: bool,
        taken: &[bool],
        out: &mut Vec<Finding>,
    ) {
        let b = text.as_bytes();
        let mut g = 0;
        while g < groups.len() {
            if taken[g] || (g == 0 && left_word) {
                g += 1;
                continue;
            }
            // A leading `+` (international) and an opening parenthesis belong to the number.
            let mut start = groups[g].start;
            if start > 0 && b[start - 1] == b'(' {
                start -= 1;
            }
            let plus = start > 0 && b[start - 1] == b'+';
            if plus {
                start -= 1;
            }
            if g > 0 && !plus && groups[g - 1].end + 1 >= groups[g].start {
                // Glued to the group before (one separator): not the start of a number.
                g += 1;
                continue;
            }
            if start > 0 && !plus && (b[start - 1] == b'+' || alnum_before(text, start)) {
                g += 1;
                continue;
            }
            let mut found = None;
            let mut digits = 0;
            let mut h = g;
            let mut ends = Vec::new();
            while h < groups.len() && !taken[h] && h - g < 7 {
                digits += groups[h].len();
                if digits > 15 {
                    break;
                }
                let last = h + 1 == groups.len();
                if digits >= 7 && !(last && right_word) {
                    let next_glued = !last && groups[h].end + 1 >= groups[h + 1].start;
                    if !next_glued || b[groups[h].end] == b' ' {
                        ends.push(h);
                    }
                }
                h += 1;
            }
            for &h in ends.iter().rev() {
                let candidate = &text[start..groups[h].end];
                if let Some(score) = self.phone_valid(text, start, candidate, plus) {
                    found = Some((h, score));
                    break;
                }
            }
            match found {
                Some((h, score)) => {
                    out.push(Finding::new(
                        PiiKind::Phone,
                        start..groups[h].end,
                        score,
                        NAME,
                    ));
                    g = h + 1;
                }
                None => g += 1,
            }
        }
    }

    fn phone_valid(&self, text: &str, start: usize, candidate: &str, plus: bool) -> Option<f32> {
        if candidate.contains('/') {
            return None;
        }
        let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
        if plus {
            return super::phone::valid_international(&digits).then_some(0.8);
        }
        // Parentheses must balance in a national format.
        if candidate.matches('(').count() != candidate.matches(')').count() {
            return None;
        }
        let written = boundaries(candidate);
        let found = self.regions.iter().find_map(|plan| {
            let nsn = match plan.national_prefix() {
                Some(p) if digits.starts_with(p) => &digits[p.len()..],
                _ => digits.as_str(),
            };
            if !plan.valid(nsn) {
                return None;
            }
            // The grouping must be the region's own (or at most one break, where it usually
            // has one): otherwise SSNs, dates and order numbers pass in some region's plan.
            let usual_text = plan.national_format(nsn)?;
            let usual = boundaries(&usual_text);
            let digits_usual = usual_text.bytes().filter(u8::is_ascii_digit).count();
            let grouped = written == usual || (written.len() <= 1 && usual.starts_with(&written));
            (digits_usual == digits.len() && grouped).then_some(())
        });
        found?;
        // A bare run of digits is an id as often as a phone number: only with a word that
        // says phone before it.
        if written.is_empty() && !candidate.starts_with('(') {
            return Some(if context_before(text, start, PHONE_WORDS) {
                0.65
            } else {
                0.4
            });
        }
        Some(0.65)
    }
}

/// A prefix length at `r` of at most `max`, not followed by more of a word.
fn cidr_ok(text: &str, r: &Range<usize>, max: u32) -> bool {
    !r.is_empty()
        && r.len() <= 3
        && text[r.clone()].parse::<u32>().is_ok_and(|n| n <= max)
        && (r.end >= text.len() || !alnum_at(text, r.end))
}

const PHONE_WORDS: &[&str] = &[
    "phone", "tel", "call", "mobile", "cell", "fax", "whatsapp", "sms", "text me", "contact",
    "reach me", "dial", "ring",
];

/// Digit counts after which a number's groups break (`(415) 555-0132` → 3, 6).
fn boundaries(s: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut digits = 0;
    let mut gap = false;
    for c in s.bytes() {
        if c.is_ascii_digit() {
            if gap && digits > 0 {
                out.push(digits);
            }
            gap = false;
            digits += 1;
        } else {
            gap = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::pii::{PiiDetector, PiiKind};

    fn found(text: &str) -> Vec<(PiiKind, &str)> {
        PiiDetector::default()
            .detect(text)
            .into_iter()
            .map(|f| (f.kind, &text[f.bytes]))
            .collect()
    }

    #[test]
    fn emails() {
        assert_eq!(
            found("write to info@presidio.site or a.b-c@mail.example.co.uk."),
            vec![
                (PiiKind::Email, "info@presidio.site"),
                (PiiKind::Email, "a.b-c@mail.example.co.uk")
            ]
        );
        assert_eq!(
            found("a@xn--d1acufc.xn--p1ai")[0].1,
            "a@xn--d1acufc.xn--p1ai"
        );
        assert!(found("my email is info@presidio. and @handle and a@b").is_empty());
    }

    #[test]
    fn ips() {
        let ip = |t: &str| -> Vec<String> {
            found(t)
                .into_iter()
                .filter(|(k, _)| *k == PiiKind::IpAddress)
                .map(|(_, v)| v.to_string())
                .collect()
        };
        assert_eq!(
            ip("IPs: 192.168.1.1, 10.0.0.1, 2001:db8::1"),
            ["192.168.1.1", "10.0.0.1", "2001:db8::1"]
        );
        assert_eq!(ip("fe80::1%eth0 up"), ["fe80::1%eth0"]);
        assert_eq!(ip("Connect to [2001:db8::1]:8080"), ["2001:db8::1"]);
        assert_eq!(ip("::ffff:192.0.2.1"), ["::ffff:192.0.2.1"]);
        assert_eq!(ip("192.168.1.1.1"), ["192.168.1.1"]);
        assert_eq!(ip("text::ffff:192.0.2.1"), ["192.0.2.1"]);
        for none in [
            "Time 12:34:56",
            "MAC aa:bb:cc:dd:ee:ff",
            "std::cout",
            "Version 1.2.3",
            "300.168.1.1",
            "IP192.168.1.1text",
            "fe80::1text",
            "2001::db8::1",
            "Ratio 1:2:3:4",
        ] {
            assert!(ip(none).is_empty(), "{none}: {:?}", ip(none));
        }
    }

    #[test]
    fn cards_ssn_iban_phone() {
        assert_eq!(
            found("4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881")
                .iter()
                .filter(|(k, _)| *k == PiiKind::CreditCard)
                .count(),
            3
        );
        assert!(found("my card 4012-8888-8888-1882").is_empty());
        assert_eq!(
            found("SSN 078-05-1123."),
            vec![(PiiKind::UsSsn, "078-05-1123")]
        );
        assert!(found("078-05-0000 and 666-12-3456").is_empty());
        assert_eq!(
            found("IBAN: GB82 WEST 1234 5698 7654 32, thanks"),
            vec![(PiiKind::Iban, "GB82 WEST 1234 5698 7654 32")]
        );
        assert_eq!(
            found("Call (415) 555-0132 or +44 20 7946 0958 today"),
            vec![
                (PiiKind::Phone, "(415) 555-0132"),
                (PiiKind::Phone, "+44 20 7946 0958")
            ]
        );
        assert!(found("In 1999 we sold 12 000 units for 35.50 each.").is_empty());
    }
}
