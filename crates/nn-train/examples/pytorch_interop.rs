//! PyTorch both ways, with no glue (docs/model-files.md): a `state_dict` that PyTorch
//! saved (`crates/nn-core/tests/data/torch_state_dict.py` wrote it, from
//! `nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 5),
//! nn.Tanh(), nn.Linear(5, 3))`) loads into the same architecture built here; its outputs
//! equal PyTorch's; its class probabilities and predictions come out directly; after
//! fine-tuning on a small task of its own, it is written back as a `state_dict` that
//! `model.load_state_dict(safetensors.torch.load_file(path))` reads.
//!
//! Run: `cargo run --release --example pytorch_interop` (no data needed: the PyTorch
//! bytes are in the repository).

use nn_activations::{Identity, Relu, Tanh};
use nn_core::{Network, Precision, SoftmaxCrossEntropy, TorchNames};
use nn_math::Matrix;
use nn_train::{Adam, Dataset, Trainer, TrainerConfig, one_hot};
use rand::SeedableRng;
use safetensors::SafeTensors;

const STATE_DICT: &[u8] =
    include_bytes!("../../nn-core/tests/data/torch_mlp_state_dict.safetensors");
const PYTORCH_IO: &[u8] =
    include_bytes!("../../nn-core/tests/data/torch_state_dict_io.safetensors");

/// A PyTorch tensor of the io file (rows are examples) as `n × batch`, one per column.
fn tensor(name: &str, n: usize) -> Result<Matrix<f32>, Box<dyn std::error::Error>> {
    let file = SafeTensors::deserialize(PYTORCH_IO)?;
    let values: Vec<f32> = file
        .tensor(name)?
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(Matrix::from_vec(n, values.len() / n, values))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    // The architecture, in Rust; PyTorch's Dropout module is a training setting here.
    let mut net = Network::<f32>::builder(6)
        .layer(8, Relu)
        .layer(5, Tanh)
        .layer(3, Identity)
        .build(&mut rng)?;
    // "0.weight", "0.bias", "3.weight", …: the modules with tensors, in order.
    net.load_torch_state_dict(STATE_DICT, &TorchNames::Sequential, Precision::Exact)?;

    let (x, theirs) = (tensor("mlp.x", 6)?, tensor("mlp.y", 3)?);
    let ours = net.evaluate(&x)?;
    println!(
        "outputs of {} examples: largest difference from PyTorch's {:.2e}",
        x.ncols(),
        (&ours - &theirs).amax()
    );
    let p = net.probabilities(&x)?;
    for (j, class) in net.predict_classes(&x)?.into_iter().enumerate() {
        let col: Vec<String> = p.column(j).iter().map(|v| format!("{v:.3}")).collect();
        println!(
            "example {j}: probabilities [{}], class {class}",
            col.join(", ")
        );
    }

    // Fine-tune it here on a task of its own: the class is the largest of the first three
    // inputs (200 pseudo-random examples), which the loaded weights know nothing of.
    let inputs = Matrix::from_fn(6, 200, |i, j| {
        (((i + 1) * (j + 7) * 7919 % 1000) as f32 / 500.0) - 1.0
    });
    let labels: Vec<usize> = inputs
        .column_iter()
        .map(|c| (0..3).fold(0, |b, i| if c[i] > c[b] { i } else { b }))
        .collect();
    let data = Dataset::new(inputs.clone(), one_hot(&labels, 3)?)?;
    let accuracy = |net: &Network<f32>| -> Result<f64, nn_core::CoreError> {
        let predicted = net.predict_classes(&inputs)?;
        let right = predicted
            .iter()
            .zip(&labels)
            .filter(|(p, l)| p == l)
            .count();
        Ok(right as f64 / labels.len() as f64)
    };
    println!(
        "accuracy on the new task before: {:.1}%",
        100.0 * accuracy(&net)?
    );
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: 30,
        batch_size: 16,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer: Box::new(Adam::default()),
        schedule: Box::new(1e-2),
        ..TrainerConfig::default()
    })?;
    trainer.fit(&mut net, &data, None)?;
    println!(
        "accuracy after 30 epochs of Adam: {:.1}%",
        100.0 * accuracy(&net)?
    );

    // Back to PyTorch: the plain Sequential's names (no Dropout: 0, 2, 4).
    let dir = std::path::Path::new("target/pytorch_interop");
    std::fs::create_dir_all(dir)?;
    let path = dir.join("mlp.safetensors");
    std::fs::write(&path, net.to_torch_state_dict(&TorchNames::Sequential)?)?;
    println!("wrote {}; in Python:", path.display());
    println!(
        "  net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5), nn.Tanh(), nn.Linear(5, 3))"
    );
    println!(
        "  net.load_state_dict(safetensors.torch.load_file({:?}))",
        path.display().to_string()
    );
    Ok(())
}
