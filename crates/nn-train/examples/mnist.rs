//! MNIST handwritten digits with a 784-256-128-10 ReLU network, softmax cross-entropy
//! and Adam, 10 epochs.
//!
//! Run: `cargo run --release --example mnist -- --data DIR [--threads N]`
//! (in this project's workspace the files are in `../shared/data/mnist`).

mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = common::data_dir(
        "mnist",
        "MNIST (LeCun, Cortes, Burges) is published by its authors and mirrored widely;\n\
         in this project's workspace the files are in ../shared/data/mnist.",
    ) else {
        std::process::exit(2);
    };
    common::train_idx_classifier(
        "MNIST",
        &dir,
        std::path::Path::new("target/mnist"),
        10,
        common::Model::Mlp,
    )
}
