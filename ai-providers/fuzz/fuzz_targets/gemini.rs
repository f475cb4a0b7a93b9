//! Gemini's stream decoder (its own line splitter, stray JSON errors) on arbitrary bytes: no panic, and the
//! same events however the bytes are split.
#![no_main]

use bytes::Bytes;
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let (seed, body) = (data[0], &data[1..]);
    let step = usize::from(seed % 11) + 1;
    let split: Vec<ai_core::Result<Bytes>> = body
        .chunks(step)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let whole = vec![Ok(Bytes::copy_from_slice(body))];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let run = |parts: Vec<ai_core::Result<Bytes>>| -> Vec<String> {
        rt.block_on(
            ai_providers::gemini::decode::decode_stream("fuzz", futures::stream::iter(parts))
                .map(|e| format!("{e:?}"))
                .collect(),
        )
    };
    assert_eq!(run(whole), run(split), "gemini: split changes the events");
});
