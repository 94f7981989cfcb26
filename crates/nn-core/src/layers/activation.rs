//! The activations of a layer: one function for every neuron, or one per neuron (the
//! notes' `f_j⁽ᵏ⁾`, eq. 2).

use std::fmt;
use std::sync::Arc;

use nn_activations::{
    Activation, ActivationError, Builtin, Elu, Identity, Mish, PRelu, Relu, Sigmoid, Sign, Silu,
    Softplus, Squareplus, Tanh, Threshold,
};
use nn_math::Real;

/// One activation function of a network: a built-in one (stored by name and parameters in
/// model files) or a user's own implementation of [`Activation`].
#[derive(Clone)]
pub enum NeuronActivation<T: Real> {
    /// One of the library's functions.
    Builtin(Builtin<T>),
    /// A user-defined function. Model files store its [`Activation::name`] and
    /// [`Activation::params`]; loading it back needs a resolver
    /// (see [`crate::Network::from_safetensors_with`]).
    Custom(Arc<dyn Activation<T> + Send + Sync>),
}

impl<T: Real> NeuronActivation<T> {
    /// Wraps a user-defined activation.
    ///
    /// ```
    /// use nn_core::NeuronActivation;
    /// use nn_activations::from_fn;
    ///
    /// let cube = NeuronActivation::custom(from_fn("cube", |x: f64| x * x * x, |x: f64| 3.0 * x * x));
    /// ```
    pub fn custom(a: impl Activation<T> + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(a))
    }

    /// The function's name (see [`Activation::name`]).
    pub fn name(&self) -> &str {
        match self {
            Self::Builtin(b) => b.name(),
            Self::Custom(c) => c.name(),
        }
    }

    /// Whether the function is of the ReLU family (unbounded above, flat or small below 0),
    /// for which He initialization is the default: ReLU, PReLU, ELU, SiLU, Softplus, Mish,
    /// Squareplus.
    pub fn is_relu_family(&self) -> bool {
        matches!(
            self,
            Self::Builtin(
                Builtin::Relu(_)
                    | Builtin::PRelu(_)
                    | Builtin::Elu(_)
                    | Builtin::Silu(_)
                    | Builtin::Softplus(_)
                    | Builtin::Mish(_)
                    | Builtin::Squareplus(_)
            )
        )
    }
}

impl<T: Real> fmt::Debug for NeuronActivation<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin(b) => write!(f, "{b:?}"),
            Self::Custom(c) => write!(f, "Custom({:?}, {:?})", c.name(), c.params()),
        }
    }
}

impl<T: Real> PartialEq for NeuronActivation<T> {
    /// Built-ins compare by value; custom functions by name and parameters.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Builtin(a), Self::Builtin(b)) => a == b,
            (Self::Custom(a), Self::Custom(b)) => a.name() == b.name() && a.params() == b.params(),
            _ => false,
        }
    }
}

macro_rules! dispatch {
    ($self:expr, $a:ident => $body:expr) => {
        match $self {
            NeuronActivation::Builtin($a) => $body,
            NeuronActivation::Custom($a) => $body,
        }
    };
}

impl<T: Real> Activation<T> for NeuronActivation<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        dispatch!(self, a => a.f(x))
    }

    #[inline]
    fn df(&self, x: T) -> T {
        dispatch!(self, a => a.df(x))
    }

    fn name(&self) -> &str {
        NeuronActivation::name(self)
    }

    fn params(&self) -> Vec<(&'static str, T)> {
        dispatch!(self, a => a.params())
    }

    fn dparams(&self, x: T, grad: &mut [T]) {
        dispatch!(self, a => a.dparams(x, grad))
    }

    fn with_params(
        &self,
        values: &[T],
    ) -> Option<Result<nn_activations::SharedActivation<T>, ActivationError>> {
        dispatch!(self, a => a.with_params(values))
    }

    fn project_param(&self, index: usize, value: T) -> T {
        dispatch!(self, a => a.project_param(index, value))
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
}

/// The activation functions of one layer: the same for every neuron, or one per neuron
/// (`f⁽ᵏ⁾(x) = [f_j⁽ᵏ⁾(x_j)]`, eq. 2).
///
/// Built-in activation types convert into it directly, so a layer is declared as
/// `.layer(64, Relu)`; a `Vec` of activations makes a per-neuron layer.
///
/// ```
/// use nn_core::{LayerActivation, NeuronActivation};
/// use nn_activations::{Relu, Sigmoid, Tanh};
///
/// let shared: LayerActivation<f64> = Relu.into();
/// let mixed: LayerActivation<f64> = vec![Tanh.into(), Sigmoid::default().into(), Relu.into()].into();
/// assert_eq!(mixed.per_neuron_len(), Some(3));
/// assert_eq!(shared.per_neuron_len(), None);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum LayerActivation<T: Real> {
    /// Every neuron uses this function.
    Shared(NeuronActivation<T>),
    /// Neuron `j` uses function `j`; the list is as long as the layer is wide.
    PerNeuron(Vec<NeuronActivation<T>>),
}

impl<T: Real> LayerActivation<T> {
    /// The length of a per-neuron list, or `None` for a shared function.
    pub fn per_neuron_len(&self) -> Option<usize> {
        match self {
            Self::Shared(_) => None,
            Self::PerNeuron(v) => Some(v.len()),
        }
    }

    /// The function of neuron `j`.
    pub fn neuron(&self, j: usize) -> Option<&NeuronActivation<T>> {
        match self {
            Self::Shared(a) => Some(a),
            Self::PerNeuron(v) => v.get(j),
        }
    }

    /// Whether every neuron's function is of the ReLU family (see
    /// [`NeuronActivation::is_relu_family`]).
    pub fn is_relu_family(&self) -> bool {
        match self {
            Self::Shared(a) => a.is_relu_family(),
            Self::PerNeuron(v) => v.iter().all(NeuronActivation::is_relu_family),
        }
    }

    /// `a = f(s)` for rows `first..first + s.len()` of one column of the layer's
    /// pre-activations (`s` and `a` of equal length, the caller's invariant).
    pub(crate) fn forward(
        &self,
        s: &[T],
        a: &mut [T],
        first: usize,
    ) -> Result<(), ActivationError> {
        match self {
            Self::Shared(f) => f.f_slice(s, a)?,
            Self::PerNeuron(fs) => {
                for ((x, y), f) in s.iter().zip(a.iter_mut()).zip(&fs[first..]) {
                    *y = f.f(*x);
                }
            }
        }
        Ok(())
    }

    /// `d ← d ⊙ f'(s)` for rows `first..first + s.len()` of one column, as in
    /// [`LayerActivation::forward`].
    pub(crate) fn mul_derivative(
        &self,
        s: &[T],
        d: &mut [T],
        first: usize,
    ) -> Result<(), ActivationError> {
        match self {
            Self::Shared(f) => f.mul_df_slice(s, d)?,
            Self::PerNeuron(fs) => {
                for ((x, y), f) in s.iter().zip(d.iter_mut()).zip(&fs[first..]) {
                    *y *= f.df(*x);
                }
            }
        }
        Ok(())
    }
}

macro_rules! from_builtin {
    ($($ty:ty),* $(,)?) => {$(
        impl<T: Real> From<$ty> for NeuronActivation<T> {
            fn from(a: $ty) -> Self {
                NeuronActivation::Builtin(a.into())
            }
        }
        impl<T: Real> From<$ty> for LayerActivation<T> {
            fn from(a: $ty) -> Self {
                LayerActivation::Shared(a.into())
            }
        }
    )*};
}

from_builtin!(
    Identity,
    Threshold,
    Sign,
    Sigmoid<T>,
    Tanh,
    Relu,
    PRelu<T>,
    Silu<T>,
    Elu<T>,
    Softplus<T>,
    Mish<T>,
    Squareplus<T>,
);

impl<T: Real> From<Builtin<T>> for NeuronActivation<T> {
    fn from(a: Builtin<T>) -> Self {
        NeuronActivation::Builtin(a)
    }
}

impl<T: Real> From<Builtin<T>> for LayerActivation<T> {
    fn from(a: Builtin<T>) -> Self {
        LayerActivation::Shared(a.into())
    }
}

impl<T: Real> From<NeuronActivation<T>> for LayerActivation<T> {
    fn from(a: NeuronActivation<T>) -> Self {
        LayerActivation::Shared(a)
    }
}

impl<T: Real> From<Vec<NeuronActivation<T>>> for LayerActivation<T> {
    fn from(v: Vec<NeuronActivation<T>>) -> Self {
        LayerActivation::PerNeuron(v)
    }
}
