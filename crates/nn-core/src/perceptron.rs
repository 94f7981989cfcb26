//! The perceptron learning rule, for the notes' single-layer examples (§2.2.2.3).
//!
//! Not one of the notes' algorithms: the classic rule of Rosenblatt (1958), included to
//! show what a threshold perceptron can and cannot learn (OR and AND yes, XOR no: it is
//! not linearly separable, §2.2.2.3.2).

use nn_math::{Matrix, Real};

use crate::error::shape_err;
use crate::{CoreError, Dense};

/// Trains a layer of threshold units with the perceptron rule: for each example `x` with
/// target `y` and output `ŷ = Threshold(W·x + b)`, `W ← W + η·(y − ŷ)·xᵀ` and
/// `b ← b + η·(y − ŷ)`. Examples are visited in column order; an epoch is one pass.
///
/// Returns `Some(epochs)` once an epoch makes no mistake, `None` if `max_epochs` passes
/// all made one. By the perceptron convergence theorem it converges exactly when the
/// examples are linearly separable.
///
/// # Shapes
/// `inputs`: `(n_in × N)`, `targets`: `(n_out × N)` with entries 0 or 1.
///
/// # Errors
/// [`CoreError::Shape`] for mismatched shapes, [`CoreError::InvalidHyperParameter`] for a
/// learning rate that is not positive and finite.
///
/// ```
/// use nn_core::{Dense, train_perceptron};
/// use nn_activations::Threshold;
/// use nn_math::{Matrix, Vector};
///
/// // AND is linearly separable: the rule finds weights for it.
/// let x = Matrix::from_column_slice(2, 4, &[0., 0., 0., 1., 1., 0., 1., 1.]);
/// let and = Matrix::from_row_slice(1, 4, &[0., 0., 0., 1.]);
/// let mut layer = Dense::new(Matrix::zeros(1, 2), Vector::zeros(1), Threshold)?;
/// assert!(train_perceptron(&mut layer, &x, &and, 1.0, 100)?.is_some());
/// # Ok::<(), nn_core::CoreError>(())
/// ```
pub fn train_perceptron<T: Real>(
    layer: &mut Dense<T>,
    inputs: &Matrix<T>,
    targets: &Matrix<T>,
    learning_rate: T,
    max_epochs: usize,
) -> Result<Option<usize>, CoreError> {
    const OP: &str = "train_perceptron";
    if inputs.nrows() != layer.n_inputs() {
        return Err(shape_err(
            OP,
            "inputs",
            "rows",
            layer.n_inputs(),
            inputs.nrows(),
        ));
    }
    if targets.nrows() != layer.n_outputs() {
        return Err(shape_err(
            OP,
            "targets",
            "rows",
            layer.n_outputs(),
            targets.nrows(),
        ));
    }
    if targets.ncols() != inputs.ncols() {
        return Err(shape_err(
            OP,
            "targets",
            "columns",
            inputs.ncols(),
            targets.ncols(),
        ));
    }
    if !(learning_rate.is_finite() && learning_rate > T::zero()) {
        return Err(CoreError::InvalidHyperParameter {
            op: OP,
            name: "learning_rate".into(),
            value: learning_rate.as_f64(),
            requirement: "must be positive and finite",
        });
    }
    for epoch in 1..=max_epochs {
        let mut mistakes = 0;
        for (x, y) in inputs.column_iter().zip(targets.column_iter()) {
            let s = layer.weight() * x + layer.bias();
            for j in 0..layer.n_outputs() {
                let predicted = if s[j] > T::zero() {
                    T::one()
                } else {
                    T::zero()
                };
                let error = y[j] - predicted;
                if error != T::zero() {
                    mistakes += 1;
                    let step = learning_rate * error;
                    let mut w = layer.weight_mut();
                    for (i, xi) in x.iter().enumerate() {
                        w[(j, i)] += step * *xi;
                    }
                    layer.bias_mut()[j] += step;
                }
            }
        }
        if mistakes == 0 {
            return Ok(Some(epoch));
        }
    }
    Ok(None)
}
