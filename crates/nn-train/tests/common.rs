//! Shared fixtures: small seeded networks and data sets.

use nn_activations::{Identity, Relu, Tanh};
use nn_core::Network;
use nn_math::Matrix;
use nn_train::Dataset;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A 2-8-3 classifier (ReLU, identity output for softmax cross-entropy).
pub fn classifier(seed: u64) -> Network<f64> {
    Network::builder(2)
        .layer(8, Relu)
        .layer(3, Identity)
        .build(&mut StdRng::seed_from_u64(seed))
        .unwrap()
}

/// A 1-8-1 regressor.
pub fn regressor(seed: u64) -> Network<f64> {
    Network::builder(1)
        .layer(8, Tanh)
        .layer(1, Identity)
        .build(&mut StdRng::seed_from_u64(seed))
        .unwrap()
}

/// Three noisy 2-D blobs, one-hot labels: `n` examples per class.
pub fn blobs(n: usize, seed: u64) -> Dataset<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let centers = [(-1.0, -1.0), (1.0, -1.0), (0.0, 1.0)];
    let total = 3 * n;
    let mut x = Matrix::zeros(2, total);
    let mut y = Matrix::zeros(3, total);
    for j in 0..total {
        let c = j % 3;
        x[(0, j)] = centers[c].0 + 0.4 * (rng.random::<f64>() - 0.5);
        x[(1, j)] = centers[c].1 + 0.4 * (rng.random::<f64>() - 0.5);
        y[(c, j)] = 1.0;
    }
    Dataset::new(x, y).unwrap()
}

/// `y = sin(x)` on `n` points of [−2, 2].
pub fn sine(n: usize) -> Dataset<f64> {
    let x = Matrix::from_fn(1, n, |_, j| -2.0 + 4.0 * j as f64 / (n - 1) as f64);
    let y = x.map(f64::sin);
    Dataset::new(x, y).unwrap()
}
