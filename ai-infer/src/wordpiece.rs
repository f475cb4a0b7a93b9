//! A fast path for BERT WordPiece tokenizers on plain text, exact to the `tokenizers` crate.
//!
//! The general tokenizer runs Unicode normalisation over the whole text, keeps alignment maps
//! for every character and allocates a string per token. For printable ASCII, common Unicode
//! spaces, dashes and curly quotes, Latin, Greek and Cyrillic letters, symbols and emoji none of
//! that is needed: the normaliser treats these one character at a time, so ASCII is lowercased
//! in place and each other character is replaced by its normalised form from a table the
//! normaliser itself fills
//! at load (`É` becomes `e` for an uncased model), with offsets mapped back to the original
//! bytes. [`FastWordPiece`] is built only from a tokenizer made of a `BertNormalizer`, the
//! `BertPreTokenizer` and a `WordPiece` model, checks itself against the general path on probe
//! texts when built, and declines (returns `None`) every text it cannot handle exactly: one with
//! any other character (CJK, other scripts, combining marks, control characters) or
//! containing one of the tokenizer's added tokens (such as `[SEP]`). Those go through the
//! `tokenizers` crate.

use rustc_hash::FxHashMap;
use tokenizers::models::ModelWrapper;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{Model, NormalizedString, Normalizer, Tokenizer};
use unicode_categories::UnicodeCategories;

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
    /// The post-processor's layout of a single text.
    single: Template,
    /// Its layout of a text pair (cross-encoders), when it has one.
    pair: Option<Template>,
    /// Added tokens, lowercased: a text containing one (in any case) takes the general path.
    added: Vec<Vec<u8>>,
    /// Whether a byte starts an added token (lowercased), to skip the search on most texts.
    added_first: [bool; 256],
    /// Non-ASCII word characters (Latin, Greek and Cyrillic letters, symbols, emoji) and what
    /// the normaliser makes of each (for an uncased model `É` becomes `e`): the normaliser works
    /// character by character on these, so a table gives its exact output.
    word_chars: FxHashMap<char, Box<[u8]>>,
}

/// The post-processor's layout of one text or a pair: special tokens and texts, with type ids.
#[derive(Debug)]
struct Template {
    segments: Vec<Segment>,
    /// Most text tokens kept over all texts (the truncation length less the special tokens).
    max_content: usize,
}

/// One part of a layout.
#[derive(Debug, Clone, Copy)]
enum Segment {
    Special {
        id: u32,
        type_id: i64,
    },
    /// The text with this sequence index (0, or 1 for the second of a pair).
    Text {
        sequence: usize,
        type_id: i64,
    },
}

impl Template {
    /// Read the layout from the post-processor's output on probe texts (`"a"`, or `"a"` and
    /// `"b"`); `None` unless it is special tokens around each text once, with one type id per
    /// text, leaving room for text within `max_length`.
    fn probe(untruncated: &Tokenizer, pair: bool, max_length: usize) -> Option<Self> {
        let full = if pair {
            untruncated.encode(("a", "b"), true)
        } else {
            untruncated.encode("a", true)
        }
        .ok()?;
        let mut contents = vec![untruncated.encode("a", false).ok()?];
        if pair {
            contents.push(untruncated.encode("b", false).ok()?);
        }
        let (ids, types, seqs) = (full.get_ids(), full.get_type_ids(), full.get_sequence_ids());
        let mut segments = Vec::new();
        let mut seen = vec![false; contents.len()];
        let mut i = 0;
        while i < ids.len() {
            let type_id = i64::from(types[i]);
            match seqs[i] {
                None => {
                    segments.push(Segment::Special {
                        id: ids[i],
                        type_id,
                    });
                    i += 1;
                }
                Some(sequence) => {
                    let content = contents.get(sequence)?.get_ids();
                    let run = ids.get(i..i + content.len())?;
                    let run_types = types.get(i..i + content.len())?;
                    if run != content || seen[sequence] || run_types.iter().any(|&t| t != types[i])
                    {
                        return None;
                    }
                    seen[sequence] = true;
                    segments.push(Segment::Text { sequence, type_id });
                    i += content.len();
                }
            }
        }
        let specials = segments
            .iter()
            .filter(|s| matches!(s, Segment::Special { .. }))
            .count();
        (seen.iter().all(|&s| s) && max_length >= specials).then(|| Self {
            segments,
            max_content: max_length - specials,
        })
    }

    /// The special tokens and the (already truncated) texts, laid out.
    fn assemble(&self, texts: &[Encoded]) -> Encoded {
        let len = texts.iter().map(Encoded::len).sum::<usize>() + self.segments.len();
        let mut out = Encoded::with_capacity(len);
        for segment in &self.segments {
            match *segment {
                Segment::Special { id, type_id } => out.push_special(id, type_id),
                Segment::Text { sequence, type_id } => {
                    out.append(&texts[sequence], type_id, sequence);
                }
            }
        }
        out
    }
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

/// The class and UTF-8 length of the ASCII byte or of the non-ASCII space or punctuation
/// character at byte `i` (a character boundary), or `None` for anything else: ASCII control
/// characters (dropped by the normaliser, which moves offsets) and non-ASCII characters other
/// than the spaces and punctuation below, none of which normalisation, accent stripping or
/// lowercasing changes (word characters are looked up by the caller).
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

/// Blocks whose characters are tabled: Latin-1 Supplement and Latin Extended-A/B, Greek,
/// Cyrillic, arrows to miscellaneous symbols and dingbats, emoji and pictographs.
const WORD_CHAR_BLOCKS: [(char, char); 5] = [
    ('\u{c0}', '\u{24f}'),
    ('\u{370}', '\u{3ff}'),
    ('\u{400}', '\u{4ff}'),
    ('\u{2190}', '\u{2bff}'),
    ('\u{1f000}', '\u{1faff}'),
];

/// Whether `c` stays inside a word through the normaliser and pre-tokenizer: not whitespace, not
/// punctuation (ASCII or Unicode P*), not a control, format, unassigned or private-use
/// character (which cleaning drops), not a CJK ideograph (which gets spaces around it) — the
/// same predicates the `tokenizers` crate applies, from the same `unicode_categories` crate.
fn stays_in_word(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_ascii_punctuation()
        || c.is_punctuation()
        || c.is_other()
        || is_cjk(c))
}

/// The ranges the `BertNormalizer` treats as Chinese characters.
fn is_cjk(c: char) -> bool {
    matches!(
        u32::from(c),
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B920..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

/// Each character of [`WORD_CHAR_BLOCKS`] that stays inside a word and whose normalised form is
/// one or more such characters, with that form (the normaliser's own output for it).
fn word_char_table(normalizer: &NormalizerWrapper) -> FxHashMap<char, Box<[u8]>> {
    let mut table = FxHashMap::default();
    for (first, last) in WORD_CHAR_BLOCKS {
        for c in (first..=last).filter(|&c| stays_in_word(c)) {
            let mut n = NormalizedString::from(c.to_string());
            if normalizer.normalize(&mut n).is_err() {
                continue;
            }
            let form = n.get();
            if !form.is_empty() && form.chars().all(stays_in_word) {
                table.insert(c, form.as_bytes().into());
            }
        }
    }
    table
}

/// Texts the fast path must reproduce exactly before it is used.
const PROBES: [&str; 17] = [
    "\u{1f513} unlocked\u{1f916}\u{1f916} \u{2620}\u{25bd} \u{2211}x \u{2768}y\u{2769}",
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
    "Caf\u{e9} na\u{ef}ve \u{c6}r\u{f8} Stra\u{df}e \u{386}\u{388} \u{3a9}mega \u{41f}\u{440}\u{438}\u{432}\u{435}\u{442} \u{439}\u{43e}\u{433}\u{443}\u{440}\u{442} \u{130}stanbul \u{17f}",
    "\u{201c}Don\u{2019}t\u{201d}\u{a0}\u{2014} she said\u{2026} \u{2018}twas\u{2010}so\u{3000}end",
];

impl FastWordPiece {
    /// Build the fast path for `tokenizer` (whose truncation is ignored) truncating to
    /// `max_length` tokens, special tokens included; `None` when the tokenizer is not plain
    /// BERT WordPiece or the fast path does not reproduce it on the probe texts.
    pub(crate) fn new(tokenizer: &Tokenizer, max_length: usize) -> Option<Self> {
        let normalizer_wrapper = tokenizer.get_normalizer()?;
        let NormalizerWrapper::BertNormalizer(normalizer) = normalizer_wrapper else {
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
        let added_tokens = tokenizer.get_added_tokens_decoder();
        let added: Vec<Vec<u8>> = added_tokens
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

        // The special tokens around a text or a pair, read from the post-processor's output.
        let mut untruncated = tokenizer.clone();
        untruncated.with_truncation(None).ok()?;
        let single = Template::probe(&untruncated, false, max_length)?;
        let pair = Template::probe(&untruncated, true, max_length);
        // Letters are normalised through the table, so added tokens matched after normalisation
        // (which the raw-text search above would miss) rule the table out.
        let word_chars = if added_tokens.values().any(|t| t.normalized) {
            FxHashMap::default()
        } else {
            word_char_table(normalizer_wrapper)
        };
        let fast = Self {
            single,
            pair,
            word_chars,
            whole,
            pieces,
            unk,
            max_word_chars: model.max_input_chars_per_word,
            lowercase: normalizer.lowercase,
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
        let texts: Vec<&str> = PROBES
            .iter()
            .copied()
            .chain(std::iter::once(long.as_str()))
            .collect();
        let pairs_agree = self.pair.is_none()
            || texts.iter().enumerate().all(|(i, a)| {
                let b = texts[(i * 7 + 3) % texts.len()];
                let Ok(general) = truncating.encode((*a, b), true) else {
                    return false;
                };
                match self.encode_pair(a, b) {
                    Some(fast) => fast == crate::tokenize::TextTokenizer::convert(&general),
                    None => !a.is_ascii() || !b.is_ascii(),
                }
            });
        pairs_agree
            && texts.iter().copied().all(|text| {
                let Ok(general) = truncating.encode(text, true) else {
                    return false;
                };
                // Non-ASCII probes may be declined (a character the normaliser changes in a way the
                // table does not take); ASCII ones must be taken.
                match self.encode(text) {
                    Some(fast) => fast == crate::tokenize::TextTokenizer::convert(&general),
                    None => !text.is_ascii(),
                }
            })
    }

    /// Tokenize one text with its special tokens, or `None` when it needs the general path.
    pub(crate) fn encode(&self, text: &str) -> Option<Encoded> {
        let content = self.content(text, self.single.max_content)?;
        Some(self.single.assemble(&[content]))
    }

    /// The text's tokens without special tokens, at most `max` of them (type ids left empty,
    /// sequence ids 0), or `None` when the text needs the general path.
    fn content(&self, text: &str, max: usize) -> Option<Encoded> {
        let bytes = text.as_bytes();
        let lower = bytes.to_ascii_lowercase();
        if self.has_added_token(&lower) {
            return None;
        }
        // On ASCII, the normaliser only lowercases (when it does).
        let words = if self.lowercase { &lower[..] } else { bytes };
        let mut out = Encoded::with_capacity((bytes.len() / 4 + 1).min(max));
        let limit = max;
        let mut i = 0;
        while i < bytes.len() {
            let (class, len) = match class_at(text, i) {
                Some(found) => found,
                None => (Class::Word, self.word_char_at(text, i)?.0),
            };
            let (end, ascii) = match class {
                Class::Space => {
                    i += len;
                    continue;
                }
                Class::Punct => (i + len, true),
                Class::Word => {
                    let (mut e, mut ascii) = (i + len, len == 1);
                    while e < bytes.len() {
                        if word_byte(bytes[e]) {
                            e += 1;
                        } else if let Some((l, _)) = self.word_char_at(text, e) {
                            e += l;
                            ascii = false;
                        } else {
                            break;
                        }
                    }
                    (e, ascii)
                }
            };
            // Past the truncation length the rest is only checked (a character the fast path
            // does not know sends the whole text to the general path).
            if out.ids.len() < limit {
                if ascii {
                    let w = &words[i..end];
                    self.word(w, w.len(), (i, end), |a, b| (i + a, i + b), &mut out);
                } else {
                    self.mapped_word(text, i, end, words, &mut out);
                }
            }
            i = end;
        }
        out.truncate(limit);
        Some(out)
    }

    /// Tokenize a text pair with the pair template's special tokens and type ids, truncating
    /// the longer text first as the `tokenizers` crate's `LongestFirst` strategy does, or `None`
    /// when either text needs the general path.
    pub(crate) fn encode_pair(&self, a: &str, b: &str) -> Option<Encoded> {
        let pair = self.pair.as_ref()?;
        let mut first = self.content(a, usize::MAX)?;
        let mut second = self.content(b, usize::MAX)?;
        let (n1, n2) = longest_first(first.len(), second.len(), pair.max_content);
        first.truncate(n1);
        second.truncate(n2);
        Some(pair.assemble(&[first, second]))
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

    /// The byte length and normalised form of the tabled word character at byte `i`, if any.
    fn word_char_at(&self, text: &str, i: usize) -> Option<(usize, &[u8])> {
        if self.word_chars.is_empty() || text.as_bytes().get(i).is_none_or(|b| b.is_ascii()) {
            return None;
        }
        let c = text.get(i..)?.chars().next()?;
        self.word_chars
            .get(&c)
            .map(|form| (c.len_utf8(), &form[..]))
    }

    /// A word with tabled characters in `text[start..end]`: normalised into a buffer that keeps,
    /// for each byte, the original character it came from, then WordPiece with offsets mapped
    /// back through it.
    fn mapped_word(&self, text: &str, start: usize, end: usize, words: &[u8], out: &mut Encoded) {
        let mut norm = Vec::with_capacity(end - start + 8);
        let mut from = Vec::with_capacity(end - start + 8);
        let mut chars = 0;
        let mut i = start;
        while i < end {
            if let Some((len, form)) = self.word_char_at(text, i) {
                norm.extend_from_slice(form);
                from.extend(std::iter::repeat_n((i, i + len), form.len()));
                chars += form.iter().filter(|&&b| b & 0xc0 != 0x80).count();
                i += len;
            } else {
                norm.push(words[i]);
                from.push((i, i + 1));
                chars += 1;
                i += 1;
            }
        }
        self.word(
            &norm,
            chars,
            (start, end),
            |a, b| (from[a].0, from[b - 1].1),
            out,
        );
    }

    /// WordPiece on one normalised word `w` of `chars` characters spanning `span` of the text
    /// (`at` maps a byte range of `w` to one of the text): greedy longest match from the left;
    /// a word with an unmatched remainder, or longer than the model allows, is one unknown
    /// token.
    fn word(
        &self,
        w: &[u8],
        chars: usize,
        span: (usize, usize),
        at: impl Fn(usize, usize) -> (usize, usize),
        out: &mut Encoded,
    ) {
        if chars > self.max_word_chars {
            out.push_text(i64::from(self.unk), span);
            return;
        }
        let first = out.ids.len();
        let mut from = 0;
        while from < w.len() {
            let table = if from == 0 { &self.whole } else { &self.pieces };
            // Slices ending inside a multi-byte character are not valid UTF-8 and match no
            // vocabulary entry, so stepping back a byte at a time is stepping back a character.
            let found = (from + 1..=w.len())
                .rev()
                .find_map(|to| table.get(&w[from..to]).map(|&id| (to, id)));
            let Some((to, id)) = found else {
                out.truncate(first);
                out.push_text(i64::from(self.unk), span);
                return;
            };
            out.push_text(i64::from(id), at(from, to));
            from = to;
        }
    }
}

impl Encoded {
    fn with_capacity(n: usize) -> Self {
        Self {
            ids: Vec::with_capacity(n),
            type_ids: Vec::with_capacity(n),
            offsets: Vec::with_capacity(n),
            special: Vec::with_capacity(n),
            sequence: Vec::with_capacity(n),
        }
    }

    fn push_special(&mut self, id: u32, type_id: i64) {
        self.ids.push(i64::from(id));
        self.type_ids.push(type_id);
        self.offsets.push((0, 0));
        self.special.push(true);
        self.sequence.push(None);
    }

    /// Text tokens (type ids are set by [`Encoded::append`]).
    fn push_text(&mut self, id: i64, offsets: (usize, usize)) {
        self.ids.push(id);
        self.offsets.push(offsets);
        self.special.push(false);
        self.sequence.push(Some(0));
    }

    /// Append `content`'s tokens as sequence `sequence` with `type_id`.
    fn append(&mut self, content: &Encoded, type_id: i64, sequence: usize) {
        self.ids.extend_from_slice(&content.ids);
        self.type_ids
            .extend(std::iter::repeat_n(type_id, content.len()));
        self.offsets.extend_from_slice(&content.offsets);
        self.special.extend_from_slice(&content.special);
        self.sequence
            .extend(std::iter::repeat_n(Some(sequence), content.len()));
    }

    fn truncate(&mut self, n: usize) {
        self.ids.truncate(n);
        self.type_ids.truncate(n);
        self.offsets.truncate(n);
        self.special.truncate(n);
        self.sequence.truncate(n);
    }
}

/// Lengths to cut a pair of `n1` and `n2` tokens to so at most `max` remain, computed as the
/// `tokenizers` crate's `LongestFirst` truncation does: only the longer text is cut if that is
/// enough, else each keeps half (the longer one the odd token). Cutting to more than a text has
/// leaves it whole.
fn longest_first(n1: usize, n2: usize, max: usize) -> (usize, usize) {
    if n1 + n2 <= max {
        return (n1, n2);
    }
    let short = n1.min(n2);
    let (mut cut_short, mut cut_long) = if short > max {
        (short, short)
    } else {
        (short, short.max(max - short))
    };
    if cut_short + cut_long > max {
        cut_short = max / 2;
        cut_long = cut_short + max % 2;
    }
    if n1 > n2 {
        (cut_long, cut_short)
    } else {
        (cut_short, cut_long)
    }
}
