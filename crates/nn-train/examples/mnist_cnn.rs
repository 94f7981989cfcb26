//! MNIST with the W5 convolutional network of the benchmarks (guide §12): two 5×5
//! convolutions (16 and 32 filters, padding 2) with ReLU and 2×2 max pooling, then dense
//! layers of 128 (ReLU) and 10; softmax cross-entropy, Adam at 1e-3, batch 64, 5 epochs.
//! Prints a line per epoch, the confusion matrix and `test accuracy: NN.N%` last.
//!
//! Run: `cargo run --release --example mnist_cnn -- --data DIR [--threads N]`
//! (in this project's workspace the files are in `../shared/data/mnist`; every core is
//! used unless `--threads` says otherwise).

mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = common::data_dir(
        "mnist_cnn",
        "MNIST (LeCun, Cortes and Burges) is in Debian's dataset-mnist package and on\n\
         many mirrors; in this project's workspace the files are in ../shared/data/mnist.",
    ) else {
        std::process::exit(2);
    };
    common::train_idx_classifier(
        "MNIST",
        &dir,
        std::path::Path::new("target/mnist-cnn"),
        5,
        common::Model::Cnn,
    )
}
