//! What learning activation parameters costs: W1 of `../shared/anchors/README.md`
//! (784-128-64-10, SGD 0.01, batch 64, one epoch of 60,000 random inputs) with PReLU
//! hidden layers whose slopes β are fixed (the engine) or learned, one per neuron (the
//! reference procedures). The two take turns in each round; the median time of each and
//! the median of the rounds' ratios are printed:
//! `W1-prelu fixed threads=1 median_s=0.312`, `learned/fixed threads=1 median=1.08`.
//!
//! Run: `cargo bench -p nn-train --bench learnable -- [--rounds N] [--threads 1,2]`;
//! `-- --only learned` (or `fixed`) runs one kind only, for a profiler.

use std::time::Instant;

use nn_activations::{Identity, PRelu};
use nn_core::{Network, Sharing, SoftmaxCrossEntropy};
use nn_math::Matrix;
use nn_train::{Dataset, Sgd, Trainer, TrainerConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn data(n: usize) -> Dataset<f32> {
    let mut rng = StdRng::seed_from_u64(42);
    let x = Matrix::from_fn(784, n, |_, _| rng.random::<f32>());
    let mut y = Matrix::zeros(10, n);
    for j in 0..n {
        y[(rng.random_range(0..10usize), j)] = 1.0;
    }
    Dataset::new(x, y).expect("finite random data")
}

fn network(learned: bool) -> Network<f32> {
    let sharing = Sharing::PerNeuron;
    let b = Network::<f32>::builder(784).layer(128, PRelu::default());
    let b = if learned {
        b.learn(&["beta"], sharing)
    } else {
        b
    };
    let b = b.layer(64, PRelu::default());
    let b = if learned {
        b.learn(&["beta"], sharing)
    } else {
        b
    };
    b.layer(10, Identity)
        .build(&mut StdRng::seed_from_u64(7))
        .expect("a valid architecture")
}

fn epoch(data: &Dataset<f32>, learned: bool, threads: usize) -> f64 {
    let mut net = network(learned);
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

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
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
    let rounds: usize = arg(&args, "--rounds", "5").parse().unwrap_or(5).max(1);
    let threads: Vec<usize> = arg(&args, "--threads", "1")
        .split(',')
        .filter_map(|t| t.parse().ok())
        .collect();
    let set = data(60_000);
    // `--only fixed` or `--only learned`: one kind, a few epochs (for a profiler).
    if let Some(kind) = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
    {
        for _ in 0..rounds {
            epoch(
                &set,
                kind == "learned",
                threads.first().copied().unwrap_or(1),
            );
        }
        return;
    }
    for t in threads {
        epoch(&set, false, t);
        epoch(&set, true, t);
        let runs: Vec<(f64, f64)> = (0..rounds)
            .map(|_| (epoch(&set, false, t), epoch(&set, true, t)))
            .collect();
        let fixed = median(runs.iter().map(|r| r.0).collect());
        let learned = median(runs.iter().map(|r| r.1).collect());
        let ratio = median(runs.iter().map(|r| r.1 / r.0).collect());
        println!("W1-prelu fixed threads={t} median_s={fixed:.3}");
        println!("W1-prelu learned threads={t} median_s={learned:.3}");
        println!("learned/fixed threads={t} median={ratio:.3}");
    }
}
