//! RMSProp (§3.4.2, a TODO in the notes; Hinton's lecture 6e), with PyTorch's semantics.

use nn_math::Real;

use super::{Optimizer, ParamState, StepContext, flushes_subnormals};
use crate::TrainError;
use crate::error::check_range;

/// RMSProp as PyTorch's `torch.optim.RMSprop` (not centered, no momentum):
/// `s ← ρ·s + (1 − ρ)·g²`, `p ← p − α·g / (√s + ε)`, with `s` starting at 0.
///
/// Dividing by the running root-mean-square of the gradient gives every weight its own
/// step size: large where gradients are small and steady, small where they are large.
/// As for [`crate::Adam`], an average below the smallest normal number is set to 0 when
/// `ε ≥ 9.1e-13` (f32).
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
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn update(&self, ctx: &StepContext<T>, param: &mut [T], grad: &[T], state: &mut ParamState<T>) {
        let (rho, eps) = (T::lit(self.rho), T::lit(self.eps));
        let k = (rho, eps, ctx.learning_rate, flushes_subnormals(eps));
        let avg = state.buffer(0, param.len());
        #[cfg(target_arch = "x86_64")]
        if nn_math::simd() >= nn_math::Simd::Avx2 {
            // SAFETY: the CPU has AVX2.
            unsafe { rmsprop_avx2(k, param, grad, avg) };
            return;
        }
        rmsprop_loop(k, param, grad, avg);
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
            self.eps > 0.0 && T::lit(self.eps) > T::zero(),
            "must be positive, also in the scalar type used",
        )
    }
}

/// `(ρ, ε, α, flush)` of one step.
type RmsPropConstants<T> = (T, T, T, bool);

/// [`rmsprop_loop`] compiled for AVX2 (the same operations, so the same bits).
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn rmsprop_avx2<T: Real>(k: RmsPropConstants<T>, p: &mut [T], g: &[T], s: &mut [T]) {
    rmsprop_loop(k, p, g, s);
}

/// The element-wise RMSProp update, inlined into each of its builds; a subnormal average
/// is flushed when `flush` (see `flushes_subnormals`).
#[inline(always)]
fn rmsprop_loop<T: Real>(k: RmsPropConstants<T>, param: &mut [T], grad: &[T], avg: &mut [T]) {
    let (rho, eps, lr, flush) = k;
    for ((p, &g), s) in param.iter_mut().zip(grad).zip(avg) {
        *s = rho * *s + (T::one() - rho) * g * g;
        if flush {
            *s = s.flush_subnormal();
        }
        *p -= lr * g / (s.sqrt() + eps);
    }
}
