//! The notes' error function (eq. 5): half the squared Euclidean distance.

use nn_math::Real;

use crate::Loss;

/// `C = ½·‖a⁽ᴸ⁾ − y‖₂² = Σⱼ ½·(aⱼ − yⱼ)²` (eq. 5).
///
/// # Output delta
/// `∂C/∂aⱼ = aⱼ − yⱼ` (eq. 12 before the chain rule's `f'` factor), so the output
/// layer's delta is `d⁽ᴸ⁾ = (a⁽ᴸ⁾ − y) ⊙ f⁽ᴸ⁾'(s⁽ᴸ⁾)` (eq. 13 with the sign of errata 2).
///
/// ```
/// use nn_core::{HalfSquaredError, Loss};
/// let (a, y) = ([1.0, 2.0], [0.0, 4.0]);
/// assert_eq!(HalfSquaredError.loss(&a, &y), 0.5 * (1.0 + 4.0));
/// let mut g = [0.0; 2];
/// HalfSquaredError.gradient(&a, &y, &mut g);
/// assert_eq!(g, [1.0 - 0.0, 2.0 - 4.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HalfSquaredError;

impl<T: Real> Loss<T> for HalfSquaredError {
    fn loss(&self, output: &[T], target: &[T]) -> T {
        let half = T::lit(0.5);
        output
            .iter()
            .zip(target)
            .fold(T::zero(), |s, (&a, &y)| s + half * (a - y) * (a - y))
    }

    fn gradient(&self, output: &[T], target: &[T], grad: &mut [T]) {
        for ((g, &a), &y) in grad.iter_mut().zip(output).zip(target) {
            *g = a - y;
        }
    }

    fn name(&self) -> &str {
        "half_squared_error"
    }
}
