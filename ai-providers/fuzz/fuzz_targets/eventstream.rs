//! The AWS event-stream decoder on arbitrary bytes: no panic, the same frames (and error)
//! however the bytes are split, and every decoded frame re-encodes to the bytes it came from.
#![no_main]

use ai_providers::eventstream::EventStreamDecoder;
use libfuzzer_sys::fuzz_target;

fn decode(body: &[u8], step: usize) -> Vec<Result<ai_providers::eventstream::Frame, String>> {
    let mut d = EventStreamDecoder::default();
    let mut out = Vec::new();
    for c in body.chunks(step) {
        d.feed(c, &mut out);
    }
    d.finish(&mut out);
    out.into_iter().map(|r| r.map_err(|e| e.to_string())).collect()
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let (seed, body) = (data[0], &data[1..]);
    let whole = decode(body, body.len().max(1));
    assert_eq!(whole, decode(body, usize::from(seed % 17) + 1), "split changes the frames");
    let mut at = 0;
    for f in whole.iter().flatten() {
        let bytes = f.encode();
        assert_eq!(&body[at..at + bytes.len()], &bytes[..], "a frame re-encodes differently");
        at += bytes.len();
    }
});
