//! XOR (§2.2.2.3.2): a threshold perceptron cannot learn it, a 2-2-1 sigmoid network
//! trained by backpropagation can.
//!
//! Run: `cargo run --release -p nn-core --example xor`

use nn_activations::{Sigmoid, Threshold};
use nn_core::{Dense, HalfSquaredError, Init, Network, train_perceptron};
use nn_math::{Matrix, Vector};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The seed of the network's initial weights. A 2-2-1 network has local minima; from
/// this starting point backpropagation reaches a global one (the test suite checks it).
const SEED: u64 = 1;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The four inputs, one per column, and XOR's outputs.
    let x = Matrix::from_column_slice(2, 4, &[0., 0., 0., 1., 1., 0., 1., 1.]);
    let y = Matrix::from_row_slice(1, 4, &[0., 1., 1., 0.]);

    // 1. The perceptron rule never gets all four right: XOR is not linearly separable.
    let mut perceptron = Dense::new(Matrix::zeros(1, 2), Vector::zeros(1), Threshold)?;
    let outcome = train_perceptron(&mut perceptron, &x, &y, 1.0, 1000)?;
    let single = Network::from_layers(2, vec![perceptron])?;
    let out = single.evaluate(&x)?;
    let right = out.iter().zip(y.iter()).filter(|(a, b)| a == b).count();
    println!(
        "perceptron after 1000 epochs: converged = {}, {right}/4 right",
        outcome.is_some()
    );

    // 2. A 2-2-1 sigmoid network learns it with backpropagation (Algorithms 1, 5–10).
    let mut net = Network::<f64>::builder(2)
        .layer(2, Sigmoid::default())
        .layer(1, Sigmoid::default())
        .init(Init::Uniform {
            low: -1.0,
            high: 1.0,
        })
        .build(&mut StdRng::seed_from_u64(SEED))?;
    let (mut ws, mut grad) = (net.workspace(), net.gradient());
    let mut loss = f64::INFINITY;
    for epoch in 1..=5000 {
        net.clear_gradient(&mut grad)?;
        net.evaluate_with(&x, &mut ws)?;
        loss = net.adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut grad)?;
        net.apply_gradient(&grad, 2.0)?;
        if epoch % 1000 == 0 {
            println!("epoch {epoch}: mean half squared error {loss:.6}");
        }
    }
    let out = net.evaluate(&x)?;
    for (j, col) in x.column_iter().enumerate() {
        println!(
            "XOR({}, {}) = {:.3} (target {})",
            col[0],
            col[1],
            out[(0, j)],
            y[(0, j)]
        );
    }
    let right = out
        .iter()
        .zip(y.iter())
        .filter(|(a, t)| (**a > 0.5) == (**t > 0.5))
        .count();
    println!("network: {right}/4 right, final loss {loss:.6}");
    Ok(())
}
