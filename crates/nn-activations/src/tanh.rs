//! The hyperbolic tangent, which the notes define for the Mish function (§2.1.1.9).

use nn_math::Real;

use crate::Activation;

/// `tanh(x) = (e^{2x} − 1)/(e^{2x} + 1)`, `tanh'(x) = sech²(x) = 1 − tanh²(x)`
/// (notes §2.1.1.9).
///
/// The derivative is computed as `1/cosh²(x)`, which keeps its relative accuracy for
/// large `|x|` (where `1 − tanh²` rounds to 0) and is 0, not NaN, once `cosh` overflows.
///
/// # Example
/// ```
/// use nn_activations::{Activation, Tanh};
/// let x = 0.3_f64;
/// let naive = ((2.0 * x).exp() - 1.0) / ((2.0 * x).exp() + 1.0);
/// assert!((Tanh.f(x) - naive).abs() < 1e-15);
/// assert!((Tanh.df(x) - (1.0 - naive * naive)).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tanh;

impl<T: Real> Activation<T> for Tanh {
    #[inline]
    fn f(&self, x: T) -> T {
        x.tanh()
    }

    #[inline]
    fn df(&self, x: T) -> T {
        let sech = T::one() / x.cosh();
        sech * sech
    }

    fn name(&self) -> &str {
        "tanh"
    }
}
