//! The training configuration: every knob of [`crate::Trainer`], with defaults.

use nn_core::{Dropout, HalfSquaredError, Loss};
use nn_math::Real;

use crate::{Optimizer, Regularizer, Schedule, Sgd, TrainError};

/// What to do with the last batch of an epoch when the batch size does not divide the
/// number of training examples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LastBatch {
    /// Train on it: its gradient is the mean over its (fewer) examples. The default.
    #[default]
    Keep,
    /// Skip it (unless it is the epoch's only batch).
    Drop,
}

/// Stop when the monitored error (`E_v`, or `E_t` without a validation set) has not
/// improved by more than `min_delta` for `patience` epochs; the network then gets back
/// the weights of its best epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping, `≥ 1`.
    pub patience: usize,
    /// The smallest decrease that counts as an improvement, `≥ 0`.
    pub min_delta: f64,
}

/// An observer's answer after each epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on training.
    Continue,
    /// Stop after this epoch.
    Stop,
}

/// Everything about how to train, with defaults for all of it.
///
/// ```
/// use nn_train::{Adam, EarlyStopping, TrainerConfig, L2};
/// use nn_core::SoftmaxCrossEntropy;
///
/// let config = TrainerConfig::<f32> {
///     epochs: 20,
///     batch_size: 64,
///     loss: Box::new(SoftmaxCrossEntropy),
///     optimizer: Box::new(Adam::default()),
///     schedule: Box::new(1e-3),
///     regularizer: Some(Box::new(L2 { lambda: 1e-4, include_biases: false })),
///     early_stopping: Some(EarlyStopping { patience: 3, min_delta: 0.0 }),
///     ..TrainerConfig::default()
/// };
/// ```
pub struct TrainerConfig<T: Real> {
    /// The run's length: [`crate::Trainer::fit`] trains until this many epochs are done
    /// in all, counting those of earlier `fit` calls and of a resumed checkpoint (fewer
    /// if a stopping rule fires). Default 10.
    pub epochs: usize,
    /// Examples per mini-batch, `≥ 1`. Default 32.
    pub batch_size: usize,
    /// The policy for a last, partial batch. Default [`LastBatch::Keep`].
    pub last_batch: LastBatch,
    /// Shuffle the training examples each epoch (drawing batches without replacement).
    /// Default `true`.
    pub shuffle: bool,
    /// The error function. Default the notes' [`HalfSquaredError`] (eq. 5).
    pub loss: Box<dyn Loss<T> + Send + Sync>,
    /// The optimizer. Default [`Sgd`] (Algorithm 9/10).
    pub optimizer: Box<dyn Optimizer<T>>,
    /// The learning rate per epoch. Default the constant 0.01.
    pub schedule: Box<dyn Schedule>,
    /// Norm-based regularization, applied once per batch. Default none.
    pub regularizer: Option<Box<dyn Regularizer<T>>>,
    /// Gradient clipping: each batch's gradient is scaled down to this global L2 norm if
    /// it is longer ([`crate::clip_by_global_norm`]), before the regularizer and the
    /// optimizer; recurrent networks need it when their gradients explode. Positive and
    /// finite. Default none. (With it, plain SGD stores the gradient instead of fusing
    /// the update into backpropagation: the norm must be known first.)
    pub clip_norm: Option<f64>,
    /// Dropout rates for training batches (never for validation). Default none.
    pub dropout: Option<Dropout>,
    /// Seed of every random choice of training (shuffling, dropout masks). Default 0.
    pub seed: u64,
    /// Threads that share each training step, `≥ 1`. Default 1. Which layers are shared
    /// between them, and how, is stated in one place: [`nn_core::SplitRule::Auto`] (the
    /// rule a trainer's workspace uses). Results are the same run to run for any fixed
    /// count, and agree with one thread up to rounding. Measured speed-ups:
    /// `docs/performance.md`.
    pub threads: usize,
    /// Stop once the monitored error (`E_v`, or `E_t`) is at most this. Default none.
    pub target_error: Option<f64>,
    /// Early stopping. Default none.
    pub early_stopping: Option<EarlyStopping>,
}

impl<T: Real> Default for TrainerConfig<T> {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 32,
            last_batch: LastBatch::Keep,
            shuffle: true,
            loss: Box::new(HalfSquaredError),
            optimizer: Box::new(Sgd),
            schedule: Box::new(0.01),
            regularizer: None,
            clip_norm: None,
            dropout: None,
            seed: 0,
            threads: 1,
            target_error: None,
            early_stopping: None,
        }
    }
}

impl<T: Real> TrainerConfig<T> {
    /// Checks every hyper-parameter once (what [`crate::Trainer::new`] calls).
    ///
    /// # Errors
    /// [`TrainError::HyperParameter`] for a batch size or thread count of 0, an invalid
    /// optimizer, regularizer or schedule (one whose learning rate is not positive and
    /// finite in some configured epoch, in the scalar type `T`), target error or
    /// early-stopping setting.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |name, value: f64, requirement| TrainError::HyperParameter {
            owner: "TrainerConfig".into(),
            name,
            value,
            requirement,
        };
        if self.batch_size == 0 {
            return Err(bad("batch_size", 0.0, "must be at least 1"));
        }
        if self.threads == 0 {
            return Err(bad("threads", 0.0, "must be at least 1"));
        }
        self.optimizer.validate()?;
        self.schedule.validate()?;
        // Every epoch's learning rate, checked now rather than after the epochs before
        // it have run (in the scalar type used: 1e-50 is 0 in f32).
        for epoch in 0..self.epochs.min(1 << 20) {
            check_rate::<T>(self.schedule.rate(epoch))?;
        }
        if let Some(r) = &self.regularizer {
            r.validate()?;
        }
        if let Some(c) = self.clip_norm
            && !(c.is_finite() && c > 0.0)
        {
            return Err(bad("clip_norm", c, "must be positive and finite"));
        }
        if let Some(t) = self.target_error
            && !(t.is_finite() && t >= 0.0)
        {
            return Err(bad("target_error", t, "must be finite and at least 0"));
        }
        if let Some(es) = self.early_stopping {
            if es.patience == 0 {
                return Err(bad("early_stopping.patience", 0.0, "must be at least 1"));
            }
            if !(es.min_delta.is_finite() && es.min_delta >= 0.0) {
                return Err(bad(
                    "early_stopping.min_delta",
                    es.min_delta,
                    "must be finite and at least 0",
                ));
            }
        }
        Ok(())
    }
}

/// Checks one epoch's learning rate: positive and finite, also once converted to `T`
/// (1e-50 is 0 in f32).
pub(crate) fn check_rate<T: Real>(lr: f64) -> Result<(), TrainError> {
    if lr.is_finite() && lr > 0.0 && T::lit(lr) > T::zero() {
        return Ok(());
    }
    Err(TrainError::HyperParameter {
        owner: "schedule".into(),
        name: "learning rate",
        value: lr,
        requirement: "must be positive and finite in every configured epoch",
    })
}
