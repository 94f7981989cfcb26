//! Shared proptest strategies: matrices of random shape and entries.

use nn_math::Matrix;
use proptest::prelude::*;

/// Entries in a range where products of a few hundred terms stay well inside f64.
pub fn entry() -> impl Strategy<Value = f64> {
    -100.0..100.0_f64
}

/// A matrix with the given shape and random entries.
pub fn matrix(rows: usize, cols: usize) -> impl Strategy<Value = Matrix<f64>> {
    prop::collection::vec(entry(), rows * cols)
        .prop_map(move |v| Matrix::from_column_slice(rows, cols, &v))
}

/// A vector (as a slice) of 0 to `max_len` entries.
pub fn vec_upto(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(entry(), 0..=max_len)
}
