//! Allocation that fails with an error instead of aborting the process: for every buffer
//! whose size comes from a user or a file.

use crate::{MathError, Matrix, Real};

/// A vector of `len` zeros, or [`MathError::Allocation`] if the memory cannot be had.
///
/// ```
/// let v = nn_math::try_zeroed_vec::<f32>(3)?;
/// assert_eq!(v, [0.0; 3]);
/// assert!(nn_math::try_zeroed_vec::<f32>(usize::MAX / 2).is_err()); // 8 EB: refused
/// # Ok::<(), nn_math::MathError>(())
/// ```
///
/// # Errors
/// [`MathError::Allocation`] if `len` values do not fit in memory.
pub fn try_zeroed_vec<T: Real>(len: usize) -> Result<Vec<T>, MathError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| MathError::Allocation { rows: len, cols: 1 })?;
    v.resize(len, T::zero());
    Ok(v)
}

/// A `rows × cols` matrix of zeros, or [`MathError::Allocation`] if `rows·cols`
/// overflows or the memory cannot be had (where `Matrix::zeros` would abort).
///
/// ```
/// let m = nn_math::try_zeros::<f64>(2, 3)?;
/// assert_eq!(m.shape(), (2, 3));
/// assert!(nn_math::try_zeros::<f64>(1 << 40, 1 << 40).is_err()); // overflows usize
/// # Ok::<(), nn_math::MathError>(())
/// ```
///
/// # Errors
/// [`MathError::Allocation`], naming the shape.
pub fn try_zeros<T: Real>(rows: usize, cols: usize) -> Result<Matrix<T>, MathError> {
    let len = rows
        .checked_mul(cols)
        .filter(|n| {
            n.checked_mul(std::mem::size_of::<T>())
                .is_some_and(|b| b <= isize::MAX as usize)
        })
        .ok_or(MathError::Allocation { rows, cols })?;
    let v = try_zeroed_vec(len).map_err(|_| MathError::Allocation { rows, cols })?;
    Ok(Matrix::from_vec(rows, cols, v))
}
