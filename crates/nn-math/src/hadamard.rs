//! The Hadamard (element-wise) product of the notes' A.18 (vectors) and A.24 (matrices).
//!
//! Backpropagation multiplies the propagated error by the activation derivative element by
//! element (`d⁽ᵏ⁾ = (W⁽ᵏ⁺¹⁾ᵀ·d⁽ᵏ⁺¹⁾) ⊙ f⁽ᵏ⁾'(s⁽ᵏ⁾)`, Algorithm 8), and dropout masks the
//! activations the same way (Algorithm 17). These wrappers add the shape check that
//! nalgebra's `component_mul` leaves to a panic.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, Storage, StorageMut};

use crate::{MathError, Real, Shape};

fn check_same<T, R, C, S1, S2>(
    op: &'static str,
    a: &Matrix<T, R, C, S1>,
    b: &Matrix<T, R, C, S2>,
) -> Result<(), MathError>
where
    T: Real,
    R: Dim,
    C: Dim,
    S1: Storage<T, R, C>,
    S2: Storage<T, R, C>,
{
    if a.shape() == b.shape() {
        Ok(())
    } else {
        Err(MathError::Mismatch {
            op,
            left: Shape::of(a),
            right: Shape::of(b),
        })
    }
}

/// The Hadamard product `A ⊙ B = [a_ij · b_ij]` (notes A.18, A.24), as a new matrix.
///
/// # Shapes
/// `a` and `b`: `(n × m)`, the same; result: `(n × m)`. Vectors are the `m = 1` case.
///
/// # Errors
/// [`MathError::Mismatch`] if the shapes differ.
///
/// # Example
/// ```
/// use nn_math::{hadamard, Matrix};
///
/// let a = Matrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
/// let b = Matrix::from_row_slice(2, 2, &[5.0, 6.0, 7.0, 8.0]);
/// let c = hadamard(&a, &b)?;
/// // The naive expression, element by element.
/// for i in 0..2 {
///     for j in 0..2 {
///         assert_eq!(c[(i, j)], a[(i, j)] * b[(i, j)]);
///     }
/// }
/// assert!(hadamard(&a, &Matrix::zeros(2, 3)).is_err());
/// # Ok::<(), nn_math::MathError>(())
/// ```
pub fn hadamard<T, R, C, S1, S2>(
    a: &Matrix<T, R, C, S1>,
    b: &Matrix<T, R, C, S2>,
) -> Result<OMatrix<T, R, C>, MathError>
where
    T: Real,
    R: Dim,
    C: Dim,
    S1: Storage<T, R, C>,
    S2: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    check_same("hadamard", a, b)?;
    Ok(a.component_mul(b))
}

/// Writes the Hadamard product `A ⊙ B` (notes A.18, A.24) into `out`.
///
/// # Shapes
/// `a`, `b` and `out`: `(n × m)`, all the same.
///
/// # Errors
/// [`MathError::Mismatch`] if `a` and `b` differ, [`MathError::Output`] if `out` has
/// another shape; `out` is left untouched then.
///
/// # Example
/// ```
/// use nn_math::{hadamard_to, Vector};
///
/// let a = Vector::from_vec(vec![1.0, -2.0, 3.0]);
/// let b = Vector::from_vec(vec![4.0, 5.0, -6.0]);
/// let mut out = Vector::zeros(3);
/// hadamard_to(&a, &b, &mut out)?;
/// assert_eq!(out.as_slice(), &[1.0 * 4.0, -2.0 * 5.0, 3.0 * -6.0]);
/// # Ok::<(), nn_math::MathError>(())
/// ```
pub fn hadamard_to<T, R, C, S1, S2, S3>(
    a: &Matrix<T, R, C, S1>,
    b: &Matrix<T, R, C, S2>,
    out: &mut Matrix<T, R, C, S3>,
) -> Result<(), MathError>
where
    T: Real,
    R: Dim,
    C: Dim,
    S1: Storage<T, R, C>,
    S2: Storage<T, R, C>,
    S3: StorageMut<T, R, C>,
{
    check_same("hadamard_to", a, b)?;
    if out.shape() != a.shape() {
        return Err(MathError::Output {
            op: "hadamard_to",
            expected: Shape::of(a),
            got: Shape::of(out),
        });
    }
    // out ← 1·(a ⊙ b) + 0·out; with β = 0 nalgebra does not read `out`.
    out.cmpy(T::one(), a, b, T::zero());
    Ok(())
}

/// Multiplies `a` element-wise by `b` in place: `A ← A ⊙ B` (notes A.18, A.24).
///
/// # Shapes
/// `a` and `b`: `(n × m)`, the same.
///
/// # Errors
/// [`MathError::Mismatch`] if the shapes differ; `a` is left untouched then.
///
/// # Example
/// ```
/// use nn_math::{hadamard_assign, Vector};
///
/// let mut a = Vector::from_vec(vec![1.0_f32, 2.0]);
/// hadamard_assign(&mut a, &Vector::from_vec(vec![0.5, -1.0]))?;
/// assert_eq!(a.as_slice(), &[1.0 * 0.5, 2.0 * -1.0]);
/// # Ok::<(), nn_math::MathError>(())
/// ```
pub fn hadamard_assign<T, R, C, S1, S2>(
    a: &mut Matrix<T, R, C, S1>,
    b: &Matrix<T, R, C, S2>,
) -> Result<(), MathError>
where
    T: Real,
    R: Dim,
    C: Dim,
    S1: StorageMut<T, R, C>,
    S2: Storage<T, R, C>,
{
    check_same("hadamard_assign", a, b)?;
    a.component_mul_assign(b);
    Ok(())
}
