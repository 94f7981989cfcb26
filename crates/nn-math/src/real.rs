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
    /// The smallest positive normal number (`f32::MIN_POSITIVE`, about 1.2e-38;
    /// `f64::MIN_POSITIVE`, about 2.2e-308). Below it lie the subnormal numbers.
    const MIN_NORMAL: Self;

    /// A literal: converts an `f64` constant to this type (rounding to nearest for `f32`).
    fn lit(x: f64) -> Self;

    /// Converts this value to `f64` (exact for both implementations).
    fn as_f64(self) -> f64;

    /// This value, or zero if it is subnormal (nonzero and smaller in magnitude than
    /// [`MIN_NORMAL`](Real::MIN_NORMAL)); NaN and infinities pass through.
    ///
    /// Arithmetic on subnormal numbers is one to two orders of magnitude slower on x86
    /// CPUs (a microcode assist per operation). Values that decay geometrically, such as
    /// an optimizer's moment estimates for a weight whose gradient has become zero, or
    /// that square tiny gradients, pass through that range and can stay there for
    /// thousands of steps; the training code flushes them with this, explicitly, rather
    /// than setting the CPU's flush-to-zero mode (which Rust treats as undefined
    /// behaviour). A value below `MIN_NORMAL` is below the resolution of any sum it
    /// enters beside a normal number, so flushing it changes nothing else.
    ///
    /// ```
    /// use nn_math::Real;
    /// assert_eq!(1e-40_f32.flush_subnormal(), 0.0);
    /// assert_eq!((-1e-40_f32).flush_subnormal(), 0.0);
    /// assert_eq!(f32::MIN_POSITIVE.flush_subnormal(), f32::MIN_POSITIVE);
    /// assert_eq!(1e-300_f64.flush_subnormal(), 1e-300);
    /// assert!(f64::NAN.flush_subnormal().is_nan());
    /// ```
    #[inline]
    fn flush_subnormal(self) -> Self {
        if self.abs() < Self::MIN_NORMAL {
            Self::zero()
        } else {
            self
        }
    }
}

impl Real for f32 {
    const MIN_NORMAL: Self = f32::MIN_POSITIVE;

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
    const MIN_NORMAL: Self = f64::MIN_POSITIVE;

    #[inline]
    fn lit(x: f64) -> Self {
        x
    }

    #[inline]
    fn as_f64(self) -> f64 {
        self
    }
}
