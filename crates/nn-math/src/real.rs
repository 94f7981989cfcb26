//! The scalar type every crate of the workspace is generic over.
//!
//! [`Real`] is nalgebra's [`RealField`] (which already provides `exp`, `ln_1p`, `exp_m1`,
//! `tanh`, `hypot`, `is_finite`, …) plus `Copy` and the two conversions that the library
//! needs to write constants and to compare results across precisions. It is implemented
//! for `f32` and `f64`, the types for which [`crate::product`] has fast GEMM kernels (any
//! other implementation gets a correct but slow textbook loop).

use core::fmt::{Debug, Display};

use nalgebra::RealField;

/// A real scalar: `f32` or `f64`.
///
/// Training defaults to `f32`; gradient checks against finite differences run in `f64`.
///
/// # Example
///
/// ```
/// use nn_math::Real;
///
/// fn half<T: Real>(x: T) -> T {
///     x * T::lit(0.5)
/// }
/// assert_eq!(half(3.0_f32), 1.5);
/// assert_eq!(half(3.0_f64).as_f64(), 1.5);
/// ```
pub trait Real: RealField + Copy + Default + Send + Sync + Debug + Display + 'static {
    /// A literal: converts an `f64` constant to this type (rounding to nearest for `f32`).
    fn lit(x: f64) -> Self;

    /// Converts this value to `f64` (exact for both implementations).
    fn as_f64(self) -> f64;
}

impl Real for f32 {
    #[inline]
    fn lit(x: f64) -> Self {
        x as f32
    }

    #[inline]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    #[inline]
    fn lit(x: f64) -> Self {
        x
    }

    #[inline]
    fn as_f64(self) -> f64 {
        self
    }
}
