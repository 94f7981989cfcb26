//! The backward pass: the notes' AdjustGradient (Algorithm 7/8, with the sign of
//! errata 2 and the batch mean of errata 5) and ApplyGradient (Algorithm 9/10).

use nn_math::nalgebra::{DMatrixView, DMatrixViewMut, Dyn, RawStorage};
use nn_math::{Op, Real, gemm, mul_tn_to};

use crate::error::shape_err;
use crate::{CoreError, Gradient, Loss, Network, Workspace};

impl<T: Real> Network<T> {
    /// Backpropagates the error of the batch stored in `ws` by the last
    /// [`evaluate_with`](Network::evaluate_with) (or
    /// [`evaluate_with_dropout`](Network::evaluate_with_dropout)) and **adds** the batch's
    /// mean gradient to `grad` (Algorithm 7/8). Returns the batch's mean loss.
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
        grad.check("adjust_gradient", self)?;
        let batch = ws.batch;
        let total = self.output_delta("adjust_gradient", ws, target, loss)?;
        let inv_b = T::one() / T::lit(batch as f64);
        self.propagate_deltas(ws, batch)?;
        for (k, g) in grad.layers_mut().iter_mut().enumerate() {
            // ∇C⁽ᵏ⁾ += (1/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ and ∇b⁽ᵏ⁾ += (1/B)·D⁽ᵏ⁾·1.
            let (gw, gb) = g.parts_mut();
            add_weight_gradient(ws, k, batch, inv_b, gw, gb.as_mut_slice())?;
        }
        Ok(total * inv_b)
    }

    /// Backpropagates the stored deltas from the output layer down (Algorithm 8's
    /// loop): `D⁽ᵏ⁻¹⁾ = (W⁽ᵏ⁾ᵀ·D⁽ᵏ⁾) ⊙ f'(S⁽ᵏ⁻¹⁾)`, times the dropout mask `r⁽ᵏ⁻¹⁾` if the
    /// pass dropped, using the weights of the forward pass.
    fn propagate_deltas(&self, ws: &mut Workspace<T>, batch: usize) -> Result<(), CoreError> {
        for k in (1..self.layers().len()).rev() {
            let layer = &self.layers()[k];
            let (n, n_prev) = (layer.n_outputs(), layer.n_inputs());
            let (lower, upper) = ws.delta.split_at_mut(k);
            let d_view = DMatrixView::from_slice(&upper[0][..n * batch], n, batch);
            let d_prev = &mut lower[k - 1][..n_prev * batch];
            mul_tn_to(
                layer.weight(),
                &d_view,
                &mut DMatrixViewMut::from_slice(d_prev, n_prev, batch),
            )?;
            self.layers()[k - 1].activation().mul_derivative(
                &ws.pre[k - 1][..n_prev * batch],
                d_prev,
                n_prev,
            )?;
            if ws.masked[k] {
                for (x, r) in d_prev.iter_mut().zip(&ws.masks[k]) {
                    *x *= *r;
                }
            }
        }
        Ok(())
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
        check_learning_rate("descend", learning_rate)?;
        let batch = ws.batch;
        let total = self.output_delta("descend", ws, target, loss)?;
        self.propagate_deltas(ws, batch)?;
        let inv_b = T::one() / T::lit(batch as f64);
        for (k, layer) in self.layers_mut().iter_mut().enumerate() {
            let (w, b) = layer.weight_and_bias_mut();
            add_weight_gradient(ws, k, batch, -learning_rate * inv_b, w, b)?;
        }
        Ok(total * inv_b)
    }

    /// Checks the stored pass and the target, copies the target, and computes the output
    /// layer's delta `D⁽ᴸ⁾ = ∂C/∂a ⊙ f⁽ᴸ⁾'(S⁽ᴸ⁾)`; returns the summed loss of the batch.
    fn output_delta<S, L>(
        &self,
        op: &'static str,
        ws: &mut Workspace<T>,
        target: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
        loss: &L,
    ) -> Result<T, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
        L: Loss<T> + ?Sized,
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
        let last = self.layers().len() - 1;
        let y = &mut ws.target[..n_out * batch];
        crate::forward::copy_columns(target, y);
        // ∂C/∂a per example, then ⊙ f'(S⁽ᴸ⁾).
        let mut total = T::zero();
        let a = &ws.act[last][..n_out * batch];
        let d = &mut ws.delta[last][..n_out * batch];
        for ((ac, yc), dc) in a
            .chunks_exact(n_out)
            .zip(y.chunks_exact(n_out))
            .zip(d.chunks_exact_mut(n_out))
        {
            total += loss.loss(ac, yc);
            loss.gradient(ac, yc, dc);
        }
        self.layers()[last].activation().mul_derivative(
            &ws.pre[last][..n_out * batch],
            d,
            n_out,
        )?;
        Ok(total)
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
        check_learning_rate("apply_gradient", learning_rate)?;
        grad.check("apply_gradient", self)?;
        for (layer, g) in self.layers_mut().iter_mut().zip(grad.layers()) {
            let (w, b) = layer.params_mut();
            for (x, dx) in w
                .iter_mut()
                .zip(g.weight().as_slice())
                .chain(b.iter_mut().zip(g.bias().as_slice()))
            {
                *x -= learning_rate * *dx;
            }
        }
        Ok(())
    }
}

fn check_learning_rate<T: Real>(op: &'static str, learning_rate: T) -> Result<(), CoreError> {
    if learning_rate.is_finite() && learning_rate > T::zero() {
        Ok(())
    } else {
        Err(CoreError::InvalidHyperParameter {
            op,
            name: "learning_rate".into(),
            value: learning_rate.as_f64(),
            requirement: "must be positive and finite",
        })
    }
}

/// `W += scale·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ` and `b += scale·D⁽ᵏ⁾·1` for layer `k` of the pass in `ws`:
/// the gradient's accumulation (`scale = 1/B`) or plain descent (`scale = −α/B`).
fn add_weight_gradient<T: Real>(
    ws: &Workspace<T>,
    k: usize,
    batch: usize,
    scale: T,
    w: &mut nn_math::Matrix<T>,
    b: &mut [T],
) -> Result<(), CoreError> {
    let (n, n_prev) = (w.nrows(), w.ncols());
    let d = &ws.delta[k][..n * batch];
    let a_prev: &[T] = if k == 0 {
        &ws.input[..n_prev * batch]
    } else {
        &ws.act[k - 1][..n_prev * batch]
    };
    gemm(
        scale,
        &DMatrixView::from_slice(d, n, batch),
        Op::NoTrans,
        &DMatrixView::from_slice(a_prev, n_prev, batch),
        Op::Trans,
        T::one(),
        w,
    )?;
    for col in d.chunks_exact(n) {
        for (g, x) in b.iter_mut().zip(col) {
            *g += scale * *x;
        }
    }
    Ok(())
}
