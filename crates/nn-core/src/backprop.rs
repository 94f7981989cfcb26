//! The backward pass: the notes' AdjustGradient (Algorithm 7/8, with the sign of
//! errata 2 and the batch mean of errata 5) and ApplyGradient (Algorithm 9/10).

use nn_math::nalgebra::{DMatrixView, Dyn, RawStorage};
use nn_math::{Op, Real, gemm, mul_tn_to};

use crate::error::shape_err;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::rows::{Cols, Rows};
use crate::team::part_rows;
use crate::workspace::{fork, splits};
use crate::{
    CoreError, Dense, Gradient, LayerActivation, LayerGradient, Loss, Network, Workspace,
    all_finite,
};

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
            // Two plain loops (a chained iterator would not vectorize).
            for (x, dx) in [(w, g.weight().as_slice()), (b, g.bias().as_slice())] {
                for (x, dx) in x.iter_mut().zip(dx) {
                    *x -= learning_rate * *dx;
                }
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
    /// Runs `phase` with layer `l`'s weights to propagate through, the activation of
    /// layer `l − 1` (for `l ≥ 1`) and the target of layer `l`'s term.
    fn phase(
        &mut self,
        l: usize,
        phase: &mut dyn FnMut(Phase<'_, T>) -> Result<(), CoreError>,
    ) -> Result<(), CoreError>;
}

/// What phase `l` of [`backward`] reads and writes besides the workspace.
struct Phase<'a, T: Real> {
    /// `W⁽ˡ⁾` as it was in the forward pass (each thread reads only its own columns).
    weight: Cols<'a, T>,
    /// The activation of layer `l − 1`, whose delta this phase computes.
    below: Option<&'a LayerActivation<T>>,
    /// `W += scale·D·Aᵀ` and `b += scale·D·1` go into these.
    w: Rows<'a, T>,
    b: Rows<'a, T>,
    scale: T,
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
        phase: &mut dyn FnMut(Phase<'_, T>) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        let (w, b) = self.grads[l].parts_mut();
        let n = b.len();
        phase(Phase {
            weight: Cols::new(self.layers[l].weight()),
            below: l.checked_sub(1).map(|k| self.layers[k].activation()),
            w: Rows::of(w),
            b: Rows::new(b.as_mut_slice(), n, 1),
            scale: self.scale,
        })
    }
}

/// Descend's sink: `W⁽ᵏ⁾ ← W⁽ᵏ⁾ − (α/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ`. Each thread updates its own
/// columns of `W⁽ᵏ⁾` after it has propagated the delta through them.
struct Descend<'a, T: Real> {
    layers: &'a mut [Dense<T>],
    scale: T,
}

impl<T: Real> Sink<T> for Descend<'_, T> {
    fn phase(
        &mut self,
        l: usize,
        phase: &mut dyn FnMut(Phase<'_, T>) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        let (below, rest) = self.layers.split_at_mut(l);
        let (w, b) = rest[0].weight_and_bias_mut();
        let n = b.len();
        let w = Rows::of(w);
        phase(Phase {
            weight: w.read(),
            below: below.last().map(Dense::activation),
            w,
            b: Rows::new(b, n, 1),
            scale: self.scale,
        })
    }
}

/// The backward pass over the pass stored in `ws`, whose output delta `D⁽ᴸ⁾` is set: one
/// fork per layer, `l = L−1..0` (counted from 0). In phase `l`, thread `t` owns block
/// `C_t` of layer `l`'s inputs: it computes those rows of the delta below,
/// `D⁽ˡ⁻¹⁾[C_t] = (W⁽ˡ⁾[:, C_t])ᵀ·D⁽ˡ⁾ ⊙ f'(S⁽ˡ⁻¹⁾[C_t])` (times the dropout mask
/// `r⁽ˡ⁾[C_t]` if the pass dropped), then adds its columns of the layer's term,
/// `W[:, C_t] += scale·D⁽ˡ⁾·A⁽ˡ⁻¹⁾[C_t, :]ᵀ`, and its block of the biases' term. Its
/// columns of `W⁽ˡ⁾` are read and written by it alone, so with [`Descend`] the update
/// follows the read without a join.
fn backward<T: Real>(ws: &mut Workspace<T>, mut sink: impl Sink<T>) -> Result<(), CoreError> {
    let layers = ws.widths.len() - 1;
    let finite = AtomicBool::new(true);
    ws.update_finite = false;
    for l in (0..layers).rev() {
        sink.phase(l, &mut |phase| backward_phase(ws, l, &phase, &finite))?;
    }
    ws.update_finite = finite.into_inner();
    Ok(())
}

/// Phase `l` of [`backward`].
fn backward_phase<T: Real>(
    ws: &mut Workspace<T>,
    l: usize,
    phase: &Phase<'_, T>,
    finite: &AtomicBool,
) -> Result<(), CoreError> {
    let batch = ws.batch;
    let team = ws.team();
    let rule = ws.split_rule();
    let (n_prev, n) = (ws.widths[l], ws.widths[l + 1]);
    let a_prev = match l {
        0 => &ws.input[..n_prev * batch],
        _ => &ws.act[l - 1][..n_prev * batch],
    };
    let a_prev = DMatrixView::from_slice(a_prev, n_prev, batch);
    let pre = l.checked_sub(1).map(|k| &ws.pre[k][..n_prev * batch]);
    let mask = (l >= 1 && ws.masked[l]).then(|| &ws.masks[l][..n_prev * batch]);
    let (lower, upper) = ws.delta.split_at_mut(l);
    let d = DMatrixView::from_slice(&upper[0][..n * batch], n, batch);
    let d_prev = lower.last_mut().map(|d| Rows::new(d, n_prev, batch));
    let split = splits(rule, n, n_prev, batch);
    fork(split.then_some(team.as_deref()).flatten(), |t, p| {
        let c = part_rows(n_prev, t, p);
        if let (Some(f), Some(dp), Some(pre)) = (phase.below, d_prev, pre) {
            // SAFETY: in this fork, thread t alone reads or writes columns c of W⁽ˡ⁾ and
            // rows c of D⁽ˡ⁻¹⁾.
            let (w, mut out) =
                unsafe { (phase.weight.columns(c.clone()), dp.block_mut(c.clone())) };
            mul_tn_to(&w, &d, &mut out)?;
            for col in 0..batch {
                let at = col * n_prev + c.start..col * n_prev + c.end;
                // SAFETY: as above; the block view is no longer used.
                let dc = unsafe { dp.segment_mut(col, c.clone()) };
                f.mul_derivative(&pre[at.clone()], dc, c.start)?;
                if let Some(m) = mask {
                    for (x, m) in dc.iter_mut().zip(&m[at]) {
                        *x *= *m;
                    }
                }
            }
        }
        // Columns c of the target, in chunks that stay in the L1 cache when the batch is
        // a few examples (the product then streams the weights once, and the finiteness
        // check reads each chunk while it is still there); in one product otherwise.
        let chunk = if batch < 4 {
            (4096 / n).max(1)
        } else {
            c.len().max(1)
        };
        let mut ok = true;
        for start in c.clone().step_by(chunk) {
            let cols = start..(start + chunk).min(c.end);
            // SAFETY: as above: columns c of the target are thread t's alone, and (with
            // `Descend`) its reads of them above are done.
            let mut w = unsafe { phase.w.columns_mut(cols.clone()) };
            gemm(
                phase.scale,
                &d,
                Op::NoTrans,
                &a_prev.rows_range(cols.clone()),
                Op::Trans,
                T::one(),
                &mut w,
            )?;
            // SAFETY: as above; the view is no longer used.
            ok &= all_finite(unsafe { phase.w.column_run(cols) });
        }
        let r = part_rows(n, t, p);
        // SAFETY: rows r of the biases are thread t's alone in this fork.
        let b = unsafe { phase.b.segment_mut(0, r.clone()) };
        for col in d.column_iter() {
            for (g, x) in b.iter_mut().zip(&col.as_slice()[r.clone()]) {
                *g += phase.scale * *x;
            }
        }
        if !(ok && all_finite(b)) {
            finite.store(false, Ordering::Relaxed);
        }
        Ok(())
    })
}
