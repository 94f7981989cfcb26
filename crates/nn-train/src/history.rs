//! What training records per epoch, and what it says about the fit (§3.3.1–3.3.2).

use core::fmt;

/// The figures of one epoch (Algorithm 11's `E_t` and `E_v`, and more).
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch number (counting epochs of earlier `fit` calls of the same trainer).
    pub epoch: usize,
    /// `E_t`: the mean loss per training example over the epoch's batches, as computed
    /// during training (with dropout, if any).
    pub train_loss: f64,
    /// `E_t` plus the regularization penalty at the end of the epoch (eq. 24); equal to
    /// `train_loss` without a regularizer.
    pub train_cost: f64,
    /// `E_v`: the mean loss per validation example after the epoch, without dropout.
    pub validation_loss: Option<f64>,
    /// Share of training examples whose largest output is the target class (one-hot
    /// targets only), as computed during training.
    pub train_accuracy: Option<f64>,
    /// Share of validation examples classified right (one-hot targets only).
    pub validation_accuracy: Option<f64>,
    /// The learning rate used.
    pub learning_rate: f64,
    /// Wall time of the epoch in seconds (the only field that differs between runs).
    pub seconds: f64,
}

/// Why training stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The configured number of epochs ran.
    Epochs,
    /// The monitored error reached the target error.
    TargetError,
    /// The monitored error did not improve for `patience` epochs.
    EarlyStopping,
    /// The observer asked to stop.
    Observer,
}

/// The records of a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// One record per epoch, in order.
    pub epochs: Vec<EpochRecord>,
    /// Why training stopped.
    pub stop: StopReason,
    /// With early stopping: the epoch whose weights the network holds at the end.
    pub best_epoch: Option<usize>,
}

/// What the learning curves say (§3.3.1 underfitting, §3.3.2 overfitting), with the
/// figures that led to the verdict.
#[derive(Clone, Debug, PartialEq)]
pub enum Diagnosis {
    /// Fewer than two epochs, or no validation set: nothing to compare.
    NotEnoughData,
    /// `E_t` and `E_v` both remain high: the network is too simple or trained too briefly.
    Underfitting {
        /// `E_t` of the first epoch.
        first_train: f64,
        /// `E_t` of the last epoch.
        last_train: f64,
        /// `E_v` of the last epoch.
        last_validation: f64,
    },
    /// `E_t` is low but `E_v` is much higher, or `E_v` rose from its minimum while `E_t`
    /// kept falling: the network memorizes the training set.
    Overfitting {
        /// `E_t` of the last epoch.
        last_train: f64,
        /// `E_v` of the last epoch.
        last_validation: f64,
        /// The smallest `E_v` and its epoch.
        best_validation: (f64, usize),
    },
    /// Neither symptom.
    GoodFit {
        /// `E_t` of the last epoch.
        last_train: f64,
        /// `E_v` of the last epoch.
        last_validation: f64,
    },
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Diagnosis::NotEnoughData => {
                write!(f, "not enough data: need two epochs with a validation set")
            }
            Diagnosis::Underfitting {
                first_train,
                last_train,
                last_validation,
            } => write!(
                f,
                "underfitting: E_t fell only from {first_train:.4} to {last_train:.4} and E_v is {last_validation:.4}; \
                 try a larger network, more features or more epochs (§3.3.1)"
            ),
            Diagnosis::Overfitting {
                last_train,
                last_validation,
                best_validation,
            } => write!(
                f,
                "overfitting: E_t is {last_train:.4} but E_v is {last_validation:.4} (best {:.4} in epoch {}); \
                 try regularization, dropout or early stopping (§3.3.2)",
                best_validation.0, best_validation.1
            ),
            Diagnosis::GoodFit {
                last_train,
                last_validation,
            } => {
                write!(
                    f,
                    "no sign of under- or overfitting: E_t {last_train:.4}, E_v {last_validation:.4}"
                )
            }
        }
    }
}

impl History {
    /// Names under- or overfitting from the curves (§3.3.1–3.3.2), with default
    /// thresholds: overfitting when the last `E_v` exceeds the last `E_t` by more than
    /// half of `E_t` (and by more than 1e-3), or exceeds its own minimum by 10 % while
    /// that minimum lies at least two epochs back; underfitting when `E_t` fell by less
    /// than 10 % from the first epoch and `E_v` is not below `E_t`.
    pub fn diagnose(&self) -> Diagnosis {
        let valid: Vec<(usize, f64, f64)> = self
            .epochs
            .iter()
            .filter_map(|r| r.validation_loss.map(|v| (r.epoch, r.train_loss, v)))
            .collect();
        let (Some(first), Some(last)) = (valid.first(), valid.last()) else {
            return Diagnosis::NotEnoughData;
        };
        if valid.len() < 2 {
            return Diagnosis::NotEnoughData;
        }
        let (_, last_train, last_validation) = *last;
        let best = valid
            .iter()
            .map(|&(e, _, v)| (v, e))
            .fold((f64::INFINITY, 0), |b, x| if x.0 < b.0 { x } else { b });
        let gap = last_validation - last_train;
        let rising = last_validation > 1.1 * best.0 && last.0 >= best.1 + 2;
        if (gap > 0.5 * last_train && gap > 1e-3) || rising {
            return Diagnosis::Overfitting {
                last_train,
                last_validation,
                best_validation: best,
            };
        }
        if last_train > 0.9 * first.1 && last_validation >= last_train {
            return Diagnosis::Underfitting {
                first_train: first.1,
                last_train,
                last_validation,
            };
        }
        Diagnosis::GoodFit {
            last_train,
            last_validation,
        }
    }
}
