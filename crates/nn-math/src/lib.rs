//! Linear algebra for the `nn` workspace: the scalar type, vector and matrix aliases over
//! nalgebra, the Hadamard product, vector norms and the matrix products of
//! backpropagation, following Appendix A of *Artificial Neural Networks — Getting Up To
//! Speed With The Math From Scratch* (the "notes").
//!
//! This crate knows nothing of neurons or layers: it is the vocabulary the other crates
//! speak. Every operation that takes two operands checks their shapes and returns a
//! [`MathError`] that names the operation and the shapes instead of panicking, and every
//! product goes through nalgebra's fast `gemm` path (see [`product`]).
//!
//! Conventions: a vector is a column (`n × 1`); a batch of `B` examples is a matrix with
//! one example per column.
//!
//! ```
//! use nn_math::{hadamard, mul_to, Matrix, Norm, L1, L2};
//!
//! let w = Matrix::from_row_slice(2, 2, &[1.0, -2.0, 0.5, 1.0]);
//! let a = Matrix::from_column_slice(2, 1, &[3.0, 1.0]);
//! let mut s = Matrix::zeros(2, 1);
//! mul_to(&w, &a, &mut s)?;                          // s = W·a (notes A.21)
//! assert_eq!(s.as_slice(), &[1.0, 2.5]);
//! assert_eq!(hadamard(&s, &s)?.as_slice(), &[1.0, 6.25]); // s ⊙ s (A.18)
//! assert_eq!(L1.norm(s.as_slice()), 3.5);           // ‖s‖₁ (A.29.1)
//! assert_eq!(L2.norm(&[3.0, 4.0]), 5.0);            // ‖·‖₂ (A.29.2)
//! # Ok::<(), nn_math::MathError>(())
//! ```

mod aligned;
mod alloc;
mod error;
mod hadamard;
mod kernel;
mod norm;
pub mod product;
mod real;
pub mod simd;

pub use aligned::{ALIGN, AlignedVec};
pub use alloc::{try_zeroed_vec, try_zeros};
pub use error::{MathError, Shape};
pub use hadamard::{hadamard, hadamard_assign, hadamard_to};
pub use norm::{L1, L2, Norm, squared_l2_norm};
pub use product::{Op, add_mul_columns, gemm, mul_nt_to, mul_tn_to, mul_to};
pub use real::Real;
pub use simd::{Simd, simd};

/// The nalgebra version this crate is built on, re-exported so that users name the same
/// types.
pub use nalgebra;

/// A dynamically sized column vector (notes A.8): `n × 1`.
pub type Vector<T> = nalgebra::DVector<T>;

/// A dynamically sized, column-major matrix (notes A.19): `rows × cols`.
pub type Matrix<T> = nalgebra::DMatrix<T>;

/// A borrowed view of (part of) a [`Matrix`], e.g. a range of a data set's columns.
pub type MatrixView<'a, T> = nalgebra::DMatrixView<'a, T>;

/// A mutable borrowed view of (part of) a [`Matrix`].
pub type MatrixViewMut<'a, T> = nalgebra::DMatrixViewMut<'a, T>;
