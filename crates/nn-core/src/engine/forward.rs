//! The forward pass: the notes' Evaluate (Algorithm 5/6) and EvaluateWithDropout
//! (Algorithm 16, errata 4), batched.

use nn_math::nalgebra::{Dyn, RawStorage};
use nn_math::{Matrix, Real, mul_to};

use std::ops::Range;

use super::ahead::{Ahead, fork_layer};
use super::rows::Rows;
use super::source::{Source, copy_columns};
use super::split::{Split, fork};
use super::team::{part_lines, part_rows};
use crate::{CoreError, Dense, Network, Workspace};

impl<T: Real> Network<T> {
    /// The forward pass proper, on a workspace already prepared for this batch: one fork
    /// per layer (see [`Workspace`], "Threads"), plus one to finish the output layer if
    /// it is split by inputs. Threads that would wait gather the next batch into
    /// `ahead`, if given (see `feed::fork_layer`).
    ///
    /// Layer `k`'s fork first finishes layer `k − 1` if that one was split by inputs (its
    /// partial products are in): by rows `C_t` if layer `k` is split by inputs too, by
    /// examples `J_t` otherwise; then thread `t` computes its share of `S⁽ᵏ⁾`: the partial
    /// product `W⁽ᵏ⁾[:, C_t]·A⁽ᵏ⁻¹⁾[C_t, :]`, or the columns `W⁽ᵏ⁾·A⁽ᵏ⁻¹⁾[:, J_t]`,
    /// which it finishes at once.
    ///
    /// With `done`, the first layer's product (each thread's share) is already in
    /// `ws.next_product` (`crate::next_product`): it is copied, unless the inputs are
    /// dropped out or the first layer is split otherwise than when it was computed.
    pub(crate) fn forward<S>(
        &self,
        source: Source<'_, T, S>,
        ws: &mut Workspace<T>,
        ahead: Option<&Ahead<'_, T>>,
        done: bool,
    ) -> Result<(), CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
    {
        if self.dense_layers().is_none() {
            return super::examples::forward(self, source, ws);
        }
        let batch = source.batch();
        let n0 = self.n_inputs();
        let team = ws.team();
        if let Source::Matrix(input) = source {
            copy_columns(input, &mut ws.input[..n0 * batch]);
        }
        let layers = self.n_layers();
        let threads = team.as_ref().map_or(1, |t| t.threads());
        let splitter = ws.splitter();
        let split = |k: usize| {
            let l = &self.engine_layers()[k];
            splitter.of(k, l.n_outputs(), l.n_inputs(), batch)
        };
        let input = Rows::new(&mut ws.input, n0, batch);
        let input_mask = ws.masked[0].then(|| &ws.masks[0][..n0 * batch]);
        let (gather, ready) = match source {
            Source::Columns(data, columns, ready) => (Some((data, columns)), ready),
            Source::Matrix(_) => (None, 0),
        };
        let masks = &ws.masks;
        // The first layer's product, if computed during the last update (for these
        // columns: `done` says so).
        let done = done
            && input_mask.is_none()
            && match split(0) {
                Split::Inputs => ws.next_product.parts == threads,
                Split::Alone => ws.next_product.parts == 1,
                Split::Examples => false,
            };
        let product_done =
            done.then_some((ws.next_product.values.as_slice(), ws.next_product.stride));
        // A data set's columns are gathered by examples when layer 0 is split by inputs
        // and the batch has a few examples per thread: each thread then reads whole
        // columns, contiguous runs of the data set, which streams from memory faster than
        // every thread reading part of every column (measured: 14 µs instead of 19 µs per
        // thread at batch 64, `docs/dev-log.md`).
        let gathered = gather.is_some() && split(0) == Split::Inputs && batch >= 4 * threads;
        // Columns gathered ahead need only their mask, if any.
        let first = if input_mask.is_some() { 0 } else { ready };
        if gathered && first < batch {
            fork(team.as_deref(), |t, p| {
                let cols = part_rows(batch - first, t, p);
                let cols = first + cols.start..first + cols.end;
                gather_block(input, 0..n0, cols, gather, ready, input_mask);
                Ok(())
            })?;
        }
        for k in 0..layers {
            let layer = &self.engine_layers()[k];
            let (n, n_prev) = (layer.n_outputs(), layer.n_inputs());
            let (pre_done, pre_rest) = ws.pre.split_at_mut(k);
            let (act_done, act_rest) = ws.act.split_at_mut(k);
            let (part_done, part_rest) = ws.partial.split_at_mut(k);
            let s = Rows::new(&mut pre_rest[0], n, batch);
            let a = Rows::new(&mut act_rest[0], n, batch);
            let partial = Rows::new(&mut part_rest[0], n, (threads - 1) * batch);
            let below = match act_done.last_mut() {
                Some(buf) => Rows::new(buf, n_prev, batch),
                None => input,
            };
            let finish_below = (k > 0 && split(k - 1) == Split::Inputs).then(|| Finish {
                layer: &self.engine_layers()[k - 1],
                s: Rows::new(&mut pre_done[k - 1], n_prev, batch),
                a: below,
                partial: &part_done[k - 1],
                parts: threads,
                mask: ws.masked[k].then(|| &masks[k][..n_prev * batch]),
                batch,
            });
            let finish = Finish {
                layer,
                s,
                a,
                partial: &[],
                parts: 1,
                mask: (k + 1 < layers && ws.masked[k + 1]).then(|| &masks[k + 1][..n * batch]),
                batch,
            };
            let w = layer.weight();
            let by_inputs = split(k) == Split::Inputs;
            fork_layer(split(k), team.as_deref(), ahead, |t, p| {
                // This thread's block of A⁽ᵏ⁻¹⁾: rows C_t of every column, or every row of
                // columns J_t.
                let (rows, cols) = match by_inputs {
                    true => (part_lines(n_prev, t, p), 0..batch),
                    false => (0..n_prev, part_rows(batch, t, p)),
                };
                match &finish_below {
                    Some(f) => f.block(rows.clone(), cols.clone())?,
                    None if k == 0 && !gathered => {
                        let (r, c) = (rows.clone(), cols.clone());
                        gather_block(input, r, c, gather, ready, input_mask);
                    }
                    None => {}
                }
                if by_inputs {
                    // SAFETY: in this fork, thread 0 alone writes S⁽ᵏ⁾, thread t ≥ 1 alone
                    // its block of the partial products, and nobody writes A⁽ᵏ⁻¹⁾[C_t, :]
                    // but this thread, above.
                    let (a_prev, mut out) = unsafe {
                        let out = match t {
                            0 => s.block_mut(0..n),
                            _ => partial.columns_mut((t - 1) * batch..t * batch),
                        };
                        (below.read().block(rows.clone()), out)
                    };
                    match product_done.filter(|_| k == 0) {
                        Some((values, stride)) => copy_part(values, stride, t, &mut out),
                        None => mul_to(&w.columns_range(rows), &a_prev, &mut out)?,
                    }
                } else {
                    // SAFETY: columns J_t of A⁽ᵏ⁻¹⁾, S⁽ᵏ⁾ and A⁽ᵏ⁾ are this thread's alone.
                    let (a_prev, mut out) = unsafe {
                        (
                            below.read().columns(cols.clone()),
                            s.columns_mut(cols.clone()),
                        )
                    };
                    match product_done.filter(|_| k == 0) {
                        Some((values, stride)) => copy_part(values, stride, t, &mut out),
                        None => mul_to(&w, &a_prev, &mut out)?,
                    }
                    finish.block(0..n, cols)?;
                }
                Ok(())
            })?;
        }
        // The output layer, if split by inputs, is finished by examples.
        let last = layers - 1;
        let n = self.n_outputs();
        if split(last) == Split::Inputs {
            let finish = Finish {
                layer: &self.engine_layers()[last],
                s: Rows::new(&mut ws.pre[last], n, batch),
                a: Rows::new(&mut ws.act[last], n, batch),
                partial: &ws.partial[last],
                parts: threads,
                mask: None,
                batch,
            };
            fork(team.as_deref(), |t, p| {
                finish.block(0..n, part_rows(batch, t, p))
            })?;
        }
        ws.batch = batch;
        Ok(())
    }
}

/// Puts part `t` of a first-layer product computed ahead (`crate::next_product`: part
/// `t`'s column `j` at `(t·B + j)·stride`) into `out` (`n × B`).
fn copy_part<T: Real>(
    values: &[T],
    stride: usize,
    t: usize,
    out: &mut nn_math::MatrixViewMut<'_, T>,
) {
    let (n, batch) = out.shape();
    for j in 0..batch {
        let at = (t * batch + j) * stride;
        out.column_mut(j).copy_from_slice(&values[at..at + n]);
    }
}

/// Rows `r` of columns `cols` of the input `A⁽⁰⁾`, for the thread that owns them in the
/// first fork: gathered from the data set's columns if the source is one (else copied
/// already), except the first `ready` columns (gathered ahead), times the input's
/// dropout mask `r⁽⁰⁾` if any.
fn gather_block<T: Real>(
    input: Rows<'_, T>,
    r: Range<usize>,
    cols: Range<usize>,
    gather: Option<(&Matrix<T>, &[usize])>,
    ready: usize,
    mask: Option<&[T]>,
) {
    let n0 = input.read().nrows();
    for j in cols {
        // SAFETY: in the first fork, the calling thread alone touches this block.
        let a = unsafe { input.segment_mut(j, r.clone()) };
        if let (Some((data, columns)), true) = (gather, j >= ready) {
            a.copy_from_slice(&data.as_slice()[columns[j] * n0..][r.clone()]);
        }
        if let Some(m) = mask {
            for (x, m) in a.iter_mut().zip(&m[j * n0 + r.start..j * n0 + r.end]) {
                *x *= *m;
            }
        }
    }
}

/// The end of layer `k`'s forward pass for a block of it, rows `r` of columns `cols`,
/// once every thread's share of `S⁽ᵏ⁾` is in: `S += Σ_t partial_t + b·1ᵀ` (threads in
/// order), then `A = f(S)`, times the dropout mask `r⁽ᵏ⁾` of a dropped hidden layer.
struct Finish<'a, T: Real> {
    layer: &'a Dense<T>,
    s: Rows<'a, T>,
    a: Rows<'a, T>,
    partial: &'a [T],
    /// How many parts the layer's product was split into (`partial` holds parts 1..).
    parts: usize,
    mask: Option<&'a [T]>,
    batch: usize,
}

impl<T: Real> Finish<'_, T> {
    /// Finishes rows `r` of columns `cols`; the calling thread must own that block of
    /// `S` and `A` in the current fork.
    fn block(&self, r: Range<usize>, cols: Range<usize>) -> Result<(), CoreError> {
        let (n, batch) = (self.layer.n_outputs(), self.batch);
        let bias = &self.layer.bias().as_slice()[r.clone()];
        let f = self.layer.fns();
        // Whole columns of a layer with one function: `f` once over their run (a call
        // per column, with the backward pass's, cost about 4 µs of a 300 µs W1 step:
        // docs/dev-log.md, item 30).
        let run = r.len() == n && f.one_function();
        for c in cols.clone() {
            // SAFETY: the caller's thread alone touches this block of S and A in this fork.
            let sc = unsafe { self.s.segment_mut(c, r.clone()) };
            for u in 1..self.parts {
                let at = ((u - 1) * batch + c) * n;
                for (x, y) in sc.iter_mut().zip(&self.partial[at + r.start..at + r.end]) {
                    *x += *y;
                }
            }
            for (x, b) in sc.iter_mut().zip(bias) {
                *x += *b;
            }
            if !run {
                // SAFETY: as above.
                let ac = unsafe { self.a.segment_mut(c, r.clone()) };
                f.forward(sc, ac, r.start)?;
                self.drop_out(ac, c * n + r.start);
            }
        }
        if run {
            // SAFETY: as above; the column views of the loop are no longer used.
            let (s, a) = unsafe {
                (
                    self.s.column_run(cols.clone()),
                    self.a.column_run_mut(cols.clone()),
                )
            };
            f.forward(s, a, 0)?;
            self.drop_out(a, cols.start * n);
        }
        Ok(())
    }

    /// `a ⊙ r` for the mask's entries from `at` on, if the layer drops out.
    fn drop_out(&self, a: &mut [T], at: usize) {
        if let Some(m) = self.mask {
            let end = at + a.len();
            for (x, m) in a.iter_mut().zip(&m[at..end]) {
                *x *= *m;
            }
        }
    }
}
