//! An activation made of two closures, for experiments that do not deserve a type.

use nn_math::Real;

use crate::Activation;

/// An activation from a pair of closures `f` and `f'` (the derivative takes the
/// pre-activation `x`, as everywhere in this crate). Build it with [`from_fn`].
#[derive(Clone, Copy, Debug)]
pub struct FnActivation<F, D> {
    name: &'static str,
    f: F,
    df: D,
}

/// An activation from a name and two closures: `f(x)` and its derivative `f'(x)`.
///
/// # Example
/// ```
/// use nn_activations::{from_fn, Activation};
///
/// // f(x) = x³, f'(x) = 3x²
/// let cube = from_fn("cube", |x: f64| x * x * x, |x: f64| 3.0 * x * x);
/// assert_eq!(cube.f(2.0), 8.0);
/// assert_eq!(cube.df(2.0), 12.0);
/// assert_eq!(Activation::<f64>::name(&cube), "cube");
/// ```
pub fn from_fn<T, F, D>(name: &'static str, f: F, df: D) -> FnActivation<F, D>
where
    T: Real,
    F: Fn(T) -> T,
    D: Fn(T) -> T,
{
    FnActivation { name, f, df }
}

impl<T, F, D> Activation<T> for FnActivation<F, D>
where
    T: Real,
    F: Fn(T) -> T,
    D: Fn(T) -> T,
{
    fn f(&self, x: T) -> T {
        (self.f)(x)
    }

    fn df(&self, x: T) -> T {
        (self.df)(x)
    }

    fn name(&self) -> &str {
        self.name
    }
}
