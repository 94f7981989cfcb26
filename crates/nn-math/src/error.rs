//! The one error type of `nn-math`: shapes that do not fit together.

use core::fmt;

/// The shape of a matrix, `rows × cols` (a vector of length n is `n × 1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
}

impl Shape {
    /// The shape `rows × cols`.
    #[must_use]
    pub const fn new(rows: usize, cols: usize) -> Self {
        Self { rows, cols }
    }

    /// The shape of any nalgebra matrix or vector.
    #[must_use]
    pub fn of<T, R, C, S>(m: &nalgebra::Matrix<T, R, C, S>) -> Self
    where
        R: nalgebra::Dim,
        C: nalgebra::Dim,
        S: nalgebra::RawStorage<T, R, C>,
    {
        let (rows, cols) = m.shape();
        Self { rows, cols }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}×{}", self.rows, self.cols)
    }
}

/// Why an operation of `nn-math` refused its operands.
///
/// Every variant names the operation (`op`) and the shapes involved, so that a message
/// such as `mul_to: cannot multiply 3×4 by 5×2` is enough to find the mistake.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MathError {
    /// The inner dimensions of a matrix product differ.
    #[error("{op}: cannot multiply {left} by {right}")]
    Multiply {
        /// The operation that failed.
        op: &'static str,
        /// Shape of the left factor, after any transposition.
        left: Shape,
        /// Shape of the right factor, after any transposition.
        right: Shape,
    },
    /// The output buffer does not have the shape of the result.
    #[error("{op}: output buffer is {got}, the result is {expected}")]
    Output {
        /// The operation that failed.
        op: &'static str,
        /// The shape the result has.
        expected: Shape,
        /// The shape of the buffer the caller passed.
        got: Shape,
    },
    /// A buffer of `rows × cols` values cannot be had: the count overflows or the memory
    /// is not available.
    #[error("cannot allocate {rows}×{cols} values: too large for this machine's memory")]
    Allocation {
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
    },
    /// Two operands of an element-wise operation differ in shape.
    #[error("{op}: operands are {left} and {right}, they must have the same shape")]
    Mismatch {
        /// The operation that failed.
        op: &'static str,
        /// Shape of the first operand.
        left: Shape,
        /// Shape of the second operand.
        right: Shape,
    },
}
