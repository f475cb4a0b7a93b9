//! Gemini's stream decoder (`data:` lines, stray JSON error objects) on arbitrary bytes: no
//! panic, and the same events however the bytes are split.
#![no_main]

#[path = "split_check.rs"]
mod split_check;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split_check::same_events_whole_and_split(data, "gemini", |p, s| {
        ai_providers::gemini::decode::decode_stream(p, s)
    });
});
