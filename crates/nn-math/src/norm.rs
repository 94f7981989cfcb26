//! Vector norms (notes A.29): the L1 and L2 norms behind a [`Norm`] trait, and the squared
//! L2 norm.
//!
//! Norm-based regularization adds `λ·‖w‖` "with some vector norm" to the cost (eq. 24),
//! so the norm is a trait: a regularizer is written once for any norm. The squared L2 norm
//! of Algorithm 14 (`½·λ·‖w‖₂²`) is not a norm (it is not absolutely homogeneous), so it
//! is a plain function.
//!
//! Norms take slices, so they apply to vectors and matrices alike (`m.as_slice()`), and
//! to the notes' "giant vector" of all parameters one part at a time.

use crate::Real;

/// A vector norm `δ: ℝⁿ → ℝ` (notes A.29).
///
/// An implementation must satisfy the four axioms of A.29 for all `x`, `y` and `α`:
/// `δ(x) ≥ 0`; `δ(x) = 0` exactly when `x = 0`; `δ(α·x) = |α|·δ(x)`; and the triangle
/// inequality `δ(x + y) ≤ δ(x) + δ(y)`. The workspace's property tests check them for
/// [`L1`] and [`L2`].
///
/// # Example: a user-defined norm
/// ```
/// use nn_math::{Norm, Real};
///
/// /// The maximum norm ‖x‖_∞ = max |xᵢ|.
/// struct MaxNorm;
///
/// impl<T: Real> Norm<T> for MaxNorm {
///     fn norm(&self, x: &[T]) -> T {
///         x.iter().fold(T::zero(), |m, &v| m.max(v.abs()))
///     }
/// }
///
/// assert_eq!(MaxNorm.norm(&[1.0, -7.0, 3.0]), 7.0);
/// ```
pub trait Norm<T: Real> {
    /// The norm of `x`. The norm of the empty vector is 0.
    fn norm(&self, x: &[T]) -> T;
}

/// The L1 norm `‖x‖₁ = Σᵢ |xᵢ|` (notes A.29.1), used by L1 regularization (Algorithm 13).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L1;

/// The L2 (Euclidean) norm `‖x‖₂ = √(Σᵢ xᵢ²)` (notes A.29.2).
///
/// Computed with scaling by `max |xᵢ|`, so that it neither overflows for large entries
/// (`‖[1e200, 1e200]‖₂` in `f64` is `1.414e200`, not infinity) nor underflows to 0 for tiny
/// ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L2;

impl<T: Real> Norm<T> for L1 {
    /// `Σᵢ |xᵢ|` (notes A.29.1).
    ///
    /// ```
    /// use nn_math::{Norm, L1};
    /// assert_eq!(L1.norm(&[3.0, -4.0]), 3.0 + 4.0);
    /// ```
    fn norm(&self, x: &[T]) -> T {
        x.iter().fold(T::zero(), |acc, &v| acc + v.abs())
    }
}

impl<T: Real> Norm<T> for L2 {
    /// `√(Σᵢ xᵢ²)` (notes A.29.2), scaled by the largest magnitude to avoid overflow.
    ///
    /// ```
    /// use nn_math::{Norm, L2};
    /// assert_eq!(L2.norm(&[3.0, -4.0]), (3.0_f64 * 3.0 + 4.0 * 4.0).sqrt());
    /// assert!((L2.norm(&[1e200, 1e200]) - 2.0_f64.sqrt() * 1e200).abs() < 1e186);
    /// ```
    fn norm(&self, x: &[T]) -> T {
        let scale = x.iter().fold(T::zero(), |m, &v| m.max(v.abs()));
        if scale == T::zero() || !scale.is_finite() {
            // All zeros: the norm is 0. An infinite or NaN entry: so is the norm.
            return scale;
        }
        let sum = x.iter().fold(T::zero(), |acc, &v| {
            let r = v / scale;
            acc + r * r
        });
        scale * sum.sqrt()
    }
}

/// The squared L2 norm `‖x‖₂² = Σᵢ xᵢ²` (notes A.29.2 squared), the penalty of L2
/// regularization (Algorithm 14 uses `½·λ·‖w‖₂²`, whose gradient is `λ·w`).
///
/// # Example
/// ```
/// use nn_math::squared_l2_norm;
/// assert_eq!(squared_l2_norm(&[3.0, -4.0]), 3.0 * 3.0 + 4.0 * 4.0);
/// ```
pub fn squared_l2_norm<T: Real>(x: &[T]) -> T {
    x.iter().fold(T::zero(), |acc, &v| acc + v * v)
}
