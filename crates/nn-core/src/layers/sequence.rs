//! What the recurrent layers share: strided views of one step of every example, and
//! the gate functions over slices.

use nn_math::nalgebra::{DMatrixView, DMatrixViewMut, Dyn, RawStorage, RawStorageMut, U1};
use nn_math::{MatrixView, MatrixViewMut, Real};

use crate::CoreError;

/// Columns `(b, t)` of a `rows × (T·B)` buffer (column `b·T + t`) for step `t` (0-based)
/// of every example `b`: `B` columns `T·rows` values apart.
pub(super) fn step_view<T: Real>(
    buf: &[T],
    rows: usize,
    steps: usize,
    t: usize,
    batch: usize,
) -> DMatrixView<'_, T> {
    let stride = steps * rows;
    let len = (batch - 1) * stride + rows;
    DMatrixView::from_slice_with_strides_generic(
        &buf[t * rows..t * rows + len],
        Dyn(rows),
        Dyn(batch),
        U1,
        Dyn(stride),
    )
}

/// As [`step_view`], mutably.
pub(super) fn step_view_mut<T: Real>(
    buf: &mut [T],
    rows: usize,
    steps: usize,
    t: usize,
    batch: usize,
) -> DMatrixViewMut<'_, T> {
    let stride = steps * rows;
    let len = (batch - 1) * stride + rows;
    DMatrixViewMut::from_slice_with_strides_generic(
        &mut buf[t * rows..t * rows + len],
        Dyn(rows),
        Dyn(batch),
        U1,
        Dyn(stride),
    )
}

/// The values of a view that holds one contiguous run (every view the network hands a
/// layer), or an error.
pub(super) fn contiguous<'s, T: Real>(m: &'s MatrixView<'_, T>) -> Result<&'s [T], CoreError> {
    if m.nrows() * m.ncols() > 0 && m.strides() != (1, m.nrows()) {
        return Err(CoreError::Architecture(
            "a recurrent layer's view is not contiguous".into(),
        ));
    }
    // SAFETY: with row stride 1 and column stride `nrows`, the view's values are the one
    // run of `nrows·ncols` values from its first (checked above).
    Ok(unsafe { m.data.as_slice_unchecked() })
}

/// As [`contiguous`], mutably.
pub(super) fn contiguous_mut<'s, T: Real>(
    m: &'s mut MatrixViewMut<'_, T>,
) -> Result<&'s mut [T], CoreError> {
    if m.nrows() * m.ncols() > 0 && m.strides() != (1, m.nrows()) {
        return Err(CoreError::Architecture(
            "a recurrent layer's view is not contiguous".into(),
        ));
    }
    // SAFETY: as in `contiguous`.
    Ok(unsafe { m.data.as_mut_slice_unchecked() })
}

/// `σ(x)`, through `tanh` so that it shares its vectorized `f32` arithmetic:
/// `σ(x) = (1 + tanh(x/2))/2`.
pub(super) fn sigmoid_in_place<T: Real>(z: &mut [T]) -> Result<(), CoreError> {
    let half = T::lit(0.5);
    z.iter_mut().for_each(|v| *v *= half);
    tanh_in_place(z)?;
    z.iter_mut().for_each(|v| *v = half + half * *v);
    Ok(())
}

/// `tanh(x)` in place, through [`nn_activations::Tanh`]'s slice version.
pub(super) fn tanh_in_place<T: Real>(z: &mut [T]) -> Result<(), CoreError> {
    use nn_activations::Activation;
    // `f_slice` reads and writes distinct slices: go through chunks of a stack buffer.
    let mut buf = [T::zero(); 64];
    for chunk in z.chunks_mut(64) {
        let tmp = &mut buf[..chunk.len()];
        tmp.copy_from_slice(chunk);
        nn_activations::Tanh.f_slice(tmp, chunk)?;
    }
    Ok(())
}

/// Whether backpropagation carries the gradient from step `t` back to step `t − 1` (both
/// 0-based): always without truncation; with truncation to `k` steps, except across the
/// boundaries of `k`-step chunks counted back from the last step (guide §13).
pub(super) fn carries(steps: usize, truncate: Option<usize>, t: usize) -> bool {
    truncate.is_none_or(|k| !(steps - t).is_multiple_of(k))
}

/// Checks a truncation length: at least one step.
pub(super) fn check_truncation(kind: &str, k: usize) -> Result<(), CoreError> {
    if k == 0 {
        return Err(CoreError::Architecture(format!(
            "{kind}: a truncation length of 0 steps carries no gradient; use at least 1"
        )));
    }
    Ok(())
}
