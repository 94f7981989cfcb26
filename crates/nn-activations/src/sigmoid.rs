//! The sigmoid (logistic curve) of §2.1.1.3, with steepness β and height γ.

use nn_math::Real;

use crate::error::{check_gamma, check_param};
use crate::stable::logistic_pair;
use crate::{Activation, ActivationError};

/// `σ_{β,γ}(x) = γ / (1 + e^{−β·x})`, `σ'_{β,γ}(x) = β·σ_{β,γ}(x)·(1 − σ_{β,γ}(x)/γ)`
/// (notes §2.1.1.3).
///
/// β (the "steepness") may be any finite number; γ must be finite and non-zero. The
/// default is **β = γ = 1**, the standard logistic function of the notes' Figure 4.
///
/// # Numerical form
/// With `s = 1/(1 + e^{−β·x})` and `1 − s` computed each without overflow or
/// cancellation, `σ = γ·s` and `σ' = β·γ·s·(1 − s)`, which is the notes' formula since
/// `1 − σ/γ = 1 − s`. Both are finite for every finite `x`, and the derivative keeps
/// its relative accuracy far into the tails (where `1 − σ/γ` would round to 0).
///
/// # Example
/// ```
/// use nn_activations::{Activation, Sigmoid};
/// let sig = Sigmoid::new(2.0, 3.0)?;
/// let x = 0.4_f64;
/// let naive = 3.0 / (1.0 + (-2.0 * x).exp());
/// assert!((sig.f(x) - naive).abs() < 1e-15);
/// assert!((sig.df(x) - 2.0 * naive * (1.0 - naive / 3.0)).abs() < 1e-14);
/// assert!(Sigmoid::new(1.0, 0.0).is_err()); // γ = 0 is not allowed
/// # Ok::<(), nn_activations::ActivationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sigmoid<T> {
    beta: T,
    gamma: T,
}

impl<T: Real> Sigmoid<T> {
    /// `σ_{β,γ}`.
    ///
    /// # Errors
    /// [`ActivationError::InvalidParameter`] if β is not finite, γ is zero or not finite,
    /// or β·γ (four times the largest slope) is not finite in `T`.
    pub fn new(beta: T, gamma: T) -> Result<Self, ActivationError> {
        let gamma = check_gamma("sigmoid", gamma)?;
        // The slope peaks at β·γ/4 (at x = 0): it must be finite in the scalar type.
        let beta = check_param(
            "sigmoid",
            "beta",
            beta,
            |b| (b * gamma).is_finite(),
            "must be finite, with β·γ finite in the scalar type (f'(0) = β·γ/4)",
        )?;
        Ok(Self { beta, gamma })
    }

    /// The steepness β.
    pub fn beta(&self) -> T {
        self.beta
    }

    /// The height γ (the limit of σ at +∞ for β > 0).
    pub fn gamma(&self) -> T {
        self.gamma
    }
}

impl<T: Real> Default for Sigmoid<T> {
    /// The standard logistic function, β = γ = 1.
    fn default() -> Self {
        Self {
            beta: T::one(),
            gamma: T::one(),
        }
    }
}

impl<T: Real> Activation<T> for Sigmoid<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        self.gamma * logistic_pair(self.beta * x).0
    }

    #[inline]
    fn df(&self, x: T) -> T {
        let (s, one_minus_s) = logistic_pair(self.beta * x);
        // β·(s·(1 − s)) first: s·(1 − s) ≤ ¼, so nothing overflows unless the exact
        // value does (β·γ alone could, where s·(1 − s) is 0).
        self.beta * (s * one_minus_s) * self.gamma
    }

    fn name(&self) -> &str {
        "sigmoid"
    }

    fn params(&self) -> Vec<(&'static str, T)> {
        vec![("beta", self.beta), ("gamma", self.gamma)]
    }

    /// `∂σ/∂β = γ·x·s·(1 − s)`, `∂σ/∂γ = s`, with `s = 1/(1 + e^{−β·x})`.
    #[inline]
    fn dparams(&self, x: T, grad: &mut [T]) {
        let (s, one_minus_s) = logistic_pair(self.beta * x);
        grad[0] = self.gamma * x * s * one_minus_s;
        grad[1] = s;
    }
}
