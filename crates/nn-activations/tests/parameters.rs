//! Parameter validation, the notes' defaults, the documented values at the kinks, and
//! the provided methods of the trait.

use nn_activations::{
    Activation, ActivationError, Builtin, Elu, Mish, PRelu, Relu, Sigmoid, Sign, Silu, Softplus,
    Squareplus, Threshold, from_fn,
};
use nn_math::Matrix;
use proptest::prelude::*;

use crate::common::any_builtin;

#[test]
fn invalid_parameters_are_errors() {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    let cases: Vec<(&str, Result<(), ActivationError>)> = vec![
        ("sigmoid γ = 0", Sigmoid::new(1.0, 0.0).map(drop)),
        ("sigmoid β = NaN", Sigmoid::new(nan, 1.0).map(drop)),
        ("sigmoid γ = ∞", Sigmoid::new(1.0, inf).map(drop)),
        ("silu γ = 0", Silu::new(1.0, 0.0).map(drop)),
        ("softplus β = 0", Softplus::new(0.0, 1.0).map(drop)),
        ("softplus β < 0", Softplus::new(-1.0, 1.0).map(drop)),
        ("softplus γ = 0", Softplus::new(1.0, 0.0).map(drop)),
        ("mish β = 0", Mish::new(0.0).map(drop)),
        ("mish β < 0", Mish::new(-0.5).map(drop)),
        ("elu β < 0", Elu::new(-0.1).map(drop)),
        ("squareplus β < 0", Squareplus::new(-1e-9).map(drop)),
        ("squareplus β = ∞", Squareplus::new(inf).map(drop)),
        ("prelu β = NaN", PRelu::new(nan).map(drop)),
    ];
    for (what, result) in cases {
        assert!(
            matches!(result, Err(ActivationError::InvalidParameter { .. })),
            "{what} was accepted"
        );
    }
    let err = Softplus::new(0.0, 1.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "softplus: beta = 0 is invalid: must be finite and positive, with 1/β finite in the scalar type"
    );
    // Parameters whose derived constants overflow f32, though finite themselves.
    let err = nn_activations::Softplus::<f32>::new(1e-40, 1.0).unwrap_err();
    assert!(err.to_string().contains("1/β finite"), "{err}");
    assert!(nn_activations::Softplus::<f64>::new(1e-40, 1.0).is_ok());
    let err = nn_activations::Sigmoid::<f32>::new(1e20, 1e20).unwrap_err();
    assert!(err.to_string().contains("β·γ finite"), "{err}");
    assert!(nn_activations::Sigmoid::<f64>::new(1e20, 1e20).is_ok());
}

#[test]
fn boundary_values_the_notes_allow_are_accepted() {
    assert!(Elu::new(0.0).is_ok());
    assert!(Squareplus::new(0.0).is_ok());
    assert!(Sigmoid::new(0.0, -2.0).is_ok());
    assert!(PRelu::new(-3.0).is_ok());
}

#[test]
fn defaults_are_the_notes_figures() {
    let params = |n: &str| Builtin::<f64>::from_parts(n, &[]).unwrap().params();
    assert_eq!(params("sigmoid"), vec![("beta", 1.0), ("gamma", 1.0)]);
    assert_eq!(params("silu"), vec![("beta", 1.0), ("gamma", 1.0)]);
    assert_eq!(params("softplus"), vec![("beta", 1.0), ("gamma", 1.0)]);
    assert_eq!(params("prelu"), vec![("beta", 0.01)]);
    assert_eq!(params("elu"), vec![("beta", 1.0)]);
    assert_eq!(params("mish"), vec![("beta", 1.0)]);
    assert_eq!(params("squareplus"), vec![("beta", 1.0)]);
    assert_eq!(Sigmoid::<f32>::default(), Sigmoid::new(1.0, 1.0).unwrap());
    assert_eq!(PRelu::<f32>::default(), PRelu::new(0.01).unwrap());
}

#[test]
fn values_at_the_kinks_are_as_documented() {
    assert_eq!(Relu.df(0.0_f64), 0.0);
    assert_eq!(PRelu::new(0.2).unwrap().df(0.0_f64), 0.2);
    assert_eq!(Elu::new(0.3).unwrap().df(0.0_f64), 0.3);
    assert_eq!(Threshold.f(0.0_f64), 0.0);
    assert_eq!(Threshold.df(0.0_f64), 0.0);
    assert_eq!(Sign.f(0.0_f64), -1.0);
    assert_eq!(Sign.df(0.0_f64), 0.0);
    assert_eq!(Squareplus::new(0.0).unwrap().df(0.0_f64), 0.5);
    assert_eq!(Squareplus::new(0.0).unwrap().f(0.0_f64), 0.0);
}

#[test]
fn from_parts_rejects_unknown_names_and_parameters() {
    let err = Builtin::<f64>::from_parts("gelu", &[]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("unknown activation \"gelu\" (known: identity, threshold")
    );
    let err = Builtin::<f64>::from_parts("relu", &[("beta", 1.0)]).unwrap_err();
    assert_eq!(
        err,
        ActivationError::UnknownParameter {
            activation: "relu",
            param: "beta".into()
        }
    );
    assert!(matches!(
        Builtin::<f64>::from_parts("elu", &[("beta", -1.0)]),
        Err(ActivationError::InvalidParameter {
            activation: "elu",
            ..
        })
    ));
}

#[test]
fn every_name_round_trips() {
    for name in Builtin::<f32>::NAMES {
        let a = Builtin::<f32>::from_parts(name, &[]).unwrap();
        assert_eq!(a.name(), name);
    }
}

proptest! {
    #[test]
    fn builtin_round_trips_through_name_and_params(a in any_builtin()) {
        prop_assert_eq!(Builtin::from_parts(a.name(), &a.params()).unwrap(), a);
    }

    #[test]
    fn slice_and_matrix_versions_agree_with_scalars(a in any_builtin(), xs in prop::collection::vec(-30.0..30.0_f64, 0..40)) {
        let mut f = vec![0.0; xs.len()];
        let mut df = vec![0.0; xs.len()];
        a.f_slice(&xs, &mut f).unwrap();
        a.df_slice(&xs, &mut df).unwrap();
        let mut d = vec![2.0; xs.len()];
        a.mul_df_slice(&xs, &mut d).unwrap();
        let m = Matrix::from_column_slice(xs.len(), 1, &xs);
        let (fm, dfm) = (a.f_matrix(&m), a.df_matrix(&m));
        for (i, &x) in xs.iter().enumerate() {
            prop_assert_eq!(f[i], a.f(x));
            prop_assert_eq!(df[i], a.df(x));
            prop_assert_eq!(d[i], 2.0 * a.df(x));
            prop_assert_eq!(fm[i], a.f(x));
            prop_assert_eq!(dfm[i], a.df(x));
        }
        // Boxed, the same activation keeps its behaviour.
        let boxed: Box<dyn Activation<f64>> = Box::new(a);
        prop_assert_eq!(boxed.name(), a.name());
        let mut fb = vec![0.0; xs.len()];
        boxed.f_slice(&xs, &mut fb).unwrap();
        prop_assert_eq!(fb, f);
    }
}

#[test]
fn slice_length_mismatch_is_an_error_and_writes_nothing() {
    let mut out = [7.0_f32; 2];
    let err = Relu.f_slice(&[1.0, 2.0, 3.0], &mut out).unwrap_err();
    assert_eq!(
        err,
        ActivationError::Length {
            op: "f_slice",
            input: 3,
            output: 2
        }
    );
    assert_eq!(
        err.to_string(),
        "f_slice: input has 3 elements but the output has 2"
    );
    assert_eq!(out, [7.0, 7.0]);
    assert!(Relu.mul_df_slice(&[1.0_f32], &mut out).is_err());
}

#[test]
fn closures_make_an_activation() {
    let square = from_fn("square", |x: f64| x * x, |x: f64| 2.0 * x);
    assert_eq!(square.f(3.0), 9.0);
    assert_eq!(square.df(3.0), 6.0);
    assert_eq!(Activation::<f64>::params(&square), vec![]);
}
