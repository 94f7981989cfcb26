//! Errata 1: the notes' SiLU derivative fails the finite-difference check; the
//! implemented one passes.

use nn_activations::{Activation, Sigmoid, Silu};

/// The derivative as printed in the notes (§2.1.1.6):
/// `SiLU'(x) = σ(x)·(1 + x − σ(x)/γ)`.
fn notes_silu_derivative(beta: f64, gamma: f64, x: f64) -> f64 {
    let sigma = Sigmoid::new(beta, gamma).unwrap().f(x);
    sigma * (1.0 + x - sigma / gamma)
}

/// The plain central difference with h = 1e-6, as used to check the errata.
fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6;
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn errata_1_notes_silu_derivative_fails_finite_difference_and_ours_passes() {
    // The errata's numbers: at x = 0.7, β = γ = 1 the slope is 0.823387 and the notes'
    // formula gives 0.689444.
    let silu = Silu::<f64>::default();
    let numeric = central(|x| silu.f(x), 0.7);
    assert!((numeric - 0.823387).abs() < 1e-6, "numeric slope {numeric}");
    assert!((notes_silu_derivative(1.0, 1.0, 0.7) - 0.689444).abs() < 1e-6);
    assert!((silu.df(0.7) - numeric).abs() < 1e-6 * numeric.abs());
    assert!((notes_silu_derivative(1.0, 1.0, 0.7) - numeric).abs() > 0.1);

    // And with other parameters, where the notes' version also drops β.
    for &(beta, gamma, x) in &[(2.0, 1.0, -0.5), (0.5, 3.0, 2.0), (1.5, -2.0, 0.3)] {
        let silu = Silu::new(beta, gamma).unwrap();
        let numeric = central(|t| silu.f(t), x);
        assert!((silu.df(x) - numeric).abs() <= 1e-6 * numeric.abs().max(1.0));
        assert!(
            (notes_silu_derivative(beta, gamma, x) - numeric).abs() > 1e-2,
            "the notes' formula should be off at β = {beta}, γ = {gamma}, x = {x}"
        );
    }
}
