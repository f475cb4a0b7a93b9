//! A Hierarchical Navigable Small World graph over normalised vectors (cosine similarity).
//!
//! The graph stores only links; vectors live with the caller (a flat `n × dim` slice) and are
//! passed to every call. Layer 0 links sit in one flat array for cache-friendly search;
//! neighbour selection uses the diversity heuristic of the HNSW paper.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::document::dot;

/// Graph parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HnswConfig {
    /// Links per node on upper layers (layer 0 keeps twice as many).
    pub m: usize,
    /// Candidate list size while building.
    pub ef_construction: usize,
    /// Candidate list size while searching (at least `k` is used).
    pub ef_search: usize,
    /// Seed of the level generator (builds are reproducible).
    pub seed: u64,
}

impl Default for HnswConfig {
    fn default() -> Self {
        Self {
            m: 16,
            ef_construction: 200,
            ef_search: 64,
            seed: 0x5eed,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
struct Cand {
    dist: f32,
    id: u32,
}

impl Eq for Cand {}

impl Ord for Cand {
    fn cmp(&self, other: &Self) -> Ordering {
        self.dist
            .total_cmp(&other.dist)
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Cand {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

thread_local! {
    static VISITED: RefCell<(Vec<u32>, u32)> = const { RefCell::new((Vec::new(), 0)) };
}

/// The graph.
#[derive(Debug, Clone)]
pub struct Hnsw {
    dim: usize,
    cfg: HnswConfig,
    m0: usize,
    levels: Vec<u8>,
    /// Layer-0 links: `m0` slots per node.
    layer0: Vec<u32>,
    layer0_len: Vec<u16>,
    /// Upper-layer links of nodes above layer 0: `upper[node][level - 1]`.
    upper: Vec<Vec<Vec<u32>>>,
    entry: Option<u32>,
    max_level: usize,
    rng: u64,
}

fn distance(a: &[f32], b: &[f32]) -> f32 {
    1.0 - dot(a, b)
}

impl Hnsw {
    /// An empty graph for `dim`-dimensional vectors.
    pub fn new(dim: usize, cfg: HnswConfig) -> Self {
        let m = cfg.m.max(2);
        Self {
            dim,
            cfg: HnswConfig { m, ..cfg },
            m0: 2 * m,
            levels: Vec::new(),
            layer0: Vec::new(),
            layer0_len: Vec::new(),
            upper: Vec::new(),
            entry: None,
            max_level: 0,
            rng: cfg.seed | 1,
        }
    }

    /// Nodes in the graph.
    pub fn len(&self) -> usize {
        self.levels.len()
    }

    /// Whether the graph is empty.
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// The configuration.
    pub fn config(&self) -> &HnswConfig {
        &self.cfg
    }

    /// Approximate heap memory used by the links, in bytes.
    pub fn link_bytes(&self) -> usize {
        self.layer0.len() * 4
            + self.layer0_len.len() * 2
            + self
                .upper
                .iter()
                .map(|l| l.iter().map(|v| v.len() * 4 + 24).sum::<usize>() + 24)
                .sum::<usize>()
    }

    fn vec<'a>(&self, vectors: &'a [f32], id: u32) -> &'a [f32] {
        let s = id as usize * self.dim;
        &vectors[s..s + self.dim]
    }

    fn random_level(&mut self) -> usize {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let u = ((r >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let ml = 1.0 / (self.cfg.m as f64).ln();
        ((-u.ln() * ml) as usize).min(16)
    }

    fn neighbors(&self, id: u32, level: usize) -> &[u32] {
        if level == 0 {
            let s = id as usize * self.m0;
            &self.layer0[s..s + self.layer0_len[id as usize] as usize]
        } else {
            self.upper
                .get(id as usize)
                .and_then(|l| l.get(level - 1))
                .map_or(&[], Vec::as_slice)
        }
    }

    fn set_neighbors(&mut self, id: u32, level: usize, links: &[u32]) {
        if level == 0 {
            let s = id as usize * self.m0;
            let n = links.len().min(self.m0);
            self.layer0[s..s + n].copy_from_slice(&links[..n]);
            self.layer0_len[id as usize] = n as u16;
        } else if let Some(l) = self
            .upper
            .get_mut(id as usize)
            .and_then(|l| l.get_mut(level - 1))
        {
            l.clear();
            l.extend_from_slice(links);
        }
    }

    /// Greedy walk to the closest node on one layer.
    fn greedy(&self, vectors: &[f32], q: &[f32], mut ep: u32, level: usize) -> u32 {
        let mut best = distance(q, self.vec(vectors, ep));
        loop {
            let mut changed = false;
            for &n in self.neighbors(ep, level) {
                let d = distance(q, self.vec(vectors, n));
                if d < best {
                    best = d;
                    ep = n;
                    changed = true;
                }
            }
            if !changed {
                return ep;
            }
        }
    }

    /// The `ef` closest nodes found from `ep` on `level`, closest first.
    fn search_layer(
        &self,
        vectors: &[f32],
        q: &[f32],
        ep: u32,
        ef: usize,
        level: usize,
    ) -> Vec<Cand> {
        VISITED.with(|v| {
            let mut guard = v.borrow_mut();
            let (marks, epoch) = &mut *guard;
            if marks.len() < self.len() {
                marks.resize(self.len(), 0);
            }
            *epoch = epoch.wrapping_add(1);
            if *epoch == 0 {
                marks.iter_mut().for_each(|m| *m = 0);
                *epoch = 1;
            }
            let epoch = *epoch;
            let d0 = distance(q, self.vec(vectors, ep));
            marks[ep as usize] = epoch;
            // `candidates`: closest first (a min-heap via Reverse); `found`: farthest on top.
            let mut candidates = BinaryHeap::with_capacity(ef * 2);
            candidates.push(std::cmp::Reverse(Cand { dist: d0, id: ep }));
            let mut found = BinaryHeap::with_capacity(ef + 1);
            found.push(Cand { dist: d0, id: ep });
            while let Some(std::cmp::Reverse(c)) = candidates.pop() {
                let worst = found.peek().map_or(f32::INFINITY, |w: &Cand| w.dist);
                if c.dist > worst && found.len() >= ef {
                    break;
                }
                // The next candidate's links are likely needed next: start fetching them.
                if let Some(std::cmp::Reverse(next)) = candidates.peek()
                    && level == 0
                {
                    let s = next.id as usize * self.m0;
                    crate::simd::prefetch_u32(&self.layer0[s..s + self.m0]);
                }
                let links = self.neighbors(c.id, level);
                // Fetch the unvisited neighbours' vectors while the first distances run.
                for &n in links {
                    if marks[n as usize] != epoch {
                        crate::simd::prefetch(self.vec(vectors, n));
                    }
                }
                for &n in links {
                    let slot = &mut marks[n as usize];
                    if *slot == epoch {
                        continue;
                    }
                    *slot = epoch;
                    let d = distance(q, self.vec(vectors, n));
                    let worst = found.peek().map_or(f32::INFINITY, |w: &Cand| w.dist);
                    if found.len() < ef || d < worst {
                        candidates.push(std::cmp::Reverse(Cand { dist: d, id: n }));
                        found.push(Cand { dist: d, id: n });
                        if found.len() > ef {
                            found.pop();
                        }
                    }
                }
            }
            let mut out = found.into_vec();
            out.sort();
            out
        })
    }

    /// Keep up to `m` of `cands` (closest first), skipping any closer to an already kept one
    /// than to the base point.
    fn select(&self, vectors: &[f32], cands: &[Cand], m: usize) -> Vec<u32> {
        let mut kept: Vec<Cand> = Vec::with_capacity(m);
        for c in cands {
            if kept.len() >= m {
                break;
            }
            let cv = self.vec(vectors, c.id);
            if kept
                .iter()
                .all(|k| distance(cv, self.vec(vectors, k.id)) >= c.dist)
            {
                kept.push(*c);
            }
        }
        kept.into_iter().map(|c| c.id).collect()
    }

    /// Add node `id` (the next one: `id == len()`), whose vector is already in `vectors`.
    pub fn insert(&mut self, vectors: &[f32], id: u32) {
        debug_assert_eq!(id as usize, self.len());
        let level = self.random_level();
        self.levels.push(level as u8);
        self.layer0.extend(std::iter::repeat_n(0, self.m0));
        self.layer0_len.push(0);
        self.upper.push(vec![Vec::new(); level]);
        let Some(entry) = self.entry else {
            self.entry = Some(id);
            self.max_level = level;
            return;
        };
        let q = self.vec(vectors, id).to_vec();
        let mut ep = entry;
        for lev in (level + 1..=self.max_level).rev() {
            ep = self.greedy(vectors, &q, ep, lev);
        }
        for lev in (0..=level.min(self.max_level)).rev() {
            let found = self.search_layer(vectors, &q, ep, self.cfg.ef_construction, lev);
            let max = if lev == 0 { self.m0 } else { self.cfg.m };
            let links = self.select(vectors, &found, self.cfg.m);
            self.set_neighbors(id, lev, &links);
            for &n in &links {
                let mut theirs: Vec<u32> = self.neighbors(n, lev).to_vec();
                if theirs.len() < max {
                    theirs.push(id);
                    self.set_neighbors(n, lev, &theirs);
                } else {
                    let nv = self.vec(vectors, n);
                    let mut cands: Vec<Cand> = theirs
                        .iter()
                        .chain(std::iter::once(&id))
                        .map(|&x| Cand {
                            dist: distance(nv, self.vec(vectors, x)),
                            id: x,
                        })
                        .collect();
                    cands.sort();
                    let pruned = self.select(vectors, &cands, max);
                    self.set_neighbors(n, lev, &pruned);
                }
            }
            if let Some(first) = found.first() {
                ep = first.id;
            }
        }
        if level > self.max_level {
            self.max_level = level;
            self.entry = Some(id);
        }
    }

    /// Up to `ef` (at least `k`) nearest nodes to `q`, closest first, with cosine similarity.
    pub fn search(&self, vectors: &[f32], q: &[f32], k: usize, ef: usize) -> Vec<(u32, f32)> {
        let Some(mut ep) = self.entry else {
            return Vec::new();
        };
        for lev in (1..=self.max_level).rev() {
            ep = self.greedy(vectors, q, ep, lev);
        }
        self.search_layer(vectors, q, ep, ef.max(k), 0)
            .into_iter()
            .map(|c| (c.id, 1.0 - c.dist))
            .collect()
    }

    /// Serialise the graph (not the vectors) into `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        let put = |out: &mut Vec<u8>, v: u64| out.extend_from_slice(&v.to_le_bytes());
        put(out, self.dim as u64);
        put(out, self.cfg.m as u64);
        put(out, self.cfg.ef_construction as u64);
        put(out, self.cfg.ef_search as u64);
        put(out, self.cfg.seed);
        put(out, self.entry.map_or(u64::MAX, u64::from));
        put(out, self.max_level as u64);
        put(out, self.rng);
        put(out, self.levels.len() as u64);
        out.extend_from_slice(&self.levels);
        for (i, &n) in self.layer0_len.iter().enumerate() {
            out.extend_from_slice(&n.to_le_bytes());
            for &x in &self.layer0[i * self.m0..i * self.m0 + n as usize] {
                out.extend_from_slice(&x.to_le_bytes());
            }
            for l in &self.upper[i] {
                out.extend_from_slice(&(l.len() as u16).to_le_bytes());
                for &x in l {
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
    }

    /// Read a graph written by [`Hnsw::write`]; `None` if the bytes are malformed.
    pub fn read(bytes: &mut &[u8]) -> Option<Self> {
        fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
            if b.len() < n {
                return None;
            }
            let (h, t) = b.split_at(n);
            *b = t;
            Some(h)
        }
        let u64_ =
            |b: &mut &[u8]| take(b, 8).map(|s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])));
        let u16_ =
            |b: &mut &[u8]| take(b, 2).map(|s| u16::from_le_bytes(s.try_into().unwrap_or([0; 2])));
        let u32_ =
            |b: &mut &[u8]| take(b, 4).map(|s| u32::from_le_bytes(s.try_into().unwrap_or([0; 4])));
        let dim = u64_(bytes)? as usize;
        let cfg = HnswConfig {
            m: u64_(bytes)? as usize,
            ef_construction: u64_(bytes)? as usize,
            ef_search: u64_(bytes)? as usize,
            seed: u64_(bytes)?,
        };
        let entry = u64_(bytes)?;
        let max_level = u64_(bytes)? as usize;
        let rng = u64_(bytes)?;
        let n = u64_(bytes)? as usize;
        let mut g = Hnsw::new(dim, cfg);
        g.rng = rng;
        g.entry = (entry != u64::MAX).then_some(u32::try_from(entry).ok()?);
        g.max_level = max_level;
        g.levels = take(bytes, n)?.to_vec();
        g.layer0 = vec![0; n * g.m0];
        g.layer0_len = vec![0; n];
        g.upper = Vec::with_capacity(n);
        for i in 0..n {
            let len = u16_(bytes)? as usize;
            if len > g.m0 {
                return None;
            }
            for j in 0..len {
                let x = u32_(bytes)?;
                if x as usize >= n {
                    return None;
                }
                g.layer0[i * g.m0 + j] = x;
            }
            g.layer0_len[i] = len as u16;
            let mut ups = Vec::with_capacity(g.levels[i] as usize);
            for _ in 0..g.levels[i] {
                let len = u16_(bytes)? as usize;
                let mut l = Vec::with_capacity(len);
                for _ in 0..len {
                    let x = u32_(bytes)?;
                    if x as usize >= n {
                        return None;
                    }
                    l.push(x);
                }
                ups.push(l);
            }
            g.upper.push(ups);
        }
        Some(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::normalize;

    fn data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let centers: Vec<Vec<f32>> = (0..20)
            .map(|_| (0..dim).map(|_| rng.f32() * 2.0 - 1.0).collect())
            .collect();
        let mut out = Vec::with_capacity(n * dim);
        for i in 0..n {
            let c = &centers[i % centers.len()];
            let mut v: Vec<f32> = c.iter().map(|x| x + (rng.f32() - 0.5) * 0.8).collect();
            normalize(&mut v);
            out.extend(v);
        }
        out
    }

    fn exact(vectors: &[f32], dim: usize, q: &[f32], k: usize) -> Vec<u32> {
        let mut s: Vec<(f32, u32)> = vectors
            .chunks(dim)
            .enumerate()
            .map(|(i, v)| (dot(q, v), i as u32))
            .collect();
        s.sort_by(|a, b| b.0.total_cmp(&a.0));
        s.into_iter().take(k).map(|x| x.1).collect()
    }

    #[test]
    fn recall_is_high_on_clustered_data() {
        let (n, dim) = (3000, 32);
        let vectors = data(n, dim, 1);
        let mut g = Hnsw::new(dim, HnswConfig::default());
        for i in 0..n {
            g.insert(&vectors, i as u32);
        }
        let queries = data(100, dim, 2);
        let mut hits = 0;
        for q in queries.chunks(dim) {
            let truth = exact(&vectors, dim, q, 10);
            let got: Vec<u32> = g
                .search(&vectors, q, 10, 64)
                .into_iter()
                .take(10)
                .map(|x| x.0)
                .collect();
            hits += got.iter().filter(|x| truth.contains(x)).count();
        }
        let recall = hits as f64 / 1000.0;
        assert!(recall >= 0.95, "recall@10 {recall}");
    }

    #[test]
    fn serialisation_round_trips_and_rejects_garbage() {
        let (n, dim) = (500, 16);
        let vectors = data(n, dim, 3);
        let mut g = Hnsw::new(dim, HnswConfig::default());
        for i in 0..n {
            g.insert(&vectors, i as u32);
        }
        let mut bytes = Vec::new();
        g.write(&mut bytes);
        let back = Hnsw::read(&mut bytes.as_slice()).unwrap();
        let q = &vectors[..dim];
        assert_eq!(
            g.search(&vectors, q, 5, 32),
            back.search(&vectors, q, 5, 32)
        );
        assert!(Hnsw::read(&mut &bytes[..bytes.len() / 2]).is_none());
        assert!(Hnsw::read(&mut &b"garbage"[..]).is_none());
    }
}
