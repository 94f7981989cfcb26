//! Where the backward pass writes each layer's update: the [`Sink`] trait, with what a
//! phase reads ([`Propagate`]) and where it writes ([`Update`]), and its two sinks, a
//! gradient ([`Accumulate`], AdjustGradient) and the weights themselves ([`Descend`],
//! the fused descent).

use nn_math::Real;

use super::rows::{Cols, Rows};
use crate::layers::learned_passes::LayerFns;
use crate::{CoreError, Dense, LayerGradient, all_finite};

/// Where the backward pass adds each layer's term `scale·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ` (and
/// `scale·D⁽ᵏ⁾·1`): into a gradient ([`Accumulate`]) or straight into the weights
/// ([`Descend`]).
pub(crate) trait Sink<T: Real> {
    /// Runs `step` with what phase `l` of [`backward`](super::backprop::backward) needs of layer `l`, and the
    /// update targets of layer `l + 1` (if there is one), whose update may be due.
    fn phase(&mut self, l: usize, step: &mut PhaseStep<'_, T>) -> Result<(), CoreError>;

    /// Adds layer `k`'s sums `scale·Σ Δ ⊙ ∂f/∂θ` of its learned activation parameters
    /// (laid out as `Learned::backward_rows` lays them out) to their gradient, or to the
    /// values themselves (then projected into the domain); whether what it wrote is
    /// finite.
    fn learned(&mut self, k: usize, sums: &[T]) -> bool;
}

/// The work of one phase, given layer `l`'s [`Propagate`] and [`Update`] and layer
/// `l + 1`'s update targets.
pub(crate) type PhaseStep<'f, T> =
    dyn FnMut(Propagate<'_, T>, Update<'_, T>, Option<Update<'_, T>>) -> Result<(), CoreError> + 'f;

/// What propagating a delta through layer `l` reads.
#[derive(Clone, Copy)]
pub(crate) struct Propagate<'a, T: Real> {
    /// `W⁽ˡ⁾` as it was in the forward pass.
    pub(super) weight: Cols<'a, T>,
    /// Layer `l`'s functions (for the output delta) and layer `l − 1`'s (for the delta
    /// below).
    pub(super) own: LayerFns<'a, T>,
    pub(super) below: Option<LayerFns<'a, T>>,
    /// The factor of the learned parameters' sums (the sink's `scale`).
    pub(super) scale: T,
}

/// Where layer `l`'s update goes: `w += scale·D·Aᵀ`, `b += scale·D·1`.
#[derive(Clone, Copy)]
pub(crate) struct Update<'a, T: Real> {
    pub(super) w: Rows<'a, T>,
    pub(super) b: Rows<'a, T>,
    pub(super) scale: T,
}

/// AdjustGradient's sink: `∇C⁽ᵏ⁾ += (1/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ`.
pub(crate) struct Accumulate<'a, T: Real> {
    pub(crate) layers: &'a [Dense<T>],
    pub(crate) grads: &'a mut [LayerGradient<T>],
    pub(crate) scale: T,
}

impl<T: Real> Sink<T> for Accumulate<'_, T> {
    fn phase(&mut self, l: usize, step: &mut PhaseStep<'_, T>) -> Result<(), CoreError> {
        let scale = self.scale;
        fn target<T: Real>(g: &mut LayerGradient<T>, scale: T) -> Update<'_, T> {
            let (w, b) = g.parts_mut();
            let n = b.len();
            Update {
                w: Rows::of(w),
                b: Rows::new(b.as_mut_slice(), n, 1),
                scale,
            }
        }
        let (lower, upper) = self.grads.split_at_mut(l + 1);
        step(
            Propagate {
                weight: {
                    let layer = &self.layers[l];
                    Cols::new(layer.weight_slice(), layer.n_outputs(), layer.n_inputs())
                },
                own: self.layers[l].fns(),
                below: l.checked_sub(1).map(|k| self.layers[k].fns()),
                scale,
            },
            target(&mut lower[l], scale),
            upper.first_mut().map(|g| target(g, scale)),
        )
    }

    fn learned(&mut self, k: usize, sums: &[T]) -> bool {
        let mut at = 0;
        for g in self.grads[k].tensors_mut().iter_mut().skip(2) {
            let g = g.as_mut_slice();
            for (g, s) in g.iter_mut().zip(&sums[at..]) {
                *g += *s;
            }
            at += g.len();
        }
        self.grads[k].tensors()[2..]
            .iter()
            .all(|g| all_finite(g.as_slice()))
    }
}

/// Descend's sink: `W⁽ᵏ⁾ ← W⁽ᵏ⁾ − (α/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ`. Each thread updates its own
/// columns of `W⁽ᵏ⁾`, once no thread reads them any more (see [`backward`](super::backprop::backward)).
pub(crate) struct Descend<'a, T: Real> {
    pub(crate) layers: &'a mut [Dense<T>],
    pub(crate) scale: T,
}

impl<T: Real> Sink<T> for Descend<'_, T> {
    fn phase(&mut self, l: usize, step: &mut PhaseStep<'_, T>) -> Result<(), CoreError> {
        let scale = self.scale;
        let (lower, upper) = self.layers.split_at_mut(l + 1);
        let (below, this) = lower.split_at_mut(l);
        let n_in = this[0].n_inputs();
        let (w, b, own) = this[0].update_parts();
        let n = b.len();
        let w = Rows::new(w, n, n_in);
        let above = upper.first_mut().map(|layer| {
            let n_in = layer.n_inputs();
            let (w, b, _) = layer.update_parts();
            let n = b.len();
            Update {
                w: Rows::new(w, n, n_in),
                b: Rows::new(b, n, 1),
                scale,
            }
        });
        step(
            Propagate {
                weight: w.read(),
                own,
                below: below.last().map(Dense::fns),
                scale,
            },
            Update {
                w,
                b: Rows::new(b, n, 1),
                scale,
            },
            above,
        )
    }

    fn learned(&mut self, k: usize, sums: &[T]) -> bool {
        self.layers[k]
            .learned_mut()
            .is_none_or(|l| l.add_and_project(sums))
    }
}
