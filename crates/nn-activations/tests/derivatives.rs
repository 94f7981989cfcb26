//! Every derivative matches the central finite difference of its function, in f64, over
//! x ∈ [−20, 20] and random valid parameters (piecewise functions away from their kink
//! at 0), within relative 1e-6 (absolute 1e-9 near zero).
//!
//! `cargo xtask test` reruns this module with 2,000 cases per function.

use nn_activations::{
    Elu, Identity, Mish, PRelu, Relu, Sigmoid, Sign, Silu, Softplus, Squareplus, Tanh, Threshold,
};
use proptest::prelude::*;

use crate::common::{beta_any, beta_nonneg, beta_pos, beta_prelu, check_activation, gamma};

/// Inputs for smooth functions.
fn x() -> impl Strategy<Value = f64> {
    -20.0..20.0_f64
}

/// Inputs for functions with a kink at 0: the stencil (±2h) must not straddle it.
fn x_off_kink() -> impl Strategy<Value = f64> {
    prop_oneof![-20.0..-0.01_f64, 0.01..20.0_f64]
}

proptest! {
    #[test]
    fn identity(x in x()) {
        check_activation(&Identity, x)?;
    }

    #[test]
    fn threshold(x in x_off_kink()) {
        check_activation(&Threshold, x)?;
    }

    #[test]
    fn sign(x in x_off_kink()) {
        check_activation(&Sign, x)?;
    }

    #[test]
    fn sigmoid(x in x(), beta in beta_any(), gamma in gamma()) {
        check_activation(&Sigmoid::new(beta, gamma).unwrap(), x)?;
    }

    #[test]
    fn tanh(x in x()) {
        check_activation(&Tanh, x)?;
    }

    #[test]
    fn relu(x in x_off_kink()) {
        check_activation(&Relu, x)?;
    }

    #[test]
    fn prelu(x in x_off_kink(), beta in beta_prelu()) {
        check_activation(&PRelu::new(beta).unwrap(), x)?;
    }

    #[test]
    fn silu(x in x(), beta in beta_any(), gamma in gamma()) {
        check_activation(&Silu::new(beta, gamma).unwrap(), x)?;
    }

    #[test]
    fn elu(x in x_off_kink(), beta in beta_nonneg()) {
        check_activation(&Elu::new(beta).unwrap(), x)?;
    }

    #[test]
    fn softplus(x in x(), beta in beta_pos(), gamma in gamma()) {
        check_activation(&Softplus::new(beta, gamma).unwrap(), x)?;
    }

    #[test]
    fn mish(x in x(), beta in beta_pos()) {
        check_activation(&Mish::new(beta).unwrap(), x)?;
    }

    #[test]
    fn squareplus_smooth(x in x(), beta in 0.1..4.0_f64) {
        check_activation(&Squareplus::new(beta).unwrap(), x)?;
    }

    #[test]
    fn squareplus_zero_beta_off_kink(x in x_off_kink()) {
        check_activation(&Squareplus::new(0.0).unwrap(), x)?;
    }
}
