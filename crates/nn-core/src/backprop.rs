//! The backward pass: the notes' AdjustGradient (Algorithm 7/8, with the sign of
//! errata 2 and the batch mean of errata 5) and ApplyGradient (Algorithm 9/10).

use nn_math::nalgebra::{DMatrixView, Dyn, RawStorage};
use nn_math::{Op, Real, gemm, mul_tn_to};

use crate::error::shape_err;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::feed::{Ahead, fork_layer};
use crate::next_product::NextJob;
use crate::rows::{Cols, Rows};
use crate::team::{part_lines, part_rows};
use crate::workspace::Split;
use crate::{
    CoreError, Dense, Gradient, LayerActivation, LayerGradient, Loss, Network, Workspace,
    all_finite,
};
use std::ops::Range;

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
            return crate::reference::adjust_gradient(self, ws, target, loss, grad);
        }
        grad.check("adjust_gradient", self)?;
        self.take_target("adjust_gradient", ws, target)?;
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
        check_learning_rate("descend", learning_rate)?;
        self.take_target("descend", ws, target)?;
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
        crate::forward::copy_columns(target, &mut ws.target[..n_out * batch]);
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

pub(crate) fn check_learning_rate<T: Real>(
    op: &'static str,
    learning_rate: T,
) -> Result<(), CoreError> {
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
    /// Runs `step` with what phase `l` of [`backward`] needs of layer `l`, and the
    /// update targets of layer `l + 1` (if there is one), whose update may be due.
    fn phase(&mut self, l: usize, step: &mut PhaseStep<'_, T>) -> Result<(), CoreError>;
}

/// The work of one phase, given layer `l`'s [`Propagate`] and [`Update`] and layer
/// `l + 1`'s update targets.
type PhaseStep<'f, T> =
    dyn FnMut(Propagate<'_, T>, Update<'_, T>, Option<Update<'_, T>>) -> Result<(), CoreError> + 'f;

/// What propagating a delta through layer `l` reads.
#[derive(Clone, Copy)]
struct Propagate<'a, T: Real> {
    /// `W⁽ˡ⁾` as it was in the forward pass.
    weight: Cols<'a, T>,
    /// Layer `l`'s activation (for the output delta) and layer `l − 1`'s (for the delta
    /// below).
    own: &'a LayerActivation<T>,
    below: Option<&'a LayerActivation<T>>,
}

/// Where layer `l`'s update goes: `w += scale·D·Aᵀ`, `b += scale·D·1`.
#[derive(Clone, Copy)]
struct Update<'a, T: Real> {
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
    fn phase(&mut self, l: usize, step: &mut PhaseStep<'_, T>) -> Result<(), CoreError> {
        let scale = self.scale;
        fn target<T: Real>(g: &mut LayerGradient<T>, scale: T) -> Update<'_, T> {
            let (w, b) = g.parts_mut();
            let n = b.len();
            Update {
                w: Rows::of(w),
                b: Rows::new(b.as_mut_slice(), n, 1),
                scale,
            }
        }
        let (lower, upper) = self.grads.split_at_mut(l + 1);
        step(
            Propagate {
                weight: {
                    let layer = &self.layers[l];
                    Cols::new(layer.weight_slice(), layer.n_outputs(), layer.n_inputs())
                },
                own: self.layers[l].activation(),
                below: l.checked_sub(1).map(|k| self.layers[k].activation()),
            },
            target(&mut lower[l], scale),
            upper.first_mut().map(|g| target(g, scale)),
        )
    }
}

/// Descend's sink: `W⁽ᵏ⁾ ← W⁽ᵏ⁾ − (α/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ`. Each thread updates its own
/// columns of `W⁽ᵏ⁾`, once no thread reads them any more (see [`backward`]).
struct Descend<'a, T: Real> {
    layers: &'a mut [Dense<T>],
    scale: T,
}

impl<T: Real> Sink<T> for Descend<'_, T> {
    fn phase(&mut self, l: usize, step: &mut PhaseStep<'_, T>) -> Result<(), CoreError> {
        let scale = self.scale;
        let (lower, upper) = self.layers.split_at_mut(l + 1);
        let (below, this) = lower.split_at_mut(l);
        let n_in = this[0].n_inputs();
        let (w, b, own) = this[0].update_parts();
        let n = b.len();
        let w = Rows::new(w, n, n_in);
        let above = upper.first_mut().map(|layer| {
            let n_in = layer.n_inputs();
            let (w, b, _) = layer.update_parts();
            let n = b.len();
            Update {
                w: Rows::new(w, n, n_in),
                b: Rows::new(b, n, 1),
                scale,
            }
        });
        step(
            Propagate {
                weight: w.read(),
                own,
                below: below.last().map(Dense::activation),
            },
            Update {
                w,
                b: Rows::new(b, n, 1),
                scale,
            },
            above,
        )
    }
}

/// The backward pass over the pass stored in `ws` (targets copied in): the output delta
/// `D⁽ᴸ⁾ = ∂C/∂a ⊙ f⁽ᴸ⁾'(S⁽ᴸ⁾)` (each thread its examples `J_t`), then one fork per layer,
/// `l = L−1..0` (counted from 0), as [`Workspace`]'s "Threads" describes. Phase `l`
/// computes the delta below, `D⁽ˡ⁻¹⁾ = (W⁽ˡ⁾ᵀ·D⁽ˡ⁾) ⊙ f'(S⁽ˡ⁻¹⁾)` (times the dropout
/// mask `r⁽ˡ⁾` if the pass dropped): rows `C_t` (thread `t`'s block of the layer's
/// inputs) if the layer is split by inputs, columns `J_t` if by examples. Every layer's
/// term `W[:, C_t] += scale·D⁽ˡ⁾·A⁽ˡ⁻¹⁾[C_t, :]ᵀ` (and the biases' block) is added by
/// thread `t`: a layer split by inputs in its own phase, right after the thread has read
/// those columns; one split by examples, whose weights every thread reads, in the next
/// phase (layer 0 at once: nobody propagates through it); one on the calling thread
/// alone by that thread, in its own phase. Threads that would wait gather
/// the next batch into `ahead`, if given (see `feed::fork_layer`). Returns the summed loss of the batch, added over the examples in order.
fn backward<T: Real, L: Loss<T> + ?Sized>(
    ws: &mut Workspace<T>,
    loss: &L,
    mut sink: impl Sink<T>,
    ahead: Option<&Ahead<'_, T>>,
    next: Option<&NextJob<'_, T>>,
) -> Result<T, CoreError> {
    let layers = ws.widths.len() - 1;
    let batch = ws.batch;
    let team = ws.team();
    let team = team.as_deref();
    let splitter = ws.splitter();
    let widths = &ws.widths;
    let split = |l: usize| splitter.of(l, widths[l + 1], widths[l], batch);
    let top = layers - 1;
    let finite = AtomicBool::new(true);
    ws.update_finite = false;
    // Whether layer l + 1's update is due in phase l.
    let mut pending = false;
    for l in (0..layers).rev() {
        let (n_prev, n) = (widths[l], widths[l + 1]);
        let by_inputs = split(l) == Split::Inputs;
        let (lower, upper) = ws.delta.split_at_mut(l);
        let (this, upper) = upper.split_at_mut(1);
        let d = Rows::new(&mut this[0], n, batch);
        let d_below = lower.last_mut().map(|buf| Rows::new(buf, n_prev, batch));
        // SAFETY (for the views of D⁽ˡ⁾ below): D⁽ˡ⁾ is complete before this phase, or
        // (the output delta) each thread reads only the columns it has written.
        let d_all = unsafe { d.read().columns(0..batch) };
        let d_above = upper.first().map(|buf| {
            let n_above = widths[l + 2];
            DMatrixView::from_slice(&buf[..n_above * batch], n_above, batch)
        });
        let a_prev = match l {
            0 => &ws.input[..n_prev * batch],
            _ => &ws.act[l - 1][..n_prev * batch],
        };
        let a_prev = DMatrixView::from_slice(a_prev, n_prev, batch);
        let a_this = DMatrixView::from_slice(&ws.act[l][..n * batch], n, batch);
        let pre_below = l.checked_sub(1).map(|k| &ws.pre[k][..n_prev * batch]);
        let mask = (l >= 1 && ws.masked[l]).then(|| &ws.masks[l][..n_prev * batch]);
        let output = (l == top).then(|| OutputDelta {
            loss,
            a: &ws.act[top][..n * batch],
            y: &ws.target[..n * batch],
            s: &ws.pre[top][..n * batch],
            d,
            losses: Rows::new(&mut ws.example_loss, 1, batch),
            n,
        });
        // The output delta joins the top layer's phase when that phase reads only its
        // own examples' deltas (split by examples, and not layer 0, which updates at once).
        let merged = l == top && !by_inputs && top > 0;
        if let (Some(out), false) = (&output, merged) {
            sink.phase(l, &mut |prop, _, _| {
                fork_layer(split(l), team, ahead, |t, p| {
                    out.columns(prop.own, part_rows(batch, t, p))
                })
            })?;
        }
        sink.phase(l, &mut |prop, this, above| {
            fork_layer(split(l), team, ahead, |t, p| {
                if let (Some(out), true) = (&output, merged) {
                    out.columns(prop.own, part_rows(batch, t, p))?;
                }
                if let (Some(u), Some(d_above), true) = (above, d_above, pending) {
                    update(u, &d_above, &a_this, t, p, &finite, None)?;
                }
                if let (Some(f), Some(dp), Some(pre)) = (prop.below, d_below, pre_below) {
                    let below = Below {
                        f,
                        d: dp,
                        pre,
                        mask,
                        n: n_prev,
                    };
                    if by_inputs {
                        below.rows(prop.weight, &d_all, part_lines(n_prev, t, p))?;
                    } else {
                        // SAFETY: as for `d_all`.
                        let d = unsafe { d.read().columns(part_rows(batch, t, p)) };
                        below.columns(prop.weight, &d, part_rows(batch, t, p))?;
                    }
                }
                if split(l) != Split::Examples || l == 0 {
                    let next = if l == 0 { next } else { None };
                    update(this, &d_all, &a_prev, t, p, &finite, next)?;
                }
                Ok(())
            })
        })?;
        pending = split(l) == Split::Examples && l > 0;
    }
    ws.update_finite = finite.into_inner();
    let total = ws.example_loss[..batch]
        .iter()
        .fold(T::zero(), |s, &x| s + x);
    Ok(total)
}

/// The output layer's delta `D⁽ᴸ⁾ = ∂C/∂a ⊙ f⁽ᴸ⁾'(S⁽ᴸ⁾)` and each example's loss.
struct OutputDelta<'a, T: Real, L: ?Sized> {
    loss: &'a L,
    a: &'a [T],
    y: &'a [T],
    s: &'a [T],
    d: Rows<'a, T>,
    losses: Rows<'a, T>,
    n: usize,
}

impl<T: Real, L: Loss<T> + ?Sized> OutputDelta<'_, T, L> {
    /// The delta and the losses of examples `cols`, which the calling thread owns.
    fn columns(&self, f: &LayerActivation<T>, cols: Range<usize>) -> Result<(), CoreError> {
        // One function for the layer: `⊙ f'` once over the run of columns afterwards.
        let run = f.per_neuron_len().is_none();
        for c in cols.clone() {
            let r = c * self.n..(c + 1) * self.n;
            // SAFETY: column c of D⁽ᴸ⁾ and entry c of the losses are the caller's alone.
            let (dc, lc) = unsafe {
                (
                    self.d.segment_mut(c, 0..self.n),
                    self.losses.segment_mut(c, 0..1),
                )
            };
            lc[0] = self
                .loss
                .loss_and_gradient(&self.a[r.clone()], &self.y[r.clone()], dc);
            if !run {
                f.mul_derivative(&self.s[r], dc, 0)?;
            }
        }
        if run {
            let at = cols.start * self.n..cols.end * self.n;
            // SAFETY: as above; the column slices of the loop are no longer used.
            let d = unsafe { self.d.column_run_mut(cols) };
            f.mul_derivative(&self.s[at], d, 0)?;
        }
        Ok(())
    }
}

/// The delta below a layer, `D⁽ˡ⁻¹⁾ = (W⁽ˡ⁾ᵀ·D⁽ˡ⁾) ⊙ f⁽ˡ⁻¹⁾'(S⁽ˡ⁻¹⁾)`, times the dropout
/// mask `r⁽ˡ⁾` if the pass dropped.
struct Below<'a, T: Real> {
    f: &'a LayerActivation<T>,
    d: Rows<'a, T>,
    pre: &'a [T],
    mask: Option<&'a [T]>,
    /// The rows of `D⁽ˡ⁻¹⁾` (the layer's inputs).
    n: usize,
}

impl<T: Real> Below<'_, T> {
    /// Rows `r` of every column (the layer split by inputs: `W⁽ˡ⁾[:, r]` is the caller's).
    fn rows(
        &self,
        weight: Cols<'_, T>,
        d: &DMatrixView<'_, T>,
        r: Range<usize>,
    ) -> Result<(), CoreError> {
        // SAFETY: in this fork, the caller alone reads or writes columns r of W⁽ˡ⁾ and
        // rows r of D⁽ˡ⁻¹⁾.
        let (w, mut out) = unsafe { (weight.columns(r.clone()), self.d.block_mut(r.clone())) };
        mul_tn_to(&w, d, &mut out)?;
        self.finish(r, 0..d.ncols())
    }

    /// Every row of columns `cols` (the layer split by examples; `d` is `D⁽ˡ⁾[:, cols]`).
    fn columns(
        &self,
        weight: Cols<'_, T>,
        d: &DMatrixView<'_, T>,
        cols: Range<usize>,
    ) -> Result<(), CoreError> {
        // SAFETY: nobody writes W⁽ˡ⁾ in this phase, and columns `cols` of D⁽ˡ⁻¹⁾ are the
        // caller's alone.
        let (w, mut out) = unsafe {
            (
                weight.columns(0..weight.ncols()),
                self.d.columns_mut(cols.clone()),
            )
        };
        mul_tn_to(&w, d, &mut out)?;
        self.finish(0..self.n, cols)
    }

    /// `⊙ f'(S)` and the mask, on the block just written: once over the run of whole
    /// columns when the layer has one function (as in the forward pass), else column by
    /// column.
    fn finish(&self, r: Range<usize>, cols: Range<usize>) -> Result<(), CoreError> {
        if r.len() == self.n && self.f.per_neuron_len().is_none() {
            let at = cols.start * self.n..cols.end * self.n;
            // SAFETY: the caller's block, whose matrix view is no longer used.
            let d = unsafe { self.d.column_run_mut(cols) };
            return self.finish_run(d, at, 0);
        }
        for col in cols {
            let at = col * self.n + r.start..col * self.n + r.end;
            // SAFETY: the caller's block, whose matrix view is no longer used.
            let dc = unsafe { self.d.segment_mut(col, r.clone()) };
            self.finish_run(dc, at, r.start)?;
        }
        Ok(())
    }

    /// `d ← d ⊙ f'(S) ⊙ r` for the entries `at` of the delta (rows from `first` on).
    fn finish_run(&self, d: &mut [T], at: Range<usize>, first: usize) -> Result<(), CoreError> {
        self.f.mul_derivative(&self.pre[at.clone()], d, first)?;
        if let Some(m) = self.mask {
            for (x, m) in d.iter_mut().zip(&m[at]) {
                *x *= *m;
            }
        }
        Ok(())
    }
}

/// Thread `t`'s share of a layer's update: `W[:, C_t] += scale·D·A[C_t, :]ᵀ` for its block
/// `C_t` of the layer's inputs, and `b[R_t] += scale·D[R_t, :]·1` for its block of the
/// biases; notes in `finite` whether all it wrote is finite. With `next`, it also
/// accumulates part `t` of the next batch's product with the new `W[:, C_t]`, block by
/// block while each is in the L1 cache (`crate::next_product`).
fn update<T: Real>(
    u: Update<'_, T>,
    d: &DMatrixView<'_, T>,
    a_prev: &DMatrixView<'_, T>,
    t: usize,
    p: usize,
    finite: &AtomicBool,
    next: Option<&NextJob<'_, T>>,
) -> Result<(), CoreError> {
    let (n, n_prev) = (d.nrows(), a_prev.nrows());
    let c = part_lines(n_prev, t, p);
    // Columns c of the target, in chunks that stay in the L1 cache when the batch is a
    // few examples (the product then streams the weights once, and the finiteness check
    // reads each chunk while it is still there); in one product otherwise.
    let chunk = if d.ncols() < 4 {
        (4096 / n.max(1)).max(1)
    } else {
        c.len().max(1)
    };
    let mut ok = true;
    if let Some(job) = next {
        // SAFETY: part t's outputs are thread t's alone in this fork.
        unsafe { job.start(t) };
    }
    for start in c.clone().step_by(chunk) {
        let cols = start..(start + chunk).min(c.end);
        // SAFETY: columns c of the target are thread t's alone in this fork, and nobody
        // reads them any more in this pass.
        let mut w = unsafe { u.w.columns_mut(cols.clone()) };
        gemm(
            u.scale,
            d,
            Op::NoTrans,
            &a_prev.rows_range(cols.clone()),
            Op::Trans,
            T::one(),
            &mut w,
        )?;
        // SAFETY: as above; the view is no longer used.
        let written = unsafe { u.w.column_run(cols.clone()) };
        ok &= all_finite(written);
        if let Some(job) = next {
            // SAFETY: part t's outputs are thread t's alone in this fork.
            unsafe { job.add(t, written, cols)? };
        }
    }
    let r = part_lines(n, t, p);
    // SAFETY: rows r of the biases are thread t's alone in this fork.
    let b = unsafe { u.b.segment_mut(0, r.clone()) };
    for col in d.column_iter() {
        for (g, x) in b.iter_mut().zip(&col.as_slice()[r.clone()]) {
            *g += u.scale * *x;
        }
    }
    if !(ok && all_finite(b)) {
        finite.store(false, Ordering::Relaxed);
    }
    Ok(())
}
