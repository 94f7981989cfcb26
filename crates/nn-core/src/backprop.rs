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
        const OP: &str = "adjust_gradient";
        let batch = ws.batch;
        if batch == 0 || !self.has_widths(&ws.widths) {
            return Err(CoreError::NoForwardPass);
        }
        let n_out = self.n_outputs();
        if target.nrows() != n_out {
            return Err(shape_err(OP, "target", "rows", n_out, target.nrows()));
        }
        if target.ncols() != batch {
            return Err(shape_err(
                OP,
                "target",
                "columns (the evaluated batch's size)",
                batch,
                target.ncols(),
            ));
        }
        grad.check(OP, self)?;

        let last = self.layers().len() - 1;
        let y = &mut ws.target[..n_out * batch];
        for (dst, src) in y.iter_mut().zip(target.iter()) {
            *dst = *src;
        }

        // Output layer: ∂C/∂a per example, then ⊙ f'(S⁽ᴸ⁾).
        let mut total = T::zero();
        {
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
        }

        let inv_b = T::one() / T::lit(batch as f64);
        for k in (0..=last).rev() {
            let layer = &self.layers()[k];
            let (n, n_prev) = (layer.n_outputs(), layer.n_inputs());
            let (lower, upper) = ws.delta.split_at_mut(k);
            let d = &upper[0][..n * batch];
            let a_prev: &[T] = if k == 0 {
                &ws.input[..n_prev * batch]
            } else {
                &ws.act[k - 1][..n_prev * batch]
            };

            // ∇C⁽ᵏ⁾ += (1/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ and ∇b⁽ᵏ⁾ += (1/B)·D⁽ᵏ⁾·1.
            let (gw, gb) = grad.layers_mut()[k].parts_mut();
            let d_view = DMatrixView::from_slice(d, n, batch);
            gemm(
                inv_b,
                &d_view,
                Op::NoTrans,
                &DMatrixView::from_slice(a_prev, n_prev, batch),
                Op::Trans,
                T::one(),
                gw,
            )?;
            let gb = gb.as_mut_slice();
            for col in d.chunks_exact(n) {
                for (g, x) in gb.iter_mut().zip(col) {
                    *g += inv_b * *x;
                }
            }

            if k > 0 {
                // D⁽ᵏ⁻¹⁾ = (W⁽ᵏ⁾ᵀ·D⁽ᵏ⁾) ⊙ f'(S⁽ᵏ⁻¹⁾) [⊙ r⁽ᵏ⁻¹⁾].
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
        }
        Ok(total * inv_b)
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
        if !(learning_rate.is_finite() && learning_rate > T::zero()) {
            return Err(CoreError::InvalidHyperParameter {
                op: "apply_gradient",
                name: "learning_rate".into(),
                value: learning_rate.as_f64(),
                requirement: "must be positive and finite",
            });
        }
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
