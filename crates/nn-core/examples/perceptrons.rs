//! The notes' perceptrons (§2.2.2.3): the majority function with the corrected bias
//! (errata 3), and OR and AND as threshold perceptrons, hand-set and learned.
//!
//! Run: `cargo run --release -p nn-core --example perceptrons`

use nn_activations::Threshold;
use nn_core::{Dense, Network, train_perceptron};
use nn_math::{Matrix, Vector};

/// All 2ⁿ binary inputs, one per column.
fn all_binary_inputs(n: usize) -> Matrix<f64> {
    Matrix::from_fn(n, 1 << n, |i, j| ((j >> i) & 1) as f64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Majority: w = 1, b = −n/2 (errata 3; the notes print +n/2, which answers 1 always).
    for n in 1..=10 {
        let layer = Dense::new(
            Matrix::from_element(1, n, 1.0),
            Vector::from_element(1, -(n as f64) / 2.0),
            Threshold,
        )?;
        let net = Network::from_layers(n, vec![layer])?;
        let x = all_binary_inputs(n);
        let out = net.evaluate(&x)?;
        let right = x
            .column_iter()
            .zip(out.iter())
            .filter(|(col, a)| (col.sum() > n as f64 / 2.0) == (**a == 1.0))
            .count();
        println!(
            "majority of {n:2} inputs: {right:4}/{} inputs right",
            1 << n
        );
    }

    // OR and AND: a = Threshold(x₁ + x₂ + b) with b = −0.5 and b = −1.5.
    let x = all_binary_inputs(2);
    for (name, bias, truth) in [
        ("OR", -0.5, [0., 1., 1., 1.]),
        ("AND", -1.5, [0., 0., 0., 1.]),
    ] {
        let layer = Dense::new(
            Matrix::from_element(1, 2, 1.0),
            Vector::from_element(1, bias),
            Threshold,
        )?;
        let out = Network::from_layers(2, vec![layer])?.evaluate(&x)?;
        println!("{name} (hand-set, b = {bias}): {:?}", out.as_slice());

        // The perceptron rule finds such weights by itself: both are linearly separable.
        let mut learned = Dense::new(Matrix::zeros(1, 2), Vector::zeros(1), Threshold)?;
        let epochs = train_perceptron(
            &mut learned,
            &x,
            &Matrix::from_row_slice(1, 4, &truth),
            1.0,
            100,
        )?;
        println!(
            "{name} (perceptron rule): converged after {epochs:?} epochs, w = {:?}, b = {}",
            learned.weight_slice(),
            learned.bias()[0]
        );
    }
    Ok(())
}
