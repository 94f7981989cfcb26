//! A dense (fully connected) layer: `a⁽ᵏ⁾ = f⁽ᵏ⁾(W⁽ᵏ⁾·a⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾)` (eq. 2).

use nn_math::nalgebra::{DMatrixViewMut, DVectorViewMut};
use nn_math::{Matrix, Real, Vector};

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
/// assert_eq!(layer.weight(), &w);
/// # Ok::<(), nn_core::CoreError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<T: Real> {
    weight: Matrix<T>,
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
            weight,
            bias,
            activation,
        })
    }

    /// Number of inputs, `n_{k−1}`.
    pub fn n_inputs(&self) -> usize {
        self.weight.ncols()
    }

    /// Number of neurons (outputs), `n_k`.
    pub fn n_outputs(&self) -> usize {
        self.weight.nrows()
    }

    /// The weights `W⁽ᵏ⁾` (`n_k × n_{k−1}`); `w_{j,i}` connects input `i` to neuron `j`.
    pub fn weight(&self) -> &Matrix<T> {
        &self.weight
    }

    /// The biases `b⁽ᵏ⁾` (`n_k`).
    pub fn bias(&self) -> &Vector<T> {
        &self.bias
    }

    /// The weights, mutably, as a view (its shape cannot change).
    pub fn weight_mut(&mut self) -> DMatrixViewMut<'_, T> {
        let (r, c) = self.weight.shape();
        self.weight.view_mut((0, 0), (r, c))
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

    /// The weight matrix and the bias slice, mutably, for the fused descent.
    pub(crate) fn weight_and_bias_mut(&mut self) -> (&mut Matrix<T>, &mut [T]) {
        (&mut self.weight, self.bias.as_mut_slice())
    }

    /// Weights and biases as mutable slices (column-major weights), for the parameter
    /// visitor and the optimizers.
    pub(crate) fn params_mut(&mut self) -> (&mut [T], &mut [T]) {
        (self.weight.as_mut_slice(), self.bias.as_mut_slice())
    }
}
