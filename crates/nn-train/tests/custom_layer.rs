//! A user's own layer, written outside the crates (the `custom_layer` example's layer
//! normalization): its gradient against finite differences through the gradient-check
//! API, training by the `Trainer` with Adam (and SGD's fused path) on any thread count,
//! exact resumption from a checkpoint, and model files.

#[path = "../examples/custom_layer/layer_norm.rs"]
mod layer_norm;

use layer_norm::LayerNorm;
use nn_activations::{Identity, Tanh};
use nn_core::gradcheck::{NetworkCheck, check_layer, check_network};
use nn_core::{CoreError, Dropout, Layer, LayerRecord, Network, SoftmaxCrossEntropy};
use nn_math::Matrix;
use nn_train::{Adam, L2, Sgd, TrainError, Trainer, TrainerConfig};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::blobs;

/// 2 → 8 (tanh) → layer norm → 3, from a seed.
fn normalized(seed: u64) -> Network<f64> {
    let dense = Network::<f64>::builder(2)
        .layer(8, Tanh)
        .layer(3, Identity)
        .build(&mut StdRng::seed_from_u64(seed))
        .unwrap();
    let layers: Vec<Box<dyn Layer<f64>>> = vec![
        Box::new(dense.dense(0).unwrap().clone()),
        Box::new(LayerNorm::new(8, 1e-5).unwrap()),
        Box::new(dense.dense(1).unwrap().clone()),
    ];
    Network::from_any_layers(2, layers).unwrap()
}

fn resolve(r: &LayerRecord<'_>) -> Option<Result<Box<dyn Layer<f64>>, CoreError>> {
    (r.kind == "layer_norm")
        .then(|| LayerNorm::from_record(r).map(|l| Box::new(l) as Box<dyn Layer<f64>>))
}

fn config(epochs: usize, threads: usize) -> TrainerConfig<f64> {
    TrainerConfig {
        epochs,
        batch_size: 8,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer: Box::new(Adam::default()),
        schedule: Box::new(0.01),
        dropout: Some(Dropout::new(vec![0.1, 0.2, 0.0]).unwrap()),
        regularizer: Some(Box::new(L2::new(1e-3))),
        seed: 5,
        threads,
        ..TrainerConfig::default()
    }
}

proptest! {
    #[test]
    fn layer_norm_passes_the_gradient_check(
        (n, b, values) in (1usize..8, 1usize..5).prop_flat_map(|(n, b)| {
            (Just(n), Just(b), prop::collection::vec(-2.0..2.0_f64, n * b + 2 * n))
        }),
    ) {
        let mut layer = LayerNorm::new(n, 1e-5).unwrap();
        let mut at = n * b;
        layer.visit_params_mut(&mut |_, v| {
            v.copy_from_slice(&values[at..at + v.len()]);
            at += v.len();
        });
        let x = Matrix::from_column_slice(n, b, &values[..n * b]);
        let report = check_layer(&layer, &x, 1e-6).unwrap();
        prop_assert!(report.max_error < 1e-6, "{report}");
    }
}

#[test]
fn a_network_with_layer_norm_passes_the_gradient_check() {
    let net = normalized(3);
    let x = Matrix::from_fn(2, 6, |i, j| ((i * 6 + j) as f64).sin());
    let y = Matrix::from_fn(3, 6, |i, j| if i == j % 3 { 1.0 } else { 0.0 });
    for threads in [1, 2] {
        let options = NetworkCheck {
            threads,
            ..NetworkCheck::default()
        };
        let report = check_network(&net, &x, &y, &SoftmaxCrossEntropy, &options).unwrap();
        assert!(report.max_error < 1e-6, "{report}");
    }
}

#[test]
fn the_trainer_trains_a_users_layer_alike_on_any_thread_count_and_the_same_on_the_same() {
    let data = blobs(20, 1);
    let mut runs = Vec::new();
    for threads in [1, 2, 2] {
        let mut net = normalized(4);
        let history = Trainer::new(config(8, threads))
            .unwrap()
            .fit(&mut net, &data, None)
            .unwrap();
        let losses: Vec<f64> = history.epochs.iter().map(|e| e.train_loss).collect();
        assert!(losses[7] < 0.5 * losses[0], "{losses:?}");
        runs.push((net, losses));
    }
    // Two threads split each batch by examples and add their gradients: the same bits on
    // every run, and the one-thread results up to the order of those sums.
    assert_eq!(runs[1], runs[2]);
    let params = |net: &nn_core::Network<f64>| {
        let mut v = Vec::new();
        net.visit_params(|_, x| v.extend_from_slice(x));
        v
    };
    for (a, b) in params(&runs[0].0).iter().zip(params(&runs[1].0)) {
        assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{a} vs {b}");
    }
    for (a, b) in runs[0].1.iter().zip(&runs[1].1) {
        assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{a} vs {b}");
    }
    // Plain SGD takes the fused path of dense networks; here the reference one.
    let mut net = normalized(4);
    let sgd = TrainerConfig {
        optimizer: Box::new(Sgd),
        regularizer: None,
        ..config(8, 1)
    };
    let history = Trainer::new(sgd)
        .unwrap()
        .fit(&mut net, &data, None)
        .unwrap();
    assert!(history.epochs[7].train_loss < history.epochs[0].train_loss);
}

#[test]
fn a_users_layer_resumes_exactly_and_checks_its_parameter_names() {
    let data = blobs(20, 2);
    let mut straight = normalized(6);
    Trainer::new(config(5, 1))
        .unwrap()
        .fit(&mut straight, &data, None)
        .unwrap();

    let mut net = normalized(6);
    let mut first = Trainer::new(config(3, 1)).unwrap();
    first.fit(&mut net, &data, None).unwrap();
    let bytes = first.checkpoint_bytes(&net).unwrap();
    let mut second = Trainer::new(config(5, 1)).unwrap();
    assert!(
        second.resume_from_bytes(&bytes).is_err(),
        "no resolver for layer_norm"
    );
    let mut resumed = second
        .resume_from_bytes_resolving(&bytes, &|_, _| None, &resolve)
        .unwrap();
    second.fit(&mut resumed, &data, None).unwrap();
    assert_eq!(resumed, straight);

    // The optimizer state of another network's parameters is refused by name.
    let plain = crate::common::classifier(1);
    let other = Trainer::new(TrainerConfig {
        dropout: None,
        ..config(1, 1)
    })
    .unwrap();
    let mut trained = plain.clone();
    let mut t = other;
    t.fit(&mut trained, &data, None).unwrap();
    let foreign = t.checkpoint_bytes(&trained).unwrap();
    let foreign = relabel(&foreign, &net);
    let err = Trainer::new(TrainerConfig {
        dropout: None,
        ..config(1, 1)
    })
    .unwrap()
    .resume_from_bytes_resolving(&foreign, &|_, _| None, &resolve)
    .unwrap_err();
    assert!(
        matches!(&err, TrainError::Checkpoint(m) if m.contains("layers.1.gamma")),
        "{err}"
    );
}

/// A checkpoint of one network whose model part is replaced by `net`'s: the trainer's
/// state then names parameters that `net` does not have.
fn relabel(checkpoint: &[u8], net: &Network<f64>) -> Vec<u8> {
    let extras = nn_core::read_extras::<f64>(checkpoint, "").unwrap();
    let extras = nn_core::Extras {
        tensors: extras
            .tensors
            .into_iter()
            .filter(|(n, _)| !n.starts_with("layers."))
            .collect(),
        metadata: extras
            .metadata
            .into_iter()
            .filter(|(k, _)| k.starts_with("trainer."))
            .collect(),
    };
    net.to_safetensors_with(&extras).unwrap()
}

#[test]
fn a_network_with_a_users_layer_round_trips_through_a_file() {
    let mut net = normalized(9);
    Trainer::new(config(2, 1))
        .unwrap()
        .fit(&mut net, &blobs(10, 3), None)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("nn-custom-layer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.safetensors");
    net.save(&path).unwrap();
    let back = Network::load_resolving(&path, &|_, _| None, &resolve).unwrap();
    assert_eq!(back, net);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A 2 → 8 (SiLU, β and γ learned per neuron) → 3 classifier.
fn learning(seed: u64) -> Network<f64> {
    Network::<f64>::builder(2)
        .layer(8, nn_activations::Silu::default())
        .learn(&["beta", "gamma"], nn_core::Sharing::PerNeuron)
        .layer(3, Identity)
        .build(&mut StdRng::seed_from_u64(seed))
        .unwrap()
}

#[test]
fn learned_activation_parameters_train_resume_exactly_and_escape_regularization() {
    let data = blobs(20, 4);
    let config = |epochs| TrainerConfig {
        dropout: Some(Dropout::new(vec![0.1, 0.2]).unwrap()),
        ..config(epochs, 1)
    };
    let betas = |net: &Network<f64>| {
        let mut v = Vec::new();
        net.visit_params(|id, p| {
            if id.name == "activation.beta" {
                v.extend_from_slice(p);
            }
        });
        v
    };
    let mut straight = learning(8);
    let history = Trainer::new(config(6))
        .unwrap()
        .fit(&mut straight, &data, None)
        .unwrap();
    assert!(history.epochs[5].train_loss < history.epochs[0].train_loss);
    assert!(
        betas(&straight).iter().any(|&b| b != 1.0),
        "β moved from its start"
    );

    // Resumed from a checkpoint after 3 epochs: the same values bit for bit.
    let mut net = learning(8);
    let mut first = Trainer::new(config(3)).unwrap();
    first.fit(&mut net, &data, None).unwrap();
    let bytes = first.checkpoint_bytes(&net).unwrap();
    let mut second = Trainer::new(config(6)).unwrap();
    let mut resumed = second.resume_from_bytes(&bytes).unwrap();
    second.fit(&mut resumed, &data, None).unwrap();
    assert_eq!(resumed, straight);

    // L2 (biases included, the notes' default) adds nothing to the gradient of β and γ.
    let net = learning(9);
    let mut ws = net.workspace();
    let mut grad = net.gradient();
    net.evaluate_with(data.inputs(), &mut ws).unwrap();
    net.adjust_gradient(&mut ws, data.targets(), &SoftmaxCrossEntropy, &mut grad)
        .unwrap();
    let before = grad.clone();
    nn_train::Regularizer::regularize(&L2::new(0.5), &net, &mut grad);
    for (a, b) in before.layers().iter().zip(grad.layers()) {
        for (name, (ta, tb)) in a.names().iter().zip(a.tensors().iter().zip(b.tensors())) {
            if name.starts_with("activation.") {
                assert_eq!(ta, tb, "{name}");
            } else if *name == "weight" {
                assert_ne!(ta, tb, "{name}");
            }
        }
    }
}
