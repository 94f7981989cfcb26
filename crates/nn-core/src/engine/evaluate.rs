//! The public forward passes: the notes' Evaluate (Algorithm 5/6) and
//! EvaluateWithDropout (Algorithm 16, errata 4), batched, with their checks; the pass
//! itself is `forward.rs`.

use nn_math::nalgebra::{Dyn, RawStorage};
use nn_math::{Matrix, MatrixView, Real};
use rand::{Rng, RngExt};

use crate::error::shape_err;

use super::source::Source;
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
        self.forward(Source::Matrix(input), ws, None, false)?;
        Ok(ws.output())
    }

    /// Evaluates the examples `columns` of `data` (one example per column) as one batch,
    /// in that order: the same as [`evaluate_with`](Network::evaluate_with) on a matrix
    /// of those columns, without the caller gathering them first. With a
    /// [`Workspace::with_threads`] each thread gathers its own block of the inputs, which
    /// it alone reads again (see `docs/dev-log.md`).
    ///
    /// ```
    /// use nn_core::Network;
    /// use nn_activations::{Identity, Tanh};
    /// use nn_math::Matrix;
    /// use rand::{SeedableRng, rngs::StdRng};
    ///
    /// let net = Network::<f64>::builder(2).layer(3, Tanh).layer(1, Identity)
    ///     .build(&mut StdRng::seed_from_u64(3))?;
    /// let data = Matrix::from_fn(2, 5, |i, j| (i + 2 * j) as f64 / 10.0);
    /// let mut ws = net.workspace();
    /// let picked = net.evaluate_columns(&data, &[4, 0, 2], &mut ws)?.clone_owned();
    /// let gathered = Matrix::from_columns(&[data.column(4), data.column(0), data.column(2)]);
    /// assert_eq!(picked, net.evaluate(&gathered)?);
    /// assert!(net.evaluate_columns(&data, &[5], &mut ws).is_err());
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    ///
    /// # Errors
    /// [`CoreError::Shape`] if `data` does not have `n₀` rows or `columns` is empty,
    /// [`CoreError::ColumnIndex`] for an index past `data`'s last column.
    pub fn evaluate_columns<'w>(
        &self,
        data: &Matrix<T>,
        columns: &[usize],
        ws: &'w mut Workspace<T>,
    ) -> Result<MatrixView<'w, T>, CoreError> {
        self.check_columns("evaluate_columns", data, columns)?;
        ws.prepare(self, columns.len());
        self.forward(Source::columns(data, columns, 0), ws, None, false)?;
        Ok(ws.output())
    }

    /// [`evaluate_columns`](Network::evaluate_columns) with dropout, as
    /// [`evaluate_with_dropout`](Network::evaluate_with_dropout) (the masks are drawn
    /// from `rng` in the same order, so the two agree for the same seed).
    ///
    /// # Errors
    /// As [`evaluate_columns`](Network::evaluate_columns) and
    /// [`evaluate_with_dropout`](Network::evaluate_with_dropout).
    pub fn evaluate_columns_with_dropout<'w, R>(
        &self,
        data: &Matrix<T>,
        columns: &[usize],
        ws: &'w mut Workspace<T>,
        dropout: &Dropout,
        rng: &mut R,
    ) -> Result<MatrixView<'w, T>, CoreError>
    where
        R: Rng + ?Sized,
    {
        self.check_columns("evaluate_columns_with_dropout", data, columns)?;
        self.draw_masks(ws, columns.len(), dropout, rng)?;
        self.forward(Source::columns(data, columns, 0), ws, None, false)?;
        Ok(ws.output())
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
        self.draw_masks(ws, input.ncols(), dropout, rng)?;
        self.forward(Source::Matrix(input), ws, None, false)?;
        Ok(ws.output())
    }

    /// Prepares `ws` for a batch of `batch` columns and draws the dropout masks of
    /// Algorithm 16 (errata 4): each `r_j` is 0 with probability `δ` and `1/(1 − δ)`
    /// otherwise.
    pub(crate) fn draw_masks<R: Rng + ?Sized>(
        &self,
        ws: &mut Workspace<T>,
        batch: usize,
        dropout: &Dropout,
        rng: &mut R,
    ) -> Result<(), CoreError> {
        self.check_dropout(dropout)?;
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
        Ok(())
    }

    /// Checks that `dropout` has one rate per non-output layer.
    pub(crate) fn check_dropout(&self, dropout: &Dropout) -> Result<(), CoreError> {
        if dropout.rates().len() == self.n_layers() {
            return Ok(());
        }
        Err(CoreError::Architecture(format!(
            "dropout has {} rates, the network needs {} (the input layer and each hidden layer)",
            dropout.rates().len(),
            self.n_layers()
        )))
    }

    /// Checks a data set and a list of its columns for the forward pass `op`.
    pub(crate) fn check_columns(
        &self,
        op: &'static str,
        data: &Matrix<T>,
        columns: &[usize],
    ) -> Result<(), CoreError> {
        self.check_input(op, data.nrows())?;
        if columns.is_empty() {
            return Err(shape_err(op, "the column list", "entries", 1, 0));
        }
        match columns.iter().find(|&&c| c >= data.ncols()) {
            Some(&index) => Err(CoreError::ColumnIndex {
                op,
                index,
                columns: data.ncols(),
            }),
            None => Ok(()),
        }
    }

    pub(crate) fn check_input(&self, op: &'static str, rows: usize) -> Result<(), CoreError> {
        if rows == self.n_inputs() {
            Ok(())
        } else {
            Err(shape_err(op, "input", "rows", self.n_inputs(), rows))
        }
    }
}
