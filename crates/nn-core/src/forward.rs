//! The forward pass: the notes' Evaluate (Algorithm 5/6) and EvaluateWithDropout
//! (Algorithm 16, errata 4), batched.

use nn_math::nalgebra::{DMatrixView, Dyn, RawStorage};
use nn_math::{Matrix, MatrixView, Real, mul_to};
use rand::{Rng, RngExt};

use crate::error::shape_err;
use crate::rows::Rows;
use crate::workspace::fork;
use crate::{CoreError, Dropout, Network, Workspace};

impl<T: Real> Network<T> {
    /// The network's outputs for a batch of inputs (Algorithm 5/6), as a new matrix.
    ///
    /// Convenient for predictions; in a training loop use
    /// [`evaluate_with`](Network::evaluate_with) and a reused [`Workspace`].
    ///
    /// # Shapes
    /// `input`: `(n₀ × B)`, one example per column; result `(n_L × B)`.
    ///
    /// # Errors
    /// [`CoreError::Shape`] if `input` does not have `n₀` rows.
    pub fn evaluate<S>(
        &self,
        input: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
    ) -> Result<Matrix<T>, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
    {
        let mut ws = self.workspace();
        Ok(self.evaluate_with(input, &mut ws)?.clone_owned())
    }

    /// Evaluates a batch (Algorithm 6): for `k = 1..L`, `S⁽ᵏ⁾ = W⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾·1ᵀ`
    /// and `A⁽ᵏ⁾ = f⁽ᵏ⁾(S⁽ᵏ⁾)` (eq. 2), keeping every `S⁽ᵏ⁾` and `A⁽ᵏ⁾` in `ws` for
    /// [`adjust_gradient`](Network::adjust_gradient). Returns a view of `A⁽ᴸ⁾`.
    ///
    /// After the first batch of a given size, this allocates nothing.
    ///
    /// # Shapes
    /// `input`: `(n₀ × B)` (any nalgebra storage, e.g. a column range of a data set);
    /// result `(n_L × B)`.
    ///
    /// # Errors
    /// [`CoreError::Shape`] if `input` does not have `n₀` rows.
    pub fn evaluate_with<'w, S>(
        &self,
        input: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
        ws: &'w mut Workspace<T>,
    ) -> Result<MatrixView<'w, T>, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
    {
        self.check_input("evaluate_with", input.nrows())?;
        ws.prepare(self, input.ncols());
        self.forward(input, ws)
    }

    /// Evaluates a batch with dropout, as in training (Algorithm 16 with errata 4):
    /// `a⁽⁰⁾ = r⁽⁰⁾ ⊙ x`, and for each hidden layer `s⁽ᵏ⁾ = W⁽ᵏ⁾·a⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾`,
    /// `a⁽ᵏ⁾ = r⁽ᵏ⁾ ⊙ f⁽ᵏ⁾(s⁽ᵏ⁾)`, where each `r_j` is 0 with probability `δ` and
    /// `1/(1 − δ)` otherwise, drawn independently per example from `rng`. The output layer
    /// is never dropped. The masks stay in `ws` for
    /// [`adjust_gradient`](Network::adjust_gradient) (Algorithm 18).
    ///
    /// # Errors
    /// [`CoreError::Shape`] for a wrong input, [`CoreError::Architecture`] if `dropout`
    /// does not have one rate per non-output layer.
    pub fn evaluate_with_dropout<'w, S, R>(
        &self,
        input: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
        ws: &'w mut Workspace<T>,
        dropout: &Dropout,
        rng: &mut R,
    ) -> Result<MatrixView<'w, T>, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
        R: Rng + ?Sized,
    {
        self.check_input("evaluate_with_dropout", input.nrows())?;
        if dropout.rates().len() != self.layers().len() {
            return Err(CoreError::Architecture(format!(
                "dropout has {} rates, the network needs {} (the input layer and each hidden layer)",
                dropout.rates().len(),
                self.layers().len()
            )));
        }
        let batch = input.ncols();
        ws.prepare(self, batch);
        for (k, &rate) in dropout.rates().iter().enumerate() {
            if rate == 0.0 {
                continue;
            }
            let len = ws.widths[k] * batch;
            let mask = &mut ws.masks[k];
            if mask.len() < len {
                mask.resize(len, T::zero());
            }
            let keep = T::lit(1.0 / (1.0 - rate));
            for r in &mut mask[..len] {
                *r = if rng.random::<f64>() < rate {
                    T::zero()
                } else {
                    keep
                };
            }
            ws.masked[k] = true;
        }
        self.forward(input, ws)
    }

    fn check_input(&self, op: &'static str, rows: usize) -> Result<(), CoreError> {
        if rows == self.n_inputs() {
            Ok(())
        } else {
            Err(shape_err(op, "input", "rows", self.n_inputs(), rows))
        }
    }

    /// The forward pass proper, on a workspace already prepared for this batch.
    fn forward<'w, S>(
        &self,
        input: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
        ws: &'w mut Workspace<T>,
    ) -> Result<MatrixView<'w, T>, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
    {
        let batch = input.ncols();
        let n0 = self.n_inputs();
        let team = ws.team_for(batch);
        let a0 = &mut ws.input[..n0 * batch];
        copy_columns(input, a0);
        if ws.masked[0] {
            for (a, r) in a0.iter_mut().zip(&ws.masks[0]) {
                *a *= *r;
            }
        }
        let last = self.layers().len() - 1;
        for (k, layer) in self.layers().iter().enumerate() {
            let (n, n_prev) = (layer.n_outputs(), layer.n_inputs());
            let (done, rest) = ws.act.split_at_mut(k);
            let prev: &[T] = if k == 0 {
                &ws.input[..n_prev * batch]
            } else {
                &done[k - 1][..n_prev * batch]
            };
            let prev = DMatrixView::from_slice(prev, n_prev, batch);
            let s = Rows::new(&mut ws.pre[k], n, batch);
            let a = Rows::new(&mut rest[0], n, batch);
            // Hidden layer k + 1 (in the notes' numbering) may be dropped; never the output.
            let mask = (k < last && ws.masked[k + 1]).then(|| &ws.masks[k + 1][..n * batch]);
            let (w, bias, f) = (layer.weight(), layer.bias().as_slice(), layer.activation());
            // Each part computes its block `r` of neurons: S[r] = W[r]·A⁽ᵏ⁻¹⁾ + b[r]·1ᵀ,
            // A[r] = f(S[r]) (⊙ r⁽ᵏ⁾[r]).
            fork(team.as_deref(), |t, p| {
                for r in s.part(t, p).into_iter().filter(|r| !r.is_empty()) {
                    // SAFETY: in this fork, part t alone touches rows r of S⁽ᵏ⁾ and A⁽ᵏ⁾.
                    mul_to(&w.rows_range(r.clone()), &prev, &mut unsafe {
                        s.block_mut(r.clone())
                    })?;
                    for c in 0..batch {
                        // SAFETY: as above; the block view above is gone.
                        let (sc, ac) =
                            unsafe { (s.segment_mut(c, r.clone()), a.segment_mut(c, r.clone())) };
                        for (x, b) in sc.iter_mut().zip(&bias[r.clone()]) {
                            *x += *b;
                        }
                        f.forward(sc, ac, r.start)?;
                        if let Some(m) = mask {
                            for (x, m) in ac.iter_mut().zip(&m[c * n + r.start..c * n + r.end]) {
                                *x *= *m;
                            }
                        }
                    }
                }
                Ok(())
            })?;
        }
        ws.batch = batch;
        let n_out = self.n_outputs();
        Ok(DMatrixView::from_slice(
            &ws.act[last][..n_out * batch],
            n_out,
            batch,
        ))
    }
}

/// Copies a matrix into a column-major buffer of its size: one `memcpy` when the matrix is
/// stored contiguously column by column (a `Matrix`, or a range of its columns), else
/// element by element.
pub(crate) fn copy_columns<T: Real, S>(m: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>, out: &mut [T])
where
    S: RawStorage<T, Dyn, Dyn>,
{
    let (rows, cols) = m.shape();
    if m.strides() == (1, rows) && rows * cols == out.len() {
        // SAFETY: with row stride 1 and column stride `rows`, the `rows·cols` elements of
        // `m` are exactly the contiguous run starting at its first element, which `m`
        // borrows for this call.
        let src = unsafe { core::slice::from_raw_parts(m.data.ptr(), rows * cols) };
        out.copy_from_slice(src);
    } else {
        for (dst, src) in out.iter_mut().zip(m.iter()) {
            *dst = *src;
        }
    }
}
