//! The main job: learn the UCI 8×8 handwritten digits (embedded, no download) and report
//! the accuracy on a held-out test set.
//!
//! Run: `cargo run --release --example digits`
//!
//! 1,797 digits are split (stratified, seeded) into 75 % for training and 25 % for the
//! final test; 15 % of the training part is held out for validation (Algorithm 11's
//! `E_v`). Inputs are standardized with statistics of the training part only. A
//! 64-128-10 network (ReLU, softmax cross-entropy) learns with Adam, dropout and L2. The model (with its
//! input scaling) and a learning-curve plot go to `target/digits/`.

mod common;

use std::path::Path;

use nn_activations::{Identity, Relu};
use nn_core::{Dropout, Network, SoftmaxCrossEntropy};
use nn_train::{Adam, L2, Model, Scaling, Trainer, TrainerConfig, embedded};
use rand::SeedableRng;
use rand::rngs::StdRng;

const SEED: u64 = 2024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = std::time::Instant::now();
    let mut rng = StdRng::seed_from_u64(SEED);
    let digits = embedded::digits::<f32>()?;
    let (rest, test) = digits.split(0.25, &mut rng)?;
    let (train, valid) = rest.split(0.15, &mut rng)?;
    println!(
        "UCI digits: {} training, {} validation, {} test examples",
        train.len(),
        valid.len(),
        test.len()
    );

    // §4.1: fit the scaling on the training set only, apply it unchanged to the others.
    let scaling = Scaling::standardize(train.inputs())?;
    let (train, valid, test) = (
        scaling.apply_to(&train)?,
        scaling.apply_to(&valid)?,
        scaling.apply_to(&test)?,
    );

    let mut net = Network::<f32>::builder(64)
        .layer(128, Relu)
        .layer(10, Identity)
        .build(&mut rng)?;
    let epochs = 60;
    let mut trainer = Trainer::new(TrainerConfig {
        epochs,
        batch_size: 32,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer: Box::new(Adam::default()),
        schedule: Box::new(1e-3),
        // Against the overfitting a first run showed (E_t ≪ E_v): dropout on the hidden
        // layer and a little L2 on the weights.
        dropout: Some(Dropout::new(vec![0.0, 0.3])?),
        regularizer: Some(Box::new(L2 {
            lambda: 1e-4,
            include_biases: false,
        })),
        seed: SEED,
        ..TrainerConfig::default()
    })?;
    let (bar, observer) = common::epoch_progress(epochs);
    let history = trainer.fit_with(&mut net, &train, Some(&valid), observer)?;
    bar.finish_and_clear();
    println!("diagnosis: {}", history.diagnose());

    let out_dir = Path::new("target/digits");
    std::fs::create_dir_all(out_dir)?;
    let model = Model {
        network: net,
        scaling: Some(scaling),
    };
    model.save(out_dir.join("model.safetensors"))?;
    common::plot_learning_curve(
        &history,
        "UCI digits 64-128-10: learning curve",
        &out_dir.join("learning-curve.svg"),
    )?;
    println!(
        "saved {} and {}",
        out_dir.join("model.safetensors").display(),
        out_dir.join("learning-curve.svg").display()
    );

    let acc = common::test_report(&model.network, &test, 10)?;
    println!(
        "trained and tested in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    println!("test accuracy: {:.1}%", 100.0 * acc);
    Ok(())
}
