//! The public backward passes: the notes' AdjustGradient (Algorithm 7/8, with the sign
//! of errata 2 and the batch mean of errata 5), the fused descent, and ApplyGradient
//! (Algorithm 9/10), with their checks; the pass itself is `backprop.rs`.

use nn_math::Real;
use nn_math::nalgebra::{Dyn, RawStorage};

use crate::error::shape_err;

use super::ahead::Ahead;
use super::backprop::backward;
use super::next_product::NextJob;
use super::sink::{Accumulate, Descend};
use crate::{CoreError, Gradient, Loss, Network, Workspace};

impl<T: Real> Network<T> {
    /// Backpropagates the error of the batch stored in `ws` by the last
    /// [`evaluate_with`](Network::evaluate_with) (or
    /// [`evaluate_with_dropout`](Network::evaluate_with_dropout),
    /// [`evaluate_columns`](Network::evaluate_columns)) and **adds** the batch's mean
    /// gradient to `grad` (Algorithm 7/8). Returns the batch's mean loss. With a
    /// [`Workspace::with_threads`], the threads share the work as described there.
    ///
    /// With `C` the loss of one example and `B` the batch size:
    ///
    /// - output layer: `D⁽ᴸ⁾ = ∂C/∂a⁽ᴸ⁾ ⊙ f⁽ᴸ⁾'(S⁽ᴸ⁾)`; for the half squared error (eq. 5)
    ///   `∂C/∂a⁽ᴸ⁾ = a⁽ᴸ⁾ − y`, so `D⁽ᴸ⁾ = (A⁽ᴸ⁾ − Y) ⊙ f'(S⁽ᴸ⁾)`. **Errata 2:** the notes
    ///   print `(y − a)`, which with `W ← W − α·∇C` climbs the error; this is the sign
    ///   that descends.
    /// - hidden layers, `k = L−1..1`: `D⁽ᵏ⁾ = (W⁽ᵏ⁺¹⁾ᵀ·D⁽ᵏ⁺¹⁾) ⊙ f⁽ᵏ⁾'(S⁽ᵏ⁾)`, times the
    ///   dropout mask `r⁽ᵏ⁾` if the pass dropped (Algorithm 18/19), using the weights as
    ///   they were in the forward pass (nothing is updated here).
    /// - every layer: `∇C⁽ᵏ⁾ += (1/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ` and `∇b⁽ᵏ⁾ += (1/B)·D⁽ᵏ⁾·1`.
    ///
    /// **Errata 5:** the notes' algorithms sum the examples' gradients; this adds their
    /// mean (the text's "average of their gradients"), so the learning rate does not
    /// depend on the batch size. Calling it once per example, as Algorithm 1 loops, adds
    /// the per-example gradients; pass the whole batch at once to get the mean.
    ///
    /// # Shapes
    /// `target`: `(n_L × B)` for the stored batch of `B` columns.
    ///
    /// # Errors
    /// [`CoreError::NoForwardPass`] if `ws` holds no pass of a network of this shape,
    /// [`CoreError::Shape`] for a wrong target, [`CoreError::GradientMismatch`] for a
    /// gradient of another architecture.
    pub fn adjust_gradient<S, L>(
        &self,
        ws: &mut Workspace<T>,
        target: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
        loss: &L,
        grad: &mut Gradient<T>,
    ) -> Result<T, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
        L: Loss<T> + ?Sized,
    {
        self.adjust_gradient_ahead(ws, target, loss, grad, None)
    }

    /// [`adjust_gradient`](Network::adjust_gradient), with idle threads gathering the
    /// next batch into `ahead`.
    pub(crate) fn adjust_gradient_ahead<S, L>(
        &self,
        ws: &mut Workspace<T>,
        target: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
        loss: &L,
        grad: &mut Gradient<T>,
        ahead: Option<&Ahead<'_, T>>,
    ) -> Result<T, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
        L: Loss<T> + ?Sized,
    {
        if self.dense_layers().is_none() {
            return super::examples::adjust_gradient(self, ws, target, loss, grad);
        }
        grad.check("adjust_gradient", self)?;
        self.take_target("adjust_gradient", ws, target)?;
        ws.prepare_learned(self.engine_layers());
        let inv_b = T::one() / T::lit(ws.batch as f64);
        let sink = Accumulate {
            layers: self.engine_layers(),
            grads: grad.layers_mut(),
            scale: inv_b,
        };
        let total = backward(ws, loss, sink, ahead, None)?;
        Ok(total * inv_b)
    }

    /// AdjustGradient and ApplyGradient in one (Algorithms 7 + 9), for plain gradient
    /// descent: backpropagates the batch stored in `ws` and updates every layer at once,
    /// `W⁽ᵏ⁾ ← W⁽ᵏ⁾ − (α/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ`, `b⁽ᵏ⁾ ← b⁽ᵏ⁾ − (α/B)·D⁽ᵏ⁾·1`, without storing
    /// the gradient. The same result as `clear_gradient`, `adjust_gradient` and
    /// `apply_gradient` (up to rounding), with two fewer passes over the parameters: the
    /// fast path for plain SGD. All deltas are computed before any weight changes.
    /// Returns the batch's mean loss.
    ///
    /// # Errors
    /// As [`adjust_gradient`](Network::adjust_gradient) and
    /// [`apply_gradient`](Network::apply_gradient); the network is unchanged on error.
    pub fn descend<S, L>(
        &mut self,
        ws: &mut Workspace<T>,
        target: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
        loss: &L,
        learning_rate: T,
    ) -> Result<T, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
        L: Loss<T> + ?Sized,
    {
        self.descend_ahead(ws, target, loss, learning_rate, None, None)
    }

    /// [`descend`](Network::descend), with idle threads gathering the next batch into
    /// `ahead`, and the next batch's first-layer product accumulated by `next`, if given,
    /// while the first layer is updated.
    pub(crate) fn descend_ahead<S, L>(
        &mut self,
        ws: &mut Workspace<T>,
        target: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
        loss: &L,
        learning_rate: T,
        ahead: Option<&Ahead<'_, T>>,
        next: Option<&NextJob<'_, T>>,
    ) -> Result<T, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
        L: Loss<T> + ?Sized,
    {
        if self.dense_layers().is_none() {
            return crate::reference::descend(self, ws, target, loss, learning_rate);
        }
        crate::error::check_learning_rate("descend", learning_rate)?;
        self.take_target("descend", ws, target)?;
        ws.prepare_learned(self.engine_layers());
        let inv_b = T::one() / T::lit(ws.batch as f64);
        let sink = Descend {
            layers: self.engine_layers_mut(),
            scale: -learning_rate * inv_b,
        };
        let total = backward(ws, loss, sink, ahead, next)?;
        Ok(total * inv_b)
    }

    /// Checks the stored pass and the target, and copies the target into `ws`.
    pub(crate) fn take_target<S>(
        &self,
        op: &'static str,
        ws: &mut Workspace<T>,
        target: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
    ) -> Result<(), CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
    {
        let batch = ws.batch;
        if batch == 0 || !self.has_widths(&ws.widths) {
            return Err(CoreError::NoForwardPass);
        }
        let n_out = self.n_outputs();
        if target.nrows() != n_out {
            return Err(shape_err(op, "target", "rows", n_out, target.nrows()));
        }
        if target.ncols() != batch {
            return Err(shape_err(
                op,
                "target",
                "columns (the evaluated batch's size)",
                batch,
                target.ncols(),
            ));
        }
        super::source::copy_columns(target, &mut ws.target[..n_out * batch]);
        Ok(())
    }

    /// Plain gradient descent (Algorithm 9/10): `W⁽ᵏ⁾ ← W⁽ᵏ⁾ − α·∇C⁽ᵏ⁾` and
    /// `b⁽ᵏ⁾ ← b⁽ᵏ⁾ − α·∇b⁽ᵏ⁾` for every layer, with learning rate `α > 0`.
    ///
    /// # Errors
    /// [`CoreError::InvalidHyperParameter`] if `learning_rate` is not positive and finite,
    /// [`CoreError::GradientMismatch`] for a gradient of another architecture. The network
    /// is unchanged on error.
    pub fn apply_gradient(
        &mut self,
        grad: &Gradient<T>,
        learning_rate: T,
    ) -> Result<(), CoreError> {
        crate::reference::apply_gradient(self, grad, learning_rate)
    }
}
