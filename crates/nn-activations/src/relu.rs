//! The rectified linear units of §2.1.1.4–5: ReLU and the parametric (leaky) PReLU.

use nn_math::Real;

use crate::error::check_param;
use crate::{Activation, ActivationError};

/// `ReLU(x) = max(0, x)`, `ReLU'(x) = 1 if x > 0, else 0` (notes §2.1.1.4).
///
/// Not differentiable at 0; the notes leave the choice of `ReLU'(0)` open, and this
/// implementation uses **`ReLU'(0) = 0`** (the `x ≤ 0` branch), as PyTorch does.
///
/// # Example
/// ```
/// use nn_activations::{Activation, Relu};
/// for x in [-2.0_f64, 0.0, 3.0] {
///     assert_eq!(Relu.f(x), x.max(0.0));
///     assert_eq!(Relu.df(x), if x > 0.0 { 1.0 } else { 0.0 });
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;

impl<T: Real> Activation<T> for Relu {
    #[inline]
    fn f(&self, x: T) -> T {
        if x > T::zero() { x } else { T::zero() }
    }

    #[inline]
    fn df(&self, x: T) -> T {
        if x > T::zero() { T::one() } else { T::zero() }
    }

    fn name(&self) -> &str {
        "relu"
    }
}

/// `PReLU_β(x) = x if x > 0, else β·x`; `PReLU'_β(x) = 1 if x > 0, else β`
/// (notes §2.1.1.5).
///
/// β may be any finite number; a small positive β (the default, **β = 0.01**) makes the
/// "leaky ReLU" that keeps dying units trainable. Not differentiable at 0 (unless β = 1);
/// this implementation uses **`PReLU'(0) = β`** (the `x ≤ 0` branch).
///
/// # Example
/// ```
/// use nn_activations::{Activation, PRelu};
/// let p = PRelu::new(0.05)?;
/// for x in [-2.0_f64, 0.0, 3.0] {
///     assert_eq!(p.f(x), if x > 0.0 { x } else { 0.05 * x });
///     assert_eq!(p.df(x), if x > 0.0 { 1.0 } else { 0.05 });
/// }
/// assert_eq!(PRelu::<f64>::default().beta(), 0.01);
/// assert!(PRelu::new(f64::NAN).is_err());
/// # Ok::<(), nn_activations::ActivationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PRelu<T> {
    beta: T,
}

impl<T: Real> PRelu<T> {
    /// `PReLU_β`.
    ///
    /// # Errors
    /// [`ActivationError::InvalidParameter`] if β is not finite.
    pub fn new(beta: T) -> Result<Self, ActivationError> {
        let beta = check_param("prelu", "beta", beta, |_| true, "must be finite")?;
        Ok(Self { beta })
    }

    /// The slope β for `x ≤ 0`.
    pub fn beta(&self) -> T {
        self.beta
    }
}

impl<T: Real> Default for PRelu<T> {
    /// The leaky ReLU, β = 0.01.
    fn default() -> Self {
        Self { beta: T::lit(0.01) }
    }
}

impl<T: Real> Activation<T> for PRelu<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        if x > T::zero() { x } else { self.beta * x }
    }

    #[inline]
    fn df(&self, x: T) -> T {
        if x > T::zero() { T::one() } else { self.beta }
    }

    fn name(&self) -> &str {
        "prelu"
    }

    fn params(&self) -> Vec<(&'static str, T)> {
        vec![("beta", self.beta)]
    }

    /// `∂PReLU/∂β = x` for `x ≤ 0`, 0 for `x > 0`.
    #[inline]
    fn dparams(&self, x: T, grad: &mut [T]) {
        grad[0] = if x > T::zero() { T::zero() } else { x };
    }
}
