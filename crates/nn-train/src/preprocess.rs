//! Preprocessing (§4.1, a TODO in the notes): feature scaling fitted on the training set
//! and applied unchanged to everything else, and one-hot encoding of class labels.

use nn_core::Extras;
use nn_math::{Matrix, Real};

use crate::{Dataset, TrainError};

/// How a [`Scaling`] was fitted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalingKind {
    /// Zero mean and unit variance per feature.
    Standardize,
    /// Each feature's training range mapped onto `[low, high]`.
    MinMax {
        /// The image of the training minimum.
        low: f64,
        /// The image of the training maximum.
        high: f64,
    },
}

/// A per-feature affine map `x'ᵢ = aᵢ·xᵢ + bᵢ`, fitted on training inputs only and then
/// applied unchanged to validation, test and new data, so that nothing about those
/// leaks into training.
///
/// A constant feature (zero variance or range) gets `aᵢ = 0`: it maps to 0
/// (standardization) or to `low` (min–max), never to NaN.
///
/// ```
/// use nn_train::Scaling;
/// use nn_math::Matrix;
///
/// let train = Matrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 5.0, 5.0, 5.0]);
/// let s = Scaling::standardize(&train)?;
/// let mut x = train.clone();
/// s.apply(&mut x)?;
/// let sd = (2.0_f64 / 3.0).sqrt();
/// assert!((x[(0, 0)] + 1.0 / sd).abs() < 1e-12 && x[(0, 1)] == 0.0);
/// assert_eq!(x.row(1).iter().copied().collect::<Vec<_>>(), vec![0.0; 3]); // constant feature
/// # Ok::<(), nn_train::TrainError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Scaling<T> {
    kind: ScalingKind,
    a: Vec<T>,
    b: Vec<T>,
}

fn empty_err() -> TrainError {
    TrainError::Data("scaling needs at least one example and one feature".into())
}

impl<T: Real> Scaling<T> {
    /// Standardization fitted on `train` (`n_features × N`): `aᵢ = 1/σᵢ`, `bᵢ = −μᵢ/σᵢ`
    /// with the population standard deviation `σᵢ`.
    ///
    /// # Errors
    /// [`TrainError::Data`] for an empty matrix.
    pub fn standardize(train: &Matrix<T>) -> Result<Self, TrainError> {
        if train.is_empty() {
            return Err(empty_err());
        }
        let n = train.ncols() as f64;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for row in train.row_iter() {
            let mean = row.iter().map(|v| v.as_f64()).sum::<f64>() / n;
            let var = row.iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / n;
            let sd = var.sqrt();
            let scale = if sd > 0.0 { 1.0 / sd } else { 0.0 };
            a.push(T::lit(scale));
            b.push(T::lit(-mean * scale));
        }
        Ok(Self {
            kind: ScalingKind::Standardize,
            a,
            b,
        })
    }

    /// Min–max scaling fitted on `train`: each feature's `[min, max]` maps onto
    /// `[low, high]`.
    ///
    /// # Errors
    /// [`TrainError::Data`] for an empty matrix, [`TrainError::HyperParameter`] unless
    /// `low < high` (both finite).
    pub fn min_max(train: &Matrix<T>, low: f64, high: f64) -> Result<Self, TrainError> {
        crate::error::check_range(
            "Scaling::min_max",
            "high - low",
            high - low,
            low.is_finite() && low < high,
            "need low < high",
        )?;
        if train.is_empty() {
            return Err(empty_err());
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for row in train.row_iter() {
            let (min, max) = row
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v.as_f64()), hi.max(v.as_f64()))
                });
            let scale = if max > min {
                (high - low) / (max - min)
            } else {
                0.0
            };
            a.push(T::lit(scale));
            b.push(T::lit(low - min * scale));
        }
        Ok(Self {
            kind: ScalingKind::MinMax { low, high },
            a,
            b,
        })
    }

    /// How it was fitted.
    pub fn kind(&self) -> ScalingKind {
        self.kind
    }

    /// The number of features it was fitted on.
    pub fn n_features(&self) -> usize {
        self.a.len()
    }

    /// Applies the map to inputs (`n_features × N`) in place.
    ///
    /// # Errors
    /// [`TrainError::Data`] if the row count differs from the fitted features.
    pub fn apply(&self, x: &mut Matrix<T>) -> Result<(), TrainError> {
        if x.nrows() != self.n_features() {
            return Err(TrainError::Data(format!(
                "scaling was fitted on {} features, the inputs have {}",
                self.n_features(),
                x.nrows()
            )));
        }
        let n = x.nrows();
        for col in x.as_mut_slice().chunks_exact_mut(n) {
            for ((v, &a), &b) in col.iter_mut().zip(&self.a).zip(&self.b) {
                *v = a * *v + b;
            }
        }
        Ok(())
    }

    /// A copy of `data` with its inputs scaled (targets unchanged).
    ///
    /// # Errors
    /// As [`apply`](Scaling::apply).
    pub fn apply_to(&self, data: &Dataset<T>) -> Result<Dataset<T>, TrainError> {
        let mut x = data.inputs().clone();
        self.apply(&mut x)?;
        Dataset::new(x, data.targets().clone())
    }

    /// The scaling as extra tensors and metadata of a model file (see [`crate::Model`]).
    pub(crate) fn to_extras(&self, extras: &mut Extras<T>) {
        extras.tensors.push(("scaling.a".into(), self.a.clone()));
        extras.tensors.push(("scaling.b".into(), self.b.clone()));
        let kind = match self.kind {
            ScalingKind::Standardize => "standardize".to_owned(),
            ScalingKind::MinMax { low, high } => format!("min_max {low} {high}"),
        };
        extras.metadata.push(("scaling.kind".into(), kind));
    }

    /// Reads a scaling back from a model file's extras; `None` if there is none.
    pub(crate) fn from_extras(extras: &Extras<T>) -> Result<Option<Self>, TrainError> {
        let Some((_, kind)) = extras.metadata.iter().find(|(k, _)| k == "scaling.kind") else {
            return Ok(None);
        };
        let bad =
            || TrainError::Checkpoint(format!("the model's scaling is corrupt (kind {kind:?})"));
        let kind = match kind.split(' ').collect::<Vec<_>>().as_slice() {
            ["standardize"] => ScalingKind::Standardize,
            ["min_max", lo, hi] => ScalingKind::MinMax {
                low: lo.parse().map_err(|_| bad())?,
                high: hi.parse().map_err(|_| bad())?,
            },
            _ => return Err(bad()),
        };
        let get = |name: &str| {
            extras
                .tensors
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(bad)
        };
        let (a, b) = (get("scaling.a")?, get("scaling.b")?);
        // A NaN or infinite scale or shift would make every prediction non-finite.
        if a.len() != b.len() || !a.iter().chain(&b).all(|v| v.is_finite()) {
            return Err(bad());
        }
        Ok(Some(Self { kind, a, b }))
    }
}

/// One-hot encoding: column `j` has a 1 in row `labels[j]` and 0 elsewhere.
///
/// # Errors
/// [`TrainError::Data`] if a label is not below `n_classes`, or the matrix does not fit
/// in memory.
///
/// ```
/// use nn_train::{argmax_columns, one_hot};
/// let y = one_hot::<f32>(&[2, 0], 3)?;
/// assert_eq!(y.as_slice(), &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
/// assert_eq!(argmax_columns(&y), vec![2, 0]);
/// # Ok::<(), nn_train::TrainError>(())
/// ```
pub fn one_hot<T: Real>(labels: &[usize], n_classes: usize) -> Result<Matrix<T>, TrainError> {
    if let Some(&bad) = labels.iter().find(|&&l| l >= n_classes) {
        return Err(TrainError::Data(format!(
            "label {bad} is not below the {n_classes} classes"
        )));
    }
    // `n_classes` comes from the caller: a size that cannot be had is an error.
    let mut y: Matrix<T> = nn_math::try_zeros(n_classes, labels.len())
        .map_err(|e| TrainError::Data(format!("one_hot: {e}")))?;
    for (j, &l) in labels.iter().enumerate() {
        y[(l, j)] = T::one();
    }
    Ok(y)
}

/// Arg-max decoding: the row of the largest entry of each column (the predicted class;
/// the first one on ties).
pub fn argmax_columns<T: Real>(m: &Matrix<T>) -> Vec<usize> {
    m.column_iter()
        .map(|c| {
            c.iter()
                .enumerate()
                .fold((0, None::<T>), |(bi, bv), (i, &v)| match bv {
                    Some(b) if b >= v => (bi, bv),
                    _ => (i, Some(v)),
                })
                .0
        })
        .collect()
}
