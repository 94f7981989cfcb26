//! W6 of `../shared/anchors/README.md`: an Elman RNN (tanh) of 128 units over sequences
//! of 28 steps of 28 inputs (an MNIST image's rows), a dense 10 output on the last state,
//! softmax cross-entropy, plain SGD 0.01, batch 64, one epoch over 60,000 seeded random
//! sequences in [0, 1) with random labels, no shuffling. Prints, per thread count, the
//! median of the runs: `W6 threads=1 median_s=2.904 samples_per_s=20661 gflops=65.4`.
//!
//! Run: `cargo xtask bench rnn` or
//! `cargo bench -p nn-train --bench rnn -- [--runs N] [--threads 1,2] [--cell lstm|gru]`.
//! `--cell` swaps the Elman layer for an LSTM or GRU of the same size (no W-workload
//! defines those; `benches/torch_rnn_cells.py` times PyTorch's `nn.LSTM` and `nn.GRU`
//! on the same work).

mod workload;

use nn_activations::{Identity, Tanh};
use nn_core::{Network, Steps};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Floating-point operations of one training step per example (the anchors' count).
const FLOPS_PER_SAMPLE: f64 = 3.2e6;

fn network(cell: &str) -> Network<f32> {
    let builder = Network::<f32>::builder(784).sequence(28, 28);
    let builder = match cell {
        "lstm" => builder.lstm(128, Steps::Last),
        "gru" => builder.gru(128, Steps::Last),
        _ => builder.elman(128, Tanh, Steps::Last),
    };
    builder
        .layer(10, Identity)
        .build(&mut StdRng::seed_from_u64(7))
        .expect("a valid architecture")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cell = workload::arg(&args, "--cell", "elman");
    // An LSTM's products are 4 gates' worth of the Elman layer's, a GRU's 3.
    let (name, gates) = match cell.as_str() {
        "lstm" => ("W6-lstm", 4.0),
        "gru" => ("W6-gru", 3.0),
        _ => ("W6", 1.0),
    };
    let data = workload::random_data(784, 60_000);
    workload::report(name, &data, gates * FLOPS_PER_SAMPLE, || network(&cell));
}
