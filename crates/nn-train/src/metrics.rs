//! Classification metrics: accuracy, the confusion matrix, per-class precision and recall.

use core::fmt;

use crate::TrainError;

/// The share of positions where `predicted` equals `actual` (0 for empty input).
///
/// ```
/// assert_eq!(nn_train::accuracy(&[0, 1, 2, 1], &[0, 1, 1, 1]), 0.75);
/// ```
pub fn accuracy(predicted: &[usize], actual: &[usize]) -> f64 {
    if actual.is_empty() {
        return 0.0;
    }
    predicted.iter().zip(actual).filter(|(p, a)| p == a).count() as f64 / actual.len() as f64
}

/// Counts of (actual class, predicted class) pairs.
///
/// ```
/// use nn_train::ConfusionMatrix;
/// let cm = ConfusionMatrix::new(&[0, 1, 1, 1], &[0, 1, 2, 1], 3)?; // predicted, actual
/// assert_eq!(cm.count(2, 1), 1);          // one 2 predicted as 1
/// assert_eq!(cm.recall(1), Some(1.0));
/// assert_eq!(cm.precision(1), Some(2.0 / 3.0));
/// assert_eq!(cm.recall(2), Some(0.0));
/// # Ok::<(), nn_train::TrainError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    n_classes: usize,
    /// Row-major: `counts[actual · n + predicted]`.
    counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// Tallies `predicted` against `actual` over `n_classes` classes.
    ///
    /// # Errors
    /// [`TrainError::Data`] if the lengths differ, a class is not below `n_classes`, or
    /// `n_classes²` counts do not fit in memory.
    pub fn new(
        predicted: &[usize],
        actual: &[usize],
        n_classes: usize,
    ) -> Result<Self, TrainError> {
        if predicted.len() != actual.len() {
            return Err(TrainError::Data(format!(
                "{} predictions for {} examples",
                predicted.len(),
                actual.len()
            )));
        }
        // `n_classes` comes from the caller: n² counts that cannot be had are an error.
        let cells = n_classes
            .checked_mul(n_classes)
            .ok_or_else(|| TrainError::Data(format!("{n_classes} classes: n² overflows")))?;
        let mut counts = Vec::new();
        counts.try_reserve_exact(cells).map_err(|_| {
            TrainError::Data(format!(
                "{n_classes} classes: {cells} counts do not fit in memory"
            ))
        })?;
        counts.resize(cells, 0);
        for (&p, &a) in predicted.iter().zip(actual) {
            if p >= n_classes || a >= n_classes {
                return Err(TrainError::Data(format!(
                    "class {} is not below {n_classes}",
                    p.max(a)
                )));
            }
            counts[a * n_classes + p] += 1;
        }
        Ok(Self { n_classes, counts })
    }

    /// The number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// How many examples of class `actual` were predicted as `predicted`.
    pub fn count(&self, actual: usize, predicted: usize) -> usize {
        self.counts
            .get(actual * self.n_classes + predicted)
            .copied()
            .unwrap_or(0)
    }

    /// The share of all examples on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let total: usize = self.counts.iter().sum();
        let right: usize = (0..self.n_classes).map(|c| self.count(c, c)).sum();
        if total == 0 {
            0.0
        } else {
            right as f64 / total as f64
        }
    }

    /// Precision of class `c`: right predictions of `c` over all predictions of `c`
    /// (`None` if `c` was never predicted).
    pub fn precision(&self, c: usize) -> Option<f64> {
        let predicted: usize = (0..self.n_classes).map(|a| self.count(a, c)).sum();
        (predicted > 0).then(|| self.count(c, c) as f64 / predicted as f64)
    }

    /// Recall of class `c`: right predictions of `c` over all examples of `c` (`None`
    /// if there are none).
    pub fn recall(&self, c: usize) -> Option<f64> {
        let actual: usize = (0..self.n_classes).map(|p| self.count(c, p)).sum();
        (actual > 0).then(|| self.count(c, c) as f64 / actual as f64)
    }
}

impl fmt::Display for ConfusionMatrix {
    /// A table: one row per actual class, one column per predicted class, then recall and
    /// precision per class.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .counts
            .iter()
            .max()
            .map_or(1, |m| m.to_string().len())
            .max(3);
        write!(f, "actual\\pred")?;
        for p in 0..self.n_classes {
            write!(f, " {p:>width$}")?;
        }
        writeln!(f, "  recall precision")?;
        let pct = |v: Option<f64>| v.map_or("   -".to_owned(), |v| format!("{:5.1}%", 100.0 * v));
        for a in 0..self.n_classes {
            write!(f, "{a:>11}")?;
            for p in 0..self.n_classes {
                write!(f, " {:>width$}", self.count(a, p))?;
            }
            writeln!(f, "  {} {:>9}", pct(self.recall(a)), pct(self.precision(a)))?;
        }
        Ok(())
    }
}
