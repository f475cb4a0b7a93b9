//! Shared by the fuzz targets: a decoder must give the same events for a body whole and split
//! into chunks of a size the input picks (its first byte).

use bytes::Bytes;
use futures::StreamExt;

type Parts = futures::stream::Iter<std::vec::IntoIter<ai_core::Result<Bytes>>>;

/// Decode `data[1..]` whole and split every `data[0] % 11 + 1` bytes; panic if they differ.
pub fn same_events_whole_and_split(
    data: &[u8],
    what: &str,
    decode: fn(&'static str, Parts) -> ai_core::ChatStream,
) {
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
            decode("fuzz", futures::stream::iter(parts))
                .map(|e| format!("{e:?}"))
                .collect(),
        )
    };
    assert_eq!(run(whole), run(split), "{what}: split changes the events");
}
