//! Payment cards: Luhn checksum and issuer ranges.

/// A card network, from the number's leading digits and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardBrand {
    /// Visa: 4…, 13, 16 or 19 digits.
    Visa,
    /// Mastercard: 51–55 and 2221–2720, 16 digits.
    Mastercard,
    /// American Express: 34, 37, 15 digits.
    Amex,
    /// Discover: 6011, 644–649, 65, 16–19 digits.
    Discover,
    /// JCB: 3528–3589, 16–19 digits.
    Jcb,
    /// Diners Club: 300–305, 36, 38, 39, 14–19 digits.
    Diners,
    /// UnionPay: 62, 16–19 digits.
    UnionPay,
    /// Maestro: 50, 56–69 (not claimed above), 12–19 digits.
    Maestro,
}

/// The Luhn checksum of a digit string (ASCII digits only).
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// The brand whose ranges and lengths fit `digits`, if any.
pub fn card_brand(digits: &[u8]) -> Option<CardBrand> {
    let len = digits.len();
    let prefix = |n: usize| -> u32 {
        digits
            .iter()
            .take(n)
            .fold(0u32, |acc, d| acc * 10 + u32::from(d.wrapping_sub(b'0')))
    };
    let (p1, p2, p3, p4) = (prefix(1), prefix(2), prefix(3), prefix(4));
    if p1 == 4 && matches!(len, 13 | 16 | 19) {
        return Some(CardBrand::Visa);
    }
    if ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16 {
        return Some(CardBrand::Mastercard);
    }
    if (p2 == 34 || p2 == 37) && len == 15 {
        return Some(CardBrand::Amex);
    }
    if (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65) && (16..=19).contains(&len) {
        return Some(CardBrand::Discover);
    }
    if (3528..=3589).contains(&p4) && (16..=19).contains(&len) {
        return Some(CardBrand::Jcb);
    }
    if ((300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39)) && (14..=19).contains(&len) {
        return Some(CardBrand::Diners);
    }
    if p2 == 62 && (16..=19).contains(&len) {
        return Some(CardBrand::UnionPay);
    }
    if (p2 == 50 || (56..=69).contains(&p2)) && (12..=19).contains(&len) {
        return Some(CardBrand::Maestro);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_brands() {
        assert!(luhn_valid(b"4111111111111111"));
        assert!(!luhn_valid(b"4111111111111112"));
        assert_eq!(card_brand(b"4111111111111111"), Some(CardBrand::Visa));
        assert_eq!(card_brand(b"5555555555554444"), Some(CardBrand::Mastercard));
        assert_eq!(card_brand(b"2223003122003222"), Some(CardBrand::Mastercard));
        assert_eq!(card_brand(b"378282246310005"), Some(CardBrand::Amex));
        assert_eq!(card_brand(b"6011111111111117"), Some(CardBrand::Discover));
        assert_eq!(card_brand(b"3530111333300000"), Some(CardBrand::Jcb));
        assert_eq!(card_brand(b"30569309025904"), Some(CardBrand::Diners));
        assert_eq!(card_brand(b"1234567812345670"), None);
    }
}
