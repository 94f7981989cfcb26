//! Gradient clipping by global norm: what keeps backpropagation through time (guide §13)
//! from taking one enormous step when the gradient explodes.

use nn_core::Gradient;
use nn_math::Real;

/// Scales the whole gradient by `max_norm/‖g‖` if its global L2 norm
/// `‖g‖ = √(Σ over every tensor and value of g²)` exceeds `max_norm`, so that the step
/// keeps its direction and has at most that length; leaves it alone otherwise. Returns
/// `‖g‖` before clipping (non-finite if the gradient is; then nothing is scaled, and the
/// trainer reports the non-finite gradient as usual).
///
/// The norm is summed in `f64`, so a gradient of many `f32` values does not lose its small
/// terms. `max_norm` must be positive and finite (`TrainerConfig::validate` checks it).
///
/// ```
/// use nn_core::Network;
/// use nn_activations::Identity;
/// use nn_train::clip_by_global_norm;
/// use rand::SeedableRng;
///
/// let net = Network::<f64>::builder(2).layer(1, Identity)
///     .build(&mut rand::rngs::StdRng::seed_from_u64(1))?;
/// let mut grad = net.gradient();
/// // ∇W = [3, 0], ∇b = [4]: norm 5.
/// grad.layers_mut()[0].tensors_mut()[0][(0, 0)] = 3.0;
/// grad.layers_mut()[0].tensors_mut()[1][(0, 0)] = 4.0;
/// assert_eq!(clip_by_global_norm(&mut grad, 1.0), 5.0);
/// assert!((grad.layers()[0].tensors()[0][(0, 0)] - 0.6).abs() < 1e-15);
/// assert!((grad.layers()[0].tensors()[1][(0, 0)] - 0.8).abs() < 1e-15);
/// // Below the bound, nothing changes.
/// assert!((clip_by_global_norm(&mut grad, 2.0) - 1.0).abs() < 1e-15);
/// assert!((grad.layers()[0].tensors()[1][(0, 0)] - 0.8).abs() < 1e-15);
/// # Ok::<(), nn_core::CoreError>(())
/// ```
pub fn clip_by_global_norm<T: Real>(grad: &mut Gradient<T>, max_norm: f64) -> f64 {
    let squares: f64 = grad
        .layers()
        .iter()
        .flat_map(|l| l.tensors())
        .flat_map(|t| t.iter())
        .map(|&v| v.as_f64() * v.as_f64())
        .sum();
    let norm = squares.sqrt();
    if norm.is_finite() && norm > max_norm {
        let factor = T::lit(max_norm / norm);
        for layer in grad.layers_mut() {
            for t in layer.tensors_mut() {
                t.iter_mut().for_each(|v| *v *= factor);
            }
        }
    }
    norm
}
