//! A dense (fully connected) layer: `a⁽ᵏ⁾ = f⁽ᵏ⁾(W⁽ᵏ⁾·a⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾)` (eq. 2).

use nn_math::nalgebra::DVectorViewMut;
use nn_math::{
    AlignedVec, Matrix, MatrixView, MatrixViewMut, Op, Real, Vector, gemm, mul_tn_to, mul_to,
};

use crate::{CoreError, Layer, LayerActivation, ParamKind, ParamSpec, Saved};

/// A fully connected layer `k`: weights `W⁽ᵏ⁾` (`n_k × n_{k−1}`), biases `b⁽ᵏ⁾` (`n_k`), and
/// the activation functions of its neurons.
///
/// # Separate biases are the notes' simplified notation unfolded
/// §2.2.1 folds the bias into the weights: with `a₀ = 1` and `w_{j,0} = b_j`,
/// `W·a + b` becomes `W̃·ã` for the `n_k × (n_{k−1} + 1)` matrix `W̃ = [b | W]` and
/// `ã = [1; a]` (eq. 3). Keeping `b` apart computes the same thing without copying a
/// row of ones into every batch:
///
/// ```
/// use nn_core::Dense;
/// use nn_activations::Identity;
/// use nn_math::{Matrix, Vector};
///
/// let w = Matrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let b = Vector::from_vec(vec![0.5, -1.0]);
/// let layer = Dense::new(w.clone(), b.clone(), Identity)?;
///
/// // The simplified notation: W̃ = [b | W], ã = [1; a].
/// let w_tilde = Matrix::from_fn(2, 4, |j, i| if i == 0 { b[j] } else { w[(j, i - 1)] });
/// let a = Vector::from_vec(vec![1.0, -1.0, 2.0]);
/// let a_tilde = Vector::from_fn(4, |i, _| if i == 0 { 1.0 } else { a[i - 1] });
/// assert_eq!(&w * &a + &b, &w_tilde * &a_tilde);
/// assert_eq!(layer.weight(), w);
/// # Ok::<(), nn_core::CoreError>(())
/// ```
///
/// The weights are stored column by column from a 64-byte boundary ([`AlignedVec`]), so
/// that the products' vector loads of them never straddle cache lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<T: Real> {
    /// `W⁽ᵏ⁾`, column-major, `n_k × n_{k−1}`.
    weight: AlignedVec<T>,
    /// `(n_k, n_{k−1})`.
    shape: (usize, usize),
    bias: Vector<T>,
    activation: LayerActivation<T>,
}

impl<T: Real> Dense<T> {
    /// A layer from its weights, biases and activation.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] if `weight` has no rows or no columns, `bias` is not as
    /// long as `weight` has rows, a per-neuron activation list has another length, or a
    /// weight or bias is not finite.
    pub fn new(
        weight: Matrix<T>,
        bias: Vector<T>,
        activation: impl Into<LayerActivation<T>>,
    ) -> Result<Self, CoreError> {
        let activation = activation.into();
        let (rows, cols) = weight.shape();
        if rows == 0 || cols == 0 {
            return Err(CoreError::Architecture(format!(
                "a layer's weight matrix is {rows}×{cols}; both sides must be at least 1"
            )));
        }
        if bias.len() != rows {
            return Err(CoreError::Architecture(format!(
                "bias has {} entries, the layer has {rows} neurons",
                bias.len()
            )));
        }
        if let Some(len) = activation.per_neuron_len()
            && len != rows
        {
            return Err(CoreError::Architecture(format!(
                "per-neuron activation list has {len} entries, the layer has {rows} neurons"
            )));
        }
        if !weight.iter().chain(bias.iter()).all(|v| v.is_finite()) {
            return Err(CoreError::Architecture(
                "a weight or bias is not finite".into(),
            ));
        }
        Ok(Self {
            weight: AlignedVec::from_slice(weight.as_slice()),
            shape: (rows, cols),
            bias,
            activation,
        })
    }

    /// Number of inputs, `n_{k−1}`.
    pub fn n_inputs(&self) -> usize {
        self.shape.1
    }

    /// Number of neurons (outputs), `n_k`.
    pub fn n_outputs(&self) -> usize {
        self.shape.0
    }

    /// The weights `W⁽ᵏ⁾` (`n_k × n_{k−1}`); `w_{j,i}` connects input `i` to neuron `j`.
    pub fn weight(&self) -> MatrixView<'_, T> {
        let (r, c) = self.shape;
        MatrixView::from_slice(&self.weight, r, c)
    }

    /// The weights column by column (`W⁽ᵏ⁾[:, 0]`, then `W⁽ᵏ⁾[:, 1]`, …): the storage of
    /// [`weight`](Dense::weight).
    pub fn weight_slice(&self) -> &[T] {
        &self.weight
    }

    /// The biases `b⁽ᵏ⁾` (`n_k`).
    pub fn bias(&self) -> &Vector<T> {
        &self.bias
    }

    /// The weights, mutably, as a view (its shape cannot change).
    pub fn weight_mut(&mut self) -> MatrixViewMut<'_, T> {
        let (r, c) = self.shape;
        MatrixViewMut::from_slice(&mut self.weight, r, c)
    }

    /// The biases, mutably, as a view (its length cannot change).
    pub fn bias_mut(&mut self) -> DVectorViewMut<'_, T> {
        let n = self.bias.len();
        self.bias.rows_mut(0, n)
    }

    /// The layer's activation functions.
    pub fn activation(&self) -> &LayerActivation<T> {
        &self.activation
    }

    /// The weights (column-major) and biases, mutably, and the activation, for the fused
    /// descent.
    pub(crate) fn update_parts(&mut self) -> (&mut [T], &mut [T], &LayerActivation<T>) {
        (&mut self.weight, self.bias.as_mut_slice(), &self.activation)
    }
}

impl<T: Real> Dense<T> {
    fn specs(&self) -> [ParamSpec; 2] {
        let (n, m) = self.shape;
        [
            ParamSpec::matrix("weight", n, m, ParamKind::Weight),
            ParamSpec::vector("bias", n, ParamKind::Bias),
        ]
    }
}

/// The dense layer as a [`Layer`]: what the reference procedures ([`crate::reference`])
/// run, one layer at a time on the calling thread. (A network of dense layers only runs
/// on the multi-threaded engine instead, which computes the same values.)
impl<T: Real> Layer<T> for Dense<T> {
    fn kind(&self) -> &str {
        "dense"
    }

    fn n_inputs(&self) -> usize {
        self.shape.1
    }

    fn n_outputs(&self) -> usize {
        self.shape.0
    }

    /// The pre-activations `S⁽ᵏ⁾` (`n_k × B`).
    fn scratch_len(&self, batch: usize) -> usize {
        self.shape.0 * batch
    }

    /// Eq. 2 for a batch: `S = W·A⁽ᵏ⁻¹⁾ + b·1ᵀ` (kept in `scratch`), `A⁽ᵏ⁾ = f(S)`.
    fn forward(
        &self,
        input: MatrixView<'_, T>,
        mut output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
    ) -> Result<(), CoreError> {
        let (n, batch) = (self.shape.0, input.ncols());
        let mut s = MatrixViewMut::from_slice(&mut scratch[..n * batch], n, batch);
        mul_to(&self.weight(), &input, &mut s)?;
        for (j, mut col) in s.column_iter_mut().enumerate() {
            let col = col.as_mut_slice();
            for (x, b) in col.iter_mut().zip(self.bias.iter()) {
                *x += *b;
            }
            let mut out = output.column_mut(j);
            self.activation.forward(col, out.as_mut_slice(), 0)?;
        }
        Ok(())
    }

    /// One layer of Algorithm 8 (errata 2): `D = Δ ⊙ f'(S)`, `∇W += scale·D·Aᵀ`,
    /// `∇b += scale·D·1`, and `∂C/∂A⁽ᵏ⁻¹⁾ = Wᵀ·D`.
    fn backward(
        &self,
        saved: Saved<'_, T>,
        mut d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        d_input: Option<MatrixViewMut<'_, T>>,
    ) -> Result<(), CoreError> {
        let (n, batch) = (self.shape.0, d_output.ncols());
        for j in 0..batch {
            let s = &saved.scratch[j * n..(j + 1) * n];
            let mut d = d_output.column_mut(j);
            self.activation.mul_derivative(s, d.as_mut_slice(), 0)?;
        }
        let [gw, gb] = grads else {
            return Err(CoreError::GradientMismatch {
                op: "dense backward",
                detail: format!("{} gradient tensors, a dense layer has 2", grads.len()),
            });
        };
        gemm(
            scale,
            &d_output,
            Op::NoTrans,
            &saved.input,
            Op::Trans,
            T::one(),
            gw,
        )?;
        for col in d_output.column_iter() {
            for (g, x) in gb.as_mut_slice().iter_mut().zip(col.iter()) {
                *g += scale * *x;
            }
        }
        if let Some(mut d_in) = d_input {
            mul_tn_to(&self.weight(), &d_output, &mut d_in)?;
        }
        Ok(())
    }

    fn visit_params(&self, f: &mut dyn FnMut(ParamSpec, &[T])) {
        let [w, b] = self.specs();
        f(w, &self.weight);
        f(b, self.bias.as_slice());
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T])) {
        let [w, b] = self.specs();
        f(w, &mut self.weight);
        f(b, self.bias.as_mut_slice());
    }

    /// `{"activation": {…}}`, or `{"activations": [{…}, …]}` for one per neuron.
    fn settings(&self) -> Result<serde_json::Value, CoreError> {
        crate::layers::describe::activation_settings(&self.activation)
    }

    fn as_dense(&self) -> Option<&Dense<T>> {
        Some(self)
    }

    fn as_dense_mut(&mut self) -> Option<&mut Dense<T>> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nn_activations::Relu;

    #[test]
    fn weights_start_on_a_cache_line_after_new_and_clone() {
        for (r, c) in [(1, 1), (3, 5), (128, 784), (10, 64)] {
            let w = Matrix::<f32>::from_fn(r, c, |i, j| (i * c + j) as f32);
            let layer = Dense::new(w.clone(), Vector::zeros(r), Relu).unwrap();
            for l in [&layer, &layer.clone()] {
                assert_eq!(l.weight_slice().as_ptr() as usize % nn_math::ALIGN, 0);
                assert_eq!(l.weight(), w);
                assert_eq!(l.weight_slice(), w.as_slice());
            }
        }
    }
}
