//! Numerical robustness: finite values for every finite input in f32 and f64, f32 close
//! to f64, and accuracy in the tails where naive formulas overflow or round to zero.

use nn_activations::{Activation, Builtin, Elu, Softplus};
use proptest::prelude::*;

use crate::common::{any_builtin, beta_pos, gamma, in_both_precisions, wide_x};

/// Every built-in function at its default parameters.
fn defaults<T: nn_math::Real>() -> Vec<Builtin<T>> {
    Builtin::<T>::NAMES
        .iter()
        .map(|n| Builtin::from_parts(n, &[]).unwrap())
        .collect()
}

/// Values that break naive formulas.
const EXTREMES: [f64; 12] = [
    0.0,
    -0.0,
    1e-300,
    -1e-300,
    1.0e4,
    -1.0e4,
    1e30,
    -1e30,
    1e300,
    -1e300,
    f64::MAX,
    -f64::MAX,
];

proptest! {
    #[test]
    fn finite_in_f64_for_wide_inputs(a in any_builtin(), x in wide_x()) {
        prop_assert!(a.f(x).is_finite(), "{} {:?}: f({x}) = {}", a.name(), a.params(), a.f(x));
        prop_assert!(a.df(x).is_finite(), "{} {:?}: f'({x}) = {}", a.name(), a.params(), a.df(x));
    }

    #[test]
    fn finite_in_f32_for_wide_inputs(a in any_builtin(), x in wide_x()) {
        let (a32, _) = in_both_precisions(&a);
        let x = x as f32; // |x| ≤ 1e30 is finite in f32; tiny values may round to 0.
        prop_assert!(a32.f(x).is_finite(), "{} {:?}: f({x}) = {}", a32.name(), a32.params(), a32.f(x));
        prop_assert!(a32.df(x).is_finite(), "{} {:?}: f'({x}) = {}", a32.name(), a32.params(), a32.df(x));
    }

    #[test]
    fn finite_for_every_finite_f32_at_defaults(x in proptest::num::f32::NORMAL | proptest::num::f32::SUBNORMAL | proptest::num::f32::ZERO) {
        for a in defaults::<f32>() {
            prop_assert!(a.f(x).is_finite() && a.df(x).is_finite(), "{} at {x}", a.name());
        }
    }

    #[test]
    fn f32_agrees_with_f64(a in any_builtin(), x in -20.0..20.0_f32) {
        // Relative 1e-5, with an absolute floor of 1e-5 where the value crosses zero.
        let (a32, a64) = in_both_precisions(&a);
        let x64 = f64::from(x);
        for (got, want, what) in [(a32.f(x), a64.f(x64), "f"), (a32.df(x), a64.df(x64), "f'")] {
            let got = f64::from(got);
            prop_assert!(
                (got - want).abs() <= 1e-5 * want.abs().max(1.0),
                "{} {:?}: {what}({x}) is {got} in f32, {want} in f64", a64.name(), a64.params()
            );
        }
    }

    #[test]
    fn softplus_is_accurate_for_large_beta_x(z in 30.0..1e6_f64, beta in beta_pos(), g in gamma()) {
        // ln(1 + e^z) = z + e^{−z} + O(e^{−2z}): Softplus = γ·x + (γ/β)·e^{−βx}.
        let x = z / beta;
        let sp = Softplus::new(beta, g).unwrap();
        let want = g * x + g / beta * (-(beta * x)).exp();
        prop_assert!((sp.f(x) - want).abs() <= 4.0 * f64::EPSILON * want.abs());
    }

    #[test]
    fn softplus_is_accurate_for_very_negative_beta_x(z in -700.0..-30.0_f64, beta in beta_pos(), g in gamma()) {
        // ln(1 + ε) = ε − ε²/2 + O(ε³) for ε = e^{βx}; the naive formula gives 0.
        let x = z / beta;
        let sp = Softplus::new(beta, g).unwrap();
        let eps = (beta * x).exp();
        let want = g / beta * (eps - eps * eps / 2.0);
        prop_assert!(want != 0.0);
        prop_assert!((sp.f(x) - want).abs() <= 1e-14 * want.abs());
    }

    #[test]
    fn softplus_matches_the_naive_formula_where_it_is_safe(z in -2.0..5.0_f64, beta in beta_pos(), g in gamma()) {
        // For βx < −2 the naive ln(1 + e^{βx}) itself loses digits (see the test above).
        let x = z / beta;
        let sp = Softplus::new(beta, g).unwrap();
        let want = g / beta * (1.0 + (beta * x).exp()).ln();
        prop_assert!((sp.f(x) - want).abs() <= 1e-13 * want.abs());
    }

    #[test]
    fn elu_keeps_relative_accuracy_for_tiny_negative_x(e in -300.0..-8.0_f64, beta in 0.1..4.0_f64) {
        // β·(eˣ − 1) = β·(x + x²/2 + …); a plain exp(x) − 1 loses all digits here.
        let x = -(10f64.powf(e));
        let want = beta * (x + x * x / 2.0);
        prop_assert!((Elu::new(beta).unwrap().f(x) - want).abs() <= 1e-15 * want.abs());
    }
}

#[test]
fn finite_at_extreme_inputs_in_both_precisions() {
    for a in defaults::<f64>() {
        for x in EXTREMES {
            assert!(
                a.f(x).is_finite() && a.df(x).is_finite(),
                "{} at {x}: {} {}",
                a.name(),
                a.f(x),
                a.df(x)
            );
        }
    }
    for a in defaults::<f32>() {
        for x in EXTREMES.map(|x| x.clamp(f64::from(-f32::MAX), f64::from(f32::MAX)) as f32) {
            assert!(
                a.f(x).is_finite() && a.df(x).is_finite(),
                "{} at {x}: {} {}",
                a.name(),
                a.f(x),
                a.df(x)
            );
        }
    }
}

#[test]
fn tails_have_the_right_limits() {
    // Exact limits where a naive exp would give inf/inf = NaN.
    let d = |n: &str| Builtin::<f64>::from_parts(n, &[]).unwrap();
    assert_eq!(d("sigmoid").f(1e4), 1.0);
    assert_eq!(d("sigmoid").f(-1e4), 0.0);
    assert_eq!(d("silu").f(1e4), 1e4);
    assert_eq!(d("silu").df(1e4), 1.0);
    assert_eq!(d("silu").df(-1e4), 0.0);
    assert_eq!(d("softplus").f(1e4), 1e4);
    assert_eq!(d("mish").f(1e4), 1e4);
    assert_eq!(d("mish").df(1e4), 1.0);
    assert_eq!(d("elu").f(-1e4), -1.0);
    // Squareplus(x) = β/(2·(√(x² + β) − x)) ≈ 1/(4·10³⁰⁰) for x = −10³⁰⁰, not 0 or NaN.
    assert!((d("squareplus").f(-1e300) / 2.5e-301 - 1.0).abs() < 1e-12);
    assert_eq!(d("tanh").df(1e4), 0.0);
}

/// A value of any magnitude an f32 can hold (normal or subnormal), either sign.
fn any_magnitude() -> impl Strategy<Value = f32> {
    (-45.0..38.5_f64, any::<bool>()).prop_map(|(e, neg)| {
        let v = 10f64.powf(e).min(f64::from(f32::MAX)) as f32;
        if neg { -v } else { v }
    })
}

proptest! {
    /// The promise of the crate docs, for any parameters a constructor accepts: `f` and
    /// `f'` are finite wherever their exact values are representable. The exact value is
    /// taken from the same function in f64 (whose range holds every f32 result).
    #[test]
    fn finite_wherever_the_exact_value_is_representable_for_any_accepted_parameters(
        name in prop::sample::select(Builtin::<f32>::NAMES.to_vec()),
        p in prop::collection::vec(any_magnitude(), 2),
        x in any_magnitude(),
    ) {
        let n = Builtin::<f32>::from_parts(name, &[]).unwrap().params().len();
        let names = ["beta", "gamma"];
        let params32: Vec<(&str, f32)> = names.iter().copied().zip(p.iter().copied()).take(n).collect();
        let Ok(a32) = Builtin::<f32>::from_parts(name, &params32) else { return Ok(()); };
        let params64: Vec<(&str, f64)> = params32.iter().map(|&(k, v)| (k, f64::from(v))).collect();
        let a64 = Builtin::<f64>::from_parts(name, &params64).unwrap();
        let limit = f64::from(f32::MAX);
        for (got, exact, what) in [
            (a32.f(x), a64.f(f64::from(x)), "f"),
            (a32.df(x), a64.df(f64::from(x)), "f'"),
        ] {
            if exact.is_finite() && exact.abs() < limit {
                prop_assert!(got.is_finite(), "{name} {params32:?}: {what}({x}) = {got}, exactly {exact}");
            }
        }
    }
}
