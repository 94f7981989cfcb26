//! Sequences of different lengths in one batch: which outputs the loss reads, and the
//! check of the lengths a workspace holds against the batch.

use nn_math::Real;

use crate::{CoreError, Loss, Network};

impl<T: Real> Network<T> {
    /// The network's outputs for a batch of sequences of different lengths (example `b`
    /// has `lengths[b]` valid steps, padded at the end): [`Network::evaluate`] with
    /// [`Workspace::set_lengths`](crate::Workspace::set_lengths).
    ///
    /// # Errors
    /// As [`Network::evaluate`]; a length of 0 or beyond a recurrent layer's steps, or a
    /// count that is not the batch's.
    pub fn evaluate_sequences(
        &self,
        input: &nn_math::Matrix<T>,
        lengths: &[usize],
    ) -> Result<nn_math::Matrix<T>, CoreError> {
        let mut ws = self.workspace();
        ws.set_lengths(lengths)?;
        Ok(self.evaluate_with(input, &mut ws)?.clone_owned())
    }

    /// How many of an example's `n_L` outputs its loss reads: all of them, unless the
    /// output is a sequence of `T` steps ([`Layer::output_steps`](crate::Layer::output_steps))
    /// and the example has `length` valid steps, then the first `min(length, T)` steps'
    /// blocks of `n_L/T` values (guide §13, "Sequences of different lengths").
    pub fn scored_outputs(&self, length: Option<usize>) -> usize {
        let n = self.n_outputs();
        let steps = self.layers().last().and_then(|l| l.output_steps());
        match (length, steps) {
            (Some(len), Some(t)) if t > 0 => len.min(t) * (n / t),
            _ => n,
        }
    }

    /// The loss of one example from its outputs and target (each `n_L` values), reading
    /// only its [`scored_outputs`](Network::scored_outputs): what a batch with lengths
    /// averages.
    pub fn example_loss<L: Loss<T> + ?Sized>(
        &self,
        output: &[T],
        target: &[T],
        length: Option<usize>,
        loss: &L,
    ) -> T {
        let n = self
            .scored_outputs(length)
            .min(output.len())
            .min(target.len());
        loss.loss(&output[..n], &target[..n])
    }
}

/// The loss of one example and `∂C/∂a` written into `grad`: the loss's on the scored
/// outputs, 0 for the padded steps' outputs.
pub(crate) fn example_loss_and_gradient<T: Real, L: Loss<T> + ?Sized>(
    net: &Network<T>,
    (output, target, grad): (&[T], &[T], &mut [T]),
    length: Option<usize>,
    loss: &L,
) -> T {
    let n = net.scored_outputs(length).min(grad.len());
    grad[n..].fill(T::zero());
    loss.loss_and_gradient(&output[..n], &target[..n], &mut grad[..n])
}

/// The workspace's lengths for a batch of `batch` examples: none (empty), or one per
/// example.
pub(crate) fn batch_lengths(lengths: &[usize], batch: usize) -> Result<&[usize], CoreError> {
    if lengths.is_empty() || lengths.len() == batch {
        return Ok(lengths);
    }
    Err(crate::error::shape_err(
        "evaluate",
        "the workspace's lengths",
        "entries (one per example)",
        batch,
        lengths.len(),
    ))
}
