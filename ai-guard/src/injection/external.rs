//! A second classifier supplied by the caller (for example a fine-tuned transformer), added to
//! the scorer as one more signal.

/// A model that gives the probability that a text is a prompt injection.
pub trait AttackClassifier: Send + Sync {
    /// Probability from 0 to 1. Runs on the calling thread (the guard layer calls it from
    /// async code, so keep it to a few milliseconds or batch elsewhere).
    ///
    /// # Errors
    /// When the model cannot run; the scorer then fails too (see
    /// [`InjectionScorer::try_score`](super::InjectionScorer::try_score)).
    fn attack_probability(&self, text: &str) -> ai_core::Result<f32>;
}

/// A sequence-classification model through `ai-infer` (feature `transformer`): the
/// probability of the attack labels (softmax over the model's labels, summed over those
/// named as attacks).
#[cfg(feature = "transformer")]
pub struct OnnxAttackClassifier {
    model: std::sync::Arc<ai_infer::SequenceClassifier>,
    attack: Vec<usize>,
}

#[cfg(feature = "transformer")]
impl std::fmt::Debug for OnnxAttackClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxAttackClassifier")
            .field("attack_labels", &self.attack)
            .finish()
    }
}

#[cfg(feature = "transformer")]
impl OnnxAttackClassifier {
    /// Wrap `model`; `attack_labels` are the label names that mean "attack" (for example
    /// `["INJECTION"]` or `["injection", "jailbreak"]`).
    ///
    /// # Errors
    /// `Config` when a name is not one of the model's labels.
    pub fn new(
        model: std::sync::Arc<ai_infer::SequenceClassifier>,
        attack_labels: &[&str],
    ) -> ai_core::Result<Self> {
        let mut attack = Vec::new();
        for name in attack_labels {
            let i = model
                .labels()
                .iter()
                .position(|l| l == name)
                .ok_or_else(|| {
                    ai_core::AiError::config(format!(
                        "`{name}` is not a label of the model (labels: {:?})",
                        model.labels()
                    ))
                })?;
            attack.push(i);
        }
        Ok(Self { model, attack })
    }
}

#[cfg(feature = "transformer")]
impl AttackClassifier for OnnxAttackClassifier {
    fn attack_probability(&self, text: &str) -> ai_core::Result<f32> {
        let logits = self.model.logits_blocking(&[text.to_owned()])?;
        let Some(l) = logits.first() else {
            return Ok(0.0);
        };
        let max = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = l.iter().map(|x| (x - max).exp()).collect();
        let total: f32 = exp.iter().sum();
        Ok(self.attack.iter().filter_map(|&i| exp.get(i)).sum::<f32>()
            / total.max(f32::MIN_POSITIVE))
    }
}
