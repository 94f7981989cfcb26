//! Squareplus of §2.1.1.10: a smooth ReLU made of a square root.

use nn_math::Real;

use crate::error::check_param;
use crate::{Activation, ActivationError};

/// `Squareplus_β(x) = (x + √(x² + β))/2`, `Squareplus'_β(x) = 1/2 + x/(2·√(x² + β))`
/// (notes §2.1.1.10).
///
/// The notes require **0 ≤ β**; the default is **β = 1** (the notes' Figure 11). With
/// β = 0 it is the ReLU, not differentiable at 0, and this implementation uses
/// **`Squareplus_0'(0) = 1/2`** (the limit of the formula's symmetric part).
///
/// # Numerical form
/// `√(x² + β)` is `hypot(x, √β)`, which does not overflow for large `|x|`; for `x < 0`
/// the value and slope use the cancellation-free forms `β / (2·(h − x))` and
/// `β / (2·h·(h − x))` with `h = √(x² + β)` (multiply numerator and denominator by
/// `h − x`). Both are finite for every finite `x`.
///
/// # Example
/// ```
/// use nn_activations::{Activation, Squareplus};
/// let sq = Squareplus::new(2.0)?;
/// for x in [-3.0_f64, 0.0, 0.5] {
///     let r = (x * x + 2.0).sqrt();
///     assert!((sq.f(x) - (x + r) / 2.0).abs() < 1e-15);
///     assert!((sq.df(x) - (0.5 + x / (2.0 * r))).abs() < 1e-15);
/// }
/// assert!(Squareplus::new(-1.0_f64).is_err()); // the notes require 0 ≤ β
/// # Ok::<(), nn_activations::ActivationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Squareplus<T> {
    beta: T,
    sqrt_beta: T,
}

impl<T: Real> Squareplus<T> {
    /// `Squareplus_β`.
    ///
    /// # Errors
    /// [`ActivationError::InvalidParameter`] if β is negative or not finite.
    pub fn new(beta: T) -> Result<Self, ActivationError> {
        let beta = check_param(
            "squareplus",
            "beta",
            beta,
            |b| b >= T::zero(),
            "must be finite and at least 0",
        )?;
        Ok(Self {
            beta,
            sqrt_beta: beta.sqrt(),
        })
    }

    /// The smoothing parameter β.
    pub fn beta(&self) -> T {
        self.beta
    }
}

impl<T: Real> Default for Squareplus<T> {
    /// β = 1.
    fn default() -> Self {
        Self {
            beta: T::one(),
            sqrt_beta: T::one(),
        }
    }
}

impl<T: Real> Activation<T> for Squareplus<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        let two = T::lit(2.0);
        let h = x.hypot(self.sqrt_beta);
        if x >= T::zero() {
            x / two + h / two
        } else {
            self.beta / (two * (h - x))
        }
    }

    #[inline]
    fn df(&self, x: T) -> T {
        let two = T::lit(2.0);
        let h = x.hypot(self.sqrt_beta);
        if h == T::zero() {
            // β = 0 and x = 0: the kink of the ReLU; see the type's docs.
            T::lit(0.5)
        } else if x >= T::zero() {
            T::lit(0.5) + x / (two * h)
        } else {
            // Divided in two steps: h·(h − x) can underflow to 0 for tiny x when β = 0.
            self.beta / (two * h) / (h - x)
        }
    }

    fn name(&self) -> &str {
        "squareplus"
    }

    fn params(&self) -> Vec<(&'static str, T)> {
        vec![("beta", self.beta)]
    }

    /// `∂Squareplus/∂β = 1/(4·√(x² + β))`: unbounded (+∞) at `x = 0` when `β = 0`.
    #[inline]
    fn dparams(&self, x: T, grad: &mut [T]) {
        grad[0] = T::one() / (T::lit(4.0) * x.hypot(self.sqrt_beta));
    }
}
