//! Softplus (SmoothReLU) of §2.1.1.8, with sharpness β and height γ.

use nn_math::Real;

use crate::error::{check_gamma, check_param};
use crate::stable::{logistic_pair, softplus_dbeta_unit, softplus_unit};
use crate::{Activation, ActivationError};

/// `Softplus_{β,γ}(x) = (γ/β)·ln(1 + e^{β·x})`, `Softplus'_{β,γ}(x) = σ_{β,γ}(x)`
/// (notes §2.1.1.8).
///
/// β (the "sharpness") must be finite and positive, since the formula divides by it;
/// γ must be finite and non-zero (so that the derivative is a valid
/// [`crate::Sigmoid`]). The default is **β = γ = 1** (the notes' Figure 9).
///
/// # Numerical form
/// Computed as `γ·(max(x, 0) + ln_1p(e^{−β·|x|})/β)`, equal to the notes' formula, but
/// finite for every finite `x` and accurate at both ends: for large `β·x` it is
/// `γ·x` to the last bit (no `e^{β·x}` overflow), and for very negative `β·x` it keeps
/// the tiny value `(γ/β)·e^{β·x}` that `ln(1 + e^{β·x})` would round to 0.
///
/// # Example
/// ```
/// use nn_activations::{Activation, Softplus, Sigmoid};
/// let sp = Softplus::new(2.0, 3.0)?;
/// let x = 0.25_f64;
/// assert!((sp.f(x) - 3.0 / 2.0 * (1.0 + (2.0 * x).exp()).ln()).abs() < 1e-15);
/// // Softplus' = σ_{β,γ}, as the notes say.
/// assert!((sp.df(x) - Sigmoid::new(2.0, 3.0)?.f(x)).abs() < 1e-15);
/// // Accurate where the naive formula fails:
/// assert!((Softplus::<f64>::default().f(-50.0) / (-50.0_f64).exp() - 1.0).abs() < 1e-15);
/// assert!(Softplus::new(0.0, 1.0).is_err()); // β = 0 would divide by zero
/// # Ok::<(), nn_activations::ActivationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softplus<T> {
    beta: T,
    gamma: T,
}

impl<T: Real> Softplus<T> {
    /// `Softplus_{β,γ}`.
    ///
    /// # Errors
    /// [`ActivationError::InvalidParameter`] if β is not positive and finite (1/β too, in
    /// `T`: a subnormal β is refused), or γ is zero or not finite.
    pub fn new(beta: T, gamma: T) -> Result<Self, ActivationError> {
        Ok(Self {
            beta: check_param(
                "softplus",
                "beta",
                beta,
                |b| b > T::zero() && (T::one() / b).is_finite(),
                "must be finite and positive, with 1/β finite in the scalar type",
            )?,
            gamma: check_gamma("softplus", gamma)?,
        })
    }

    /// The sharpness β.
    pub fn beta(&self) -> T {
        self.beta
    }

    /// The height γ.
    pub fn gamma(&self) -> T {
        self.gamma
    }
}

impl<T: Real> Default for Softplus<T> {
    /// β = γ = 1.
    fn default() -> Self {
        Self {
            beta: T::one(),
            gamma: T::one(),
        }
    }
}

impl<T: Real> Activation<T> for Softplus<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        self.gamma * softplus_unit(x, self.beta)
    }

    #[inline]
    fn df(&self, x: T) -> T {
        self.gamma * logistic_pair(self.beta * x).0
    }

    fn name(&self) -> &str {
        "softplus"
    }

    fn params(&self) -> Vec<(&'static str, T)> {
        vec![("beta", self.beta), ("gamma", self.gamma)]
    }

    /// `∂Softplus/∂γ = u` and `∂Softplus/∂β = (γ/β)·(x·s − u)`, with
    /// `u = ln(1 + e^{β·x})/β` and `s = 1/(1 + e^{−β·x})`; `x·s − u` without
    /// cancellation (`docs/guide.md` §2.1).
    #[inline]
    fn dparams(&self, x: T, grad: &mut [T]) {
        grad[0] = self.gamma * softplus_dbeta_unit(x, self.beta);
        grad[1] = softplus_unit(x, self.beta);
    }
}
