//! Plain gradient descent (Algorithm 9/10).

use nn_math::Real;

use super::{Optimizer, ParamState, StepContext};

/// Plain gradient descent, the notes' ApplyGradient (Algorithm 9/10): `p ← p − α·g`.
///
/// ```
/// use nn_train::{Optimizer, ParamState, Sgd, StepContext};
/// use nn_core::{ParamId, ParamKind};
///
/// let ctx = StepContext { id: ParamId { layer: 0, position: 0, name: "weight", kind: ParamKind::Weight }, learning_rate: 0.1, step: 1 };
/// let mut p = [1.0, 2.0];
/// Sgd.update(&ctx, &mut p, &[10.0, -10.0], &mut ParamState::default());
/// assert_eq!(p, [1.0 - 0.1 * 10.0, 2.0 + 0.1 * 10.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sgd;

impl<T: Real> Optimizer<T> for Sgd {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn update(
        &self,
        ctx: &StepContext<T>,
        param: &mut [T],
        grad: &[T],
        _state: &mut ParamState<T>,
    ) {
        for (p, &g) in param.iter_mut().zip(grad) {
            *p -= ctx.learning_rate * g;
        }
    }

    fn name(&self) -> &str {
        "sgd"
    }

    fn is_plain_descent(&self) -> bool {
        true
    }
}
