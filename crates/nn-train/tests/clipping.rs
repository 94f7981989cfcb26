//! Gradient clipping by global norm: the norm it leaves, the direction it keeps, the
//! trainer's use of it, and bad settings.

use nn_activations::{Identity, Tanh};
use nn_core::{Network, SoftmaxCrossEntropy, Steps};
use nn_math::Matrix;
use nn_train::{Dataset, Momentum, Sgd, Trainer, TrainerConfig, clip_by_global_norm};
use proptest::prelude::*;
use rand::{SeedableRng, rngs::StdRng};

fn params(net: &Network<f64>) -> Vec<f64> {
    let mut v = Vec::new();
    net.visit_params(|_, x| v.extend_from_slice(x));
    v
}

fn grad_values(g: &nn_core::Gradient<f64>) -> Vec<f64> {
    g.layers()
        .iter()
        .flat_map(|l| l.tensors())
        .flat_map(|t| t.iter().copied())
        .collect()
}

proptest! {
    #[test]
    fn clipping_leaves_the_bound_and_keeps_the_direction(
        values in prop::collection::vec(-10.0..10.0_f64, 13), bound in 0.01..20.0_f64,
    ) {
        let net = Network::<f64>::builder(2).layer(3, Tanh).layer(1, Identity)
            .build(&mut StdRng::seed_from_u64(1)).unwrap();
        let mut g = net.gradient();
        let mut it = values.iter().copied();
        for l in g.layers_mut() {
            for t in l.tensors_mut() {
                t.iter_mut().for_each(|v| *v = it.next().unwrap());
            }
        }
        let before = grad_values(&g);
        let norm = clip_by_global_norm(&mut g, bound);
        let expected = before.iter().map(|v| v * v).sum::<f64>().sqrt();
        prop_assert!((norm - expected).abs() <= 1e-12 * expected);
        let after = grad_values(&g);
        let after_norm = after.iter().map(|v| v * v).sum::<f64>().sqrt();
        if expected > bound {
            prop_assert!((after_norm - bound).abs() <= 1e-12 * bound, "{after_norm} vs {bound}");
            for (a, b) in after.iter().zip(&before) {
                prop_assert!((a - b * bound / expected).abs() <= 1e-12 * b.abs().max(1e-300));
            }
        } else {
            prop_assert_eq!(after, before);
        }
    }
}

fn sequences(n: usize) -> Dataset<f64> {
    let mut rng = StdRng::seed_from_u64(3);
    use rand::RngExt;
    let x = Matrix::from_fn(12, n, |_, _| rng.random_range(-1.0..1.0));
    let y = Matrix::from_fn(2, n, |i, j| {
        if i == usize::from(x[(0, j)] > 0.0) {
            1.0
        } else {
            0.0
        }
    });
    Dataset::new(x, y).unwrap()
}

fn rnn() -> Network<f64> {
    Network::builder(12)
        .sequence(4, 3)
        .elman(6, Tanh, Steps::Last)
        .layer(2, Identity)
        .build(&mut StdRng::seed_from_u64(5))
        .unwrap()
}

fn config(
    clip: Option<f64>,
    optimizer: Box<dyn nn_train::Optimizer<f64>>,
    lr: f64,
) -> TrainerConfig<f64> {
    TrainerConfig {
        epochs: 1,
        batch_size: 16,
        shuffle: false,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer,
        schedule: Box::new(lr),
        clip_norm: clip,
        ..TrainerConfig::default()
    }
}

#[test]
fn a_clipped_sgd_step_has_the_clipped_length() {
    let data = sequences(16); // one batch
    let mut net = rnn();
    let before = params(&net);
    Trainer::new(config(Some(1e-3), Box::new(Sgd), 0.5))
        .unwrap()
        .fit(&mut net, &data, None)
        .unwrap();
    let step: f64 = params(&net)
        .iter()
        .zip(&before)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    assert!((step - 0.5 * 1e-3).abs() < 1e-12, "step {step}");
}

#[test]
fn a_bound_never_reached_changes_nothing() {
    let data = sequences(64);
    let mut runs = Vec::new();
    for clip in [None, Some(1e300)] {
        let mut net = rnn();
        let optimizer = Box::new(Momentum {
            momentum: 0.9,
            nesterov: false,
        });
        Trainer::new(config(clip, optimizer, 0.1))
            .unwrap()
            .fit(&mut net, &data, None)
            .unwrap();
        runs.push(params(&net));
    }
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn bad_bounds_are_refused_naming_the_setting() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = Trainer::new(config(Some(bad), Box::new(Sgd), 0.1))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("clip_norm") && e.contains("positive and finite"),
            "{e}"
        );
    }
}
