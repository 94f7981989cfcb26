//! CSV files of numeric features and an integer class label per row.

use std::path::Path;

use nn_math::{Matrix, Real};

use super::read_maybe_gzip;
use crate::TrainError;

/// Whether the first line is a header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Header {
    /// A header if any field of the first line is not a number (the default).
    #[default]
    Auto,
    /// The first line is a header.
    Present,
    /// Every line is data.
    Absent,
}

/// How to read a CSV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field separator. Default `,`.
    pub delimiter: char,
    /// Header handling. Default [`Header::Auto`].
    pub header: Header,
    /// The 0-based column of the class label; `None` (the default) for the last column.
    pub label_column: Option<usize>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: ',',
            header: Header::Auto,
            label_column: None,
        }
    }
}

/// Parses CSV text into features (`n_features × N`, one example per column) and class
/// labels. `file` names the text in errors. Blank lines are skipped; fields may be
/// surrounded by spaces. Labels are non-negative integers (`3` or `3.0`).
///
/// # Errors
/// [`TrainError::Load`] naming the line and column of a field that is not a number or a
/// label that is not a class index, a row with another number of fields than the first,
/// or a file without data rows.
///
/// ```
/// use nn_train::{parse_csv, CsvOptions};
/// let (x, labels) = parse_csv::<f64>("inline", "a,b,class\n1,2,0\n3,4,1\n", &CsvOptions::default())?;
/// assert_eq!(x.shape(), (2, 2));
/// assert_eq!(labels, vec![0, 1]);
/// let err = parse_csv::<f64>("inline", "1,2,0\n3,x,1\n", &CsvOptions::default()).unwrap_err();
/// assert_eq!(err.to_string(), "inline: line 2, column 2: \"x\" is not a number");
/// # Ok::<(), nn_train::TrainError>(())
/// ```
pub fn parse_csv<T: Real>(
    file: &str,
    text: &str,
    options: &CsvOptions,
) -> Result<(Matrix<T>, Vec<usize>), TrainError> {
    let err = |reason: String| TrainError::Load {
        file: file.to_owned(),
        reason,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .peekable();
    let is_number = |f: &str| f.trim().parse::<f64>().is_ok();
    let skip_header = match options.header {
        Header::Present => true,
        Header::Absent => false,
        Header::Auto => lines
            .peek()
            .is_some_and(|(_, l)| !l.split(options.delimiter).all(is_number)),
    };
    if skip_header {
        lines.next();
    }
    let mut width = None;
    let mut features: Vec<T> = Vec::new();
    let mut labels = Vec::new();
    for (index, line) in lines {
        let line_no = index + 1;
        let fields: Vec<&str> = line.split(options.delimiter).map(str::trim).collect();
        let n = *width.get_or_insert(fields.len());
        if fields.len() != n {
            return Err(err(format!(
                "line {line_no} has {} fields, the first data line has {n}",
                fields.len()
            )));
        }
        if n < 2 {
            return Err(err(format!(
                "line {line_no} has {n} field; a row needs features and a label"
            )));
        }
        let label_col = options.label_column.unwrap_or(n - 1);
        if label_col >= n {
            // Counted from 1 in messages, as the columns of a spreadsheet (saturating: a
            // column index of usize::MAX is named as such, not as column 0).
            return Err(err(format!(
                "label column {} does not exist: rows have {n} fields",
                label_col.saturating_add(1)
            )));
        }
        for (col, field) in fields.iter().enumerate() {
            let value: f64 = field
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    err(format!(
                        "line {line_no}, column {}: {field:?} is not a number",
                        col + 1
                    ))
                })?;
            if col == label_col {
                if value < 0.0 || value.fract() != 0.0 || value > u32::MAX as f64 {
                    return Err(err(format!(
                        "line {line_no}, column {}: label {field:?} is not a class index",
                        col + 1
                    )));
                }
                labels.push(value as usize);
            } else {
                // Checked again in the precision it is kept in: 1e39 is finite in f64
                // but infinite in f32.
                let v = T::lit(value);
                if !v.is_finite() {
                    return Err(err(format!(
                        "line {line_no}, column {}: {field:?} is out of range for {}",
                        col + 1,
                        std::any::type_name::<T>()
                    )));
                }
                features.push(v);
            }
        }
    }
    let Some(n) = width else {
        return Err(err("no data rows".into()));
    };
    Ok((Matrix::from_vec(n - 1, labels.len(), features), labels))
}

/// Reads a CSV file (gzip-compressed or plain) as [`parse_csv`] parses text.
///
/// # Errors
/// [`TrainError::Load`] naming the file: unreadable, not UTF-8, or as [`parse_csv`].
pub fn read_csv<T: Real>(
    path: impl AsRef<Path>,
    options: &CsvOptions,
) -> Result<(Matrix<T>, Vec<usize>), TrainError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let bytes = read_maybe_gzip(path)?;
    let text = String::from_utf8(bytes).map_err(|e| TrainError::Load {
        file: file.clone(),
        reason: format!("not UTF-8 text: {e}"),
    })?;
    parse_csv(&file, &text, options)
}
