//! The injection normaliser and scorer accept any text: no panic, a score in [0, 1], and
//! normalising is idempotent on its own output's text.
#![no_main]

use ai_guard::injection::{InjectionScorer, normalize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let n = normalize(text);
    let again = normalize(&n.text);
    assert_eq!(again.text, n.text, "normalising twice changes nothing");
    let v = InjectionScorer::default().score(text);
    assert!((0.0..=1.0).contains(&v.score));
    let _ = ai_guard::pii::PiiDetector::default().detect(text);
});
