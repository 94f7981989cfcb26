//! Draws every activation function of §2.1.1 and its derivative, from the library's own
//! code, as the notes' Figures 2–11 (plus tanh and the identity): one SVG per function.
//!
//! Run: `cargo xtask plots` (writes `docs/figures/`), or
//! `cargo run -p nn-activations --example plot_activations -- DIR`.

use std::path::PathBuf;

use nn_activations::{
    Activation, Builtin, Elu, Identity, Mish, PRelu, Relu, Sigmoid, Sign, Silu, Softplus,
    Squareplus, Tanh, Threshold,
};
use plotters::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/figures".into()),
    );
    std::fs::create_dir_all(&dir)?;
    // (figure number in the notes, file stem, title, function): the notes' parameters.
    let figures: Vec<(&str, &str, &str, Builtin<f64>)> = vec![
        ("02", "threshold", "Threshold(x)", Threshold.into()),
        ("03", "sign", "Sign(x)", Sign.into()),
        ("04", "sigmoid", "σ₁,₁(x)", Sigmoid::default().into()),
        ("05", "relu", "ReLU(x)", Relu.into()),
        ("06", "prelu", "PReLU₀.₀₅(x)", PRelu::new(0.05)?.into()),
        ("07", "silu", "SiLU₁,₁(x)", Silu::default().into()),
        ("08", "elu", "ELU₁(x)", Elu::default().into()),
        (
            "09",
            "softplus",
            "Softplus₁,₁(x)",
            Softplus::default().into(),
        ),
        ("10", "mish", "Mish₁(x)", Mish::default().into()),
        (
            "11",
            "squareplus",
            "Squareplus₁(x)",
            Squareplus::default().into(),
        ),
        ("xx", "tanh", "tanh(x)", Tanh.into()),
        ("xx", "identity", "id(x)", Identity.into()),
    ];
    for (number, stem, title, f) in figures {
        let name = if number == "xx" {
            format!("{stem}.svg")
        } else {
            format!("figure-{number}-{stem}.svg")
        };
        let path = dir.join(&name);
        draw(&f, title, &path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// f (blue) and f' (red, dashed) on [−4, 4]; the derivative at the documented value where
/// f has a kink.
fn draw(
    f: &Builtin<f64>,
    title: &str,
    path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let xs: Vec<f64> = (0..=800)
        .map(|i| -4.0 + 8.0 * f64::from(i) / 800.0)
        .collect();
    let fx: Vec<(f64, f64)> = xs.iter().map(|&x| (x, f.f(x))).collect();
    let dfx: Vec<(f64, f64)> = xs.iter().map(|&x| (x, f.df(x))).collect();
    let (lo, hi) = fx
        .iter()
        .chain(&dfx)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    let pad = 0.1 * (hi - lo).max(1.0);
    let root = SVGBackend::new(path, (560, 380)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{title} and its derivative"), ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(-4.0..4.0, (lo - pad)..(hi + pad))?;
    chart.configure_mesh().draw()?;
    chart
        .draw_series(LineSeries::new(fx, BLUE.stroke_width(2)))?
        .label("f(x)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(DashedLineSeries::new(dfx, 6, 4, RED.stroke_width(2)))?
        .label("f'(x)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}
