//! Activation functions and their derivatives: §2.1.1 of *Artificial Neural Networks —
//! Getting Up To Speed With The Math From Scratch* (the "notes"), behind one trait.
//!
//! A neuron's activation is `a = f(s)` for its pre-activation `s` (eq. 1), and
//! backpropagation needs `f'(s)` (Algorithm 7). [`Activation`] requires exactly these two
//! functions; everything else (slice and matrix versions, name, parameters) is provided,
//! so a new activation is two methods long (see the trait's example, or [`from_fn`] for
//! closures).
//!
//! | notes | type | parameters (default) | value at the kink |
//! |---|---|---|---|
//! | A.10 | [`Identity`] | — | — |
//! | §2.1.1.1 | [`Threshold`] | — | `f'(0) = 0` |
//! | §2.1.1.2 | [`Sign`] | — | `f'(0) = 0`, `Sign(0) = −1` |
//! | §2.1.1.3 | [`Sigmoid`] | β (1), γ ≠ 0 (1) | — |
//! | §2.1.1.4 | [`Relu`] | — | `ReLU'(0) = 0` |
//! | §2.1.1.5 | [`PRelu`] | β (0.01) | `PReLU'(0) = β` |
//! | §2.1.1.6 | [`Silu`] | β (1), γ ≠ 0 (1) | — (derivative per errata 1) |
//! | §2.1.1.7 | [`Elu`] | β ≥ 0 (1) | `ELU'(0) = β` |
//! | §2.1.1.8 | [`Softplus`] | β > 0 (1), γ ≠ 0 (1) | — |
//! | §2.1.1.9 | [`Mish`] | β > 0 (1) | — |
//! | §2.1.1.9 | [`Tanh`] | — | — |
//! | §2.1.1.10 | [`Squareplus`] | β ≥ 0 (1) | `f'(0) = ½` when β = 0 |
//!
//! Constructors validate their parameters and return [`ActivationError`] for values the
//! notes exclude (γ = 0, β ≤ 0 where the formula divides by β, β < 0 where the notes
//! require 0 ≤ β, anything non-finite) and for values whose derived constants overflow
//! the scalar type (a subnormal β where a formula divides by it, a sigmoid whose largest
//! slope β·γ/4 is infinite). Every function and derivative is then finite for every
//! finite input wherever its exact value is representable, in `f32` and `f64`: the
//! exponentials are only ever taken of non-positive numbers (see each type's "Numerical
//! form"), and products are ordered so that no intermediate overflows where the result
//! does not. (A value beyond the type's range, such as PReLU's `β·x` for β = 10³⁰ and
//! x = −10⁹ in `f32`, is infinite, as it must be; training reports it as divergence.)
//!
//! ```
//! use nn_activations::{Activation, Sigmoid, Relu};
//!
//! let sigma = Sigmoid::<f64>::default();
//! assert_eq!(sigma.f(0.0), 0.5);
//! assert_eq!(sigma.df(0.0), 0.25); // σ'(x) = σ(x)·(1 − σ(x))
//! assert_eq!(Relu.df(0.0_f32), 0.0); // the documented choice at the kink
//! assert!(sigma.f(-1e4).is_finite() && sigma.df(1e4).is_finite());
//! ```

mod activation;
mod builtin;
mod builtin_params;
mod closure;
mod elu;
mod error;
mod fast_tanh;
mod identity;
mod mish;
mod relu;
mod sigmoid;
mod silu;
mod softplus;
mod squareplus;
mod stable;
mod step;
mod tanh;

pub use activation::{Activation, SharedActivation};
pub use builtin::Builtin;
pub use builtin_params::DOMAIN_MARGIN;
pub use closure::{FnActivation, from_fn};
pub use elu::Elu;
pub use error::ActivationError;
pub use identity::Identity;
pub use mish::Mish;
pub use relu::{PRelu, Relu};
pub use sigmoid::Sigmoid;
pub use silu::Silu;
pub use softplus::Softplus;
pub use squareplus::Squareplus;
pub use step::{Sign, Threshold};
pub use tanh::Tanh;
