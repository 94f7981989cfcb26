//! Class probabilities and predictions from a classifier's logits (a network trained
//! with [`SoftmaxCrossEntropy`](crate::SoftmaxCrossEntropy) and an identity output).

use nn_math::nalgebra::{Dyn, RawStorage};
use nn_math::{Matrix, Real};

use crate::{CoreError, Network};

/// Checks that every output is finite, naming the first that is not.
fn check_finite<T: Real>(op: &'static str, logits: &Matrix<T>) -> Result<(), CoreError> {
    for (j, column) in logits.column_iter().enumerate() {
        if let Some(i) = column.iter().position(|v| !v.is_finite()) {
            return Err(CoreError::NonFinite {
                op,
                what: format!("output {i} of example {j} ({})", column[i].as_f64()),
            });
        }
    }
    Ok(())
}

/// The softmax of each column of `logits`, in place ([`crate::softmax`]).
///
/// # Errors
/// [`CoreError::NonFinite`] naming the first logit that is not finite.
pub fn softmax_columns<T: Real>(logits: &mut Matrix<T>) -> Result<(), CoreError> {
    check_finite("softmax_columns", logits)?;
    let rows = logits.nrows().max(1);
    // Column-major storage: each chunk is one example's logits.
    for column in logits.as_mut_slice().chunks_exact_mut(rows) {
        crate::softmax(column);
    }
    Ok(())
}

/// The predicted class of each column of `logits` (or of probabilities): the index of
/// its largest value, the first on ties.
///
/// # Errors
/// [`CoreError::NonFinite`] naming the first value that is not finite.
pub fn predicted_classes<T: Real>(logits: &Matrix<T>) -> Result<Vec<usize>, CoreError> {
    check_finite("predicted_classes", logits)?;
    Ok(argmax_columns(logits))
}

/// Arg-max decoding: the row of the largest entry of each column (the predicted class;
/// the first one on ties). The answer for a column holding NaN is meaningless:
/// [`predicted_classes`] refuses such columns.
///
/// ```
/// use nn_core::argmax_columns;
/// use nn_math::Matrix;
/// let m = Matrix::from_column_slice(3, 2, &[0.1_f32, 0.7, 0.2, 5.0, 5.0, -1.0]);
/// assert_eq!(argmax_columns(&m), vec![1, 0]);
/// ```
pub fn argmax_columns<T: Real>(m: &Matrix<T>) -> Vec<usize> {
    m.column_iter()
        .map(|column| {
            let mut best = 0;
            for (i, &v) in column.iter().enumerate() {
                if v > column[best] {
                    best = i;
                }
            }
            best
        })
        .collect()
}

impl<T: Real> Network<T> {
    /// The class probabilities `p = softmax(a⁽ᴸ⁾)` of each example, for a classifier
    /// whose outputs are logits (an identity output layer trained with
    /// [`SoftmaxCrossEntropy`](crate::SoftmaxCrossEntropy)): each column of the result
    /// sums to 1 up to rounding. Computed stably ([`crate::softmax`]).
    ///
    /// ```
    /// use nn_core::Network;
    /// use nn_activations::{Identity, Relu};
    /// use nn_math::Matrix;
    /// use rand::SeedableRng;
    ///
    /// let net = Network::<f32>::builder(4).layer(8, Relu).layer(3, Identity)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(1))?;
    /// let x = Matrix::from_fn(4, 5, |i, j| (i + j) as f32 / 4.0);
    /// let p = net.probabilities(&x)?;
    /// for column in p.column_iter() {
    ///     assert!((column.sum() - 1.0).abs() < 1e-6);
    /// }
    /// // The predicted class is the most probable one.
    /// let classes = net.predict_classes(&x)?;
    /// assert_eq!(classes.len(), 5);
    /// assert!(classes.iter().zip(p.column_iter()).all(|(&c, col)| col.iter().all(|&q| q <= col[c])));
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    ///
    /// # Shapes
    /// `input`: `(n₀ × B)`; result `(n_L × B)`.
    ///
    /// # Errors
    /// [`CoreError::Shape`] for an input without `n₀` rows; [`CoreError::NonFinite`] if an
    /// output is not finite (the example and output are named).
    pub fn probabilities<S>(
        &self,
        input: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
    ) -> Result<Matrix<T>, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
    {
        let mut out = self.evaluate(input)?;
        softmax_columns(&mut out)?;
        Ok(out)
    }

    /// The predicted class of each example: the index of its largest output (the first,
    /// on ties), which is also its most probable class under
    /// [`probabilities`](Network::probabilities).
    ///
    /// # Errors
    /// As [`probabilities`](Network::probabilities).
    pub fn predict_classes<S>(
        &self,
        input: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
    ) -> Result<Vec<usize>, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
    {
        predicted_classes(&self.evaluate(input)?)
    }
}
