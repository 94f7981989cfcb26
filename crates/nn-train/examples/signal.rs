//! Many-to-many (guide §13): an Elman layer reads a noisy signal one value per step and,
//! at every step, a dense layer applied per step predicts the next clean value. The
//! signals are sums of two sines of random frequency and phase, with Gaussian noise;
//! 4,000 sequences of 40 steps train, 500 validate, 500 test. Prints a line per epoch,
//! then the test error against the naive forecast "the next value is the current one",
//! and draws one test sequence: the noisy input, the truth and the prediction.
//!
//! Run: `cargo run --release --example signal` (no data needed).

mod common;

use nn_activations::{Identity, Tanh};
use nn_core::{HalfSquaredError, Network, Steps};
use nn_math::Matrix;
use nn_train::{Adam, Dataset, Trainer, TrainerConfig};
use plotters::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Steps per sequence.
const T: usize = 40;

/// `n` sequences: inputs (one noisy value per step) and targets (the next clean value per
/// step), one sequence per column.
fn signals(n: usize, rng: &mut StdRng) -> Result<Dataset<f32>, Box<dyn std::error::Error>> {
    let (mut x, mut y) = (Matrix::zeros(T, n), Matrix::zeros(T, n));
    for j in 0..n {
        let (w1, w2) = (rng.random_range(0.15..0.35), rng.random_range(0.4..0.8));
        let (p1, p2) = (rng.random_range(0.0..6.3), rng.random_range(0.0..6.3));
        let clean = |t: usize| (w1 * t as f32 + p1).sin() + 0.4 * (w2 * t as f32 + p2).sin();
        for t in 0..T {
            // Box–Muller noise, σ = 0.1.
            let (u, v): (f32, f32) = (rng.random_range(1e-7..1.0), rng.random_range(0.0..1.0));
            let noise = 0.1 * (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos();
            x[(t, j)] = clean(t) + noise;
            y[(t, j)] = clean(t + 1);
        }
    }
    Ok(Dataset::new(x, y)?)
}

fn mse(a: &Matrix<f32>, b: &Matrix<f32>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(p, q)| ((p - q) as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = StdRng::seed_from_u64(11);
    let (train, valid, test) = (
        signals(4000, &mut rng)?,
        signals(500, &mut rng)?,
        signals(500, &mut rng)?,
    );
    let mut net = Network::<f32>::builder(T)
        .sequence(T, 1)
        .elman(32, Tanh, Steps::All)
        .layer_per_step(1, Identity)
        .build(&mut rng)?;
    let epochs = 30;
    let mut trainer = Trainer::new(TrainerConfig {
        epochs,
        batch_size: 32,
        loss: Box::new(HalfSquaredError),
        optimizer: Box::new(Adam::default()),
        schedule: Box::new(3e-3),
        clip_norm: Some(5.0),
        seed: 11,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ..TrainerConfig::default()
    })?;
    let (bar, observer) = common::epoch_progress(epochs);
    trainer.fit_with(&mut net, &train, Some(&valid), observer)?;
    bar.finish_and_clear();

    let predicted = net.evaluate(test.inputs())?;
    let truth = test.targets().clone_owned();
    // The naive forecast: the next value is the current (noisy) one.
    let naive = mse(&test.inputs().clone_owned(), &truth);
    let ours = mse(&predicted, &truth);
    println!("test mean squared error: {ours:.4} (the naive forecast: {naive:.4})");

    let out = std::path::Path::new("target/signal");
    std::fs::create_dir_all(out)?;
    let path = out.join("prediction.svg");
    let root = SVGBackend::new(&path, (760, 360)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "next value: noisy input, truth and prediction (a test sequence)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..T as f64, -1.8..1.8)?;
    chart.configure_mesh().x_desc("step").draw()?;
    let series = |m: &Matrix<f32>, shift: f64| -> Vec<(f64, f64)> {
        (0..T)
            .map(|t| (t as f64 + shift, m[(t, 0)] as f64))
            .collect()
    };
    let input = test.inputs().columns(0, 1).clone_owned();
    chart
        .draw_series(
            series(&input, 0.0)
                .into_iter()
                .map(|p| Circle::new(p, 3, BLACK.mix(0.5).filled())),
        )?
        .label("noisy input x_t")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, BLACK.mix(0.5).filled()));
    chart
        .draw_series(LineSeries::new(series(&truth, 1.0), BLUE.stroke_width(2)))?
        .label("truth (clean x_{t+1})")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(LineSeries::new(
            series(&predicted, 1.0),
            RED.stroke_width(2),
        ))?
        .label("prediction")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    println!("saved {}", path.display());
    Ok(())
}
