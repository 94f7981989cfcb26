//! What learning activation parameters costs: W1 of `../shared/anchors/README.md`
//! (784-128-64-10, SGD 0.01, batch 64, one epoch of 60,000 random inputs) with PReLU
//! hidden layers whose slopes β are fixed or learned, one per neuron (both on the
//! engine). The two take turns in each round; the median time of each and
//! the median of the rounds' ratios are printed:
//! `W1-prelu fixed threads=1 median_s=0.312`, `learned/fixed threads=1 median=1.08`.
//!
//! Run: `cargo bench -p nn-train --bench learnable -- [--rounds N] [--threads 1,2]`;
//! `-- --only learned` (or `fixed`) runs one kind only, for a profiler.

mod workload;

use nn_activations::{Identity, PRelu};
use nn_core::{Network, Sharing};
use rand::SeedableRng;
use rand::rngs::StdRng;
use workload::{arg, median, random_data, sgd_epoch};

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

fn epoch(data: &nn_train::Dataset<f32>, learned: bool, threads: usize) -> f64 {
    sgd_epoch(network(learned), data, threads)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = arg(&args, "--rounds", "5").parse().unwrap_or(5).max(1);
    let threads = workload::threads(&args, "1");
    let set = random_data(784, 60_000);
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
