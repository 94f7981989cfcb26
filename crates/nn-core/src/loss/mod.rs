//! Error (cost) functions of one example (§3.1), behind the [`Loss`] trait.

mod half_squared;
mod softmax_cross_entropy;

pub use half_squared::HalfSquaredError;
pub use softmax_cross_entropy::{SoftmaxCrossEntropy, softmax};

use nn_math::Real;

/// The error `C(a, y)` of one example's output `a = a⁽ᴸ⁾` against its target `y`, and its
/// gradient `∂C/∂a`.
///
/// Backpropagation needs only `∂C/∂a`: [`crate::Network::adjust_gradient`] multiplies it
/// by `f⁽ᴸ⁾'(s⁽ᴸ⁾)` to get the output layer's delta, whatever the output activation. A
/// batch's loss is the mean of its examples' losses.
///
/// Both slices have the output layer's length `n_L`; the network guarantees it. A loss is
/// shared by the threads of a step ([`crate::Workspace::with_threads`]), each computing
/// its own examples' deltas, hence `Send + Sync`.
///
/// # Example: a user-defined loss
/// ```
/// use nn_core::Loss;
/// use nn_math::Real;
///
/// /// The mean absolute error Σ|a − y|/n, with |0|' = 0.
/// struct MeanAbsoluteError;
///
/// impl<T: Real> Loss<T> for MeanAbsoluteError {
///     fn loss(&self, output: &[T], target: &[T]) -> T {
///         let n = T::lit(output.len() as f64);
///         output.iter().zip(target).fold(T::zero(), |s, (&a, &y)| s + (a - y).abs()) / n
///     }
///     fn gradient(&self, output: &[T], target: &[T], grad: &mut [T]) {
///         let n = T::lit(output.len() as f64);
///         for ((g, &a), &y) in grad.iter_mut().zip(output).zip(target) {
///             *g = if a > y { T::one() / n } else if a < y { -T::one() / n } else { T::zero() };
///         }
///     }
/// }
///
/// let mut g = [0.0; 2];
/// MeanAbsoluteError.gradient(&[1.0, 0.0], &[0.0, 2.0], &mut g);
/// assert_eq!(g, [0.5, -0.5]);
/// ```
pub trait Loss<T: Real>: Send + Sync {
    /// `C(a, y)` for one example.
    fn loss(&self, output: &[T], target: &[T]) -> T;

    /// Writes `∂C/∂a` for one example into `grad`.
    fn gradient(&self, output: &[T], target: &[T], grad: &mut [T]);

    /// `C(a, y)`, and `∂C/∂a` written into `grad`, for one example: what backpropagation
    /// calls. The default calls [`loss`](Loss::loss) and [`gradient`](Loss::gradient);
    /// override it when the two share work (as the softmax does).
    fn loss_and_gradient(&self, output: &[T], target: &[T], grad: &mut [T]) -> T {
        self.gradient(output, target, grad);
        self.loss(output, target)
    }

    /// A short name for messages and histories.
    fn name(&self) -> &str {
        core::any::type_name::<Self>()
    }
}

impl<T: Real, L: Loss<T> + ?Sized> Loss<T> for &L {
    fn loss(&self, output: &[T], target: &[T]) -> T {
        (**self).loss(output, target)
    }

    fn gradient(&self, output: &[T], target: &[T], grad: &mut [T]) {
        (**self).gradient(output, target, grad);
    }

    fn loss_and_gradient(&self, output: &[T], target: &[T], grad: &mut [T]) -> T {
        (**self).loss_and_gradient(output, target, grad)
    }

    fn name(&self) -> &str {
        (**self).name()
    }
}

impl<T: Real, L: Loss<T> + ?Sized> Loss<T> for Box<L> {
    fn loss(&self, output: &[T], target: &[T]) -> T {
        (**self).loss(output, target)
    }

    fn gradient(&self, output: &[T], target: &[T], grad: &mut [T]) {
        (**self).gradient(output, target, grad);
    }

    fn loss_and_gradient(&self, output: &[T], target: &[T], grad: &mut [T]) -> T {
        (**self).loss_and_gradient(output, target, grad)
    }

    fn name(&self) -> &str {
        (**self).name()
    }
}
