//! The per-value passes of a layer whose activation parameters are learned (§2.1.1),
//! shared by the reference procedures (a whole column at a time) and the engine (a
//! block of rows of a column at a time), and [`LayerFns`], the functions a dense
//! layer's passes apply: fixed, or with learned values.
//!
//! For neuron `j` with function `f(x; θ_j)` and `Δ_j = ∂C/∂a_j`, the backward step adds
//! `scale·Δ_j·∂f/∂θ(s_j; θ_j)` to `θ_j`'s sum (guide §2.1, errata 5's `scale = 1/B`)
//! before it turns `Δ_j` into `D_j = Δ_j·f'(s_j; θ_j)`.

use nn_activations::{Activation, ActivationError};
use nn_math::Real;

use super::learned::Learned;
use crate::{CoreError, LayerActivation};

/// Where a backward step adds its sums: the first learned tensor's values and, if two
/// are learned, the second's (each 1 value if shared, else one per neuron).
pub(super) struct Sums<'a, T> {
    pub(super) first: &'a mut [T],
    pub(super) second: Option<&'a mut [T]>,
}

/// `a = f(s)` for rows `first..first + s.len()` of a column, with the neurons'
/// functions `fns` (one if shared).
pub(super) fn forward<T: Real, F: Activation<T>>(
    fns: &[F],
    s: &[T],
    a: &mut [T],
    first: usize,
) -> Result<(), ActivationError> {
    match fns {
        [f] => f.f_slice(s, a)?,
        _ => {
            for ((y, x), f) in a.iter_mut().zip(s).zip(&fns[first..]) {
                *y = f.f(*x);
            }
        }
    }
    Ok(())
}

/// The backward step for rows `first..first + s.len()` of a column: each neuron's
/// `scale·Δ·∂f/∂θ` into `sums` (`learned`: the indices of the learned parameters among
/// the function's), then `Δ ← Δ ⊙ f'(s)`.
pub(super) fn backward<T: Real, F: Activation<T>>(
    fns: &[F],
    learned: [usize; 2],
    s: &[T],
    d: &mut [T],
    first: usize,
    scale: T,
    sums: &mut Sums<'_, T>,
) {
    let mut dp = [T::zero(); 2];
    if let [f] = fns {
        for (d, &x) in d.iter_mut().zip(s) {
            f.dparams(x, &mut dp);
            sums.first[0] += scale * *d * dp[learned[0]];
            if let Some(g) = sums.second.as_deref_mut() {
                g[0] += scale * *d * dp[learned[1]];
            }
            *d *= f.df(x);
        }
        return;
    }
    let (fns, firsts) = (&fns[first..], &mut sums.first[first..]);
    match sums.second.as_deref_mut() {
        None => {
            for (((d, &x), f), g) in d.iter_mut().zip(s).zip(fns).zip(firsts) {
                f.dparams(x, &mut dp);
                *g += scale * *d * dp[learned[0]];
                *d *= f.df(x);
            }
        }
        Some(seconds) => {
            let seconds = &mut seconds[first..];
            let per_neuron = d.iter_mut().zip(s).zip(fns).zip(firsts).zip(seconds);
            for ((((d, &x), f), g), h) in per_neuron {
                f.dparams(x, &mut dp);
                *g += scale * *d * dp[learned[0]];
                *h += scale * *d * dp[learned[1]];
                *d *= f.df(x);
            }
        }
    }
}

/// The functions a dense layer's passes apply: its fixed ones, or its function with
/// learned values.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LayerFns<'a, T: Real> {
    /// The layer's functions, parameters fixed.
    Fixed(&'a LayerActivation<T>),
    /// Parameters learned along with the weights.
    Learned(&'a Learned<T>),
}

impl<'a, T: Real> LayerFns<'a, T> {
    /// A layer's functions: `activation`, or its function with the `learned` values.
    pub(crate) fn of(activation: &'a LayerActivation<T>, learned: Option<&'a Learned<T>>) -> Self {
        match learned {
            Some(l) => Self::Learned(l),
            None => Self::Fixed(activation),
        }
    }

    /// Whether every neuron applies the same function with the same values, so that a
    /// pass may run over several columns at once.
    pub(crate) fn one_function(&self) -> bool {
        matches!(self, Self::Fixed(f) if f.per_neuron_len().is_none())
    }

    /// `a = f(s)` for rows `first..first + s.len()` of one column, or (if
    /// [`one_function`](Self::one_function)) for a run of whole columns with `first = 0`.
    pub(crate) fn forward(&self, s: &[T], a: &mut [T], first: usize) -> Result<(), CoreError> {
        match self {
            Self::Fixed(f) => f.forward(s, a, first)?,
            Self::Learned(l) => l.forward_rows(s, a, first)?,
        }
        Ok(())
    }

    /// `d ← d ⊙ f'(s)` as [`forward`](Self::forward) lays out its rows; with learned
    /// values, first `partial += scale·d ⊙ ∂f/∂θ(s)` ([`Learned::backward_rows`]).
    pub(crate) fn backward(
        &self,
        s: &[T],
        d: &mut [T],
        first: usize,
        scale: T,
        partial: &mut [T],
    ) -> Result<(), CoreError> {
        match self {
            Self::Fixed(f) => f.mul_derivative(s, d, first)?,
            Self::Learned(l) => l.backward_rows(s, d, first, scale, partial)?,
        }
        Ok(())
    }
}
