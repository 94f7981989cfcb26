//! The matrix products of backpropagation, on the fast GEMM kernels behind nalgebra.
//!
//! With one example per column, the three products of a training step are
//!
//! | product | where | function |
//! |---|---|---|
//! | `S = W·A` | forward pass, eq. 2 / Algorithm 6 | [`mul_to`] |
//! | `Wᵀ·D` | error propagated backwards, Algorithm 8 | [`mul_tn_to`] |
//! | `D·Aᵀ` | weight gradient `∂C/∂W`, Algorithm 8 | [`mul_nt_to`] |
//!
//! and [`gemm`] is the general `C ← α·op(A)·op(B) + β·C` they are made of (the gradient
//! is accumulated with `β = 1`).
//!
//! # Why not `tr_mul`, and why not `matrixmultiply`
//! nalgebra's `tr_mul`, `tr_mul_to` and `gemm_tr` compute `Aᵀ·B` as a loop of dot
//! products: 8–12 GFLOP/s on this project's machines. A transposed matrix is the same
//! memory with its row and column strides swapped, so every product here hands the
//! operands' pointers and strides to a packed, register-blocked GEMM (the crate's
//! `kernel` module): transposition costs nothing and no copy is made.
//!
//! nalgebra's own `gemm` calls the `matrixmultiply` crate, which takes strides too, but
//! allocates a fresh packing buffer on every call; the kernel here keeps its packing
//! buffers in a thread-local that is reused, so that a training step allocates nothing.
//! The `products` criterion benchmark of this crate shows all three side by side.

use core::any::TypeId;

use nalgebra::{Dim, Matrix, RawStorage, RawStorageMut};

use crate::kernel::{self, Strided};
use crate::{MathError, Real, Shape};

/// Whether an operand of [`gemm`] is used as stored or transposed (`op(X) = X` or `Xᵀ`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Use the operand as stored: `op(X) = X`.
    NoTrans,
    /// Use the transpose of the operand: `op(X) = Xᵀ` (swapped strides, not a copy).
    Trans,
}

/// The shape of `op(X)` and its (row, column) strides in elements.
fn layout<T, R, C, S>(x: &Matrix<T, R, C, S>, op: Op) -> (Shape, (usize, usize))
where
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
{
    let (rows, cols) = x.shape();
    let (rs, cs) = x.strides();
    match op {
        Op::NoTrans => (Shape::new(rows, cols), (rs, cs)),
        Op::Trans => (Shape::new(cols, rows), (cs, rs)),
    }
}

/// General matrix product into a caller-owned buffer: `C ← α·op(A)·op(B) + β·C`
/// (notes A.23 with the scaling and sum of A.22).
///
/// For `f32` and `f64` the product runs in the crate's packed GEMM kernel (AVX2 + FMA when
/// the CPU has them); a transposed operand is read through swapped strides, never
/// copied and never through nalgebra's slow `tr_mul`. After a thread's first product of
/// a given size, products allocate nothing. When `β = 0`, `C` is not read, so it may
/// hold anything (even NaN) before the call.
///
/// # Shapes
/// `op(A)`: `(n × k)`, `op(B)`: `(k × m)`, `C`: `(n × m)`. Any storage works for `A`
/// and `B` (owned matrices, views, column ranges of a data set).
///
/// # Errors
/// [`MathError::Multiply`] if the inner dimensions differ, [`MathError::Output`] if `C`
/// does not have the shape of the product. `C` is unchanged on error.
///
/// # Example
/// ```
/// use nn_math::{gemm, Matrix, Op};
///
/// let a = Matrix::from_fn(3, 2, |i, j| (i + 2 * j) as f64);
/// let b = Matrix::from_fn(3, 4, |i, j| (i * j) as f64 - 1.0);
/// let mut c = Matrix::from_element(2, 4, 1.0);
/// // C ← 2·Aᵀ·B + 1·C, checked against the triple loop.
/// let expected = Matrix::from_fn(2, 4, |i, j| {
///     2.0 * (0..3).map(|k| a[(k, i)] * b[(k, j)]).sum::<f64>() + 1.0
/// });
/// gemm(2.0, &a, Op::Trans, &b, Op::NoTrans, 1.0, &mut c)?;
/// assert_eq!(c, expected);
/// # Ok::<(), nn_math::MathError>(())
/// ```
pub fn gemm<T, RA, CA, SA, RB, CB, SB, RC, CC, SC>(
    alpha: T,
    a: &Matrix<T, RA, CA, SA>,
    op_a: Op,
    b: &Matrix<T, RB, CB, SB>,
    op_b: Op,
    beta: T,
    c: &mut Matrix<T, RC, CC, SC>,
) -> Result<(), MathError>
where
    T: Real,
    RA: Dim,
    CA: Dim,
    SA: RawStorage<T, RA, CA>,
    RB: Dim,
    CB: Dim,
    SB: RawStorage<T, RB, CB>,
    RC: Dim,
    CC: Dim,
    SC: RawStorageMut<T, RC, CC>,
{
    gemm_named("gemm", alpha, a, op_a, b, op_b, beta, c)
}

#[allow(clippy::too_many_arguments)]
fn gemm_named<T, RA, CA, SA, RB, CB, SB, RC, CC, SC>(
    op: &'static str,
    alpha: T,
    a: &Matrix<T, RA, CA, SA>,
    op_a: Op,
    b: &Matrix<T, RB, CB, SB>,
    op_b: Op,
    beta: T,
    c: &mut Matrix<T, RC, CC, SC>,
) -> Result<(), MathError>
where
    T: Real,
    RA: Dim,
    CA: Dim,
    SA: RawStorage<T, RA, CA>,
    RB: Dim,
    CB: Dim,
    SB: RawStorage<T, RB, CB>,
    RC: Dim,
    CC: Dim,
    SC: RawStorageMut<T, RC, CC>,
{
    let (left, (ars, acs)) = layout(a, op_a);
    let (right, (brs, bcs)) = layout(b, op_b);
    if left.cols != right.rows {
        return Err(MathError::Multiply { op, left, right });
    }
    let expected = Shape::new(left.rows, right.cols);
    if Shape::of(c) != expected {
        return Err(MathError::Output {
            op,
            expected,
            got: Shape::of(c),
        });
    }
    let (m, k, n) = (left.rows, left.cols, right.cols);
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        // An empty inner dimension: op(A)·op(B) is the zero matrix.
        if beta == T::zero() {
            c.fill(T::zero());
        } else {
            c.apply(|x| *x *= beta);
        }
        return Ok(());
    }
    let (crs, ccs) = c.strides();
    let (pa, pb, pc) = (a.data.ptr(), b.data.ptr(), c.data.ptr_mut());
    let (dims, ra, rb, rc) = ((m, k, n), (pa, ars, acs), (pb, brs, bcs), (pc, crs, ccs));
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // The f64 round trip is exact for f32 values.
        let (alpha, beta) = (alpha.as_f64() as f32, beta.as_f64() as f32);
        // SAFETY: T is f32, so the pointer casts are identities. `a`, `b` and `c` are
        // valid nalgebra matrices whose element (i, j) lies at `ptr + i·rs + j·cs` for the
        // shapes checked above; `c` is borrowed mutably, so it aliases neither input.
        unsafe { kernel::gemm::<f32>(raw_product(dims, alpha, beta, ra, rb, rc)) };
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        let (alpha, beta) = (alpha.as_f64(), beta.as_f64());
        // SAFETY: as above, with T = f64.
        unsafe { kernel::gemm::<f64>(raw_product(dims, alpha, beta, ra, rb, rc)) };
    } else {
        // A user's own `Real` type: the textbook loop of A.23.
        let at = |i: usize, j: usize| match op_a {
            Op::NoTrans => a[(i, j)],
            Op::Trans => a[(j, i)],
        };
        let bt = |i: usize, j: usize| match op_b {
            Op::NoTrans => b[(i, j)],
            Op::Trans => b[(j, i)],
        };
        for i in 0..m {
            for j in 0..n {
                let dot = (0..k).fold(T::zero(), |acc, p| acc + at(i, p) * bt(p, j));
                let prev = if beta == T::zero() {
                    T::zero()
                } else {
                    beta * c[(i, j)]
                };
                c[(i, j)] = alpha * dot + prev;
            }
        }
    }
    Ok(())
}

/// The kernel's view of a product of `dims = (m, k, n)`: each operand as its pointer (read
/// as `U`, which the caller has checked to be `T`) and its row and column strides.
fn raw_product<T, U>(
    dims: (usize, usize, usize),
    alpha: U,
    beta: U,
    a: (*const T, usize, usize),
    b: (*const T, usize, usize),
    c: (*mut T, usize, usize),
) -> kernel::Product<U> {
    // Strides of nalgebra storage always fit in isize: they index allocated memory.
    let strided = |(ptr, rs, cs): (*const T, usize, usize)| Strided {
        ptr: ptr.cast::<U>(),
        rs: rs as isize,
        cs: cs as isize,
    };
    let (m, k, n) = dims;
    kernel::Product {
        m,
        k,
        n,
        alpha,
        a: strided(a),
        b: strided(b),
        beta,
        c: Strided {
            ptr: c.0.cast::<U>(),
            rs: c.1 as isize,
            cs: c.2 as isize,
        },
    }
}

/// `out ← A·B`: the forward product `S⁽ᵏ⁾ = W⁽ᵏ⁾·A⁽ᵏ⁻¹⁾` of eq. 2 / Algorithm 6
/// (notes A.21, A.23), through the fast GEMM path.
///
/// # Shapes
/// `a`: `(n × k)` (e.g. `W`, `n_k × n_{k−1}`), `b`: `(k × m)` (e.g. `A`, `n_{k−1} × batch`),
/// `out`: `(n × m)`.
///
/// # Errors
/// As [`gemm`].
///
/// # Example
/// ```
/// use nn_math::{mul_to, Matrix};
///
/// let w = Matrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let a = Matrix::from_column_slice(3, 1, &[1.0, 0.0, -1.0]);
/// let mut s = Matrix::zeros(2, 1);
/// mul_to(&w, &a, &mut s)?;
/// assert_eq!(s.as_slice(), &[1.0 - 3.0, 4.0 - 6.0]);
/// # Ok::<(), nn_math::MathError>(())
/// ```
pub fn mul_to<T, RA, CA, SA, RB, CB, SB, RC, CC, SC>(
    a: &Matrix<T, RA, CA, SA>,
    b: &Matrix<T, RB, CB, SB>,
    out: &mut Matrix<T, RC, CC, SC>,
) -> Result<(), MathError>
where
    T: Real,
    RA: Dim,
    CA: Dim,
    SA: RawStorage<T, RA, CA>,
    RB: Dim,
    CB: Dim,
    SB: RawStorage<T, RB, CB>,
    RC: Dim,
    CC: Dim,
    SC: RawStorageMut<T, RC, CC>,
{
    gemm_named(
        "mul_to",
        T::one(),
        a,
        Op::NoTrans,
        b,
        Op::NoTrans,
        T::zero(),
        out,
    )
}

/// `out ← Aᵀ·B`: the backward product `W⁽ᵏ⁺¹⁾ᵀ·D⁽ᵏ⁺¹⁾` of Algorithm 8 (notes A.20, A.23),
/// through the fast path with swapped strides (not nalgebra's `tr_mul_to`).
///
/// # Shapes
/// `a`: `(k × n)` (e.g. `W`, `n_{k+1} × n_k`), `b`: `(k × m)` (e.g. `D`, `n_{k+1} × batch`),
/// `out`: `(n × m)`.
///
/// # Errors
/// As [`gemm`].
///
/// # Example
/// ```
/// use nn_math::{mul_tn_to, Matrix};
///
/// let w = Matrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let d = Matrix::from_column_slice(2, 1, &[1.0, -1.0]);
/// let mut out = Matrix::zeros(3, 1);
/// mul_tn_to(&w, &d, &mut out)?;
/// assert_eq!(out, w.transpose() * &d);
/// # Ok::<(), nn_math::MathError>(())
/// ```
pub fn mul_tn_to<T, RA, CA, SA, RB, CB, SB, RC, CC, SC>(
    a: &Matrix<T, RA, CA, SA>,
    b: &Matrix<T, RB, CB, SB>,
    out: &mut Matrix<T, RC, CC, SC>,
) -> Result<(), MathError>
where
    T: Real,
    RA: Dim,
    CA: Dim,
    SA: RawStorage<T, RA, CA>,
    RB: Dim,
    CB: Dim,
    SB: RawStorage<T, RB, CB>,
    RC: Dim,
    CC: Dim,
    SC: RawStorageMut<T, RC, CC>,
{
    gemm_named(
        "mul_tn_to",
        T::one(),
        a,
        Op::Trans,
        b,
        Op::NoTrans,
        T::zero(),
        out,
    )
}

/// `out ← A·Bᵀ`: the weight-gradient product `D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ` of Algorithm 8 (notes A.20,
/// A.23), through the fast path with swapped strides. To accumulate into a
/// gradient instead of overwriting it, call [`gemm`] with `β = 1`.
///
/// # Shapes
/// `a`: `(n × m)` (e.g. `D`, `n_k × batch`), `b`: `(k × m)` (e.g. `A`, `n_{k−1} × batch`),
/// `out`: `(n × k)`.
///
/// # Errors
/// As [`gemm`].
///
/// # Example
/// ```
/// use nn_math::{mul_nt_to, Matrix};
///
/// let d = Matrix::from_column_slice(2, 1, &[1.0, -1.0]);
/// let a = Matrix::from_column_slice(3, 1, &[1.0, 2.0, 3.0]);
/// let mut grad = Matrix::zeros(2, 3);
/// mul_nt_to(&d, &a, &mut grad)?;
/// // For a single example this is the outer product d·aᵀ: grad[(j, i)] = d_j · a_i.
/// assert_eq!(grad[(1, 2)], -1.0 * 3.0);
/// assert_eq!(grad, &d * a.transpose());
/// # Ok::<(), nn_math::MathError>(())
/// ```
pub fn mul_nt_to<T, RA, CA, SA, RB, CB, SB, RC, CC, SC>(
    a: &Matrix<T, RA, CA, SA>,
    b: &Matrix<T, RB, CB, SB>,
    out: &mut Matrix<T, RC, CC, SC>,
) -> Result<(), MathError>
where
    T: Real,
    RA: Dim,
    CA: Dim,
    SA: RawStorage<T, RA, CA>,
    RB: Dim,
    CB: Dim,
    SB: RawStorage<T, RB, CB>,
    RC: Dim,
    CC: Dim,
    SC: RawStorageMut<T, RC, CC>,
{
    gemm_named(
        "mul_nt_to",
        T::one(),
        a,
        Op::NoTrans,
        b,
        Op::Trans,
        T::zero(),
        out,
    )
}

/// `y ← y + W·x` for a column-major `W` of `y.len()` rows and `x.len()` columns, stored
/// contiguously in `w` (e.g. a block of a layer's columns, `W[:, C]`, and the inputs
/// `x[C]`).
///
/// For `f32` and `f64` this makes the same additions in the same order as [`mul_to`]'s
/// product of a column-major `W` by a matrix of fewer than four columns (the
/// matrix-vector product of a batch of one): each `y_i` gets `x_p·W[i, p]` added for
/// `p = 0, 1, …` in turn. So a product accumulated into a zero `y` over consecutive
/// blocks of columns, of any lengths, equals `mul_to`'s bit for bit. Other [`Real`]
/// types use the same order in portable code.
///
/// # Errors
/// [`MathError::Multiply`] if `w` does not hold `y.len() · x.len()` elements; `y` is
/// then unchanged.
///
/// # Example
/// ```
/// use nn_math::{add_mul_columns, mul_to, Matrix};
///
/// let w = Matrix::from_fn(3, 10, |i, j| (i as f32 - 1.0) * 0.3 + j as f32 * 0.07);
/// let x = Matrix::from_fn(10, 1, |i, _| 1.0 / (i as f32 + 1.0));
/// let mut whole = Matrix::zeros(3, 1);
/// mul_to(&w, &x, &mut whole)?;
/// // The same product over the column blocks 0..7 and 7..10.
/// let mut y = vec![0.0f32; 3];
/// add_mul_columns(&w.as_slice()[..3 * 7], &x.as_slice()[..7], &mut y)?;
/// add_mul_columns(&w.as_slice()[3 * 7..], &x.as_slice()[7..], &mut y)?;
/// assert_eq!(y.as_slice(), whole.as_slice());
/// # Ok::<(), nn_math::MathError>(())
/// ```
pub fn add_mul_columns<T: Real>(w: &[T], x: &[T], y: &mut [T]) -> Result<(), MathError> {
    let (m, k) = (y.len(), x.len());
    if w.len() != m * k {
        return Err(MathError::Multiply {
            op: "add_mul_columns",
            left: Shape::new(m, w.len().checked_div(m).unwrap_or(0)),
            right: Shape::new(k, 1),
        });
    }
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: T is f32, so the casts are identities on slices of the same lengths.
        let (w, x, y) = unsafe { (cast::<T, f32>(w), cast::<T, f32>(x), cast_mut::<T, f32>(y)) };
        kernel::add_mul_columns(w, x, y);
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        // SAFETY: as above, with f64.
        let (w, x, y) = unsafe { (cast::<T, f64>(w), cast::<T, f64>(x), cast_mut::<T, f64>(y)) };
        kernel::add_mul_columns(w, x, y);
    } else {
        kernel::add_columns(y, k, |p| &w[p * m..(p + 1) * m], |p| x[p]);
    }
    Ok(())
}

/// `s` as a slice of `U`.
///
/// # Safety
/// `T` and `U` must be the same type.
unsafe fn cast<T, U>(s: &[T]) -> &[U] {
    // SAFETY: the caller guarantees T = U.
    unsafe { core::slice::from_raw_parts(s.as_ptr().cast::<U>(), s.len()) }
}

/// `s` as a mutable slice of `U`.
///
/// # Safety
/// `T` and `U` must be the same type.
unsafe fn cast_mut<T, U>(s: &mut [T]) -> &mut [U] {
    // SAFETY: the caller guarantees T = U.
    unsafe { core::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<U>(), s.len()) }
}
