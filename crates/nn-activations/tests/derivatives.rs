//! Every derivative matches the central finite difference of its function, in f64, over
//! x ∈ [−20, 20] and random valid parameters (piecewise functions away from their kink
//! at 0), within relative 1e-6 (absolute 1e-9 near zero).
//!
//! `cargo xtask test` reruns this module with 2,000 cases per function.

use nn_activations::{
    Activation, Builtin, Elu, Identity, Mish, PRelu, Relu, Sigmoid, Sign, Silu, Softplus,
    Squareplus, Tanh, Threshold,
};
use proptest::prelude::*;

use crate::common::{
    any_builtin, beta_any, beta_nonneg, beta_pos, beta_prelu, central_difference, check_activation,
    check_derivative, gamma,
};

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

/// Checks every `∂f/∂θ` of `a` ([`Activation::dparams`]) at `x` against the central
/// difference of `f(x)` in that parameter, the function rebuilt from its name with the
/// parameter moved (`Builtin::from_parts`).
fn check_parameters(a: &Builtin<f64>, x: f64) -> Result<(), TestCaseError> {
    let params = a.params();
    let mut grad = vec![f64::NAN; params.len() + 1];
    a.dparams(x, &mut grad);
    prop_assert!(
        grad[params.len()].is_nan(),
        "dparams wrote past its parameters"
    );
    for (i, &(name, value)) in params.iter().enumerate() {
        let at = |v: f64| {
            let mut moved = params.clone();
            moved[i].1 = v;
            Builtin::from_parts(a.name(), &moved)
                .expect("valid parameters")
                .f(x)
        };
        let fd = central_difference(at, value);
        check_derivative(&format!("∂{}/∂{name} {params:?}", a.name()), x, grad[i], fd)?;
    }
    Ok(())
}

/// `Builtin::from_parts(name, params)`, which must succeed.
fn built(name: &str, params: &[(&str, f64)]) -> Builtin<f64> {
    Builtin::from_parts(name, params).expect("valid parameters")
}

proptest! {
    #[test]
    fn sigmoid_parameters(x in x(), beta in beta_any(), gamma in gamma()) {
        check_parameters(&built("sigmoid", &[("beta", beta), ("gamma", gamma)]), x)?;
    }

    #[test]
    fn prelu_parameter(x in x_off_kink(), beta in beta_prelu()) {
        check_parameters(&built("prelu", &[("beta", beta)]), x)?;
    }

    #[test]
    fn silu_parameters(x in x(), beta in beta_any(), gamma in gamma()) {
        check_parameters(&built("silu", &[("beta", beta), ("gamma", gamma)]), x)?;
    }

    #[test]
    fn elu_parameter(x in x_off_kink(), beta in 0.01..4.0_f64) {
        check_parameters(&built("elu", &[("beta", beta)]), x)?;
    }

    #[test]
    fn softplus_parameters(x in x(), beta in beta_pos(), gamma in gamma()) {
        check_parameters(&built("softplus", &[("beta", beta), ("gamma", gamma)]), x)?;
    }

    #[test]
    fn mish_parameter(x in x(), beta in beta_pos()) {
        check_parameters(&built("mish", &[("beta", beta)]), x)?;
    }

    #[test]
    fn squareplus_parameter(x in x(), beta in 0.1..4.0_f64) {
        check_parameters(&built("squareplus", &[("beta", beta)]), x)?;
    }

    #[test]
    fn functions_without_parameters_write_nothing(a in any_builtin(), x in x()) {
        if a.params().is_empty() {
            let mut grad = [f64::NAN];
            a.dparams(x, &mut grad);
            prop_assert!(grad[0].is_nan());
        }
    }
}
