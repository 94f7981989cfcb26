//! ELU (Exponential Linear Unit) of §2.1.1.7.

use nn_math::Real;

use crate::error::check_param;
use crate::{Activation, ActivationError};

/// `ELU_β(x) = x if x > 0, else β·(eˣ − 1)`; `ELU'_β(x) = 1 if x > 0, else β·eˣ`
/// (notes §2.1.1.7).
///
/// The notes require **0 ≤ β**; the default is **β = 1** (the notes' Figure 8). For β ≠ 1
/// the function is not differentiable at 0, and this implementation uses
/// **`ELU'(0) = β`** (the `x ≤ 0` branch). `eˣ − 1` is computed with `exp_m1`, so that
/// `ELU(x) ≈ β·x` keeps full relative accuracy for tiny negative `x`.
///
/// # Example
/// ```
/// use nn_activations::{Activation, Elu};
/// let elu = Elu::new(0.5)?;
/// for x in [-2.0_f64, 0.0, 3.0] {
///     let naive = if x > 0.0 { x } else { 0.5 * (x.exp() - 1.0) };
///     assert!((elu.f(x) - naive).abs() < 1e-15);
///     assert_eq!(elu.df(x), if x > 0.0 { 1.0 } else { 0.5 * x.exp() });
/// }
/// assert!(Elu::new(-0.1_f64).is_err()); // the notes require 0 ≤ β
/// # Ok::<(), nn_activations::ActivationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu<T> {
    beta: T,
}

impl<T: Real> Elu<T> {
    /// `ELU_β`.
    ///
    /// # Errors
    /// [`ActivationError::InvalidParameter`] if β is negative or not finite.
    pub fn new(beta: T) -> Result<Self, ActivationError> {
        let beta = check_param(
            "elu",
            "beta",
            beta,
            |b| b >= T::zero(),
            "must be finite and at least 0",
        )?;
        Ok(Self { beta })
    }

    /// The scale β of the negative branch.
    pub fn beta(&self) -> T {
        self.beta
    }
}

impl<T: Real> Default for Elu<T> {
    /// β = 1.
    fn default() -> Self {
        Self { beta: T::one() }
    }
}

impl<T: Real> Activation<T> for Elu<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        if x > T::zero() {
            x
        } else {
            self.beta * x.exp_m1()
        }
    }

    #[inline]
    fn df(&self, x: T) -> T {
        if x > T::zero() {
            T::one()
        } else {
            self.beta * x.exp()
        }
    }

    fn name(&self) -> &str {
        "elu"
    }

    fn params(&self) -> Vec<(&'static str, T)> {
        vec![("beta", self.beta)]
    }

    /// `∂ELU/∂β = eˣ − 1` for `x ≤ 0` (with `exp_m1`), 0 for `x > 0`.
    #[inline]
    fn dparams(&self, x: T, grad: &mut [T]) {
        grad[0] = if x > T::zero() { T::zero() } else { x.exp_m1() };
    }
}
