//! Running encoder (BERT-shaped) models on padded batches, shared by embeddings, reranking and
//! classification.

use std::borrow::Cow;

use ai_core::Result;

use crate::session::{F32Output, I64Input, OnnxSession};
use crate::tokenize::{Encoded, pad_batch};

/// An encoder graph with `input_ids`, `attention_mask` and optionally `token_type_ids`.
#[derive(Debug)]
pub(crate) struct Encoder {
    pub session: OnnxSession,
    pub output: String,
    pub uses_type_ids: bool,
}

impl Encoder {
    /// Check the graph's inputs and pick the output of `rank`.
    pub fn new(session: OnnxSession, output: Option<&str>, rank: usize) -> Result<Self> {
        session.require_inputs(&["input_ids", "attention_mask"])?;
        let uses_type_ids = session.has_input("token_type_ids");
        let extra: Vec<&String> = session
            .inputs()
            .iter()
            .filter(|i| {
                !matches!(
                    i.as_str(),
                    "input_ids" | "attention_mask" | "token_type_ids"
                )
            })
            .collect();
        if !extra.is_empty() {
            return Err(ai_core::AiError::config(format!(
                "encoder models take input_ids, attention_mask and token_type_ids; this one also needs {extra:?}"
            )));
        }
        let output = session.pick_output(output, rank)?;
        Ok(Self {
            session,
            output,
            uses_type_ids,
        })
    }

    /// Run one padded batch; returns the output and the padded width.
    pub fn run(&self, batch: &[&Encoded]) -> Result<(F32Output, Vec<i64>, usize)> {
        let (width, ids, mask, types) = pad_batch(batch);
        let shape = vec![batch.len(), width];
        let mut inputs = vec![
            I64Input {
                name: Cow::Borrowed("input_ids"),
                shape: shape.clone(),
                data: ids,
            },
            I64Input {
                name: Cow::Borrowed("attention_mask"),
                shape: shape.clone(),
                data: mask.clone(),
            },
        ];
        if self.uses_type_ids {
            inputs.push(I64Input {
                name: Cow::Borrowed("token_type_ids"),
                shape,
                data: types,
            });
        }
        let mut out = self.session.run_i64(inputs, &[self.output.as_str()])?;
        let first = out
            .pop()
            .ok_or_else(|| ai_core::AiError::config("the model returned no output"))?;
        Ok((first, mask, width))
    }
}

/// Indices of `lens` sorted by length, longest first, so each batch pads to similar lengths.
pub(crate) fn by_length(lens: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut order: Vec<(usize, usize)> = lens.enumerate().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    order.into_iter().map(|(i, _)| i).collect()
}
