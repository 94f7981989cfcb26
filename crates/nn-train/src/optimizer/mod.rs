//! Optimizers: how a parameter tensor moves given its gradient (§3.2 ApplyGradient,
//! §3.4). One trait with one required method; the state each optimizer keeps per tensor
//! lives in [`ParamState`], so that a new optimizer is a struct and one function.

mod adam;
mod momentum;
mod notes_momentum;
mod rmsprop;
mod sgd;

pub use adam::{Adam, AdamW};
pub use momentum::Momentum;
pub use notes_momentum::NotesMomentum;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use nn_core::{Gradient, Network, ParamId};
use nn_math::Real;

use crate::TrainError;

/// What an update knows besides the tensor and its gradient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepContext<T> {
    /// Which tensor this is (layer, position, name and kind).
    pub id: ParamId,
    /// The learning rate `α` for this step (from the schedule).
    pub learning_rate: T,
    /// How many updates this tensor has had, this one included (1 on the first step).
    pub step: u64,
}

/// The state an optimizer keeps for one parameter tensor: numbered buffers of the
/// tensor's length, created as zeros on first use (e.g. Adam's `m` and `v`).
///
/// Plain vectors, so that checkpoints ([`crate::Trainer::save_checkpoint`]) can save any optimizer's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamState<T> {
    /// Completed updates of this tensor.
    pub step: u64,
    /// The optimizer's buffers, in the optimizer's own order.
    pub buffers: Vec<Vec<T>>,
}

impl<T: Real> ParamState<T> {
    /// Buffer `i`, created (with any before it) as `len` zeros if missing.
    pub fn buffer(&mut self, i: usize, len: usize) -> &mut [T] {
        if self.buffers.len() <= i {
            self.buffers.resize_with(i + 1, Vec::new);
        }
        let b = &mut self.buffers[i];
        if b.len() != len {
            b.clear();
            b.resize(len, T::zero());
        }
        b
    }

    /// Buffers `i` and `j` (`i < j`) at once, created as in [`ParamState::buffer`].
    pub fn two_buffers(&mut self, i: usize, j: usize, len: usize) -> (&mut [T], &mut [T]) {
        assert!(i < j, "two_buffers: i must be below j");
        self.buffer(j, len);
        self.buffer(i, len);
        let (lo, hi) = self.buffers.split_at_mut(j);
        (&mut lo[i], &mut hi[0])
    }
}

/// The state of an optimizer for a whole network: one [`ParamState`] per parameter
/// tensor, indexed by [`ParamId::index`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerState<T> {
    /// Per-tensor state, in the network's visiting order.
    pub params: Vec<ParamState<T>>,
}

impl<T: Real> OptimizerState<T> {
    /// Counts one update of every tensor of `net` without changing any buffer (for
    /// updates made outside [`Optimizer::step`], such as the trainer's fused descent).
    pub fn count_steps(&mut self, net: &Network<T>) {
        let n = net.n_param_tensors();
        if self.params.len() != n {
            self.params.resize_with(n, ParamState::default);
        }
        self.params.iter_mut().for_each(|p| p.step += 1);
    }
}

/// An optimizer: updates one parameter tensor in place from its gradient.
///
/// Only [`update`](Optimizer::update) is required. The learning rate comes from the
/// trainer's schedule through the [`StepContext`]; everything else an optimizer needs
/// (momentum buffers, moment estimates) it keeps in the [`ParamState`] it is handed,
/// which the trainer stores, checkpoints and restores.
///
/// # Example: Adagrad in a few lines
/// ```
/// use nn_train::{Optimizer, ParamState, StepContext};
/// use nn_math::Real;
///
/// /// Adagrad (Duchi et al., 2011): p ← p − α·g / (√(Σ g²) + ε).
/// struct Adagrad { eps: f64 }
///
/// impl<T: Real> Optimizer<T> for Adagrad {
///     fn update(&self, ctx: &StepContext<T>, param: &mut [T], grad: &[T], state: &mut ParamState<T>) {
///         let sum = state.buffer(0, param.len());
///         for ((p, &g), s) in param.iter_mut().zip(grad).zip(sum) {
///             *s += g * g;
///             *p -= ctx.learning_rate * g / (s.sqrt() + T::lit(self.eps));
///         }
///     }
/// }
/// ```
pub trait Optimizer<T: Real> {
    /// Updates `param` from `grad` (the batch's mean gradient, regularization included).
    fn update(&self, ctx: &StepContext<T>, param: &mut [T], grad: &[T], state: &mut ParamState<T>);

    /// A short name for messages and checkpoints.
    fn name(&self) -> &str {
        core::any::type_name::<Self>()
    }

    /// The hyper-parameters, as a string that two runs share exactly when they use the
    /// same ones (checkpoints record it, and resuming with another is refused). The
    /// built-ins give their `Debug` form; the default is the type's name, so a type of
    /// your own with hyper-parameters should override it.
    fn settings(&self) -> String {
        core::any::type_name::<Self>().to_owned()
    }

    /// Checks the hyper-parameters; the trainer calls it once before training.
    ///
    /// # Errors
    /// [`TrainError::HyperParameter`] naming the invalid one.
    fn validate(&self) -> Result<(), TrainError> {
        Ok(())
    }

    /// Whether this optimizer is plain gradient descent, `p ← p − α·g` with no state.
    /// The trainer then fuses the update into backpropagation
    /// (`nn_core::Network::descend`) and never materializes the gradient. Only [`Sgd`]
    /// says yes; the default is `false`.
    fn is_plain_descent(&self) -> bool {
        false
    }

    /// Applies one update to every parameter tensor of `net` (in the order of
    /// [`Network::visit_params_mut`]) with learning rate `learning_rate`, then moves
    /// learned activation parameters that left their domain back to its nearest point
    /// ([`Network::constrain_params`]).
    ///
    /// # Errors
    /// A [`TrainError::Core`] if `grad` does not belong to `net`.
    fn step(
        &self,
        net: &mut Network<T>,
        grad: &Gradient<T>,
        state: &mut OptimizerState<T>,
        learning_rate: T,
    ) -> Result<(), TrainError> {
        let n = net.n_param_tensors();
        if state.params.len() != n {
            state.params.resize_with(n, ParamState::default);
        }
        net.visit_params_mut(grad, |id, param, g| {
            let s = &mut state.params[id.index()];
            s.step += 1;
            let ctx = StepContext {
                id,
                learning_rate,
                step: s.step,
            };
            self.update(&ctx, param, g, s);
        })?;
        // Learned activation parameters that left their domain go back to its edge.
        net.constrain_params();
        Ok(())
    }
}

impl<T: Real, O: Optimizer<T> + ?Sized> Optimizer<T> for Box<O> {
    fn update(&self, ctx: &StepContext<T>, param: &mut [T], grad: &[T], state: &mut ParamState<T>) {
        (**self).update(ctx, param, grad, state);
    }

    fn name(&self) -> &str {
        (**self).name()
    }

    fn settings(&self) -> String {
        (**self).settings()
    }

    fn validate(&self) -> Result<(), TrainError> {
        (**self).validate()
    }

    fn is_plain_descent(&self) -> bool {
        (**self).is_plain_descent()
    }
}

/// Whether the moments of Adam or RMSProp with this `ε` may be flushed when subnormal
/// (see [`Real::flush_subnormal`]; kept, they made the MNIST example's later epochs about
/// 1.5× slower): when `ε·EPSILON ≥ √MIN_NORMAL` (`ε ≥ 9.1e-13` in f32; the default 1e-8
/// is), a subnormal `v` changes `√v + ε` by less than the last bit of `ε`, and a subnormal
/// `m` moves a weight by less than `α·MIN_NORMAL/ε`. With a smaller `ε` nothing is
/// flushed.
pub(crate) fn flushes_subnormals<T: Real>(eps: T) -> bool {
    eps * T::default_epsilon() >= T::MIN_NORMAL.sqrt()
}
