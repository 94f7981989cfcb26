//! Initialization: reproducible from the seed, the documented defaults, sensible scales.

use nn_activations::{Identity, Relu, Sigmoid, Tanh};
use nn_core::{Init, Network};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn build(init: Init, width: usize, seed: u64) -> Network<f64> {
    Network::builder(400)
        .layer(width, Relu)
        .layer(10, Tanh)
        .init(init)
        .build(&mut StdRng::seed_from_u64(seed))
        .unwrap()
}

fn variance(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n
}

#[test]
fn the_same_seed_gives_the_same_network_and_another_seed_another() {
    for init in [
        Init::Auto,
        Init::XavierNormal,
        Init::HeUniform,
        Init::Uniform {
            low: -0.5,
            high: 0.5,
        },
    ] {
        assert_eq!(build(init, 50, 9), build(init, 50, 9));
        assert_ne!(build(init, 50, 9), build(init, 50, 10));
    }
}

#[test]
fn variances_follow_the_documented_formulas() {
    // 400 inputs, 200 neurons: 80,000 weights, so the sample variance is within ~1 %.
    let cases = [
        (Init::HeNormal, 2.0 / 400.0),
        (Init::HeUniform, 2.0 / 400.0), // U(±√(6/n_in)) has variance 2/n_in
        (Init::XavierNormal, 2.0 / 600.0),
        (Init::XavierUniform, 2.0 / 600.0), // U(±√(6/(n_in+n_out))) has variance 2/(n_in+n_out)
        (
            Init::Uniform {
                low: -1.0,
                high: 1.0,
            },
            1.0 / 3.0,
        ),
    ];
    for (init, expected) in cases {
        let net = build(init, 200, 1);
        let v = variance(net.dense(0).unwrap().weight_slice());
        assert!(
            (v / expected - 1.0).abs() < 0.05,
            "{init:?}: variance {v}, expected {expected}"
        );
    }
}

#[test]
fn auto_uses_he_for_relu_layers_and_xavier_otherwise_with_zero_biases() {
    let auto = build(Init::Auto, 200, 4);
    let he = build(Init::HeNormal, 200, 4);
    assert_eq!(
        auto.dense(0).unwrap().weight(),
        he.dense(0).unwrap().weight()
    );
    assert!(auto.dense(0).unwrap().bias().iter().all(|&b| b == 0.0));
    // The second (tanh) layer is Xavier-uniform: bounded by √(6/(200+10)).
    let limit = (6.0_f64 / 210.0).sqrt();
    assert!(
        auto.dense(1)
            .unwrap()
            .weight()
            .iter()
            .all(|w| w.abs() <= limit)
    );
    // The notes' uniform initialization draws the biases too (Algorithm 2).
    let uniform = Network::<f64>::builder(3)
        .layer(4, Sigmoid::default())
        .layer(1, Identity)
        .init(Init::Uniform {
            low: -1.0,
            high: 1.0,
        })
        .build(&mut StdRng::seed_from_u64(2))
        .unwrap();
    assert!(uniform.dense(0).unwrap().bias().iter().any(|&b| b != 0.0));
}
