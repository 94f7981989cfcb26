//! The [`Activation`] trait: a function `f: ℝ → ℝ` and its derivative (notes §2.1, eq. 1).

use nn_math::{Matrix, Real};

use crate::ActivationError;

/// An activation shared between threads and layers, as
/// [`with_params`](Activation::with_params) returns it.
pub type SharedActivation<T> = std::sync::Arc<dyn Activation<T> + Send + Sync>;

/// An activation function `f` and its derivative `f'` (notes §2.1.1).
///
/// A neuron computes `a = f(s)` from its pre-activation `s = b + Σ wᵢ·aᵢ` (eq. 1).
///
/// # The derivative takes the pre-activation
/// [`df`](Activation::df) receives the **pre-activation `x` (the neuron's `s`)**, never the
/// activation `f(x)`: `df(x)` is `f'(x)`. Backpropagation (Algorithm 7) calls it as
/// `f'(s)`. (A classic bug this rules out: a sigmoid derivative written as
/// `y·(1 − y)` that silently expects `y = σ(x)` and is then handed `x`.)
///
/// # Required and provided methods
/// Only [`f`](Activation::f) and [`df`](Activation::df) are required. The slice and matrix
/// versions, the name and the parameters are provided; override the slice versions when
/// a whole-slice loop can be faster, and override [`name`](Activation::name) and
/// [`params`](Activation::params) to make the function recognisable in messages and files.
///
/// # Example: a user-defined activation
/// ```
/// use nn_activations::Activation;
/// use nn_math::Real;
///
/// /// The "bent identity" f(x) = (√(x² + 1) − 1)/2 + x, f'(x) = x/(2√(x² + 1)) + 1.
/// struct BentIdentity;
///
/// impl<T: Real> Activation<T> for BentIdentity {
///     fn f(&self, x: T) -> T {
///         ((x * x + T::one()).sqrt() - T::one()) / T::lit(2.0) + x
///     }
///     fn df(&self, x: T) -> T {
///         x / (T::lit(2.0) * (x * x + T::one()).sqrt()) + T::one()
///     }
///     fn name(&self) -> &str {
///         "bent_identity"
///     }
/// }
///
/// let act = BentIdentity;
/// assert_eq!(act.f(0.0_f64), 0.0);
/// assert_eq!(act.df(0.0_f64), 1.0);
/// // The provided slice version applies f element by element.
/// let mut out = [0.0; 2];
/// act.f_slice(&[0.0, 1.0], &mut out)?;
/// assert_eq!(out, [0.0, act.f(1.0)]);
/// # Ok::<(), nn_activations::ActivationError>(())
/// ```
pub trait Activation<T: Real> {
    /// The function value `f(x)`.
    fn f(&self, x: T) -> T;

    /// The derivative `f'(x)` with respect to the pre-activation `x` (not `f(x)`).
    ///
    /// Where `f` is not differentiable, an implementation returns a documented value (for
    /// example `ReLU'(0) = 0`).
    fn df(&self, x: T) -> T;

    /// A short name. The built-in functions use stable lower-case names (`"sigmoid"`)
    /// that model files store; the default is the Rust type name, which is fine for
    /// messages but not stable across compiler versions.
    fn name(&self) -> &str {
        core::any::type_name::<Self>()
    }

    /// The function's parameters as `(name, value)` pairs, e.g. `[("beta", 1.0), ("gamma",
    /// 1.0)]` for the sigmoid; empty (the default) for a function without parameters.
    fn params(&self) -> Vec<(&'static str, T)> {
        Vec::new()
    }

    /// The derivatives with respect to the parameters, `∂f/∂θ` at the pre-activation `x`
    /// for each parameter `θ` of [`params`](Activation::params), in that order, written
    /// into `grad[..params().len()]` (the rest is left alone). What learning a
    /// parameter along with the weights (§2.1.1) needs; the formulas are in
    /// `docs/guide.md` §2.1. Default: nothing to write, for a function without
    /// parameters; a function that declares parameters implements it too.
    fn dparams(&self, x: T, grad: &mut [T]) {
        let _ = (x, grad);
    }

    /// The same function with its parameters set to `values` (in the order of
    /// [`params`](Activation::params)): what learning them along with the weights
    /// (§2.1.1) needs, since a layer then keeps one copy per neuron or one for the layer.
    /// `None`, the default, says the parameters cannot be set, so no layer can learn
    /// them; a function of your own implements it (with [`dparams`](Activation::dparams))
    /// to make its parameters learnable, returning `Some(Err(…))` for values outside its
    /// domain. The built-in functions implement it.
    fn with_params(&self, values: &[T]) -> Option<Result<SharedActivation<T>, ActivationError>> {
        let _ = values;
        None
    }

    /// The nearest point of parameter `index`'s domain to `value`, for projected gradient
    /// descent after each update of a learned parameter. Default: `value` (every value
    /// allowed).
    fn project_param(&self, index: usize, value: T) -> T {
        let _ = index;
        value
    }

    /// `out[i] = f(x[i])` for every `i`.
    ///
    /// # Errors
    /// [`ActivationError::Length`] if the lengths differ; `out` is untouched then.
    fn f_slice(&self, x: &[T], out: &mut [T]) -> Result<(), ActivationError> {
        check_len("f_slice", x.len(), out.len())?;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.f(v);
        }
        Ok(())
    }

    /// `out[i] = f'(x[i])` for every `i` (derivative at the pre-activation).
    ///
    /// # Errors
    /// [`ActivationError::Length`] if the lengths differ; `out` is untouched then.
    fn df_slice(&self, x: &[T], out: &mut [T]) -> Result<(), ActivationError> {
        check_len("df_slice", x.len(), out.len())?;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.df(v);
        }
        Ok(())
    }

    /// `d[i] ← d[i] · f'(s[i])`: the Hadamard product with the derivative that turns the
    /// propagated error into a layer's delta, `d = (Wᵀ·d_next) ⊙ f'(s)` (Algorithm 8),
    /// in one pass over memory.
    ///
    /// # Errors
    /// [`ActivationError::Length`] if the lengths differ; `d` is untouched then.
    fn mul_df_slice(&self, s: &[T], d: &mut [T]) -> Result<(), ActivationError> {
        check_len("mul_df_slice", s.len(), d.len())?;
        for (o, &v) in d.iter_mut().zip(s) {
            *o *= self.df(v);
        }
        Ok(())
    }

    /// `f` applied to every entry of a matrix (e.g. a batch of pre-activations `S`, one
    /// example per column), as a new matrix of the same shape.
    fn f_matrix(&self, s: &Matrix<T>) -> Matrix<T> {
        s.map(|x| self.f(x))
    }

    /// `f'` applied to every entry of a matrix of pre-activations, as a new matrix.
    fn df_matrix(&self, s: &Matrix<T>) -> Matrix<T> {
        s.map(|x| self.df(x))
    }
}

/// Length check shared by the slice methods.
pub(crate) fn check_len(
    op: &'static str,
    input: usize,
    output: usize,
) -> Result<(), ActivationError> {
    if input == output {
        Ok(())
    } else {
        Err(ActivationError::Length { op, input, output })
    }
}

/// Forwards every method, so that a boxed or borrowed activation keeps the slice
/// specialisations of the one inside.
macro_rules! forward_activation {
    ($($ty:ty),*) => {$(
        impl<T: Real, A: Activation<T> + ?Sized> Activation<T> for $ty {
            fn f(&self, x: T) -> T { (**self).f(x) }
            fn df(&self, x: T) -> T { (**self).df(x) }
            fn name(&self) -> &str { (**self).name() }
            fn params(&self) -> Vec<(&'static str, T)> { (**self).params() }
            fn dparams(&self, x: T, grad: &mut [T]) { (**self).dparams(x, grad) }
            fn with_params(&self, values: &[T]) -> Option<Result<SharedActivation<T>, ActivationError>> {
                (**self).with_params(values)
            }
            fn project_param(&self, index: usize, value: T) -> T {
                (**self).project_param(index, value)
            }
            fn f_slice(&self, x: &[T], out: &mut [T]) -> Result<(), ActivationError> {
                (**self).f_slice(x, out)
            }
            fn df_slice(&self, x: &[T], out: &mut [T]) -> Result<(), ActivationError> {
                (**self).df_slice(x, out)
            }
            fn mul_df_slice(&self, s: &[T], d: &mut [T]) -> Result<(), ActivationError> {
                (**self).mul_df_slice(s, d)
            }
            fn f_matrix(&self, s: &Matrix<T>) -> Matrix<T> { (**self).f_matrix(s) }
            fn df_matrix(&self, s: &Matrix<T>) -> Matrix<T> { (**self).df_matrix(s) }
        }
    )*};
}

forward_activation!(&A, Box<A>, std::sync::Arc<A>);
