//! The Elman layer (guide §13): backpropagation through time against central
//! differences through the gradient-check API, alone and in networks, over random sizes,
//! sequence lengths, outputs, batch sizes and thread counts; its definition by hand; and
//! its bad input.

use nn_activations::{Identity, Relu, Tanh};
use nn_core::gradcheck::{NetworkCheck, check_layer, check_network};
use nn_core::{Elman, HalfSquaredError, Init, Layer, Network, SoftmaxCrossEntropy, Steps};
use nn_math::Matrix;
use proptest::prelude::*;
use rand::{SeedableRng, rngs::StdRng};

use crate::common::{distributions, layer_activation};

/// See `layer_gradients.rs`.
const TOLERANCE: f64 = 1e-6;

fn elman() -> impl Strategy<Value = Elman<f64>> {
    (
        1usize..=5,
        1usize..=4,
        1usize..=5,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_flat_map(|(steps, n_x, n_h, all, seed)| {
            (layer_activation(n_h), Just((steps, n_x, n_h, all, seed)))
        })
        .prop_map(|(act, (steps, n_x, n_h, all, seed))| {
            let output = if all { Steps::All } else { Steps::Last };
            let mut rng = StdRng::seed_from_u64(seed);
            Elman::init(steps, n_x, n_h, act, output, Init::XavierUniform, &mut rng).unwrap()
        })
}

fn sequences(n: usize, b: usize, seed: u64) -> Matrix<f64> {
    Matrix::from_fn(n, b, |i, j| {
        ((seed % 89) as f64 + 1.3 * (i * b + j) as f64).sin() * 1.5
    })
}

/// Checks every parameter of `net` on the batch `(x, y)` through a workspace of
/// `threads` threads.
fn passes_on_threads(
    net: &Network<f64>,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    threads: usize,
) -> Result<(), TestCaseError> {
    let options = NetworkCheck {
        threads,
        ..NetworkCheck::default()
    };
    let report = check_network(net, x, y, &HalfSquaredError, &options).unwrap();
    prop_assert!(report.max_error < TOLERANCE, "{report}");
    prop_assert_eq!(report.checked, net.n_params());
    Ok(())
}

proptest! {
    #[test]
    fn an_elman_layer_passes_the_check(rnn in elman(), b in 1usize..4, seed in any::<u64>()) {
        let x = sequences(rnn.n_inputs(), b, seed);
        let report = check_layer(&rnn, &x, 1e-6).unwrap();
        prop_assert!(report.max_error < TOLERANCE, "{report}");
        let (n_x, n_h) = (rnn.step_inputs(), rnn.hidden());
        prop_assert_eq!(report.checked, n_h * n_x + n_h * n_h + 2 * n_h + x.len());
    }

    #[test]
    fn stacked_recurrent_networks_pass_on_any_thread_count(
        (steps, n_x, h1, h2) in (1usize..=4, 1usize..=3, 1usize..=4, 1usize..=4),
        last in any::<bool>(), threads in 1usize..=3, b in 1usize..6, seed in any::<u64>(),
    ) {
        let net = Network::<f64>::builder(steps * n_x)
            .sequence(steps, n_x)
            .elman(h1, Tanh, Steps::All)
            .elman(h2, nn_activations::Silu::default(), if last { Steps::Last } else { Steps::All })
            .layer(2, Identity)
            .build(&mut StdRng::seed_from_u64(seed))
            .unwrap();
        let x = sequences(net.n_inputs(), b, seed);
        let y = Matrix::from_fn(2, b, |i, j| ((i + 3 * j) as f64).cos());
        passes_on_threads(&net, &x, &y, threads)?;
    }

    #[test]
    fn a_recurrent_classifier_passes(y in distributions(3, 4), seed in any::<u64>()) {
        let net = Network::<f64>::builder(12).sequence(4, 3)
            .elman(5, Tanh, Steps::Last)
            .layer(3, Identity)
            .build(&mut StdRng::seed_from_u64(seed)).unwrap();
        let x = sequences(12, 4, seed);
        let report = check_network(&net, &x, &y, &SoftmaxCrossEntropy, &NetworkCheck::default()).unwrap();
        prop_assert!(report.max_error < TOLERANCE, "{report}");
    }
}

/// The recurrence written out for two steps of one example.
#[test]
fn an_elman_layer_computes_its_definition() {
    let w_x = Matrix::from_row_slice(2, 1, &[0.5, -1.0]);
    let w_h = Matrix::from_row_slice(2, 2, &[0.1, 0.2, 0.3, 0.4]);
    let rnn = Elman::new(
        2,
        w_x,
        w_h,
        (vec![0.1, 0.0], vec![0.0, -0.2]),
        Identity,
        Steps::All,
    )
    .unwrap();
    let x = Matrix::from_column_slice(2, 1, &[1.0, 2.0]);
    let mut out = Matrix::zeros(4, 1);
    let mut scratch = vec![0.0; rnn.scratch_len(1)];
    rnn.forward(x.as_view(), out.as_view_mut(), &mut scratch)
        .unwrap();
    // h1 = W_x·1 + b = (0.6, −1.2); h2 = W_x·2 + b + W_h·h1 = (1.1 − 0.18, −2.2 − 0.3).
    let h1: [f64; 2] = [0.6, -1.2];
    let h2 = [
        1.1 + 0.1 * h1[0] + 0.2 * h1[1],
        -2.2 + 0.3 * h1[0] + 0.4 * h1[1],
    ];
    let want: [f64; 4] = [h1[0], h1[1], h2[0], h2[1]];
    for (o, w) in out.iter().zip(want) {
        assert!((o - w).abs() < 1e-15, "{out} vs {want:?}");
    }
}

#[test]
fn bad_recurrent_networks_are_errors_naming_the_sizes() {
    let mut rng = StdRng::seed_from_u64(1);
    let e = Network::<f32>::builder(784)
        .sequence(28, 27)
        .elman(8, Tanh, Steps::Last)
        .build(&mut rng)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("28 steps of 27 values does not hold the network's 784 inputs"),
        "{e}"
    );
    let e = Network::<f32>::builder(784)
        .elman(8, Tanh, Steps::Last)
        .build(&mut rng)
        .unwrap_err()
        .to_string();
    assert!(e.contains("layer 0 (elman) needs a sequence"), "{e}");
    let e = Network::<f32>::builder(784)
        .sequence(28, 28)
        .elman(8, Tanh, Steps::Last)
        .elman(8, Relu, Steps::Last)
        .build(&mut rng)
        .unwrap_err()
        .to_string();
    assert!(e.contains("layer 1 (elman) needs a sequence"), "{e}");
    let e = Network::<f32>::builder(0)
        .sequence(0, 28)
        .elman(8, Tanh, Steps::Last)
        .build(&mut rng)
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least one input"), "{e}");
    let e = Elman::<f32>::init(0, 3, 4, Tanh, Steps::Last, Init::Auto, &mut rng)
        .unwrap_err()
        .to_string();
    assert!(e.contains("0 steps of 3 inputs into 4 neurons"), "{e}");
    let e = Elman::new(
        2,
        Matrix::<f32>::zeros(4, 3),
        Matrix::zeros(4, 3),
        (vec![0.0; 4], vec![0.0; 4]),
        Tanh,
        Steps::Last,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("recurrent weights are 4×3, the layer needs 4×4"),
        "{e}"
    );
    let e = Elman::new(
        2,
        Matrix::<f32>::zeros(4, 3),
        Matrix::zeros(4, 4),
        (vec![0.0; 4], vec![0.0; 3]),
        Tanh,
        Steps::Last,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("4 and 3 biases for 4 neurons"), "{e}");
    let e = Elman::new(
        2,
        Matrix::<f32>::zeros(4, 3),
        Matrix::zeros(4, 4),
        (vec![0.0; 4], vec![0.0; 4]),
        vec![Tanh.into()],
        Steps::Last,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("1 per-neuron activations for 4 neurons"), "{e}");
}

proptest! {
    /// Many-to-many: an Elman layer handing on every state to a dense layer applied per
    /// step, with a loss over every step's output.
    #[test]
    fn a_many_to_many_network_passes_on_any_thread_count(
        (steps, n_x, h, out) in (1usize..=4, 1usize..=3, 1usize..=4, 1usize..=3),
        threads in 1usize..=3, b in 1usize..5, seed in any::<u64>(),
    ) {
        let net = Network::<f64>::builder(steps * n_x)
            .sequence(steps, n_x)
            .elman(h, Tanh, Steps::All)
            .layer_per_step(out, nn_activations::Softplus::default())
            .build(&mut StdRng::seed_from_u64(seed))
            .unwrap();
        prop_assert_eq!(net.n_outputs(), steps * out);
        let x = sequences(net.n_inputs(), b, seed);
        let y = Matrix::from_fn(steps * out, b, |i, j| ((i + 2 * j) as f64).sin());
        passes_on_threads(&net, &x, &y, threads)?;
    }
}

#[test]
fn a_per_step_layer_needs_a_sequence() {
    let e = Network::<f32>::builder(12)
        .sequence(4, 3)
        .elman(5, Tanh, Steps::Last)
        .layer_per_step(2, Identity)
        .build(&mut StdRng::seed_from_u64(1))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("layer 1 (dense_per_step) needs a sequence"),
        "{e}"
    );
}

proptest! {
    #[test]
    fn an_lstm_layer_passes_the_check(
        (steps, n_x, n_h) in (1usize..=4, 1usize..=3, 1usize..=4),
        all in any::<bool>(), b in 1usize..4, seed in any::<u64>(),
    ) {
        let output = if all { Steps::All } else { Steps::Last };
        let lstm = nn_core::Lstm::init(steps, n_x, n_h, output, Init::XavierUniform, &mut StdRng::seed_from_u64(seed)).unwrap();
        let x = sequences(lstm.n_inputs(), b, seed);
        let report = check_layer(&lstm, &x, 1e-6).unwrap();
        prop_assert!(report.max_error < TOLERANCE, "{report}");
        prop_assert_eq!(report.checked, 4 * n_h * (n_x + n_h + 2) + x.len());
    }

    #[test]
    fn lstm_networks_pass_on_any_thread_count(
        (steps, n_x, h1, h2) in (1usize..=4, 1usize..=3, 1usize..=3, 1usize..=3),
        threads in 1usize..=3, b in 1usize..5, seed in any::<u64>(),
    ) {
        let net = Network::<f64>::builder(steps * n_x)
            .sequence(steps, n_x)
            .lstm(h1, Steps::All)
            .elman(h2, Tanh, Steps::All)
            .layer_per_step(2, Identity)
            .build(&mut StdRng::seed_from_u64(seed))
            .unwrap();
        let x = sequences(net.n_inputs(), b, seed);
        let y = Matrix::from_fn(net.n_outputs(), b, |i, j| ((i + 3 * j) as f64).cos());
        passes_on_threads(&net, &x, &y, threads)?;
    }
}

/// One cell, one step, by hand: c = i·g, h = o·tanh(c).
#[test]
fn an_lstm_cell_computes_its_definition() {
    let w_x = Matrix::from_column_slice(4, 1, &[0.5, -1.0, 2.0, 0.25]);
    let lstm = nn_core::Lstm::new(
        1,
        w_x,
        Matrix::zeros(4, 1),
        (vec![0.1; 4], vec![0.0; 4]),
        Steps::Last,
    )
    .unwrap();
    let x = Matrix::from_column_slice(1, 1, &[0.8]);
    let mut out = Matrix::zeros(1, 1);
    let mut scratch = vec![0.0; lstm.scratch_len(1)];
    lstm.forward(x.as_view(), out.as_view_mut(), &mut scratch)
        .unwrap();
    let s = |z: f64| 1.0 / (1.0 + (-z).exp());
    let (i, g, o) = (
        s(0.5 * 0.8 + 0.1),
        (2.0f64 * 0.8 + 0.1).tanh(),
        s(0.25 * 0.8 + 0.1),
    );
    let want = o * (i * g).tanh();
    assert!(
        (out[(0, 0)] - want).abs() < 1e-15,
        "{} vs {want}",
        out[(0, 0)]
    );
}

proptest! {
    #[test]
    fn a_gru_layer_passes_the_check(
        (steps, n_x, n_h) in (1usize..=4, 1usize..=3, 1usize..=4),
        all in any::<bool>(), b in 1usize..4, seed in any::<u64>(),
    ) {
        let output = if all { Steps::All } else { Steps::Last };
        let gru = nn_core::Gru::init(steps, n_x, n_h, output, Init::XavierUniform, &mut StdRng::seed_from_u64(seed)).unwrap();
        let x = sequences(gru.n_inputs(), b, seed);
        let report = check_layer(&gru, &x, 1e-6).unwrap();
        prop_assert!(report.max_error < TOLERANCE, "{report}");
        prop_assert_eq!(report.checked, 3 * n_h * (n_x + n_h + 2) + x.len());
    }

    #[test]
    fn gru_networks_pass_on_any_thread_count(
        (steps, n_x, h1, h2) in (1usize..=4, 1usize..=3, 1usize..=3, 1usize..=3),
        threads in 1usize..=3, b in 1usize..5, seed in any::<u64>(),
    ) {
        let net = Network::<f64>::builder(steps * n_x)
            .sequence(steps, n_x)
            .gru(h1, Steps::All)
            .lstm(h2, Steps::Last)
            .layer(2, Identity)
            .build(&mut StdRng::seed_from_u64(seed))
            .unwrap();
        let x = sequences(net.n_inputs(), b, seed);
        let y = Matrix::from_fn(2, b, |i, j| ((i + 3 * j) as f64).cos());
        passes_on_threads(&net, &x, &y, threads)?;
    }
}

/// One backward pass of `layer` for the output gradient `c`: each tensor's gradient and
/// `∂C/∂x`.
fn backprop(
    layer: &dyn Layer<f64>,
    x: &Matrix<f64>,
    c: &Matrix<f64>,
) -> (Vec<Matrix<f64>>, Matrix<f64>) {
    let b = x.ncols();
    let mut out = Matrix::zeros(layer.n_outputs(), b);
    let mut scratch = vec![0.0; layer.scratch_len(b)];
    layer
        .forward(x.as_view(), out.as_view_mut(), &mut scratch)
        .unwrap();
    let mut grads = Vec::new();
    layer.visit_params(&mut |spec, _| grads.push(Matrix::zeros(spec.rows, spec.cols)));
    let mut d_in = Matrix::zeros(layer.n_inputs(), b);
    let mut d_out = c.clone();
    let saved = nn_core::Saved {
        input: x.as_view(),
        output: out.as_view(),
        scratch: &mut scratch,
    };
    layer
        .backward(
            saved,
            d_out.as_view_mut(),
            1.0,
            &mut grads,
            Some(d_in.as_view_mut()),
        )
        .unwrap();
    (grads, d_in)
}

proptest! {
    /// Truncated to `k` steps, a many-to-one layer passes no gradient to the inputs before
    /// its last `k` steps and the same as full backpropagation to the last `k`; truncated
    /// to `T` or more, it is full backpropagation, bit for bit.
    #[test]
    fn truncated_backpropagation_cuts_at_k_steps(
        (steps, n_x, n_h, k) in (2usize..=6, 1usize..=3, 1usize..=4, 1usize..=6),
        cell in 0usize..3, b in 1usize..3, seed in any::<u64>(),
    ) {
        let make = |t: Option<usize>, rng: &mut StdRng| -> Box<dyn Layer<f64>> {
            let init = Init::XavierUniform;
            match cell {
                0 => { let l = Elman::init(steps, n_x, n_h, Tanh, Steps::Last, init, rng).unwrap();
                       Box::new(match t { Some(t) => l.truncated(t).unwrap(), None => l }) }
                1 => { let l = nn_core::Lstm::init(steps, n_x, n_h, Steps::Last, init, rng).unwrap();
                       Box::new(match t { Some(t) => l.truncated(t).unwrap(), None => l }) }
                _ => { let l = nn_core::Gru::init(steps, n_x, n_h, Steps::Last, init, rng).unwrap();
                       Box::new(match t { Some(t) => l.truncated(t).unwrap(), None => l }) }
            }
        };
        let full = make(None, &mut StdRng::seed_from_u64(seed));
        let cut = make(Some(k), &mut StdRng::seed_from_u64(seed));
        let x = sequences(full.n_inputs(), b, seed);
        let c = Matrix::from_fn(n_h, b, |i, j| ((1 + i + 3 * j) as f64).sin());
        let (g_full, dx_full) = backprop(&*full, &x, &c);
        let (g_cut, dx_cut) = backprop(&*cut, &x, &c);
        let first_kept = steps.saturating_sub(k) * n_x;
        for j in 0..b {
            for i in 0..steps * n_x {
                if i < first_kept {
                    prop_assert_eq!(dx_cut[(i, j)], 0.0);
                } else {
                    prop_assert_eq!(dx_cut[(i, j)], dx_full[(i, j)]);
                }
            }
        }
        if k >= steps {
            prop_assert_eq!(g_cut, g_full);
        }
    }
}

#[test]
fn truncation_needs_a_recurrent_layer_and_a_length() {
    let mut rng = StdRng::seed_from_u64(1);
    let e = Network::<f32>::builder(12)
        .sequence(4, 3)
        .elman(5, Tanh, Steps::Last)
        .truncate(0)
        .layer(2, Identity)
        .build(&mut rng)
        .unwrap_err()
        .to_string();
    assert!(e.contains("layer 0: a truncation length of 0 steps"), "{e}");
    let e = Network::<f32>::builder(12)
        .sequence(4, 3)
        .elman(5, Tanh, Steps::Last)
        .layer(2, Identity)
        .truncate(2)
        .build(&mut rng)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("layer 1: truncated backpropagation through time is for recurrent layers"),
        "{e}"
    );
    assert!(
        Elman::<f32>::init(4, 3, 5, Tanh, Steps::Last, Init::Auto, &mut rng)
            .unwrap()
            .truncated(0)
            .is_err()
    );
    // Kept in model files.
    let net = Network::<f64>::builder(12)
        .sequence(4, 3)
        .gru(5, Steps::Last)
        .truncate(2)
        .layer(2, Identity)
        .build(&mut rng)
        .unwrap();
    let back = Network::<f64>::from_safetensors(&net.to_safetensors().unwrap()).unwrap();
    assert_eq!(back, net);
}
