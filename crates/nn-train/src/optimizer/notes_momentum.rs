//! The notes' momentum (inertia), exactly as Algorithm 20/21.

use nn_math::Real;

use super::{Optimizer, ParamState, StepContext};
use crate::TrainError;
use crate::error::check_range;

/// The notes' momentum (§3.4.1, Algorithm 20/21): the applied gradient is the
/// `γ`-weighted average of the previous applied gradient and the new one,
/// `∇C ← γ·∇C_prev + (1 − γ)·∇C`, then `p ← p − α·∇C`, and the average becomes
/// `∇C_prev` for the next batch (ClearGradient copies it before clearing). `∇C_prev`
/// starts at 0 (Algorithm 2 clears the gradient); once it decays below the smallest normal
/// number it is set to 0 ([`nn_math::Real::flush_subnormal`]).
///
/// This is an exponential moving average of gradients, unlike PyTorch's momentum (see
/// [`crate::Momentum`]), whose velocity is not damped by `1 − γ`.
///
/// ```
/// use nn_train::{NotesMomentum, Optimizer, ParamState, StepContext};
/// use nn_core::{ParamId, ParamKind};
///
/// let opt = NotesMomentum { gamma: 0.5 };
/// let mut state = ParamState::default();
/// let mut p = [0.0];
/// for (step, g) in [(1, 4.0), (2, 4.0)] {
///     let ctx = StepContext { id: ParamId { layer: 0, position: 0, name: "weight", kind: ParamKind::Weight }, learning_rate: 1.0, step };
///     opt.update(&ctx, &mut p, &[g], &mut state);
/// }
/// // Step 1 applies 0.5·0 + 0.5·4 = 2; step 2 applies 0.5·2 + 0.5·4 = 3.
/// assert_eq!(p, [-5.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NotesMomentum {
    /// `γ ∈ [0, 1)`: how much of the previous gradient to keep. Default 0.9.
    pub gamma: f64,
}

impl Default for NotesMomentum {
    fn default() -> Self {
        Self { gamma: 0.9 }
    }
}

impl<T: Real> Optimizer<T> for NotesMomentum {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn update(&self, ctx: &StepContext<T>, param: &mut [T], grad: &[T], state: &mut ParamState<T>) {
        let gamma = T::lit(self.gamma);
        let prev = state.buffer(0, param.len());
        for ((p, &g), v) in param.iter_mut().zip(grad).zip(prev) {
            // A velocity decaying into the subnormal range is flushed
            // (see `Real::flush_subnormal`).
            *v = (gamma * *v + (T::one() - gamma) * g).flush_subnormal();
            *p -= ctx.learning_rate * *v;
        }
    }

    fn name(&self) -> &str {
        "notes_momentum"
    }

    fn validate(&self) -> Result<(), TrainError> {
        check_range(
            "NotesMomentum",
            "gamma",
            self.gamma,
            (0.0..1.0).contains(&self.gamma),
            "must be in [0, 1)",
        )
    }
}
