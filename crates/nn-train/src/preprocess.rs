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

/// What a [`Scaling`] does with a feature that is constant on the training set (zero
/// variance or range), where the usual scale `1/σᵢ` does not exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConstantFeatures {
    /// `aᵢ = 0`: the feature maps to 0 (standardization) or to `low` (min–max) on every
    /// input, training or new. The default.
    #[default]
    Zero,
    /// `aᵢ = 1` (standardization) or a range of 1 (min–max), as scikit-learn's
    /// `StandardScaler` and `MinMaxScaler` do: the training value still maps to 0 (or
    /// `low`), and a new input's difference from it passes through unscaled.
    UnitScale,
}

/// A per-feature affine map `x'ᵢ = aᵢ·xᵢ + bᵢ`, fitted on training inputs only and then
/// applied unchanged to validation, test and new data, so that nothing about those
/// leaks into training.
///
/// A constant feature (zero variance or range) gets `aᵢ = 0` by default: it maps to 0
/// (standardization) or to `low` (min–max), never to NaN; [`ConstantFeatures::UnitScale`]
/// gives scikit-learn's behaviour instead ([`Scaling::standardize_with`]).
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

/// A training matrix to fit on: not empty, every value finite.
fn check_train<T: Real>(train: &Matrix<T>) -> Result<(), TrainError> {
    if train.is_empty() {
        return Err(TrainError::Data(
            "scaling needs at least one example and one feature".into(),
        ));
    }
    if let Some(pos) = train.as_slice().iter().position(|v| !v.is_finite()) {
        let (row, col) = (pos % train.nrows(), pos / train.nrows());
        return Err(TrainError::Data(format!(
            "scaling: feature {row} of example {col} is not finite"
        )));
    }
    Ok(())
}

/// The fitted scaling, unless a scale or shift overflowed (features near the largest
/// finite value), which would make every scaled input non-finite.
fn fitted<T: Real>(kind: ScalingKind, a: Vec<T>, b: Vec<T>) -> Result<Scaling<T>, TrainError> {
    if let Some(i) = a
        .iter()
        .zip(&b)
        .position(|(x, y)| !(x.is_finite() && y.is_finite()))
    {
        return Err(TrainError::Data(format!(
            "scaling: feature {i}'s scale or shift is not finite in the scalar type (values too large)"
        )));
    }
    Ok(Scaling { kind, a, b })
}

impl<T: Real> Scaling<T> {
    /// Standardization fitted on `train` (`n_features × N`): `aᵢ = 1/σᵢ`, `bᵢ = −μᵢ/σᵢ`
    /// with the population standard deviation `σᵢ` (a constant feature gets `aᵢ = 0`).
    ///
    /// # Errors
    /// [`TrainError::Data`] for an empty matrix or a value that is not finite.
    pub fn standardize(train: &Matrix<T>) -> Result<Self, TrainError> {
        Self::standardize_with(train, ConstantFeatures::Zero)
    }

    /// As [`standardize`](Scaling::standardize), choosing what a constant feature gets.
    ///
    /// ```
    /// use nn_train::{ConstantFeatures, Scaling};
    /// use nn_math::Matrix;
    ///
    /// let train = Matrix::from_row_slice(1, 3, &[5.0, 5.0, 5.0]);
    /// let mut new = Matrix::from_row_slice(1, 1, &[7.0]);
    /// Scaling::standardize_with(&train, ConstantFeatures::UnitScale)?.apply(&mut new)?;
    /// assert_eq!(new[(0, 0)], 2.0); // scikit-learn's StandardScaler: (7 − 5) / 1
    /// let mut again = Matrix::from_row_slice(1, 1, &[7.0]);
    /// Scaling::standardize(&train)?.apply(&mut again)?;
    /// assert_eq!(again[(0, 0)], 0.0);
    /// # Ok::<(), nn_train::TrainError>(())
    /// ```
    ///
    /// # Errors
    /// As [`standardize`](Scaling::standardize).
    pub fn standardize_with(
        train: &Matrix<T>,
        constant: ConstantFeatures,
    ) -> Result<Self, TrainError> {
        check_train(train)?;
        let n = train.ncols() as f64;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for row in train.row_iter() {
            let mean = row.iter().map(|v| v.as_f64()).sum::<f64>() / n;
            let var = row.iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / n;
            let sd = var.sqrt();
            let scale = match constant {
                _ if sd > 0.0 => 1.0 / sd,
                ConstantFeatures::Zero => 0.0,
                ConstantFeatures::UnitScale => 1.0,
            };
            a.push(T::lit(scale));
            b.push(T::lit(-mean * scale));
        }
        fitted(ScalingKind::Standardize, a, b)
    }

    /// Min–max scaling fitted on `train`: each feature's `[min, max]` maps onto
    /// `[low, high]`.
    ///
    /// # Errors
    /// [`TrainError::Data`] for an empty matrix or a value that is not finite,
    /// [`TrainError::HyperParameter`] unless `low < high` (both finite).
    pub fn min_max(train: &Matrix<T>, low: f64, high: f64) -> Result<Self, TrainError> {
        Self::min_max_with(train, low, high, ConstantFeatures::Zero)
    }

    /// As [`min_max`](Scaling::min_max), choosing what a constant feature gets.
    ///
    /// # Errors
    /// As [`min_max`](Scaling::min_max).
    pub fn min_max_with(
        train: &Matrix<T>,
        low: f64,
        high: f64,
        constant: ConstantFeatures,
    ) -> Result<Self, TrainError> {
        crate::error::check_range(
            "Scaling::min_max",
            "high - low",
            high - low,
            low.is_finite() && low < high,
            "need low < high",
        )?;
        check_train(train)?;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for row in train.row_iter() {
            let (min, max) = row
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v.as_f64()), hi.max(v.as_f64()))
                });
            let scale = match constant {
                _ if max > min => (high - low) / (max - min),
                ConstantFeatures::Zero => 0.0,
                ConstantFeatures::UnitScale => high - low,
            };
            a.push(T::lit(scale));
            b.push(T::lit(low - min * scale));
        }
        fitted(ScalingKind::MinMax { low, high }, a, b)
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

/// Pads sequences of different lengths into one matrix, one example per column: each
/// sequence is its steps' `features` values one after another (`L·features` values),
/// padded with zeros to the longest; returns the matrix (`T·features × N`) and each
/// sequence's length `L`, for [`Dataset::with_lengths`]. The same pads per-step targets.
///
/// ```
/// use nn_train::{Dataset, pad_sequences};
///
/// // Two sequences of 2-value steps: 3 steps and 1 step.
/// let (x, lengths) = pad_sequences(&[vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![7.0, 8.0]], 2)?;
/// assert_eq!(x.shape(), (6, 2));
/// assert_eq!(lengths, vec![3, 1]);
/// assert_eq!(x.column(1).as_slice(), &[7.0, 8.0, 0.0, 0.0, 0.0, 0.0]);
/// let y = nn_math::Matrix::from_column_slice(1, 2, &[1.0, 0.0]);
/// let data = Dataset::new(x, y)?.with_lengths(lengths)?;
/// # Ok::<(), nn_train::TrainError>(())
/// ```
///
/// # Errors
/// [`TrainError::Data`] for no sequences, `features` of 0, an empty sequence, one whose
/// length is not a multiple of `features`, a value that is not finite, or a matrix that
/// does not fit in memory.
pub fn pad_sequences<T: Real>(
    sequences: &[Vec<T>],
    features: usize,
) -> Result<(Matrix<T>, Vec<usize>), TrainError> {
    if sequences.is_empty() || features == 0 {
        return Err(TrainError::Data(
            "pad_sequences needs at least one sequence and one feature".into(),
        ));
    }
    let mut lengths = Vec::with_capacity(sequences.len());
    for (i, s) in sequences.iter().enumerate() {
        if s.is_empty() || s.len() % features != 0 {
            return Err(TrainError::Data(format!(
                "sequence {i} holds {} values, not a positive multiple of {features} features",
                s.len()
            )));
        }
        if let Some(at) = s.iter().position(|v| !v.is_finite()) {
            return Err(TrainError::Data(format!(
                "value {at} of sequence {i} is not finite"
            )));
        }
        lengths.push(s.len() / features);
    }
    let rows = lengths.iter().max().copied().unwrap_or(0) * features;
    let mut x: Matrix<T> = nn_math::try_zeros(rows, sequences.len())
        .map_err(|e| TrainError::Data(format!("pad_sequences: {e}")))?;
    for (j, s) in sequences.iter().enumerate() {
        x.column_mut(j).rows_mut(0, s.len()).copy_from_slice(s);
    }
    Ok((x, lengths))
}
