//! Norm-based regularization (§3.3.2.1, eq. 24–29) as a gradient transform.

use nn_core::{Gradient, Network, ParamId, ParamKind};
use nn_math::{L1 as L1Norm, Norm, Real, squared_l2_norm};

use crate::TrainError;
use crate::error::check_range;

/// A penalty added to the cost (eq. 24, `C_r = C + λ·‖w‖`) and its gradient added to the
/// batch's gradient, once per batch (errata 5), before the optimizer runs.
///
/// Two required methods: the penalty of one parameter tensor and its gradient. The
/// network-wide versions are provided.
pub trait Regularizer<T: Real> {
    /// The penalty's share from one parameter tensor.
    fn penalty(&self, id: ParamId, param: &[T]) -> T;

    /// Adds `∂penalty/∂param` to `grad`.
    fn add_gradient(&self, id: ParamId, param: &[T], grad: &mut [T]);

    /// The hyper-parameters, as a string that two runs share exactly when they use the
    /// same ones (checkpoints record it, and resuming with another is refused). The
    /// built-ins give their `Debug` form; the default is the type's name, so a type of
    /// your own with hyper-parameters should override it.
    fn settings(&self) -> String {
        core::any::type_name::<Self>().to_owned()
    }

    /// Checks the hyper-parameters; the trainer calls it once.
    ///
    /// # Errors
    /// [`TrainError::HyperParameter`].
    fn validate(&self) -> Result<(), TrainError> {
        Ok(())
    }

    /// The whole penalty of `net` (the `λ·‖w‖` term of eq. 24).
    fn network_penalty(&self, net: &Network<T>) -> T {
        let mut total = T::zero();
        net.visit_params(|id, p| total += self.penalty(id, p));
        total
    }

    /// Adds the penalty's gradient to `grad` for every tensor of `net` (Algorithm 12).
    fn regularize(&self, net: &Network<T>, grad: &mut Gradient<T>) {
        // A gradient of another network adds nothing (the step that follows refuses it).
        let _ = net.visit_grads_mut(grad, |id, param, g| self.add_gradient(id, param, g));
    }
}

/// Whether the built-in regularizers penalize a tensor: weights always, biases when
/// asked, other parameters (learned activation parameters, a layer's scale and shift)
/// never: they are not the "weights and biases" of eq. 24, and shrinking a β or γ
/// towards 0 would push it towards the edge of its domain. A regularizer of your own
/// decides by [`ParamKind`] as it likes.
fn applies(id: ParamId, include_biases: bool) -> bool {
    match id.kind {
        ParamKind::Weight => true,
        ParamKind::Bias => include_biases,
        ParamKind::Other => false,
    }
}

/// L1 regularization (§3.3.2.1.1, Algorithm 13): penalty `λ·‖w‖₁`, gradient `λ·sign(w)`
/// with `|0|' = 0` (eq. 27).
///
/// `include_biases` follows the notes by default (`true`: "all the weights and
/// biases"); set it to `false` to leave biases unpenalized, as is common practice.
/// Parameters of [`ParamKind::Other`] (learned activation parameters) are never
/// penalized.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct L1 {
    /// `λ ≥ 0`.
    pub lambda: f64,
    /// Penalize biases too. Default `true` (the notes').
    pub include_biases: bool,
}

impl L1 {
    /// `λ·‖w‖₁` over all weights and biases.
    pub fn new(lambda: f64) -> Self {
        Self {
            lambda,
            include_biases: true,
        }
    }
}

impl<T: Real> Regularizer<T> for L1 {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn penalty(&self, id: ParamId, param: &[T]) -> T {
        if applies(id, self.include_biases) {
            T::lit(self.lambda) * L1Norm.norm(param)
        } else {
            T::zero()
        }
    }

    fn add_gradient(&self, id: ParamId, param: &[T], grad: &mut [T]) {
        if !applies(id, self.include_biases) {
            return;
        }
        let lambda = T::lit(self.lambda);
        for (g, &w) in grad.iter_mut().zip(param) {
            // Algorithm 13: 0 at 0, else the sign.
            if w > T::zero() {
                *g += lambda;
            } else if w < T::zero() {
                *g -= lambda;
            }
        }
    }

    fn validate(&self) -> Result<(), TrainError> {
        check_range(
            "L1",
            "lambda",
            self.lambda,
            self.lambda >= 0.0,
            "must be at least 0",
        )
    }
}

/// L2 regularization (§3.3.2.1.2, Algorithm 14): penalty `λ·½·‖w‖₂²`, gradient `λ·w`.
///
/// `include_biases` as for [`L1`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct L2 {
    /// `λ ≥ 0`.
    pub lambda: f64,
    /// Penalize biases too. Default `true` (the notes').
    pub include_biases: bool,
}

impl L2 {
    /// `λ·½·‖w‖₂²` over all weights and biases.
    pub fn new(lambda: f64) -> Self {
        Self {
            lambda,
            include_biases: true,
        }
    }
}

impl<T: Real> Regularizer<T> for L2 {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn penalty(&self, id: ParamId, param: &[T]) -> T {
        if applies(id, self.include_biases) {
            T::lit(0.5 * self.lambda) * squared_l2_norm(param)
        } else {
            T::zero()
        }
    }

    fn add_gradient(&self, id: ParamId, param: &[T], grad: &mut [T]) {
        if applies(id, self.include_biases) {
            let lambda = T::lit(self.lambda);
            grad.iter_mut()
                .zip(param)
                .for_each(|(g, &w)| *g += lambda * w);
        }
    }

    fn validate(&self) -> Result<(), TrainError> {
        check_range(
            "L2",
            "lambda",
            self.lambda,
            self.lambda >= 0.0,
            "must be at least 0",
        )
    }
}

/// Elastic net: the sum of an [`L1`] and an [`L2`] penalty, `λ₁·‖w‖₁ + λ₂·½·‖w‖₂²`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElasticNet {
    /// `λ₁ ≥ 0`.
    pub l1: f64,
    /// `λ₂ ≥ 0`.
    pub l2: f64,
    /// Penalize biases too. Default `true` (the notes').
    pub include_biases: bool,
}

impl ElasticNet {
    fn parts(&self) -> (L1, L2) {
        (
            L1 {
                lambda: self.l1,
                include_biases: self.include_biases,
            },
            L2 {
                lambda: self.l2,
                include_biases: self.include_biases,
            },
        )
    }
}

impl<T: Real> Regularizer<T> for ElasticNet {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn penalty(&self, id: ParamId, param: &[T]) -> T {
        let (l1, l2) = self.parts();
        l1.penalty(id, param) + l2.penalty(id, param)
    }

    fn add_gradient(&self, id: ParamId, param: &[T], grad: &mut [T]) {
        let (l1, l2) = self.parts();
        Regularizer::<T>::add_gradient(&l1, id, param, grad);
        Regularizer::<T>::add_gradient(&l2, id, param, grad);
    }

    fn validate(&self) -> Result<(), TrainError> {
        let (l1, l2) = self.parts();
        Regularizer::<T>::validate(&l1)?;
        Regularizer::<T>::validate(&l2)
    }
}
