//! A dense (fully connected) layer: `a⁽ᵏ⁾ = f⁽ᵏ⁾(W⁽ᵏ⁾·a⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾)` (eq. 2).

use nn_math::nalgebra::DVectorViewMut;
use nn_math::{AlignedVec, Matrix, MatrixView, MatrixViewMut, Real, Vector};

use crate::{CoreError, LayerActivation};

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

    /// Weights and biases as mutable slices (column-major weights), for the parameter
    /// visitor and the optimizers.
    pub(crate) fn params_mut(&mut self) -> (&mut [T], &mut [T]) {
        (self.weight.as_mut_slice(), self.bias.as_mut_slice())
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
