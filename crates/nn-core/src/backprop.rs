//! The backward pass: the notes' AdjustGradient (Algorithm 7/8, with the sign of
//! errata 2 and the batch mean of errata 5) and ApplyGradient (Algorithm 9/10).

use std::ops::Range;

use nn_math::nalgebra::{DMatrixView, Dyn, RawStorage};
use nn_math::{Matrix, Op, Real, gemm, mul_tn_to};

use crate::aligned::Aligned;
use crate::error::shape_err;
use crate::rows::Rows;
use crate::workspace::fork;
use crate::{CoreError, Dense, Gradient, LayerActivation, LayerGradient, Loss, Network, Workspace};

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
        let total = self.output_delta("adjust_gradient", ws, target, loss)?;
        let inv_b = T::one() / T::lit(ws.batch as f64);
        backward(
            ws,
            Accumulate {
                layers: self.layers(),
                grads: grad.layers_mut(),
                scale: inv_b,
            },
        )?;
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
        check_learning_rate("descend", learning_rate)?;
        let total = self.output_delta("descend", ws, target, loss)?;
        let inv_b = T::one() / T::lit(ws.batch as f64);
        backward(
            ws,
            Descend {
                layers: self.layers_mut(),
                scale: -learning_rate * inv_b,
            },
        )?;
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
        let f = self.layers()[last].activation();
        for (sc, dc) in ws.pre[last]
            .chunks_exact(n_out)
            .zip(d.chunks_exact_mut(n_out))
        {
            f.mul_derivative(sc, dc, 0)?;
        }
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

/// Where the backward pass adds each layer's term `scale·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ` (and
/// `scale·D⁽ᵏ⁾·1`): into a gradient ([`Accumulate`]) or straight into the weights
/// ([`Descend`]).
trait Sink<T: Real> {
    /// Runs phase `l` of [`backward`] with the weights `W⁽ˡ⁾` and the activation of layer
    /// `l − 1` to propagate through (for `l ≥ 1`) and the updates due in this phase: layer
    /// `l + 1`'s for `l ≥ 1`, layers 0 and 1 for `l = 0`.
    fn phase(
        &mut self,
        l: usize,
        run: &mut dyn FnMut(
            Option<(&Matrix<T>, &LayerActivation<T>)>,
            [Option<Update<'_, T>>; 2],
        ) -> Result<(), CoreError>,
    ) -> Result<(), CoreError>;
}

/// One layer's update target: `W[r] += scale·D[r]·Aᵀ`, `b[r] += scale·D[r]·1` for each
/// part's rows `r`.
struct Update<'a, T> {
    layer: usize,
    w: Rows<'a, T>,
    b: Rows<'a, T>,
    scale: T,
}

impl<'a, T: Real> Update<'a, T> {
    fn new(layer: usize, w: &'a mut Matrix<T>, b: &'a mut [T], scale: T) -> Self {
        let (rows, cols) = w.shape();
        let n = b.len();
        Self {
            layer,
            w: Rows::new(w.as_mut_slice(), rows, cols),
            b: Rows::new(b, n, 1),
            scale,
        }
    }
}

/// AdjustGradient's sink: `∇C⁽ᵏ⁾ += (1/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ`.
struct Accumulate<'a, T: Real> {
    layers: &'a [Dense<T>],
    grads: &'a mut [LayerGradient<T>],
    scale: T,
}

impl<T: Real> Sink<T> for Accumulate<'_, T> {
    fn phase(
        &mut self,
        l: usize,
        run: &mut dyn FnMut(
            Option<(&Matrix<T>, &LayerActivation<T>)>,
            [Option<Update<'_, T>>; 2],
        ) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        let read = (l >= 1).then(|| (self.layers[l].weight(), self.layers[l - 1].activation()));
        let (lo, hi) = self.grads.split_at_mut(l + 1);
        fn update<T: Real>(j: usize, g: &mut LayerGradient<T>, scale: T) -> Update<'_, T> {
            let (w, b) = g.parts_mut();
            Update::new(j, w, b.as_mut_slice(), scale)
        }
        let first = hi.first_mut().map(|g| update(l + 1, g, self.scale));
        let second = (l == 0).then(|| update(0, &mut lo[0], self.scale));
        run(read, [first, second])
    }
}

/// Descend's sink: `W⁽ᵏ⁾ ← W⁽ᵏ⁾ − (α/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ`, each layer updated only after
/// the delta below it, which reads its weights, is done.
struct Descend<'a, T: Real> {
    layers: &'a mut [Dense<T>],
    scale: T,
}

impl<T: Real> Sink<T> for Descend<'_, T> {
    fn phase(
        &mut self,
        l: usize,
        run: &mut dyn FnMut(
            Option<(&Matrix<T>, &LayerActivation<T>)>,
            [Option<Update<'_, T>>; 2],
        ) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        let scale = self.scale;
        let (lo, hi) = self.layers.split_at_mut(l + 1);
        let first = hi.first_mut().map(|d| {
            let (w, b) = d.weight_and_bias_mut();
            Update::new(l + 1, w, b, scale)
        });
        if l == 0 {
            let (w, b) = lo[0].weight_and_bias_mut();
            run(None, [first, Some(Update::new(0, w, b, scale))])
        } else {
            run(
                Some((lo[l].weight(), lo[l - 1].activation())),
                [first, None],
            )
        }
    }
}

/// The backward pass over the pass stored in `ws`, whose output delta `D⁽ᴸ⁾` is set, in
/// `L` phases (layers `l = L−1..0`, counted from 0), each a fork over the team's threads.
/// Phase `l` computes each part's rows of `D⁽ˡ⁻¹⁾ = (W⁽ˡ⁾ᵀ·D⁽ˡ⁾) ⊙ f'(S⁽ˡ⁻¹⁾)` (times
/// the dropout mask `r⁽ˡ⁾` if the pass dropped) and adds layer `l + 1`'s term, whose
/// weights the previous phase was the last to read. Every part adds the terms of the
/// rows whose deltas it computed, so no part waits for another's rows.
fn backward<T: Real>(ws: &mut Workspace<T>, mut sink: impl Sink<T>) -> Result<(), CoreError> {
    let layers = ws.widths.len() - 1;
    for l in (0..layers).rev() {
        sink.phase(l, &mut |read, updates| {
            backward_phase(ws, l, read, &updates)
        })?;
    }
    Ok(())
}

/// Phase `l` of [`backward`].
fn backward_phase<T: Real>(
    ws: &mut Workspace<T>,
    l: usize,
    read: Option<(&Matrix<T>, &LayerActivation<T>)>,
    updates: &[Option<Update<'_, T>>; 2],
) -> Result<(), CoreError> {
    let batch = ws.batch;
    let team = ws.team_for(batch);
    let widths = &ws.widths;
    let (input, act, pre) = (&ws.input, &ws.act, &ws.pre);
    let mask = (l >= 1 && ws.masked[l]).then(|| &ws.masks[l][..widths[l] * batch]);
    let (lower, upper) = ws.delta.split_at_mut(l);
    let d_prev = lower.last_mut().map(|d| Rows::new(d, widths[l], batch));
    let upper: &[Aligned<T>] = upper;
    let d_view = |j: usize| {
        DMatrixView::from_slice(&upper[j - l][..widths[j + 1] * batch], widths[j + 1], batch)
    };
    // D⁽ˡ⁻¹⁾[r] = (W⁽ˡ⁾[:, r])ᵀ·D⁽ˡ⁾ ⊙ f'(S⁽ˡ⁻¹⁾[r]) (⊙ r⁽ˡ⁾[r]) for a block of rows r.
    let delta_rows = |r: Range<usize>, w: &Matrix<T>, f: &LayerActivation<T>, dp: Rows<'_, T>| {
        let n_prev = widths[l];
        // SAFETY: in this fork, part t alone touches rows r of D⁽ˡ⁻¹⁾.
        mul_tn_to(&w.columns_range(r.clone()), &d_view(l), &mut unsafe {
            dp.block_mut(r.clone())
        })?;
        for c in 0..batch {
            let at = c * n_prev + r.start..c * n_prev + r.end;
            // SAFETY: as above; the block view above is gone.
            let dc = unsafe { dp.segment_mut(c, r.clone()) };
            f.mul_derivative(&pre[l - 1][at.clone()], dc, r.start)?;
            if let Some(m) = mask {
                for (x, m) in dc.iter_mut().zip(&m[at]) {
                    *x *= *m;
                }
            }
        }
        Ok::<(), CoreError>(())
    };
    // W[r] += scale·D[r]·Aᵀ and b[r] += scale·D[r]·1 for a block of rows r of layer j
    // (whose weights were last read in the previous phase).
    let update_rows = |r: Range<usize>, u: &Update<'_, T>| {
        let j = u.layer;
        let n_prev = widths[j];
        let a_prev = if j == 0 { &input[..] } else { &act[j - 1][..] };
        let d = d_view(j);
        // SAFETY: in this fork, part t alone touches rows r of this layer's target.
        let (w, b) = unsafe { (u.w.block_mut(r.clone()), u.b.segment_mut(0, r.clone())) };
        gemm(
            u.scale,
            &d.rows_range(r.clone()),
            Op::NoTrans,
            &DMatrixView::from_slice(&a_prev[..n_prev * batch], n_prev, batch),
            Op::Trans,
            T::one(),
            &mut { w },
        )?;
        for col in d.column_iter() {
            for (g, x) in b.iter_mut().zip(&col.as_slice()[r.clone()]) {
                *g += u.scale * *x;
            }
        }
        Ok::<(), CoreError>(())
    };
    fork(team.as_deref(), |t, p| {
        if let (Some((w, f)), Some(dp)) = (read, d_prev) {
            for r in dp.part(t, p).into_iter().filter(|r| !r.is_empty()) {
                delta_rows(r, w, f, dp)?;
            }
        }
        for u in updates.iter().flatten() {
            for r in u.w.part(t, p).into_iter().filter(|r| !r.is_empty()) {
                update_rows(r, u)?;
            }
        }
        Ok(())
    })
}
