//! AWS Bedrock's stream framing against recorded ConverseStream bodies (rig's cassettes of
//! `amazon.nova-lite-v1:0`): every frame decodes with its CRCs checked, whole or split anyhow.
#![cfg(feature = "bedrock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ai_providers::eventstream::{EventStreamDecoder, Frame, HeaderValue};
use common::{fixtures_in, read};
use serde_json::Value;

fn decode(body: &[u8], step: usize) -> Vec<Result<Frame, String>> {
    let mut d = EventStreamDecoder::default();
    let mut out = Vec::new();
    for c in body.chunks(step.max(1)) {
        d.feed(c, &mut out);
    }
    d.finish(&mut out);
    out.into_iter()
        .map(|r| r.map_err(|e| e.to_string()))
        .collect()
}

#[test]
fn every_recorded_converse_stream_decodes_frame_by_frame() {
    let mut frames = 0;
    let files = fixtures_in("bedrock", ".bin");
    assert_eq!(files.len(), 9);
    for bin in files {
        let body = read(&bin);
        let expected: Value =
            serde_json::from_slice(&read(&bin.replace(".bin", ".decoded.json"))).unwrap();
        let events = expected["events"].as_array().unwrap();
        let whole = decode(&body, body.len());
        assert_eq!(whole.len(), events.len(), "{bin}");
        for (got, want) in whole.iter().zip(events) {
            let f = got.as_ref().unwrap_or_else(|e| panic!("{bin}: {e}"));
            for (name, value) in want["headers"].as_object().unwrap() {
                assert_eq!(
                    f.string_header(name),
                    value.as_str(),
                    "{bin}: header {name}"
                );
            }
            let payload: Value = serde_json::from_slice(&f.payload).unwrap();
            assert_eq!(payload, want["payload"], "{bin}");
            assert_eq!(
                f.encode().len() as u64,
                want["total_length"].as_u64().unwrap()
            );
        }
        for step in [1, 7, 64] {
            assert_eq!(decode(&body, step), whole, "{bin} split every {step}");
        }
        frames += whole.len();
    }
    assert_eq!(frames, 213, "all recorded frames");
}

#[test]
fn text_under_the_event_stream_type_is_refused() {
    // A mock that sends SSE with `content-type: application/vnd.amazon.eventstream`.
    let out = decode(
        &read("bedrock/not_eventstream_sse_under_eventstream_type.body"),
        64,
    );
    assert_eq!(out.len(), 1);
    assert!(
        out[0]
            .as_ref()
            .unwrap_err()
            .contains("invalid event-stream frame")
    );
}

#[test]
fn encoded_frames_decode_to_themselves() {
    let f = Frame::new(
        br#"{"contentBlockDelta":{"delta":{"text":"Hi"},"contentBlockIndex":0}}"#.to_vec(),
    )
    .header(
        ":event-type",
        HeaderValue::String("contentBlockDelta".into()),
    )
    .header(
        ":content-type",
        HeaderValue::String("application/json".into()),
    )
    .header(":message-type", HeaderValue::String("event".into()));
    let mut body = f.encode();
    body.extend(f.encode());
    assert_eq!(decode(&body, 3), vec![Ok(f.clone()), Ok(f)]);
}
