//! What the end-to-end benchmarks of `../shared/anchors/README.md` share: seeded random
//! data with random labels, one plain-SGD epoch through the `Trainer`, and the command
//! line.

// Each benchmark uses part of it.
#![allow(dead_code)]

use std::time::Instant;

use nn_core::{Network, SoftmaxCrossEntropy};
use nn_math::Matrix;
use nn_train::{Dataset, Sgd, Trainer, TrainerConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// `n` examples of `rows` inputs uniform in [0, 1) with one-hot labels 0–9, seed 42.
pub fn random_data(rows: usize, n: usize) -> Dataset<f32> {
    let mut rng = StdRng::seed_from_u64(42);
    let x = Matrix::from_fn(rows, n, |_, _| rng.random::<f32>());
    let mut y = Matrix::zeros(10, n);
    for j in 0..n {
        y[(rng.random_range(0..10usize), j)] = 1.0;
    }
    Dataset::new(x, y).expect("finite random data")
}

/// Seconds for one epoch of `net` over `data`: softmax cross-entropy, plain SGD 0.01,
/// batch 64, no shuffling, on `threads` threads.
pub fn sgd_epoch(mut net: Network<f32>, data: &Dataset<f32>, threads: usize) -> f64 {
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

/// The median of `xs` (not empty).
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The value after `flag` on the command line, or `default`.
pub fn arg(args: &[String], flag: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map_or(default, String::as_str)
        .to_owned()
}

/// The thread counts of `--threads` (comma-separated), or `default`.
pub fn threads(args: &[String], default: &str) -> Vec<usize> {
    arg(args, "--threads", default)
        .split(',')
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// Runs `runs` epochs of `make()` at each thread count of `--threads` (default 1 and 2)
/// and prints, for each, `{name} threads=N median_s=… samples_per_s=… gflops=…`.
pub fn report(
    name: &str,
    data: &Dataset<f32>,
    flops_per_sample: f64,
    make: impl Fn() -> Network<f32>,
) {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = arg(&args, "--runs", "3").parse().unwrap_or(3).max(1);
    for t in threads(&args, "1,2") {
        let median = median((0..runs).map(|_| sgd_epoch(make(), data, t)).collect());
        let rate = data.len() as f64 / median;
        println!(
            "{name} threads={t} median_s={median:.3} samples_per_s={rate:.0} gflops={:.1}",
            rate * flops_per_sample / 1e9
        );
    }
}
