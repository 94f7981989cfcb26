//! The backward pass proper, shared between a workspace's threads: the output delta,
//! the deltas below each layer, and each layer's update into its sink (`sink.rs`: a
//! gradient, or with the fused descent straight into the weights).

use nn_math::nalgebra::DMatrixView;
use nn_math::{Op, Real, gemm, mul_tn_to};

use std::sync::atomic::{AtomicBool, Ordering};

use super::ahead::{Ahead, fork_layer};
use super::next_product::NextJob;
use super::rows::{Cols, Rows};
use super::sink::{Sink, Update};
use super::split::Split;
use super::team::{part_lines, part_rows};
use crate::layers::learned_passes::LayerFns;
use crate::{CoreError, Loss, Workspace, all_finite};
use std::ops::Range;

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
pub(crate) fn backward<T: Real, L: Loss<T> + ?Sized>(
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
    let threads = team.map_or(1, |t| t.threads());
    // Each thread's sums of the learned activation parameters, per layer (the engine
    // adds them in thread order after the pass).
    for (buf, &len) in ws.learned.iter_mut().zip(&ws.learned_len) {
        buf[..threads * len].fill(T::zero());
    }
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
        let (sums_lower, sums_upper) = ws.learned.split_at_mut(l);
        let sums_below = match (sums_lower.last_mut(), l.checked_sub(1)) {
            (Some(buf), Some(k)) => sums_rows(buf, ws.learned_len[k], threads),
            _ => None,
        };
        let sums_out = sums_rows(&mut sums_upper[0], ws.learned_len[l], threads);
        let output = (l == top).then(|| OutputDelta {
            loss,
            a: &ws.act[top][..n * batch],
            y: &ws.target[..n * batch],
            s: &ws.pre[top][..n * batch],
            d,
            losses: Rows::new(&mut ws.example_loss, 1, batch),
            sums: sums_out,
            n,
        });
        // The output delta joins the top layer's phase when that phase reads only its
        // own examples' deltas (split by examples, and not layer 0, which updates at once).
        let merged = l == top && !by_inputs && top > 0;
        if let (Some(out), false) = (&output, merged) {
            sink.phase(l, &mut |prop, _, _| {
                fork_layer(split(l), team, ahead, |t, p| {
                    out.columns(prop.own, prop.scale, part_rows(batch, t, p), t)
                })
            })?;
        }
        sink.phase(l, &mut |prop, this, above| {
            fork_layer(split(l), team, ahead, |t, p| {
                if let (Some(out), true) = (&output, merged) {
                    out.columns(prop.own, prop.scale, part_rows(batch, t, p), t)?;
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
                        sums: sums_below.map(|rows| (rows, t)),
                        scale: prop.scale,
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
    // The learned parameters' sums, the threads' added in order.
    let mut learned_finite = true;
    for (k, buf) in ws.learned.iter_mut().enumerate() {
        let len = ws.learned_len[k];
        if len == 0 {
            continue;
        }
        let (first, rest) = buf[..threads * len].split_at_mut(len);
        for part in rest.chunks_exact(len) {
            for (s, x) in first.iter_mut().zip(part) {
                *s += *x;
            }
        }
        learned_finite &= sink.learned(k, first);
    }
    ws.update_finite = finite.into_inner() && learned_finite;
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
    /// Each thread's sums of the layer's learned activation parameters, if it learns.
    sums: Option<Rows<'a, T>>,
    n: usize,
}

impl<T: Real, L: Loss<T> + ?Sized> OutputDelta<'_, T, L> {
    /// The delta and the losses of examples `cols`, which the calling thread (`t`) owns.
    fn columns(
        &self,
        f: LayerFns<'_, T>,
        scale: T,
        cols: Range<usize>,
        t: usize,
    ) -> Result<(), CoreError> {
        // One function for the layer: `⊙ f'` once over the run of columns afterwards.
        let run = f.one_function();
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
                // SAFETY: column t of the sums is the calling thread's alone.
                let sums = unsafe { thread_sums(self.sums, t) };
                f.backward(&self.s[r], dc, 0, scale, sums)?;
            }
        }
        if run {
            let at = cols.start * self.n..cols.end * self.n;
            // SAFETY: as above; the column slices of the loop are no longer used.
            let d = unsafe { self.d.column_run_mut(cols) };
            f.backward(&self.s[at], d, 0, scale, &mut [])?;
        }
        Ok(())
    }
}

/// The delta below a layer, `D⁽ˡ⁻¹⁾ = (W⁽ˡ⁾ᵀ·D⁽ˡ⁾) ⊙ f⁽ˡ⁻¹⁾'(S⁽ˡ⁻¹⁾)`, times the dropout
/// mask `r⁽ˡ⁾` if the pass dropped.
struct Below<'a, T: Real> {
    f: LayerFns<'a, T>,
    d: Rows<'a, T>,
    pre: &'a [T],
    mask: Option<&'a [T]>,
    /// The rows of `D⁽ˡ⁻¹⁾` (the layer's inputs).
    n: usize,
    /// If layer `l − 1` learns activation parameters: each thread's sums, and the
    /// calling thread.
    sums: Option<(Rows<'a, T>, usize)>,
    /// The factor of those sums.
    scale: T,
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
        if r.len() == self.n && self.f.one_function() {
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
    /// With learned parameters, `Δ = d ⊙ r` first (Algorithm 18's order, as the
    /// reference), whose `scale·Δ ⊙ ∂f/∂θ` goes into the calling thread's sums.
    fn finish_run(&self, d: &mut [T], at: Range<usize>, first: usize) -> Result<(), CoreError> {
        let s = &self.pre[at.clone()];
        if let Some((rows, t)) = self.sums {
            if let Some(m) = self.mask {
                for (x, m) in d.iter_mut().zip(&m[at]) {
                    *x *= *m;
                }
            }
            // SAFETY: column t of the sums is the calling thread's alone.
            let sums = unsafe { thread_sums(Some(rows), t) };
            return self.f.backward(s, d, first, self.scale, sums);
        }
        self.f.backward(s, d, first, self.scale, &mut [])?;
        if let Some(m) = self.mask {
            for (x, m) in d.iter_mut().zip(&m[at]) {
                *x *= *m;
            }
        }
        Ok(())
    }
}

/// The threads' sums of a layer's learned parameters (`len` each) in `buf`, if it has any.
fn sums_rows<T>(buf: &mut [T], len: usize, threads: usize) -> Option<Rows<'_, T>> {
    (len > 0).then(|| Rows::new(&mut buf[..threads * len], len, threads))
}

/// Thread `t`'s sums of a layer's learned parameters (column `t` of `sums`), or nothing.
///
/// # Safety
/// No other reference to column `t` may be live.
unsafe fn thread_sums<'a, T>(sums: Option<Rows<'a, T>>, t: usize) -> &'a mut [T] {
    match sums {
        Some(rows) => {
            let len = rows.read().nrows();
            // SAFETY: the caller's promise.
            unsafe { rows.segment_mut(t, 0..len) }
        }
        None => &mut [],
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
