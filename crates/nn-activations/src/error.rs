//! The one error type of `nn-activations`.

/// Why an activation function could not be built or applied.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ActivationError {
    /// A parameter (β or γ) is outside the range the notes allow, or not finite.
    #[error("{activation}: {param} = {value} is invalid: {requirement}")]
    InvalidParameter {
        /// The activation's name, e.g. `"sigmoid"`.
        activation: &'static str,
        /// The parameter's name, e.g. `"gamma"`.
        param: &'static str,
        /// The rejected value.
        value: f64,
        /// What the parameter must satisfy, e.g. `"must be finite and non-zero"`.
        requirement: &'static str,
    },
    /// A slice operation got an output buffer of another length than its input.
    #[error("{op}: input has {input} elements but the output has {output}")]
    Length {
        /// The operation, e.g. `"f_slice"`.
        op: &'static str,
        /// Length of the input.
        input: usize,
        /// Length of the output buffer.
        output: usize,
    },
    /// [`crate::Builtin::from_parts`] got a name it does not know.
    #[error("unknown activation {name:?} (known: {known})", known = crate::Builtin::<f64>::NAMES.join(", "))]
    UnknownName {
        /// The name that was asked for.
        name: String,
    },
    /// [`crate::Builtin::from_parts`] got a parameter the activation does not have.
    #[error("{activation}: unknown parameter {param:?}")]
    UnknownParameter {
        /// The activation's name.
        activation: &'static str,
        /// The parameter that was given.
        param: String,
    },
    /// [`crate::Builtin::with_param_values`] got another number of values than the
    /// function has parameters.
    #[error("{activation}: takes {expected} parameter values, got {got}")]
    ParameterCount {
        /// The activation's name.
        activation: &'static str,
        /// How many parameters it has.
        expected: usize,
        /// How many values were given.
        got: usize,
    },
}

/// Checks one parameter: it must be finite and satisfy `ok`, else an
/// [`ActivationError::InvalidParameter`] stating `requirement`.
pub(crate) fn check_param<T: nn_math::Real>(
    activation: &'static str,
    param: &'static str,
    value: T,
    ok: impl Fn(T) -> bool,
    requirement: &'static str,
) -> Result<T, ActivationError> {
    if value.is_finite() && ok(value) {
        Ok(value)
    } else {
        Err(ActivationError::InvalidParameter {
            activation,
            param,
            value: value.as_f64(),
            requirement,
        })
    }
}

/// Checks γ of the sigmoid family (sigmoid, SiLU, Softplus): finite and non-zero.
pub(crate) fn check_gamma<T: nn_math::Real>(
    activation: &'static str,
    gamma: T,
) -> Result<T, ActivationError> {
    check_param(
        activation,
        "gamma",
        gamma,
        |g| g != T::zero(),
        "must be finite and non-zero",
    )
}
