//! Classical momentum and Nesterov momentum, with PyTorch's `torch.optim.SGD` semantics.

use nn_math::Real;

use super::{Optimizer, ParamState, StepContext};
use crate::TrainError;
use crate::error::check_range;

/// Gradient descent with momentum, as PyTorch's `SGD(momentum=μ, nesterov=…)` (without
/// dampening or weight decay): `v ← μ·v + g`, then `p ← p − α·v`, or with
/// `nesterov: true`, `p ← p − α·(g + μ·v)`. The velocity `v` starts at 0, and is set to
/// 0 when it decays below the smallest normal number ([`nn_math::Real::flush_subnormal`]).
///
/// ```
/// use nn_train::{Momentum, Optimizer, ParamState, StepContext};
/// use nn_core::{ParamId, ParamKind};
///
/// let opt = Momentum { momentum: 0.5, nesterov: false };
/// let mut state = ParamState::default();
/// let mut p = [0.0];
/// for step in 1..=2 {
///     let ctx = StepContext { id: ParamId { layer: 0, position: 0, name: "weight", kind: ParamKind::Weight }, learning_rate: 1.0, step };
///     opt.update(&ctx, &mut p, &[1.0], &mut state);
/// }
/// // v₁ = 1, v₂ = 0.5·1 + 1 = 1.5: p = −1 − 1.5.
/// assert_eq!(p, [-2.5]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Momentum {
    /// `μ ∈ [0, 1)`. Default 0.9.
    pub momentum: f64,
    /// Use Nesterov's look-ahead form. Default `false`.
    pub nesterov: bool,
}

impl Default for Momentum {
    fn default() -> Self {
        Self {
            momentum: 0.9,
            nesterov: false,
        }
    }
}

impl<T: Real> Optimizer<T> for Momentum {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn update(&self, ctx: &StepContext<T>, param: &mut [T], grad: &[T], state: &mut ParamState<T>) {
        let mu = T::lit(self.momentum);
        let velocity = state.buffer(0, param.len());
        for ((p, &g), v) in param.iter_mut().zip(grad).zip(velocity) {
            // A velocity decaying into the subnormal range is flushed
            // (see `Real::flush_subnormal`).
            *v = (mu * *v + g).flush_subnormal();
            let direction = if self.nesterov { g + mu * *v } else { *v };
            *p -= ctx.learning_rate * direction;
        }
    }

    fn name(&self) -> &str {
        if self.nesterov {
            "nesterov"
        } else {
            "momentum"
        }
    }

    fn validate(&self) -> Result<(), TrainError> {
        check_range(
            "Momentum",
            "momentum",
            self.momentum,
            (0.0..1.0).contains(&self.momentum),
            "must be in [0, 1)",
        )
    }
}
