//! The identity function (notes A.10), the activation of a linear output layer.

use nn_math::Real;

use crate::Activation;

/// `id(x) = x`, `id'(x) = 1` (notes A.10).
///
/// # Example
/// ```
/// use nn_activations::{Activation, Identity};
/// assert_eq!(Identity.f(-3.5_f64), -3.5);
/// assert_eq!(Identity.df(-3.5_f64), 1.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

impl<T: Real> Activation<T> for Identity {
    #[inline]
    fn f(&self, x: T) -> T {
        x
    }

    #[inline]
    fn df(&self, _x: T) -> T {
        T::one()
    }

    fn name(&self) -> &str {
        "identity"
    }
}
