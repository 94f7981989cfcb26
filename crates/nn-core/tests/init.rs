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

/// Every parameter tensor of `net` by its full name.
fn tensors(net: &Network<f64>) -> Vec<(String, Vec<f64>)> {
    let mut out = Vec::new();
    net.visit_params(|id, values| out.push((id.path(), values.to_vec())));
    out
}

#[test]
fn pytorch_init_draws_weights_and_biases_within_one_over_root_fan_in() {
    use nn_core::{Conv, Steps};
    let net = Network::<f64>::builder(3 * 8 * 8)
        .image(3, 8, 8)
        .conv(Conv::new(6, 3), Relu)
        .layer(200, Tanh)
        .layer(10, Identity)
        .init(Init::PyTorch)
        .build(&mut StdRng::seed_from_u64(5))
        .unwrap();
    // nn.Conv2d: fan-in 3·3·3 = 27; nn.Linear: 6·6·6 = 216, then 200.
    let limits = [27.0, 27.0, 216.0, 216.0, 200.0, 200.0].map(|f: f64| 1.0 / f.sqrt());
    let all = tensors(&net);
    assert_eq!(all.len(), limits.len());
    for ((name, values), limit) in all.iter().zip(limits) {
        assert!(values.iter().all(|v| v.abs() <= limit), "{name}");
        if values.len() >= 200 {
            // Uniform on ±limit: variance limit²/3, and the extremes reached.
            let ratio = variance(values) / (limit * limit / 3.0);
            assert!((ratio - 1.0).abs() < 0.15, "{name}: variance ratio {ratio}");
            let max = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(max > 0.95 * limit, "{name}: largest {max} of {limit}");
        }
    }
    // nn.LSTM: ±1/√n_h for all four tensors, whatever the input size.
    let lstm = Network::<f64>::builder(50 * 40)
        .sequence(50, 40)
        .lstm(25, Steps::Last)
        .init(Init::PyTorch)
        .build(&mut StdRng::seed_from_u64(5))
        .unwrap();
    for (name, values) in tensors(&lstm) {
        let max = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            max <= 0.2 && max > 0.19,
            "{name}: largest {max}, limit 1/√25"
        );
    }
}

#[test]
fn a_layer_init_overrides_the_network_init_for_that_layer_only() {
    let tiny = Init::Uniform {
        low: -1e-3,
        high: 1e-3,
    };
    let net = Network::<f64>::builder(400)
        .layer(50, Relu)
        .layer(10, Tanh)
        .layer_init(tiny)
        .init(Init::HeNormal)
        .build(&mut StdRng::seed_from_u64(1))
        .unwrap();
    let all = tensors(&net);
    assert!(all[0].1.iter().any(|w| w.abs() > 1e-2), "layer 0 keeps He");
    assert!(all[2].1.iter().chain(&all[3].1).all(|w| w.abs() < 1e-3));
    // A pooling layer has nothing to initialize; an invalid range is refused.
    let pool = Network::<f64>::builder(16)
        .image(1, 4, 4)
        .max_pool(2)
        .layer_init(tiny)
        .layer(2, Identity)
        .build(&mut StdRng::seed_from_u64(1));
    assert!(pool.unwrap_err().to_string().contains("layer 0"));
    let bad = Network::<f64>::builder(4)
        .layer(2, Identity)
        .layer_init(Init::Uniform {
            low: 1.0,
            high: 1.0,
        })
        .build(&mut StdRng::seed_from_u64(1));
    assert!(bad.is_err());
}
