//! Sequential MNIST (guide §13): each image read as a sequence of 28 steps, its 28-pixel
//! rows, by an Elman layer of 128 tanh units (or, with `--cell lstm` or `--cell gru`, an
//! LSTM or GRU layer of 128 cells); a dense layer of 10 on the last state; softmax cross-entropy, Adam at 1e-3,
//! batch 64, 5 epochs. Prints a line per epoch, the confusion matrix and
//! `test accuracy: NN.N%` last.
//!
//! Run: `cargo run --release --example sequential_mnist -- --data DIR [--cell elman|lstm|gru]
//! [--threads N]`
//! (in this project's workspace the files are in `../shared/data/mnist`; every core is
//! used unless `--threads` says otherwise).

mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = common::data_dir(
        "sequential_mnist",
        "MNIST (LeCun, Cortes and Burges) is in Debian's dataset-mnist package and on\n\
         many mirrors; in this project's workspace the files are in ../shared/data/mnist.",
    ) else {
        std::process::exit(2);
    };
    let (model, out) = match common::arg("--cell").as_deref() {
        None | Some("elman") => (common::Model::Rnn, "target/sequential-mnist"),
        Some("lstm") => (common::Model::Lstm, "target/sequential-mnist-lstm"),
        Some("gru") => (common::Model::Gru, "target/sequential-mnist-gru"),
        Some(other) => return Err(format!("--cell {other:?}: expected elman, lstm or gru").into()),
    };
    common::train_idx_classifier(
        "Sequential MNIST",
        &dir,
        std::path::Path::new(out),
        5,
        model,
    )
}
