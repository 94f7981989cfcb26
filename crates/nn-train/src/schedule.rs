//! Learning-rate schedules: "the learning rate … may vary over time" (§3.2).

use crate::TrainError;
use crate::error::check_range;

/// The learning rate `α` for each epoch (0-based). A plain number is a constant schedule.
///
/// ```
/// use nn_train::{Cosine, Schedule, StepDecay};
/// assert_eq!(0.1.rate(7), 0.1);
/// let step = StepDecay { initial: 0.1, factor: 0.5, every: 10 };
/// assert_eq!(step.rate(25), 0.1 * 0.5 * 0.5);
/// let cos = Cosine { initial: 1.0, min: 0.0, period: 10 };
/// assert!((cos.rate(5) - 0.5).abs() < 1e-12);
/// ```
pub trait Schedule {
    /// The learning rate in `epoch` (0-based).
    fn rate(&self, epoch: usize) -> f64;

    /// The hyper-parameters, as a string that two runs share exactly when they use the
    /// same ones (checkpoints record it, and resuming with another is refused). The
    /// built-ins give their `Debug` form; the default is the type's name, so a type of
    /// your own with hyper-parameters should override it.
    fn settings(&self) -> String {
        core::any::type_name::<Self>().to_owned()
    }

    /// Checks the parameters; the trainer calls it once.
    ///
    /// # Errors
    /// [`TrainError::HyperParameter`].
    fn validate(&self) -> Result<(), TrainError> {
        Ok(())
    }
}

impl Schedule for f64 {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn rate(&self, _epoch: usize) -> f64 {
        *self
    }

    fn validate(&self) -> Result<(), TrainError> {
        check_range(
            "learning rate",
            "alpha",
            *self,
            *self > 0.0,
            "must be positive",
        )
    }
}

impl Schedule for f32 {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn rate(&self, _epoch: usize) -> f64 {
        f64::from(*self)
    }

    fn validate(&self) -> Result<(), TrainError> {
        f64::from(*self).validate()
    }
}

/// `α·factor^⌊epoch / every⌋`: multiply by `factor` every `every` epochs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepDecay {
    /// The first rate, `> 0`.
    pub initial: f64,
    /// The factor, in `(0, 1]`.
    pub factor: f64,
    /// Epochs between decays, `≥ 1`.
    pub every: usize,
}

impl Schedule for StepDecay {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn rate(&self, epoch: usize) -> f64 {
        self.initial
            * self
                .factor
                .powi(i32::try_from(epoch / self.every.max(1)).unwrap_or(i32::MAX))
    }

    fn validate(&self) -> Result<(), TrainError> {
        check_range(
            "StepDecay",
            "initial",
            self.initial,
            self.initial > 0.0,
            "must be positive",
        )?;
        check_range(
            "StepDecay",
            "factor",
            self.factor,
            self.factor > 0.0 && self.factor <= 1.0,
            "must be in (0, 1]",
        )?;
        check_range(
            "StepDecay",
            "every",
            self.every as f64,
            self.every >= 1,
            "must be at least 1",
        )
    }
}

/// `α·γ^epoch`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exponential {
    /// The first rate, `> 0`.
    pub initial: f64,
    /// The per-epoch factor `γ ∈ (0, 1]`.
    pub gamma: f64,
}

impl Schedule for Exponential {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn rate(&self, epoch: usize) -> f64 {
        self.initial * self.gamma.powi(i32::try_from(epoch).unwrap_or(i32::MAX))
    }

    fn validate(&self) -> Result<(), TrainError> {
        check_range(
            "Exponential",
            "initial",
            self.initial,
            self.initial > 0.0,
            "must be positive",
        )?;
        check_range(
            "Exponential",
            "gamma",
            self.gamma,
            self.gamma > 0.0 && self.gamma <= 1.0,
            "must be in (0, 1]",
        )
    }
}

/// `α / (1 + k·epoch)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InverseTime {
    /// The first rate, `> 0`.
    pub initial: f64,
    /// The decay `k ≥ 0`.
    pub decay: f64,
}

impl Schedule for InverseTime {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn rate(&self, epoch: usize) -> f64 {
        self.initial / (1.0 + self.decay * epoch as f64)
    }

    fn validate(&self) -> Result<(), TrainError> {
        check_range(
            "InverseTime",
            "initial",
            self.initial,
            self.initial > 0.0,
            "must be positive",
        )?;
        check_range(
            "InverseTime",
            "decay",
            self.decay,
            self.decay >= 0.0,
            "must be at least 0",
        )
    }
}

/// Cosine annealing from `initial` to `min` over `period` epochs, then `min`:
/// `min + (initial − min)·(1 + cos(π·e/period))/2` with `e = min(epoch, period)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cosine {
    /// The first rate, `> 0`.
    pub initial: f64,
    /// The last rate, `0 ≤ min ≤ initial`.
    pub min: f64,
    /// Epochs to anneal over, `≥ 1`.
    pub period: usize,
}

impl Schedule for Cosine {
    fn settings(&self) -> String {
        format!("{self:?}")
    }

    fn rate(&self, epoch: usize) -> f64 {
        let e = epoch.min(self.period) as f64 / self.period.max(1) as f64;
        self.min + (self.initial - self.min) * (1.0 + (std::f64::consts::PI * e).cos()) / 2.0
    }

    fn validate(&self) -> Result<(), TrainError> {
        check_range(
            "Cosine",
            "initial",
            self.initial,
            self.initial > 0.0,
            "must be positive",
        )?;
        check_range(
            "Cosine",
            "min",
            self.min,
            self.min >= 0.0 && self.min <= self.initial,
            "must be in [0, initial]",
        )?;
        check_range(
            "Cosine",
            "period",
            self.period as f64,
            self.period >= 1,
            "must be at least 1",
        )
    }
}

impl<S: Schedule + ?Sized> Schedule for Box<S> {
    fn rate(&self, epoch: usize) -> f64 {
        (**self).rate(epoch)
    }

    fn settings(&self) -> String {
        (**self).settings()
    }

    fn validate(&self) -> Result<(), TrainError> {
        (**self).validate()
    }
}
