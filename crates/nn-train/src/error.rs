//! The one error type of `nn-train`.

use nn_core::CoreError;

/// Why training (or building its parts) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A data set is empty, inconsistent or holds non-finite values.
    #[error("data set: {0}")]
    Data(String),
    /// A hyper-parameter is outside its valid range.
    #[error("{owner}: {name} = {value} is invalid: {requirement}")]
    HyperParameter {
        /// What it belongs to, e.g. `"Adam"`.
        owner: String,
        /// The parameter, e.g. `"beta1"`.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// The loss, the gradient or a weight became non-finite. Training stopped; the
    /// network and the optimizer's state are finite: as after the last finite batch, or
    /// as at the start of the epoch (see [`crate::Trainer::fit`], which says when).
    #[error(
        "training diverged in epoch {epoch}, batch {batch}: {what} is not finite; the network and the optimizer keep finite values (see Trainer::fit)"
    )]
    NonFinite {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// What went non-finite: `"the loss"` or `"the gradient or a weight"`.
        what: &'static str,
    },
    /// A data file could not be read or parsed.
    #[error("{file}: {reason}")]
    Load {
        /// The file (or a description of the bytes' origin).
        file: String,
        /// What was wrong, e.g. `"line 7, column 3: \"x\" is not a number"`.
        reason: String,
    },
    /// A checkpoint could not be read or does not fit the trainer.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// An error from the network.
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// Checks `lo ≤ value < hi` (or `lo < value` when `lo_open`), naming the owner.
pub(crate) fn check_range(
    owner: &str,
    name: &'static str,
    value: f64,
    ok: bool,
    requirement: &'static str,
) -> Result<(), TrainError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(TrainError::HyperParameter {
            owner: owner.to_owned(),
            name,
            value,
            requirement,
        })
    }
}
