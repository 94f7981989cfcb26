//! The step functions of §2.1.1.1–2: Threshold and Sign, the activations of the classic
//! perceptron (§2.2.2.3). Their derivative is 0 wherever it exists, so they cannot be
//! trained by gradient descent; the perceptron rule trains them instead.

use nn_math::Real;

use crate::Activation;

/// `Threshold(x) = 1 if x > 0, else 0` (notes §2.1.1.1).
///
/// Not differentiable at 0; the derivative is 0 elsewhere, and this implementation
/// returns `Threshold'(0) = 0` too. Note `Threshold(0) = 0`, as in the notes.
///
/// # Example
/// ```
/// use nn_activations::{Activation, Threshold};
/// for x in [-2.0_f64, 0.0, 1e-300, 3.0] {
///     assert_eq!(Threshold.f(x), if x > 0.0 { 1.0 } else { 0.0 });
///     assert_eq!(Threshold.df(x), 0.0);
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Threshold;

impl<T: Real> Activation<T> for Threshold {
    #[inline]
    fn f(&self, x: T) -> T {
        if x > T::zero() { T::one() } else { T::zero() }
    }

    #[inline]
    fn df(&self, _x: T) -> T {
        T::zero()
    }

    fn name(&self) -> &str {
        "threshold"
    }
}

/// `Sign(x) = 1 if x > 0, else −1` (notes §2.1.1.2).
///
/// Unlike the mathematical signum, the notes' `Sign(0)` is `−1`, and so is this one's.
/// Not differentiable at 0; the derivative is 0 elsewhere, and `Sign'(0) = 0` here.
///
/// # Example
/// ```
/// use nn_activations::{Activation, Sign};
/// for x in [-2.0_f64, 0.0, 3.0] {
///     assert_eq!(Sign.f(x), if x > 0.0 { 1.0 } else { -1.0 });
///     assert_eq!(Sign.df(x), 0.0);
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sign;

impl<T: Real> Activation<T> for Sign {
    #[inline]
    fn f(&self, x: T) -> T {
        if x > T::zero() { T::one() } else { -T::one() }
    }

    #[inline]
    fn df(&self, _x: T) -> T {
        T::zero()
    }

    fn name(&self) -> &str {
        "sign"
    }
}
