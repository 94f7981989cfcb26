//! The one error type of `nn-core`.

use nn_activations::ActivationError;
use nn_math::MathError;

/// Why an operation of `nn-core` refused its input.
///
/// Messages name the operation and the values involved, e.g.
/// `evaluate: input has 3 rows, the network expects 4`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// The architecture given to the builder or to [`crate::Network::from_layers`] is not a
    /// valid network.
    #[error("invalid architecture: {0}")]
    Architecture(String),
    /// A matrix handed to an operation has the wrong number of rows or columns.
    #[error("{op}: {what} has {got} {dim}, the network expects {expected}")]
    Shape {
        /// The operation, e.g. `"evaluate"`.
        op: &'static str,
        /// The argument, e.g. `"input"`.
        what: &'static str,
        /// `"rows"` or `"columns"`.
        dim: &'static str,
        /// What the network expects.
        expected: usize,
        /// What the caller passed.
        got: usize,
    },
    /// A hyper-parameter (learning rate, dropout rate, initialization range) is invalid.
    #[error("{op}: {name} = {value} is invalid: {requirement}")]
    InvalidHyperParameter {
        /// The operation, e.g. `"apply_gradient"`.
        op: &'static str,
        /// The parameter, e.g. `"learning_rate"`.
        name: String,
        /// The rejected value.
        value: f64,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// `adjust_gradient` was called without a forward pass of this network in the
    /// workspace.
    #[error(
        "adjust_gradient: the workspace holds no forward pass of this network; call evaluate_with first"
    )]
    NoForwardPass,
    /// A gradient was built for another network.
    #[error("{op}: the gradient does not belong to this network ({detail})")]
    GradientMismatch {
        /// The operation.
        op: &'static str,
        /// Which shape differed.
        detail: String,
    },
    /// An activation could not be built (e.g. an invalid parameter in a model file).
    #[error(transparent)]
    Activation(#[from] ActivationError),
    /// A linear-algebra operation failed (a bug if it happens: shapes are checked first).
    #[error(transparent)]
    Math(#[from] MathError),
    /// A model file could not be read or written.
    #[error("model file: {0}")]
    ModelFile(#[from] ModelFileError),
    /// A column index past the end of a data set.
    #[error("{op}: column {index} is out of range for a data set of {columns} columns")]
    ColumnIndex {
        /// The operation, e.g. `"evaluate_columns"`.
        op: &'static str,
        /// The index passed.
        index: usize,
        /// The data set's number of columns.
        columns: usize,
    },
    /// The operating system refused to start a thread of a
    /// [`Workspace::with_threads`](crate::Workspace::with_threads).
    #[error("cannot start a training thread: {0}")]
    Threads(String),
    /// A value an operation computed is not finite (e.g. an output that overflowed).
    #[error("{op}: {what} is not finite")]
    NonFinite {
        /// The operation, e.g. `"probabilities"`.
        op: &'static str,
        /// Which value, e.g. `"output 2 of example 7"`.
        what: String,
    },
}

/// Why a model file could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelFileError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The bytes are not a safetensors file (truncated, corrupt header, bad offsets).
    #[error("not a valid safetensors file: {0}")]
    Malformed(String),
    /// A valid safetensors file, but not one written by this library.
    #[error("not an nn model file: {0}")]
    Foreign(String),
    /// A model file of a format version this library cannot read.
    #[error(
        "format version {found} is not supported (this library reads versions 1 to {supported})"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: String,
        /// The newest version this library reads (and the one it writes).
        supported: u32,
    },
    /// The file names a layer kind that is neither built in nor known to the
    /// [`LayerResolver`](crate::LayerResolver) given.
    #[error(
        "layer {index} is of kind {kind:?}, which is not built in; load it with a LayerResolver that knows it"
    )]
    UnknownLayer {
        /// The layer's index, from 0.
        index: usize,
        /// The kind the file names.
        kind: String,
    },
    /// The file's architecture or tensors are inconsistent.
    #[error("corrupt model: {0}")]
    Corrupt(String),
    /// A PyTorch `state_dict` whose tensors are not the network's (missing, extra, or
    /// of another shape); the message lists the names expected and found.
    #[error("the state dict does not fit the network: {0}")]
    StateDict(String),
    /// The file holds another scalar type than the network being loaded.
    #[error("the file holds {found} tensors, the network type is {expected}")]
    DType {
        /// The type in the file.
        found: String,
        /// The type asked for.
        expected: &'static str,
    },
    /// The network holds an activation that model files cannot name (a custom one whose
    /// name is not unique), or serialization failed.
    #[error("cannot save: {0}")]
    Unsavable(String),
}

impl CoreError {
    /// The same error, naming operation `op` where it named `from` (for an operation
    /// that runs another, e.g. `descend` through `adjust_gradient`).
    pub(crate) fn in_op(self, from: &'static str, op: &'static str) -> Self {
        match self {
            CoreError::Shape {
                op: o,
                what,
                dim,
                expected,
                got,
            } if o == from => CoreError::Shape {
                op,
                what,
                dim,
                expected,
                got,
            },
            CoreError::GradientMismatch { op: o, detail } if o == from => {
                CoreError::GradientMismatch { op, detail }
            }
            other => other,
        }
    }
}

/// Shorthand used across the crate.
pub(crate) fn shape_err(
    op: &'static str,
    what: &'static str,
    dim: &'static str,
    expected: usize,
    got: usize,
) -> CoreError {
    CoreError::Shape {
        op,
        what,
        dim,
        expected,
        got,
    }
}

pub(crate) fn check_learning_rate<T: nn_math::Real>(
    op: &'static str,
    learning_rate: T,
) -> Result<(), CoreError> {
    if learning_rate.is_finite() && learning_rate > T::zero() {
        Ok(())
    } else {
        Err(CoreError::InvalidHyperParameter {
            op,
            name: "learning_rate".into(),
            value: learning_rate.as_f64(),
            requirement: "must be positive and finite",
        })
    }
}
