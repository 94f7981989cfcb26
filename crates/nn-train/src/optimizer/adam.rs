//! Adam (§3.4.3, a TODO in the notes; Kingma & Ba 2015) and AdamW (Loshchilov & Hutter
//! 2019), with PyTorch's semantics.

use nn_math::Real;

use super::{Optimizer, ParamState, StepContext, flushes_subnormals};
use crate::TrainError;
use crate::error::check_range;

/// Adam as PyTorch's `torch.optim.Adam` (no weight decay, not AMSGrad): with step `t`,
/// `m ← β₁·m + (1 − β₁)·g`, `v ← β₂·v + (1 − β₂)·g²`, and the bias-corrected update
/// `p ← p − (α / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε)`.
///
/// With `ε ≥ 9.1e-13` (f32; the default 1e-8 is), a moment that falls below the smallest
/// normal number is set to 0 ([`nn_math::Real::flush_subnormal`]): it then moves no
/// weight by more than `α·MIN_NORMAL/ε`, and subnormal arithmetic is slow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adam {
    /// `β₁ ∈ [0, 1)`, decay of the first-moment estimate. Default 0.9.
    pub beta1: f64,
    /// `β₂ ∈ [0, 1)`, decay of the second-moment estimate. Default 0.999.
    pub beta2: f64,
    /// `ε > 0`. Default 1e-8.
    pub eps: f64,
}

impl Default for Adam {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl Adam {
    /// Checks the hyper-parameters in the precision `T` they are used in: a β₂ of
    /// 0.99999999 is 1 in f32 (the bias correction would divide by 0), an ε of 1e-50 is 0.
    fn validate_named<T: Real>(&self, owner: &str) -> Result<(), TrainError> {
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            check_range(owner, name, b, (0.0..1.0).contains(&b), "must be in [0, 1)")?;
            let rounded = T::lit(b) < T::one();
            check_range(
                owner,
                name,
                b,
                rounded,
                "rounds to 1 in the scalar type used",
            )?;
        }
        check_range(owner, "eps", self.eps, self.eps > 0.0, "must be positive")?;
        let rounded = T::lit(self.eps) > T::zero();
        check_range(
            owner,
            "eps",
            self.eps,
            rounded,
            "rounds to 0 in the scalar type used",
        )
    }

    /// The Adam step shared with [`AdamW`], in PyTorch's order of operations.
    fn adam_step<T: Real>(
        &self,
        ctx: &StepContext<T>,
        param: &mut [T],
        grad: &[T],
        state: &mut ParamState<T>,
    ) {
        let (b1, b2, eps) = (T::lit(self.beta1), T::lit(self.beta2), T::lit(self.eps));
        let t = i32::try_from(ctx.step).unwrap_or(i32::MAX);
        let k = AdamConstants {
            b1,
            b2,
            eps,
            bias2_sqrt: (T::one() - b2.powi(t)).sqrt(),
            step_size: ctx.learning_rate / (T::one() - b1.powi(t)),
            flush: flushes_subnormals(eps),
        };
        let (m, v) = state.two_buffers(0, 1, param.len());
        #[cfg(target_arch = "x86_64")]
        if nn_math::simd() >= nn_math::Simd::Avx2 {
            // SAFETY: the CPU has AVX2.
            unsafe { adam_avx2(&k, param, grad, m, v) };
            return;
        }
        adam_loop(&k, param, grad, m, v);
    }
}

/// The per-step constants of the Adam loop.
struct AdamConstants<T> {
    b1: T,
    b2: T,
    eps: T,
    /// `√(1 − β₂ᵗ)`.
    bias2_sqrt: T,
    /// `α / (1 − β₁ᵗ)`.
    step_size: T,
    /// Whether subnormal moments are flushed ([`flushes_subnormals`]).
    flush: bool,
}

/// [`adam_loop`] compiled for AVX2 (eight f32 lanes instead of SSE2's four; the same
/// operations in the same order, so the same bits).
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn adam_avx2<T: Real>(k: &AdamConstants<T>, p: &mut [T], g: &[T], m: &mut [T], v: &mut [T]) {
    adam_loop(k, p, g, m, v);
}

/// The element-wise Adam update, inlined into each of its builds.
#[inline(always)]
fn adam_loop<T: Real>(k: &AdamConstants<T>, param: &mut [T], grad: &[T], m: &mut [T], v: &mut [T]) {
    for (((p, &g), m), v) in param
        .iter_mut()
        .zip(grad)
        .zip(m.iter_mut())
        .zip(v.iter_mut())
    {
        *m = k.b1 * *m + (T::one() - k.b1) * g;
        *v = k.b2 * *v + (T::one() - k.b2) * g * g;
        if k.flush {
            *m = m.flush_subnormal();
            *v = v.flush_subnormal();
        }
        let denom = v.sqrt() / k.bias2_sqrt + k.eps;
        *p -= k.step_size * *m / denom;
    }
}

impl<T: Real> Optimizer<T> for Adam {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn update(&self, ctx: &StepContext<T>, param: &mut [T], grad: &[T], state: &mut ParamState<T>) {
        self.adam_step(ctx, param, grad, state);
    }

    fn name(&self) -> &str {
        "adam"
    }

    fn validate(&self) -> Result<(), TrainError> {
        self.validate_named::<T>("Adam")
    }
}

/// AdamW as PyTorch's `torch.optim.AdamW`: decoupled weight decay `p ← p·(1 − α·λ)`,
/// then the [`Adam`] step. The decay applies to every tensor (weights and biases), as in
/// PyTorch when all parameters are in one group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamW {
    /// The Adam part. Default [`Adam::default`].
    pub adam: Adam,
    /// Weight decay `λ ≥ 0`. Default 0.01 (PyTorch's).
    pub weight_decay: f64,
}

impl Default for AdamW {
    fn default() -> Self {
        Self {
            adam: Adam::default(),
            weight_decay: 0.01,
        }
    }
}

impl<T: Real> Optimizer<T> for AdamW {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn update(&self, ctx: &StepContext<T>, param: &mut [T], grad: &[T], state: &mut ParamState<T>) {
        let keep = T::one() - ctx.learning_rate * T::lit(self.weight_decay);
        param.iter_mut().for_each(|p| *p *= keep);
        self.adam.adam_step(ctx, param, grad, state);
    }

    fn name(&self) -> &str {
        "adamw"
    }

    fn validate(&self) -> Result<(), TrainError> {
        self.adam.validate_named::<T>("AdamW")?;
        check_range(
            "AdamW",
            "weight_decay",
            self.weight_decay,
            self.weight_decay >= 0.0,
            "must be at least 0",
        )
    }
}
