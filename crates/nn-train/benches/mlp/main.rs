//! The end-to-end training benchmark of `../shared/anchors/README.md`, through the public
//! API as a user would write it (`Trainer` with plain SGD):
//!
//! - **W1**: a 784-128-64-10 ReLU MLP, softmax cross-entropy, SGD (learning rate 0.01, no
//!   momentum), batch 64, one epoch over 60,000 seeded random f32 inputs in [0, 1) with
//!   random labels 0–9, no shuffling; 27.3 GFLOP per epoch (454,400 flops per sample).
//! - **W2**: the same network and data at batch size 1, 10,000 samples.
//!
//! - **W1-direct**, **W2-direct**: the workload through a plain hand-written loop on one
//!   thread (`direct.rs`), which runs in the same rounds as the library unless
//!   `--no-direct` is given: what the library's structure costs. Before timing anything,
//!   the benchmark checks that the loop and the library compute the same weights bit for
//!   bit over ten steps of the workload.
//!
//! Each workload runs once per thread count to warm up, then in `reps` rounds (7, or
//! `--rounds N`; 1 with `--quick`) of one run per thread count, taking turns, and the
//! median wall time is reported, one line per workload and thread count:
//! `W1 threads=1 median_s=0.452 samples_per_s=132743 gflops=60.4`,
//! then, when one thread is among the counts, the median over the rounds of each round's
//! speed-up over one thread, `W1 speedup threads=2 over=1 median=1.58`, and of the
//! library's time over the hand-written loop's, `W1 overhead threads=1 over=direct
//! median=1.01` (below 1 where the library is faster).
//!
//! Run: `cargo xtask bench mlp [--quick]`, or
//! `cargo bench -p nn-train --bench mlp -- [--quick] [--rounds N] [--threads 1,2]
//! [--workloads W1,W2] [--no-direct]`.

mod direct;

use std::time::Instant;

use direct::Direct;

use nn_activations::{Identity, Relu};
use nn_core::{Network, SoftmaxCrossEntropy};
use nn_math::Matrix;
use nn_train::{Dataset, Sgd, Trainer, TrainerConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Floating-point operations per sample: forward, weight gradients, and the input
/// gradients of layers 2 and 3 (the anchors' count).
const FLOPS_PER_SAMPLE: f64 = 454_400.0;

fn data(n: usize) -> Dataset<f32> {
    let mut rng = StdRng::seed_from_u64(42);
    let x = Matrix::from_fn(784, n, |_, _| rng.random::<f32>());
    let mut y = Matrix::zeros(10, n);
    for j in 0..n {
        y[(rng.random_range(0..10usize), j)] = 1.0;
    }
    Dataset::new(x, y).expect("finite random data")
}

/// The network every run starts from.
fn network() -> Network<f32> {
    Network::<f32>::builder(784)
        .layer(128, Relu)
        .layer(64, Relu)
        .layer(10, Identity)
        .build(&mut StdRng::seed_from_u64(7))
        .expect("a valid architecture")
}

/// The hand-written loop, starting from the same weights as the library's runs.
fn direct_from(net: &Network<f32>, batch_size: usize) -> Direct {
    let weights: Vec<&[f32]> = net
        .dense_layers()
        .unwrap()
        .iter()
        .map(|l| l.weight_slice())
        .collect();
    let biases: Vec<&[f32]> = net
        .dense_layers()
        .unwrap()
        .iter()
        .map(|l| l.bias().as_slice())
        .collect();
    Direct::new(&weights, &biases, batch_size)
}

/// One epoch of `data` through the library (a `Trainer`), in seconds.
fn epoch_seconds(data: &Dataset<f32>, batch_size: usize, threads: usize) -> f64 {
    let mut net = network();
    train(&mut net, data, batch_size, threads)
}

/// One epoch of `data` through the hand-written loop, in seconds.
fn direct_epoch_seconds(data: &Dataset<f32>, batch_size: usize) -> f64 {
    let mut direct = direct_from(&network(), batch_size);
    let columns: Vec<usize> = (0..data.len()).collect();
    let start = Instant::now();
    let mut loss = 0.0;
    for batch in columns.chunks(batch_size) {
        let (l, _, finite) = direct.step(data.inputs(), data.targets(), batch, 0.01);
        assert!(finite, "the run stays finite");
        loss += l;
    }
    let seconds = start.elapsed().as_secs_f64();
    std::hint::black_box(loss);
    seconds
}

/// Panics unless the hand-written loop and the library, on one thread, end ten steps of
/// `batch_size` examples with the same weights and biases, bit for bit (so that the two
/// time the same work).
fn check_direct(data: &Dataset<f32>, batch_size: usize) {
    let columns: Vec<usize> = (0..10 * batch_size).collect();
    let first = data.subset(&columns).expect("in range");
    let mut net = network();
    let mut direct = direct_from(&net, batch_size);
    train(&mut net, &first, batch_size, 1);
    for batch in columns.chunks(batch_size) {
        direct.step(first.inputs(), first.targets(), batch, 0.01);
    }
    for (k, layer) in net.dense_layers().unwrap().iter().enumerate() {
        assert!(
            layer.weight_slice() == direct.weight(k) && layer.bias().as_slice() == direct.bias(k),
            "layer {k}: the hand-written loop and the library disagree"
        );
    }
}

/// Trains `net` for one epoch of `data` in order with the workloads' settings (plain SGD,
/// learning rate 0.01, softmax cross-entropy), returning the seconds `fit` took.
fn train(net: &mut Network<f32>, data: &Dataset<f32>, batch_size: usize, threads: usize) -> f64 {
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: 1,
        batch_size,
        shuffle: false,
        threads,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer: Box::new(Sgd),
        schedule: Box::new(0.01),
        ..TrainerConfig::default()
    })
    .expect("a valid configuration");
    let start = Instant::now();
    trainer.fit(net, data, None).expect("training runs");
    start.elapsed().as_secs_f64()
}

/// The middle value (the upper one of the two middle values for an even count).
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn list(args: &[String], flag: &str, default: &str) -> Vec<String> {
    let value = args
        .iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map_or(default, String::as_str);
    value.split(',').map(str::to_owned).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps = if args.iter().any(|a| a == "--quick") {
        1
    } else {
        list(&args, "--rounds", "7")[0]
            .parse::<usize>()
            .unwrap_or(7)
            .max(1)
    };
    let threads: Vec<usize> = list(&args, "--threads", "1,2")
        .iter()
        .filter_map(|t| t.parse().ok())
        .collect();
    let workloads = list(&args, "--workloads", "W1,W2");
    let with_direct = !args.iter().any(|a| a == "--no-direct");
    let w1 = data(60_000);
    // W2 uses the first 10,000 examples of the same data (a copy of 31 MB); W1 uses the
    // data set itself, so that the W1 run holds its 188 MB of data once.
    let w2 = workloads.iter().any(|w| w == "W2").then(|| {
        w1.subset(&(0..10_000).collect::<Vec<_>>())
            .expect("in range")
    });
    for workload in &workloads {
        let (set, batch) = match workload.as_str() {
            "W1" => (&w1, 64),
            "W2" => (w2.as_ref().unwrap_or(&w1), 1),
            other => {
                eprintln!("unknown workload {other}");
                continue;
            }
        };
        // One runner per thread count, and for W1 the hand-written loop (`None`).
        let mut runners: Vec<Option<usize>> = threads.iter().copied().map(Some).collect();
        if with_direct {
            check_direct(set, batch);
            runners.push(None);
        }
        let run = |r: Option<usize>| match r {
            Some(t) => epoch_seconds(set, batch, t),
            None => direct_epoch_seconds(set, batch),
        };
        // The runners take turns, one run each per round, so that a slow stretch of the
        // shared host slows every one alike rather than one of them.
        for &r in &runners {
            run(r); // warm-up
        }
        let rounds: Vec<Vec<f64>> = (0..reps)
            .map(|_| runners.iter().map(|&r| run(r)).collect())
            .collect();
        let n = set.len() as f64;
        for (i, &r) in runners.iter().enumerate() {
            let median = median(rounds.iter().map(|round| round[i]).collect());
            let (name, t) = match r {
                Some(t) => (workload.clone(), t),
                None => (format!("{workload}-direct"), 1),
            };
            println!(
                "{name} threads={t} median_s={median:.3} samples_per_s={:.0} gflops={:.1}",
                n / median,
                n * FLOPS_PER_SAMPLE / median / 1e9
            );
        }
        // The speed-up over one thread, and the library's time over the hand-written
        // loop's, each as the median of every round's own ratio.
        let ratio =
            |num: usize, den: usize| median(rounds.iter().map(|r| r[num] / r[den]).collect());
        if let Some(one) = runners.iter().position(|&r| r == Some(1)) {
            for (i, &r) in runners.iter().enumerate() {
                if let Some(t) = r.filter(|&t| t != 1) {
                    let x = ratio(one, i);
                    println!("{workload} speedup threads={t} over=1 median={x:.2}");
                }
            }
            if let Some(direct) = runners.iter().position(Option::is_none) {
                let x = ratio(one, direct);
                println!("{workload} overhead threads=1 over=direct median={x:.2}");
            }
        }
    }
}
