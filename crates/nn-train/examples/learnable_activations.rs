//! Does learning the activations' parameters (§2.1.1: β and γ "learned along with the
//! weights and biases") help? Fashion-MNIST, the same 784-256-128-10 network and
//! settings trained four times: SiLU with β fixed at 1 and with β learned per neuron, and
//! PReLU with the slope fixed at 0.01 and learned per neuron. It prints each run's test
//! accuracy and time per epoch, and draws the learned values' distribution per layer into
//! `target/learnable-activations/`.
//!
//! Run: `cargo run --release --example learnable_activations -- --data DIR [--epochs N]`
//! (in this project's workspace the files are in `../shared/data/fashion-mnist`).

mod common;

use std::path::Path;

use nn_activations::{Identity, PRelu, Silu};
use nn_core::{Network, NeuronActivation, Sharing, SoftmaxCrossEntropy};
use nn_train::{Adam, Dataset, MnistSplit, Trainer, TrainerConfig, load_mnist};
use plotters::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

const SEED: u64 = 11;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = common::data_dir(
        "learnable_activations",
        "in this project's workspace the files are in ../shared/data/fashion-mnist.",
    ) else {
        std::process::exit(2);
    };
    let args: Vec<String> = std::env::args().collect();
    let epochs = args
        .iter()
        .position(|a| a == "--epochs")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(8), |e| e.parse::<usize>())?;
    let all = load_mnist::<f32>(&dir, MnistSplit::Train)?;
    let test = load_mnist::<f32>(&dir, MnistSplit::Test)?;
    let (train, valid) = all.split(1.0 / 12.0, &mut StdRng::seed_from_u64(SEED))?;
    let out = Path::new("target/learnable-activations");
    std::fs::create_dir_all(out)?;

    let runs: [(&str, NeuronActivation<f32>, Option<&str>); 4] = [
        ("SiLU, β fixed at 1", Silu::default().into(), None),
        (
            "SiLU, β learned per neuron",
            Silu::default().into(),
            Some("beta"),
        ),
        ("PReLU, slope fixed at 0.01", PRelu::default().into(), None),
        (
            "PReLU, slope learned per neuron",
            PRelu::default().into(),
            Some("beta"),
        ),
    ];
    let mut results = Vec::new();
    for (name, f, learn) in runs {
        let mut b = Network::<f32>::builder(784).layer(256, f.clone());
        if let Some(p) = learn {
            b = b.learn(&[p], Sharing::PerNeuron);
        }
        b = b.layer(128, f);
        if let Some(p) = learn {
            b = b.learn(&[p], Sharing::PerNeuron);
        }
        let mut net = b
            .layer(10, Identity)
            .build(&mut StdRng::seed_from_u64(SEED))?;
        let (accuracy, seconds) = run(name, &mut net, &train, &valid, &test, epochs)?;
        if learn.is_some() {
            let file = out.join(format!(
                "{}.svg",
                if name.starts_with("SiLU") {
                    "silu-beta"
                } else {
                    "prelu-slope"
                }
            ));
            plot_learned(&net, name, &file)?;
            println!("  learned values drawn in {}", file.display());
        }
        results.push((name, accuracy, seconds));
    }
    println!("\nFashion-MNIST, 784-256-128-10, Adam 1e-3, batch 64, {epochs} epochs:");
    for (name, accuracy, seconds) in &results {
        println!(
            "  {name:34} test accuracy {:.2}%  {seconds:.2} s per epoch",
            100.0 * accuracy
        );
    }
    Ok(())
}

/// Trains `net` and returns its test accuracy and the mean seconds per epoch.
fn run(
    name: &str,
    net: &mut Network<f32>,
    train: &Dataset<f32>,
    valid: &Dataset<f32>,
    test: &Dataset<f32>,
    epochs: usize,
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    println!("\n{name}:");
    let mut trainer = Trainer::new(TrainerConfig {
        epochs,
        batch_size: 64,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer: Box::new(Adam::default()),
        schedule: Box::new(1e-3),
        seed: SEED,
        ..TrainerConfig::default()
    })?;
    let (bar, observer) = common::epoch_progress(epochs);
    let history = trainer.fit_with(net, train, Some(valid), observer)?;
    bar.finish_and_clear();
    let seconds = history.epochs.iter().map(|r| r.seconds).sum::<f64>() / epochs.max(1) as f64;
    let predicted = nn_train::argmax_columns(&net.evaluate(test.inputs())?);
    let actual = test.classes().ok_or("test targets are not one-hot")?;
    Ok((nn_train::accuracy(&predicted, &actual), seconds))
}

/// A histogram of each layer's learned values (`activation.beta`), one colour a layer.
fn plot_learned(
    net: &Network<f32>,
    title: &str,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut layers: Vec<(String, Vec<f32>)> = Vec::new();
    net.visit_params(|id, values| {
        if id.name == "activation.beta" {
            layers.push((
                format!("layer {} ({} neurons)", id.layer + 1, values.len()),
                values.to_vec(),
            ));
        }
    });
    let all = layers.iter().flat_map(|l| l.1.iter().copied());
    let (lo, hi) = all.fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = (f64::from(lo), f64::from(hi).max(f64::from(lo) + 1e-3));
    let bins = 30;
    let width = (hi - lo) / bins as f64;
    let counts: Vec<Vec<usize>> = layers
        .iter()
        .map(|(_, v)| {
            let mut c = vec![0; bins];
            for &x in v {
                let b = (((f64::from(x) - lo) / width) as usize).min(bins - 1);
                c[b] += 1;
            }
            c
        })
        .collect();
    let top = counts.iter().flatten().copied().max().unwrap_or(1) as f64 * 1.1;
    let root = SVGBackend::new(path, (720, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{title}: learned values after training"),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(lo..hi, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("value")
        .y_desc("neurons")
        .draw()?;
    for (k, ((label, _), c)) in layers.iter().zip(&counts).enumerate() {
        let colour = if k == 0 { BLUE.mix(0.5) } else { RED.mix(0.5) };
        chart
            .draw_series(c.iter().enumerate().map(|(b, &n)| {
                let x0 = lo + b as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, n as f64)], colour.filled())
            }))?
            .label(label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}
