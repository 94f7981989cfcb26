//! Fashion-MNIST (Zalando) with the same 784-256-128-10 network as the `mnist` example.
//!
//! Run: `cargo run --release --example fashion_mnist -- --data DIR [--threads N]`
//! (in this project's workspace the files are in `../shared/data/fashion-mnist`).

mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = common::data_dir(
        "fashion_mnist",
        "Fashion-MNIST (Zalando SE, MIT licence) is published on its GitHub page and in\n\
         Debian's dataset-fashion-mnist package; in this project's workspace the files are\n\
         in ../shared/data/fashion-mnist.",
    ) else {
        std::process::exit(2);
    };
    common::train_idx_classifier(
        "Fashion-MNIST",
        &dir,
        std::path::Path::new("target/fashion-mnist"),
        10,
        common::Model::Mlp,
    )
}
