//! A small trained classifier: hashed byte 4-grams and word unigrams and bigrams of the
//! normalised text, plus one feature per hand-written rule that fired, logistic regression
//! (so the rules' weights are learned in context instead of set by hand). The weights ship with the crate
//! (`data/injection-lr.bin`), built by `examples/train_injection.rs` (see
//! `docs/guards.md` for the recipe).

/// Hashed feature indices of normalised `text` for `bits`-bit tables, each once (presence,
/// not counts), in order of first occurrence.
pub fn features(text: &str, bits: u32) -> Vec<u32> {
    let mask = (1u32 << bits) - 1;
    let mut out = Vec::with_capacity(text.len() + 16);
    let b = text.as_bytes();
    // Byte 4-grams of " text ": multiply-shift hashing of the 32-bit window.
    let mut padded = Vec::with_capacity(b.len() + 2);
    padded.push(b' ');
    padded.extend_from_slice(b);
    padded.push(b' ');
    for w in padded.windows(4) {
        let v = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        out.push((v.wrapping_mul(0x9E37_79B1) >> 7) & mask);
    }
    // Words and word pairs: FNV-1a with a salt per feature family.
    let mut prev: Option<&str> = None;
    for word in text
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
    {
        out.push(fnv(&[b"w", word.as_bytes()]) & mask);
        if let Some(p) = prev {
            out.push(fnv(&[b"b", p.as_bytes(), b" ", word.as_bytes()]) & mask);
        }
        prev = Some(word);
    }
    dedup(out, bits)
}

thread_local! {
    static SEEN: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Keep the first occurrence of each index, in linear time with a bitset reused per thread.
fn dedup(mut v: Vec<u32>, bits: u32) -> Vec<u32> {
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        let words = (1usize << bits).div_ceil(64);
        if seen.len() < words {
            seen.resize(words, 0);
        }
        v.retain(|&i| {
            let (w, b) = ((i / 64) as usize, 1u64 << (i % 64));
            let fresh = seen[w] & b == 0;
            seen[w] |= b;
            fresh
        });
        for &i in &v {
            seen[(i / 64) as usize] = 0;
        }
    });
    v
}

fn fnv(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for p in parts {
        for &c in *p {
            h ^= u32::from(c);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

/// The feature index of a rule.
pub fn rule_feature(name: &str, bits: u32) -> u32 {
    fnv(&[b"r", name.as_bytes()]) & ((1u32 << bits) - 1)
}

/// Features of one text: n-gram indices (scaled by 1/√n) and rule indices (value 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// From [`features`].
    pub ngrams: Vec<u32>,
    /// From [`rule_feature`].
    pub rules: Vec<u32>,
}

impl Features {
    /// The features of normalised `text` whose rules `rules` fired.
    pub fn of(text: &str, rules: &[&str], bits: u32) -> Self {
        Self {
            ngrams: features(text, bits),
            rules: rules.iter().map(|r| rule_feature(r, bits)).collect(),
        }
    }
}

/// Logistic regression over [`Features`].
#[derive(Clone)]
pub struct LinearModel {
    bits: u32,
    bias: f32,
    weights: Vec<f32>,
    /// The decision threshold chosen when the model was built.
    pub threshold: f32,
}

impl std::fmt::Debug for LinearModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinearModel")
            .field("bits", &self.bits)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

const MAGIC: &[u8; 8] = b"AIGLR01\0";

impl LinearModel {
    /// A model with all-zero weights (for training).
    pub fn zeros(bits: u32) -> Self {
        Self {
            bits,
            bias: 0.0,
            weights: vec![0.0; 1 << bits],
            threshold: 0.5,
        }
    }

    /// The model shipped with the crate.
    pub fn bundled() -> Option<Self> {
        Self::from_bytes(include_bytes!("../../data/injection-lr.bin"))
    }

    /// Feature table size in bits.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Probability for the features of a text.
    pub fn score_features(&self, f: &Features) -> f32 {
        sigmoid(self.logit(f))
    }

    fn scale(f: &Features) -> f32 {
        if f.ngrams.is_empty() {
            0.0
        } else {
            1.0 / (f.ngrams.len() as f32).sqrt()
        }
    }

    fn logit(&self, f: &Features) -> f32 {
        let w = |i: &u32| self.weights.get(*i as usize).copied().unwrap_or(0.0);
        let ngrams: f32 = f.ngrams.iter().map(w).sum();
        let rules: f32 = f.rules.iter().map(w).sum();
        self.bias + ngrams * Self::scale(f) + rules
    }

    /// One AdaGrad step of logistic loss with L2 on `(features, label)`; `g2` holds the
    /// squared-gradient sums (same length as the weights, plus one for the bias).
    pub fn train_step(&mut self, f: &Features, label: f32, lr: f32, l2: f32, g2: &mut [f32]) {
        let p = sigmoid(self.logit(f));
        let err = p - label;
        let scale = Self::scale(f);
        let values = f
            .ngrams
            .iter()
            .map(|&i| (i, scale))
            .chain(f.rules.iter().map(|&i| (i, 1.0)));
        for (i, x) in values {
            let i = i as usize;
            let g = err * x + l2 * self.weights[i];
            g2[i] += g * g;
            self.weights[i] -= lr * g / (g2[i].sqrt() + 1e-8);
        }
        let last = g2.len() - 1;
        g2[last] += err * err;
        self.bias -= lr * err / (g2[last].sqrt() + 1e-8);
    }

    /// Serialise: magic, bits, bias, threshold, weight scale, then the weights as `i16`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let max = self
            .weights
            .iter()
            .fold(0f32, |m, w| m.max(w.abs()))
            .max(1e-12);
        let scale = max / f32::from(i16::MAX);
        let mut out = Vec::with_capacity(24 + self.weights.len() * 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.extend_from_slice(&self.bias.to_le_bytes());
        out.extend_from_slice(&self.threshold.to_le_bytes());
        out.extend_from_slice(&scale.to_le_bytes());
        for w in &self.weights {
            out.extend_from_slice(&((w / scale).round() as i16).to_le_bytes());
        }
        out
    }

    /// Read [`LinearModel::to_bytes`]; `None` when the bytes are not a model.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < 24 || &b[..8] != MAGIC {
            return None;
        }
        let f32_at = |i: usize| {
            b.get(i..i + 4)
                .and_then(|s| s.try_into().ok())
                .map(f32::from_le_bytes)
        };
        let bits = u32::from_le_bytes(b.get(8..12)?.try_into().ok()?);
        if !(8..=24).contains(&bits) {
            return None;
        }
        let (bias, threshold, scale) = (f32_at(12)?, f32_at(16)?, f32_at(20)?);
        let body = b.get(24..)?;
        if body.len() != (1usize << bits) * 2 {
            return None;
        }
        let weights = body
            .chunks_exact(2)
            .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) * scale)
            .collect();
        Some(Self {
            bits,
            bias,
            weights,
            threshold,
        })
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
