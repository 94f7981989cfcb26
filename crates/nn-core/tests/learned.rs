//! Activation parameters learned along with the weights (§2.1.1): gradients against
//! central differences over random networks mixing fixed, shared and per-neuron
//! learnable β and γ (1–3 threads, dropout); names in the visitor; the domains kept by
//! projection; model files; and clear errors.

use std::sync::Arc;

use nn_activations::{
    Activation, ActivationError, Elu, Identity, PRelu, Relu, SharedActivation, Sigmoid, Silu,
    Softplus, Tanh, from_fn,
};
use nn_core::gradcheck::{NetworkCheck, check_network};
use nn_core::{
    Dense, Dropout, HalfSquaredError, Init, Network, NeuronActivation, ParamKind, Sharing,
};
use nn_math::{Matrix, Vector};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::{inputs, real_targets};

/// A user's function with learnable parameters: `γ·tanh(β·x)`, with γ kept at least
/// 10⁻³ away from 0 by its projection.
#[derive(Clone, Copy, Debug)]
struct ScaledTanh {
    beta: f64,
    gamma: f64,
}

impl Activation<f64> for ScaledTanh {
    fn f(&self, x: f64) -> f64 {
        self.gamma * (self.beta * x).tanh()
    }
    fn df(&self, x: f64) -> f64 {
        let t = (self.beta * x).tanh();
        self.gamma * self.beta * (1.0 - t * t)
    }
    fn name(&self) -> &str {
        "scaled_tanh"
    }
    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![("beta", self.beta), ("gamma", self.gamma)]
    }
    /// `∂f/∂β = γ·x·(1 − t²)`, `∂f/∂γ = t`, with `t = tanh(β·x)`.
    fn dparams(&self, x: f64, grad: &mut [f64]) {
        let t = (self.beta * x).tanh();
        grad[0] = self.gamma * x * (1.0 - t * t);
        grad[1] = t;
    }
    fn with_params(&self, v: &[f64]) -> Option<Result<SharedActivation<f64>, ActivationError>> {
        Some(if v[1] == 0.0 || !v.iter().all(|x| x.is_finite()) {
            Err(ActivationError::InvalidParameter {
                activation: "scaled_tanh",
                param: "gamma",
                value: v[1],
                requirement: "must be finite and non-zero",
            })
        } else {
            Ok(Arc::new(ScaledTanh {
                beta: v[0],
                gamma: v[1],
            }))
        })
    }
    fn project_param(&self, index: usize, value: f64) -> f64 {
        if index == 1 && value.abs() < 1e-3 {
            1e-3_f64.copysign(value)
        } else {
            value
        }
    }
}

fn scaled_tanh(beta: f64, gamma: f64) -> NeuronActivation<f64> {
    NeuronActivation::custom(ScaledTanh { beta, gamma })
}

/// A smooth function with parameters, and which of them to learn.
fn learnable() -> impl Strategy<Value = (NeuronActivation<f64>, Vec<&'static str>)> {
    let b = |name: &str, p: Vec<(&str, f64)>| {
        NeuronActivation::Builtin(nn_activations::Builtin::from_parts(name, &p).unwrap())
    };
    let p = || 0.5..2.0_f64;
    prop_oneof![
        (p(), p(), 0..3usize)
            .prop_map(move |(be, g, w)| (b("sigmoid", vec![("beta", be), ("gamma", g)]), which(w))),
        (p(), p(), 0..3usize)
            .prop_map(move |(be, g, w)| (b("silu", vec![("beta", be), ("gamma", g)]), which(w))),
        (p(), p(), 0..3usize).prop_map(move |(be, g, w)| (
            b("softplus", vec![("beta", be), ("gamma", g)]),
            which(w)
        )),
        p().prop_map(move |be| (b("mish", vec![("beta", be)]), vec!["beta"])),
        p().prop_map(move |be| (b("squareplus", vec![("beta", be)]), vec!["beta"])),
        (p(), p(), 0..3usize).prop_map(|(be, g, w)| (scaled_tanh(be, g), which(w))),
    ]
}

fn which(w: usize) -> Vec<&'static str> {
    match w {
        0 => vec!["beta"],
        1 => vec!["gamma"],
        _ => vec!["beta", "gamma"],
    }
}

/// A network of 1–3 hidden layers, each fixed or learning (shared or per neuron), and an
/// output of two neurons, identity or learning, weights in [−0.5, 0.5), with a batch of
/// 1–4 (`batches`).
pub fn network_and_batch_of(
    batches: std::ops::Range<usize>,
) -> impl Strategy<Value = (Network<f64>, Matrix<f64>, Matrix<f64>)> {
    (
        1usize..5,
        prop::collection::vec((1usize..6, learnable(), 0..3usize), 1..4),
        prop::option::of((learnable(), 1..3usize)),
        batches,
        any::<u64>(),
    )
        .prop_flat_map(|(n_in, hidden, output, b, seed)| {
            let mut builder = Network::builder(n_in).init(Init::Uniform {
                low: -0.5,
                high: 0.5,
            });
            for (w, (f, names), how) in &hidden {
                builder = builder.layer(*w, f.clone());
                builder = match how {
                    0 => builder,
                    1 => builder.learn(names, Sharing::Shared),
                    _ => builder.learn(names, Sharing::PerNeuron),
                };
            }
            let builder = match output {
                None => builder.layer(2, Identity),
                Some(((f, names), 1)) => builder.layer(2, f).learn(&names, Sharing::Shared),
                Some(((f, names), _)) => builder.layer(2, f).learn(&names, Sharing::PerNeuron),
            };
            let net = builder.build(&mut StdRng::seed_from_u64(seed)).unwrap();
            (Just(net), inputs(n_in, b), real_targets(2, b))
        })
}

proptest! {
    #[test]
    fn learned_parameters_pass_the_gradient_check(
        (net, x, y) in network_and_batch_of(1..5),
        threads in 1usize..=3,
        rate in prop::option::of(0.0..0.5_f64),
        seed in any::<u64>(),
    ) {
        let dropout = rate.map(|r| (Dropout::new(vec![r; net.n_layers()]).unwrap(), seed));
        let options = NetworkCheck { threads, dropout, ..NetworkCheck::default() };
        let report = check_network(&net, &x, &y, &HalfSquaredError, &options).unwrap();
        prop_assert!(report.max_error < 1e-6, "{report}");
        prop_assert_eq!(report.checked, net.n_params());
    }
}

#[test]
fn learned_parameters_have_names_and_kinds_of_their_own() {
    let net = Network::<f64>::builder(3)
        .layer(4, Silu::default())
        .learn(&["beta", "gamma"], Sharing::PerNeuron)
        .layer(2, PRelu::default())
        .learn(&["beta"], Sharing::Shared)
        .layer(1, Identity)
        .build(&mut StdRng::seed_from_u64(2))
        .unwrap();
    let names: Vec<(String, ParamKind, usize)> = net
        .param_specs()
        .into_iter()
        .map(|(id, spec)| (id.path(), id.kind, spec.len()))
        .collect();
    assert_eq!(
        names,
        [
            ("layers.0.weight".into(), ParamKind::Weight, 12),
            ("layers.0.bias".into(), ParamKind::Bias, 4),
            ("layers.0.activation.beta".into(), ParamKind::Other, 4),
            ("layers.0.activation.gamma".into(), ParamKind::Other, 4),
            ("layers.1.weight".into(), ParamKind::Weight, 8),
            ("layers.1.bias".into(), ParamKind::Bias, 2),
            ("layers.1.activation.beta".into(), ParamKind::Other, 1),
            ("layers.2.weight".into(), ParamKind::Weight, 2),
            ("layers.2.bias".into(), ParamKind::Bias, 1),
        ]
    );
    assert!(
        net.dense_layers().is_some(),
        "learning dense layers run on the engine"
    );
}

#[test]
fn an_update_that_leaves_the_domain_is_projected_back() {
    let layer = |f: NeuronActivation<f64>, names: &[&str]| {
        Dense::new(Matrix::from_element(1, 1, 1.0), Vector::zeros(1), f)
            .unwrap()
            .learn(names, Sharing::Shared)
            .unwrap()
    };
    let mut net = Network::from_layers(
        1,
        vec![
            layer(Elu::default().into(), &["beta"]),
            layer(Softplus::default().into(), &["beta", "gamma"]),
        ],
    )
    .unwrap();
    let mut grad = net.gradient();
    // A step of +10 on every learned value: ELU's β and softplus' β and γ go negative.
    for g in grad.layers_mut() {
        for (t, name) in g.tensors_mut().iter_mut().zip([
            "weight",
            "bias",
            "activation.beta",
            "activation.gamma",
        ]) {
            if name.starts_with("activation") {
                t.fill(10.0);
            }
        }
    }
    net.apply_gradient(&grad, 1.0).unwrap();
    let mut values = Vec::new();
    net.visit_params(|id, v| {
        if id.kind == ParamKind::Other {
            values.push((id.path(), v[0]))
        }
    });
    assert_eq!(
        values,
        [
            ("layers.0.activation.beta".to_string(), 0.0),  // β ≥ 0
            ("layers.1.activation.beta".to_string(), 1e-6), // β > 0
            ("layers.1.activation.gamma".to_string(), -9.0), // γ ≠ 0: −9 is fine
        ]
    );
    // And the network still evaluates.
    assert!(
        net.evaluate(&Matrix::from_element(1, 2, 0.5))
            .unwrap()
            .iter()
            .all(|v| v.is_finite())
    );
}

#[test]
fn learning_a_parameter_a_function_lacks_is_an_error() {
    let err = Network::<f64>::builder(2)
        .layer(3, Relu)
        .learn(&["beta"], Sharing::Shared)
        .build(&mut StdRng::seed_from_u64(0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid architecture: layer 0: invalid architecture: relu has no parameter \"beta\" to learn (it has [])"
    );
    let dense =
        || Dense::<f64>::new(Matrix::zeros(2, 2), Vector::zeros(2), Sigmoid::default()).unwrap();
    assert!(dense().learn(&["delta"], Sharing::Shared).is_err());
    assert!(dense().learn(&[], Sharing::Shared).is_err());
    assert!(dense().learn(&["beta", "beta"], Sharing::Shared).is_err());
    let per_neuron: Vec<NeuronActivation<f64>> = vec![Tanh.into(), Sigmoid::default().into()];
    let mixed = Dense::new(Matrix::zeros(2, 2), Vector::zeros(2), per_neuron).unwrap();
    assert!(mixed.learn(&["beta"], Sharing::PerNeuron).is_err());
    // An initial value outside the domain is refused by the function's constructor.
    assert!(Elu::<f64>::new(-1.0).is_err());
}

#[test]
fn learned_parameters_round_trip_through_model_files_and_bad_values_are_refused() {
    let mut net = Network::<f64>::builder(2)
        .layer(3, Elu::default())
        .learn(&["beta"], Sharing::PerNeuron)
        .layer(1, Identity)
        .build(&mut StdRng::seed_from_u64(4))
        .unwrap();
    net.layer_mut(0).unwrap().visit_params_mut(&mut |spec, v| {
        if spec.name == "activation.beta" {
            v.copy_from_slice(&[0.5, 1.5, 2.5]);
        }
    });
    let bytes = net.to_safetensors().unwrap();
    let back = Network::<f64>::from_safetensors(&bytes).unwrap();
    assert_eq!(back, net);
    let x = Matrix::from_fn(2, 3, |i, j| i as f64 - j as f64);
    assert_eq!(back.evaluate(&x).unwrap(), net.evaluate(&x).unwrap());

    // The same file with an ELU β of −1: refused, naming the layer.
    net.layer_mut(0).unwrap().visit_params_mut(&mut |spec, v| {
        if spec.name == "activation.beta" {
            v[1] = -1.0;
        }
    });
    let err = Network::<f64>::from_safetensors(&net.to_safetensors().unwrap()).unwrap_err();
    assert!(err.to_string().contains("layer 0"), "{err}");
    assert!(err.to_string().contains("beta"), "{err}");
}

#[test]
fn a_users_function_learns_its_parameters_and_round_trips() {
    let mut net = Network::<f64>::builder(3)
        .layer(4, scaled_tanh(1.0, 1.0))
        .learn(&["beta", "gamma"], Sharing::PerNeuron)
        .layer(1, Identity)
        .build(&mut StdRng::seed_from_u64(2))
        .unwrap();
    let names: Vec<String> = net.param_specs().iter().map(|(id, _)| id.path()).collect();
    assert!(
        names.contains(&"layers.0.activation.gamma".to_owned()),
        "{names:?}"
    );
    // Plain gradient descent moves them; a step towards γ = 0 is projected back.
    let x = Matrix::from_fn(3, 8, |i, j| (i as f64 - j as f64) / 4.0);
    let y = Matrix::from_fn(1, 8, |_, j| (j as f64 / 3.0).sin());
    let (mut ws, mut grad) = (net.workspace(), net.gradient());
    for _ in 0..20 {
        net.clear_gradient(&mut grad).unwrap();
        net.evaluate_with(&x, &mut ws).unwrap();
        net.adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut grad)
            .unwrap();
        net.apply_gradient(&grad, 0.5).unwrap();
    }
    let mut gammas = Vec::new();
    net.visit_params(|id, v| {
        if id.path().ends_with("gamma") {
            gammas.extend_from_slice(v);
        }
    });
    assert!(gammas.iter().any(|&g| g != 1.0), "γ moved: {gammas:?}");
    net.layer_mut(0).unwrap().visit_params_mut(&mut |spec, v| {
        if spec.name == "activation.gamma" {
            v[0] = 1e-9;
        }
    });
    net.constrain_params();
    net.visit_params(|id, v| {
        if id.path().ends_with("gamma") {
            assert_eq!(v[0], 1e-3);
        }
    });
    // A model file stores the learned values; a resolver rebuilds the function.
    let resolve = |name: &str, p: &[(&str, f64)]| {
        (name == "scaled_tanh").then(|| scaled_tanh(p[0].1, p[1].1))
    };
    let bytes = net.to_safetensors().unwrap();
    let back = Network::<f64>::from_safetensors_with(&bytes, &resolve).unwrap();
    assert_eq!(back.evaluate(&x).unwrap(), net.evaluate(&x).unwrap());
    // A function that cannot set its parameters cannot learn them.
    let fixed = NeuronActivation::custom(from_fn("cube", |x: f64| x * x * x, |x: f64| 3.0 * x * x));
    let err = Network::<f64>::builder(2)
        .layer(2, fixed)
        .learn(&["beta"], Sharing::Shared)
        .build(&mut StdRng::seed_from_u64(0))
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot set its parameters"),
        "{err}"
    );
}
