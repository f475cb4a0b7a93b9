//! The SSE decoder and the OpenAI and Anthropic stream decoders on arbitrary bytes, cut into
//! chunks where the input says: no panic, and the same events however the bytes are split.
#![no_main]

use bytes::Bytes;
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;

fn chunks(data: &[u8], seed: u8) -> Vec<ai_core::Result<Bytes>> {
    let mut out = Vec::new();
    let mut i = 0;
    let step = usize::from(seed % 13) + 1;
    while i < data.len() {
        let end = (i + step).min(data.len());
        out.push(Ok(Bytes::copy_from_slice(&data[i..end])));
        i = end;
    }
    out
}

fn events(s: ai_core::ChatStream) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(s.map(|e| format!("{e:?}")).collect())
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let (seed, body) = (data[0], &data[1..]);
    let mut dec = ai_providers::sse::SseDecoder::new();
    let mut out = Vec::new();
    for c in chunks(body, seed).into_iter().flatten() {
        let _ = dec.feed(&c, &mut out);
    }
    dec.finish(&mut out);
    let whole = vec![Ok(Bytes::copy_from_slice(body))];
    let a = events(ai_providers::anthropic::decode::decode_stream(
        "fuzz",
        futures::stream::iter(whole.clone()),
    ));
    let b = events(ai_providers::anthropic::decode::decode_stream(
        "fuzz",
        futures::stream::iter(chunks(body, seed)),
    ));
    assert_eq!(a, b, "anthropic: split changes the events");
    let _ = events(ai_providers::openai::decode_stream(
        "fuzz",
        futures::stream::iter(chunks(body, seed)),
    ));
});
