//! A forward pass's input: a matrix, or columns of a data set.

use nn_math::nalgebra::{Dyn, RawStorage, VecStorage};
use nn_math::{Matrix, Real};

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

/// The forward pass's input: a matrix (copied into the workspace before the layers), or
/// columns of a data set (gathered by the threads, each its own block of them), the
/// first `ready` of which are in the workspace already (gathered ahead).
pub(crate) enum Source<'a, T: Real, S> {
    Matrix(&'a nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>),
    Columns(&'a Matrix<T>, &'a [usize], usize),
}

impl<'a, T: Real> Source<'a, T, VecStorage<T, Dyn, Dyn>> {
    /// Columns of a data set, the first `ready` already in place (the storage parameter
    /// is then unused; any one will do).
    pub(crate) fn columns(data: &'a Matrix<T>, columns: &'a [usize], ready: usize) -> Self {
        Self::Columns(data, columns, ready)
    }
}

impl<T: Real, S: RawStorage<T, Dyn, Dyn>> Source<'_, T, S> {
    /// The number of examples.
    pub(crate) fn batch(&self) -> usize {
        match self {
            Self::Matrix(m) => m.ncols(),
            Self::Columns(_, columns, _) => columns.len(),
        }
    }
}
