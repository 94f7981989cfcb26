//! RMSProp (§3.4.2, a TODO in the notes; Hinton's lecture 6e), with PyTorch's semantics.

use nn_math::Real;

use super::{Optimizer, ParamState, StepContext};
use crate::TrainError;
use crate::error::check_range;

/// RMSProp as PyTorch's `torch.optim.RMSprop` (not centered, no momentum):
/// `s ← ρ·s + (1 − ρ)·g²`, `p ← p − α·g / (√s + ε)`, with `s` starting at 0.
///
/// Dividing by the running root-mean-square of the gradient gives every weight its own
/// step size: large where gradients are small and steady, small where they are large.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsProp {
    /// Decay `ρ ∈ [0, 1)` of the squared-gradient average. Default 0.99 (PyTorch's `alpha`).
    pub rho: f64,
    /// `ε > 0` added to the root mean square. Default 1e-8.
    pub eps: f64,
}

impl Default for RmsProp {
    fn default() -> Self {
        Self {
            rho: 0.99,
            eps: 1e-8,
        }
    }
}

impl<T: Real> Optimizer<T> for RmsProp {
    fn update(&self, ctx: &StepContext<T>, param: &mut [T], grad: &[T], state: &mut ParamState<T>) {
        let (rho, eps) = (T::lit(self.rho), T::lit(self.eps));
        let flush = super::adam::flushes_subnormals(eps);
        let avg = state.buffer(0, param.len());
        for ((p, &g), s) in param.iter_mut().zip(grad).zip(avg) {
            *s = rho * *s + (T::one() - rho) * g * g;
            if flush {
                *s = s.flush_subnormal();
            }
            *p -= ctx.learning_rate * g / (s.sqrt() + eps);
        }
    }

    fn name(&self) -> &str {
        "rmsprop"
    }

    fn validate(&self) -> Result<(), TrainError> {
        check_range(
            "RmsProp",
            "rho",
            self.rho,
            (0.0..1.0).contains(&self.rho),
            "must be in [0, 1)",
        )?;
        check_range(
            "RmsProp",
            "eps",
            self.eps,
            self.eps > 0.0,
            "must be positive",
        )
    }
}
