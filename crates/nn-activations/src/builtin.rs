//! [`Builtin`]: the closed set of the library's own activations as one value, for model
//! files, configuration, and per-neuron activation lists without a `Box` per neuron.

use nn_math::{Matrix, Real};

use crate::{
    Activation, ActivationError, Elu, Identity, Mish, PRelu, Relu, Sigmoid, Sign, Silu, Softplus,
    Squareplus, Tanh, Threshold,
};

/// Any one of the twelve built-in activation functions.
///
/// Strings appear only at the edge: [`Builtin::from_parts`] turns a stored name and
/// parameters back into a function, validating them as the constructors do, and
/// [`Activation::name`] and [`Activation::params`] give them back.
///
/// The slice methods dispatch once per slice, not once per element.
///
/// # Example
/// ```
/// use nn_activations::{Activation, Builtin, Sigmoid};
///
/// let sig: Builtin<f64> = Sigmoid::new(2.0, 1.0)?.into();
/// let again = Builtin::from_parts(sig.name(), &sig.params())?;
/// assert_eq!(sig, again);
/// assert!(Builtin::<f64>::from_parts("gelu", &[]).is_err());
/// assert!(Builtin::<f64>::from_parts("sigmoid", &[("gamma", 0.0)]).is_err());
/// # Ok::<(), nn_activations::ActivationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Builtin<T> {
    /// [`Identity`] (A.10).
    Identity(Identity),
    /// [`Threshold`] (§2.1.1.1).
    Threshold(Threshold),
    /// [`Sign`] (§2.1.1.2).
    Sign(Sign),
    /// [`Sigmoid`] (§2.1.1.3).
    Sigmoid(Sigmoid<T>),
    /// [`Tanh`] (§2.1.1.9).
    Tanh(Tanh),
    /// [`Relu`] (§2.1.1.4).
    Relu(Relu),
    /// [`PRelu`] (§2.1.1.5).
    PRelu(PRelu<T>),
    /// [`Silu`] (§2.1.1.6).
    Silu(Silu<T>),
    /// [`Elu`] (§2.1.1.7).
    Elu(Elu<T>),
    /// [`Softplus`] (§2.1.1.8).
    Softplus(Softplus<T>),
    /// [`Mish`] (§2.1.1.9).
    Mish(Mish<T>),
    /// [`Squareplus`] (§2.1.1.10).
    Squareplus(Squareplus<T>),
}

/// Runs `$body` with `$a` bound to the activation inside `$self`.
macro_rules! dispatch {
    ($self:expr, $a:ident => $body:expr) => {
        match $self {
            Builtin::Identity($a) => $body,
            Builtin::Threshold($a) => $body,
            Builtin::Sign($a) => $body,
            Builtin::Sigmoid($a) => $body,
            Builtin::Tanh($a) => $body,
            Builtin::Relu($a) => $body,
            Builtin::PRelu($a) => $body,
            Builtin::Silu($a) => $body,
            Builtin::Elu($a) => $body,
            Builtin::Softplus($a) => $body,
            Builtin::Mish($a) => $body,
            Builtin::Squareplus($a) => $body,
        }
    };
}

impl<T: Real> Builtin<T> {
    /// The stable names of the built-in functions, as [`Activation::name`] returns them.
    pub const NAMES: [&'static str; 12] = [
        "identity",
        "threshold",
        "sign",
        "sigmoid",
        "tanh",
        "relu",
        "prelu",
        "silu",
        "elu",
        "softplus",
        "mish",
        "squareplus",
    ];

    /// Rebuilds a built-in activation from its name and parameters (as stored in a model
    /// file). A parameter that is not given takes its default (see each type); a
    /// parameter the function does not have is an error.
    ///
    /// # Errors
    /// [`ActivationError::UnknownName`], [`ActivationError::UnknownParameter`], or the
    /// constructor's [`ActivationError::InvalidParameter`].
    pub fn from_parts(name: &str, params: &[(&str, T)]) -> Result<Self, ActivationError> {
        let (activation, allowed): (&'static str, &[&str]) = match name {
            "identity" => ("identity", &[]),
            "threshold" => ("threshold", &[]),
            "sign" => ("sign", &[]),
            "tanh" => ("tanh", &[]),
            "relu" => ("relu", &[]),
            "sigmoid" => ("sigmoid", &["beta", "gamma"]),
            "silu" => ("silu", &["beta", "gamma"]),
            "softplus" => ("softplus", &["beta", "gamma"]),
            "prelu" => ("prelu", &["beta"]),
            "elu" => ("elu", &["beta"]),
            "mish" => ("mish", &["beta"]),
            "squareplus" => ("squareplus", &["beta"]),
            _ => {
                return Err(ActivationError::UnknownName {
                    name: name.to_owned(),
                });
            }
        };
        if let Some((p, _)) = params.iter().find(|(p, _)| !allowed.contains(p)) {
            return Err(ActivationError::UnknownParameter {
                activation,
                param: (*p).to_owned(),
            });
        }
        let get = |key: &str, default: f64| {
            params
                .iter()
                .rev()
                .find(|(p, _)| *p == key)
                .map_or(T::lit(default), |&(_, v)| v)
        };
        // Defaults are the notes' (β = γ = 1), except PReLU's leaky 0.01.
        Ok(match activation {
            "identity" => Identity.into(),
            "threshold" => Threshold.into(),
            "sign" => Sign.into(),
            "tanh" => Tanh.into(),
            "relu" => Relu.into(),
            "sigmoid" => Sigmoid::new(get("beta", 1.0), get("gamma", 1.0))?.into(),
            "silu" => Silu::new(get("beta", 1.0), get("gamma", 1.0))?.into(),
            "softplus" => Softplus::new(get("beta", 1.0), get("gamma", 1.0))?.into(),
            "prelu" => PRelu::new(get("beta", 0.01))?.into(),
            "elu" => Elu::new(get("beta", 1.0))?.into(),
            "mish" => Mish::new(get("beta", 1.0))?.into(),
            _ => Squareplus::new(get("beta", 1.0))?.into(),
        })
    }
}

impl<T: Real> Activation<T> for Builtin<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        dispatch!(self, a => a.f(x))
    }

    #[inline]
    fn df(&self, x: T) -> T {
        dispatch!(self, a => a.df(x))
    }

    fn name(&self) -> &str {
        dispatch!(self, a => Activation::<T>::name(a))
    }

    fn params(&self) -> Vec<(&'static str, T)> {
        dispatch!(self, a => a.params())
    }

    #[inline]
    fn dparams(&self, x: T, grad: &mut [T]) {
        dispatch!(self, a => a.dparams(x, grad))
    }

    /// [`Builtin::with_param_values`], shared.
    fn with_params(
        &self,
        values: &[T],
    ) -> Option<Result<crate::SharedActivation<T>, ActivationError>> {
        Some(
            self.with_param_values(values)
                .map(|b| std::sync::Arc::new(b) as crate::SharedActivation<T>),
        )
    }

    /// [`Builtin::project`].
    fn project_param(&self, index: usize, value: T) -> T {
        self.project(index, value)
    }

    fn f_slice(&self, x: &[T], out: &mut [T]) -> Result<(), ActivationError> {
        dispatch!(self, a => a.f_slice(x, out))
    }

    fn df_slice(&self, x: &[T], out: &mut [T]) -> Result<(), ActivationError> {
        dispatch!(self, a => a.df_slice(x, out))
    }

    fn mul_df_slice(&self, s: &[T], d: &mut [T]) -> Result<(), ActivationError> {
        dispatch!(self, a => a.mul_df_slice(s, d))
    }

    fn f_matrix(&self, s: &Matrix<T>) -> Matrix<T> {
        dispatch!(self, a => a.f_matrix(s))
    }

    fn df_matrix(&self, s: &Matrix<T>) -> Matrix<T> {
        dispatch!(self, a => a.df_matrix(s))
    }
}

macro_rules! from_variant {
    ($($variant:ident($ty:ty)),* $(,)?) => {$(
        impl<T: Real> From<$ty> for Builtin<T> {
            fn from(a: $ty) -> Self {
                Builtin::$variant(a)
            }
        }
    )*};
}

from_variant!(
    Identity(Identity),
    Threshold(Threshold),
    Sign(Sign),
    Sigmoid(Sigmoid<T>),
    Tanh(Tanh),
    Relu(Relu),
    PRelu(PRelu<T>),
    Silu(Silu<T>),
    Elu(Elu<T>),
    Softplus(Softplus<T>),
    Mish(Mish<T>),
    Squareplus(Squareplus<T>),
);
