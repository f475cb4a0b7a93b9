//! A fast path for BERT WordPiece tokenizers on plain text, exact to the `tokenizers` crate.
//!
//! The general tokenizer runs Unicode normalisation, keeps alignment maps for every character and
//! allocates a string per token; for printable ASCII text (plus common Unicode spaces, dashes and
//! curly quotes) none of that changes the result. [`FastWordPiece`] is built only from a
//! tokenizer made of a `BertNormalizer`, the `BertPreTokenizer` and a `WordPiece` model, checks
//! itself against the general path on probe texts when built, and declines (returns `None`) every
//! text it cannot handle exactly: one with any other character (accented letters, other scripts,
//! emoji, control characters) or containing one of the tokenizer's added tokens (such as
//! `[SEP]`). Those go through the `tokenizers` crate.

use rustc_hash::FxHashMap;
use tokenizers::models::ModelWrapper;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{Model, Tokenizer};

use crate::tokenize::Encoded;

/// WordPiece over ASCII, with the special tokens the tokenizer's post-processor adds.
#[derive(Debug)]
pub(crate) struct FastWordPiece {
    /// Vocabulary entries matched at the start of a word.
    whole: FxHashMap<Box<[u8]>, u32>,
    /// Entries matched inside a word, without their continuing-subword prefix.
    pieces: FxHashMap<Box<[u8]>, u32>,
    unk: u32,
    max_word_chars: usize,
    lowercase: bool,
    /// Special tokens before and after the text.
    prefix: Vec<u32>,
    suffix: Vec<u32>,
    /// Most text tokens kept (the truncation length less the special tokens).
    max_content: usize,
    /// Added tokens, lowercased: a text containing one (in any case) takes the general path.
    added: Vec<Vec<u8>>,
    /// Whether a byte starts an added token (lowercased), to skip the search on most texts.
    added_first: [bool; 256],
}

/// What the normaliser and pre-tokenizer make of a character the fast path handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Whitespace: separates words and is dropped.
    Space,
    /// Punctuation: a word of its own.
    Punct,
    /// Part of a word (ASCII letters, digits).
    Word,
}

/// Whether an ASCII byte continues a word.
fn word_byte(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && !b.is_ascii_punctuation()
}

/// The class and UTF-8 length of the character at byte `i` (a character boundary), or `None`
/// for characters the fast path leaves to the general one: ASCII control characters (dropped by
/// the normaliser, which moves offsets) and every other non-ASCII character than the spaces and
/// punctuation below, none of which Unicode normalisation, accent stripping or lowercasing
/// changes.
fn class_at(text: &str, i: usize) -> Option<(Class, usize)> {
    let b = *text.as_bytes().get(i)?;
    if b < 0x80 {
        return match b {
            b' ' | b'\t' | b'\n' | b'\r' => Some((Class::Space, 1)),
            0x21..=0x7e if b.is_ascii_punctuation() => Some((Class::Punct, 1)),
            0x21..=0x7e => Some((Class::Word, 1)),
            _ => None,
        };
    }
    let c = text.get(i..)?.chars().next()?;
    let class = match c {
        // No-break, en/em and other fixed-width spaces, narrow no-break, medium mathematical
        // and ideographic spaces (Unicode White_Space).
        '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}' => Class::Space,
        // Hyphens and dashes, curly quotes, daggers, bullet, ellipsis (General Punctuation,
        // categories Pd, Pi, Pf, Ps, Po).
        '\u{2010}'..='\u{2027}' => Class::Punct,
        _ => return None,
    };
    Some((class, c.len_utf8()))
}

/// Texts the fast path must reproduce exactly before it is used.
const PROBES: [&str; 15] = [
    "",
    "a",
    "Hello, World!",
    "The quick brown fox's 3.14 jumps... over [the] lazy dog?!",
    "tab\tseparated\nlines\r\nand   spaces  ",
    "unaffable xqzjvkw supercalifragilisticexpialidocious",
    "don't stop-believing #hashtag @user email@example.com",
    "(1+2)*3=9; a_b|c~d`e^f{g}h<i>j\\k/l\"m",
    "UPPER lower MiXeD",
    "   ",
    "!!!",
    "0123456789 1,000,000 $5.99 100%",
    "pneumonoultramicroscopicsilicovolcanoconiosispneumonoultramicroscopicsilicovolcanoconiosispneumonoultramicroscopic",
    "embedding tokenization quantization",
    "\u{201c}Don\u{2019}t\u{201d}\u{a0}\u{2014} she said\u{2026} \u{2018}twas\u{2010}so\u{3000}end",
];

impl FastWordPiece {
    /// Build the fast path for `tokenizer` (whose truncation is ignored) truncating to
    /// `max_length` tokens, special tokens included; `None` when the tokenizer is not plain
    /// BERT WordPiece or the fast path does not reproduce it on the probe texts.
    pub(crate) fn new(tokenizer: &Tokenizer, max_length: usize) -> Option<Self> {
        let NormalizerWrapper::BertNormalizer(normalizer) = tokenizer.get_normalizer()? else {
            return None;
        };
        if !matches!(
            tokenizer.get_pre_tokenizer()?,
            PreTokenizerWrapper::BertPreTokenizer(_)
        ) {
            return None;
        }
        let ModelWrapper::WordPiece(model) = tokenizer.get_model() else {
            return None;
        };
        let vocab = model.get_vocab();
        let unk = *vocab.get(&model.unk_token)?;
        let prefix_str = model.continuing_subword_prefix.as_bytes();
        let mut whole = FxHashMap::default();
        let mut pieces = FxHashMap::default();
        for (token, id) in &vocab {
            let bytes = token.as_bytes();
            whole.insert(bytes.into(), *id);
            if let Some(rest) = bytes.strip_prefix(prefix_str) {
                pieces.insert(rest.into(), *id);
            }
        }
        let added: Vec<Vec<u8>> = tokenizer
            .get_added_tokens_decoder()
            .values()
            .map(|t| t.content.to_ascii_lowercase().into_bytes())
            .filter(|c| !c.is_empty())
            .collect();
        // Added tokens are looked for in the raw text, case-insensitively; one with characters
        // that normalisation could produce from others (spaces, non-ASCII) could match where
        // that search does not, so such tokenizers keep the general path.
        if added
            .iter()
            .any(|a| a.iter().any(|b| !matches!(b, 0x21..=0x7e)))
        {
            return None;
        }
        let mut added_first = [false; 256];
        for a in &added {
            added_first[usize::from(a[0])] = true;
        }

        // The special tokens around a text, read from the post-processor's output on a probe.
        let mut untruncated = tokenizer.clone();
        untruncated.with_truncation(None).ok()?;
        let probe = "a";
        let content = untruncated.encode(probe, false).ok()?;
        let full = untruncated.encode(probe, true).ok()?;
        if full.get_type_ids().iter().any(|&t| t != 0) {
            return None;
        }
        let (ids, inner) = (full.get_ids(), content.get_ids());
        let at = (0..=ids.len().checked_sub(inner.len())?)
            .find(|&i| ids[i..i + inner.len()] == *inner)?;
        let prefix = ids[..at].to_vec();
        let suffix = ids[at + inner.len()..].to_vec();
        let specials = prefix.len() + suffix.len();
        if max_length < specials {
            return None;
        }
        let fast = Self {
            whole,
            pieces,
            unk,
            max_word_chars: model.max_input_chars_per_word,
            lowercase: normalizer.lowercase,
            prefix,
            suffix,
            max_content: max_length - specials,
            added,
            added_first,
        };
        fast.agrees(tokenizer, max_length).then_some(fast)
    }

    /// Whether the fast path gives what `tokenizer` (truncating to `max_length`) gives on the
    /// probe texts, and on the probes repeated past the truncation length.
    fn agrees(&self, tokenizer: &Tokenizer, max_length: usize) -> bool {
        let mut truncating = tokenizer.clone();
        let params = tokenizers::TruncationParams {
            max_length,
            ..Default::default()
        };
        if truncating.with_truncation(Some(params)).is_err() {
            return false;
        }
        let long = PROBES.join(" ").repeat(max_length / 64 + 2);
        PROBES
            .iter()
            .copied()
            .chain(std::iter::once(long.as_str()))
            .all(|text| {
                let Ok(general) = truncating.encode(text, true) else {
                    return false;
                };
                self.encode(text)
                    .is_some_and(|fast| fast == crate::tokenize::TextTokenizer::convert(&general))
            })
    }

    /// Tokenize one text with its special tokens, or `None` when it needs the general path.
    pub(crate) fn encode(&self, text: &str) -> Option<Encoded> {
        let bytes = text.as_bytes();
        let lower = bytes.to_ascii_lowercase();
        if self.has_added_token(&lower) {
            return None;
        }
        // Words are ASCII (other characters are only taken as spaces or punctuation), so ASCII
        // lowercasing is the normaliser's lowercasing on them.
        let words = if self.lowercase { &lower[..] } else { bytes };
        let specials = self.prefix.len() + self.suffix.len();
        let estimate = (bytes.len() / 4 + specials + 1).min(self.max_content + specials);
        let mut out = Encoded {
            ids: Vec::with_capacity(estimate),
            type_ids: Vec::new(),
            offsets: Vec::with_capacity(estimate),
            special: Vec::with_capacity(estimate),
            sequence: Vec::with_capacity(estimate),
        };
        for &id in &self.prefix {
            out.push_special(id);
        }
        let limit = out.ids.len() + self.max_content;
        let mut i = 0;
        while i < bytes.len() {
            let (class, len) = class_at(text, i)?;
            let end = match class {
                Class::Space => {
                    i += len;
                    continue;
                }
                Class::Punct => i + len,
                Class::Word => {
                    let mut e = i + 1;
                    while e < bytes.len() && word_byte(bytes[e]) {
                        e += 1;
                    }
                    e
                }
            };
            // Past the truncation length the rest is only checked (a character the fast path
            // does not know sends the whole text to the general path).
            if out.ids.len() < limit {
                self.word(&words[i..end], i, &mut out);
            }
            i = end;
        }
        out.ids.truncate(limit);
        out.offsets.truncate(limit);
        out.special.truncate(limit);
        out.sequence.truncate(limit);
        for &id in &self.suffix {
            out.push_special(id);
        }
        out.type_ids = vec![0; out.ids.len()];
        Some(out)
    }

    /// Whether `lower` (a lowercased text) contains an added token.
    fn has_added_token(&self, lower: &[u8]) -> bool {
        if !lower.iter().any(|&b| self.added_first[usize::from(b)]) {
            return false;
        }
        self.added
            .iter()
            .any(|a| lower.windows(a.len()).any(|w| w == a.as_slice()))
    }

    /// WordPiece on one word (`start` is its byte offset in the text): greedy longest match
    /// from the left; a word with an unmatched remainder, or longer than the model allows, is
    /// one unknown token.
    fn word(&self, w: &[u8], start: usize, out: &mut Encoded) {
        if w.len() > self.max_word_chars {
            out.push_text(i64::from(self.unk), (start, start + w.len()));
            return;
        }
        let first = out.ids.len();
        let mut from = 0;
        while from < w.len() {
            let table = if from == 0 { &self.whole } else { &self.pieces };
            let found = (from + 1..=w.len())
                .rev()
                .find_map(|to| table.get(&w[from..to]).map(|&id| (to, id)));
            let Some((to, id)) = found else {
                out.ids.truncate(first);
                out.offsets.truncate(first);
                out.special.truncate(first);
                out.sequence.truncate(first);
                out.push_text(i64::from(self.unk), (start, start + w.len()));
                return;
            };
            out.push_text(i64::from(id), (start + from, start + to));
            from = to;
        }
    }
}

impl Encoded {
    fn push_special(&mut self, id: u32) {
        self.ids.push(i64::from(id));
        self.offsets.push((0, 0));
        self.special.push(true);
        self.sequence.push(None);
    }

    fn push_text(&mut self, id: i64, offsets: (usize, usize)) {
        self.ids.push(id);
        self.offsets.push(offsets);
        self.special.push(false);
        self.sequence.push(Some(0));
    }
}
