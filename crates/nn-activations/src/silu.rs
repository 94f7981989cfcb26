//! SiLU (Swish) of §2.1.1.6, with the derivative corrected by errata 1.

use nn_math::Real;

use crate::error::{check_gamma, check_param};
use crate::stable::logistic_pair;
use crate::{Activation, ActivationError};

/// `SiLU_{β,γ}(x) = x·σ_{β,γ}(x)` (notes §2.1.1.6), also known as Swish.
///
/// # The derivative (errata 1)
/// The notes print `SiLU'(x) = σ(x)·(1 + x − σ(x)/γ)`, which is wrong (at x = 0.7,
/// β = γ = 1 it gives 0.689444; the true slope is 0.823387). The product rule gives
///
/// `SiLU'_{β,γ}(x) = σ(x) + x·σ'(x) = σ(x)·(1 + β·x·(1 − σ(x)/γ))`, with `σ = σ_{β,γ}`,
///
/// which is what this implementation computes (with `1 − σ/γ` evaluated without
/// cancellation, see [`crate::Sigmoid`]). The test suite keeps the notes' version and
/// shows it failing the finite-difference check.
///
/// β may be any finite number, γ any finite non-zero number; the default is
/// **β = γ = 1** (the notes' Figure 7).
///
/// # Example
/// ```
/// use nn_activations::{Activation, Silu};
/// let silu = Silu::<f64>::default();
/// let x: f64 = 0.7;
/// let sigma = 1.0 / (1.0 + (-x).exp());
/// assert!((silu.f(x) - x * sigma).abs() < 1e-15);
/// assert!((silu.df(x) - sigma * (1.0 + x * (1.0 - sigma))).abs() < 1e-15);
/// assert!((silu.df(x) - 0.823387).abs() < 1e-6); // errata 1's numeric slope
/// # Ok::<(), nn_activations::ActivationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Silu<T> {
    beta: T,
    gamma: T,
}

impl<T: Real> Silu<T> {
    /// `SiLU_{β,γ}`.
    ///
    /// # Errors
    /// [`ActivationError::InvalidParameter`] if β is not finite, or γ is zero or not finite.
    pub fn new(beta: T, gamma: T) -> Result<Self, ActivationError> {
        Ok(Self {
            beta: check_param("silu", "beta", beta, |_| true, "must be finite")?,
            gamma: check_gamma("silu", gamma)?,
        })
    }

    /// The steepness β of the inner sigmoid.
    pub fn beta(&self) -> T {
        self.beta
    }

    /// The height γ of the inner sigmoid.
    pub fn gamma(&self) -> T {
        self.gamma
    }
}

impl<T: Real> Default for Silu<T> {
    /// β = γ = 1.
    fn default() -> Self {
        Self {
            beta: T::one(),
            gamma: T::one(),
        }
    }
}

impl<T: Real> Activation<T> for Silu<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        // γ·σ first: |σ| ≤ 1, so it cannot overflow, and x·(γ·σ) overflows only where
        // the exact value does (x·γ could overflow where σ is 0).
        x * (self.gamma * logistic_pair(self.beta * x).0)
    }

    #[inline]
    fn df(&self, x: T) -> T {
        let (s, one_minus_s) = logistic_pair(self.beta * x);
        if s == T::zero() {
            // Far in the flat tail: σ is 0, and so is the slope (avoids 0·∞ when β·x
            // overflows).
            return T::zero();
        }
        // x·(1 − s) first, so that an overflowing β·x meets the exact 0 of 1 − s.
        self.gamma * s * (T::one() + self.beta * (x * one_minus_s))
    }

    fn name(&self) -> &str {
        "silu"
    }

    fn params(&self) -> Vec<(&'static str, T)> {
        vec![("beta", self.beta), ("gamma", self.gamma)]
    }

    /// `∂SiLU/∂β = γ·x²·s·(1 − s)`, `∂SiLU/∂γ = x·s`, with `s = 1/(1 + e^{−β·x})`.
    #[inline]
    fn dparams(&self, x: T, grad: &mut [T]) {
        let (s, one_minus_s) = logistic_pair(self.beta * x);
        grad[0] = self.gamma * x * x * s * one_minus_s;
        grad[1] = x * s;
    }
}
