//! W6 of `../shared/anchors/README.md`: an Elman RNN (tanh) of 128 units over sequences
//! of 28 steps of 28 inputs (an MNIST image's rows), a dense 10 output on the last state,
//! softmax cross-entropy, plain SGD 0.01, batch 64, one epoch over 60,000 seeded random
//! sequences in [0, 1) with random labels, no shuffling. Prints, per thread count, the
//! median of the runs: `W6 threads=1 median_s=2.904 samples_per_s=20661 gflops=65.4`.
//!
//! Run: `cargo xtask bench rnn` or
//! `cargo bench -p nn-train --bench rnn -- [--runs N] [--threads 1,2]`.

use std::time::Instant;

use nn_activations::{Identity, Tanh};
use nn_core::{Network, SoftmaxCrossEntropy, Steps};
use nn_math::Matrix;
use nn_train::{Dataset, Sgd, Trainer, TrainerConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Examples per epoch.
const N: usize = 60_000;
/// Floating-point operations of one training step per example (the anchors' count).
const FLOPS_PER_SAMPLE: f64 = 3.2e6;

fn data() -> Dataset<f32> {
    let mut rng = StdRng::seed_from_u64(42);
    let x = Matrix::from_fn(784, N, |_, _| rng.random::<f32>());
    let mut y = Matrix::zeros(10, N);
    for j in 0..N {
        y[(rng.random_range(0..10usize), j)] = 1.0;
    }
    Dataset::new(x, y).expect("finite random data")
}

fn network() -> Network<f32> {
    Network::<f32>::builder(784)
        .sequence(28, 28)
        .elman(128, Tanh, Steps::Last)
        .layer(10, Identity)
        .build(&mut StdRng::seed_from_u64(7))
        .expect("a valid architecture")
}

fn epoch(data: &Dataset<f32>, threads: usize) -> f64 {
    let mut net = network();
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: 1,
        batch_size: 64,
        shuffle: false,
        threads,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer: Box::new(Sgd),
        schedule: Box::new(0.01),
        ..TrainerConfig::default()
    })
    .expect("a valid configuration");
    let start = Instant::now();
    trainer.fit(&mut net, data, None).expect("training runs");
    start.elapsed().as_secs_f64()
}

fn arg(args: &[String], flag: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map_or(default, String::as_str)
        .to_owned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = arg(&args, "--runs", "3").parse().unwrap_or(3).max(1);
    let threads: Vec<usize> = arg(&args, "--threads", "1,2")
        .split(',')
        .filter_map(|t| t.parse().ok())
        .collect();
    let set = data();
    for t in threads {
        let mut times: Vec<f64> = (0..runs).map(|_| epoch(&set, t)).collect();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let rate = N as f64 / median;
        println!(
            "W6 threads={t} median_s={median:.3} samples_per_s={rate:.0} gflops={:.1}",
            rate * FLOPS_PER_SAMPLE / 1e9
        );
    }
}
