//! # ai-guard
//!
//! Guards around AI calls, usable alone or as a layer over any `ai-core`
//! [`ChatModel`](ai_core::ChatModel):
//!
//! - [`pii`]: recognizers with validators (e-mail, phone, payment card, US SSN, IBAN, IP; custom
//!   patterns; a token-classification model through `ai-infer` with feature `ner`).
pub mod injection;
pub mod layer;
pub mod output;
pub mod pii;
pub mod policy;
pub mod redact;

pub use layer::{GuardLayer, GuardMode};
