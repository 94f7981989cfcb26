//! Shared helpers: finite differences, tolerances, and strategies for valid parameters.

use nn_activations::{Activation, Builtin};
use proptest::prelude::*;

/// Step of the finite-difference stencil.
pub const H: f64 = 1e-3;

/// The fourth-order central finite difference
/// `f'(x) ≈ (−f(x+2h) + 8·f(x+h) − 8·f(x−h) + f(x−2h)) / 12h`, in f64.
///
/// Its truncation error is `h⁴·f⁽⁵⁾/30` (about 3e-14·f⁽⁵⁾ for h = 1e-3) and its rounding
/// error about `1.5·ε·|f|/h` (3e-11 for |f| = 100): both far below the tolerance of
/// [`check_derivative`], for every parameter range used here, so a failure means a
/// wrong derivative, not a noisy check.
pub fn central_difference(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    (-f(x + 2.0 * H) + 8.0 * f(x + H) - 8.0 * f(x - H) + f(x - 2.0 * H)) / (12.0 * H)
}

/// Asserts `df` agrees with `fd` within relative 1e-6, or absolute 1e-9 near zero.
pub fn check_derivative(what: &str, x: f64, df: f64, fd: f64) -> Result<(), TestCaseError> {
    let tol = (1e-6 * df.abs().max(fd.abs())).max(1e-9);
    prop_assert!(
        (df - fd).abs() <= tol,
        "{what} at x = {x}: analytic {df}, finite difference {fd}, difference {}",
        (df - fd).abs()
    );
    Ok(())
}

/// Checks `a.df` against the finite difference of `a.f` at `x`.
pub fn check_activation(a: &dyn Activation<f64>, x: f64) -> Result<(), TestCaseError> {
    let fd = central_difference(|t| a.f(t), x);
    check_derivative(&format!("{} {:?}", a.name(), a.params()), x, a.df(x), fd)
}

/// Any finite β (sigmoid, SiLU steepness), in the range the checks are exact for.
pub fn beta_any() -> impl Strategy<Value = f64> {
    -4.0..4.0
}

/// A positive β (Softplus, Mish).
pub fn beta_pos() -> impl Strategy<Value = f64> {
    0.1..4.0
}

/// A non-zero γ of either sign.
pub fn gamma() -> impl Strategy<Value = f64> {
    prop_oneof![-4.0..-0.1, 0.1..4.0]
}

/// A valid PReLU β (any finite number; leaky values and beyond).
pub fn beta_prelu() -> impl Strategy<Value = f64> {
    -2.0..2.0
}

/// A valid ELU or Squareplus β (0 ≤ β), including exactly 0.
pub fn beta_nonneg() -> impl Strategy<Value = f64> {
    prop_oneof![1 => Just(0.0), 4 => 0.0..4.0]
}

/// Any of the twelve built-in activations with random valid parameters, in f64.
pub fn any_builtin() -> impl Strategy<Value = Builtin<f64>> {
    let b = |name: &'static str, params: Vec<(&'static str, f64)>| {
        Builtin::from_parts(name, &params).expect("strategies produce valid parameters")
    };
    prop_oneof![
        Just(b("identity", vec![])),
        Just(b("threshold", vec![])),
        Just(b("sign", vec![])),
        Just(b("tanh", vec![])),
        Just(b("relu", vec![])),
        (beta_any(), gamma())
            .prop_map(move |(be, g)| b("sigmoid", vec![("beta", be), ("gamma", g)])),
        (beta_any(), gamma()).prop_map(move |(be, g)| b("silu", vec![("beta", be), ("gamma", g)])),
        (beta_pos(), gamma())
            .prop_map(move |(be, g)| b("softplus", vec![("beta", be), ("gamma", g)])),
        beta_prelu().prop_map(move |be| b("prelu", vec![("beta", be)])),
        beta_nonneg().prop_map(move |be| b("elu", vec![("beta", be)])),
        beta_pos().prop_map(move |be| b("mish", vec![("beta", be)])),
        beta_nonneg().prop_map(move |be| b("squareplus", vec![("beta", be)])),
    ]
}

/// The same activation in f32, with its parameters rounded to f32, and in f64 with
/// those rounded parameters (so that only the evaluation differs).
pub fn in_both_precisions(a: &Builtin<f64>) -> (Builtin<f32>, Builtin<f64>) {
    let p32: Vec<(&str, f32)> = a.params().iter().map(|&(n, v)| (n, v as f32)).collect();
    let p64: Vec<(&str, f64)> = p32.iter().map(|&(n, v)| (n, f64::from(v))).collect();
    (
        Builtin::from_parts(a.name(), &p32).expect("rounded parameters stay valid"),
        Builtin::from_parts(a.name(), &p64).expect("rounded parameters stay valid"),
    )
}

/// Inputs spread over many orders of magnitude, both signs: ±10^e for e in [−40, 30].
pub fn wide_x() -> impl Strategy<Value = f64> {
    (any::<bool>(), -40.0..30.0_f64)
        .prop_map(|(neg, e)| if neg { -(10f64.powf(e)) } else { 10f64.powf(e) })
}
