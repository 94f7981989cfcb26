//! Sequences of different lengths in one batch (guide §13): gradients against central
//! differences over random cells, sizes, lengths and thread counts; a padded sequence
//! computes exactly what the shorter sequence does; padding values change nothing; bad
//! lengths are errors.

use nn_activations::{Identity, Tanh};
use nn_core::gradcheck::{NetworkCheck, check_network};
use nn_core::{HalfSquaredError, Network, Precision, Steps, TorchNames, Workspace};
use nn_math::Matrix;
use proptest::prelude::*;
use rand::{SeedableRng, rngs::StdRng};

/// See `layer_gradients.rs`.
const TOLERANCE: f64 = 1e-6;

/// A recurrent network: cell 0 Elman, 1 LSTM, 2 GRU, over `steps` steps of `n_x`
/// values, then a dense layer on the last state or a per-step dense layer on all.
fn network(cell: u8, steps: usize, n_x: usize, n_h: usize, all: bool, seed: u64) -> Network<f64> {
    let output = if all { Steps::All } else { Steps::Last };
    let b = Network::<f64>::builder(steps * n_x).sequence(steps, n_x);
    let b = match cell % 3 {
        0 => b.elman(n_h, Tanh, output),
        1 => b.lstm(n_h, output),
        _ => b.gru(n_h, output),
    };
    let b = if all {
        b.layer_per_step(2, Identity)
    } else {
        b.layer(2, Identity)
    };
    b.build(&mut StdRng::seed_from_u64(seed)).unwrap()
}

fn sequences(n: usize, b: usize, seed: u64) -> Matrix<f64> {
    Matrix::from_fn(n, b, |i, j| {
        ((seed % 89) as f64 + 1.3 * (i * b + j) as f64).sin()
    })
}

proptest! {
    #[test]
    fn variable_length_networks_pass_the_check_on_any_thread_count(
        (cell, steps, n_x, n_h) in (0u8..3, 1usize..=5, 1usize..=3, 1usize..=4),
        all in any::<bool>(),
        fractions in prop::collection::vec(0.0..1.0f64, 1..6),
        threads in 1usize..=3,
        seed in any::<u64>(),
    ) {
        let net = network(cell, steps, n_x, n_h, all, seed);
        let lengths: Vec<usize> = fractions.iter().map(|f| 1 + (f * steps as f64) as usize % steps).collect();
        let b = lengths.len();
        let x = sequences(net.n_inputs(), b, seed);
        let y = Matrix::from_fn(net.n_outputs(), b, |i, j| ((i + 3 * j) as f64).cos());
        let options = NetworkCheck { threads, lengths, ..NetworkCheck::default() };
        let report = check_network(&net, &x, &y, &HalfSquaredError, &options).unwrap();
        prop_assert!(report.max_error < TOLERANCE, "{report}");
        prop_assert_eq!(report.checked, net.n_params());
    }
}

/// `net`'s weights in a network of `steps` steps (the weights do not depend on them).
fn with_steps(
    net: &Network<f64>,
    cell: u8,
    steps: usize,
    n_x: usize,
    n_h: usize,
    all: bool,
) -> Network<f64> {
    let names = TorchNames::Prefixes(vec!["rnn".into(), "head".into()]);
    let bytes = net.to_torch_state_dict(&names).unwrap();
    let mut short = network(cell, steps, n_x, n_h, all, 0);
    short
        .load_torch_state_dict(&bytes, &names, Precision::Exact)
        .unwrap();
    short
}

/// The loss and gradient of one batch, with `lengths` (empty for none).
fn step(
    net: &Network<f64>,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    lengths: &[usize],
) -> (f64, Vec<f64>, Matrix<f64>) {
    let mut ws = Workspace::new();
    ws.set_lengths(lengths).unwrap();
    let out = net.evaluate_with(x, &mut ws).unwrap().clone_owned();
    let mut grad = net.gradient();
    let loss = net
        .adjust_gradient(&mut ws, y, &HalfSquaredError, &mut grad)
        .unwrap();
    let flat = grad
        .layers()
        .iter()
        .flat_map(|l| {
            l.tensors()
                .iter()
                .flat_map(|t| t.iter().copied())
                .collect::<Vec<_>>()
        })
        .collect();
    (loss, flat, out)
}

#[test]
fn a_padded_sequence_computes_what_the_shorter_sequence_does() {
    let (steps, n_x, n_h) = (6, 2, 3);
    for cell in 0..3 {
        for all in [false, true] {
            let net = network(cell, steps, n_x, n_h, all, 7 + u64::from(cell));
            for len in 1..=steps {
                let short = with_steps(&net, cell, len, n_x, n_h, all);
                let x = sequences(steps * n_x, 1, 3);
                let x_short = x.rows(0, len * n_x).clone_owned();
                let y = Matrix::from_fn(net.n_outputs(), 1, |i, _| (i as f64).sin());
                let y_short = y.rows(0, short.n_outputs()).clone_owned();
                let (l1, g1, o1) = step(&net, &x, &y, &[len]);
                let (l2, g2, o2) = step(&short, &x_short, &y_short, &[]);
                let what = format!("cell {cell}, all {all}, length {len}");
                assert!((l1 - l2).abs() < 1e-14, "{what}: loss {l1} vs {l2}");
                assert!(
                    g1.iter().zip(&g2).all(|(a, b)| (a - b).abs() < 1e-14),
                    "{what}: gradients"
                );
                let valid = o2.nrows();
                assert!((o1.rows(0, valid) - &o2).amax() < 1e-14, "{what}: outputs");
                if all {
                    // The padded steps' outputs are 0 through the per-step layer too.
                    assert!(
                        o1.rows(valid, o1.nrows() - valid).iter().all(|&v| v == 0.0),
                        "{what}"
                    );
                }
            }
        }
    }
}

#[test]
fn padding_values_change_nothing_on_any_thread_count() {
    let net = network(1, 5, 2, 3, true, 11);
    let lengths = [2, 5, 1, 4];
    let x = sequences(10, 4, 5);
    let mut noisy = x.clone();
    for (b, &len) in lengths.iter().enumerate() {
        for i in len * 2..10 {
            noisy[(i, b)] = 1e3 * (i as f64 + 1.0);
        }
    }
    let y = Matrix::from_fn(net.n_outputs(), 4, |i, j| ((i * j) as f64).cos());
    let (l1, g1, o1) = step(&net, &x, &y, &lengths);
    let (l2, g2, o2) = step(&net, &noisy, &y, &lengths);
    assert_eq!((l1, &g1, &o1), (l2, &g2, &o2));
    assert_eq!(net.evaluate_sequences(&noisy, &lengths).unwrap(), o1);
    // Two threads (split by examples) agree to rounding.
    let mut ws = Workspace::with_threads(2).unwrap();
    ws.set_lengths(&lengths).unwrap();
    let o3 = net.evaluate_with(&noisy, &mut ws).unwrap().clone_owned();
    let mut grad = net.gradient();
    let l3 = net
        .adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut grad)
        .unwrap();
    assert!((&o3 - &o1).amax() < 1e-14 && (l3 - l1).abs() < 1e-14);
}

#[test]
fn bad_lengths_are_errors_naming_the_example() {
    let net = network(2, 4, 2, 3, false, 1);
    let x = sequences(8, 3, 1);
    let mut ws = Workspace::new();
    for (lengths, what) in [
        (vec![1, 0, 2], "example 1 has 0 steps"),
        (
            vec![1, 5, 2],
            "example 1 has 5 steps, the layer takes 1 to 4",
        ),
        (vec![1, 2], "lengths has 2 entries"),
    ] {
        ws.set_lengths(&lengths).unwrap();
        let err = net.evaluate_with(&x, &mut ws).unwrap_err();
        assert!(err.to_string().contains(what), "{what}: {err}");
    }
    ws.set_lengths(&[]).unwrap();
    assert!(net.evaluate_with(&x, &mut ws).is_ok());
}
