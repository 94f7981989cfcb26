//! The identities the notes state or imply between the functions.

use nn_activations::{Activation, Mish, Sigmoid, Silu, Softplus, Tanh};
use proptest::prelude::*;

use crate::common::{beta_any, beta_pos, gamma};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-13 * (1.0 + a.abs().max(b.abs()))
}

proptest! {
    #[test]
    fn sigmoid_is_point_symmetric(x in -40.0..40.0_f64, beta in beta_any(), g in gamma()) {
        // σ(x) + σ(−x) = γ.
        let s = Sigmoid::new(beta, g).unwrap();
        prop_assert!(close(s.f(x) + s.f(-x), g));
    }

    #[test]
    fn sigmoid_derivative_is_the_notes_formula(x in -1.25..1.25_f64, beta in beta_any(), g in gamma()) {
        // σ' = β·σ·(1 − σ/γ) (§2.1.1.3), where that form does not cancel (|βx| ≤ 5).
        let s = Sigmoid::new(beta, g).unwrap();
        prop_assert!(close(s.df(x), beta * s.f(x) * (1.0 - s.f(x) / g)));
    }

    #[test]
    fn softplus_derivative_is_the_sigmoid(x in -40.0..40.0_f64, beta in beta_pos(), g in gamma()) {
        // Softplus'_{β,γ} = σ_{β,γ} (§2.1.1.8).
        let sp = Softplus::new(beta, g).unwrap();
        let s = Sigmoid::new(beta, g).unwrap();
        prop_assert!(close(sp.df(x), s.f(x)));
    }

    #[test]
    fn silu_is_x_times_sigmoid(x in -40.0..40.0_f64, beta in beta_any(), g in gamma()) {
        // SiLU_{β,γ}(x) = x·σ_{β,γ}(x) (§2.1.1.6).
        let silu = Silu::new(beta, g).unwrap();
        prop_assert!(close(silu.f(x), x * Sigmoid::new(beta, g).unwrap().f(x)));
    }

    #[test]
    fn mish_is_x_tanh_softplus(x in -40.0..40.0_f64, beta in beta_pos()) {
        // Mish_β(x) = x·tanh(Softplus_{β,1}(x)) (§2.1.1.9).
        let mish = Mish::new(beta).unwrap();
        let sp = Softplus::new(beta, 1.0).unwrap();
        prop_assert!(close(mish.f(x), x * Tanh.f(sp.f(x))));
    }

    #[test]
    fn tanh_matches_the_notes_definition(x in -15.0..15.0_f64) {
        // tanh(x) = (e^{2x} − 1)/(e^{2x} + 1) (§2.1.1.9).
        let e = (2.0 * x).exp();
        prop_assert!(close(Tanh.f(x), (e - 1.0) / (e + 1.0)));
    }
}
