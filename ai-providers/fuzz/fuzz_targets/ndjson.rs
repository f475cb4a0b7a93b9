//! The NDJSON line decoder and Ollama's stream decoder on arbitrary bytes: no panic, and the
//! same events however the bytes are split.
#![no_main]

#[path = "split_check.rs"]
mod split_check;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split_check::same_events_whole_and_split(data, "ollama", |p, s| {
        ai_providers::ollama::decode_stream(p, s)
    });
});
