//! # ai-guard
//!
//! **Not implemented yet.** This crate is a placeholder that keeps the workspace's crate map
//! stable; it exports nothing. Planned scope: PII detection with redaction and exact restore, prompt-injection scoring and classification, output checks, role-based access policy, and a guard layer for any ChatModel.
