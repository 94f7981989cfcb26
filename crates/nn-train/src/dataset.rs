//! Data sets of examples, one per column, and their seeded split into training and
//! validation sets (Algorithm 11's "trainers" and "validators").

use nn_math::{Matrix, Real};
use rand::Rng;
use rand::seq::SliceRandom;

use crate::TrainError;

/// Examples `(x, y)`: inputs `n₀ × N` and targets `n_L × N`, example `i` in column `i`.
///
/// Built through [`Dataset::new`], which rejects mismatched counts, empty sets and
/// non-finite values, so a `Dataset` is always usable for training.
///
/// ```
/// use nn_train::Dataset;
/// use nn_math::Matrix;
///
/// let x = Matrix::from_column_slice(2, 3, &[0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
/// let y = Matrix::from_column_slice(1, 3, &[1.0, 1.0, 0.0]);
/// let data = Dataset::new(x, y)?;
/// assert_eq!(data.len(), 3);
/// assert!(Dataset::new(Matrix::<f64>::zeros(2, 3), Matrix::zeros(1, 2)).is_err());
/// # Ok::<(), nn_train::TrainError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<T: Real> {
    inputs: Matrix<T>,
    targets: Matrix<T>,
    /// Each example's class, if every target is one-hot (found once, by `new`).
    classes: Option<Vec<usize>>,
    /// Each example's valid steps, for sequences of different lengths.
    lengths: Option<Vec<usize>>,
}

impl<T: Real> Dataset<T> {
    /// A data set from inputs (`n₀ × N`) and targets (`n_L × N`).
    ///
    /// # Errors
    /// [`TrainError::Data`] if the column counts differ, there are no examples or no
    /// rows, or a value is not finite (naming its column).
    pub fn new(inputs: Matrix<T>, targets: Matrix<T>) -> Result<Self, TrainError> {
        if inputs.ncols() != targets.ncols() {
            return Err(TrainError::Data(format!(
                "{} inputs but {} targets (one example per column)",
                inputs.ncols(),
                targets.ncols()
            )));
        }
        if inputs.ncols() == 0 {
            return Err(TrainError::Data("no examples".into()));
        }
        if inputs.nrows() == 0 || targets.nrows() == 0 {
            return Err(TrainError::Data(
                "inputs and targets need at least one row".into(),
            ));
        }
        for (what, m) in [("input", &inputs), ("target", &targets)] {
            if let Some(pos) = m.as_slice().iter().position(|v| !v.is_finite()) {
                let (row, col) = (pos % m.nrows(), pos / m.nrows());
                return Err(TrainError::Data(format!(
                    "{what} of example {col} (row {row}) is not finite"
                )));
            }
        }
        // One pass over each column's slice, once: the trainer asks at every `fit` and
        // every evaluation (1.4 ms for MNIST-sized targets, 0.5 % of a W1 epoch).
        let classes = targets
            .as_slice()
            .chunks_exact(targets.nrows())
            .map(one_hot_class)
            .collect();
        Ok(Self {
            inputs,
            targets,
            classes,
            lengths: None,
        })
    }

    /// The same examples as sequences of different lengths: example `i` has
    /// `lengths[i]` valid steps, padded at the end to the network's steps (guide §13,
    /// "Sequences of different lengths"). Training and evaluation then leave each
    /// example's padding out of the recurrent layers and the loss
    /// (`nn_core::Workspace::set_lengths`); subsets and splits keep each example's
    /// length.
    ///
    /// ```
    /// use nn_train::Dataset;
    /// use nn_math::Matrix;
    ///
    /// // Two sequences of up to 3 steps of 2 values: 2 and 3 steps long.
    /// let x = Matrix::from_column_slice(6, 2, &[1., 1., 2., 2., 0., 0., 1., 0., 0., 1., 1., 1.]);
    /// let y = Matrix::from_column_slice(1, 2, &[0.5, -0.5]);
    /// let data = Dataset::new(x, y)?.with_lengths(vec![2, 3])?;
    /// assert_eq!(data.lengths(), Some(&[2, 3][..]));
    /// assert!(Dataset::new(Matrix::<f64>::zeros(6, 2), Matrix::zeros(1, 2))?.with_lengths(vec![2]).is_err());
    /// # Ok::<(), nn_train::TrainError>(())
    /// ```
    ///
    /// # Errors
    /// [`TrainError::Data`] for a count that is not the number of examples, or a length
    /// of 0 (the layers check the upper bound, their steps).
    pub fn with_lengths(mut self, lengths: Vec<usize>) -> Result<Self, TrainError> {
        if lengths.len() != self.len() {
            return Err(TrainError::Data(format!(
                "{} lengths for {} examples",
                lengths.len(),
                self.len()
            )));
        }
        if let Some(i) = lengths.iter().position(|&l| l == 0) {
            return Err(TrainError::Data(format!("example {i} has length 0")));
        }
        self.lengths = Some(lengths);
        Ok(self)
    }

    /// Each example's valid steps, if the examples are sequences of different lengths.
    pub fn lengths(&self) -> Option<&[usize]> {
        self.lengths.as_deref()
    }

    /// Number of examples `N`.
    pub fn len(&self) -> usize {
        self.inputs.ncols()
    }

    /// Always `false`: a data set has at least one example.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The inputs, `n₀ × N`.
    pub fn inputs(&self) -> &Matrix<T> {
        &self.inputs
    }

    /// The targets, `n_L × N`.
    pub fn targets(&self) -> &Matrix<T> {
        &self.targets
    }

    /// The class of each example if every target is one-hot (one entry 1, the rest 0),
    /// else `None`.
    pub fn classes(&self) -> Option<Vec<usize>> {
        self.classes.clone()
    }

    /// The examples at `indices`, in that order.
    ///
    /// # Errors
    /// [`TrainError::Data`] if `indices` is empty or an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Result<Self, TrainError> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(TrainError::Data(format!(
                "index {bad} is out of range for {} examples",
                self.len()
            )));
        }
        let gather =
            |m: &Matrix<T>| Matrix::from_fn(m.nrows(), indices.len(), |r, c| m[(r, indices[c])]);
        let subset = Self::new(gather(&self.inputs), gather(&self.targets))?;
        match &self.lengths {
            Some(l) => subset.with_lengths(indices.iter().map(|&i| l[i]).collect()),
            None => Ok(subset),
        }
    }

    /// Splits the examples at random into a training set and a validation set holding
    /// about `validation_fraction` of them; [`split_indices`](Dataset::split_indices)
    /// says how it rounds and returns the indices it chose. The same RNG state gives the
    /// same split.
    ///
    /// # Errors
    /// [`TrainError::Data`] if the fraction is not in `(0, 1)` or there are fewer than two
    /// examples.
    pub fn split<R: Rng + ?Sized>(
        &self,
        validation_fraction: f64,
        rng: &mut R,
    ) -> Result<(Self, Self), TrainError> {
        let (train, valid) = self.split_indices(validation_fraction, rng)?;
        Ok((self.subset(&train)?, self.subset(&valid)?))
    }

    /// The indices of [`split`](Dataset::split)'s training and validation examples, each
    /// list in increasing order, so that the split can be recorded, reused or compared
    /// with another tool's.
    ///
    /// How it rounds: when the targets are one-hot the split is stratified, and each
    /// class of `n_c` examples gives `round(n_c · validation_fraction)` of them (halves
    /// rounded up) to validation, chosen by a shuffle of that class; otherwise all `N`
    /// examples form one group. If that leaves a side empty, one example moves over. The
    /// total is the sum of the classes' rounded counts, which can differ by a few from
    /// `N · validation_fraction` (scikit-learn's `train_test_split` instead fixes the
    /// total at `⌈N · fraction⌉` and shares it among the classes): to use exactly another
    /// tool's split, pass its indices to [`split_at`](Dataset::split_at).
    ///
    /// ```
    /// use nn_train::{Dataset, one_hot};
    /// use nn_math::Matrix;
    /// use rand::SeedableRng;
    ///
    /// // 3 classes of 5, 5 and 2 examples.
    /// let labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2];
    /// let x = Matrix::from_fn(1, 12, |_, j| j as f64);
    /// let data = Dataset::new(x, one_hot(&labels, 3)?)?;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let (train, valid) = data.split_indices(0.25, &mut rng)?;
    /// // round(1.25) + round(1.25) + round(0.5) = 1 + 1 + 1 validation examples.
    /// assert_eq!((train.len(), valid.len()), (9, 3));
    /// let (t, v) = data.split_at(&valid)?;
    /// assert_eq!(v.inputs().iter().map(|&x| x as usize).collect::<Vec<_>>(), valid);
    /// assert_eq!(t.len(), 9);
    /// # Ok::<(), nn_train::TrainError>(())
    /// ```
    ///
    /// # Errors
    /// As [`split`](Dataset::split).
    pub fn split_indices<R: Rng + ?Sized>(
        &self,
        validation_fraction: f64,
        rng: &mut R,
    ) -> Result<(Vec<usize>, Vec<usize>), TrainError> {
        if !(validation_fraction > 0.0 && validation_fraction < 1.0) {
            return Err(TrainError::Data(format!(
                "validation fraction {validation_fraction} is not in (0, 1)"
            )));
        }
        if self.len() < 2 {
            return Err(TrainError::Data(
                "splitting needs at least two examples".into(),
            ));
        }
        // Groups of example indices: one per class when one-hot, else all together.
        let groups: Vec<Vec<usize>> = match &self.classes {
            Some(classes) => {
                let n_classes = classes.iter().max().map_or(0, |m| m + 1);
                let mut g = vec![Vec::new(); n_classes];
                for (i, &c) in classes.iter().enumerate() {
                    g[c].push(i);
                }
                g
            }
            None => vec![(0..self.len()).collect()],
        };
        let (mut train, mut valid) = (Vec::new(), Vec::new());
        for mut g in groups.into_iter().filter(|g| !g.is_empty()) {
            g.shuffle(rng);
            let n_valid = ((g.len() as f64) * validation_fraction).round() as usize;
            valid.extend_from_slice(&g[..n_valid]);
            train.extend_from_slice(&g[n_valid..]);
        }
        // Keep both sides non-empty even for tiny sets.
        if valid.is_empty() {
            valid.push(train.pop().unwrap_or_default());
        }
        if train.is_empty() {
            train.push(valid.pop().unwrap_or_default());
        }
        train.sort_unstable();
        valid.sort_unstable();
        Ok((train, valid))
    }

    /// Splits at given indices: the examples at `validation` (in that order) form the
    /// validation set, every other example (in order) the training set. Use it to
    /// reproduce another tool's split exactly, or one recorded by
    /// [`split_indices`](Dataset::split_indices).
    ///
    /// # Errors
    /// [`TrainError::Data`] for an index out of range or given twice, or a side that
    /// would be empty.
    pub fn split_at(&self, validation: &[usize]) -> Result<(Self, Self), TrainError> {
        let mut taken = vec![false; self.len()];
        for &i in validation {
            match taken.get_mut(i) {
                None => {
                    return Err(TrainError::Data(format!(
                        "split_at: index {i} is out of range for {} examples",
                        self.len()
                    )));
                }
                Some(true) => {
                    return Err(TrainError::Data(format!(
                        "split_at: index {i} is given twice"
                    )));
                }
                Some(t) => *t = true,
            }
        }
        let train: Vec<usize> = (0..self.len()).filter(|&i| !taken[i]).collect();
        if validation.is_empty() || train.is_empty() {
            return Err(TrainError::Data(format!(
                "split_at: {} of {} examples for validation leaves a side empty",
                validation.len(),
                self.len()
            )));
        }
        Ok((self.subset(&train)?, self.subset(validation)?))
    }
}

/// The index of the 1 in a one-hot column (one entry 1, every other 0), else `None`.
fn one_hot_class<T: Real>(column: &[T]) -> Option<usize> {
    let mut class = None;
    for (i, &v) in column.iter().enumerate() {
        if v == T::one() {
            if class.replace(i).is_some() {
                return None;
            }
        } else if v != T::zero() {
            return None;
        }
    }
    class
}
