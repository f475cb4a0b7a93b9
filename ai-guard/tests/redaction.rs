//! Properties of redaction and restore: identity for any text, and stream restore equal to
//! whole restore for any chunking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use ai_guard::redact::{RedactMode, Redactor, Vault};
use proptest::prelude::*;

const PIECES: &[&str] = &[
    "jane.doe@example.com",
    "+44 20 7946 0958",
    "(415) 555-0132",
    "4111 1111 1111 1111",
    "078-05-1123",
    "GB82 WEST 1234 5698 7654 32",
    "192.168.0.1",
    "2001:db8::1",
    "[EMAIL_1]",
    "[PHONE_",
    "[",
    "]",
    "[[",
    "ü",
    "日本",
    "\n",
    " ",
    "word",
    "1234",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(PIECES).prop_map(str::to_owned),
            any::<String>(),
            "[A-Z_\\[\\]0-9 @.:+-]{0,12}",
        ],
        0..12,
    )
    .prop_map(|v| v.concat())
}

fn splits(s: &str, cuts: &[usize]) -> Vec<String> {
    let mut bounds: Vec<usize> = cuts
        .iter()
        .map(|c| c % (s.len() + 1))
        .filter(|&c| s.is_char_boundary(c))
        .collect();
    bounds.push(0);
    bounds.push(s.len());
    bounds.sort_unstable();
    bounds.dedup();
    bounds
        .windows(2)
        .map(|w| s[w[0]..w[1]].to_owned())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn redact_then_restore_is_the_identity(s in text()) {
        for mode in [RedactMode::Placeholder, RedactMode::Hash { key: b"k".to_vec() }] {
            let mut vault = Vault::new();
            let r = Redactor::default().mode(mode).redact(&s, &mut vault);
            prop_assert_eq!(vault.restore(&r.text), s.clone());
        }
    }

    #[test]
    fn stream_restore_equals_whole_restore(s in text(), answer in text(), cuts in prop::collection::vec(any::<usize>(), 0..10)) {
        let mut vault = Vault::new();
        let r = Redactor::default().redact(&s, &mut vault);
        // The answer mixes the redacted text (placeholders) with anything else.
        let answer = format!("{answer}{}{answer}", r.text);
        let vault = Arc::new(vault);
        let mut restorer = vault.stream_restorer();
        let mut streamed = String::new();
        for piece in splits(&answer, &cuts) {
            streamed.push_str(&restorer.push(&piece));
        }
        streamed.push_str(&restorer.finish());
        prop_assert_eq!(streamed, vault.restore(&answer));
    }
}

#[test]
fn text_is_released_early() {
    let mut vault = Vault::new();
    let _ = Redactor::default().redact("x@y.org", &mut vault);
    let vault = Arc::new(vault);
    let mut r = vault.stream_restorer();
    assert_eq!(r.push("Hello "), "Hello ");
    assert_eq!(r.push("[sic] and [EM"), "[sic] and ");
    assert_eq!(r.push("AIL_1] ok"), "x@y.org ok");
    assert_eq!(
        r.push(" [EMAIL_9"),
        " [EMAIL_9",
        "cannot become a placeholder"
    );
    assert_eq!(r.push("] [EMAIL_"), "] ");
    assert_eq!(r.push("1"), "");
    assert_eq!(
        r.finish(),
        "[EMAIL_1",
        "an unfinished placeholder is emitted as it is"
    );
}
