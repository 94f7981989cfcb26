//! The neurons' functions of a layer that learns a built-in function's parameters, one
//! per neuron (or one if shared), kept as a list of the function's own type: the passes
//! then match the kind once per block and call the function's methods inlined, instead
//! of dispatching on [`Builtin`] at every value.

use nn_activations::{Builtin, Elu, Mish, PRelu, Sigmoid, Silu, Softplus, Squareplus};
use nn_math::Real;

/// Each neuron's function, all of one built-in kind.
#[derive(Clone, Debug)]
pub(super) enum Typed<T: Real> {
    Sigmoid(Vec<Sigmoid<T>>),
    PRelu(Vec<PRelu<T>>),
    Silu(Vec<Silu<T>>),
    Elu(Vec<Elu<T>>),
    Softplus(Vec<Softplus<T>>),
    Mish(Vec<Mish<T>>),
    Squareplus(Vec<Squareplus<T>>),
    /// A kind without parameters of its own, or one added to `Builtin` later.
    Other(Vec<Builtin<T>>),
}

/// Runs `$body` with `$fns` bound to the list of the kind's own functions (`&[F]` for
/// the matched `F: Activation<T>`).
macro_rules! with_typed {
    ($typed:expr, $fns:ident => $body:expr) => {
        match $typed {
            Typed::Sigmoid($fns) => $body,
            Typed::PRelu($fns) => $body,
            Typed::Silu($fns) => $body,
            Typed::Elu($fns) => $body,
            Typed::Softplus($fns) => $body,
            Typed::Mish($fns) => $body,
            Typed::Squareplus($fns) => $body,
            Typed::Other($fns) => $body,
        }
    };
}
pub(super) use with_typed;

impl<T: Real> Typed<T> {
    /// `len` copies of `f`.
    pub(super) fn of(f: &Builtin<T>, len: usize) -> Self {
        match *f {
            Builtin::Sigmoid(f) => Self::Sigmoid(vec![f; len]),
            Builtin::PRelu(f) => Self::PRelu(vec![f; len]),
            Builtin::Silu(f) => Self::Silu(vec![f; len]),
            Builtin::Elu(f) => Self::Elu(vec![f; len]),
            Builtin::Softplus(f) => Self::Softplus(vec![f; len]),
            Builtin::Mish(f) => Self::Mish(vec![f; len]),
            Builtin::Squareplus(f) => Self::Squareplus(vec![f; len]),
            f => Self::Other(vec![f; len]),
        }
    }

    /// How many functions the list holds.
    pub(super) fn len(&self) -> usize {
        with_typed!(self, v => v.len())
    }

    /// Sets neuron `j`'s function to `f`; `false` (and nothing set) if `f` is of
    /// another kind or `j` is out of range.
    pub(super) fn set(&mut self, j: usize, f: Builtin<T>) -> bool {
        fn put<F>(v: &mut [F], j: usize, f: F) -> bool {
            v.get_mut(j).map(|slot| *slot = f).is_some()
        }
        match (self, f) {
            (Self::Sigmoid(v), Builtin::Sigmoid(f)) => put(v, j, f),
            (Self::PRelu(v), Builtin::PRelu(f)) => put(v, j, f),
            (Self::Silu(v), Builtin::Silu(f)) => put(v, j, f),
            (Self::Elu(v), Builtin::Elu(f)) => put(v, j, f),
            (Self::Softplus(v), Builtin::Softplus(f)) => put(v, j, f),
            (Self::Mish(v), Builtin::Mish(f)) => put(v, j, f),
            (Self::Squareplus(v), Builtin::Squareplus(f)) => put(v, j, f),
            (Self::Other(v), f) => put(v, j, f),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nn_activations::{Activation, Relu};

    #[test]
    fn a_list_keeps_its_kind_and_applies_each_neurons_function() {
        let mut typed = Typed::of(&Builtin::PRelu(PRelu::new(0.25).unwrap()), 3);
        assert!(typed.set(1, Builtin::PRelu(PRelu::new(0.5).unwrap())));
        assert!(
            !typed.set(2, Builtin::Relu(Relu)),
            "another kind is refused"
        );
        assert!(!typed.set(3, Builtin::PRelu(PRelu::new(0.5).unwrap())));
        assert_eq!(typed.len(), 3);
        let at = |j: usize| with_typed!(&typed, v => v[j].f(-2.0_f64));
        assert_eq!([at(0), at(1), at(2)], [-0.5, -1.0, -0.5]);
        assert!(
            matches!(Typed::of(&Builtin::<f64>::Relu(Relu), 2), Typed::Other(v) if v.len() == 2)
        );
    }
}
