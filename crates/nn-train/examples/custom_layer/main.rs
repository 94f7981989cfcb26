//! A layer of your own, end to end: layer normalization (`layer_norm.rs`, written with
//! nothing but the public `Layer` trait) checked against finite differences, trained
//! inside a network by the `Trainer` with Adam on the UCI 8×8 digits (embedded, no
//! download), saved, and loaded back with a `LayerResolver`.
//!
//! Run: `cargo run --release --example custom_layer`

mod layer_norm;

use layer_norm::LayerNorm;
use nn_activations::{Identity, Tanh};
use nn_core::gradcheck::{NetworkCheck, check_layer, check_network};
use nn_core::{Dense, Layer, Network, SoftmaxCrossEntropy};
use nn_math::Matrix;
use nn_train::{Adam, Scaling, Trainer, TrainerConfig, accuracy, argmax_columns, embedded};
use rand::SeedableRng;
use rand::rngs::StdRng;

const SEED: u64 = 7;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The layer's gradient against central differences, in f64.
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut norm = LayerNorm::<f64>::new(6, 1e-5)?;
    norm.visit_params_mut(&mut |_, v| {
        for (i, x) in v.iter_mut().enumerate() {
            *x += 0.1 * (i as f64 + 1.0).sin();
        }
    });
    let x = Matrix::from_fn(6, 5, |i, j| ((3 * i + 5 * j) as f64).cos());
    let report = check_layer(&norm, &x, 1e-6)?;
    println!("layer_norm gradient check: {report}");

    // …and inside a network, through the network's own backpropagation.
    let small: Vec<Box<dyn Layer<f64>>> = vec![
        Box::new(Dense::new(
            Matrix::from_fn(6, 4, |i, j| ((i * 4 + j) as f64).sin()),
            nn_math::Vector::zeros(6),
            Tanh,
        )?),
        Box::new(norm),
        Box::new(Dense::new(
            Matrix::from_fn(3, 6, |i, j| ((i + j) as f64).cos() / 2.0),
            nn_math::Vector::zeros(3),
            Identity,
        )?),
    ];
    let small = Network::from_any_layers(4, small)?;
    let xs = Matrix::from_fn(4, 8, |i, j| ((i * 8 + j) as f64 / 5.0).sin());
    let ys = Matrix::from_fn(3, 8, |i, j| if i == j % 3 { 1.0 } else { 0.0 });
    let report = check_network(
        &small,
        &xs,
        &ys,
        &SoftmaxCrossEntropy,
        &NetworkCheck::default(),
    )?;
    println!("network gradient check:    {report}");

    // 2. Trained by the Trainer with Adam: 64 → 64 (tanh) → layer norm → 10.
    let digits = embedded::digits::<f32>()?;
    let (train, test) = digits.split(0.25, &mut rng)?;
    let scaling = Scaling::standardize(train.inputs())?;
    let (train, test) = (scaling.apply_to(&train)?, scaling.apply_to(&test)?);
    let dense = Network::<f32>::builder(64)
        .layer(64, Tanh)
        .layer(10, Identity)
        .build(&mut rng)?;
    let layers: Vec<Box<dyn Layer<f32>>> = vec![
        Box::new(dense.dense(0).ok_or("no layer 0")?.clone()),
        Box::new(LayerNorm::new(64, 1e-5)?),
        Box::new(dense.dense(1).ok_or("no layer 1")?.clone()),
    ];
    let mut net = Network::from_any_layers(64, layers)?;
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: 30,
        batch_size: 32,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer: Box::new(Adam::default()),
        schedule: Box::new(1e-3),
        seed: SEED,
        ..TrainerConfig::default()
    })?;
    let history = trainer.fit(&mut net, &train, None)?;
    let last = history.epochs.last().map_or(f64::NAN, |e| e.train_loss);
    println!("trained 30 epochs, last training loss {last:.4}");
    if let Some(norm) = net
        .layer(1)
        .and_then(|l| format!("{l:?}").starts_with("LayerNorm").then_some(l))
    {
        let mut gammas = Vec::new();
        norm.visit_params(&mut |spec, v| {
            if spec.name == "gamma" {
                gammas.extend_from_slice(v);
            }
        });
        let (lo, hi) = gammas
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &g| (a.min(g), b.max(g)));
        println!("learned γ: from {lo:.3} to {hi:.3} (started at 1)");
    }

    // 3. Saved, and loaded back with a resolver that knows the layer.
    let path = std::env::temp_dir().join("custom_layer.safetensors");
    net.save(&path)?;
    let resolve = |r: &nn_core::LayerRecord<'_>| {
        (r.kind == "layer_norm")
            .then(|| LayerNorm::<f32>::from_record(r).map(|l| Box::new(l) as Box<dyn Layer<f32>>))
    };
    let back = Network::<f32>::load_resolving(&path, &|_, _| None, &resolve)?;
    println!("saved and loaded back: equal = {}", back == net);
    println!(
        "without the resolver: {}",
        Network::<f32>::load(&path)
            .err()
            .map_or("loaded?".into(), |e| e.to_string())
    );

    let predicted = back.evaluate(test.inputs())?;
    let acc = accuracy(&argmax_columns(&predicted), &argmax_columns(test.targets()));
    println!("test accuracy: {:.1}%", 100.0 * acc);
    Ok(())
}
