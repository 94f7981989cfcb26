//! Shared by the classification examples: progress output, the learning-curve plot and
//! the test report. (Examples print; the library never does.)

#![allow(dead_code)]

use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use nn_core::Network;
use nn_train::{ConfusionMatrix, Control, Dataset, EpochRecord, History, argmax_columns};
use plotters::prelude::*;

/// A progress bar over the epochs, and an observer that prints one line per epoch
/// (`E_t`, `E_v`, accuracy) above it.
pub fn epoch_progress(epochs: usize) -> (ProgressBar, impl FnMut(&EpochRecord) -> Control) {
    let bar = ProgressBar::new(epochs as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} epoch {pos}/{len} [{elapsed_precise}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let observer_bar = bar.clone();
    let observer = move |r: &EpochRecord| {
        let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.1}%", 100.0 * v));
        // `suspend` prints even when the bar is hidden (output is not a terminal).
        let valid = match r.validation_loss {
            Some(e_v) => format!("  E_v {e_v:.4}"),
            None => String::new(),
        };
        let valid_acc = match r.validation_accuracy {
            Some(_) => format!("  valid acc {}", pct(r.validation_accuracy)),
            None => String::new(),
        };
        let train_acc = match r.train_accuracy {
            Some(_) => format!("  train acc {}", pct(r.train_accuracy)),
            None => String::new(),
        };
        let line = format!(
            "epoch {:3}: E_t {:.4}{valid}{train_acc}{valid_acc}  lr {:.0e}  {:.2}s",
            r.epoch, r.train_loss, r.learning_rate, r.seconds
        );
        observer_bar.suspend(|| println!("{line}"));
        observer_bar.inc(1);
        Control::Continue
    };
    (bar, observer)
}

/// Draws `E_t` and `E_v` per epoch into an SVG file.
pub fn plot_learning_curve(
    history: &History,
    title: &str,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let train: Vec<(f64, f64)> = history
        .epochs
        .iter()
        .map(|r| (r.epoch as f64, r.train_loss))
        .collect();
    let valid: Vec<(f64, f64)> = history
        .epochs
        .iter()
        .filter_map(|r| r.validation_loss.map(|v| (r.epoch as f64, v)))
        .collect();
    let top = train.iter().chain(&valid).map(|p| p.1).fold(0.0, f64::max) * 1.05;
    let last = history.epochs.len().max(2) as f64;
    let root = SVGBackend::new(path, (720, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1.0..last, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("mean loss per example")
        .draw()?;
    chart
        .draw_series(LineSeries::new(train, &BLUE))?
        .label("E_t (training)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(LineSeries::new(valid, &RED))?
        .label("E_v (validation)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Draws the first layer's filters (a convolution's weights, one `kh × kw` square per
/// output channel of a one-channel input), each scaled to its own range: dark is its
/// most negative weight, light its most positive.
pub fn plot_filters(
    net: &Network<f32>,
    title: &str,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let layer = net.layer(0).ok_or("no first layer")?;
    let settings = layer.settings()?;
    let kernel: Vec<usize> = serde_json_list(&settings["kernel"]);
    let (kh, kw) = (
        kernel.first().copied().unwrap_or(1),
        kernel.get(1).copied().unwrap_or(1),
    );
    let mut weight = Vec::new();
    let mut filters = 0;
    layer.visit_params(&mut |spec, v| {
        if spec.name == "weight" {
            weight = v.to_vec();
            filters = spec.rows;
        }
    });
    let per_row = 8;
    let (cell, gap) = (12i32, 8i32);
    let side = |n: usize| n as i32 * cell;
    let width = per_row as i32 * (side(kw) + gap) + gap;
    let height = filters.div_ceil(per_row) as i32 * (side(kh) + gap) + gap + 30;
    let root = SVGBackend::new(path, (width as u32, height as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    root.draw(&Text::new(title.to_owned(), (gap, 6), ("sans-serif", 14)))?;
    for f in 0..filters {
        // Row f of the column-major filters × (kh·kw) matrix: weight[f + filters·q].
        let w: Vec<f32> = (0..kh * kw).map(|q| weight[f + filters * q]).collect();
        let (lo, hi) = w
            .iter()
            .fold((f32::MAX, f32::MIN), |(l, h), &x| (l.min(x), h.max(x)));
        let (x0, y0) = (
            gap + (f % per_row) as i32 * (side(kw) + gap),
            30 + gap + (f / per_row) as i32 * (side(kh) + gap),
        );
        for (q, &x) in w.iter().enumerate() {
            let shade = (255.0 * (x - lo) / (hi - lo).max(f32::MIN_POSITIVE)) as u8;
            let (i, j) = ((q / kw) as i32, (q % kw) as i32);
            let top_left = (x0 + j * cell, y0 + i * cell);
            let bottom_right = (top_left.0 + cell, top_left.1 + cell);
            root.draw(&Rectangle::new(
                [top_left, bottom_right],
                RGBColor(shade, shade, shade).filled(),
            ))?;
        }
    }
    root.present()?;
    Ok(())
}

/// A JSON list of non-negative integers.
fn serde_json_list(v: &nn_core::serde_json::Value) -> Vec<usize> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x as usize)
                .collect()
        })
        .unwrap_or_default()
}

/// Evaluates on the test set, prints the confusion matrix, and returns the accuracy.
pub fn test_report(
    net: &Network<f32>,
    test: &Dataset<f32>,
    n_classes: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let predicted = argmax_columns(&net.evaluate(test.inputs())?);
    let actual = test.classes().ok_or("test targets are not one-hot")?;
    let cm = ConfusionMatrix::new(&predicted, &actual, n_classes)?;
    println!(
        "\nconfusion matrix on {} test examples (rows: actual, columns: predicted):\n{cm}",
        test.len()
    );
    Ok(cm.accuracy())
}

/// The value after `flag` on the command line, if any.
pub fn arg(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// The `--data DIR` argument, or a message on where to get the files.
pub fn data_dir(example: &str, files_from: &str) -> Option<std::path::PathBuf> {
    match arg("--data") {
        Some(dir) => Some(dir.into()),
        None => {
            eprintln!(
                "usage: cargo run --release --example {example} -- --data DIR [--threads N]\n\n\
                 DIR holds the four IDX files (gzip-compressed or raw):\n  \
                 train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],\n  \
                 t10k-images-idx3-ubyte[.gz],  t10k-labels-idx1-ubyte[.gz]\n\n\
                 {files_from}"
            );
            None
        }
    }
}

/// The network an example trains on 28×28 images.
#[allow(dead_code)] // each example uses one
pub enum Model {
    /// 784-256-128-10 with ReLU, Adam on a cosine schedule from 1e-3.
    Mlp,
    /// W5 of the benchmarks (two 5×5 convolutions with max pooling, dense 128 and 10),
    /// Adam at 1e-3.
    Cnn,
    /// W6 of the benchmarks (each image as 28 steps of its 28-pixel rows, an Elman layer of
    /// 128 tanh units, dense 10 on the last state), Adam at 1e-3.
    Rnn,
    /// The same with an LSTM layer of 128 cells instead of the Elman layer.
    Lstm,
    /// The same with a GRU layer of 128 cells.
    Gru,
}

impl Model {
    fn describe(&self) -> &'static str {
        match self {
            Model::Mlp => "784-256-128-10",
            Model::Cnn => "conv5×5(16)-pool-conv5×5(32)-pool-128-10",
            Model::Rnn => "28×28 rows-Elman(128, tanh)-10",
            Model::Lstm => "28×28 rows-LSTM(128)-10",
            Model::Gru => "28×28 rows-GRU(128)-10",
        }
    }

    fn build(&self, rng: &mut rand::rngs::StdRng) -> Result<Network<f32>, nn_core::CoreError> {
        use nn_activations::{Identity, Relu};
        let b = Network::<f32>::builder(784);
        let b = match self {
            Model::Mlp => b.layer(256, Relu).layer(128, Relu),
            Model::Cnn => b
                .image(1, 28, 28)
                .conv(nn_core::Conv::new(16, 5).padding(2), Relu)
                .max_pool(2)
                .conv(nn_core::Conv::new(32, 5).padding(2), Relu)
                .max_pool(2)
                .layer(128, Relu),
            Model::Rnn => b
                .sequence(28, 28)
                .elman(128, nn_activations::Tanh, nn_core::Steps::Last),
            Model::Lstm => b.sequence(28, 28).lstm(128, nn_core::Steps::Last),
            Model::Gru => b.sequence(28, 28).gru(128, nn_core::Steps::Last),
        };
        b.layer(10, Identity).build(rng)
    }
}

/// Trains `model` with softmax cross-entropy and Adam (batch 64) on an MNIST-style
/// directory and reports the test accuracy (the last line of output).
pub fn train_idx_classifier(
    title: &str,
    dir: &Path,
    out: &Path,
    epochs: usize,
    model: Model,
) -> Result<(), Box<dyn std::error::Error>> {
    use nn_core::SoftmaxCrossEntropy;
    use nn_train::{Adam, Cosine, MnistSplit, Schedule, Trainer, TrainerConfig, load_mnist};
    use rand::SeedableRng;

    // `--threads N` shares each training step between N threads (default: 1 for the
    // MLP, every core for the CNN and RNN).
    let default_threads = match model {
        Model::Mlp => 1,
        Model::Cnn | Model::Rnn | Model::Lstm | Model::Gru => {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    };
    let threads = match arg("--threads").map(|t| t.parse::<usize>()) {
        None => default_threads,
        Some(Ok(t)) => t,
        Some(Err(e)) => return Err(format!("--threads: {e}").into()),
    };
    let start = std::time::Instant::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let all = load_mnist::<f32>(dir, MnistSplit::Train)?;
    let test = load_mnist::<f32>(dir, MnistSplit::Test)?;
    // The MLP holds out 1/12 of the training images (5,000) for validation, stratified;
    // the CNN and RNN train on all 60,000, as the PyTorch figures they are compared with
    // did.
    let (train, valid) = match model {
        Model::Mlp => {
            let (train, valid) = all.split(1.0 / 12.0, &mut rng)?;
            (train, Some(valid))
        }
        Model::Cnn | Model::Rnn | Model::Lstm | Model::Gru => (all, None),
    };
    println!(
        "{title}: {} training, {} validation, {} test images (loaded in {:.1} s)",
        train.len(),
        valid.as_ref().map_or(0, |v| v.len()),
        test.len(),
        start.elapsed().as_secs_f64()
    );
    let mut net = model.build(&mut rng)?;
    let schedule: Box<dyn Schedule> = match model {
        Model::Mlp => Box::new(Cosine {
            initial: 1e-3,
            min: 5e-5,
            period: epochs,
        }),
        Model::Cnn | Model::Rnn | Model::Lstm | Model::Gru => Box::new(1e-3),
    };
    let mut trainer = Trainer::new(TrainerConfig {
        epochs,
        batch_size: 64,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer: Box::new(Adam::default()),
        schedule,
        seed: 7,
        threads,
        ..TrainerConfig::default()
    })?;
    let (bar, observer) = epoch_progress(epochs);
    let history = trainer.fit_with(&mut net, &train, valid.as_ref(), observer)?;
    bar.finish_and_clear();
    let per_epoch =
        history.epochs.iter().map(|r| r.seconds).sum::<f64>() / history.epochs.len() as f64;
    match valid {
        Some(_) => println!(
            "{per_epoch:.2} s per epoch; diagnosis: {}",
            history.diagnose()
        ),
        None => println!("{per_epoch:.2} s per epoch"),
    }
    std::fs::create_dir_all(out)?;
    net.save(out.join("model.safetensors"))?;
    plot_learning_curve(
        &history,
        &format!("{title} {}: learning curve", model.describe()),
        &out.join("learning-curve.svg"),
    )?;
    println!(
        "saved {} and {}",
        out.join("model.safetensors").display(),
        out.join("learning-curve.svg").display()
    );
    if let Model::Cnn = model {
        plot_filters(
            &net,
            &format!("{title}: first-layer filters"),
            &out.join("filters.svg"),
        )?;
        println!("saved {}", out.join("filters.svg").display());
    }
    let acc = test_report(&net, &test, 10)?;
    println!("test accuracy: {:.1}%", 100.0 * acc);
    Ok(())
}
