//! Validators for national and banking identifiers: US SSN and IBAN.

/// Whether nine digits can be a US social security number: not area 000, 666 or 900–999, not
/// group 00, not serial 0000, not one digit repeated, and not one of the numbers published as
/// examples (078-05-1120, 219-09-9999, 123-45-6789).
pub fn ssn_valid(digits: &[u8]) -> bool {
    if digits.len() != 9 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        digits[r]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return false;
    }
    if digits.iter().all(|&d| d == digits[0]) {
        return false;
    }
    !matches!(digits, b"078051120" | b"219099999" | b"123456789")
}

/// IBAN lengths by country (the SWIFT IBAN registry, including partner countries).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HN", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// The IBAN length for a two-letter country code (upper case), if it uses IBANs.
pub fn iban_length(country: &[u8]) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| c.as_slice() == country)
        .map(|&(_, n)| n)
}

/// Whether `compact` (letters and digits, no separators) is a valid IBAN: a known country,
/// its length, two check digits, and the mod-97 checksum.
pub fn iban_valid(compact: &[u8]) -> bool {
    if compact.len() < 5 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let upper: Vec<u8> = compact.iter().map(u8::to_ascii_uppercase).collect();
    if !upper[0].is_ascii_uppercase()
        || !upper[1].is_ascii_uppercase()
        || !upper[2].is_ascii_digit()
        || !upper[3].is_ascii_digit()
    {
        return false;
    }
    if iban_length(&upper[..2]) != Some(upper.len()) {
        return false;
    }
    let mut rem = 0u32;
    for &c in upper[4..].iter().chain(&upper[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssn_rules() {
        assert!(ssn_valid(b"078051123"));
        for bad in [
            "000123456",
            "666123456",
            "900123456",
            "123001234",
            "123450000",
            "111111111",
            "078051120",
            "12345678",
        ] {
            assert!(!ssn_valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn iban_rules() {
        assert!(iban_valid(b"GB82WEST12345698765432"));
        assert!(iban_valid(b"gb82west12345698765432"));
        assert!(iban_valid(b"AL47212110090000000235698741"));
        assert!(!iban_valid(b"GB82WEST12345698765433"));
        assert!(!iban_valid(b"GB82WEST1234569876543"));
        assert!(!iban_valid(b"ZZ82WEST12345698765432"));
    }
}
