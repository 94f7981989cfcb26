//! W5 of `../shared/anchors/README.md`: a small CNN on MNIST-shaped inputs (conv 5×5
//! 1→16 pad 2, ReLU, max-pool 2, conv 5×5 16→32 pad 2, ReLU, max-pool 2, dense 128 ReLU,
//! dense 10), softmax cross-entropy, plain SGD 0.01, batch 64, one epoch over 10,000
//! seeded random inputs in [0, 1) with random labels, no shuffling. Prints, per thread
//! count, the median of the runs:
//! `W5 threads=1 median_s=2.104 samples_per_s=4753 gflops=83.2`.
//!
//! Run: `cargo xtask bench cnn` or
//! `cargo bench -p nn-train --bench cnn -- [--runs N] [--threads 1,2]`.

mod workload;

use nn_activations::{Identity, Relu};
use nn_core::{Conv, Network};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Floating-point operations of one training step per example (the anchors' count).
const FLOPS_PER_SAMPLE: f64 = 17.5e6;

fn network() -> Network<f32> {
    Network::<f32>::builder(784)
        .image(1, 28, 28)
        .conv(Conv::new(16, 5).padding(2), Relu)
        .max_pool(2)
        .conv(Conv::new(32, 5).padding(2), Relu)
        .max_pool(2)
        .layer(128, Relu)
        .layer(10, Identity)
        .build(&mut StdRng::seed_from_u64(7))
        .expect("a valid architecture")
}

fn main() {
    let data = workload::random_data(784, 10_000);
    workload::report("W5", &data, FLOPS_PER_SAMPLE, network);
}
