//! A network that is not all dense (convolutions, pooling, a user's layers), its batch
//! split by examples between a workspace's threads.
//!
//! Every layer computes each example (column) on its own, so thread `t` runs the whole
//! forward pass, and later the whole backward pass, on its own block `J_t` of the batch's
//! columns, in one fork each: the reference procedures ([`crate::reference`]) on a
//! narrower batch. The blocks of `A⁽ᵏ⁾`, `Δ⁽ᵏ⁾` and the dropout masks are contiguous runs
//! of the workspace's column-major buffers; each layer's scratch is laid out block after
//! block (`scratch_len(|J_t|)` values each), so a layer sees exactly what it would on a
//! batch of `|J_t|` examples. Thread 0 adds its examples' share of the mean gradient
//! into the caller's gradient, the others into their own, which are then added to it in
//! thread order: the same thread count gives the same bits every run.

use std::ops::Range;
use std::sync::Mutex;

use nn_math::nalgebra::{Dyn, RawStorage};
use nn_math::{MatrixView, MatrixViewMut, Real};

use super::rows::RawRun;
use super::source::Source;
use super::team::part_rows;
use crate::reference::{fill_input, grow, hadamard_in_place};
use crate::{CoreError, Gradient, Loss, Network, Saved, Workspace};

/// The number of blocks a batch is split into: one per thread, at most one per example.
fn parts<T: Real>(ws: &Workspace<T>, batch: usize) -> usize {
    ws.threads().min(batch).max(1)
}

/// Where block `t` of `p` lies among a layer's scratch regions, `len(b)` values each for
/// a block of `b` examples.
fn scratch_range(len: impl Fn(usize) -> usize, batch: usize, t: usize, p: usize) -> Range<usize> {
    let start: usize = (0..t).map(|s| len(part_rows(batch, s, p).len())).sum();
    start..start + len(part_rows(batch, t, p).len())
}

/// Values `n·J` of a column-major buffer of `n` rows: columns `J`.
fn cols(n: usize, j: &Range<usize>) -> Range<usize> {
    n * j.start..n * j.end
}

/// Per layer `k`, its buffers' runs at `4k + ..`: `A⁽ᵏ⁾`, scratch, `r ⊙ A⁽ᵏ⁾`, `Δ⁽ᵏ⁾`;
/// then `A⁽⁰⁾` and the examples' losses.
const ACT: usize = 0;
const SCRATCH: usize = 1;
const DROPPED: usize = 2;
const DELTA: usize = 3;

/// Takes the addresses of the workspace's buffers into `ws.runs` (sized first: the
/// threads only split them).
fn take_runs<T: Real>(net: &Network<T>, ws: &mut Workspace<T>, batch: usize, p: usize) {
    let n_layers = net.n_layers();
    let Workspace {
        input,
        pre: scratch,
        act,
        partial: dropped,
        delta,
        example_loss,
        masked,
        runs,
        ..
    } = ws;
    runs.clear();
    for (k, layer) in net.layers().enumerate() {
        grow(
            &mut scratch[k],
            scratch_range(|b| layer.scratch_len(b), batch, p - 1, p).end,
        );
        if k + 1 < n_layers && masked[k + 1] {
            grow(&mut dropped[k], layer.n_outputs() * batch);
        }
        runs.extend([
            RawRun::of(&mut act[k]),
            RawRun::of(&mut scratch[k]),
            RawRun::of(&mut dropped[k]),
            RawRun::of(&mut delta[k]),
        ]);
    }
    runs.extend([RawRun::of(input), RawRun::of(example_loss)]);
}

/// The first error of the lowest-numbered part that failed.
struct FirstError(Mutex<Option<(usize, CoreError)>>);

impl FirstError {
    fn new() -> Self {
        Self(Mutex::new(None))
    }

    fn record(&self, t: usize, result: Result<(), CoreError>) {
        if let Err(e) = result {
            let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if slot.as_ref().is_none_or(|(s, _)| t < *s) {
                *slot = Some((t, e));
            }
        }
    }

    fn result(self) -> Result<(), CoreError> {
        match self.0.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

/// The forward pass of a network that is not all dense, on a workspace prepared for the
/// batch (masks drawn): on the calling thread if the workspace has one thread (or the
/// batch one example), else split by examples, one fork for all layers.
pub(crate) fn forward<T: Real, S: RawStorage<T, Dyn, Dyn>>(
    net: &Network<T>,
    source: Source<'_, T, S>,
    ws: &mut Workspace<T>,
) -> Result<(), CoreError> {
    let batch = source.batch();
    let p = parts(ws, batch);
    let Some(team) = ws.team().filter(|_| p > 1) else {
        return crate::reference::forward(net, source, ws);
    };
    crate::scored::batch_lengths(&ws.lengths, batch)?;
    fill_input(net, source, ws);
    take_runs(net, ws, batch, p);
    let (n_layers, n0) = (net.n_layers(), net.n_inputs());
    let (runs, masks, masked) = (&ws.runs, &ws.masks, &ws.masked);
    let lengths = &ws.lengths;
    let errors = FirstError::new();
    team.run(&|t| {
        if t >= p {
            return; // more threads than examples
        }
        let j = part_rows(batch, t, p);
        let b = j.len();
        let lens = lengths.get(j.clone()).unwrap_or(&[]);
        let pass = || -> Result<(), CoreError> {
            // SAFETY (every run below): part `t` alone touches columns `J_t` of each
            // buffer and its own scratch block, and the buffers stay put during the fork.
            let a0 = unsafe { runs[4 * n_layers].run(cols(n0, &j)) };
            for (k, layer) in net.layers().enumerate() {
                let (n_in, n) = (layer.n_inputs(), layer.n_outputs());
                let a_prev = match k {
                    0 => a0,
                    _ if masked[k] => unsafe { runs[4 * (k - 1) + DROPPED].run(cols(n_in, &j)) },
                    _ => unsafe { runs[4 * (k - 1) + ACT].run(cols(n_in, &j)) },
                };
                let out = unsafe { runs[4 * k + ACT].run_mut(cols(n, &j)) };
                let range = scratch_range(|b| layer.scratch_len(b), batch, t, p);
                let s = unsafe { runs[4 * k + SCRATCH].run_mut(range) };
                layer.forward_with_lengths(
                    MatrixView::from_slice(a_prev, n_in, b),
                    MatrixViewMut::from_slice(out, n, b),
                    s,
                    lens,
                )?;
                if k + 1 < n_layers && masked[k + 1] {
                    let d = unsafe { runs[4 * k + DROPPED].run_mut(cols(n, &j)) };
                    d.copy_from_slice(out);
                    hadamard_in_place(d, &masks[k + 1][cols(n, &j)]);
                }
            }
            Ok(())
        };
        errors.record(t, pass());
    });
    errors.result()?;
    ws.batch = batch;
    ws.parts = p;
    Ok(())
}

/// AdjustGradient (Algorithm 7/8) of a pass that [`forward`] split: each part
/// backpropagates its examples, adding their share of the mean gradient to its own
/// gradient, then the parts' gradients are added to `grad` in order. Returns the batch's
/// mean loss.
pub(crate) fn adjust_gradient<T, S, L>(
    net: &Network<T>,
    ws: &mut Workspace<T>,
    target: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
    loss: &L,
    grad: &mut Gradient<T>,
) -> Result<T, CoreError>
where
    T: Real,
    S: RawStorage<T, Dyn, Dyn>,
    L: Loss<T> + ?Sized,
{
    let (batch, p) = (ws.batch, ws.parts);
    let team = match ws.team() {
        Some(team) if p > 1 => team,
        _ => return crate::reference::adjust_gradient(net, ws, target, loss, grad),
    };
    grad.check("adjust_gradient", net)?;
    net.take_target("adjust_gradient", ws, target)?;
    if ws.part_grads.len() < p - 1 || ws.part_grads.iter().any(|g| g.check_shapes(net).is_err()) {
        ws.part_grads = (1..p).map(|_| net.gradient()).collect();
    }
    take_runs(net, ws, batch, p);
    let (n_layers, n0, n_out) = (net.n_layers(), net.n_inputs(), net.n_outputs());
    let scale = T::one() / T::lit(batch as f64);
    let grads = RawRun::of(std::slice::from_mut(grad));
    let others = RawRun::of(&mut ws.part_grads);
    let (runs, masks, masked, targets) = (&ws.runs, &ws.masks, &ws.masked, &ws.target);
    let lengths = crate::scored::batch_lengths(&ws.lengths, batch)?;
    let errors = FirstError::new();
    team.run(&|t| {
        if t >= p {
            return; // more threads than examples
        }
        let j = part_rows(batch, t, p);
        let b = j.len();
        let lens = lengths.get(j.clone()).unwrap_or(&[]);
        let pass = || -> Result<(), CoreError> {
            // SAFETY (every run below): as in `forward`; part `t` alone uses gradient `t`.
            let g = unsafe {
                match t {
                    0 => &mut grads.run_mut(0..1)[0],
                    _ => {
                        let g = &mut others.run_mut(t - 1..t)[0];
                        g.clear();
                        g
                    }
                }
            };
            // Δ⁽ᴸ⁾ and each example's loss.
            let out = unsafe { runs[4 * (n_layers - 1) + ACT].run(cols(n_out, &j)) };
            let d_last = unsafe { runs[4 * (n_layers - 1) + DELTA].run_mut(cols(n_out, &j)) };
            let losses = unsafe { runs[4 * n_layers + 1].run_mut(j.clone()) };
            let y = &targets[cols(n_out, &j)];
            for (c, l) in losses.iter_mut().enumerate() {
                let col = c * n_out..(c + 1) * n_out;
                let parts = (&out[col.clone()], &y[col.clone()], &mut d_last[col]);
                *l = crate::scored::example_loss_and_gradient(
                    net,
                    parts,
                    lens.get(c).copied(),
                    loss,
                );
            }
            for k in (0..n_layers).rev() {
                let Some(layer) = net.layer(k) else { break };
                let (n_in, n) = (layer.n_inputs(), layer.n_outputs());
                let a_prev = match k {
                    0 => unsafe { runs[4 * n_layers].run(cols(n0, &j)) },
                    _ if masked[k] => unsafe { runs[4 * (k - 1) + DROPPED].run(cols(n_in, &j)) },
                    _ => unsafe { runs[4 * (k - 1) + ACT].run(cols(n_in, &j)) },
                };
                let range = scratch_range(|b| layer.scratch_len(b), batch, t, p);
                let saved = Saved {
                    input: MatrixView::from_slice(a_prev, n_in, b),
                    output: MatrixView::from_slice(
                        unsafe { runs[4 * k + ACT].run(cols(n, &j)) },
                        n,
                        b,
                    ),
                    scratch: unsafe { runs[4 * k + SCRATCH].run_mut(range) },
                };
                let d_out = unsafe { runs[4 * k + DELTA].run_mut(cols(n, &j)) };
                let d_in =
                    (k > 0).then(|| unsafe { runs[4 * (k - 1) + DELTA].run_mut(cols(n_in, &j)) });
                let tensors = g.layers_mut()[k].tensors_mut();
                layer.backward_with_lengths(
                    saved,
                    MatrixViewMut::from_slice(d_out, n, b),
                    scale,
                    tensors,
                    d_in.map(|d| MatrixViewMut::from_slice(d, n_in, b)),
                    lens,
                )?;
                if k > 0 && masked[k] {
                    let d = unsafe { runs[4 * (k - 1) + DELTA].run_mut(cols(n_in, &j)) };
                    hadamard_in_place(d, &masks[k][cols(n_in, &j)]);
                }
            }
            Ok(())
        };
        errors.record(t, pass());
    });
    errors.result()?;
    for other in &ws.part_grads[..p - 1] {
        for (mine, theirs) in grad.layers_mut().iter_mut().zip(other.layers()) {
            for (a, b) in mine.tensors_mut().iter_mut().zip(theirs.tensors()) {
                *a += b;
            }
        }
    }
    let total = ws.example_loss[..batch]
        .iter()
        .fold(T::zero(), |s, &l| s + l);
    ws.update_finite = grad.is_finite();
    Ok(total * scale)
}
