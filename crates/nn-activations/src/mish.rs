//! Mish of §2.1.1.9: `x·tanh(Softplus_{β,1}(x))`.

use nn_math::Real;

use crate::error::check_param;
use crate::stable::{logistic_pair, softplus_dbeta_unit, softplus_unit};
use crate::{Activation, ActivationError};

/// `Mish_β(x) = x·tanh(Softplus_{β,1}(x))`,
/// `Mish'_β(x) = tanh(Softplus_{β,1}(x)) + x·σ_{β,1}(x)·sech²(Softplus_{β,1}(x))`
/// (notes §2.1.1.9).
///
/// β must be finite and positive (Softplus divides by it); the default is **β = 1**
/// (the notes' Figure 10). `sech²` is computed as `1/cosh²`, which is 0 rather than NaN
/// once `cosh` overflows, so both values are finite for every finite `x`.
///
/// # Example
/// ```
/// use nn_activations::{Activation, Mish};
/// let mish = Mish::<f64>::default();
/// let x: f64 = -0.8;
/// let sp = (1.0 + x.exp()).ln();
/// let sigma = 1.0 / (1.0 + (-x).exp());
/// assert!((mish.f(x) - x * sp.tanh()).abs() < 1e-15);
/// let sech = 1.0 / sp.cosh();
/// assert!((mish.df(x) - (sp.tanh() + x * sigma * sech * sech)).abs() < 1e-15);
/// # Ok::<(), nn_activations::ActivationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mish<T> {
    beta: T,
}

impl<T: Real> Mish<T> {
    /// `Mish_β`.
    ///
    /// # Errors
    /// [`ActivationError::InvalidParameter`] if β is not positive and finite (1/β too, in
    /// `T`: a subnormal β is refused).
    pub fn new(beta: T) -> Result<Self, ActivationError> {
        let beta = check_param(
            "mish",
            "beta",
            beta,
            |b| b > T::zero() && (T::one() / b).is_finite(),
            "must be finite and positive, with 1/β finite in the scalar type",
        )?;
        Ok(Self { beta })
    }

    /// The sharpness β of the inner Softplus.
    pub fn beta(&self) -> T {
        self.beta
    }
}

impl<T: Real> Default for Mish<T> {
    /// β = 1.
    fn default() -> Self {
        Self { beta: T::one() }
    }
}

impl<T: Real> Activation<T> for Mish<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        x * softplus_unit(x, self.beta).tanh()
    }

    #[inline]
    fn df(&self, x: T) -> T {
        let sp = softplus_unit(x, self.beta);
        let sigma = logistic_pair(self.beta * x).0;
        let sech = T::one() / sp.cosh();
        sp.tanh() + x * sigma * (sech * sech)
    }

    fn name(&self) -> &str {
        "mish"
    }

    fn params(&self) -> Vec<(&'static str, T)> {
        vec![("beta", self.beta)]
    }

    /// `∂Mish/∂β = x·sech²(u)·∂u/∂β`, with `u = Softplus_{β,1}(x)` and
    /// `∂u/∂β = (x·s − u)/β` (see [`crate::Softplus`]).
    #[inline]
    fn dparams(&self, x: T, grad: &mut [T]) {
        let sech = T::one() / softplus_unit(x, self.beta).cosh();
        grad[0] = x * sech * sech * softplus_dbeta_unit(x, self.beta);
    }
}
