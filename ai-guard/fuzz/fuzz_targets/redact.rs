//! Redact → restore is the identity, and restoring over any chunking of a stream equals
//! restoring the whole, for any input.
#![no_main]

use std::sync::Arc;

use ai_guard::redact::{RedactMode, Redactor, Vault};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for mode in [
        RedactMode::Placeholder,
        RedactMode::Hash {
            key: b"fuzz".to_vec(),
        },
    ] {
        let mut vault = Vault::new();
        let r = Redactor::default().mode(mode).redact(text, &mut vault);
        assert_eq!(vault.restore(&r.text), text);
        for f in &r.findings {
            assert!(text.is_char_boundary(f.bytes.start) && text.is_char_boundary(f.bytes.end));
        }
        // Stream the redacted text (and the original, as an "answer") in chunks cut where
        // the input's bytes say.
        let vault = Arc::new(vault);
        let answer = format!("{}{}", r.text, text);
        let mut restorer = vault.stream_restorer();
        let mut out = String::new();
        let mut start = 0;
        for (i, &b) in data.iter().enumerate() {
            let cut = (start + usize::from(b % 7) + 1).min(answer.len());
            if cut <= start || !answer.is_char_boundary(cut) {
                continue;
            }
            out.push_str(&restorer.push(&answer[start..cut]));
            start = cut;
            if i > 64 {
                break;
            }
        }
        out.push_str(&restorer.push(&answer[start..]));
        out.push_str(&restorer.finish());
        assert_eq!(out, vault.restore(&answer));
    }
});
