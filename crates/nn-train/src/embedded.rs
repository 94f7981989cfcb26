//! Small data sets embedded in the library (see `data/README.md` for provenance and
//! licences), so that examples and tests run without downloads.

use nn_math::Real;

use crate::load::gunzip_if_needed;
use crate::{CsvOptions, Dataset, TrainError, one_hot, parse_csv};

const DIGITS_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");
const IRIS_CSV: &str = include_str!("../data/iris.csv");

fn from_csv<T: Real>(file: &str, text: &str, n_classes: usize) -> Result<Dataset<T>, TrainError> {
    let (x, labels) = parse_csv::<T>(file, text, &CsvOptions::default())?;
    Dataset::new(x, one_hot(&labels, n_classes)?)
}

/// The UCI 8×8 handwritten digits: 1,797 examples, 64 raw pixel counts (0–16) per
/// example, one-hot targets over the 10 digits.
///
/// # Errors
/// None in practice (the embedded file is fixed); the `Result` only forwards the loader's.
///
/// ```
/// let digits = nn_train::embedded::digits::<f32>()?;
/// assert_eq!((digits.len(), digits.inputs().nrows(), digits.targets().nrows()), (1797, 64, 10));
/// # Ok::<(), nn_train::TrainError>(())
/// ```
pub fn digits<T: Real>() -> Result<Dataset<T>, TrainError> {
    let bytes = gunzip_if_needed("embedded digits.csv.gz", DIGITS_GZ.to_vec())?;
    let text = String::from_utf8(bytes).map_err(|e| TrainError::Load {
        file: "embedded digits.csv.gz".into(),
        reason: e.to_string(),
    })?;
    from_csv("embedded digits.csv", &text, 10)
}

/// Fisher's iris: 150 examples, 4 features (cm), one-hot targets over the 3 species.
///
/// # Errors
/// None in practice (the embedded file is fixed).
///
/// ```
/// let iris = nn_train::embedded::iris::<f64>()?;
/// assert_eq!((iris.len(), iris.inputs().nrows(), iris.targets().nrows()), (150, 4, 3));
/// # Ok::<(), nn_train::TrainError>(())
/// ```
pub fn iris<T: Real>() -> Result<Dataset<T>, TrainError> {
    from_csv("embedded iris.csv", IRIS_CSV, 3)
}
