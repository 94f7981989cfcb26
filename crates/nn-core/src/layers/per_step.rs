//! A dense layer applied to every step of a sequence (many-to-many, guide §13): the same
//! weights for each step, as PyTorch's `nn.Linear` on an `N×T×F` tensor.

use nn_math::nalgebra::{RawStorage, RawStorageMut};
use nn_math::{Matrix, MatrixView, MatrixViewMut, Real};

use super::activation::LayerActivation;
use crate::{CoreError, Dense, Layer, ParamSpec, Saved};

/// A [`Dense`] layer applied to each of `steps` steps: an example's column of
/// `T·n_in` values (the steps one after another, as an [`crate::Elman`] layer with
/// [`crate::Steps::All`] hands them on) gives `T·n_out`, step `t`'s output
/// `f(W·x_t + b)` with one `W` and `b` for all steps.
///
/// A batch of `B` such columns is, read as `n_in` rows, a batch of `T·B` columns of the
/// dense layer: the same memory, so the layer runs as one dense layer over all steps at
/// once, and its gradient is the sum over the steps. Its tensors are the dense layer's
/// (`weight`, `bias`).
///
/// ```
/// use nn_core::{Dense, Layer, PerStep};
/// use nn_activations::Identity;
/// use nn_math::{Matrix, Vector};
///
/// let dense = Dense::new(Matrix::from_row_slice(1, 2, &[1.0, -1.0]), Vector::from_vec(vec![0.5]), Identity)?;
/// let layer = PerStep::new(3, dense)?;
/// assert_eq!((layer.n_inputs(), layer.n_outputs()), (6, 3));
/// // Steps (1, 2), (3, 5), (0, 0) of one example: x₁ − x₂ + 0.5 each.
/// let x = Matrix::from_column_slice(6, 1, &[1.0, 2.0, 3.0, 5.0, 0.0, 0.0]);
/// let mut out = Matrix::zeros(3, 1);
/// let mut scratch = vec![0.0; layer.scratch_len(1)];
/// layer.forward(x.as_view(), out.as_view_mut(), &mut scratch)?;
/// assert_eq!(out.as_slice(), &[-0.5, -1.5, 0.5]);
/// # Ok::<(), nn_core::CoreError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PerStep<T: Real> {
    steps: usize,
    dense: Dense<T>,
}

impl<T: Real> PerStep<T> {
    /// `dense` applied to each of `steps` steps.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] for 0 steps, too many values per example, or a dense
    /// layer that learns activation parameters (not built for per-step layers).
    pub fn new(steps: usize, dense: Dense<T>) -> Result<Self, CoreError> {
        if steps == 0
            || steps
                .checked_mul(dense.n_inputs().max(dense.n_outputs()))
                .is_none()
        {
            return Err(CoreError::Architecture(format!(
                "per-step dense: {steps} steps of {} inputs is no sequence",
                dense.n_inputs()
            )));
        }
        if dense.learns().is_some() {
            return Err(CoreError::Architecture(
                "per-step dense: learned activation parameters are only built for dense layers"
                    .into(),
            ));
        }
        Ok(Self { steps, dense })
    }

    /// Steps per sequence.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The dense layer applied at each step.
    pub fn dense(&self) -> &Dense<T> {
        &self.dense
    }

    /// The activation of the dense layer.
    pub fn activation(&self) -> &LayerActivation<T> {
        self.dense.activation()
    }

    /// `m` (`rows·T × B`, contiguous) read as `rows × T·B`.
    fn unfold<'a>(
        &self,
        m: MatrixView<'a, T>,
        rows: usize,
    ) -> Result<MatrixView<'a, T>, CoreError> {
        let cols = m.ncols() * self.steps;
        if m.nrows() * m.ncols() > 0 && m.strides() != (1, m.nrows()) {
            return Err(CoreError::Architecture(
                "per-step dense: a view that is not contiguous".into(),
            ));
        }
        let len = m.nrows() * m.ncols();
        // SAFETY: row stride 1 and column stride `nrows` (checked): the view's values are
        // the one run of `len` values from its first, borrowed for `'a`.
        let data = unsafe { std::slice::from_raw_parts(m.data.ptr(), len) };
        Ok(MatrixView::from_slice(data, rows, cols))
    }

    /// As [`unfold`](PerStep::unfold), mutably.
    fn unfold_mut<'a>(
        &self,
        mut m: MatrixViewMut<'a, T>,
        rows: usize,
    ) -> Result<MatrixViewMut<'a, T>, CoreError> {
        let cols = m.ncols() * self.steps;
        if m.nrows() * m.ncols() > 0 && m.strides() != (1, m.nrows()) {
            return Err(CoreError::Architecture(
                "per-step dense: a view that is not contiguous".into(),
            ));
        }
        let len = m.nrows() * m.ncols();
        let ptr = m.data.ptr_mut();
        // SAFETY: as above; the view borrows these `len` values mutably for `'a`.
        let data = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
        Ok(MatrixViewMut::from_slice(data, rows, cols))
    }
}

impl<T: Real> PerStep<T> {
    /// Sets the blocks of steps `t ≥ lengths[b]` of each example's column of `m`
    /// (`T` blocks of `n` values) to 0; nothing without lengths.
    fn zero_padding(
        &self,
        mut m: MatrixViewMut<'_, T>,
        n: usize,
        lengths: &[usize],
    ) -> Result<(), CoreError> {
        if let Some(b) = lengths.iter().position(|&l| l == 0 || l > self.steps) {
            return Err(CoreError::Architecture(format!(
                "dense_per_step: example {b} has {} steps, the layer takes 1 to {}",
                lengths[b], self.steps
            )));
        }
        for (b, &len) in lengths.iter().enumerate().take(m.ncols()) {
            m.column_mut(b)
                .rows_mut(len * n, (self.steps - len) * n)
                .fill(T::zero());
        }
        Ok(())
    }
}

impl<T: Real> Layer<T> for PerStep<T> {
    fn kind(&self) -> &str {
        "dense_per_step"
    }

    fn n_inputs(&self) -> usize {
        self.steps * self.dense.n_inputs()
    }

    fn n_outputs(&self) -> usize {
        self.steps * self.dense.n_outputs()
    }

    fn scratch_len(&self, batch: usize) -> usize {
        Layer::scratch_len(&self.dense, batch * self.steps)
    }

    /// Eq. 2 for every step at once: the dense layer on the `T·B` step columns.
    fn forward(
        &self,
        input: MatrixView<'_, T>,
        output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
    ) -> Result<(), CoreError> {
        let x = self.unfold(input, self.dense.n_inputs())?;
        let a = self.unfold_mut(output, self.dense.n_outputs())?;
        Layer::forward(&self.dense, x, a, scratch)
    }

    /// As [`forward`](Layer::forward), with each example's padded steps
    /// (`t ≥ lengths[b]`) given the output 0, as a recurrent layer's.
    fn forward_with_lengths(
        &self,
        input: MatrixView<'_, T>,
        mut output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
        lengths: &[usize],
    ) -> Result<(), CoreError> {
        let n = self.dense.n_outputs();
        Layer::forward(self, input, output.as_view_mut(), scratch)?;
        self.zero_padding(output, n, lengths)
    }

    /// As [`backward`](Layer::backward), the padded steps' output gradients taken as 0
    /// (their output is the constant 0).
    fn backward_with_lengths(
        &self,
        saved: Saved<'_, T>,
        mut d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        d_input: Option<MatrixViewMut<'_, T>>,
        lengths: &[usize],
    ) -> Result<(), CoreError> {
        self.zero_padding(d_output.as_view_mut(), self.dense.n_outputs(), lengths)?;
        Layer::backward(self, saved, d_output, scale, grads, d_input)
    }

    /// `Some(T)`: the output is every step's.
    fn output_steps(&self) -> Option<usize> {
        Some(self.steps)
    }

    /// Algorithm 8 for every step at once: the dense layer's gradient summed over the
    /// steps (the weights are shared), and each step's `∂C/∂x_t`.
    fn backward(
        &self,
        saved: Saved<'_, T>,
        d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        d_input: Option<MatrixViewMut<'_, T>>,
    ) -> Result<(), CoreError> {
        let (n_in, n_out) = (self.dense.n_inputs(), self.dense.n_outputs());
        let saved = Saved {
            input: self.unfold(saved.input, n_in)?,
            output: self.unfold(saved.output, n_out)?,
            scratch: saved.scratch,
        };
        let d_out = self.unfold_mut(d_output, n_out)?;
        let d_in = d_input.map(|d| self.unfold_mut(d, n_in)).transpose()?;
        Layer::backward(&self.dense, saved, d_out, scale, grads, d_in)
    }

    fn visit_params(&self, f: &mut dyn FnMut(ParamSpec, &[T])) {
        Layer::visit_params(&self.dense, f);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T])) {
        Layer::visit_params_mut(&mut self.dense, f);
    }

    /// The dense layer's activation and the number of steps.
    fn settings(&self) -> Result<serde_json::Value, CoreError> {
        let mut s = Layer::settings(&self.dense)?;
        s["steps"] = serde_json::json!([self.steps]);
        Ok(s)
    }

    fn validate_params(&self) -> Result<(), CoreError> {
        Layer::validate_params(&self.dense)
    }
}
