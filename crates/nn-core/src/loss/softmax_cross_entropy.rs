//! Softmax followed by cross-entropy: the usual output for classification (§2.2's
//! "probability that the input is a handwritten 0, 1, …").

use nn_math::Real;

use crate::Loss;

/// Cross-entropy of the softmax of the outputs: with `p = softmax(a)`,
/// `pⱼ = e^{aⱼ} / Σᵢ e^{aᵢ}`, the loss is `C = −Σⱼ yⱼ·ln pⱼ`.
///
/// Use it with an [`nn_activations::Identity`] output layer: the layer's outputs are the
/// logits `a`, and the loss applies the softmax itself (numerically stable: it subtracts
/// `max a` first, so large logits neither overflow nor give `ln 0`).
///
/// # Output delta
/// With `ln pⱼ = aⱼ − ln Σᵢ e^{aᵢ}`, `C = −Σⱼ yⱼ·aⱼ + (Σⱼ yⱼ)·ln Σᵢ e^{aᵢ}`, so
/// `∂C/∂aⱼ = (Σᵢ yᵢ)·pⱼ − yⱼ`, which is the familiar `pⱼ − yⱼ` when `y` is a probability
/// vector (e.g. one-hot). With the identity output, `f' = 1` and this is the delta
/// `d⁽ᴸ⁾` itself. A `pⱼ` below the smallest normal number ([`nn_math::Real::MIN_NORMAL`],
/// about 1.2e-38 in f32) counts as 0 there: a well-trained network's wrong classes reach
/// such probabilities, and subnormal deltas slow every product they enter (see
/// [`nn_math::Real::flush_subnormal`]).
///
/// ```
/// use nn_core::{Loss, SoftmaxCrossEntropy};
/// let a = [2.0_f64, 0.0, -1.0];
/// let y = [0.0, 1.0, 0.0];
/// let z: f64 = a.iter().map(|x| x.exp()).sum();
/// let p: Vec<f64> = a.iter().map(|x| x.exp() / z).collect();
/// assert!((SoftmaxCrossEntropy.loss(&a, &y) + p[1].ln()).abs() < 1e-15);
/// let mut g = [0.0; 3];
/// SoftmaxCrossEntropy.gradient(&a, &y, &mut g);
/// for j in 0..3 {
///     assert!((g[j] - (p[j] - y[j])).abs() < 1e-15);
/// }
/// // Large logits are fine.
/// assert!(SoftmaxCrossEntropy.loss(&[1000.0_f64, -1000.0], &[0.0, 1.0]).is_finite());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftmaxCrossEntropy;

/// Replaces logits `a` by their softmax `pⱼ = e^{aⱼ − max a} / Σᵢ e^{aᵢ − max a}` (the
/// probabilities [`SoftmaxCrossEntropy`] scores), stably: no exponent is positive, so
/// no logit overflows, and the sum is at least 1. Finite logits give finite
/// probabilities summing to 1 up to rounding; a non-finite logit gives NaN.
///
/// ```
/// let mut a = [1000.0_f32, 1000.0, -1000.0];
/// nn_core::softmax(&mut a);
/// assert_eq!(a, [0.5, 0.5, 0.0]);
/// ```
pub fn softmax<T: Real>(a: &mut [T]) {
    let max = a
        .iter()
        .copied()
        .reduce(|m, x| m.max(x))
        .unwrap_or(T::zero());
    let mut sum = T::zero();
    for x in a.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in a.iter_mut() {
        *x /= sum;
    }
}

/// `(max a, ln Σᵢ e^{aᵢ − max a})`: the log-sum-exp split so that no exponent is positive.
fn log_sum_exp<T: Real>(a: &[T]) -> (T, T) {
    let max = a
        .iter()
        .copied()
        .reduce(|m, x| m.max(x))
        .unwrap_or(T::zero());
    let sum = a.iter().fold(T::zero(), |s, &x| s + (x - max).exp());
    (max, sum.ln())
}

/// Writes `∂C/∂aⱼ = (Σᵢ yᵢ)·pⱼ − yⱼ` into `grad`, with `pⱼ = e^{aⱼ − max} / Σᵢ e^{aᵢ − max}`
/// (each exponential computed once), and returns `(max a, Σᵢ e^{aᵢ − max})` as
/// [`log_sum_exp`] sums it.
fn softmax_gradient<T: Real>(output: &[T], target: &[T], grad: &mut [T]) -> (T, T) {
    let max = output
        .iter()
        .copied()
        .reduce(|m, x| m.max(x))
        .unwrap_or(T::zero());
    let mut sum = T::zero();
    for (g, &a) in grad.iter_mut().zip(output) {
        *g = (a - max).exp();
        sum += *g;
    }
    let mass = target.iter().fold(T::zero(), |s, &y| s + y);
    let scale = mass / sum;
    for (g, &y) in grad.iter_mut().zip(target) {
        // A probability below the smallest normal number counts as 0 (see
        // `Real::flush_subnormal`): subnormal deltas slow every product they enter.
        *g = (*g * scale).flush_subnormal() - y;
    }
    (max, sum)
}

impl<T: Real> Loss<T> for SoftmaxCrossEntropy {
    fn loss(&self, output: &[T], target: &[T]) -> T {
        let (max, lse) = log_sum_exp(output);
        // −Σ yⱼ·ln pⱼ with ln pⱼ = (aⱼ − max) − lse.
        output
            .iter()
            .zip(target)
            .fold(T::zero(), |s, (&a, &y)| s - y * ((a - max) - lse))
    }

    fn gradient(&self, output: &[T], target: &[T], grad: &mut [T]) {
        softmax_gradient(output, target, grad);
    }

    fn loss_and_gradient(&self, output: &[T], target: &[T], grad: &mut [T]) -> T {
        // One pass of exponentials for both; the same arithmetic as `loss` and `gradient`.
        let (max, sum) = softmax_gradient(output, target, grad);
        let lse = sum.ln();
        output
            .iter()
            .zip(target)
            .fold(T::zero(), |s, (&a, &y)| s - y * ((a - max) - lse))
    }

    fn name(&self) -> &str {
        "softmax_cross_entropy"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn probabilities_below_the_smallest_normal_number_count_as_zero() {
        // e^-100 ≈ 3.7e-44 is subnormal in f32; e^-80 ≈ 1.8e-35 is not.
        let a = [0.0_f32, -100.0, -80.0];
        let y = [1.0, 0.0, 0.0];
        let mut g = [1.0; 3];
        let loss = SoftmaxCrossEntropy.loss_and_gradient(&a, &y, &mut g);
        assert_eq!(g[1], 0.0);
        assert!(g[2] >= f32::MIN_POSITIVE);
        assert!((g[2] - (-80.0_f32).exp()).abs() <= 1e-6 * g[2]);
        assert!(g[0] <= 0.0 && g[0] > -1e-6);
        assert!((0.0..1e-6).contains(&loss));
        // In f64 the same logits are far from the subnormal range and nothing changes.
        let mut g64 = [0.0; 3];
        SoftmaxCrossEntropy.gradient(&[0.0_f64, -100.0, -80.0], &[1.0, 0.0, 0.0], &mut g64);
        assert!((g64[1] - (-100.0_f64).exp()).abs() <= 1e-12 * g64[1]);
    }

    proptest! {
        #[test]
        fn loss_and_gradient_is_loss_then_gradient(
            pairs in prop::collection::vec((-50.0..50.0_f64, 0.0..1.0_f64), 1..12),
        ) {
            let (a, y): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
            let (mut fused, mut apart) = (vec![0.0; a.len()], vec![0.0; a.len()]);
            let loss = SoftmaxCrossEntropy.loss_and_gradient(&a, &y, &mut fused);
            SoftmaxCrossEntropy.gradient(&a, &y, &mut apart);
            prop_assert_eq!(loss.to_bits(), SoftmaxCrossEntropy.loss(&a, &y).to_bits());
            prop_assert_eq!(fused, apart);
            // The trait's default does the same for a loss that does not override it.
            let (mut g1, mut g2) = (vec![0.0; a.len()], vec![0.0; a.len()]);
            let l = crate::HalfSquaredError.loss_and_gradient(&a, &y, &mut g1);
            crate::HalfSquaredError.gradient(&a, &y, &mut g2);
            prop_assert_eq!(l.to_bits(), crate::HalfSquaredError.loss(&a, &y).to_bits());
            prop_assert_eq!(g1, g2);
        }
    }
}
