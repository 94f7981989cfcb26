//! The settings that decide the bits of a run: recorded in a checkpoint and compared
//! when it is resumed, so that a resumed run is the run that was stopped.

use nn_math::Real;

use crate::{TrainError, Trainer, TrainerConfig};

/// The names of the settings [`TrainerConfig::run_settings`] records, in its order.
pub const RUN_SETTINGS: [&str; 11] = [
    "seed",
    "batch_size",
    "last_batch",
    "shuffle",
    "loss",
    "optimizer",
    "schedule",
    "regularizer",
    "clip_norm",
    "dropout",
    "threads",
];

impl<T: Real> TrainerConfig<T> {
    /// The settings that decide the bits of a run, as `(name, value)` strings, one for
    /// each of [`RUN_SETTINGS`]: the seed, the batching, the loss, the optimizer with its
    /// hyper-parameters, the schedule, the regularizer, clipping, dropout and the thread
    /// count (another count changes the order of some sums). A checkpoint records them;
    /// [`Trainer::resume`] compares them. The run's length (`epochs`) and the stopping
    /// rules are not among them: a resumed run may be made longer or shorter.
    ///
    /// ```
    /// use nn_train::{Adam, TrainerConfig};
    ///
    /// let config = TrainerConfig::<f32> { optimizer: Box::new(Adam::default()), ..TrainerConfig::default() };
    /// let settings = config.run_settings();
    /// assert_eq!(settings[0], ("seed", "0".to_owned()));
    /// assert!(settings[5].1.starts_with("adam Adam { beta1: 0.9"));
    /// ```
    pub fn run_settings(&self) -> Vec<(&'static str, String)> {
        let values = [
            self.seed.to_string(),
            self.batch_size.to_string(),
            format!("{:?}", self.last_batch),
            self.shuffle.to_string(),
            self.loss.name().to_owned(),
            format!("{} {}", self.optimizer.name(), self.optimizer.settings()),
            self.schedule.settings(),
            self.regularizer
                .as_ref()
                .map_or_else(|| "none".to_owned(), |r| r.settings()),
            format!("{:?}", self.clip_norm),
            format!("{:?}", self.dropout),
            self.threads.to_string(),
        ];
        RUN_SETTINGS.into_iter().zip(values).collect()
    }
}

impl<T: Real> Trainer<T> {
    /// Lets a resumed run differ from its checkpoint in the named settings (of
    /// [`RUN_SETTINGS`]), for a change made on purpose: e.g. `&["threads"]` to resume on
    /// another machine, accepting results that agree to rounding rather than bit for bit.
    ///
    /// ```
    /// use nn_train::{Trainer, TrainerConfig};
    ///
    /// let mut trainer = Trainer::new(TrainerConfig::<f64>::default())?;
    /// trainer.allow_changes(&["threads", "schedule"])?;
    /// assert!(trainer.allow_changes(&["learning_rate"]).is_err()); // not a setting's name
    /// # Ok::<(), nn_train::TrainError>(())
    /// ```
    ///
    /// # Errors
    /// [`TrainError::Checkpoint`] for a name that is not one of [`RUN_SETTINGS`].
    pub fn allow_changes(&mut self, settings: &[&str]) -> Result<(), TrainError> {
        if let Some(bad) = settings.iter().find(|s| !RUN_SETTINGS.contains(s)) {
            return Err(TrainError::Checkpoint(format!(
                "allow_changes: {bad:?} is not a run setting (they are {})",
                RUN_SETTINGS.join(", ")
            )));
        }
        self.allowed_changes = settings.iter().map(|s| (*s).to_owned()).collect();
        Ok(())
    }
}

/// Compares a checkpoint's recorded settings (`(name, value)`, names without prefix)
/// with `config`'s, and refuses every difference not in `allowed`, naming each.
pub(crate) fn compare<T: Real>(
    stored: &[(&str, &str)],
    config: &TrainerConfig<T>,
    allowed: &[String],
) -> Result<(), TrainError> {
    let mut differences = Vec::new();
    for (name, now) in config.run_settings() {
        let Some(&(_, then)) = stored.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        if then != now && !allowed.iter().any(|a| a == name) {
            differences.push(format!("{name} was {then:?}, is {now:?}"));
        }
    }
    if differences.is_empty() {
        return Ok(());
    }
    Err(TrainError::Checkpoint(format!(
        "the run's settings differ from the checkpoint's: {} (Trainer::allow_changes \
         accepts a change made on purpose)",
        differences.join("; ")
    )))
}
